// ClusterApi straight over node:http(s), for the functions that must start fast and stay small. Loading
// @kubernetes/client-node (ClusterClient) costs a function process about 85 MiB of memory and 250 ms of start-up
// (bench/README.md: "patchset-created and workflow-completed"), against a target of 100 MB and 500 ms for the
// whole process; what Seakeeper needs from it is a handful of REST calls. Same contract as ClusterClient:
//
// * every write is checked with fieldValidation=Strict and made as the one field manager, FIELD_MANAGER
// * objects go and come as the API server's JSON, never through typed models
// * failures are the errors of shared/errors.ts: the Status body's `reason` tells AlreadyExists from Conflict;
//   no answer within the deadline, a refused or reset connection are TransientErrors; a group/version the
//   cluster does not serve, or a kind it does not know, is a PermanentError (not "the object does not exist")
// * one pool of kept-alive connections per client
//
// Where a resource lives (its plural, whether it is namespaced) comes from the API server's discovery document
// of its group/version, read once per client (again when a kind is missing: a CRD installed since).
// Credentials: a kubeconfig's client certificate or bearer token (a `tokenFile` re-read, like the in-cluster
// ServiceAccount token, which the kubelet rotates); exec and auth-provider plugins are not supported.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, integer, loadEnv, text, withDefault, type Env } from '../env.js';
import { AlreadyExistsError, errorForStatus, NotFoundError, PermanentError, networkError, TransientError } from '../errors.js';
// Types only: importing a value from cluster.ts would load client-node.
import type {
  ApplyOptions,
  ClusterApi,
  ClusterClientOptions,
  ClusterObject,
  CreateResult,
  ListOptions,
  TokenConnection,
  WatchEventType,
  WriteOptions,
} from './cluster.js';

/** ClusterClient's field manager, deadline and page size (cluster.ts), the same for both clients. */
export const FIELD_MANAGER = 'seakeeper';
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_LIST_PAGE_SIZE = 500;

/** Where Seakeeper's own objects live (a literal on the Service: Knative refuses fieldRef by default). */
export const systemNamespaceEnv = { SEAKEEPER_NAMESPACE: text() };

export const kubernetesEnv = {
  KUBERNETES_TIMEOUT_MS: withDefault(integer({ min: 100, max: 300_000 }), DEFAULT_TIMEOUT_MS),
};

