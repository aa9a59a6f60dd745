// A ClusterApi that counts the requests passing through it to a real one: what a reconcile pass reports as
// its API writes, and how tests prove that a second pass over an unchanged world writes nothing. It counts
// what was sent, whether or not the server accepted it.
import type { ClusterApi } from './cluster.js';

export interface RequestCounts {
  /** apply, create, patch, replaceStatus, delete. */
  writes: number;
  /** get, list, watch. */
  reads: number;
  /** Per method, e.g. { apply: 3, list: 8 }; a list counts once however many pages it follows. */
  byMethod: Record<string, number>;
}

export class CountingCluster implements ClusterApi {
  counts: RequestCounts = { writes: 0, reads: 0, byMethod: {} };

  readonly apply: ClusterApi['apply'];
  readonly create: ClusterApi['create'];
  readonly get: ClusterApi['get'];
  readonly patch: ClusterApi['patch'];
  readonly list: ClusterApi['list'];
  readonly watch: ClusterApi['watch'];
  readonly replaceStatus: ClusterApi['replaceStatus'];
  readonly delete: ClusterApi['delete'];

  constructor(inner: ClusterApi) {
    const counted = <M extends keyof ClusterApi>(method: M, kind: 'writes' | 'reads'): ClusterApi[M] =>
      ((...args: unknown[]) => {
        this.counts[kind] += 1;
        this.counts.byMethod[method] = (this.counts.byMethod[method] ?? 0) + 1;
        return (inner[method] as (...a: unknown[]) => unknown).apply(inner, args);
      }) as ClusterApi[M];
    this.apply = counted('apply', 'writes');
    this.create = counted('create', 'writes');
    this.patch = counted('patch', 'writes');
    this.replaceStatus = counted('replaceStatus', 'writes');
    this.delete = counted('delete', 'writes');
    this.get = counted('get', 'reads');
    this.list = counted('list', 'reads');
    this.watch = counted('watch', 'reads');
  }

  /** Returns the counts so far and starts again from zero. */
  take(): RequestCounts {
    const counts = this.counts;
    this.counts = { writes: 0, reads: 0, byMethod: {} };
    return counts;
  }
}
