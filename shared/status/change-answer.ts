// "Where is my change, and how long?": the answer for one change number, read off a built StatusView (pure),
// in sentences its author can act on. An estimate is given only where one can be: an item merges once its own
// run and every run ahead of it in its queue have passed (the gate submits in queue order, and the runs go at
// the same time), so the estimate is the longest remaining time among those runs; unknown when any of them has
// no estimate, or the item has no run yet (outside the window).
import type { CheckView, ItemView, PipelineView, QueueView, StatusView } from './status-view.js';

export const ESTIMATE_RULE =
  "the longest remaining time among its own run and the runs of the items ahead of it that are not failing, which run at the same time; a run's remaining time is its estimate (Argo's, else the median duration of its project's successful runs in the pipeline that are still kept) less the time it has run; unknown when any of those runs has no estimate or the change has no run yet";

export interface QueuePlace {
  readonly pipeline: string;
  readonly queue: string;
  readonly position: number;
  readonly depth: number;
  readonly window: number;
  readonly inWindow: boolean;
  readonly status: ItemView['status'];
  readonly failing: boolean;
  readonly item: ItemView;
  /** Seconds until it should merge, by ESTIMATE_RULE; absent when unknown. */
  readonly estimatedMergeSeconds?: number;
}

export interface ChangeAnswer {
  readonly change: number;
  readonly generatedAt: string;
  /** False: neither in a queue nor running a check; nothing Seakeeper keeps names it. */
  readonly known: boolean;
  readonly queues: readonly QueuePlace[];
  readonly checks: readonly CheckView[];
  /** What a queue decided to tell the change's author and has not posted yet. */
  readonly notices: readonly { readonly pipeline: string; readonly queue: string; readonly kind: string; readonly text: string }[];
  /** When it is in no queue: the newest thing a queue remembers of it from the last day. */
  readonly lastLeft?: LastWord;
  readonly estimateRule: string;
  /** The answer in words, one sentence each. */
  readonly says: readonly string[];
}

export function answerFor(view: StatusView, change: number): ChangeAnswer {
  const queues = view.pipelines.flatMap((pipeline) => pipeline.queues.flatMap((queue) => placesIn(pipeline, queue, change)));
  const checks = view.pipelines.flatMap((pipeline) => pipeline.checks.filter((check) => check.change === change));
  const notices = view.pipelines.flatMap((pipeline) =>
    pipeline.queues.flatMap((queue) => queue.notices.filter((n) => n.change === change).map((n) => ({ pipeline: pipeline.name, queue: queue.queue, kind: n.kind, text: n.text }))),
  );
  const says = [...queues.map(sayPlace), ...checks.map(sayCheck), ...notices.map((n) => `Seakeeper is about to post on it: “${n.text}”`)];
  const last = queues.length === 0 ? lastWord(view, change) : undefined;
  if (queues.length === 0) {
    says.unshift(
      checks.length > 0 || notices.length > 0 || last
        ? `Change ${change} is not in any gate queue.`
        : `Change ${change} is not in any gate queue and has no run in progress.`,
    );
    if (last) says.splice(1, 0, last.says);
    else {
      says.push(
        'A change enters its gate queue with Code-Review +2 on its current patch set once it is open, not a work in progress, and meets every other submit requirement; when Seakeeper refused it more than a day ago, its reason is a message on the change in Gerrit.',
      );
    }
  }
  const known = queues.length + checks.length + notices.length > 0 || last !== undefined;
  return { change, generatedAt: view.generatedAt, known, queues, checks, notices, ...(last ? { lastLeft: last.entry } : {}), estimateRule: ESTIMATE_RULE, says };
}

