// The transport under GerritClient: authenticated URLs, HTTP basic auth, a deadline per request, the XSSI
// prefix, and Gerrit's answers turned into the errors of shared/errors.ts. It knows no endpoint.
import fetch, { type Headers } from 'node-fetch';
import type { Secret } from '../config/env.js';
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

/** `{baseUrl}/a/{path}?query`: the `/a/` prefix makes Gerrit authenticate instead of answering anonymously. */
export function restUrl(baseUrl: string, path: string, query: Query = {}): URL {
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const url = new URL(`a/${path}`, base);
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

export class GerritRest {
  readonly baseUrl: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;

  constructor(connection: GerritConnection) {
    this.baseUrl = connection.baseUrl;
    this.#authorization = basicAuthorization(connection.username, connection.password);
    this.#timeoutMs = connection.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Sends a request; any non-2xx answer or network failure is thrown typed. */
  async request(method: Method, path: string, options: RequestOptions = {}): Promise<{ body: string; headers: Headers }> {
    const url = restUrl(this.baseUrl, path, options.query);
    // Name the call by path only: the query may hold search terms, and nothing here may hold credentials.
    const what = `Gerrit ${method} ${url.pathname}`;
    const headers: Record<string, string> = { Authorization: this.#authorization, Accept: options.accept ?? 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json; charset=UTF-8';
    try {
      const response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        // A redirect would carry the Authorization header elsewhere; it means GERRIT_URL is wrong anyway.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const body = await response.text();
      if (response.ok) return { body, headers: response.headers };
      throw errorForStatus(response.status, `${what}: ${response.status} ${body.trim().slice(0, 200)}`.trimEnd());
    } catch (err) {
      if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
        throw networkError(`${what}: no answer within ${this.#timeoutMs} ms`, err);
      }
      if (err instanceof Error && err.name === 'FetchError') throw networkError(`${what}: ${err.message}`, err);
      throw err;
    }
  }

  async json<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    return parseGerritJson<T>((await this.request(method, path, options)).body, `Gerrit ${method} ${path}`);
  }
}
