// Bounded concurrency: work on many items without opening a connection per item at once; and the knob of the
// passes that work on every project at once (reconcile's provisioning and its timer pass).
import { integer, withDefault } from './env.js';

export const MAX_CONCURRENCY = 64;
/**
 * Projects a reconcile pass works on at once. A project is three rounds of writes (its Namespace, what is in it,
 * then RoleBindings), so a pass waits on round trips far more than on the API server: bench/README.md.
 */
export const DEFAULT_RECONCILE_CONCURRENCY = 16;
export const reconcileConcurrencyEnv = {
  /** reconcile: how many projects are provisioned, or looked at for due timers, at once. */
  RECONCILE_CONCURRENCY: withDefault(integer({ min: 1, max: MAX_CONCURRENCY }), DEFAULT_RECONCILE_CONCURRENCY),
};

/**
 * Runs `work` on every item with at most `limit` running at a time and resolves with the results in item
 * order. `work` must not throw (catch inside and return the failure): one item's failure never stops the rest.
 */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, not ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
