// The status function's HTTP side: the page, the whole status as JSON, and the answer for one change. Read
// only: GET and HEAD, nothing else. What it serves comes from Seakeeper's own objects (queues, runs) and holds
// no credential: Gerrit is asked only as anyone may ask it, which of those changes the public may read.
//
//   GET /, /status            the page (page.html beside this module), which polls /api/status
//   GET /api/status           StatusView (status-view.ts)
//   GET /api/change/<number>  ChangeAnswer (change-answer.ts)
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import { pipelinesFromEnv } from '../config/policy-env.js';
import { httpUrl, integer, loadEnv, withDefault, type Env } from '../env.js';
import { httpFunction, RequestRejectedError, type LogFields } from '../events/handler.js';
import { systemNamespaceEnv } from '../k8s/env.js';
import { GerritRest } from '../gerrit/rest.js';
import { httpClusterFromEnv } from '../k8s/http-cluster.js';
import { log as processLog, type Logger } from '../log.js';
import { cachedValue } from './cached.js';
import { answerFor } from './change-answer.js';
import { readStatus } from './status-source.js';
import type { StatusView } from './status-view.js';

export const STATUS_FUNCTION = 'status';
export const DEFAULT_CACHE_SECONDS = 5;

export const statusEnv = {
  /** Gerrit's web URL: the page links each change there. */
  GERRIT_URL: httpUrl(),
  /** Argo's UI: the page links each run there. */
  ARGO_UI_URL: httpUrl(),
  ...systemNamespaceEnv,
  /** How long one read of the cluster serves every request. */
  STATUS_CACHE_SECONDS: withDefault(integer({ min: 1, max: 300 }), DEFAULT_CACHE_SECONDS),
};

const CHANGE_PATH = /^\/api\/change\/([^/]*)\/?$/;
const CHANGE_NUMBER = /^[1-9][0-9]{0,9}$/;

export interface StatusPage {
  readonly html: string;
  /** Content-Security-Policy allowing only the page's own inline script and style, by hash. */
  readonly policy: string;
}

/** The page as shipped, with a policy that lets nothing else run on it. */
export function loadStatusPage(file: URL = new URL('./page.html', import.meta.url)): StatusPage {
  const html = readFileSync(file, 'utf8');
  const hashes = (tag: string) =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => `'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`).join(' ');
  const policy = `default-src 'none'; script-src ${hashes('script')}; style-src ${hashes('style')}; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  return { html, policy };
}

export interface StatusServiceDeps {
  /** The status, as recent as the cache allows. */
  readonly status: () => Promise<StatusView>;
  readonly page: StatusPage;
  readonly logger?: Logger;
}

export class StatusService {
  readonly #status: () => Promise<StatusView>;
  readonly #page: StatusPage;
  readonly #logger: Logger;
  #lastBuilt = '';
  /** Each view's JSON, made once: a cached view is served many times, and serializing it is most of the cost. */
  readonly #json = new WeakMap<StatusView, string>();

  constructor(deps: StatusServiceDeps) {
    this.#status = deps.status;
    this.#page = deps.page;
    this.#logger = deps.logger ?? processLog;
  }

  /** From the environment; throws a ConfigError naming every variable that is missing or invalid. */
  static fromEnv(env: Env = process.env, logger?: Logger): StatusService {
    const config = loadEnv(statusEnv, env);
    const cluster = httpClusterFromEnv(env);
    const pipelines = pipelinesFromEnv(env);
    const publicGerrit = new GerritRest({ baseUrl: config.GERRIT_URL, anonymous: true });
    const deps = { cluster, namespace: config.SEAKEEPER_NAMESPACE, pipelines, gerritUrl: config.GERRIT_URL, argoUiUrl: config.ARGO_UI_URL, publicGerrit };
    const status = cachedValue(() => readStatus(deps), config.STATUS_CACHE_SECONDS * 1000);
    return new StatusService({ status, page: loadStatusPage(), ...(logger ? { logger } : {}) });
  }

  httpFunction(): HttpFunction {
    return httpFunction(STATUS_FUNCTION, (req, res) => this.handle(req, res), this.#logger);
  }

  async handle(req: Request, res: Response): Promise<LogFields> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new RequestRejectedError(405, `${req.method} is not accepted: the status is read only (GET)`, { allow: 'GET, HEAD' });
    }
    const path = new URL(req.url ?? '/', 'http://status.invalid').pathname;
    if (path === '/' || path === '/status' || path === '/status/') {
      send(res, 200, 'text/html; charset=utf-8', this.#page.html, { 'content-security-policy': this.#page.policy, 'cache-control': 'no-cache' });
      // Every open page asks for its data every few seconds: only a rebuild is worth a line at info.
      return { route: 'page', result: 'already-built' };
    }
    if (path === '/api/status') {
      const view = await this.#status();
      send(res, 200, 'application/json; charset=utf-8', this.#jsonOf(view), { 'cache-control': 'no-store' });
      return { route: 'status', result: this.#built(view) };
    }
    const asked = CHANGE_PATH.exec(path);
    if (asked) {
      const number = asked[1]!;
      if (!CHANGE_NUMBER.test(number)) throw new RequestRejectedError(400, 'a change number is a positive whole number, as in /api/change/12345');
      const view = await this.#status();
      send(res, 200, 'application/json; charset=utf-8', JSON.stringify(answerFor(view, Number(number))), { 'cache-control': 'no-store' });
      return { route: 'change', change: Number(number), result: this.#built(view) };
    }
    throw new RequestRejectedError(404, 'no such page: try /, /api/status or /api/change/<number>');
  }

  #jsonOf(view: StatusView): string {
    let json = this.#json.get(view);
    if (json === undefined) {
      json = JSON.stringify(view);
      this.#json.set(view, json);
    }
    return json;
  }

  /** `built` when this view is newer than the last one served, else a routine answer from the cache. */
  #built(view: StatusView): string {
    if (view.generatedAt === this.#lastBuilt) return 'already-built';
    this.#lastBuilt = view.generatedAt;
    return 'built';
  }
}

function send(res: Response, status: number, type: string, body: string, headers: Readonly<Record<string, string>>): void {
  res.writeHead(status, {
    ...headers,
    'content-type': type,
    'content-length': String(Buffer.byteLength(body)),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}
