// The gate shell's pure pieces (docs/architecture.md, principle 1): which queue a change of a project is in,
// what an Argo phase means to the queue, the text a gate run receives, and the reviews the queue's actions
// post. gate.ts fetches, calls these, and carries the results out.
import { createHash } from 'node:crypto';
import type { Pipeline } from '../config/pipeline-config.js';
import type { PipelineConfig } from '../config/project-config.js';
import { cut, renderTemplate, type ReviewPlan } from '../reporting/messages.js';
import type { ChangeRef, LiveWorkflow } from '../runs/workflow.js';
import type { GerritEvent } from '../events/gerrit-event.js';
import { changeUrl } from '../gerrit/refs.js';
import type { QueueAction, QueueConfig, QueueEvent, QueuedChange, RunResult } from './change-queue.js';

/** The label a gate run carries: its queue's hash, so that the queue's runs can be listed. */
export const QUEUE_HASH_LABEL = 'seakeeper.dev/queue-hash';
/** The annotation a gate run carries: its queue's name, in its safe form. */
export const QUEUE_ANNOTATION = 'seakeeper.dev/queue';


/** Window and floor when the pipeline gives none (Zuul's defaults are 20 and 3; ours are smaller). */
export const DEFAULT_WINDOW = 5;
export const DEFAULT_WINDOW_FLOOR = 2;
/**
 * Zuul's ceiling is unbounded; ours bounds a queue's state (a ChangeQueue must stay well under etcd's 1.5 MiB):
 * each run lists the items ahead of it, at most the ceiling.
 */
export const DEFAULT_WINDOW_CEILING = 20;

/**
 * The queue a change is in: the project's `queue:` from seakeeper.yaml (projects that share one gate together),
 * else the project's name; then the branch, since changes of different branches never merge on each other.
 */
export function queueName(project: string, branch: string, entry: Pick<PipelineConfig, 'queue'>): string {
  return `${entry.queue ?? project} ${branch}`;
}

export function queueConfigOf(pipeline: Pipeline, queue: string): QueueConfig {
  const windowCeiling = pipeline.windowCeiling ?? Math.max(DEFAULT_WINDOW_CEILING, pipeline.window ?? DEFAULT_WINDOW);
  const window = Math.min(pipeline.window ?? DEFAULT_WINDOW, windowCeiling);
  return { queue, pipeline: pipeline.name, window, windowFloor: Math.min(pipeline.windowFloor ?? DEFAULT_WINDOW_FLOOR, window), windowCeiling };
}

/** A DNS-safe label value naming a queue of a pipeline. */
export function queueHash(config: Pick<QueueConfig, 'pipeline' | 'queue'>): string {
  return createHash('sha256').update(JSON.stringify([config.pipeline, config.queue]), 'utf8').digest('hex').slice(0, 40);
}

/** How a finished run ended, for its queue: `message` says why when it did not succeed. */
export interface RunOutcome {
  readonly result: RunResult;
  readonly message?: string;
}

/**
 * What the checkout (config/gate/checkout.sh) writes to its termination log on a merge conflict, after its exit
 * code 3: Argo makes it the step's message, `<container>: Error (exit code 3): merge conflict: …`.
 */
const MERGE_CONFLICT = /\(exit code 3\): (merge conflict: .*)$/s;

/**
 * Pod-level messages of a pod that ended for the node's sake, not its own: Argo copies the pod's message into
 * the step's when the pod has one. The kubelet's eviction and admission refusals, a node shutting down, the
 * kubelet preempting it for a critical pod; `pod failed: …` is Argo's word for a pod that failed with no
 * container that ended on its own (a node lost under it). A pod deleted under a run (preempted by the
 * scheduler, evicted through the API, its node gone) is a step in Argo's Error phase: `pod deleted`.
 */
const INFRASTRUCTURE = [/^The node was low on resource/, /^The node had condition/, /^Pod was rejected/, /imminent node shutdown/, /^Preempted in order to admit critical pod/, /^pod failed: /];

/**
 * How a finished run ended, read from Argo's status: its phase, and for a run that did not succeed, its failed
 * steps. Only a step that ran and failed is the change's failure; a run whose every failed step failed for the
 * infrastructure's sake (or that Argo ended in Error without a failed step) is an infrastructure error, which
 * the queue runs again; a step that reports the checkout's merge conflict is a conflict. Undefined while the
 * run has not finished. Attempts Argo's own retryStrategy recovered from do not count.
 */
