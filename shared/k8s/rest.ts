// ClusterApi over a Transport: everything but moving bytes, once for both clients. Where a resource lives (its
// plural, whether it is namespaced) comes from the API server's discovery document of its group/version, read
// once per client (again when a kind is missing: a CRD installed since). Lists follow `continue` pages, or read
// the watch cache unpaged (`fromCache`), and give their items the apiVersion and kind the server leaves out.
// Watches are split into lines here and each line parsed; a broken one ends the watch with an error. Every
// request has a deadline, every write fieldValidation=Strict, and every failure becomes an error of
// shared/errors.ts (errors.ts). A transport only sends a request with its client's credentials.
import { ConfigError, type Env } from '../env.js';
import { AlreadyExistsError, NotFoundError, PermanentError, TransientError } from '../errors.js';
import {
  DEFAULT_LIST_PAGE_SIZE,
  DEFAULT_TIMEOUT_MS,
  FIELD_MANAGER,
  type ApplyOptions,
  type ClusterApi,
  type ClusterClientOptions,
  type ClusterObject,
  type CreateResult,
  type DeleteOptions,
  type ListOptions,
  type WatchEventType,
  type WriteOptions,
} from './api.js';
import { malformedLine, noAnswer, parseStatus, statusError, type Status } from './errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface TransportRequest {
  readonly method: Method;
  /** Path and query from the server's root, e.g. `/api/v1/namespaces?limit=500`. */
  readonly path: string;
  readonly body?: { readonly text: string; readonly contentType: string } | undefined;
  /** Aborted at the deadline, or when a watch stops: the request and the reading of its answer give up. */
  readonly signal: AbortSignal;
}

export interface TransportAnswer {
  readonly status: number;
  /** The body as it arrives (a watch's does not end by itself); fails if the connection does. */
  readonly body: AsyncIterable<Uint8Array>;
}

/** How a request reaches the API server with a client's credentials: all that differs between the clients. */
export interface Transport {
  /** Resolves once the server has answered with a status, whatever it is; rejects only when no answer came. */
  send(request: TransportRequest): Promise<TransportAnswer>;
  /** Lets go of kept-alive connections. */
  close(): void;
}

/** A watch that receives nothing for this long is ended with a TransientError; the caller restarts it. */
const WATCH_IDLE_MS = 30_000;

const JSON_BODY = 'application/json';
/** Server-side apply takes YAML, of which JSON is a part. */
const APPLY_PATCH = 'application/apply-patch+yaml';
const MERGE_PATCH = 'application/merge-patch+json';

type Query = Readonly<Record<string, string | number | undefined>>;

interface Resource {
  readonly plural: string;
  readonly namespaced: boolean;
}

const describe = (kind: string, namespace: string | undefined, name?: string) =>
  [kind, [namespace, name].filter(Boolean).join('/')].filter(Boolean).join(' ');

const dryRunQuery = (dryRun: boolean | undefined) => (dryRun ? { dryRun: 'All' } : {});

const groupPath = (apiVersion: string) => (apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);

function withQuery(pathname: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const search = params.toString();
  return search ? `${pathname}?${search}` : pathname;
}

async function readText(body: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** `body`'s chunks; a failure of the connection comes out as `fail` makes it (not an error of the consumer's). */
async function* chunksOf(body: AsyncIterable<Uint8Array>, fail: (err: unknown) => Error): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (err) {
    throw fail(err);
  }
}

function parseEvent(line: string, what: string): { type: string; object: unknown } {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch (err) {
    throw malformedLine(line, what, err);
  }
  if (typeof (event as { type?: unknown } | null)?.type !== 'string') throw malformedLine(line, what, undefined);
  return event as { type: string; object: unknown };
}

/** KUBECONFIG when set, else the pod's ServiceAccount (as Knative runs us), else a ConfigError naming KUBECONFIG. */
export function kubeconfigOrInCluster<C>(env: Env, load: { kubeconfig: (file: string) => C; inCluster: () => C }): C {
  if (env.KUBECONFIG) return load.kubeconfig(env.KUBECONFIG);
  if (env.KUBERNETES_SERVICE_HOST) return load.inCluster();
  throw new ConfigError(['KUBECONFIG is required outside a cluster (KUBERNETES_SERVICE_HOST is not set)']);
}

export class RestCluster implements ClusterApi {
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  readonly #pageSize: number;
  readonly #discovery = new Map<string, Promise<Map<string, Resource>>>();

