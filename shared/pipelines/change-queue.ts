// One gate queue (Zuul's dependent pipeline manager, zuul/manager/dependent.py), as a pure core: the queue's
// state and an event in, the next state and the actions that make the world match it out
// (docs/architecture.md, principle 1). The state lives in the `status` of a ChangeQueue custom resource
// (config/crds/changequeues.yaml), so it is plain JSON: no undefined values, no classes, no Dates.
//
// A run of an item tests the branch tip with every item ahead of it that is not failing merged in queue order,
// then the item itself: its speculative state. A run stays valid while that still describes what will merge:
// items ahead that merged since it started count as landed (`run.merged`, the first n of `includes`), every
// other change to the items ahead makes the run stale, and a stale run is stopped and started again.
//
// decide = transition (what the event changes) + settle (re-derive runs, decisions, failing heads) + the runs
// to stop + actionsOf(next). Everything the shell must still carry out is derivable from a state alone
// (actionsOf), so a crash between storing the state and acting is repaired by any later decide, a `tick`
// included: creating a run that exists, submitting a merged change and posting a notice the vote path marked
// done are no-ops in the shell. Reports and messages are kept (`owed`) until the shell says it posted them.
import { workflowName } from './workflow-builder.js';

/** The custom resource whose status holds a queue's state (config/crds/changequeues.yaml). */
export const CHANGE_QUEUE_API_VERSION = 'seakeeper.dev/v1alpha1';
export const CHANGE_QUEUE_KIND = 'ChangeQueue';

export const DEFAULT_MAX_ATTEMPTS = 3;
/** Enqueue events remembered, so that a redelivered approval does not enqueue a change again once it left. */
export const OBSERVED_ENQUEUES = 100;
/** Argo's message on a run, quoted in a report; it is Argo's text, kept short. */
const MAX_QUOTED_CHARS = 200;

export interface QueueConfig {
  /** The queue's name: part of every run name's hash, so two queues never share a run. */
  readonly queue: string;
  readonly pipeline: string;
  readonly window: number;
  readonly windowFloor: number;
  /**
   * The window never grows beyond this. It bounds the runs going at once, and with them the state: each run
   * lists the items ahead of it, so without a ceiling a long queue's state grows with the square of its depth.
   */
  readonly windowCeiling: number;
  /** Attempts in all at one speculative state when runs end in infrastructure errors (default 3). */
  readonly maxAttempts?: number;
}

/** A patch set as a run receives it. */
export interface QueuedChange {
  readonly project: string;
  readonly branch: string;
  readonly change: number;
  readonly patchset: number;
  /** refs/changes/… */
  readonly ref: string;
  /** 40 hex */
  readonly revision: string;
}

export interface EnqueueItem extends QueuedChange {
  /** ISO time of the approval that enqueued it; tells one stay in the queue from another of the same patch set. */
  readonly enqueuedAt: string;
  /** Change numbers that must merge first: its open git parent, Depends-On. */
  readonly needs: readonly number[];
}

/** `conflict`: the change did not merge onto the state to test (the checkout's merge conflict); no test ran. */
export type RunState = 'running' | 'succeeded' | 'failed' | 'error' | 'conflict';

/** How a run ended, as the shell read it from Argo. */
export type RunResult = Exclude<RunState, 'running'>;

export interface QueueRun {
  readonly name: string;
  /** Item keys (`change,patchset`) the run tests merged in this order: the items ahead, then the item itself. */
  readonly includes: readonly string[];
  /** How many of `includes`, from the first, have merged since the run started. */
  readonly merged: number;
  readonly attempt: number;
  readonly state: RunState;
  readonly message?: string;
}

/** What has been decided about an item; none while it is being tested or waits its turn. */
export type ItemDecision =
  /** Its run failed at its speculative state: reported once it is the head. */
  | 'failing'
  /** It needs a change that is failing: removed with it, tested again should that failure be revoked. */
  | 'needs-failing'
  /** The head, its run succeeded: submit it. */
  | 'submitting';

export interface QueueItem extends EnqueueItem {
  /** Runs started for this stay in the queue; part of each run's name, so no name is ever used twice. */
  readonly starts: number;
  readonly run?: QueueRun;
  readonly decided?: ItemDecision;
}

