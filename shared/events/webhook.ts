// gerrit-webhook, the shell: Gerrit's webhooks plugin POSTs one event (Gerrit's own event JSON) per request;
// this checks who sent it, turns it into CloudEvents (gerrit-cloudevents.ts) and delivers them to K_SINK in
// order. The answer is the whole contract with the plugin: 2xx only once the sink accepted every CloudEvent of
// the event, 5xx when it did not (the plugin retries; ids are deterministic, so what got through twice is
// recognised downstream), 4xx for a request that will never succeed (the plugin gives up; it is logged).
//
// The shared secret. The webhooks plugin cannot set headers, so the secret rides in the URL Gerrit is given,
// as the query parameter `token`; other senders may use `Authorization: Bearer`. It is compared in constant
// time (both sides hashed to the same length first) and never logged: log lines carry no URL.
//
// Checks that need no body (token, method, declared length, encoding) run before functions-framework reads
// the body, through the guard in framework.ts, so a stranger cannot make the function buffer a large body;
// they run again in the handler in case the guard is not installed.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import { httpUrl, integer, loadEnv, secret, withDefault, type Env, type Secret } from '../env.js';
import { TransientError } from '../errors.js';
import { log as processLog, type Logger } from '../log.js';
import type { FrameworkGuard } from './framework.js';
import { checkEventSource, toCloudEvents } from './gerrit-cloudevents.js';
import { changeOf, oneLine, parseGerritEvent, parseGerritEventJson, type ProjectGerritEvent } from './gerrit-event.js';
import { answerFailure, httpFunction, RequestRejectedError, type LogFields } from './handler.js';
import { DEFAULT_SINK_TIMEOUT_MS, HttpSink, sendInOrder, type CloudEventSink } from './sink.js';

export const GERRIT_WEBHOOK = 'gerrit-webhook';
/** Far above any Gerrit event (the largest are commit messages, which Gerrit caps well below), far below trouble. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** A shared secret shorter than this is guessable; `openssl rand -hex 32` makes a good one. */
export const MIN_SECRET_LENGTH = 16;
const TOKEN_PARAMETER = 'token';
const BEARER = /^Bearer +(\S+) *$/i;
/** What body-parser parsed as JSON (functions-framework's first two parsers); other bodies are read from rawBody. */
const JSON_CONTENT_TYPE = /^\s*application\/(?:cloudevents\+)?json\s*(?:;|$)/i;

export const webhookEnv = {
  /** Gerrit's canonical web URL: the CloudEvents' source. */
  GERRIT_URL: httpUrl(),
  SEAKEEPER_WEBHOOK_SECRET: secret({ minLength: MIN_SECRET_LENGTH }),
  /** Injected by Knative (SinkBinding); the Broker's ingress. */
  K_SINK: httpUrl(),
  SINK_TIMEOUT_MS: withDefault(integer({ min: 100, max: 60_000 }), DEFAULT_SINK_TIMEOUT_MS),
};

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The shared secret, kept only as its digest. */
export class SharedSecret {
  readonly #digest: Buffer;

  constructor(value: Secret) {
    this.#digest = sha256(value.reveal());
  }

  /** Constant time in the candidate's content and length: both sides are hashed to 32 bytes first. */
  matches(candidate: string | undefined): boolean {
    return candidate !== undefined && timingSafeEqual(sha256(candidate), this.#digest);
  }
}

/** The token a request presents: `Authorization: Bearer …`, else the `token` query parameter. */
export function presentedToken(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  const bearer = authorization === undefined ? null : BEARER.exec(authorization);
  if (bearer) return bearer[1];
  const url = req.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? undefined : (new URLSearchParams(url.slice(query + 1)).get(TOKEN_PARAMETER) ?? undefined);
}

/** A request as functions-framework hands it over: the body read, and kept as received in `rawBody`. */
type FrameworkRequest = Request & { rawBody?: Buffer };

export interface WebhookDependencies {
  secret: Secret;
  /** Gerrit's canonical web URL. */
  source: string;
  sink: CloudEventSink;
  logger?: Logger;
}

export class GerritWebhook {
  readonly source: string;
  readonly #secret: SharedSecret;
  readonly #sink: CloudEventSink;
  readonly #logger: Logger;
  /** Requests the guard already admitted, so the handler does not hash the token twice. */
  readonly #admitted = new WeakSet<IncomingMessage>();

