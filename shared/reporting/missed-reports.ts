// The reconcile pass's share of reporting: completed Seakeeper Workflows whose report was never posted (the
// ApiServerSource was down, workflow-watch or the Broker lost the event, a claim was abandoned) are found by
// label across all namespaces and sent through the same path as a workflow.completed event (Reporter.report),
// a few at a time. A run that fails is counted and tried again on the next tick.
import { mapWithConcurrency } from '../concurrency.js';
import type { Env } from '../env.js';
import { loadAll, type SharedParts } from '../config/policy-env.js';
import { shouldRetry } from '../errors.js';
import type { ClusterApi } from '../k8s/cluster.js';
import { httpClusterFromEnv } from '../k8s/http-cluster.js';
import { COMPLETED_RUNS_SELECTOR, type LiveWorkflow } from '../runs/workflow.js';
import { listWorkflows, refOfWorkflow } from '../runs/workflow-store.js';
import { reportPending } from './report.js';
import { Reporter, type ReporterDeps } from './reporter.js';

export const MISSED_REPORTS_CONCURRENCY = 4;

export interface MissedReportsSummary {
  /** Completed Seakeeper Workflows listed. */
  readonly completed: number;
  /** Those whose report was pending. */
  readonly pending: number;
  /** Result of each report attempted (`reported`, `change-gone`, `in-progress`, …), counted. */
  readonly results: Readonly<Record<string, number>>;
  /** `namespace/name: message` of each that failed; `retryable` of them may succeed next time. */
  readonly failed: readonly string[];
  readonly retryable: number;
}

export async function reportMissed(
  cluster: Pick<ClusterApi, 'list'>,
  reporter: Pick<Reporter, 'report'>,
  options: { now?: Date; concurrency?: number } = {},
): Promise<MissedReportsSummary> {
  const now = options.now ?? new Date();
  const completed = await listWorkflows(cluster, undefined, COMPLETED_RUNS_SELECTOR);
  const pending = completed.filter((w) => reportPending(w, now).report);
  const outcomes = await mapWithConcurrency(pending, options.concurrency ?? MISSED_REPORTS_CONCURRENCY, async (workflow: LiveWorkflow): Promise<{ result: string } | { failed: LiveWorkflow; error: unknown }> => {
    try {
      return { result: String((await reporter.report(refOfWorkflow(workflow), workflow)).result) };
    } catch (error) {
      return { failed: workflow, error };
    }
  });
  const results: Record<string, number> = {};
  const failed: string[] = [];
  let retryable = 0;
  for (const outcome of outcomes) {
    if ('failed' in outcome) {
      const { namespace, name } = refOfWorkflow(outcome.failed);
      failed.push(`${namespace}/${name}: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`);
      if (shouldRetry(outcome.error)) retryable++;
    } else {
      results[outcome.result] = (results[outcome.result] ?? 0) + 1;
    }
  }
  return { completed: completed.length, pending: pending.length, results, failed, retryable };
}

/** The pass as the reconcile function runs it, configured like workflow-completed (see Reporter.fromEnv). */
export class MissedReports {
  constructor(
    readonly cluster: Pick<ClusterApi, 'list'>,
    readonly reporter: Pick<Reporter, 'report'>,
  ) {}

  /** `shared.cluster` is used as it is; else one is made from the environment. */
  static fromEnv(env: Env = process.env, shared: SharedParts = {}, gate?: ReporterDeps['gate']): MissedReports {
    const [cluster] = loadAll(() => shared.cluster ?? httpClusterFromEnv(env));
    return new MissedReports(cluster, Reporter.fromEnv(env, cluster, gate));
  }

  run(options: { now?: Date; concurrency?: number } = {}): Promise<MissedReportsSummary> {
    return reportMissed(this.cluster, this.reporter, options);
  }
}

/** The summary as fields of the reconcile log line (under `reports`). */
export function missedReportsFields(summary: MissedReportsSummary): Record<string, unknown> {
  return {
    completed: summary.completed,
    pending: summary.pending,
    ...summary.results,
    ...(summary.failed.length > 0 ? { failed: summary.failed.length, failures: summary.failed.slice(0, 20) } : {}),
  };
}
