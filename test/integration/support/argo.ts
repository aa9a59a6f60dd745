// STAND-IN for Argo's workflow controller, which cannot run on these machines (no container runtime): it moves
// a Workflow through its phases the way the controller does — the Workflow CRD has no status subresource, so
// the controller updates the whole object: `status` (phase, startedAt, finishedAt, progress, message, one node
// per step) and the labels `workflows.argoproj.io/phase` and, once finished, `workflows.argoproj.io/completed:
// "true"`. Every write is a merge patch at the resourceVersion just read, and goes through the real CRD's
// schema with strict field validation (ClusterClient), so a status the CRD would refuse fails here too.
import type { ClusterApi } from '../../../shared/k8s/cluster.js';
import { readWorkflow, patchWorkflow, type WorkflowRef } from '../../../shared/pipelines/workflow-store.js';
import type { LiveWorkflow, WorkflowNode } from '../../../shared/pipelines/workflow.js';
import { ARGO_COMPLETED_LABEL } from '../../../shared/pipelines/workflow.js';

export const ARGO_PHASE_LABEL = 'workflows.argoproj.io/phase';

export interface StepOutcome {
  name: string;
  phase: 'Succeeded' | 'Failed' | 'Error';
  /** Argo's message for a step that did not succeed. */
  message?: string;
  /** Output artifacts, by name and S3 key. */
  artifacts?: { name: string; key: string }[];
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The controller's first update: the Workflow is Running. */
export async function startRun(cluster: Pick<ClusterApi, 'get' | 'patch'>, ref: WorkflowRef, startedAt = Date.now()): Promise<LiveWorkflow> {
  const current = await mustRead(cluster, ref);
  return patchWorkflow(
    cluster,
    ref,
    { metadata: { labels: { [ARGO_PHASE_LABEL]: 'Running' } }, status: { phase: 'Running', startedAt: iso(startedAt), finishedAt: null, progress: '0/1' } },
    current.metadata.resourceVersion!,
  );
}

/** The controller's last update: the Workflow finished in `phase` with a node per step (a DAG under the entrypoint). */
export async function finishRun(
  cluster: Pick<ClusterApi, 'get' | 'patch'>,
  ref: WorkflowRef,
  phase: 'Succeeded' | 'Failed' | 'Error',
  steps: StepOutcome[] = [{ name: 'test', phase: phase === 'Succeeded' ? 'Succeeded' : 'Failed', ...(phase === 'Succeeded' ? {} : { message: 'Error (exit code 1)' }) }],
  options: { message?: string; durationMs?: number } = {},
): Promise<LiveWorkflow> {
  const current = await mustRead(cluster, ref);
  const started = Date.parse(String(current.status?.startedAt ?? '')) || Date.now() - (options.durationMs ?? 95_000);
  const finished = started + (options.durationMs ?? 95_000);
  const root = ref.name;
  const nodes: Record<string, WorkflowNode> = {
    [root]: {
      id: root,
      name: root,
      displayName: root,
      type: 'DAG',
      templateName: 'main',
      phase,
      startedAt: iso(started),
      finishedAt: iso(finished),
      children: steps.map((_, i) => `${root}-${1000 + i}`),
    },
  };
  steps.forEach((step, i) => {
    const id = `${root}-${1000 + i}`;
    nodes[id] = {
      id,
      name: `${root}.${step.name}`,
      displayName: step.name,
      type: 'Pod',
      templateName: 'run',
      phase: step.phase,
      boundaryID: root,
      startedAt: iso(started + i * 1000),
      finishedAt: iso(finished - (steps.length - 1 - i) * 1000),
      ...(step.message ? { message: step.message } : {}),
      outputs: {
        exitCode: step.phase === 'Succeeded' ? '0' : '1',
        ...(step.artifacts ? { artifacts: step.artifacts.map((a) => ({ name: a.name, s3: { key: a.key } })) } : {}),
      },
    };
  });
  const message = options.message ?? (phase === 'Succeeded' ? undefined : 'child failed');
  const status = {
    phase,
    startedAt: iso(started),
    finishedAt: iso(finished),
    progress: `${steps.filter((s) => s.phase === 'Succeeded').length}/${steps.length}`,
    ...(message ? { message } : {}),
    nodes,
  };
  return patchWorkflow(
    cluster,
    ref,
    { metadata: { labels: { [ARGO_PHASE_LABEL]: phase, [ARGO_COMPLETED_LABEL]: 'true' } }, status },
    current.metadata.resourceVersion!,
  );
}

async function mustRead(cluster: Pick<ClusterApi, 'get'>, ref: WorkflowRef): Promise<LiveWorkflow> {
  const workflow = await readWorkflow(cluster, ref);
  if (!workflow) throw new Error(`Workflow ${ref.namespace}/${ref.name} does not exist`);
  return workflow;
}
