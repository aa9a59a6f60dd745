// What the status page shows, as one pure function of what was listed (docs/architecture.md, principle 1):
// every pipeline of config/pipelines.yaml, each gate queue's items in order with its window, the runs testing
// them, the check runs going, the runs of refs going (postmerge, post, publish, periodic), and a day's counts per
// pipeline. The shell (status-source.ts) lists the
// ChangeQueues of the system namespace and Seakeeper's Workflows, one list per kind, and hands them here.
//
// Only what runOf or refRunOf accepts is shown: a Workflow outside the namespace of the project it names, or with labels
// that are not Seakeeper's, is not a run (docs/architecture.md, "A run speaks only for its own project"). A
// queue item's run is looked up in its own project's namespace, by the name the queue's state gives it.
import type { Pipeline } from '../config/pipeline-config.js';
import { changeUrl } from '../gerrit/refs.js';
import { namespaceFor } from '../names.js';
import type { Departure, ItemDecision, Notice, QueueItem, QueueState, Refusal, RunState } from '../pipelines/change-queue.js';
import { runOutcomeOf } from '../pipelines/gate-plan.js';
import type { ChangeQueueObject } from '../pipelines/queue-store.js';
import { argoWorkflowUrl, fromSafeText, isCompletedPhase, runOf, type LiveWorkflow, type RunInfo } from '../runs/workflow.js';
import { refRunOf, type RefRunInfo } from '../runs/ref-run.js';
import { percentile } from '../statistics.js';
import { durationOf, runTimes, timeOf, type RunTimes } from './run-times.js';

/** The counts per pipeline cover the runs created in this last stretch of time. */
export const STATS_WINDOW_SECONDS = 24 * 60 * 60;

export interface StatusInput {
  readonly now: Date;
  readonly pipelines: readonly Pipeline[];
  readonly queues: readonly ChangeQueueObject[];
  readonly workflows: readonly LiveWorkflow[];
  /** Gerrit's web URL, for the links to changes. */
  readonly gerritUrl: string;
  readonly argoUiUrl: string;
}

export interface RunView extends RunTimes {
  readonly name: string;
  readonly namespace: string;
  /** The run on Argo's UI. */
  readonly url: string;
  /** Argo's phase; 'Pending' until its controller picked the run up. */
  readonly phase: string;
}

export interface CheckView {
  readonly pipeline: string;
  readonly project: string;
  readonly branch?: string;
  readonly change: number;
  readonly patchset: number;
  readonly subject?: string;
  readonly changeUrl: string;
  readonly run: RunView;
}

/** What an item is doing, in one word: its queue's decision, else how its run stands. */
export type ItemStatus = ItemDecision | 'testing' | 'passed' | 'waiting';

export interface QueueRunView extends Partial<RunView> {
  readonly name: string;
  readonly url: string;
  /** As the queue knows it (a finished run's result lands here once the queue heard of it). */
  readonly state: RunState;
  readonly attempt: number;
}

export interface ItemView {
  /** 1 for the head. */
  readonly position: number;
  readonly change: number;
  readonly patchset: number;
  readonly project: string;
  readonly branch: string;
  /** From the run's parameters; absent while the item has no run. */
  readonly subject?: string;
  readonly changeUrl: string;
  readonly enqueuedAt: string;
  readonly queuedSeconds: number;
  readonly inWindow: boolean;
  readonly status: ItemStatus;
  /** Its run failed at its place in the queue, or it needs a change that did: it will not merge from here. */
  readonly failing: boolean;
  readonly needs: readonly number[];
  readonly run?: QueueRunView;
  /** A change the public may not read (public-view.ts): change 0, nothing that names it. */
  readonly hidden?: true;
}

export interface NoticeView {
  readonly change: number;
  readonly patchset: number;
  readonly kind: Notice['kind'];
  readonly text: string;
}

export interface Residence {
  /** Items measured: those that left the queue in the last day (merged or removed), as Zuul's resident_time. */
  readonly items: number;
  readonly medianSeconds?: number;
  readonly p90Seconds?: number;
}

export interface QueueView {
  readonly queue: string;
  /** The ChangeQueue object's name (`kubectl get changequeue NAME`). */
  readonly object: string;
  readonly window: number;
  readonly depth: number;
  readonly items: readonly ItemView[];
  readonly residence: Residence;
  /** Reports and messages the queue decided and has not posted yet. */
  readonly notices: readonly NoticeView[];
  /** The items that left in the last day, oldest first: merged, or removed and why. */
  readonly departed: readonly Departure[];
  /** The approvals refused in the last day, oldest first, and why. */
  readonly refused: readonly Refusal[];
}

export interface PipelineStats {
  readonly running: number;
  /** Of the runs created in the last STATS_WINDOW_SECONDS: */
  readonly started: number;
  /** …ended because a step failed (a merge conflict included); */
  readonly failed: number;
  /** …ended by the infrastructure (runOutcomeOf's `error`); a gate queue runs these again in place. */
  readonly infrastructureErrors: number;
}

