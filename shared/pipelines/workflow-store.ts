// Reading and changing Workflows in the cluster, the one way every shell does it: a JSON merge patch at the
// resourceVersion the change was decided on (compare-and-swap, ClusterApi.patch). Argo's controller rewrites a
// running Workflow (status, labels) all the time, so a conflict is expected: `casUpdate` re-reads, decides
// again on what is there now, and retries — a few times, then the ConflictError goes up (transient: Knative
// redelivers the event). Used for stopping superseded runs and for the claim/done markers.
import { ConflictError, NotFoundError } from '../errors.js';
import type { ClusterApi, ClusterObject, ListOptions } from '../k8s/cluster.js';
import { ARGO_API_VERSION, WORKFLOW_KIND, type LiveWorkflow } from './workflow.js';

export type WorkflowCluster = Pick<ClusterApi, 'get' | 'patch'>;

export interface WorkflowRef {
  readonly namespace: string;
  readonly name: string;
}

export const CAS_ATTEMPTS = 5;

export const refOfWorkflow = (workflow: LiveWorkflow): WorkflowRef => ({ namespace: workflow.metadata.namespace ?? '', name: workflow.metadata.name });

/** The Workflow, or undefined when there is none of that name. */
export async function readWorkflow(cluster: Pick<ClusterApi, 'get'>, ref: WorkflowRef): Promise<LiveWorkflow | undefined> {
  return (await cluster.get<ClusterObject>(ARGO_API_VERSION, WORKFLOW_KIND, ref.namespace, ref.name)) as LiveWorkflow | undefined;
}

/** Every Workflow matching `selector`, in `namespace` (all namespaces when undefined); ListOptions as ClusterApi's. */
export async function listWorkflows(cluster: Pick<ClusterApi, 'list'>, namespace: string | undefined, selector: string, options?: ListOptions): Promise<LiveWorkflow[]> {
  return (await cluster.list<ClusterObject>(ARGO_API_VERSION, WORKFLOW_KIND, namespace, selector, options)) as unknown as LiveWorkflow[];
}

/** A merge patch of the Workflow, applied only if it is still at `resourceVersion`. */
export async function patchWorkflow(cluster: Pick<ClusterApi, 'patch'>, ref: WorkflowRef, patch: object, resourceVersion: string): Promise<LiveWorkflow> {
  const body = patch as { metadata?: object };
  const obj = {
    ...body,
    apiVersion: ARGO_API_VERSION,
    kind: WORKFLOW_KIND,
    metadata: { ...(body.metadata ?? {}), name: ref.name, namespace: ref.namespace },
  } as unknown as ClusterObject;
  return (await cluster.patch(obj, resourceVersion)) as unknown as LiveWorkflow;
}

/** What to do with the Workflow as it is now: patch it (and report `result`), or leave it for `skip`'s reason. */
export type CasStep<R> = { readonly patch: object; readonly result: R } | { readonly skip: string };

export type CasOutcome<R> =
  | { readonly done: true; readonly workflow: LiveWorkflow; readonly result: R }
  /** `gone`: the Workflow does not exist (any more); otherwise the reason compute gave. */
  | { readonly done: false; readonly reason: string };

/**
 * Compare-and-swap: `compute` decides on the Workflow as read (`current`, or read now), the patch goes at that
 * resourceVersion; on a conflict the Workflow is read again and `compute` decides again.
 */
export async function casUpdate<R>(
  cluster: WorkflowCluster,
  ref: WorkflowRef,
  current: LiveWorkflow | undefined,
  compute: (workflow: LiveWorkflow) => CasStep<R>,
  attempts = CAS_ATTEMPTS,
): Promise<CasOutcome<R>> {
  let workflow = current ?? (await readWorkflow(cluster, ref));
  for (let attempt = 1; ; attempt++) {
    if (!workflow) return { done: false, reason: 'gone' };
    const step = compute(workflow);
    if ('skip' in step) return { done: false, reason: step.skip };
    const resourceVersion = workflow.metadata.resourceVersion;
    try {
      if (resourceVersion === undefined) throw new ConflictError(`Workflow ${ref.namespace}/${ref.name} was read without a resourceVersion`);
      return { done: true, workflow: await patchWorkflow(cluster, ref, step.patch, resourceVersion), result: step.result };
    } catch (err) {
      if (err instanceof NotFoundError) return { done: false, reason: 'gone' };
      if (!(err instanceof ConflictError) || attempt >= attempts) throw err;
    }
    workflow = await readWorkflow(cluster, ref);
  }
}