/** merge-conflict: it did not merge onto the changes ahead (a run's checkout); merge-failed: Gerrit refused to submit it. */
export type ReportKind = 'failed' | 'infrastructure' | 'merge-conflict' | 'merge-failed' | 'dependency-failed' | 'approval-removed';

/** A report or message decided and not yet posted. */
export interface Notice {
  /** Deterministic; the shell claims the post on it and answers with `posted`. */
  readonly id: string;
  readonly kind: ReportKind | 'message';
  readonly item: QueuedChange;
  readonly text: string;
  /** Verified −1 with it; absent: no vote. */
  readonly vote?: -1;
}

/** An item that left the queue: merged, or removed and why. For the status page's resident time and "why". */
export interface Departure {
  readonly change: number;
  readonly patchset: number;
  readonly project: string;
  readonly enqueuedAt: string;
  readonly leftAt: string;
  readonly merged: boolean;
  /** Why it left, as its author was told (or the event's reason); absent when it merged. */
  readonly why?: string;
}

/** An approval that did not enqueue its change, and why, as its author was told. For the status page. */
export interface Refusal {
  readonly change: number;
  readonly patchset: number;
  readonly project: string;
  readonly at: string;
  readonly why: string;
}

/** Departures and refusals are kept for a day, and at most this many of each: the state stays small. */
export const HISTORY_KEPT = 200;
export const HISTORY_MS = 24 * 60 * 60 * 1000;
const MAX_WHY_CHARS = 300;

export interface QueueState {
  /** How many items from the head get runs. */
  readonly window: number;
  /** items.length, for `kubectl get`. */
  readonly depth: number;
  /** The head's key, for `kubectl get`. */
  readonly head?: string;
  /** In queue order (enqueue order). */
  readonly items: readonly QueueItem[];
  readonly owed: readonly Notice[];
  /** Ids of the last OBSERVED_ENQUEUES enqueue events. */
  readonly observed: readonly string[];
  /** Items that left in the last day (HISTORY_KEPT at most), oldest first; recorded when decide is given a time. */
  readonly departed?: readonly Departure[];
  /** Approvals refused in the last day (HISTORY_KEPT at most), oldest first. */
  readonly refused?: readonly Refusal[];
}

export type DequeueReason = 'new-patchset' | 'abandoned' | 'approval-removed' | 'merged-elsewhere';

export type QueueEvent =
  /** Approved and submittable, as the shell found them; several: a stack, parents first. */
  | { readonly type: 'enqueue'; readonly eventId: string; readonly items: readonly EnqueueItem[] }
  /**
   * `error`: the infrastructure failed (Argo's Error phase, a pod evicted, preempted, its node lost);
   * `conflict`: the run's checkout found the change does not merge onto the changes ahead of it.
   */
  | { readonly type: 'run-finished'; readonly name: string; readonly result: RunResult; readonly message?: string }
  /**
   * `patchset` is the patch set the event is about: new-patchset, the new one (an item at it or newer stays);
   * approval-removed, the one that lost it; merged-elsewhere, the one that merged. Absent: whatever is queued
   * (for merged-elsewhere: not known to be the queued one).
   */
  | { readonly type: 'dequeue'; readonly change: number; readonly patchset?: number; readonly reason: DequeueReason }
  | { readonly type: 'submitted'; readonly change: number; readonly result: 'merged' | 'refused'; readonly message: string }
  /** The shell posted the notice `id`. */
  | { readonly type: 'posted'; readonly id: string }
  /** An approval the shell found may not enqueue its change (gate-eligibility.ts, Depends-On): kept as a Refusal. */
  | { readonly type: 'refused'; readonly item: Omit<Refusal, 'at'> }
  | { readonly type: 'tick' };

export type QueueAction =
  /** Create the run (AlreadyExists is done). `includes`: the items not yet merged, in order, the item last. */
  | { readonly type: 'start-run'; readonly name: string; readonly item: QueuedChange; readonly includes: readonly QueuedChange[]; readonly attempt: number }
  | { readonly type: 'stop-run'; readonly name: string; readonly reason: string }
  /** Vote Verified +2 and submit through Gerrit, then answer with `submitted`. */
  | { readonly type: 'submit'; readonly item: QueuedChange; readonly run: string }
  | { readonly type: 'report'; readonly id: string; readonly item: QueuedChange; readonly kind: ReportKind; readonly message: string; readonly vote?: -1 }
  | { readonly type: 'message'; readonly id: string; readonly item: QueuedChange; readonly text: string };