/** A client made with KUBERNETES_TIMEOUT_MS, an unreadable KUBECONFIG reported as the variable's problem. */
export function clusterFromEnvWith<C>(make: (options: ClusterClientOptions) => C, env: Env = process.env): C {
  const { KUBERNETES_TIMEOUT_MS: timeoutMs } = loadEnv(kubernetesEnv, env);
  try {
    return make({ timeoutMs });
  } catch (err) {
    if (err instanceof ConfigError || !env.KUBECONFIG) throw err;
    throw new ConfigError([`KUBECONFIG names a kubeconfig that cannot be loaded (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
}

/** HttpCluster.fromEnv with KUBERNETES_TIMEOUT_MS: KUBECONFIG, else the pod's ServiceAccount. */
export const httpClusterFromEnv = (env: Env = process.env): HttpCluster => clusterFromEnvWith((options) => HttpCluster.fromEnv(env, options), env);

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A token file is read again after this long (the kubelet rotates projected tokens well before they expire). */
const TOKEN_REREAD_MS = 60_000;
/** A watch that receives nothing for this long is ended with a TransientError; the caller restarts it. */
const WATCH_IDLE_MS = 30_000;
const TYPED_PATCH_FAILURE = 'failed to create typed patch object';

const JSON_BODY = 'application/json';
/** Server-side apply takes YAML, of which JSON is a part. */
const APPLY_PATCH = 'application/apply-patch+yaml';
const MERGE_PATCH = 'application/merge-patch+json';

/** Where the API server is and how to prove who we are. */
export interface ClusterCredentials {
  readonly server: string;
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  /** The bearer token, read when needed. */
  readonly token?: (() => string) | undefined;
  readonly insecureSkipTlsVerify?: boolean | undefined;
  readonly tlsServerName?: string | undefined;
}

interface Resource {
  readonly plural: string;
  readonly namespaced: boolean;
}

interface Status {
  message?: string;
  reason?: string;
  code?: number;
}

type Query = Readonly<Record<string, string | number | undefined>>;

const describe = (kind: string, namespace: string | undefined, name?: string) =>
  [kind, [namespace, name].filter(Boolean).join('/')].filter(Boolean).join(' ');

/** A file's content, or undefined; a path relative to the kubeconfig is read beside it. */
function fileOrData(base: string, file: unknown, data: unknown): Buffer | undefined {
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file !== '') return readFileSync(path.resolve(base, file));
  return undefined;
}

/** A token read from a file, kept for TOKEN_REREAD_MS. */
function tokenFromFile(file: string): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    const now = Date.now();
    if (now - readAt > TOKEN_REREAD_MS) {
      token = readFileSync(file, 'utf8').trim();
      readAt = now;
    }
    return token;
  };
}

const named = (list: unknown, name: unknown): Record<string, unknown> | undefined =>
  (Array.isArray(list) ? list : []).find((entry) => (entry as { name?: unknown })?.name === name) as Record<string, unknown> | undefined;

/** The current context's cluster and user of a kubeconfig's text; `file` locates relative paths. */
export function credentialsFromKubeconfig(text: string, file: string): ClusterCredentials {
  const config = (parseYaml(text) ?? {}) as Record<string, unknown>;
  const base = path.dirname(file);
  const context = named(config.contexts, config['current-context'])?.context as Record<string, unknown> | undefined;
  if (!context) throw new ConfigError([`KUBECONFIG ${file} has no current context`]);
  const cluster = named(config.clusters, context.cluster)?.cluster as Record<string, unknown> | undefined;
  if (!cluster || typeof cluster.server !== 'string') throw new ConfigError([`KUBECONFIG ${file}: the current context's cluster has no server`]);
  const user = (named(config.users, context.user)?.user ?? {}) as Record<string, unknown>;
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw new ConfigError([`KUBECONFIG ${file}: exec and auth-provider credentials are not supported; use a client certificate or a token`]);
  }
  const token = typeof user.token === 'string' ? user.token : undefined;
  const tokenFile = typeof user.tokenFile === 'string' ? path.resolve(base, user.tokenFile) : undefined;
  return {
    server: cluster.server,
    ca: fileOrData(base, cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: fileOrData(base, user['client-certificate'], user['client-certificate-data']),
    key: fileOrData(base, user['client-key'], user['client-key-data']),
    token: token !== undefined ? () => token : tokenFile !== undefined ? tokenFromFile(tokenFile) : undefined,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
  };
}

export class HttpCluster implements ClusterApi {
  readonly #server: URL;
  readonly #credentials: ClusterCredentials;
  readonly #agent: http.Agent;
  readonly #timeoutMs: number;
  readonly #pageSize: number;
  readonly #discovery = new Map<string, Promise<Map<string, Resource>>>();

  constructor(credentials: ClusterCredentials, options: ClusterClientOptions = {}) {
    this.#server = new URL(credentials.server);
    this.#credentials = credentials;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#pageSize = options.listPageSize ?? DEFAULT_LIST_PAGE_SIZE;
    this.#agent =
      this.#server.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ...(credentials.ca ? { ca: credentials.ca } : {}),
            ...(credentials.cert ? { cert: credentials.cert } : {}),
            ...(credentials.key ? { key: credentials.key } : {}),
            ...(credentials.tlsServerName ? { servername: credentials.tlsServerName } : {}),
            rejectUnauthorized: credentials.insecureSkipTlsVerify !== true,
          })
        : new http.Agent({ keepAlive: true });
  }

  static fromKubeconfigFile(file: string, options?: ClusterClientOptions): HttpCluster {
    return new HttpCluster(credentialsFromKubeconfig(readFileSync(file, 'utf8'), file), options);
  }

  /** The pod's ServiceAccount, as Knative runs us. */
  static inCluster(env: Env = process.env, options?: ClusterClientOptions): HttpCluster {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? '443';
    if (!host) throw new ConfigError(['KUBERNETES_SERVICE_HOST is not set: not in a cluster']);
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return new HttpCluster({ server, ca: readFileSync(path.join(SERVICE_ACCOUNT_DIR, 'ca.crt')), token: tokenFromFile(path.join(SERVICE_ACCOUNT_DIR, 'token')) }, options);
  }

  /** Acts as whoever the bearer token belongs to, e.g. a ServiceAccount's token from the TokenRequest API. */
  static fromToken(connection: TokenConnection, options?: ClusterClientOptions): HttpCluster {
    const ca = connection.caData ? Buffer.from(connection.caData, 'base64') : connection.caFile ? readFileSync(connection.caFile) : undefined;
    return new HttpCluster({ server: connection.server, ca, token: () => connection.token }, options);
  }

  /** KUBECONFIG when set, else the in-cluster ServiceAccount. */
  static fromEnv(env: Env = process.env, options?: ClusterClientOptions): HttpCluster {
    if (env.KUBECONFIG) return HttpCluster.fromKubeconfigFile(env.KUBECONFIG, options);
    if (env.KUBERNETES_SERVICE_HOST) return HttpCluster.inCluster(env, options);
    throw new ConfigError(['KUBECONFIG is required outside a cluster (KUBERNETES_SERVICE_HOST is not set)']);
  }

  async apply<T extends ClusterObject>(obj: T, { force = true, dryRun }: ApplyOptions = {}): Promise<T> {
    const what = `apply ${describe(obj.kind, obj.metadata.namespace, obj.metadata.name)}`;
    const at = await this.#objectPath(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name, what);
    return (await this.#json('PATCH', at, what, { body: obj, contentType: APPLY_PATCH, query: { fieldManager: FIELD_MANAGER, force: String(force), ...dryRunQuery(dryRun) } })) as T;
  }

  async create<T extends ClusterObject>(obj: T, { dryRun }: WriteOptions = {}): Promise<CreateResult<T>> {
    const what = `create ${describe(obj.kind, obj.metadata.namespace, obj.metadata.name)}`;
    const at = await this.#collectionPath(obj.apiVersion, obj.kind, obj.metadata.namespace, what);
    try {
      const object = (await this.#json('POST', at, what, { body: obj, contentType: JSON_BODY, query: { fieldManager: FIELD_MANAGER, ...dryRunQuery(dryRun) } })) as T;
      return { created: true, object };
    } catch (err) {
      if (err instanceof AlreadyExistsError) return { created: false };
      throw err;
    }
  }

  async get<T extends ClusterObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T | undefined> {
    const what = `get ${describe(kind, namespace, name)}`;
    const at = await this.#objectPath(apiVersion, kind, namespace, name, what);
    try {
      return (await this.#json('GET', at, what)) as T;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async patch<T extends ClusterObject>(obj: T, resourceVersion: string): Promise<T> {
    const what = `patch ${describe(obj.kind, obj.metadata.namespace, obj.metadata.name)}`;
    const at = await this.#objectPath(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name, what);
    const body = { ...obj, metadata: { ...obj.metadata, resourceVersion } };
    return (await this.#json('PATCH', at, what, { body, contentType: MERGE_PATCH, query: { fieldManager: FIELD_MANAGER } })) as T;
  }

  async list<T extends ClusterObject>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string, options: ListOptions = {}): Promise<T[]> {
    const what = `list ${describe(kind, namespace)}${labelSelector ? ` -l ${labelSelector}` : ''}`;
    const at = await this.#collectionPath(apiVersion, kind, namespace, what);
    const items: T[] = [];
    let continueToken: string | undefined;
    // From the watch cache the server ignores `limit` and answers in one page.
    const consistency = options.fromCache ? { resourceVersion: '0' } : { limit: this.#pageSize };
    do {
      const page = (await this.#json('GET', at, what, { query: { labelSelector, ...consistency, continue: continueToken } })) as {
        items?: T[];
        metadata?: { continue?: string };
      };
      // A list's items leave out apiVersion and kind; callers read them like any object.
      for (const item of page.items ?? []) items.push({ ...item, apiVersion, kind });
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    return items;
  }

  async watch<T extends ClusterObject>(
    collection: string,
    labelSelector: string | undefined,
    onEvent: (type: WatchEventType, object: T) => void,
    onEnd: (err?: Error) => void = () => {},
  ): Promise<() => void> {
    const what = `watch ${collection}`;
    const url = this.#url(collection, { watch: 'true', labelSelector });
    return new Promise((resolve, reject) => {
      let accepted = false;
      let stopped = false;
      let ended = false;
      const end = (err?: Error) => {
        if (ended) return;
        ended = true;
        if (!accepted) reject(err ?? new TransientError(`${what}: closed before it started`));
        else onEnd(stopped ? undefined : err);
      };
      let answered = false;
      const req = this.#transport().request(url, { method: 'GET', agent: this.#agent, headers: this.#headers() }, (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          readAll(res).then((text) => end(statusError(status, text, what)), (err: Error) => end(networkError(`${what}: ${err.message}`, err)));
          return;
        }
        accepted = true;
        resolve(() => {
          stopped = true;
          req.destroy();
        });
        res.setEncoding('utf8');
        let buffered = '';
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line === '') continue;
            const event = JSON.parse(line) as { type: string; object: unknown };
            if (event.type === 'ERROR') {
              // The server ends a watch it cannot continue with a Status object (410 Gone: resourceVersion too old).
              const s = event.object as Status;
              end(errorForStatus(s.code ?? 500, `${what}: ${s.message ?? 'error event'}`, s.reason));
              req.destroy();
              return;
            }
            onEvent(event.type as WatchEventType, event.object as T);
          }
        });
        res.on('end', () => end());
        res.on('error', (err) => end(networkError(`${what}: ${err.message}`, err)));
      });
      req.setTimeout(WATCH_IDLE_MS, () => req.destroy(new TransientError(`${what}: nothing received for ${WATCH_IDLE_MS} ms`)));
      req.on('error', (err) => end(err instanceof TransientError ? err : networkError(`${what}: ${err.message}`, err)));
      // A refusal is ended by its body's reader above; the connection may close before that has read it.
      req.on('close', () => {
        if (!answered || accepted) end();
      });
      req.end();
    });
  }

  async replaceStatus<T extends ClusterObject>(obj: T): Promise<T> {
    const what = `replace status of ${describe(obj.kind, obj.metadata.namespace, obj.metadata.name)}`;
    const at = `${await this.#objectPath(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name, what)}/status`;
    return (await this.#json('PUT', at, what, { body: obj, contentType: JSON_BODY, query: { fieldManager: FIELD_MANAGER } })) as T;
  }

  async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<boolean> {
    const what = `delete ${describe(kind, namespace, name)}`;
    const at = await this.#objectPath(apiVersion, kind, namespace, name, what);
    try {
      await this.#json('DELETE', at, what);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  // ---- paths ----

  async #collectionPath(apiVersion: string, kind: string, namespace: string | undefined, what: string): Promise<string> {
    const resource = await this.#resource(apiVersion, kind, what);
    const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const scope = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${root}${scope}/${resource.plural}`;
  }

  async #objectPath(apiVersion: string, kind: string, namespace: string | undefined, name: string, what: string): Promise<string> {
    const resource = await this.#resource(apiVersion, kind, what);
    if (resource.namespaced && !namespace) throw new PermanentError(`${what}: ${kind} is namespaced, and no namespace was given`);
    return `${await this.#collectionPath(apiVersion, kind, namespace, what)}/${encodeURIComponent(name)}`;
  }

  async #resource(apiVersion: string, kind: string, what: string): Promise<Resource> {
    const found = (await this.#resources(apiVersion, what)).get(kind);
    if (found) return found;
    this.#discovery.delete(apiVersion); // a CRD installed since the group was read
    const again = (await this.#resources(apiVersion, what)).get(kind);
    if (!again) throw new PermanentError(`${what}: Unrecognized API version and kind: ${apiVersion} ${kind}`);
    return again;
  }

  #resources(apiVersion: string, what: string): Promise<Map<string, Resource>> {
    let pending = this.#discovery.get(apiVersion);
    if (!pending) {
      const at = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      pending = this.#json('GET', at, what).then(
        (list) => {
          const byKind = new Map<string, Resource>();
          for (const r of ((list as { resources?: { name: string; kind: string; namespaced: boolean }[] }).resources ?? [])) {
            if (!r.name.includes('/')) byKind.set(r.kind, { plural: r.name, namespaced: r.namespaced });
          }
          return byKind;
        },
        (err: unknown) => {
          this.#discovery.delete(apiVersion);
          if (err instanceof NotFoundError) throw new PermanentError(`${what}: the cluster does not serve ${apiVersion}`, { status: 404 });
          throw err;
        },
      );
      this.#discovery.set(apiVersion, pending);
    }
    return pending;
  }

  // ---- transport ----

  #transport(): typeof https | typeof http {
    return this.#server.protocol === 'https:' ? https : http;
  }

  #url(pathname: string, query: Query = {}): URL {
    const url = new URL(pathname, this.#server);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    return url;
  }

  #headers(contentType?: string, length?: number): Record<string, string> {
    const token = this.#credentials.token?.();
    return {
      accept: JSON_BODY,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(contentType ? { 'content-type': contentType, 'content-length': String(length ?? 0) } : {}),
    };
  }

  /** One request; the answer's JSON, or the typed error. Writes are checked strictly. */
  #json(method: string, pathname: string, what: string, options: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<unknown> {
    const write = method === 'POST' || method === 'PUT' || method === 'PATCH';
    const url = this.#url(pathname, { ...options.query, ...(write ? { fieldValidation: 'Strict' } : {}) });
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const req = this.#transport().request(url, { method, agent: this.#agent, headers: this.#headers(body === undefined ? undefined : options.contentType ?? JSON_BODY, body === undefined ? undefined : Buffer.byteLength(body)) }, (res) => {
        readAll(res).then(
          (text) => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              try {
                settle(() => resolve(text === '' ? undefined : JSON.parse(text)));
              } catch (err) {
                settle(() => reject(new TransientError(`${what}: the API server answered with something that is not JSON`, { cause: err })));
              }
            } else settle(() => reject(statusError(status, text, what)));
          },
          (err: Error) => settle(() => reject(networkError(`${what}: ${err.message}`, err))),
        );
      });
      const timer = setTimeout(() => {
        settle(() => reject(networkError(`${what}: no answer within ${this.#timeoutMs} ms`, undefined)));
        req.destroy();
      }, this.#timeoutMs);
      req.on('error', (err) => settle(() => reject(networkError(`${what}: ${err.message}`, err))));
      req.end(body);
    });
  }
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}

/** The typed error for a non-2xx answer, from the Status body the API server sends with it. */
function statusError(status: number, text: string, what: string): Error {
  let body: Status = {};
  try {
    body = JSON.parse(text) as Status;
  } catch {
    body = { message: text.trim().slice(0, 200) };
  }
  const detail = body.message ?? `${status}`;
  // Server-side apply answers 500 when the applied object does not fit the schema (an undeclared field);
  // retrying cannot fix the object, so it must not be classed as a server fault.
  if (status === 500 && detail.includes(TYPED_PATCH_FAILURE)) return new PermanentError(`${what}: ${detail}`, { status, reason: body.reason });
  return errorForStatus(status, `${what}: ${detail}`, body.reason);
}

const dryRunQuery = (dryRun: boolean | undefined) => (dryRun ? { dryRun: 'All' } : {});
