// The shell around every function: check what arrived, run the handler, write one JSON log line, and map the
// outcome onto the error contract (DESIGN principle 3). Handlers stay thin and never see an invalid event.
//
// functions-framework treats a CloudEvent function declared with two or more parameters as callback-style and
// waits for a callback that never comes, so the functions built here take exactly one parameter; a handler
// gets its dependencies by closing over them (`cloudEventFunction(name, (event) => handle(event, deps))`).
import type { CloudEvent, HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import { NotImplementedError, PermanentError, shouldRetry } from '../errors.js';
import { log as processLog, type Logger } from '../log.js';

/** A CloudEvent whose required context attributes have been checked. Extension attributes stay as they came. */
export interface InboundEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly specversion: '1.0';
  readonly subject?: string;
  readonly data?: unknown;
  readonly [extension: string]: unknown;
}

const REQUIRED_ATTRIBUTES = ['id', 'source', 'type', 'specversion'] as const;

/** Throws a PermanentError naming every required attribute that is missing or malformed. */
export function validateCloudEvent(raw: unknown): InboundEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PermanentError('malformed CloudEvent: not an object');
  }
  const event = raw as Record<string, unknown>;
  const missing = REQUIRED_ATTRIBUTES.filter((name) => typeof event[name] !== 'string' || event[name] === '');
  if (missing.length > 0) {
    throw new PermanentError(`malformed CloudEvent: missing ${missing.join(', ')}`);
  }
  if (event.specversion !== '1.0') {
    throw new PermanentError(`malformed CloudEvent: specversion ${JSON.stringify(event.specversion)} is not 1.0`);
  }
  return event as unknown as InboundEvent;
}

/** The fields of the log line that come from the event, read leniently so a malformed event is still described. */
function describe(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null) return {};
  const event = raw as Record<string, unknown>;
  const field = (name: string) => (typeof event[name] === 'string' ? event[name] : undefined);
  return { type: field('type'), id: field('id'), project: field('gerritproject'), change: field('gerritchange') };
}

const elapsed = (started: number) => Math.round(performance.now() - started);

export function cloudEventFunction(
  name: string,
  handle: (event: InboundEvent) => Promise<void>,
  logger: Logger = processLog,
): (event: CloudEvent<unknown>) => Promise<void> {
  return async (raw) => {
    const started = performance.now();
    const line = { fn: name, ...describe(raw) };
    try {
      await handle(validateCloudEvent(raw));
      logger.info({ ...line, outcome: 'ok', ms: elapsed(started) });
    } catch (err) {
      if (!shouldRetry(err)) {
        logger.warn({ ...line, outcome: 'rejected', ms: elapsed(started), err });
        return;
      }
      logger.error({ ...line, outcome: 'retry', ms: elapsed(started), err });
      // functions-framework prints the stack of what we throw; the line above already holds it, so keep the
      // framework's echo to one line.
      const message = err instanceof Error ? err.message : String(err);
      throw Object.assign(new Error(message), { stack: `${name}: ${message}` });
    }
  };
}

/** The HTTP status for a failed HTTP function; 5xx asks the caller (Gerrit's webhooks plugin) to retry. */
export function statusForError(err: unknown): number {
  if (err instanceof NotImplementedError) return 501;
  if (shouldRetry(err)) return 500;
  return 400;
}

export function httpFunction(
  name: string,
  handle: (req: Request, res: Response) => Promise<void>,
  logger: Logger = processLog,
): HttpFunction {
  return async (req: Request, res: Response) => {
    const started = performance.now();
    const line = { fn: name, method: req.method };
    try {
      await handle(req, res);
      logger.info({ ...line, outcome: 'ok', status: res.statusCode, ms: elapsed(started) });
    } catch (err) {
      const status = statusForError(err);
      // Only messages about the request itself are written for the caller; a 500 may hold our internals.
      const reason = status !== 500 && err instanceof Error ? err.message : 'internal error, retry later';
      if (!res.headersSent) res.status(status).json({ error: reason });
      const outcome = status === 400 ? 'rejected' : 'retry';
      logger[status === 400 ? 'warn' : 'error']({ ...line, outcome, status, ms: elapsed(started), err });
    }
  };
}

/** The handler of a function whose issue has not landed yet: it refuses everything, so nothing is acked unhandled. */
export function notImplemented(name: string): () => Promise<never> {
  return async () => {
    throw new NotImplementedError(name);
  };
}
