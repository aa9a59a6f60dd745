// Carrying out stop orders (runs.ts): each patch goes at the resourceVersion the run was listed at; when Argo
// changed the run in between (a conflict), it is read again and stopped again only if it is still going —
// a run that finished meanwhile is left to be reported or not as shouldReport decides.
import { mapWithConcurrency } from '../concurrency.js';
import { isActive, type StopOrder } from './runs.js';
import { runOf, type LiveWorkflow } from '../runs/workflow.js';
import { casPatch } from '../k8s/cas.js';
import { workflowObject, type WorkflowCluster } from '../runs/workflow-store.js';

/** Stops at once in one event (a change rarely has more than a few runs going). */
const STOP_CONCURRENCY = 4;

/**
 * Applies each order; after a conflict, the same patch again on the run as read now, if it is still going
 * (the patch does not depend on the run's state). Returns the names of the runs it stopped. Throws the first
 * failure after trying every order (a conflict that outlasted the retries, a failed call), so that a
 * redelivery finishes the work.
 */
export async function carryOutStops(cluster: WorkflowCluster, orders: readonly StopOrder[]): Promise<string[]> {
  const results = await mapWithConcurrency(orders, STOP_CONCURRENCY, async (order) => {
    const ref = { namespace: order.namespace, name: order.name };
    // What the order was computed from, as far as the patch needs it: its name and resourceVersion.
    const listed: LiveWorkflow = { metadata: { ...ref, ...(order.resourceVersion !== undefined ? { resourceVersion: order.resourceVersion } : {}) } };
    let first = true;
    try {
      const outcome = await casPatch(cluster, workflowObject(ref), listed, (workflow) => {
        const run = first ? undefined : runOf(workflow);
        if (!first && (!run || !isActive(run))) return { skip: 'no longer running' };
        first = false;
        return { patch: order.patch, result: order.name };
      });
      return { stopped: outcome.done ? outcome.result : undefined };
    } catch (error) {
      return { error };
    }
  });
  const failed = results.find((r): r is { error: unknown } => 'error' in r);
  if (failed) throw failed.error;
  return results.flatMap((r) => ('stopped' in r && r.stopped !== undefined ? [r.stopped] : []));
}
