// The times the status page shows, from a Workflow's own timestamps and Argo's estimate; pure, with the clock
// passed in, so that every figure on the page is "as of" the one instant the view was built at.
import type { LiveWorkflow } from '../runs/workflow.js';

/** Milliseconds since the epoch of an RFC 3339 time (or a Date, as client libraries hand it over); undefined when absent or unreadable. */
export function timeOf(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface RunTimes {
  /** Whole seconds from Argo's start (or the Workflow's creation, before Argo picked it up) to its end, or to now. */
  readonly elapsedSeconds: number;
  /** How long the whole run should take, when something says so (estimateFrom). */
  readonly estimatedSeconds?: number;
  /**
   * `argo`: Argo's `status.estimatedDuration`, which it gives only to runs of a WorkflowTemplate or CronWorkflow
   * (Seakeeper's runs carry a copy of the checked spec, so in practice never); `history`: the median duration of
   * the project's runs of the pipeline that succeeded and are still listed.
   */
  readonly estimateFrom?: 'argo' | 'history';
  /** The estimate less the time elapsed, never below 0; only while the run goes and there is an estimate. */
  readonly remainingSeconds?: number;
}

/** Whole seconds a finished run took; undefined unless both ends are known. */
export function durationOf(workflow: Pick<LiveWorkflow, 'status'>): number | undefined {
  const started = timeOf(workflow.status?.startedAt);
  const finished = timeOf(workflow.status?.finishedAt);
  return started === undefined || finished === undefined || finished < started ? undefined : Math.floor((finished - started) / 1000);
}

/** `history`: the estimate to fall back on when Argo has none (see estimateFrom). */
export function runTimes(workflow: Pick<LiveWorkflow, 'metadata' | 'status'>, now: number, history?: number): RunTimes {
  const started = timeOf(workflow.status?.startedAt) ?? timeOf(workflow.metadata.creationTimestamp) ?? now;
  const finished = timeOf(workflow.status?.finishedAt);
  const elapsedSeconds = Math.max(0, Math.floor(((finished ?? now) - started) / 1000));
  const argo = workflow.status?.estimatedDuration;
  const fromArgo = typeof argo === 'number' && Number.isFinite(argo) && argo > 0;
  if (!fromArgo && history === undefined) return { elapsedSeconds };
  const estimatedSeconds = fromArgo ? Math.round(argo) : history!;
  const estimate = { elapsedSeconds, estimatedSeconds, estimateFrom: fromArgo ? ('argo' as const) : ('history' as const) };
  if (finished !== undefined) return estimate;
  return { ...estimate, remainingSeconds: Math.max(0, estimatedSeconds - elapsedSeconds) };
}