/** A run of a ref going (runs/ref-run.ts: postmerge, post, publish, periodic). */
export interface RefRunView {
  readonly pipeline: string;
  readonly project: string;
  /** The full ref name. */
  readonly ref: string;
  /** The commit it tests. */
  readonly revision: string;
  /** postmerge: the change that merged. */
  readonly change?: number;
  readonly changeUrl?: string;
  readonly run: RunView;
}

export interface PipelineView {
  readonly name: string;
  readonly manager: Pipeline['manager'];
  readonly description?: string;
  readonly queues: readonly QueueView[];
  readonly checks: readonly CheckView[];
  readonly refRuns: readonly RefRunView[];
  readonly stats: PipelineStats;
}

export interface StatusView {
  readonly generatedAt: string;
  readonly statsWindowSeconds: number;
  readonly pipelines: readonly PipelineView[];
}

interface Run {
  readonly info: RunInfo;
  readonly workflow: LiveWorkflow;
}

interface RefRun {
  readonly info: RefRunInfo;
  readonly workflow: LiveWorkflow;
}

/** What the views, the timings and the counts read of either kind of run. */
type AnyRun = { readonly info: Pick<RunInfo, 'namespace' | 'name' | 'phase' | 'pipeline' | 'project'>; readonly workflow: LiveWorkflow };

export function buildStatusView(input: StatusInput): StatusView {
  const now = input.now.getTime();
  const runs = input.workflows.flatMap((workflow): Run[] => {
    const info = runOf(workflow);
    return info ? [{ info, workflow }] : [];
  });
  const refRuns = input.workflows.flatMap((workflow): RefRun[] => {
    const info = refRunOf(workflow);
    return info ? [{ info, workflow }] : [];
  });
  const byName = new Map(runs.map((run) => [`${run.info.namespace}/${run.info.name}`, run]));
  const context: Context = { input, now, history: typicalDurations([...runs, ...refRuns]) };
  const pipelines = input.pipelines.map((pipeline): PipelineView => {
    const own = runs.filter((run) => run.info.pipeline === pipeline.name);
    const ownRefs = refRuns.filter((run) => run.info.pipeline === pipeline.name);
    const queues = input.queues
      .filter((object) => object.spec?.pipeline === pipeline.name)
      .map((object) => queueView(object, byName, context))
      .sort((a, b) => a.queue.localeCompare(b.queue));
    const checks = pipeline.manager === 'independent' ? own.filter(isGoing).map((run) => checkView(run, context)).sort(byChange) : [];
    return {
      name: pipeline.name,
      manager: pipeline.manager,
      ...(pipeline.description ? { description: pipeline.description } : {}),
      queues,
      checks,
      refRuns: ownRefs.filter(isGoing).map((run) => refRunView(run, context)).sort(byRef),
      stats: statsOf([...own, ...ownRefs], now),
    };
  });
  return { generatedAt: input.now.toISOString(), statsWindowSeconds: STATS_WINDOW_SECONDS, pipelines };
}

/** Going: not finished, and nobody stopped it (a superseded or stopped run is never reported). */
const isGoing = (run: AnyRun): boolean => !isCompletedPhase(run.info.phase) && (typeof run.workflow.spec?.shutdown !== 'string' || run.workflow.spec.shutdown === '');

const byRef = (a: RefRunView, b: RefRunView): number => a.project.localeCompare(b.project) || a.ref.localeCompare(b.ref) || a.run.name.localeCompare(b.run.name);

const byChange = (a: CheckView, b: CheckView): number => a.change - b.change || a.patchset - b.patchset || a.run.name.localeCompare(b.run.name);

interface Context {
  readonly input: StatusInput;
  readonly now: number;
  /** Median seconds of the succeeded runs still listed, by historyKey. */
  readonly history: ReadonlyMap<string, number>;
}

const historyKey = (info: Pick<RunInfo, 'pipeline' | 'project'>): string => JSON.stringify([info.pipeline, info.project]);

/** The median duration of each project's succeeded runs per pipeline: what a run of it should take. */
function typicalDurations(runs: readonly AnyRun[]): Map<string, number> {
  const samples = new Map<string, number[]>();
  for (const run of runs) {
    if (run.info.phase !== 'Succeeded') continue;
    const seconds = durationOf(run.workflow);
    if (seconds === undefined) continue;
    const key = historyKey(run.info);
    samples.set(key, [...(samples.get(key) ?? []), seconds]);
  }
  return new Map([...samples].map(([key, values]) => [key, percentile(values, 50)!]));
}