  constructor(deps: WebhookDependencies) {
    checkEventSource(deps.source);
    this.source = deps.source;
    this.#secret = new SharedSecret(deps.secret);
    this.#sink = deps.sink;
    this.#logger = deps.logger ?? processLog;
  }

  /** From the environment; throws a ConfigError naming every variable that is missing or invalid. */
  static fromEnv(env: Env = process.env, logger?: Logger): GerritWebhook {
    const config = loadEnv(webhookEnv, env);
    const sink = new HttpSink(config.K_SINK, { timeoutMs: config.SINK_TIMEOUT_MS });
    return new GerritWebhook({ secret: config.SEAKEEPER_WEBHOOK_SECRET, source: config.GERRIT_URL, sink, ...(logger ? { logger } : {}) });
  }

  /** The HTTP function to register. */
  httpFunction(): HttpFunction {
    return httpFunction(GERRIT_WEBHOOK, (req, res) => this.handle(req, res), this.#logger);
  }

  /** Refuses what needs no body to refuse: no or a wrong token (401), not a POST (405), too long (413), compressed (415). */
  admit(req: IncomingMessage): RequestRejectedError | undefined {
    if (this.#admitted.has(req)) return undefined;
    const token = presentedToken(req);
    if (!this.#secret.matches(token)) {
      const reason = token === undefined ? `missing token: send it as the query parameter "${TOKEN_PARAMETER}" or as Authorization: Bearer` : 'wrong token';
      return new RequestRejectedError(401, reason, { 'www-authenticate': 'Bearer' });
    }
    if (req.method !== 'POST') {
      return new RequestRejectedError(405, oneLine(`${req.method} is not accepted: POST one Gerrit event as JSON`), { allow: 'POST' });
    }
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) return tooLarge(declared);
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      return new RequestRejectedError(415, oneLine(`Content-Encoding ${encoding} is not accepted: send the event uncompressed`));
    }
    this.#admitted.add(req);
    return undefined;
  }

  /** Runs `admit` before functions-framework reads the body, and answers body-parser's failures in one line. */
  readonly guard: FrameworkGuard = {
    beforeBody: (req, res, started) => {
      const rejection = this.admit(req);
      if (rejection) answerFailure(res, rejection, { fn: GERRIT_WEBHOOK, method: req.method }, started, this.#logger);
      return rejection !== undefined;
    },
    onBodyError: ({ status, reason }, req, res, started) => {
      const err = status < 500 ? new RequestRejectedError(status, reason) : new Error(reason);
      answerFailure(res, err, { fn: GERRIT_WEBHOOK, method: req.method }, started, this.#logger);
    },
  };

  async handle(req: FrameworkRequest, res: Response): Promise<LogFields> {
    const rejection = this.admit(req);
    if (rejection) throw rejection;
    const event = eventOf(req);
    const events = toCloudEvents(event, { source: this.source });
    try {
      await sendInOrder(this.#sink, events);
    } catch (err) {
      // Whatever the sink said, the event is not delivered: 5xx, so that the plugin sends it again.
      throw err instanceof TransientError ? err : new TransientError(`not delivered: ${(err as Error).message}`, { cause: err });
    }
    const ids = events.map((e) => e.id);
    answerJson(res, 202, { ids });
    return { type: events[0]!.type, id: ids[0], project: event.project, change: changeOf(event)?.number };
  }
}

const tooLarge = (bytes: number) =>
  new RequestRejectedError(413, `body of ${bytes} bytes exceeds the ${MAX_BODY_BYTES}-byte limit`);

/** The Gerrit event a request carries, or a RequestRejectedError saying why there is none. */
function eventOf(req: FrameworkRequest): ProjectGerritEvent {
  const raw = req.rawBody;
  // A body sent without a declared length is only measured once read.
  if (raw !== undefined && raw.length > MAX_BODY_BYTES) throw tooLarge(raw.length);
  if (raw === undefined || raw.length === 0) throw new RequestRejectedError(400, 'empty body: POST one Gerrit event as JSON');
  const parsedByFramework = JSON_CONTENT_TYPE.test(req.headers['content-type'] ?? '');
  const parsed = parsedByFramework ? parseGerritEvent(req.body) : parseGerritEventJson(raw.toString('utf8'));
  if (!parsed.ok) throw new RequestRejectedError(400, parsed.reason);
  if (parsed.event.kind === 'dropped-output') {
    throw new RequestRejectedError(400, "dropped-output is stream-events' notice to a slow reader, not an event to deliver");
  }
  return parsed.event;
}

function answerJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}