export interface QueueDecision {
  readonly state: QueueState;
  readonly actions: readonly QueueAction[];
}

export const itemKey = (change: { readonly change: number; readonly patchset: number }): string => `${change.change},${change.patchset}`;

export function emptyQueue(config: QueueConfig): QueueState {
  return { window: Math.min(config.windowCeiling, Math.max(config.window, config.windowFloor)), depth: 0, items: [], owed: [], observed: [] };
}

/**
 * The next state, and what to carry out: the runs it stopped, then everything actionsOf(next) holds. `at` (ISO,
 * the time of the decision) records the items that left, and a refusal; without it neither is kept.
 */
export function decide(state: QueueState, event: QueueEvent, config: QueueConfig, at?: string): QueueDecision {
  const moved = event.type === 'refused' ? { state: at === undefined ? state : refused(state, event.item, at) } : transition(state, event, config);
  const settled = settle(moved.state, config);
  const next = at === undefined ? settled : withRefusedEnqueues(state, withDepartures(state, settled, event, at), event, at);
  return { state: next, actions: [...stops(state, next, moved.finished), ...actionsOf(next)] };
}

/** Only what happened in the last day, and the latest HISTORY_KEPT of it. */
function recent<T>(entries: readonly T[], time: (entry: T) => string, at: string): T[] {
  const since = Date.parse(at) - HISTORY_MS;
  return entries.filter((entry) => Date.parse(time(entry)) >= since).slice(-HISTORY_KEPT);
}

function refused(state: QueueState, item: Omit<Refusal, 'at'>, at: string): QueueState {
  const entry: Refusal = { change: item.change, patchset: item.patchset, project: item.project, at, why: item.why.slice(0, MAX_WHY_CHARS) };
  return { ...state, refused: recent([...(state.refused ?? []), entry], (r) => r.at, at) };
}

/** An enqueue's items the queue would not take (a need it cannot meet), kept as refusals with what their authors are told. */
function withRefusedEnqueues(before: QueueState, after: QueueState, event: QueueEvent, at: string): QueueState {
  if (event.type !== 'enqueue') return after;
  const told = new Set(before.owed.map((n) => n.id));
  const refusals = event.items.flatMap((item): Omit<Refusal, 'at'>[] => {
    if (after.items.some((q) => q.change === item.change)) return [];
    const notice = after.owed.find((n) => n.item.change === item.change && n.item.patchset === item.patchset && !told.has(n.id));
    return notice ? [{ change: item.change, patchset: item.patchset, project: item.project, why: notice.text }] : [];
  });
  return refusals.reduce((state, item) => refused(state, item, at), after);
}

/**
 * `after` with the items of `before` it no longer holds recorded as departures: merged when the event says the
 * change merged, else why, from what the decision tells its author (its newest notice) or the event.
 */
function withDepartures(before: QueueState, after: QueueState, event: QueueEvent, at: string): QueueState {
  const staying = new Set(after.items.map((item) => `${itemKey(item)} ${item.enqueuedAt}`));
  const gone = before.items.filter((item) => !staying.has(`${itemKey(item)} ${item.enqueuedAt}`));
  if (gone.length === 0) return after;
  const told = new Set(before.owed.map((n) => n.id));
  const departures = gone.map((item): Departure => {
    const merged = (event.type === 'submitted' && event.result === 'merged' && event.change === item.change) || (event.type === 'dequeue' && event.reason === 'merged-elsewhere' && event.change === item.change);
    const notice = [...after.owed].reverse().find((n) => n.item.change === item.change && !told.has(n.id));
    const reason = event.type === 'dequeue' && event.reason !== 'merged-elsewhere' ? `it ${DEPARTED[event.reason]}` : 'it left the queue';
    const why = merged ? undefined : (notice?.text ?? reason);
    return { change: item.change, patchset: item.patchset, project: item.project, enqueuedAt: item.enqueuedAt, leftAt: at, merged, ...(why !== undefined ? { why: why.slice(0, MAX_WHY_CHARS) } : {}) };
  });
  return { ...after, departed: recent([...(before.departed ?? []), ...departures], (d) => d.leftAt, at) };
}