/** What the queues remember of the change from the last day, newest: it left (merged, or why), or was refused. */
function lastWord(view: StatusView, change: number): { entry: LastWord; says: string } | undefined {
  const words: LastWord[] = view.pipelines.flatMap((pipeline) =>
    pipeline.queues.flatMap((queue) => [
      ...queue.departed.filter((d) => d.change === change).map((d): LastWord => ({ kind: d.merged ? 'merged' : 'left', pipeline: pipeline.name, queue: queue.queue, patchset: d.patchset, at: d.leftAt, enqueuedAt: d.enqueuedAt, ...(d.why !== undefined ? { why: d.why } : {}) })),
      ...queue.refused.filter((r) => r.change === change).map((r): LastWord => ({ kind: 'refused', pipeline: pipeline.name, queue: queue.queue, patchset: r.patchset, at: r.at, why: r.why })),
    ]),
  );
  const entry = words.sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).at(-1);
  if (!entry) return undefined;
  const where = `the ${entry.pipeline} queue “${entry.queue}”`;
  const stay = entry.enqueuedAt === undefined ? '' : `, after ${duration(Math.max(0, Math.round((Date.parse(entry.at) - Date.parse(entry.enqueuedAt)) / 1000)))} in it`;
  switch (entry.kind) {
    case 'merged':
      return { entry, says: `Patch set ${entry.patchset} merged from ${where} at ${entry.at}${stay}.` };
    case 'left':
      return { entry, says: `Patch set ${entry.patchset} left ${where} at ${entry.at}${stay}: ${entry.why ?? 'it was taken out'}` };
    case 'refused':
      return { entry, says: `Its approval of patch set ${entry.patchset} did not add it to ${where} at ${entry.at}: ${entry.why}` };
  }
}

/** The newest thing a queue remembers about a change that is not in it. */
export interface LastWord {
  readonly kind: 'merged' | 'left' | 'refused';
  readonly pipeline: string;
  readonly queue: string;
  readonly patchset: number;
  readonly at: string;
  readonly enqueuedAt?: string;
  readonly why?: string;
}

function placesIn(pipeline: PipelineView, queue: QueueView, change: number): QueuePlace[] {
  const index = queue.items.findIndex((item) => item.change === change);
  if (index < 0) return [];
  const item = queue.items[index]!;
  const estimate = item.failing ? undefined : mergeEstimate(queue.items.slice(0, index + 1));
  return [
    {
      pipeline: pipeline.name,
      queue: queue.queue,
      position: item.position,
      depth: queue.depth,
      window: queue.window,
      inWindow: item.inWindow,
      status: item.status,
      failing: item.failing,
      item,
      ...(estimate !== undefined ? { estimatedMergeSeconds: estimate } : {}),
    },
  ];
}

/** ESTIMATE_RULE over the item (last) and the items ahead of it; failing items ahead leave without holding it up. */
export function mergeEstimate(upTo: readonly ItemView[]): number | undefined {
  let longest = 0;
  for (const item of upTo) {
    if (item.failing) continue;
    const run = item.run;
    if (!run) return undefined;
    if (run.state !== 'running') continue;
    if (run.remainingSeconds === undefined) return undefined;
    longest = Math.max(longest, run.remainingSeconds);
  }
  return longest;
}

function sayPlace(place: QueuePlace): string {
  const where = `Change ${place.item.change},${place.item.patchset} is ${ordinal(place.position)} of ${place.depth} in the ${place.pipeline} queue “${place.queue}”`;
  const run = place.item.run;
  switch (place.status) {
    case 'failing':
      return `${where}, and its run failed there${run ? ` (${run.name}: ${run.url})` : ''}: it will be reported on the change and leave the queue once the changes ahead of it have finished. Fix it and upload a new patch set, then approve it again.`;
    case 'needs-failing':
      return `${where}, but it needs change ${place.item.needs.join(', ')}, which failed in the queue: it will leave the queue with it. Approve it again once that change is back in the queue.`;
    case 'submitting':
      return `${where}: its run passed at the head of the queue and Seakeeper is submitting it now.`;
    default:
      break;
  }
  if (!place.inWindow) {
    const toWait = place.position - place.window;
    return `${where}, outside the window of ${place.window}: its tests start once ${toWait} ${toWait === 1 ? 'change' : 'changes'} ahead of it ${toWait === 1 ? 'leaves' : 'leave'} the window. No estimate until then.`;
  }
  const state = place.status === 'passed' ? 'its run passed; it merges once the changes ahead of it have' : 'being tested with the changes ahead of it';
  const estimate =
    place.estimatedMergeSeconds === undefined
      ? 'No estimate: a run ahead of it, or its own, has neither an estimate from Argo nor successful runs of its project to go by.'
      : `Estimated to merge in ${duration(place.estimatedMergeSeconds)}.`;
  return `${where}, inside the window of ${place.window}: ${state}. ${estimate}`;
}

function sayCheck(check: CheckView): string {
  const remaining = check.run.remainingSeconds === undefined ? '' : `, about ${duration(check.run.remainingSeconds)} to go`;
  return `Its ${check.pipeline} run for patch set ${check.patchset} is ${check.run.phase.toLowerCase()} for ${duration(check.run.elapsedSeconds)}${remaining}: ${check.run.url}`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
