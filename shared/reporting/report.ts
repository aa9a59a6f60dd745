// The report of a finished run, Prow-style: a pure `shouldReport` decides, `buildReport` writes the review,
// and the shell (workflow-completed) acts — claim the marker, post, mark done.
//
// shouldReport(workflow, change, now), in order:
//   not a Seakeeper run                                   → no (not-seakeeper)
//   phase not Succeeded / Failed / Error                   → no (not-completed)
//   `seakeeper.dev/reported: <phase>` already on it        → no (already-reported)
//   stopped for a newer run (superseded-by)                → no, never (superseded)
//   stopped otherwise (spec.shutdown by a human)           → no (stopped; Prow does not report aborted jobs)
//   another delivery holds a fresh report claim            → no (in-progress)
//   the change is gone (Gerrit says 404)                   → no (change-gone: nothing to retry)
//   otherwise yes, with the vote decided:
//     a newer patchset exists        → no vote, a note says so (the result is still shown on its revision)
//     the change is abandoned        → no vote
//     the change is merged           → no vote below zero
//     else                           → the pipeline's success or failure labels
//
// buildReport: the pipeline's success/failure message, the run's link in the Argo UI with overall result and
// duration, Argo's message when it failed, then one line per step (the leaves of status.nodes: Pod,
// Suspend, HTTP, Plugin and Skipped nodes, a retried step once as its Retry node) with phase and duration,
// and its artifacts. Kept under MAX_REPORT_BYTES: successes lose their artifact links, then are folded into a
// count; then failures lose theirs, then the last failures are folded. Failures are the last to go.
import type { ChangeInfo, ChangeStatus, NotifyHandling, ReviewInput } from '../gerrit/types.js';
import type { Pipeline, ReportAction } from '../config/pipeline-config.js';
import { argoWorkflowUrl, changeIdOf, isCompletedPhase, runOf, type LiveWorkflow, type RunInfo, type TestedDependency, type WorkflowNode } from '../runs/workflow.js';
import { reportingRefRun } from '../runs/ref-run.js';
import type { ClaimDecision } from './claims.js';
import { liveClaim, markerState, REPORT_MARKER, START_MARKER } from './markers.js';
import {
  ARTIFACT_LINE_FORMAT,
  byteLength,
  cut,
  durationMs,
  fill,
  formatDuration,
  MAX_REPORT_BYTES,
  NO_VOTE_CLOSED_FORMAT,
  NO_VOTE_MERGED_FORMAT,
  NO_VOTE_SUPERSEDED_FORMAT,
  OMITTED_FAILURES_FORMAT,
  OMITTED_STEPS_FORMAT,
  oneLineText,
  renderTemplate,
  resultName,
  RUN_LINE_FORMAT,
  RUN_DEPENDENCIES_FORMAT,
  RUN_MESSAGE_FORMAT,
  STEP_LINE_FORMAT,
  STEP_MESSAGE_FORMAT,
  type ReviewPlan,
} from './messages.js';

/** What shouldReport needs to know about the change (from getChange with CURRENT_REVISION). */
export interface ChangeState {
  readonly status: ChangeStatus;
  /** The number of the change's current patchset. */
  readonly currentPatchset: number | undefined;
}

export function changeStateOf(info: ChangeInfo): ChangeState {
  const current = info.current_revision === undefined ? undefined : info.revisions?.[info.current_revision]?._number;
  return { status: info.status, currentPatchset: current };
}

export type SkipReason = 'not-seakeeper' | 'not-completed' | 'already-reported' | 'superseded' | 'stopped' | 'in-progress' | 'change-gone';

/** all: the pipeline's labels; non-negative: those ≥ 0 (a merged change); none: message only. */
export type Votes = 'all' | 'non-negative' | 'none';

export type ReportDecision =
  | { readonly report: false; readonly reason: SkipReason; readonly detail: string }
  | { readonly report: true; readonly run: RunInfo; readonly votes: Votes; readonly note?: string | undefined };

