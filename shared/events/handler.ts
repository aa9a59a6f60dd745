// The shell around every function: check what arrived, run the handler, write one JSON log line (at a level the
// outcome decides: ROUTINE_RESULTS), and map the outcome onto the error contract (docs/architecture.md, principle 3). Handlers
// stay thin and never see an invalid event.
//
// functions-framework treats a CloudEvent function declared with two or more parameters as callback-style and
// waits for a callback that never comes, so the functions built here take exactly one parameter; a handler
// gets its dependencies by closing over them (`cloudEventFunction(name, (event) => handle(event, deps))`).
import type { ServerResponse } from 'node:http';
import type { CloudEvent, HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import { NotImplementedError, PermanentError, shouldRetry } from '../errors.js';
import { log as processLog, type Logger } from '../log.js';
import { leaveFrameworkDomain } from './framework.js';

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

/**
 * Outcomes a handler reports in its `result` field that change nothing and need no one: the event asks for
 * nothing (yet), or what it asks for was done before or is being done by another delivery. The ApiServerSource
 * sends every Workflow again on each resync and both ingress paths deliver every Gerrit event, so these are most
 * of the lines; logged at debug (LOG_LEVEL=debug shows them), they leave info to what a person acts on or looks
 * for — a run started, a vote or report posted, a configuration rejected. Any `already-…` result is routine too
 * (already-emitted, already-reported, already-started). A value means the same wherever it is returned: one that
 * is an action somewhere (`stopped`: comment-added stopped runs) stays off this list.
 */
export const ROUTINE_RESULTS: ReadonlySet<string> = new Set([
  // workflow-watch and workflow-completed: the Workflow is not finished, not ours, or no longer there.
  'not-completed',
  'not-seakeeper',
  'gone',
  'deleted',
  // Another delivery holds the claim on the same object.
  'in-progress',
  // Nothing to run or check: no pipeline the event triggers, no seakeeper.yaml, not a config change, every
  // triggered pipeline skipped (a stale patchset).
  'no-pipeline',
  'unconfigured',
  'not-relevant',
  'skipped',
  // The event is about a patch set, revision or change that is no longer current or open; a newer one counts.
  'superseded',
  'closed',
  'nothing-running',
]);

/** The level of an event's line when the call succeeded: debug for a routine `result`, info for the rest. */
export function successLevel(fields: LogFields | void): 'debug' | 'info' {
  const result = fields?.result;
  if (typeof result !== 'string') return 'info';
  return ROUTINE_RESULTS.has(result) || result.startsWith('already-') ? 'debug' : 'info';
}

/**
 * `handle` may return fields for the event's log line (what it did: an outcome, a count of writes); its `result`
 * field sets the line's level (successLevel).
 */
export function cloudEventFunction(
  name: string,
  handle: (event: InboundEvent) => Promise<LogFields | void>,
  logger: Logger = processLog,
): (event: CloudEvent<unknown>) => Promise<void> {
  return async (raw) => {
    // Every failure of the call is caught below: functions-framework's per-request domain adds nothing but cost.
    leaveFrameworkDomain();
    const started = performance.now();
    const line = { fn: name, ...describe(raw) };
    try {
      const fields = await handle(validateCloudEvent(raw));
      logger[successLevel(fields)]({ ...line, ...fields, outcome: 'ok', ms: elapsed(started) });
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

/**
 * A request refused for what it is — no credentials, the wrong method, too large, not an event — answered with
 * `httpStatus` and a one-line reason, and never retried by a well-behaved caller.
 */
export class RequestRejectedError extends PermanentError {
  constructor(
    readonly httpStatus: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The HTTP status for a failed HTTP function; 5xx asks the caller (Gerrit's webhooks plugin) to retry. */
export function statusForError(err: unknown): number {
  if (err instanceof RequestRejectedError) return err.httpStatus;
  if (err instanceof NotImplementedError) return 501;
  if (shouldRetry(err)) return 500;
  return 400;
}

/** Fields an HTTP handler adds to its log line (the event's type, id, project, change). */
export type LogFields = Record<string, unknown>;

/** Answers `{"error": reason}` on one line. Plain Node API, so it also serves a request Express has not seen. */
export function answerError(res: ServerResponse, status: number, reason: string, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent) return;
  const body = `${JSON.stringify({ error: reason })}\n`;
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/**
 * Answers a failed HTTP request and writes its one log line: a status below 500 is a rejection (warn), 5xx
 * asks for a retry (error). Only messages about the request itself reach the caller; a 500 may hold internals.
 */
export function answerFailure(
  res: ServerResponse,
  err: unknown,
  line: LogFields,
  started: number,
  logger: Logger = processLog,
): void {
  const status = statusForError(err);
  const reason = status !== 500 && err instanceof Error ? err.message : 'internal error, retry later';
  answerError(res, status, reason, err instanceof RequestRejectedError ? err.headers : {});
  if (status < 500) {
    // A rejection is about the request, not our code: its reason is the whole story, a stack would be noise.
    logger.warn({ ...line, outcome: 'rejected', status, ms: elapsed(started), reason: err instanceof Error ? err.message : String(err) });
  } else {
    logger.error({ ...line, outcome: 'retry', status, ms: elapsed(started), err });
  }
}

/**
 * An HTTP function: `handle` answers on success and may return fields for the log line; what it throws is
 * answered by `answerFailure`. The line never holds the URL, whose query may carry a token.
 */
export function httpFunction(
  name: string,
  handle: (req: Request, res: Response) => Promise<LogFields | void>,
  logger: Logger = processLog,
): HttpFunction {
  return async (req: Request, res: Response) => {
    leaveFrameworkDomain();
    const started = performance.now();
    const line = { fn: name, method: req.method };
    try {
      const fields = await handle(req, res);
      logger[successLevel(fields)]({ ...line, ...fields, outcome: 'ok', status: res.statusCode, ms: elapsed(started) });
    } catch (err) {
      answerFailure(res, err, line, started, logger);
    }
  };
}

/** The handler of a function whose issue has not landed yet: it refuses everything, so nothing is acked unhandled. */
export function notImplemented(name: string): () => Promise<never> {
  return async () => {
    throw new NotImplementedError(name);
  };
}