/** What must hold for `state`: its owed notices, the head's submit, every running run (created if missing). */
export function actionsOf(state: QueueState): QueueAction[] {
  const actions: QueueAction[] = state.owed.map(noticeAction);
  const head = state.items[0];
  if (head?.decided === 'submitting' && head.run) actions.push({ type: 'submit', item: refOf(head), run: head.run.name });
  const byKey = new Map(state.items.map((item) => [itemKey(item), item]));
  for (const item of state.items) {
    const run = item.run;
    if (run?.state !== 'running') continue;
    // Landed items are on the branch now; a run created late tests the same state without them.
    const includes = run.includes.slice(run.merged).map((key) => refOf(byKey.get(key)!));
    actions.push({ type: 'start-run', name: run.name, item: refOf(item), includes, attempt: run.attempt });
  }
  return actions;
}

/** Every run the state refers to; the shell stops any other run of the queue. */
export function liveRunNames(state: QueueState): string[] {
  return state.items.flatMap((item) => (item.run ? [item.run.name] : []));
}

// ---- transitions: what an event changes, before settling ----

interface Moved {
  readonly state: QueueState;
  /** The run the event finished, which is not stopped even when the state no longer refers to it. */
  readonly finished?: string;
}

function transition(state: QueueState, event: QueueEvent, config: QueueConfig): Moved {
  switch (event.type) {
    case 'enqueue':
      return { state: enqueue(state, event.eventId, event.items, config) };
    case 'run-finished':
      return runFinished(state, event.name, event.result, event.message);
    case 'dequeue':
      return { state: dequeue(state, event.change, event.patchset, event.reason, config) };
    case 'submitted':
      return { state: submitted(state, event.change, event.result, event.message, config) };
    case 'posted':
      return { state: state.owed.some((n) => n.id === event.id) ? { ...state, owed: state.owed.filter((n) => n.id !== event.id) } : state };
    case 'tick':
    case 'refused':
      return { state };
  }
}

function enqueue(state: QueueState, eventId: string, incoming: readonly EnqueueItem[], config: QueueConfig): QueueState {
  if (state.observed.includes(eventId)) return state;
  let next: QueueState = { ...state, observed: [...state.observed, eventId].slice(-OBSERVED_ENQUEUES) };
  for (const item of incoming) {
    const queued = next.items.find((q) => q.change === item.change);
    if (queued && queued.patchset >= item.patchset) continue;
    if (queued) next = removeItem(next, queued, { reason: 'new-patchset' }, config);
    const blocker = unmetNeed(next, item, config.pipeline);
    if (blocker) next = owe(next, notice('message', item, blocker.text, config, `needs ${blocker.change}`));
    else next = { ...next, items: [...next.items, { ...item, needs: [...item.needs], starts: 0 }] };
  }
  return next;
}

/** The first need the queue cannot meet (not ahead in it, or failing there), and why, in a sentence. */
function unmetNeed(state: QueueState, item: EnqueueItem, pipeline: string): { change: number; text: string } | undefined {
  for (const need of item.needs) {
    if (need === item.change) continue;
    const ahead = state.items.find((q) => q.change === need);
    if (!ahead) {
      return { change: need, text: `Not added to the ${pipeline} queue: it needs change ${need}, which is neither merged nor in the queue; get ${need} approved first, then approve this change again.` };
    }
    if (ahead.decided === 'failing' || ahead.decided === 'needs-failing') {
      return { change: need, text: `Not added to the ${pipeline} queue: it needs change ${need}, which is failing in the queue; approve this change again once ${need} is fixed.` };
    }
  }
  return undefined;
}

function runFinished(state: QueueState, name: string, result: RunResult, message: string | undefined): Moved {
  const index = state.items.findIndex((item) => item.run?.name === name && item.run.state === 'running');
  if (index < 0) return { state };
  const item = state.items[index]!;
  const run: QueueRun = { ...item.run!, state: result, ...(message ? { message: message.slice(0, MAX_QUOTED_CHARS) } : {}) };
  return { state: replaceItem(state, index, { ...item, run }), finished: name };
}

