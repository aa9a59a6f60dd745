// Runs on the rig are real: Argo's own workflow-controller turns each Workflow into pods, the real
// kube-scheduler binds them to the rig's fake nodes, and KWOK runs them through their phases (test/rig/). A
// test chooses how a pod ends with the rig's outcome hook — annotations on the pod, set by the Workflow's
// template metadata (README, "The rig") — and waits here for what Argo writes.
import type { ClusterApi, ClusterObject } from '../../../shared/k8s/cluster.js';
import { readWorkflow, type WorkflowRef } from '../../../shared/runs/workflow-store.js';
import { ARGO_COMPLETED_LABEL, isCompletedPhase, safeText, type LiveWorkflow } from '../../../shared/runs/workflow.js';
import { eventually } from './wait.js';

/** The rig's outcome hook (test/rig/kwok/stages.yaml): the pod's main container exits with this code. */
export const EXIT_CODE_ANNOTATION = 'rig.seakeeper.test/exit-code';
/** The main container's termination message when it fails. */
export const MESSAGE_ANNOTATION = 'rig.seakeeper.test/message';
/** How long the pod runs, in whole seconds ("90s"). */
export const DURATION_ANNOTATION = 'rig.seakeeper.test/duration';

/**
 * Template metadata that makes a step's outcome follow the change's subject: `[fail NAME]` in the subject makes
 * the step whose `cmd` input is NAME exit 2 with "NAME failed", and `[slow]` makes every step run for five
 * minutes. Argo evaluates the expressions when it makes the pod, on the subject parameter in its safe form
 * (`[slow]` is `%5Bslow%5D` there).
 */
export const SUBJECT_OUTCOME_METADATA = {
  annotations: {
    [EXIT_CODE_ANNOTATION]: `{{=sprig.contains('${safeText('[fail ')}' + inputs.parameters.cmd + '${safeText(']')}', workflow.parameters.subject) ? '2' : '0'}}`,
    [MESSAGE_ANNOTATION]: '{{inputs.parameters.cmd}} failed',
    [DURATION_ANNOTATION]: `{{=sprig.contains('${safeText('[slow]')}', workflow.parameters.subject) ? '300s' : '1s'}}`,
  },
};

/** Waits until Argo's controller has finished the run (its completed label and a final phase), and returns it. */
export async function finished(cluster: Pick<ClusterApi, 'get'>, ref: WorkflowRef, timeoutMs = 60_000): Promise<LiveWorkflow> {
  return eventually(async () => {
    const workflow = await readWorkflow(cluster, ref);
    if (!workflow) throw new Error(`Workflow ${ref.namespace}/${ref.name} does not exist`);
    const phase = workflow.status?.phase;
    if (workflow.metadata.labels?.[ARGO_COMPLETED_LABEL] !== 'true' || !isCompletedPhase(phase)) {
      throw new Error(`Workflow ${ref.namespace}/${ref.name} is ${String(phase || 'new')}: ${String(workflow.status?.message ?? '')}`);
    }
    return workflow;
  }, timeoutMs, 250);
}

/** Waits until Argo's controller reports the run Running with at least one of its pods Running. */
export async function running(cluster: Pick<ClusterApi, 'get'>, ref: WorkflowRef, timeoutMs = 30_000): Promise<LiveWorkflow> {
  return eventually(async () => {
    const workflow = await readWorkflow(cluster, ref);
    const nodes = Object.values(workflow?.status?.nodes ?? {});
    if (workflow?.status?.phase !== 'Running' || !nodes.some((n) => n.type === 'Pod' && n.phase === 'Running')) {
      throw new Error(`Workflow ${ref.namespace}/${ref.name} has no running pod yet (${String(workflow?.status?.phase ?? 'new')})`);
    }
    return workflow;
  }, timeoutMs, 250);
}

export type RunPod = ClusterObject & {
  spec: { nodeName?: string; priorityClassName?: string; containers: Array<{ name: string; env?: Array<{ name: string; value?: string }>; envFrom?: Array<{ configMapRef?: { name: string } }> }> };
  status?: { phase?: string; startTime?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
};

/** The pods Argo has made for a run so far (its workflow label). */
export async function runPods(cluster: Pick<ClusterApi, 'list'>, ref: WorkflowRef): Promise<RunPod[]> {
  return cluster.list<RunPod>('v1', 'Pod', ref.namespace, `workflows.argoproj.io/workflow=${ref.name}`);
}

/** The pods Argo made for a run, once there is at least one. */
export async function podsOf(cluster: Pick<ClusterApi, 'list'>, ref: WorkflowRef, timeoutMs = 30_000): Promise<RunPod[]> {
  return eventually(async () => {
    const pods = await runPods(cluster, ref);
    if (pods.length === 0) throw new Error(`no pods of ${ref.namespace}/${ref.name} yet`);
    return pods;
  }, timeoutMs, 250);
}

/** Waits until none of a run's pods is Pending or Running any more (they finished, were killed or are gone). */
export async function podsStopped(cluster: Pick<ClusterApi, 'list'>, ref: WorkflowRef, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => {
    const pods = await runPods(cluster, ref);
    const live = pods.filter((p) => p.status?.phase === 'Pending' || p.status?.phase === 'Running');
    if (live.length > 0) throw new Error(`pods of ${ref.name} still live: ${live.map((p) => `${p.metadata.name} ${p.status?.phase}`).join(', ')}`);
  }, timeoutMs, 250);
}
