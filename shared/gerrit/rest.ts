// The transport under GerritClient: authenticated URLs, HTTP basic auth, a deadline per request, the XSSI
// prefix, and Gerrit's answers turned into the errors of shared/errors.ts. It knows no endpoint.
//
// Straight on node:http(s) with one pool of kept-alive connections per client: about 1 ms less per call than
// node-fetch here, which matters to the functions whose handler time is measured against their bare calls
// (bench/README.md), and one library fewer in their memory. Answers come uncompressed (no Accept-Encoding).
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Secret } from '../env.js';
import { errorForStatus, networkError, PermanentError } from '../errors.js';

export interface GerritConnection {
  /** Gerrit's canonical web URL, with any path prefix (e.g. `https://gerrit.example.org/r/`). */
  baseUrl: string;
  username: string;
  /** The account's HTTP password. */
  password: Secret;
  /** Deadline for a whole request, body included; a slower answer is a TransientError. */
  timeoutMs?: number;
}

/**
 * Gerrit as anyone who is not signed in sees it: no credentials, no `/a/` prefix. For what must show only what
 * the public may read (the status page).
 */
export interface AnonymousConnection {
  baseUrl: string;
  anonymous: true;
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export const XSSI_PREFIX = ")]}'";

/** Gerrit starts JSON with `)]}'` and a newline so that a browser cannot run it as a script. */
export function stripXssiPrefix(body: string): string {
  return body.startsWith(XSSI_PREFIX) ? body.slice(XSSI_PREFIX.length).replace(/^\r?\n/, '') : body;
}

/** Parses a JSON answer; an empty body (204) is undefined. */
export function parseGerritJson<T>(body: string, what: string): T {
  const json = stripXssiPrefix(body);
  if (json.trim() === '') return undefined as T;
  try {
    return JSON.parse(json) as T;
  } catch {
    throw new PermanentError(`${what}: Gerrit answered with something that is not JSON: ${json.slice(0, 80)}`);
  }
}

/**
 * One id as one path segment. Gerrit takes project names, branch names, change ids and file paths as single
 * segments, so their `/` must travel as `%2F`.
 */
export function encodeId(id: string): string {
  // URLs resolve `.` and `..` (even as %2E) away, which would address another resource; Gerrit allows
  // neither as a name, so they can only come from bad input.
  if (id === '' || id === '.' || id === '..') throw new PermanentError(`${JSON.stringify(id)} is not a valid Gerrit id`);
  return encodeURIComponent(id);
}

export type Query = Readonly<Record<string, string | number | readonly string[] | undefined>>;

/**
 * `{baseUrl}/a/{path}?query`: the `/a/` prefix makes Gerrit authenticate instead of answering anonymously;
 * without it (`authenticated` false) Gerrit answers as to anyone.
 */
export function restUrl(baseUrl: string, path: string, query: Query = {}, authenticated = true): URL {
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const url = new URL(`${authenticated ? 'a/' : ''}${path}`, base);
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(item));
  }
  return url;
}

export function basicAuthorization(username: string, password: Secret): string {
  return `Basic ${Buffer.from(`${username}:${password.reveal()}`).toString('base64')}`;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Defaults to JSON; some endpoints answer in another form when asked. */
  accept?: string;
}

/** An answer's headers, by lower-case name. */
export interface AnswerHeaders {
  get(name: string): string | null;
}

export class GerritRest {
  readonly baseUrl: string;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #agent: http.Agent;

  constructor(connection: GerritConnection | AnonymousConnection) {
    this.baseUrl = connection.baseUrl;
    this.#authorization = 'anonymous' in connection ? undefined : basicAuthorization(connection.username, connection.password);
    this.#timeoutMs = connection.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#agent = new URL(connection.baseUrl).protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** Sends a request; any non-2xx answer or network failure is thrown typed. */
  async request(method: Method, path: string, options: RequestOptions = {}): Promise<{ body: string; headers: AnswerHeaders }> {
    const url = restUrl(this.baseUrl, path, options.query, this.#authorization !== undefined);
    // Name the call by path only: the query may hold search terms, and nothing here may hold credentials.
    const what = `Gerrit ${method} ${url.pathname}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
    if (this.#authorization !== undefined) headers.Authorization = this.#authorization;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json; charset=UTF-8';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const answer = await new Promise<{ status: number; body: string; headers: IncomingHttpHeaders }>((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http;
      // A redirect is not followed (it would carry the Authorization header elsewhere; it means GERRIT_URL is
      // wrong anyway): it is an answer like any other that is not 2xx.
      const req = transport.request(url, { method, headers, agent: this.#agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers });
        });
        res.on('error', (err) => fail(networkError(`${what}: ${err.message}`, err)));
      });
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
        req.destroy();
      };
      const timer = setTimeout(() => fail(networkError(`${what}: no answer within ${this.#timeoutMs} ms`, undefined)), this.#timeoutMs);
      req.on('error', (err) => fail(networkError(`${what}: ${err.message}`, err)));
      req.end(body);
    });
    if (answer.status >= 200 && answer.status < 300) {
      const get = (name: string) => {
        const value = answer.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      };
      return { body: answer.body, headers: { get } };
    }
    throw errorForStatus(answer.status, `${what}: ${answer.status} ${answer.body.trim().slice(0, 200)}`.trimEnd());
  }

  async json<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    return parseGerritJson<T>((await this.request(method, path, options)).body, `Gerrit ${method} ${path}`);
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}