/**
 * The checks that need only the Workflow: the reconcile pass lists completed Workflows, keeps those this
 * answers `report: true` for, and sends each through the same path as workflow-completed.
 */
export function reportPending(workflow: LiveWorkflow, now: Date): ReportDecision {
  const run = reportedRun(workflow);
  if (!run) return { report: false, reason: 'not-seakeeper', detail: `${workflow.metadata.name} is not a Seakeeper run` };
  if (!isCompletedPhase(run.phase)) return { report: false, reason: 'not-completed', detail: `phase ${JSON.stringify(run.phase)}` };
  if (run.supersededBy !== undefined) return { report: false, reason: 'superseded', detail: `superseded by ${run.supersededBy}` };
  if (run.staleBecause !== undefined) return { report: false, reason: 'superseded', detail: run.staleBecause };
  if (run.shutdown !== undefined) return { report: false, reason: 'stopped', detail: `stopped (spec.shutdown ${run.shutdown})` };
  const marker = markerState(workflow, REPORT_MARKER, run.phase, now);
  if (marker === 'done') return { report: false, reason: 'already-reported', detail: `${run.phase} already reported` };
  if (marker === 'claimed') return { report: false, reason: 'in-progress', detail: 'another delivery is reporting it' };
  return { report: true, run, votes: 'all' };
}

/**
 * The run a report is about: a change's run, or a postmerge run (runs/ref-run.ts) as the run of the patch set
 * that merged, which it reports on without a vote.
 */
export function reportedRun(workflow: LiveWorkflow): RunInfo | undefined {
  const run = runOf(workflow);
  if (run) return run;
  const merged = reportingRefRun(workflow);
  if (!merged) return undefined;
  const shutdown = workflow.spec?.shutdown;
  return {
    namespace: merged.namespace,
    name: merged.name,
    uid: merged.uid,
    project: merged.project,
    pipeline: merged.pipeline,
    change: merged.mergedChange,
    patchset: merged.mergedPatchset,
    // Gerrit takes a review on a patch set; the commit tested (the merge's) may be none of the change's.
    revision: String(merged.mergedPatchset),
    branch: undefined,
    changeUrl: merged.changeUrl,
    eventId: merged.eventId,
    phase: merged.phase,
    shutdown: typeof shutdown === 'string' && shutdown !== '' ? shutdown : undefined,
    supersededBy: undefined,
    ref: merged.ref,
  };
}

/** The marker phase of a start message: a run has one. */
export const START_PHASE = 'start';

/**
 * Whether a run's start message may be claimed now: not when it was posted or is being posted, and not once the
 * run is superseded, stopped or being reported (the start message resets the vote a report casts).
 */
export function startDecision(workflow: LiveWorkflow, now: Date): ClaimDecision<undefined> {
  const run = runOf(workflow);
  if (!run) return { act: false, reason: 'not-seakeeper' };
  if (run.supersededBy !== undefined) return { act: false, reason: 'superseded' };
  if (run.shutdown !== undefined) return { act: false, reason: 'stopped' };
  if (workflow.metadata.annotations?.[REPORT_MARKER.done] !== undefined || liveClaim(workflow, REPORT_MARKER, now) !== undefined) {
    return { act: false, reason: 'reported' };
  }
  const marker = markerState(workflow, START_MARKER, START_PHASE, now);
  if (marker !== 'free') return { act: false, reason: marker === 'done' ? 'already-posted' : 'in-progress' };
  return { act: true, phase: START_PHASE, value: undefined };
}

/**
 * The dependencies a run was tested with that have a newer patch set now, one sentence each; `current` is
 * Gerrit's answer for them (read with CURRENT_REVISION). A merged or abandoned one has not moved on, and one
 * Gerrit no longer answers for is not judged.
 */