export function runOutcomeOf(workflow: Pick<LiveWorkflow, 'status'>): RunOutcome | undefined {
  const phase = workflow.status?.phase;
  if (phase === 'Succeeded') return { result: 'succeeded' };
  if (phase !== 'Failed' && phase !== 'Error') return undefined;
  const nodes = workflow.status?.nodes ?? {};
  const recovered = new Set(Object.values(nodes).flatMap((node) => (node.type === 'Retry' && node.phase === 'Succeeded' ? (node.children ?? []) : [])));
  const failed = Object.entries(nodes)
    .filter(([id, node]) => node.type === 'Pod' && (node.phase === 'Failed' || node.phase === 'Error') && !recovered.has(id))
    .map(([, node]) => ({ phase: node.phase, message: typeof node.message === 'string' ? node.message : '' }));
  const conflict = failed.map((node) => MERGE_CONFLICT.exec(node.message)?.[1]).find((line) => line !== undefined);
  if (conflict !== undefined) return { result: 'conflict', message: conflict };
  const own = failed.find((node) => node.phase === 'Failed' && !INFRASTRUCTURE.some((pattern) => pattern.test(node.message)));
  const runMessage = typeof workflow.status?.message === 'string' && workflow.status.message !== '' ? workflow.status.message : undefined;
  if (own) return { result: 'failed', ...(runMessage ? { message: runMessage } : {}) };
  if (failed.length > 0 || phase === 'Error') {
    const why = [...new Set(failed.map((node) => node.message).filter((m) => m !== ''))].join('; ') || runMessage;
    return { result: 'error', ...(why ? { message: why } : {}) };
  }
  return { result: 'failed', ...(runMessage ? { message: runMessage } : {}) };
}

/** A change an item depends on (Depends-On, transitively), with the queue its project gates it in, if any. */
export interface QueuedDependency {
  readonly change: number;
  readonly project: string;
  /** Undefined: its project does not run the pipeline. */
  readonly queue: string | undefined;
}

/**
 * Whether an approved change's dependencies let it into `queue`: each must be gated in the same queue (the
 * queue then says whether it is ahead: change-queue.ts unmetNeed), and they must not form a cycle. Zuul refuses
 * the same ("depends on a change in a different queue"). The needs, or the reason for the author.
 */
export function dependencyNeeds(pipeline: string, queue: string, dependencies: readonly QueuedDependency[], cycle?: readonly number[]): { ok: true; needs: number[] } | { ok: false; reason: string } {
  const refused = (why: string) => ({ ok: false as const, reason: `Not added to the ${pipeline} queue: ${why}.` });
  if (cycle) return refused(`its dependencies form a cycle (${cycle.join(' → ')}); remove a Depends-On footer from one of these changes`);
  for (const dependency of dependencies) {
    const named = `change ${dependency.change} of ${dependency.project}`;
    if (dependency.queue === undefined) return refused(`it depends on ${named}, which the ${pipeline} pipeline does not test; merge it first`);
    if (dependency.queue !== queue) {
      return refused(`it depends on ${named}, which is in a different queue (${dependency.queue}); changes in different queues cannot be tested together: merge ${dependency.change} first, or let both projects share a queue (queue: in seakeeper.yaml)`);
    }
  }
  return { ok: true, needs: dependencies.map((d) => d.change) };
}

/** SEAKEEPER_CHANGES: one `project branch ref revision` line per change, in merge order, the change under test last. */
export function changesText(includes: readonly QueuedChange[]): string {
  return includes.map((c) => `${c.project} ${c.branch} ${c.ref} ${c.revision}`).join('\n');
}

/** The change a gate run tests, as a run's builder takes it. */
export function runChangeOf(item: QueuedChange, gerritUrl: string): ChangeRef {
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

export const changeIdOfItem = (item: Pick<QueuedChange, 'project' | 'change'>): string => `${item.project}~${item.change}`;

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
export function successReview(pipeline: Pipeline, item: QueuedChange, run: string): ReviewPlan {
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
export function refusalReview(pipeline: Pipeline, item: Pick<QueuedChange, 'project' | 'change' | 'revision'>, reason: string): ReviewPlan {
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
