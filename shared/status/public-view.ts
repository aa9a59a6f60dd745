// What the status page may show: only changes that anyone may read in Gerrit. Its Service is public and holds
// no Gerrit account, while Seakeeper runs the changes of read-restricted projects too; so the shell asks Gerrit,
// as anyone (no credentials), which of the view's changes it shows, and this takes the others out. A hidden
// queue item keeps its place, window and timing (the changes behind it wait for it, and their estimates count
// it) but loses everything that names it: project, branch, number, subject, its run's name and link. A run of a
// ref names a project and no change (but postmerge's): it is shown when Gerrit shows the ref to anyone.
import type { ItemView, PipelineView, StatusView } from './status-view.js';

/** Every change the view names (queue items, what they need, notices, departures, refusals, check runs), each once. */
export function changesNamed(view: StatusView): number[] {
  const numbers = new Set<number>();
  for (const pipeline of view.pipelines) {
    for (const queue of pipeline.queues) {
      for (const item of queue.items) [item.change, ...item.needs].forEach((n) => numbers.add(n));
      for (const notice of queue.notices) numbers.add(notice.change);
      for (const entry of [...queue.departed, ...queue.refused]) numbers.add(entry.change);
    }
    for (const check of pipeline.checks) numbers.add(check.change);
    for (const run of pipeline.refRuns) if (run.change !== undefined) numbers.add(run.change);
  }
  return [...numbers].filter((n) => n > 0).sort((a, b) => a - b);
}

/** The refs of the runs the view names that no change stands for (post, publish, periodic), each once. */
export function refsNamed(view: StatusView): Array<{ project: string; ref: string }> {
  const refs = new Map<string, { project: string; ref: string }>();
  for (const pipeline of view.pipelines) {
    for (const run of pipeline.refRuns) if (run.change === undefined) refs.set(refKey(run.project, run.ref), { project: run.project, ref: run.ref });
  }
  return [...refs.values()].sort((a, b) => refKey(a.project, a.ref).localeCompare(refKey(b.project, b.ref)));
}

/** How publicView knows a ref (status-source.ts publicRefs answers with these). */
export const refKey = (project: string, ref: string): string => `${project} ${ref}`;

/**
 * The view with every change not in `visible` taken out (checks, notices, departures, refusals) or made anonymous
 * (queue items), and every run of a ref whose change, or else ref (`refs`, by refKey), is not public taken out.
 */
export function publicView(view: StatusView, visible: ReadonlySet<number>, refs: ReadonlySet<string> = new Set()): StatusView {
  return { ...view, pipelines: view.pipelines.map((pipeline) => publicPipeline(pipeline, visible, refs)) };
}

function publicPipeline(pipeline: PipelineView, visible: ReadonlySet<number>, refs: ReadonlySet<string>): PipelineView {
  return {
    ...pipeline,
    checks: pipeline.checks.filter((check) => visible.has(check.change)),
    refRuns: pipeline.refRuns.filter((run) => (run.change !== undefined ? visible.has(run.change) : refs.has(refKey(run.project, run.ref)))),
    queues: pipeline.queues.map((queue) => ({
      ...queue,
      items: queue.items.map((item) => (visible.has(item.change) ? { ...item, needs: item.needs.filter((n) => visible.has(n)) } : hiddenItem(item))),
      notices: queue.notices.filter((notice) => visible.has(notice.change)),
      departed: queue.departed.filter((d) => visible.has(d.change)),
      refused: queue.refused.filter((r) => visible.has(r.change)),
    })),
  };
}

function hiddenItem(item: ItemView): ItemView {
  const { run } = item;
  return {
    position: item.position,
    change: 0,
    patchset: 0,
    project: '',
    branch: '',
    changeUrl: '',
    enqueuedAt: item.enqueuedAt,
    queuedSeconds: item.queuedSeconds,
    inWindow: item.inWindow,
    status: item.status,
    failing: item.failing,
    needs: [],
    hidden: true,
    ...(run
      ? {
          run: {
            name: '',
            url: '',
            state: run.state,
            attempt: run.attempt,
            ...(run.elapsedSeconds !== undefined ? { elapsedSeconds: run.elapsedSeconds } : {}),
            ...(run.remainingSeconds !== undefined ? { remainingSeconds: run.remainingSeconds } : {}),
          },
        }
      : {}),
  };
}
