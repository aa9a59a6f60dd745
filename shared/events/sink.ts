// Where Seakeeper's event sources deliver: `K_SINK`, the URL Knative injects (SinkBinding, ContainerSource) —
// in production the ingress of the Broker "ci". CloudEvents go in binary mode (attributes as `ce-` headers,
// the data as the body), through a transport that checks the answer, because cloudevents' own `httpTransport`
// does not surface the HTTP status.
//
// Header values. The HTTP binding (v1.0.2, 3.1.3.2) requires that space, `"`, `%` and everything outside
// printable ASCII be percent-encoded as UTF-8, and cloudevents' `HTTP.binary` does not do it (Node would
// refuse a project name like `café/日本` in a header outright). `encodeHeaderValue` does exactly that and no
// more, so ASCII values (every source URL, every id, nearly every project) travel unchanged and Trigger
// filters keep matching them. Receivers that follow the spec decode them; the Broker (sdk-go) and
// functions-framework pass them through as written, so a function that reads `gerritproject` from the headers
// decodes it with `decodeHeaderValue` — or reads `data.change.project`, which is never encoded.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { HTTP, type CloudEvent } from 'cloudevents';
import fetch from 'node-fetch';
import { errorForStatus, networkError } from '../errors.js';

/** Well below the webhooks plugin's default socketTimeout (5 s), so that Gerrit hears our 5xx before it gives up. */
export const DEFAULT_SINK_TIMEOUT_MS = 4_000;
/** Concurrent connections kept open to the sink; more requests than this wait for a free one. */
const MAX_SOCKETS = 64;
const ERROR_BODY_CHARS = 200;
const CE_HEADER_PREFIX = 'ce-';

/** The characters a header value may carry as they are: printable ASCII except `"` and `%`. */
const PLAIN = /^[\x21\x23\x24\x26-\x7e]*$/;
const NOT_PLAIN = /[^\x21\x23\x24\x26-\x7e]/gu;

/** Percent-encodes a CloudEvent attribute value for an HTTP header, as the HTTP binding prescribes. */
export function encodeHeaderValue(value: string): string {
  if (PLAIN.test(value)) return value;
  return value.replace(NOT_PLAIN, (char) => {
    let encoded = '';
    for (const byte of Buffer.from(char, 'utf8')) encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    return encoded;
  });
}

/**
 * The attribute value a percent-encoded header carries. Throws URIError on a sequence that is not UTF-8 (the
 * spec says to reject it) or a `%` that starts no escape (a conformant sender always encodes `%`).
 */
export function decodeHeaderValue(value: string): string {
  return value.includes('%') ? decodeURIComponent(value) : value;
}

/** A CloudEvent in binary mode, header values encoded: what goes on the wire. */
export function binaryMessage(event: CloudEvent<unknown>): { headers: Record<string, string>; body: string } {
  const message = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined || value === null) continue;
    const text = String(value);
    headers[name] = name.startsWith(CE_HEADER_PREFIX) ? encodeHeaderValue(text) : text;
  }
  const body = message.body;
  return { headers, body: typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body) };
}

export interface CloudEventSink {
  /** Resolves once the sink accepted the event (2xx); otherwise rejects with a TransientError or a PermanentError. */
  send(event: CloudEvent<unknown>): Promise<void>;
}

export interface HttpSinkOptions {
  /** Deadline for one delivery, answer included. */
  timeoutMs?: number;
}

/**
 * Delivers to one URL over kept-alive connections. 2xx is accepted; 408, 429, 5xx, 409 (the project's error
 * contract counts a conflict as transient), a refused or reset connection and a missed deadline are
 * TransientErrors; any other answer (other 4xx, a redirect: K_SINK is wrong) is a PermanentError.
 */
export class HttpSink implements CloudEventSink {
  readonly url: URL;
  readonly timeoutMs: number;
  readonly #agent: HttpAgent;

  constructor(url: string, options: HttpSinkOptions = {}) {
    this.url = new URL(url);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SINK_TIMEOUT_MS;
    const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS };
    this.#agent = this.url.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  async send(event: CloudEvent<unknown>): Promise<void> {
    const { headers, body } = binaryMessage(event);
    // Names the event, never the URL's query: a sink URL may carry a token.
    const what = `sink ${this.url.host}: ${event.type} ${event.id}`;
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers,
        body,
        agent: this.#agent,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // Read the answer to its end either way: only then is the connection free for the next event.
      const answer = await response.text();
      if (response.status >= 200 && response.status < 300) return;
      throw errorForStatus(response.status, `${what}: ${response.status} ${answer.trim().slice(0, ERROR_BODY_CHARS)}`.trimEnd());
    } catch (err) {
      if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
        throw networkError(`${what}: no answer within ${this.timeoutMs} ms`, err);
      }
      // node-fetch's FetchError: refused, reset, DNS; anything else is a bug and goes up as it is.
      if (err instanceof Error && err.name === 'FetchError') throw networkError(`${what}: ${err.message}`, err);
      throw err;
    }
  }

  /** Closes the kept-alive connections (at shutdown). */
  close(): void {
    this.#agent.destroy();
  }
}

/**
 * Sends the CloudEvents of one Gerrit event in order and stops at the first failure, which it rethrows: the
 * caller has the whole Gerrit event delivered again (the webhooks plugin on a 5xx, the stream adapter by
 * retrying), and the events that did get through are resent under the same deterministic ids, which the
 * receivers recognise.
 */
export async function sendInOrder(sink: CloudEventSink, events: readonly CloudEvent<unknown>[]): Promise<void> {
  for (const event of events) await sink.send(event);
}
