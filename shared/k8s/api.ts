// The Kubernetes calls Seakeeper makes (ClusterApi), as one contract for both clients: ClusterClient
// (cluster.ts, whose requests go through @kubernetes/client-node) and HttpCluster (http-cluster.ts, straight over
// node:http(s)). Both are RestCluster (rest.ts) over a transport of their own. This module holds no value from
// client-node, so that importing it costs a function nothing.
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';

/** The one field manager of every server-side apply, so that Seakeeper owns its fields as one actor. */
export const FIELD_MANAGER = 'seakeeper';
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_LIST_PAGE_SIZE = 500;

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

export interface DeleteOptions {
  readonly resourceVersion?: string;
}

export interface ListOptions {
  readonly fromCache?: boolean;
  /**
   * Each item is handed here as its page arrives and not kept (the list resolves to []): a caller that keeps
   * only a summary of a large list (the capacity report over a month of Workflows) holds one page at a time.
   */
  readonly each?: (item: ClusterObject) => void;
}

export type CreateResult<T> = { created: true; object: T } | { created: false };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface ClusterClientOptions {
  /** Deadline per request; a slower answer is a TransientError. */
  timeoutMs?: number;
  /** Objects per page of a list; `list` follows the pages. */
  listPageSize?: number;
}

export interface TokenConnection {
  server: string;
  token: string;
  /** PEM of the CA that signed the server's certificate, as base64 (kubeconfig `certificate-authority-data`)… */
  caData?: string;
  /** …or as a file. */
  caFile?: string;
}

/**
 * Every write is checked with fieldValidation=Strict, so a field the server does not know is an error instead of
 * being dropped in silence. Objects go and come as the API server's JSON, never through typed models. Failures
 * are the errors of shared/errors.ts.
 */
export interface ClusterApi {
  /** Server-side apply as FIELD_MANAGER. `obj` is the desired state: no resourceVersion, no managedFields. */
  apply<T extends ClusterObject>(obj: T, options?: ApplyOptions): Promise<T>;
  /** Creates; an object of that name already there counts as done (`created: false`), for idempotent creates. */
  create<T extends ClusterObject>(obj: T, options?: WriteOptions): Promise<CreateResult<T>>;
  /** Undefined when the object does not exist. `namespace` is undefined for cluster-scoped kinds. */
  get<T extends ClusterObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T | undefined>;
  /**
   * JSON merge patch (null deletes a key) that applies only if the object is still at `resourceVersion`;
   * otherwise ConflictError: re-read, recompute, retry — compare-and-swap for state objects.
   */
  patch<T extends ClusterObject>(obj: T, resourceVersion: string): Promise<T>;
  /**
   * Every matching object, following `continue` pages, each with its apiVersion and kind. `fromCache`: any
   * recent state will do — the API server answers from its watch cache at once (`resourceVersion=0`, unpaged)
   * instead of a consistent read, which waits (about 100 ms on the rig) whenever anything in the cluster was
   * written just before.
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
  /**
   * True if a deletion was requested, false if there was nothing to delete. With `resourceVersion`, only if the
   * object is still at it (a precondition): otherwise ConflictError, and the object stays.
   */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<boolean>;
}