export function movedDependencies(tested: readonly TestedDependency[], current: readonly ChangeInfo[]): string[] {
  return tested.flatMap((dependency) => {
    const info = current.find((c) => c._number === dependency.change);
    const patchset = info?.current_revision === undefined ? undefined : info.revisions?.[info.current_revision]?._number;
    return patchset !== undefined && patchset > dependency.patchset
      ? [`it was tested with change ${dependency.change} patch set ${dependency.patchset}, which has patch set ${patchset} now`]
      : [];
  });
}

/** Whether and how to report a Workflow. `change` is undefined when Gerrit no longer has the change. */
export function shouldReport(workflow: LiveWorkflow, change: ChangeState | undefined, now: Date): ReportDecision {
  const pending = reportPending(workflow, now);
  if (!pending.report) return pending;
  const { run } = pending;
  if (!change) return { report: false, reason: 'change-gone', detail: `change ${run.change} no longer exists` };
  if (run.ref !== undefined) return { report: true, run, votes: 'none' };
  if (change.currentPatchset !== undefined && change.currentPatchset > run.patchset) {
    return { report: true, run, votes: 'none', note: fill(NO_VOTE_SUPERSEDED_FORMAT, { newer: change.currentPatchset, patchset: run.patchset }) };
  }
  if (change.status === 'ABANDONED') return { report: true, run, votes: 'none', note: fill(NO_VOTE_CLOSED_FORMAT, { status: 'abandoned' }) };
  if (change.status === 'MERGED') return { report: true, run, votes: 'non-negative', note: NO_VOTE_MERGED_FORMAT };
  return { report: true, run, votes: 'all' };
}

// ---- steps ----

export interface StepArtifact {
  readonly name: string;
  readonly url: string;
}

export interface StepResult {
  readonly id: string;
  readonly name: string;
  readonly phase: string;
  readonly durationMs: number | undefined;
  readonly message: string | undefined;
  readonly failed: boolean;
  /** For a retried step, how many times it ran. */
  readonly attempts: number | undefined;
  readonly artifacts: readonly StepArtifact[];
}

export interface ReportOptions {
  /** ARGO_UI_URL. */
  readonly argoUiUrl: string;
  /**
   * Where artifacts can be read by their S3 key (`<base>/<key>`), e.g. a web front to the artifact bucket.
   * Without it, artifacts link to the Argo UI's artifact-files endpoint.
   */
  readonly artifactBaseUrl?: string | undefined;
}

/** Argo node types that are a step of their own (a Container node belongs to its containerSet Pod). */
const LEAF_TYPES = new Set(['Pod', 'Suspend', 'HTTP', 'Plugin', 'Skipped']);
const FAILED_PHASES = new Set(['Failed', 'Error']);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function encodePath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function artifactsOf(node: WorkflowNode, nodeId: string, workflow: LiveWorkflow, options: ReportOptions): StepArtifact[] {
  const artifacts = Array.isArray(node.outputs?.artifacts) ? node.outputs.artifacts : [];
  const ns = workflow.metadata.namespace ?? '';
  const out: StepArtifact[] = [];
  for (const artifact of artifacts) {
    if (!isObj(artifact)) continue;
    const name = text(artifact.name);
    if (!name) continue;
    const key = isObj(artifact.s3) ? text(artifact.s3.key) : undefined;
    const base = options.artifactBaseUrl?.replace(/\/+$/, '');
    const url =
      base && key
        ? `${base}/${encodePath(key)}`
        : `${options.argoUiUrl.replace(/\/+$/, '')}/artifact-files/${encodeURIComponent(ns)}/workflows/${encodeURIComponent(workflow.metadata.name)}/${encodeURIComponent(nodeId)}/outputs/${encodeURIComponent(name)}`;
    out.push({ name: oneLineText(name, 100), url });
  }
  return out;
}

