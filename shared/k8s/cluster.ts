// The Kubernetes calls Seakeeper makes, over @kubernetes/client-node's generic KubernetesObjectApi, with
// failures mapped into shared/errors.ts. Every write is checked with fieldValidation=Strict, so a field the
// server does not know is an error instead of being dropped in silence.
//
// Objects go to the server as given and come back as the server's JSON, never through client-node's typed
// models, which drop or rename fields (see ObjectApi).
import {
  createConfiguration,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  ServerConfiguration,
  Watch,
  type KubernetesObject,
  type Middleware,
  type RequestContext,
  type ResponseContext,
  type SecurityAuthentication,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import { ConfigError, type Env } from '../env.js';
import { AlreadyExistsError, errorForStatus, NotFoundError } from '../errors.js';
import { clusterError, watchError } from './errors.js';

/** The one field manager of every server-side apply, so that Seakeeper owns its fields as one actor. */
export const FIELD_MANAGER = 'seakeeper';
export const DEFAULT_TIMEOUT_MS = 30_000;

export type ClusterObject = KubernetesObject & {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta & { name: string };
};

export interface WriteOptions {
  /** Validate and admit on the server without persisting (`dryRun=All`). */
  dryRun?: boolean;
}

export interface ApplyOptions extends WriteOptions {
  /** Take over fields another manager owns; default true, since what we apply is what should be. */
  force?: boolean;
}

export interface ListOptions {
  readonly fromCache?: boolean;
}

export type CreateResult<T> = { created: true; object: T } | { created: false };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface ClusterApi {
  /** Server-side apply as FIELD_MANAGER. `obj` is the desired state: no resourceVersion, no managedFields. */
  apply<T extends ClusterObject>(obj: T, options?: ApplyOptions): Promise<T>;
  /** Creates; an object of that name already there counts as done (`created: false`), for idempotent submits. */
  create<T extends ClusterObject>(obj: T, options?: WriteOptions): Promise<CreateResult<T>>;
  /** Undefined when the object does not exist. `namespace` is undefined for cluster-scoped kinds. */
  get<T extends ClusterObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T | undefined>;
  /**
   * JSON merge patch (null deletes a key) that applies only if the object is still at `resourceVersion`;
   * otherwise ConflictError: re-read, recompute, retry — compare-and-swap for state objects.
   */
  patch<T extends ClusterObject>(obj: T, resourceVersion: string): Promise<T>;
  /**
   * Every matching object, following `continue` pages. `fromCache`: any recent state will do — the API
   * server answers from its watch cache at once (`resourceVersion=0`, unpaged) instead of a consistent read,
   * which waits (about 100 ms on the rig) whenever anything in the cluster was written just before. A hint:
   * ClusterClient reads consistently either way.
   */
  list<T extends ClusterObject>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string, options?: ListOptions): Promise<T[]>;
  /**
   * Watches a collection path (e.g. `/api/v1/namespaces/ns/configmaps`). Resolves once the server accepted the
   * watch (rejects typed if it refused) with a function that stops it. `onEnd` runs once when the watch ends:
   * without an error after stop() or a normal close, with one otherwise (the server closes idle watches, and
   * the client gives up after 30 s without data, so a long watch must be restarted by the caller).
   */
  watch<T extends ClusterObject>(
    path: string,
    labelSelector: string | undefined,
    onEvent: (type: WatchEventType, object: T) => void,
    onEnd?: (err?: Error) => void,
  ): Promise<() => void>;
  /** Replaces the status subresource; a stale `metadata.resourceVersion` in `obj` is a ConflictError. */
  replaceStatus<T extends ClusterObject>(obj: T): Promise<T>;
  /** True if a deletion was requested, false if there was nothing to delete. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<boolean>;
}

const WRITES: ReadonlySet<HttpMethod> = new Set([HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH]);

// Not AbortSignal.timeout(): its DOMException has a read-only message, and client-node rewrites the message of
// an error from its discovery step, which then throws a TypeError that hides the timeout.
function deadline(timeoutMs: number): AbortSignal {
  const controller = new AbortController();
  const reason = Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' });
  setTimeout(() => controller.abort(reason), timeoutMs).unref();
  return controller.signal;
}

function requestPolicy(timeoutMs: number): Middleware {
  return {
    pre: async (context: RequestContext) => {
      context.setSignal(deadline(timeoutMs));
      if (WRITES.has(context.getHttpMethod())) context.setQueryParam('fieldValidation', 'Strict');
      return context;
    },
    post: async (response) => response,
  };
}

// The generic client's writes serialise objects of built-in kinds through client-node's typed models, which
// rename fields that are reserved words and drop them from the body: a NetworkPolicy rule's `from` and a
// LimitRange's `default` never reach the server (an ingress rule without `from` admits everyone). So every
// write goes through `send`, which takes the object as given, as JSON; the generic client is still used for
// path building (with its discovery cache), auth, the middleware and errors. It has no call for the status
// subresource either; `send` covers that too.
class ObjectApi extends KubernetesObjectApi {
  async send<T extends KubernetesObject>(
    obj: ClusterObject,
    write: { action: 'create' | 'patch' | 'replace'; method: HttpMethod; contentType: string; subresource?: string },
    query: Readonly<Record<string, string | undefined>>,
  ): Promise<T> {
    const path = `${await this.specUriPath(obj, write.action)}${write.subresource ? `/${write.subresource}` : ''}`;
    const context = this.configuration.baseServer.makeRequestContext(path, write.method);
    context.setHeaderParam('Accept', 'application/json');
    context.setHeaderParam('Content-Type', write.contentType);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) context.setQueryParam(name, value);
    context.setBody(JSON.stringify(obj));
    return this.requestPromise<T>(context);
  }

  // Likewise client-node turns answers about built-in kinds into its models (renamed fields, Dates); callers
  // compare what they apply with what they read, so every answer keeps the API server's JSON. Failures still go
  // through client-node, which throws them as ApiException.
  protected override async processResponse<T extends KubernetesObject>(response: ResponseContext, type?: string): Promise<T> {
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) return super.processResponse<T>(response, type);
    return JSON.parse(await response.body.text()) as T;
  }
}

/**
 * The kubeconfig's authentication, with one connection pool for every request. client-node builds a new undici
 * Agent for each request when the cluster has a CA (always, here), so no connection is ever reused: each
 * request pays a TLS handshake on both ends and leaves an idle agent behind. The kubeconfig still sets each
 * request's credentials (a projected token is re-read); only the pool is kept.
 */
function reusingConnections(kc: KubeConfig): SecurityAuthentication {
  let pool: ReturnType<RequestContext['getDispatcher']>;
  return {
    getName: () => 'kubeconfig authentication, one connection pool',
    async applySecurityAuthentication(context) {
      await kc.applySecurityAuthentication(context);
      pool ??= context.getDispatcher();
      if (pool) context.setDispatcher(pool);
    },
  };
}

const JSON_BODY = 'application/json';
/** Server-side apply takes YAML, of which JSON is a part. */
const APPLY_PATCH = 'application/apply-patch+yaml';
const MERGE_PATCH = 'application/merge-patch+json';

const describe = (kind: string, namespace: string | undefined, name?: string) =>
  [kind, [namespace, name].filter(Boolean).join('/')].filter(Boolean).join(' ');

export interface ClusterClientOptions {
  /** Deadline per request; a slower answer is a TransientError. */
  timeoutMs?: number;
  /** Objects per page of a list; `list` follows the pages. */
  listPageSize?: number;
}

export const DEFAULT_LIST_PAGE_SIZE = 500;

export interface TokenConnection {
  server: string;
  token: string;
  /** PEM of the CA that signed the server's certificate, as base64 (kubeconfig `certificate-authority-data`)… */
  caData?: string;
  /** …or as a file. */
  caFile?: string;
}

export class ClusterClient implements ClusterApi {
  readonly #kc: KubeConfig;
  readonly #api: ObjectApi;
  readonly #pageSize: number;

  private constructor(kc: KubeConfig, options: ClusterClientOptions = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new ConfigError(['the kubeconfig has no current cluster']);
    this.#kc = kc;
    this.#pageSize = options.listPageSize ?? DEFAULT_LIST_PAGE_SIZE;
    this.#api = new ObjectApi(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: reusingConnections(kc) },
        promiseMiddleware: [requestPolicy(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)],
      }),
    );
  }

  static fromKubeconfigFile(path: string, options?: ClusterClientOptions): ClusterClient {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return new ClusterClient(kc, options);
  }

  /** The pod's ServiceAccount, as Knative runs us. */
  static inCluster(options?: ClusterClientOptions): ClusterClient {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return new ClusterClient(kc, options);
  }

  /** Acts as whoever the bearer token belongs to, e.g. a ServiceAccount's token from the TokenRequest API. */
  static fromToken(connection: TokenConnection, options?: ClusterClientOptions): ClusterClient {
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(
      { name: 'cluster', server: connection.server, caData: connection.caData, caFile: connection.caFile, skipTLSVerify: false },
      { name: 'token', token: connection.token },
    );
    return new ClusterClient(kc, options);
  }

  /** KUBECONFIG when set, else the in-cluster ServiceAccount. */
  static fromEnv(env: Env = process.env, options?: ClusterClientOptions): ClusterClient {
    if (env.KUBECONFIG) return ClusterClient.fromKubeconfigFile(env.KUBECONFIG, options);
    if (env.KUBERNETES_SERVICE_HOST) return ClusterClient.inCluster(options);
    throw new ConfigError(['KUBECONFIG is required outside a cluster (KUBERNETES_SERVICE_HOST is not set)']);
  }

  async apply<T extends ClusterObject>(obj: T, { force = true, dryRun }: ApplyOptions = {}): Promise<T> {
    const what = `apply ${describe(obj.kind, obj.metadata.namespace, obj.metadata.name)}`;
    return this.#call(what, () =>
      this.#api.send<T>(obj, { action: 'patch', method: HttpMethod.PATCH, contentType: APPLY_PATCH }, {
        fieldManager: FIELD_MANAGER,
        force: String(force),
        dryRun: dryRunParam(dryRun),
      }),
    );
  }

  async create<T extends ClusterObject>(obj: T, { dryRun }: WriteOptions = {}): Promise<CreateResult<T>> {
    const what = `create ${describe(obj.kind, obj.metadata.namespace, obj.metadata.name)}`;
    try {
      const object = await this.#call(what, () =>
        this.#api.send<T>(obj, { action: 'create', method: HttpMethod.POST, contentType: JSON_BODY }, { fieldManager: FIELD_MANAGER, dryRun: dryRunParam(dryRun) }),
      );
      return { created: true, object };
    } catch (err) {
      if (err instanceof AlreadyExistsError) return { created: false };
      throw err;
    }
  }

  async get<T extends ClusterObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.#call(`get ${describe(kind, namespace, name)}`, () =>
        this.#api.read<T>({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } }),
      );
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async patch<T extends ClusterObject>(obj: T, resourceVersion: string): Promise<T> {
    const body = { ...obj, metadata: { ...obj.metadata, resourceVersion } };
    const what = `patch ${describe(obj.kind, obj.metadata.namespace, obj.metadata.name)}`;
    return this.#call(what, () =>
      this.#api.send<T>(body, { action: 'patch', method: HttpMethod.PATCH, contentType: MERGE_PATCH }, { fieldManager: FIELD_MANAGER }),
    );
  }

  async list<T extends ClusterObject>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<T[]> {
    const what = `list ${describe(kind, namespace)}${labelSelector ? ` -l ${labelSelector}` : ''}`;
    const items: T[] = [];
    let continueToken: string | undefined;
    do {
      const page = await this.#call(what, () =>
        this.#api.list<T>(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector, this.#pageSize, continueToken),
      );
      items.push(...page.items);
      // The API server's JSON (see ObjectApi), where the token is `continue` (client-node's model says `_continue`).
      continueToken = (page.metadata as { continue?: string } | undefined)?.continue || undefined;
    } while (continueToken);
    return items;
  }

  async watch<T extends ClusterObject>(
    path: string,
    labelSelector: string | undefined,
    onEvent: (type: WatchEventType, object: T) => void,
    onEnd: (err?: Error) => void = () => {},
  ): Promise<() => void> {
    const what = `watch ${path}`;
    let accepted = false;
    let stopped = false;
    let ended = false;
    let earlyEnd: unknown;
    const end = (err: unknown) => {
      if (ended) return;
      ended = true;
      if (!accepted) {
        earlyEnd = err ?? new Error(`${what}: closed before it started`);
        return;
      }
      // Stopping aborts the connection, which the watch helper reports as an error; it is not one.
      onEnd(err && !stopped ? (watchError(err, what) as Error) : undefined);
    };
    const controller = await new Watch(this.#kc).watch(
      path,
      { labelSelector },
      (type: string, object: unknown) => {
        if (type === 'ERROR') {
          // The server ends a watch it cannot continue with a Status object (410 Gone: resourceVersion too old).
          const status = object as { code?: number; message?: string; reason?: string };
          end(errorForStatus(status.code ?? 500, `${what}: ${status.message ?? 'error event'}`, status.reason));
          controller.abort();
          return;
        }
        onEvent(type as WatchEventType, object as T);
      },
      end,
    );
    accepted = true;
    if (ended) throw watchError(earlyEnd, what);
    return () => {
      stopped = true;
      controller.abort();
    };
  }

  async replaceStatus<T extends ClusterObject>(obj: T): Promise<T> {
    const what = `replace status of ${describe(obj.kind, obj.metadata.namespace, obj.metadata.name)}`;
    return this.#call(what, () =>
      this.#api.send<T>(obj, { action: 'replace', method: HttpMethod.PUT, contentType: JSON_BODY, subresource: 'status' }, { fieldManager: FIELD_MANAGER }),
    );
  }

  async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<boolean> {
    try {
      await this.#call(`delete ${describe(kind, namespace, name)}`, () =>
        this.#api.delete({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } }),
      );
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async #call<R>(what: string, call: () => Promise<R>): Promise<R> {
    try {
      return await call();
    } catch (err) {
      throw clusterError(err, what);
    }
  }
}

const dryRunParam = (dryRun: boolean | undefined) => (dryRun ? 'All' : undefined);
