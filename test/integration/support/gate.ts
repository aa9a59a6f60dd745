// The gate rig tests' common moves (gate.test.ts, gate-scenarios.test.ts), each taking the pipeline stack
// (support/pipelines.ts) or the Gerrit connection it acts through: a gate definition whose outcome the test
// chooses (the rig's outcome hook), Code-Review +2 and its comment-added delivered to comment-added, a change's
// gate runs, a run finished by Argo and its completion delivered (workflow-watch, then workflow-completed), what
// a run tested (SEAKEEPER_CHANGES), a merge, and the ChangeQueue read back.
import type { CloudEvent } from 'cloudevents';
import * as assert from 'uvu/assert';
import { findPipeline, loadPipelines, type Pipeline } from '../../../shared/config/pipeline-config.js';
import { encodeId, type GerritRest } from '../../../shared/gerrit/rest.js';
import type { ChangeInfo } from '../../../shared/gerrit/types.js';
import type { ClusterObject } from '../../../shared/k8s/cluster.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND } from '../../../shared/pipelines/change-queue.js';
import { queueObjectName, type ChangeQueueObject } from '../../../shared/pipelines/queue-store.js';
import { readWorkflow, refOfWorkflow } from '../../../shared/runs/workflow-store.js';
import { safeText, STOPPED_BECAUSE_ANNOTATION, type LiveWorkflow } from '../../../shared/runs/workflow.js';
import { DURATION_ANNOTATION, EXIT_CODE_ANNOTATION, finished, MESSAGE_ANNOTATION } from './argo.js';
import { changeDetail, completedEvent, deliver, gerritEvent, runsOf, workflowTouched, type Delivery, type PipelineStack } from './pipelines.js';
import { eventually } from './wait.js';

export const PIPELINE = 'gate-and-submit';
export const GATE: Pipeline = findPipeline(loadPipelines(), PIPELINE)!;

/**
 * A gate Workflow of one step whose pod ends as the Argo expression `exitCode` says, after `duration`, with
 * `message` as its termination message when it fails.
 */
export function outcomeWorkflow(exitCode: string, duration: string, message = 'tests failed'): string {
  return `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: { generateName: gate- }
spec:
  entrypoint: test
  templates:
    - name: test
      metadata:
        annotations:
          ${EXIT_CODE_ANNOTATION}: "${exitCode}"
          ${MESSAGE_ANNOTATION}: "${message}"
          ${DURATION_ANNOTATION}: "${duration}"
      container: { image: example/ci, command: [make, test] }
`;
}

/** A gate Workflow whose one step fails (exit 2) for the change numbered `failing`, and succeeds otherwise. */
export function gateWorkflow(failing = 0, duration = '1s'): string {
  return outcomeWorkflow(`{{=workflow.parameters.change == '${failing}' ? '2' : '0'}}`, duration);
}

/**
 * A gate Workflow whose one step fails (exit 2) for every change whose subject says `[fail]`, wherever it is
 * tested, and succeeds otherwise; it runs `duration`, or 1s when it fails. Argo evaluates the subject in its
 * safe form.
 */
export function subjectGateWorkflow(duration = '1s'): string {
  const failing = `sprig.contains('${safeText('[fail]')}', workflow.parameters.subject)`;
  return outcomeWorkflow(`{{=${failing} ? '2' : '0'}}`, duration === '1s' ? '1s' : `{{=${failing} ? '1s' : '${duration}'}}`);
}

/** A function's answer was a success (2xx). */
export const ok = (answer: Delivery, what: string) => assert.ok(answer.status >= 200 && answer.status < 300, `${what}: ${answer.status} ${answer.body}`);

/** The change's id for Gerrit's REST API. */
export const id = (project: string, change: ChangeInfo) => `${project}~${change._number}`;

export type Approval = { type: string; value: string; oldValue?: string };

/** A comment-added that gives Code-Review +2 now (it was something else before). */
export const approvesNow = (e: CloudEvent<unknown>) =>
  ((e.data as { approvals?: Approval[] }).approvals ?? []).some((a) => a.type === 'Code-Review' && a.value === '2' && a.oldValue !== undefined && a.oldValue !== '2');

/** Code-Review +2 by the administrator on Gerrit (`review` adds to the review), and nothing delivered. */
export async function codeReview(admin: GerritRest, project: string, change: ChangeInfo, review: Record<string, unknown> = {}): Promise<void> {
  await admin.json('POST', `changes/${encodeId(id(project, change))}/revisions/current/review`, { body: { labels: { 'Code-Review': 2 }, notify: 'NONE', ...review } });
}

/** The comment-added of the change's Code-Review +2, as gerrit-webhook sent it to the Broker stand-in. */
export function approvalEvent(stack: PipelineStack, change: ChangeInfo): Promise<CloudEvent<unknown>> {
  return gerritEvent(stack, 'gerrit.comment-added', change, 1, approvesNow);
}