function dequeue(state: QueueState, change: number, patchset: number | undefined, reason: DequeueReason, config: QueueConfig): QueueState {
  const item = state.items.find((q) => q.change === change);
  if (!item) return state;
  if (reason === 'merged-elsewhere') return landed(state, item, patchset === item.patchset, false, config);
  // A late event about an older patch set, or one the queue has already moved past.
  if (reason === 'new-patchset' && patchset !== undefined && item.patchset >= patchset) return state;
  if (reason === 'approval-removed' && patchset !== undefined && item.patchset !== patchset) return state;
  return removeItem(state, item, { reason }, config);
}

function submitted(state: QueueState, change: number, result: 'merged' | 'refused', message: string, config: QueueConfig): QueueState {
  const item = state.items.find((q) => q.change === change);
  if (!item) return state;
  const ours = item === state.items[0] && item.decided === 'submitting';
  // A merge is a fact whoever asked for it; a refusal counts only for the submit this queue asked for.
  if (result === 'merged') return landed(state, item, true, ours, config);
  if (!ours) return state;
  const reported = owe(state, notice('merge-failed', item, `Passed the ${config.pipeline} queue, but Gerrit refused to submit it: ${quote(message)}`, config, item.run?.name ?? ''));
  return shrink(removeItem(reported, item, { reason: 'merge-failed' }, config), config);
}

/**
 * `item` merged. Each run that tested it as the first change not yet merged ahead of it stays valid; every
 * other run was made on a branch that has moved under it. A patch set other than the queued one merged
 * (`asQueued` false): no run tested that.
 */
function landed(state: QueueState, item: QueueItem, asQueued: boolean, grow: boolean, config: QueueConfig): QueueState {
  const key = asQueued ? itemKey(item) : undefined;
  const items: QueueItem[] = [];
  for (const other of state.items) {
    if (other === item) continue;
    const run = other.run;
    if (!run) items.push(other);
    else if (run.includes[run.merged] === key) items.push({ ...other, run: { ...run, merged: run.merged + 1 } });
    else items.push(withoutRun(other));
  }
  return { ...state, items, window: grow ? Math.min(config.windowCeiling, state.window + 1) : state.window };
}

/** Removes `item`; the items that need it go with it (see cascade). */
function removeItem(state: QueueState, item: QueueItem, why: { reason: Exclude<DequeueReason, 'merged-elsewhere'> | 'merge-failed' }, config: QueueConfig): QueueState {
  let next: QueueState = { ...state, items: state.items.filter((q) => q !== item) };
  if (why.reason === 'approval-removed') {
    next = owe(next, notice('approval-removed', item, `Removed from the ${config.pipeline} queue: unable to merge due to a missing merge requirement.`, config, item.enqueuedAt));
  }
  return cascade(next, item.change, DEPARTED[why.reason], why.reason === 'merge-failed', config);
}

const DEPARTED: Readonly<Record<Exclude<DequeueReason, 'merged-elsewhere'> | 'merge-failed', string>> = {
  'new-patchset': 'got a new patch set',
  abandoned: 'was abandoned',
  'approval-removed': 'lost its approval',
  'merge-failed': 'could not be submitted',
};

/**
 * The items that need `departed` cannot merge without it: each leaves too, told why, and so, transitively, do
 * the items that need them. A failure ahead (`failure`) is a report; a change that left is a message.
 */
function cascade(state: QueueState, departed: number, why: string, failure: boolean, config: QueueConfig): QueueState {
  let next = state;
  for (const dependent of state.items.filter((q) => q.needs.includes(departed))) {
    if (!next.items.includes(dependent)) continue;
    const text = `Removed from the ${config.pipeline} queue: change ${departed}, which it needs merged first, ${why}; approve this change again once ${departed} is back in the queue.`;
    next = owe(next, notice(failure ? 'dependency-failed' : 'message', dependent, text, config, `needs ${departed}`));
    next = cascade({ ...next, items: next.items.filter((q) => q !== dependent) }, dependent.change, 'left the queue', failure, config);
  }
  return next;
}

