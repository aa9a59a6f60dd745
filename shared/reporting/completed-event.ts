// The `workflow.completed` CloudEvent that workflow-watch emits once a Seakeeper Workflow has finished, and
// the decision to emit it. Pure.
//
// type        workflow.completed
// source      the cluster's URL (given by the caller)
// id          `workflow.completed-<40 hex of sha256([uid, phase])>`: every delivery about the same finish has
//             the same id, and a Workflow retried to another phase gets a new one
// subject     `<namespace>/<name>`
// time        status.finishedAt
// extensions  pipeline, gerritproject, gerritchange, gerritpatchset, gerritbranch (strings; Triggers filter on them)
// data        a reference {apiVersion, kind, namespace, name, uid, phase}: the consumer re-reads the Workflow
//             (Prow re-reads before reporting), so a stale copy can never be reported
//
// workflow-watch: shouldEmitCompleted → claim COMPLETED_EVENT_MARKER (CAS) → send → mark done.
import { createHash } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import { ARGO_API_VERSION, WORKFLOW_KIND } from '../names.js';
import { isCompletedPhase, runOf, type CompletedPhase, type LiveWorkflow } from '../runs/workflow.js';
import { reportingRefRun } from '../runs/ref-run.js';
import { COMPLETED_EVENT_MARKER, markerState } from './markers.js';

export const WORKFLOW_COMPLETED_TYPE = 'workflow.completed';
const ID_HEX_LENGTH = 40;

export interface WorkflowCompletedData {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly phase: CompletedPhase;
}

export interface WorkflowCompletedExtensions {
  pipeline: string;
  gerritproject: string;
  gerritchange: string;
  /** A change's run; not a ref run's. */
  gerritpatchset?: string;
  gerritbranch?: string;
}

/** The deterministic id of the event for a Workflow (by uid) finishing in a phase. */
export function completedEventId(uid: string, phase: string): string {
  return `${WORKFLOW_COMPLETED_TYPE}-${createHash('sha256').update(JSON.stringify([uid, phase]), 'utf8').digest('hex').slice(0, ID_HEX_LENGTH)}`;
}

export type EmitDecision = { readonly emit: true } | { readonly emit: false; readonly reason: 'not-seakeeper' | 'not-completed' | 'no-uid' | 'already-emitted' | 'in-progress' };

/** Whether workflow-watch should emit workflow.completed for this Workflow as read now. */
export function shouldEmitCompleted(workflow: LiveWorkflow, now: Date): EmitDecision {
  const run = runOf(workflow) ?? reportingRefRun(workflow);
  if (!run) return { emit: false, reason: 'not-seakeeper' };
  if (!isCompletedPhase(run.phase)) return { emit: false, reason: 'not-completed' };
  if (!run.uid) return { emit: false, reason: 'no-uid' };
  const state = markerState(workflow, COMPLETED_EVENT_MARKER, run.phase, now);
  if (state === 'done') return { emit: false, reason: 'already-emitted' };
  if (state === 'claimed') return { emit: false, reason: 'in-progress' };
  return { emit: true };
}

/** The event for a finished Seakeeper Workflow; undefined when it is not one, not finished, or has no uid. */
export function workflowCompletedEvent(workflow: LiveWorkflow, options: { source: string }): CloudEvent<WorkflowCompletedData> | undefined {
  const changeRun = runOf(workflow);
  // A postmerge run reports on the change that merged; other ref runs report nowhere, so no event is due.
  const refRun = changeRun ? undefined : reportingRefRun(workflow);
  const run = changeRun ?? refRun;
  if (!run || !isCompletedPhase(run.phase) || !run.uid) return undefined;
  const extensions: WorkflowCompletedExtensions = {
    pipeline: run.pipeline,
    gerritproject: run.project,
    gerritchange: String(changeRun?.change ?? refRun!.mergedChange),
    ...(changeRun ? { gerritpatchset: String(changeRun.patchset) } : {}),
    ...(changeRun?.branch !== undefined ? { gerritbranch: changeRun.branch } : {}),
  };
  const finishedAt = workflow.status?.finishedAt;
  const time = typeof finishedAt === 'string' && Number.isFinite(Date.parse(finishedAt)) ? new Date(finishedAt).toISOString() : undefined;
  return new CloudEvent<WorkflowCompletedData>({
    specversion: '1.0',
    id: completedEventId(run.uid, run.phase),
    type: WORKFLOW_COMPLETED_TYPE,
    source: options.source,
    subject: `${run.namespace}/${run.name}`,
    ...(time ? { time } : {}),
    datacontenttype: 'application/json',
    data: { apiVersion: ARGO_API_VERSION, kind: WORKFLOW_KIND, namespace: run.namespace, name: run.name, uid: run.uid, phase: run.phase },
    ...extensions,
  });
}

/** The Workflow an ApiServerSource (Reference mode) event or a workflow.completed event names, checked. */
export function workflowRefOf(data: unknown): { namespace: string; name: string } | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  const dns = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;
  if (d.kind !== WORKFLOW_KIND || d.apiVersion !== ARGO_API_VERSION) return undefined;
  if (typeof d.namespace !== 'string' || typeof d.name !== 'string' || !dns.test(d.namespace) || !dns.test(d.name)) return undefined;
  return { namespace: d.namespace, name: d.name };
}
