// The gate shell's pure pieces (docs/architecture.md, principle 1): which queue a change of a project is in,
// what an Argo phase means to the queue, the text a gate run receives, and the reviews the queue's actions
// post. gate.ts fetches, calls these, and carries the results out.
import { createHash } from 'node:crypto';
import type { Pipeline } from '../config/pipeline-config.js';
import type { PipelineConfig } from '../config/project-config.js';
import { cut, renderTemplate, type ReviewPlan } from '../reporting/messages.js';
import type { ChangeRef as RunChange } from '../runs/workflow.js';
import type { GerritEvent } from '../events/gerrit-event.js';
import { changeUrl } from '../gerrit/refs.js';
import type { ChangeRef, QueueAction, QueueConfig, QueueEvent } from './change-queue.js';

/** The label a gate run carries: its queue's hash, so that the queue's runs can be listed. */
export const QUEUE_HASH_LABEL = 'seakeeper.dev/queue-hash';
/** The annotation a gate run carries: its queue's name, in its safe form. */
export const QUEUE_ANNOTATION = 'seakeeper.dev/queue';

/** The environment a gate run's checkout step reads (config/gate/checkout.sh). */
export const CHANGES_VARIABLE = 'SEAKEEPER_CHANGES';
export const GIT_URL_VARIABLE = 'SEAKEEPER_GIT_URL';

/** Window and floor when the pipeline gives none (Zuul's defaults are 20 and 3; ours are smaller). */
export const DEFAULT_WINDOW = 5;
export const DEFAULT_WINDOW_FLOOR = 2;

/**
 * The queue a change is in: the project's `queue:` from seakeeper.yaml (projects that share one gate together),
 * else the project's name; then the branch, since changes of different branches never merge on each other.
 */
export function queueName(project: string, branch: string, entry: Pick<PipelineConfig, 'queue'>): string {
  return `${entry.queue ?? project} ${branch}`;
}

export function queueConfigOf(pipeline: Pipeline, queue: string): QueueConfig {
  const window = pipeline.window ?? DEFAULT_WINDOW;
  return { queue, pipeline: pipeline.name, window, windowFloor: Math.min(pipeline.windowFloor ?? DEFAULT_WINDOW_FLOOR, window) };
}

/** A DNS-safe label value naming a queue of a pipeline. */
export function queueHash(config: Pick<QueueConfig, 'pipeline' | 'queue'>): string {
  return createHash('sha256').update(JSON.stringify([config.pipeline, config.queue]), 'utf8').digest('hex').slice(0, 40);
}

/** Argo's final phase as the queue reads a run: Error is the infrastructure's failure, not the change's. */
export function runResultOf(phase: string | undefined): 'succeeded' | 'failed' | 'error' | undefined {
  if (phase === 'Succeeded') return 'succeeded';
  if (phase === 'Failed') return 'failed';
  if (phase === 'Error') return 'error';
  return undefined;
}

/** SEAKEEPER_CHANGES: one `project branch ref revision` line per change, in merge order, the change under test last. */
export function changesText(includes: readonly ChangeRef[]): string {
  return includes.map((c) => `${c.project} ${c.branch} ${c.ref} ${c.revision}`).join('\n');
}

/** The change a gate run tests, as a run's builder takes it. */
export function runChangeOf(item: ChangeRef, gerritUrl: string): RunChange {
  return {
    project: item.project,
    branch: item.branch,
    number: item.change,
    patchset: item.patchset,
    revision: item.revision,
    ref: item.ref,
    url: changeUrl(gerritUrl, item.project, item.change),
  };
}

export const changeIdOfItem = (item: Pick<ChangeRef, 'project' | 'change'>): string => `${item.project}~${item.change}`;

/** A report or message the queue owes: the pipeline's failure notify and tag, its vote when it has one. */
export function noticeReview(pipeline: Pipeline, action: Extract<QueueAction, { type: 'report' | 'message' }>): ReviewPlan {
  const vote = action.type === 'report' && action.vote !== undefined ? { labels: { Verified: action.vote } } : {};
  const message = action.type === 'report' ? action.message : action.text;
  return {
    changeId: changeIdOfItem(action.item),
    revision: action.item.revision,
    review: { message: cut(message), ...vote, tag: pipeline.tag, notify: pipeline.failure.notify },
    submit: false,
  };
}

/** The head passed: the pipeline's success message and votes (Verified +2), then Gerrit submits it. */
export function successReview(pipeline: Pipeline, item: ChangeRef, run: string): ReviewPlan {
  const labels = Object.keys(pipeline.success.labels).length > 0 ? { labels: { ...pipeline.success.labels } } : {};
  const message = `${renderTemplate(pipeline.success.message, { pipeline: pipeline.name, change: item.change, patchset: item.patchset })}\n\nRun: ${run}`;
  return {
    changeId: changeIdOfItem(item),
    revision: item.revision,
    review: { message: cut(message), ...labels, tag: pipeline.tag, notify: pipeline.success.notify },
    submit: pipeline.success.submit === true,
  };
}

/** The author's message when an approved change cannot enter the queue (gate-eligibility.ts's reason). */
export function refusalReview(pipeline: Pipeline, item: Pick<ChangeRef, 'project' | 'change' | 'revision'>, reason: string): ReviewPlan {
  return {
    changeId: changeIdOfItem(item),
    revision: item.revision,
    review: { message: cut(reason), tag: pipeline.tag, notify: 'OWNER' },
    submit: false,
  };
}

/**
 * The dequeue a Gerrit event means for the gate `pipeline`, if any: a new patch set, the change abandoned or
 * merged (the queue knows whether it submitted it), or the trigger's approval (Code-Review +2) taken back.
 */
export function dequeueOf(event: GerritEvent, pipeline: Pipeline): Extract<QueueEvent, { type: 'dequeue' }> | undefined {
  switch (event.kind) {
    case 'patchset-created':
      return { type: 'dequeue', change: event.change.number, patchset: event.patchSet.number, reason: 'new-patchset' };
    case 'change-abandoned':
      return { type: 'dequeue', change: event.change.number, reason: 'abandoned' };
    case 'change-merged':
      return { type: 'dequeue', change: event.change.number, ...(event.patchSet ? { patchset: event.patchSet.number } : {}), reason: 'merged-elsewhere' };
    case 'comment-added': {
      const wanted = pipeline.triggers.flatMap((rule) => (rule.event === 'comment-added' ? rule.approvals : []));
      const removed = event.approvals.some((a) =>
        wanted.some((w) => a.type === w.label && a.oldValue !== undefined && Number(a.oldValue) === w.value && Number(a.value) !== w.value),
      );
      return removed ? { type: 'dequeue', change: event.change.number, patchset: event.patchSet.number, reason: 'approval-removed' } : undefined;
    }
    default:
      return undefined;
  }
}