function queueView(object: ChangeQueueObject, byName: ReadonlyMap<string, Run>, context: Context): QueueView {
  const { now } = context;
  const state: Partial<QueueState> = object.status ?? {};
  const items = Array.isArray(state.items) ? state.items : [];
  const window = typeof state.window === 'number' ? state.window : 0;
  const views = items.map((item, index) => itemView(item, index, window, byName, context));
  const since = now - STATS_WINDOW_SECONDS * 1000;
  const departed = (Array.isArray(state.departed) ? state.departed : []).filter((d) => (timeOf(d.leftAt) ?? 0) >= since);
  const refused = (Array.isArray(state.refused) ? state.refused : []).filter((r) => (timeOf(r.at) ?? 0) >= since);
  const resident = departed.flatMap((d) => {
    const [from, to] = [timeOf(d.enqueuedAt), timeOf(d.leftAt)];
    return from !== undefined && to !== undefined && to >= from ? [Math.floor((to - from) / 1000)] : [];
  });
  const median = percentile(resident, 50);
  const p90 = percentile(resident, 90);
  return {
    queue: object.spec?.queue ?? object.metadata.name,
    object: object.metadata.name,
    window,
    depth: items.length,
    items: views,
    residence: { items: resident.length, ...(median !== undefined ? { medianSeconds: median } : {}), ...(p90 !== undefined ? { p90Seconds: p90 } : {}) },
    notices: (Array.isArray(state.owed) ? state.owed : []).map((notice) => ({ change: notice.item.change, patchset: notice.item.patchset, kind: notice.kind, text: notice.text })),
    departed,
    refused,
  };
}

function itemView(item: QueueItem, index: number, window: number, byName: ReadonlyMap<string, Run>, context: Context): ItemView {
  const { input, now } = context;
  const namespace = namespaceFor(item.project);
  const found = item.run ? byName.get(`${namespace}/${item.run.name}`) : undefined;
  // The name is the queue's, the namespace the item's project's; the labels must say the same change too.
  const live = found && found.info.change === item.change ? found : undefined;
  const subject = live ? subjectOf(live.workflow) : undefined;
  const run: QueueRunView | undefined = item.run
    ? {
        name: item.run.name,
        url: argoWorkflowUrl(input.argoUiUrl, namespace, item.run.name),
        state: item.run.state,
        attempt: item.run.attempt,
        ...(live ? runView(live, context) : {}),
      }
    : undefined;
  const failing = item.decided === 'failing' || item.decided === 'needs-failing';
  return {
    position: index + 1,
    change: item.change,
    patchset: item.patchset,
    project: item.project,
    branch: item.branch,
    ...(subject !== undefined ? { subject } : {}),
    changeUrl: changeUrl(input.gerritUrl, item.project, item.change),
    enqueuedAt: item.enqueuedAt,
    queuedSeconds: Math.max(0, Math.floor((now - (timeOf(item.enqueuedAt) ?? now)) / 1000)),
    inWindow: index < window,
    status: item.decided ?? (item.run?.state === 'running' ? 'testing' : item.run?.state === 'succeeded' ? 'passed' : 'waiting'),
    failing,
    needs: item.needs,
    ...(run ? { run } : {}),
  };
}

function runView(run: AnyRun, context: Context): RunView {
  const { input, now } = context;
  return {
    name: run.info.name,
    namespace: run.info.namespace,
    url: argoWorkflowUrl(input.argoUiUrl, run.info.namespace, run.info.name),
    phase: run.info.phase || 'Pending',
    ...runTimes(run.workflow, now, context.history.get(historyKey(run.info))),
  };
}

function checkView(run: Run, context: Context): CheckView {
  const { input } = context;
  const subject = subjectOf(run.workflow);
  return {
    pipeline: run.info.pipeline,
    project: run.info.project,
    ...(run.info.branch !== undefined ? { branch: run.info.branch } : {}),
    change: run.info.change,
    patchset: run.info.patchset,
    ...(subject !== undefined ? { subject } : {}),
    changeUrl: changeUrl(input.gerritUrl, run.info.project, run.info.change),
    run: runView(run, context),
  };
}

function refRunView(run: RefRun, context: Context): RefRunView {
  const { info } = run;
  const change = info.mergedChange;
  return {
    pipeline: info.pipeline,
    project: info.project,
    ref: info.ref,
    revision: info.revision,
    ...(change !== undefined ? { change, changeUrl: changeUrl(context.input.gerritUrl, info.project, change) } : {}),
    run: runView(run, context),
  };
}

/** The change's subject, from the run's `subject` parameter (its safe form, decoded). */
function subjectOf(workflow: LiveWorkflow): string | undefined {
  const parameters = (workflow.spec?.arguments as { parameters?: unknown } | undefined)?.parameters;
  if (!Array.isArray(parameters)) return undefined;
  const value = parameters.find((p: { name?: unknown }) => p?.name === 'subject')?.value;
  return typeof value === 'string' ? fromSafeText(value) : undefined;
}

function statsOf(runs: readonly AnyRun[], now: number): PipelineStats {
  const since = now - STATS_WINDOW_SECONDS * 1000;
  let started = 0;
  let failed = 0;
  let infrastructureErrors = 0;
  for (const run of runs) {
    const created = timeOf(run.workflow.metadata.creationTimestamp);
    if (created === undefined || created < since) continue;
    started += 1;
    const outcome = runOutcomeOf(run.workflow)?.result;
    if (outcome === 'failed' || outcome === 'conflict') failed += 1;
    else if (outcome === 'error') infrastructureErrors += 1;
  }
  return { running: runs.filter(isGoing).length, started, failed, infrastructureErrors };
}