  constructor(transport: Transport, options: ClusterClientOptions = {}) {
    this.#transport = transport;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#pageSize = options.listPageSize ?? DEFAULT_LIST_PAGE_SIZE;
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
      const object = (await this.#json('POST', at, what, { body: obj, query: { fieldManager: FIELD_MANAGER, ...dryRunQuery(dryRun) } })) as T;
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
      for (const item of page.items ?? []) {
        const typed = { ...item, apiVersion, kind };
        if (options.each) options.each(typed);
        else items.push(typed);
      }
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
    const controller = new AbortController();
    const quiet = `nothing received for ${WATCH_IDLE_MS} ms`;
    let idle: NodeJS.Timeout | undefined;
    const wake = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new TransientError(`${what}: ${quiet}`)), WATCH_IDLE_MS);
    };
    const failure = (err: unknown) => noAnswer(err, what, controller.signal.aborted ? quiet : undefined);

    wake();
    let answer: TransportAnswer;
    let refusal: string | undefined;
    try {
      answer = await this.#transport.send({ method: 'GET', path: withQuery(collection, { watch: 'true', labelSelector }), signal: controller.signal });
      if (answer.status !== 200) refusal = await readText(answer.body);
    } catch (err) {
      clearTimeout(idle);
      throw failure(err);
    }
    if (refusal !== undefined) {
      clearTimeout(idle);
      throw statusError(answer.status, parseStatus(refusal), what);
    }

    let stopped = false;
    const follow = async () => {
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of chunksOf(answer.body, failure)) {
        wake();
        buffered += decoder.decode(chunk, { stream: true });
        for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line === '') continue;
          const event = parseEvent(line, what);
          // The server ends a watch it cannot continue with a Status object (410 Gone: resourceVersion too old).
          if (event.type === 'ERROR') throw statusError((event.object as Status).code ?? 500, event.object as Status, what);
          onEvent(event.type as WatchEventType, event.object as T);
        }
      }
    };
    const end = (err?: Error) => {
      clearTimeout(idle);
      controller.abort();
      // Stopping aborts the connection, which ends the watch with an error; it is not one.
      onEnd(stopped ? undefined : err);
    };
    follow().then(() => end(), (err: unknown) => end(err as Error));
    return () => {
      stopped = true;
      controller.abort();
    };
  }

  async replaceStatus<T extends ClusterObject>(obj: T): Promise<T> {
    const what = `replace status of ${describe(obj.kind, obj.metadata.namespace, obj.metadata.name)}`;
    const at = `${await this.#objectPath(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name, what)}/status`;
    return (await this.#json('PUT', at, what, { body: obj, query: { fieldManager: FIELD_MANAGER } })) as T;
  }

  async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<boolean> {
    const what = `delete ${describe(kind, namespace, name)}`;
    const at = await this.#objectPath(apiVersion, kind, namespace, name, what);
    const preconditions = options.resourceVersion === undefined ? undefined : { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: options.resourceVersion } };
    try {
      await this.#json('DELETE', at, what, preconditions ? { body: preconditions } : {});
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#transport.close();
  }

  // ---- paths ----

  async #collectionPath(apiVersion: string, kind: string, namespace: string | undefined, what: string): Promise<string> {
    const resource = await this.#resource(apiVersion, kind, what);
    const scope = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${groupPath(apiVersion)}${scope}/${resource.plural}`;
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
      pending = this.#json('GET', groupPath(apiVersion), what).then(
        (list) => {
          const byKind = new Map<string, Resource>();
          for (const r of ((list as { resources?: { name: string; kind: string; namespaced: boolean }[] }).resources ?? [])) {
            if (!r.name.includes('/')) byKind.set(r.kind, { plural: r.name, namespaced: r.namespaced });
          }
          return byKind;
        },
        (err: unknown) => {
          this.#discovery.delete(apiVersion);
          // Otherwise `get` would read "this API group is not served" as "this object does not exist".
          if (err instanceof NotFoundError) throw new PermanentError(`${what}: the cluster does not serve ${apiVersion}`, { status: 404 });
          throw err;
        },
      );
      this.#discovery.set(apiVersion, pending);
    }
    return pending;
  }

  // ---- requests ----

  /** One request; the answer's JSON, or the typed error. Writes are checked strictly. */
  async #json(method: Method, pathname: string, what: string, options: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<unknown> {
    const write = method === 'POST' || method === 'PUT' || method === 'PATCH';
    const path = withQuery(pathname, { ...options.query, ...(write ? { fieldValidation: 'Strict' } : {}) });
    const body = options.body === undefined ? undefined : { text: JSON.stringify(options.body), contentType: options.contentType ?? JSON_BODY };
    const controller = new AbortController();
    const deadline = `no answer within ${this.#timeoutMs} ms`;
    const timer = setTimeout(() => controller.abort(new TransientError(`${what}: ${deadline}`)), this.#timeoutMs);
    let status: number;
    let text: string;
    try {
      const answer = await this.#transport.send({ method, path, body, signal: controller.signal });
      status = answer.status;
      text = await readText(answer.body);
    } catch (err) {
      throw noAnswer(err, what, controller.signal.aborted ? deadline : undefined);
    } finally {
      clearTimeout(timer);
    }
    if (status < 200 || status >= 300) throw statusError(status, parseStatus(text), what);
    try {
      return text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      throw new TransientError(`${what}: the API server answered with something that is not JSON`, { cause: err });
    }
  }
}