/** Code-Review +2 by the administrator, and its comment-added (as gerrit-webhook sent it) delivered to comment-added. */
export async function approve(stack: PipelineStack, admin: GerritRest, project: string, change: ChangeInfo, review: Record<string, unknown> = {}): Promise<CloudEvent<unknown>> {
  await codeReview(admin, project, change, review);
  const event = await approvalEvent(stack, change);
  ok(await deliver(stack.functions['comment-added'], event), 'comment-added');
  return event;
}

/** The change's gate runs, once there are `count`. */
export async function gateRuns(stack: PipelineStack, project: string, change: ChangeInfo, count: number, timeoutMs = 15_000): Promise<LiveWorkflow[]> {
  return eventually(async () => {
    const runs = await runsOf(stack, project, change._number, PIPELINE);
    if (runs.length !== count) throw new Error(`change ${change._number} has ${runs.length} gate runs, not ${count}`);
    return runs;
  }, timeoutMs);
}

/** The change's one gate run that is not among `earlier` (by name), once it exists. */
export async function newGateRun(stack: PipelineStack, project: string, change: ChangeInfo, earlier: readonly LiveWorkflow[]): Promise<LiveWorkflow> {
  const runs = await gateRuns(stack, project, change, earlier.length + 1);
  const names = new Set(earlier.map((run) => run.metadata.name));
  return runs.find((run) => !names.has(run.metadata.name))!;
}

/** Argo finishes the run; workflow-watch is told; its workflow.completed goes to workflow-completed. */
export async function complete(stack: PipelineStack, run: LiveWorkflow): Promise<LiveWorkflow> {
  const ref = refOfWorkflow(run);
  const workflow = await finished(stack.cluster, ref);
  ok(await deliver(stack.functions['workflow-watch'], workflowTouched(ref)), 'workflow-watch');
  ok(await deliver(stack.functions['workflow-completed'], await completedEvent(stack, ref)), 'workflow-completed');
  return workflow;
}

/**
 * Argo finishes the runs (waited for together); then each one's completion is delivered as `complete` does, one
 * after another in the order given, so that the queue hears of them in a known order.
 */
export async function completeInOrder(stack: PipelineStack, runs: readonly LiveWorkflow[]): Promise<LiveWorkflow[]> {
  await Promise.all(runs.map((run) => finished(stack.cluster, refOfWorkflow(run))));
  const done: LiveWorkflow[] = [];
  for (const run of runs) done.push(await complete(stack, run));
  return done;
}

/** One line of SEAKEEPER_CHANGES: a change a gate run tests, in merge order. */
export interface TestedChange {
  readonly project: string;
  readonly branch: string;
  readonly ref: string;
  readonly revision: string;
  readonly change: number;
}

/** SEAKEEPER_CHANGES as the run's ConfigMap holds it. */
export async function testedChanges(stack: PipelineStack, run: LiveWorkflow): Promise<TestedChange[]> {
  const map = await stack.cluster.get<ClusterObject & { data: Record<string, string> }>('v1', 'ConfigMap', run.metadata.namespace!, run.metadata.name);
  return map!.data.SEAKEEPER_CHANGES!.split('\n').map((line) => {
    const [project, branch, ref, revision] = line.split(' ') as [string, string, string, string];
    return { project, branch, ref, revision, change: Number(ref.split('/')[3]) };
  });
}

/** SEAKEEPER_CHANGES as the run's ConfigMap holds it, as change numbers. */
export async function tested(stack: PipelineStack, run: LiveWorkflow): Promise<number[]> {
  return (await testedChanges(stack, run)).map((c) => c.change);
}

/** The change, once Gerrit says it is merged. */
export async function merged(stack: PipelineStack, project: string, change: ChangeInfo): Promise<ChangeInfo> {
  return eventually(async () => {
    const info = await changeDetail(stack, project, change._number);
    if (info.status !== 'MERGED') throw new Error(`change ${change._number} is ${info.status}`);
    return info;
  }, 15_000);
}

/** The run as it is now, once the gate has stopped it (its stopped-because annotation). */
export async function stopped(stack: PipelineStack, run: LiveWorkflow): Promise<LiveWorkflow> {
  return eventually(async () => {
    const now = await readWorkflow(stack.cluster, refOfWorkflow(run));
    if (now?.metadata.annotations?.[STOPPED_BECAUSE_ANNOTATION] === undefined) throw new Error(`${run.metadata.name} is not stopped`);
    return now;
  }, 10_000);
}

/** Where the stack's functions keep the ChangeQueues (SEAKEEPER_NAMESPACE). */
export const queueNamespace = (stack: PipelineStack): string => stack.env['comment-added'].SEAKEEPER_NAMESPACE!;

/** The pipeline's ChangeQueue of `queue` (`<queue> <branch>`), as stored. */
export async function readQueue(stack: PipelineStack, queue: string): Promise<ChangeQueueObject | undefined> {
  return stack.cluster.get<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, queueNamespace(stack), queueObjectName(PIPELINE, queue));
}

/** Deletes the pipeline's ChangeQueues of `queues` (those that exist). */
export async function deleteQueues(stack: PipelineStack, queues: readonly string[]): Promise<void> {
  for (const queue of queues) await stack.cluster.delete(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, queueNamespace(stack), queueObjectName(PIPELINE, queue));
}