// ---- settling: re-derive runs and decisions from the items as they stand ----

interface Assessment {
  /** The run still tests what would merge. */
  readonly valid: boolean;
  readonly failing: boolean;
  readonly needsFailing: boolean;
  /** How many of the queue's `ahead` keys come before it: its speculative state is those, then its own key. */
  readonly aheadCount: number;
}

interface Assessed {
  readonly items: readonly Assessment[];
  /** Keys of the items that are neither failing nor waiting on a failing one, in queue order. */
  readonly ahead: readonly string[];
}

function settle(state: QueueState, config: QueueConfig): QueueState {
  const maxAttempts = config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  let current = state;
  let assessed = assess(current.items, maxAttempts);
  // Every item ahead of a failing head has finished: report it, and the ones behind it that fail too.
  while (current.items[0] && assessed.items[0]!.failing) {
    current = shrink(reportFailure(current, current.items[0], config), config);
    assessed = assess(current.items, maxAttempts);
  }
  const { ahead } = assessed;
  const items = current.items.map((item, index) => settleItem(item, index, assessed.items[index]!, ahead, current.window, maxAttempts, config));
  const changed = items.some((item, index) => item !== current.items[index]);
  const settled: QueueState = changed ? { ...current, items } : current;
  return withSummary(settled);
}

function assess(items: readonly QueueItem[], maxAttempts: number): Assessed {
  const ahead: string[] = [];
  const bad = new Set<number>();
  const assessed = items.map((item) => {
    const key = itemKey(item);
    const needsFailing = item.needs.some((need) => bad.has(need));
    const run = item.run;
    const valid = !needsFailing && run !== undefined && testsExactly(run, ahead, key);
    const failing = valid && (run!.state === 'failed' || run!.state === 'conflict' || (run!.state === 'error' && run!.attempt >= maxAttempts));
    const aheadCount = ahead.length;
    if (failing || needsFailing) bad.add(item.change);
    else ahead.push(key);
    return { valid, failing, needsFailing, aheadCount };
  });
  return { items: assessed, ahead };
}

function testsExactly(run: QueueRun, ahead: readonly string[], key: string): boolean {
  if (run.includes.length - run.merged !== ahead.length + 1 || run.includes[run.includes.length - 1] !== key) return false;
  return ahead.every((k, i) => run.includes[run.merged + i] === k);
}

function settleItem(item: QueueItem, index: number, assessment: Assessment, ahead: readonly string[], window: number, maxAttempts: number, config: QueueConfig): QueueItem {
  const inWindow = index < window;
  let run = assessment.valid ? item.run : undefined;
  // Outside the window nothing runs; what already finished at a valid state is kept.
  if (run && !inWindow && run.state === 'running') run = undefined;
  let attempt = 1;
  if (run?.state === 'error' && run.attempt < maxAttempts) {
    attempt = run.attempt + 1;
    run = undefined;
  }
  let starts = item.starts;
  if (!run && inWindow && !assessment.needsFailing) {
    run = newRun(item, [...ahead.slice(0, assessment.aheadCount), itemKey(item)], attempt, config);
    starts += 1;
  }
  const decided: ItemDecision | undefined = assessment.needsFailing
    ? 'needs-failing'
    : assessment.failing
      ? 'failing'
      : index === 0 && run?.state === 'succeeded'
        ? 'submitting'
        : undefined;
  if (run === item.run && decided === item.decided && starts === item.starts) return item;
  const { run: _run, decided: _decided, ...rest } = item;
  return { ...rest, starts, ...(run ? { run } : {}), ...(decided ? { decided } : {}) };
}

function newRun(item: QueueItem, includes: readonly string[], attempt: number, config: QueueConfig): QueueRun {
  const state = JSON.stringify([config.queue, item.enqueuedAt, item.starts, includes, attempt]);
  return { name: workflowName(config.pipeline, item.change, item.patchset, state), includes: [...includes], merged: 0, attempt, state: 'running' };
}

