// What the status page may show: only changes that anyone may read in Gerrit. Its Service is public and holds
// no Gerrit account, while Seakeeper runs the changes of read-restricted projects too; so the shell asks Gerrit,
// as anyone (no credentials), which of the view's changes it shows, and this takes the others out. A hidden
// queue item keeps its place, window and timing (the changes behind it wait for it, and their estimates count
// it) but loses everything that names it: project, branch, number, subject, its run's name and link.
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
  }
  return [...numbers].filter((n) => n > 0).sort((a, b) => a - b);
}

/** The view with every change not in `visible` taken out (checks, notices, departures, refusals) or made anonymous (queue items). */
export function publicView(view: StatusView, visible: ReadonlySet<number>): StatusView {
  return { ...view, pipelines: view.pipelines.map((pipeline) => publicPipeline(pipeline, visible)) };
}

function publicPipeline(pipeline: PipelineView, visible: ReadonlySet<number>): PipelineView {
  return {
    ...pipeline,
    checks: pipeline.checks.filter((check) => visible.has(check.change)),
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