/** The run's steps in the order they started (then by name), each once. */
export function stepsOf(workflow: LiveWorkflow, options: ReportOptions): StepResult[] {
  const nodes = isObj(workflow.status?.nodes) ? (workflow.status.nodes as Record<string, WorkflowNode>) : {};
  const parent = new Map<string, string>();
  for (const [id, node] of Object.entries(nodes)) {
    if (!isObj(node) || !Array.isArray(node.children)) continue;
    for (const child of node.children) if (typeof child === 'string') parent.set(child, id);
  }
  const chosen = new Map<string, { id: string; node: WorkflowNode; outputsFrom: { id: string; node: WorkflowNode }; attempts?: number }>();
  for (const [id, node] of Object.entries(nodes)) {
    if (!isObj(node) || !LEAF_TYPES.has(String(node.type))) continue;
    const parentId = parent.get(id);
    const parentNode = parentId === undefined ? undefined : nodes[parentId];
    if (parentId !== undefined && isObj(parentNode) && parentNode.type === 'Retry') {
      // A retried step is reported once, as its Retry node, with the outputs of its last attempt.
      const attempts = Array.isArray(parentNode.children) ? parentNode.children.filter((c) => typeof c === 'string') : [];
      const lastId = attempts[attempts.length - 1] ?? id;
      const last = isObj(nodes[lastId]) ? nodes[lastId]! : node;
      const outputsFrom = parentNode.outputs?.artifacts ? { id: lastId, node: { ...last, outputs: parentNode.outputs } } : { id: lastId, node: last };
      chosen.set(parentId, { id: parentId, node: parentNode, outputsFrom, attempts: attempts.length });
    } else {
      chosen.set(id, { id, node, outputsFrom: { id, node } });
    }
  }
  const steps = [...chosen.values()].map(({ id, node, outputsFrom, attempts }) => {
    const phase = text(node.phase) ?? 'Unknown';
    const failed = FAILED_PHASES.has(phase);
    return {
      step: {
        id,
        name: oneLineText(text(node.displayName) ?? text(node.name) ?? id),
        phase,
        durationMs: durationMs(node.startedAt, node.finishedAt),
        // A retried step: its last attempt says why better than the Retry node's "No more retries left".
        message: failed ? messageOf(outputsFrom.node.message, node.message) : undefined,
        failed,
        attempts,
        artifacts: artifactsOf(outputsFrom.node, outputsFrom.id, workflow, options),
      } satisfies StepResult,
      startedAt: text(node.startedAt) ?? '\uffff',
    };
  });
  steps.sort((a, b) => cmp(a.startedAt, b.startedAt) || cmp(a.step.name, b.step.name) || cmp(a.step.id, b.step.id));
  return steps.map((s) => s.step);
}