function reportFailure(state: QueueState, head: QueueItem, config: QueueConfig): QueueState {
  const run = head.run!;
  const ahead = run.includes.slice(0, -1);
  const tested = ahead.length > 0 ? `with ${ahead.join(', ')} ahead of it` : 'with nothing ahead of it';
  const runs = run.attempt > 1 ? `run ${run.name} and the ${run.attempt - 1} before it ended in infrastructure errors` : `run ${run.name} ended in an infrastructure error`;
  const because = run.message ? ` (${quote(run.message)})` : '';
  const reported =
    run.state === 'error'
      ? owe(state, notice('infrastructure', head, `Not tested in the ${config.pipeline} queue: ${runs}${because}; approve it again to retry.`, config, run.name))
      : run.state === 'conflict'
        ? owe(state, notice('merge-conflict', head, `Merge failed in the ${config.pipeline} queue: it does not merge onto ${head.branch} ${tested}${because}. Please rebase it and upload a new patch set.`, config, run.name))
        : owe(state, notice('failed', head, `Failed in the ${config.pipeline} queue: run ${run.name} tested it on ${head.branch} ${tested}.`, config, run.name));
  return cascade({ ...reported, items: reported.items.slice(1) }, head.change, 'failed in the queue', true, config);
}

// ---- pieces ----

function shrink(state: QueueState, config: QueueConfig): QueueState {
  return { ...state, window: Math.max(config.windowFloor, Math.floor(state.window / 2)) };
}

function withSummary(state: QueueState): QueueState {
  const head = state.items[0] ? itemKey(state.items[0]) : undefined;
  if (state.depth === state.items.length && state.head === head) return state;
  const { head: _head, ...rest } = state;
  return { ...rest, depth: state.items.length, ...(head ? { head } : {}) };
}

function replaceItem(state: QueueState, index: number, item: QueueItem): QueueState {
  const items = state.items.slice();
  items[index] = item;
  return { ...state, items };
}

function withoutRun(item: QueueItem): QueueItem {
  const { run: _run, decided: _decided, ...rest } = item;
  return rest;
}

function owe(state: QueueState, notice: Notice): QueueState {
  return state.owed.some((n) => n.id === notice.id) ? state : { ...state, owed: [...state.owed, notice] };
}

/**
 * `detail` tells apart two notices of one kind for one stay in the queue (the run, the need). Ids are named
 * as runs are, so a shell may name a claim's Lease after one.
 */
function notice(kind: Notice['kind'], item: EnqueueItem, text: string, config: QueueConfig, detail: string): Notice {
  const id = workflowName(config.pipeline, item.change, item.patchset, JSON.stringify([config.queue, item.enqueuedAt, kind, detail]));
  const vote = kind === 'failed' || kind === 'infrastructure' || kind === 'merge-conflict' || kind === 'merge-failed' ? { vote: -1 as const } : {};
  return { id, kind, item: refOf(item), text, ...vote };
}

function noticeAction(notice: Notice): QueueAction {
  if (notice.kind === 'message') return { type: 'message', id: notice.id, item: notice.item, text: notice.text };
  return { type: 'report', id: notice.id, item: notice.item, kind: notice.kind, message: notice.text, ...(notice.vote ? { vote: notice.vote } : {}) };
}

/** The runs `before` had going that `after` no longer refers to, but the one the event finished. */
function stops(before: QueueState, after: QueueState, finished: string | undefined): QueueAction[] {
  const kept = new Set(liveRunNames(after));
  const index = new Map(after.items.map((item, i) => [`${itemKey(item)} ${item.enqueuedAt}`, i]));
  const actions: QueueAction[] = [];
  for (const item of before.items) {
    const run = item.run;
    if (run?.state !== 'running' || run.name === finished || kept.has(run.name)) continue;
    const at = index.get(`${itemKey(item)} ${item.enqueuedAt}`);
    const reason =
      at === undefined ? `change ${itemKey(item)} left the queue` : at >= after.window ? `change ${itemKey(item)} is outside the window of ${after.window}` : `the changes ahead of ${itemKey(item)} changed`;
    actions.push({ type: 'stop-run', name: run.name, reason });
  }
  return actions;
}

function refOf(item: QueuedChange): QueuedChange {
  return { project: item.project, branch: item.branch, change: item.change, patchset: item.patchset, ref: item.ref, revision: item.revision };
}

function quote(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_QUOTED_CHARS ? `${line.slice(0, MAX_QUOTED_CHARS - 1)}…` : line;
}
