// Reading and changing Workflows in the cluster, the one way every shell does it. Changes go through the
// compare-and-swap of k8s/cas.ts (with workflowObject's reference): Argo's controller rewrites a running
// Workflow (status, labels) all the time, so a conflict is expected there, and casPatch re-reads and decides
// again. Used for stopping superseded runs and for the markers.
import { patchObject, readObject, type ObjectRef } from '../k8s/cas.js';
import type { ClusterApi, ClusterObject, ListOptions } from '../k8s/cluster.js';
import { ARGO_API_VERSION, WORKFLOW_KIND } from '../names.js';
import { type LiveWorkflow } from './workflow.js';

export type WorkflowCluster = Pick<ClusterApi, 'get' | 'patch'>;

export interface WorkflowRef {
  readonly namespace: string;
  readonly name: string;
}

export const refOfWorkflow = (workflow: LiveWorkflow): WorkflowRef => ({ namespace: workflow.metadata.namespace ?? '', name: workflow.metadata.name });

/** The Workflow's reference for k8s/cas.ts. */
export const workflowObject = (ref: WorkflowRef): ObjectRef => ({ apiVersion: ARGO_API_VERSION, kind: WORKFLOW_KIND, namespace: ref.namespace, name: ref.name });

/** The Workflow, or undefined when there is none of that name. */
export async function readWorkflow(cluster: Pick<ClusterApi, 'get'>, ref: WorkflowRef): Promise<LiveWorkflow | undefined> {
  return readObject<LiveWorkflow>(cluster, workflowObject(ref));
}

/** Every Workflow matching `selector`, in `namespace` (all namespaces when undefined); ListOptions as ClusterApi's. */
export async function listWorkflows(cluster: Pick<ClusterApi, 'list'>, namespace: string | undefined, selector: string, options?: ListOptions): Promise<LiveWorkflow[]> {
  return (await cluster.list<ClusterObject>(ARGO_API_VERSION, WORKFLOW_KIND, namespace, selector, options)) as unknown as LiveWorkflow[];
}

/** A merge patch of the Workflow, applied only if it is still at `resourceVersion`. */
export async function patchWorkflow(cluster: Pick<ClusterApi, 'patch'>, ref: WorkflowRef, patch: object, resourceVersion: string): Promise<LiveWorkflow> {
  return patchObject<LiveWorkflow>(cluster, workflowObject(ref), patch, resourceVersion);
}