function messageOf(...candidates: unknown[]): string | undefined {
  const found = candidates.map(text).find((m) => m !== undefined);
  return found === undefined ? undefined : oneLineText(found);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function stepLines(step: StepResult, withArtifacts: boolean): string[] {
  const attempts = step.attempts !== undefined && step.attempts > 1 ? ` (${step.attempts} attempts)` : '';
  let line = fill(STEP_LINE_FORMAT, { name: step.name, result: resultName(step.phase), duration: formatDuration(step.durationMs) }) + attempts;
  if (step.message) line += fill(STEP_MESSAGE_FORMAT, { message: step.message });
  const lines = [line];
  if (withArtifacts) for (const a of step.artifacts) lines.push(fill(ARTIFACT_LINE_FORMAT, { name: a.name, url: a.url }));
  return lines;
}

/** The steps section, as detailed as fits in `budget` bytes. */
function stepsSection(steps: readonly StepResult[], budget: number): string {
  const failures = steps.filter((s) => s.failed);
  const others = steps.filter((s) => !s.failed);
  const render = (parts: string[][]) => parts.flat().join('\n');
  const fits = (t: string) => byteLength(t) <= budget;

  // In order, keeping failures the longest: successes lose their artifact links, then are counted.
  const attempts: Array<() => string> = [
    () => render(steps.map((s) => stepLines(s, true))),
    () => render(steps.map((s) => stepLines(s, s.failed))),
    () => render([...failures.map((s) => stepLines(s, true)), ...(others.length > 0 ? [[fill(OMITTED_STEPS_FORMAT, { count: others.length })]] : [])]),
    () => render([...failures.map((s) => stepLines(s, false)), ...(others.length > 0 ? [[fill(OMITTED_STEPS_FORMAT, { count: others.length })]] : [])]),
  ];
  for (const attempt of attempts) {
    const t = attempt();
    if (fits(t)) return t;
  }
  // Still too long: as many failures as fit, then a count of the rest.
  const tail = (rest: number) =>
    [rest > 0 ? fill(OMITTED_FAILURES_FORMAT, { count: rest }) : '', others.length > 0 ? fill(OMITTED_STEPS_FORMAT, { count: others.length }) : '']
      .filter((l) => l !== '')
      .join('\n');
  const lines: string[] = [];
  let shown = 0;
  for (const step of failures) {
    const candidate = [...lines, ...stepLines(step, false)];
    if (!fits(`${candidate.join('\n')}\n${tail(failures.length - shown - 1)}`)) break;
    lines.push(...stepLines(step, false));
    shown++;
  }
  return [...lines, tail(failures.length - shown)].filter((l) => l !== '').join('\n');
}

function labelsFor(action: ReportAction, votes: Votes): Record<string, number> | undefined {
  if (votes === 'none') return undefined;
  const entries = Object.entries(action.labels).filter(([, v]) => votes === 'all' || v >= 0);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

export interface BuildReportOptions extends ReportOptions {
  /** From shouldReport: which votes to cast, and a note explaining a withheld vote. */
  readonly votes?: Votes;
  readonly note?: string | undefined;
}

/** The review for a finished run: message, votes, tag, notify, and where to post it. Pure. */
export function buildReport(workflow: LiveWorkflow, pipeline: Pipeline, options: BuildReportOptions): ReviewPlan {
  const run = reportedRun(workflow);
  if (!run) throw new Error(`buildReport: ${workflow.metadata.name} is not a Seakeeper run`);
  const succeeded = run.phase === 'Succeeded';
  const action: ReportAction = succeeded ? pipeline.success : pipeline.failure;
  const votes = options.votes ?? 'all';
  const url = argoWorkflowUrl(options.argoUiUrl, run.namespace, run.name);
  const duration = formatDuration(durationMs(workflow.status?.startedAt, workflow.status?.finishedAt));
  const result = resultName(run.phase);

  const head = [renderTemplate(action.message, { pipeline: pipeline.name, change: run.change, patchset: run.patchset, url, duration, result })];
  if (options.note) head.push(options.note);
  const runLines = [fill(RUN_LINE_FORMAT, { url, result, duration })];
  if (run.dependencies) runLines.push(fill(RUN_DEPENDENCIES_FORMAT, { dependencies: oneLineText(run.dependencies, 1000) }));
  const argoMessage = text(workflow.status?.message);
  if (!succeeded && argoMessage) runLines.push(fill(RUN_MESSAGE_FORMAT, { message: oneLineText(argoMessage, 1000) }));
  const top = `${head.join('\n\n')}\n\n${runLines.join('\n')}`;

  const steps = stepsOf(workflow, options);
  const budget = MAX_REPORT_BYTES - byteLength(top) - 2;
  const message = cut(steps.length > 0 ? `${top}\n\n${stepsSection(steps, budget)}` : top);

  const labels = labelsFor(action, votes);
  const notify: NotifyHandling = votes === 'none' && options.note ? 'NONE' : action.notify;
  const review: ReviewInput = { message, ...(labels ? { labels } : {}), tag: pipeline.tag, notify };
  return {
    changeId: changeIdOf(run),
    revision: run.revision,
    review,
    submit: succeeded && pipeline.success.submit && votes === 'all',
  };
}
