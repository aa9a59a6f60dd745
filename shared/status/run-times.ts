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
  /** Argo's estimate of the whole run (`status.estimatedDuration`, from earlier runs of the same template), when it has one. */
  readonly estimatedSeconds?: number;
  /** The estimate less the time elapsed, never below 0; only while the run goes and Argo has an estimate. */
  readonly remainingSeconds?: number;
}

export function runTimes(workflow: Pick<LiveWorkflow, 'metadata' | 'status'>, now: number): RunTimes {
  const started = timeOf(workflow.status?.startedAt) ?? timeOf(workflow.metadata.creationTimestamp) ?? now;
  const finished = timeOf(workflow.status?.finishedAt);
  const elapsedSeconds = Math.max(0, Math.floor(((finished ?? now) - started) / 1000));
  const estimate = workflow.status?.estimatedDuration;
  if (typeof estimate !== 'number' || !Number.isFinite(estimate) || estimate <= 0) return { elapsedSeconds };
  const estimatedSeconds = Math.round(estimate);
  if (finished !== undefined) return { elapsedSeconds, estimatedSeconds };
  return { elapsedSeconds, estimatedSeconds, remainingSeconds: Math.max(0, estimatedSeconds - elapsedSeconds) };
}

/** The nearest-rank percentile (0 < p ≤ 100) of `values`; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}
