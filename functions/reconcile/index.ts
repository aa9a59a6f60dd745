// PingSource ticks: one reconcile pass — every Gerrit project's namespace made to match its config, drift
// repaired, orphans deprovisioned per policy (shared/provisioning/reconcile.ts) — then the finished runs whose
// report was never posted are reported (shared/reporting/missed-reports.ts), and the old change Leases the vote
// path claims on are deleted (shared/reporting/leases.ts), and every gate queue is ticked: what its
// decisions owe is carried out again and runs it no longer names are stopped (shared/pipelines/gate.ts). The event carries nothing the pass needs. What fails is counted in the log line and tried again on the next tick; the tick itself is not
// retried, since the next one comes anyway. The tick is also the clock of the timer pipelines: those whose schedule
// came due since the tick before start their runs (shared/pipelines/timers.ts).
import { LeasePruner } from '../../shared/reporting/leases.js';
import { gerritClientFromEnv } from '../../shared/gerrit/env.js';
import { Gate } from '../../shared/pipelines/gate.js';
import { loadAll, unlessMisconfigured } from '../../shared/config/policy-env.js';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { cloudEventFunction } from '../../shared/events/handler.js';
import { log } from '../../shared/log.js';
import { GerritReconciler, summaryFields } from '../../shared/provisioning/reconcile.js';
import { MissedReports, missedReportsFields } from '../../shared/reporting/missed-reports.js';
import { TimerPass } from '../../shared/pipelines/timers.js';

type Passes = { namespaces: GerritReconciler; reports: MissedReports; leases: LeasePruner; gate: Gate; timers: TimerPass };
let served: Passes | undefined;

/** Checks the configuration (Gerrit, cluster, policy, pipelines, ARGO_UI_URL, SEAKEEPER_NAMESPACE): at start-up, when this function is served. */
export function startReconcile(env: NodeJS.ProcessEnv = process.env): Passes {
  // One HttpCluster for the two passes that use it (provisioning's uses ClusterClient).
  const shared = { cluster: unlessMisconfigured(() => httpClusterFromEnv(env)), gerrit: unlessMisconfigured(() => gerritClientFromEnv(env)) };
  const [namespaces, gate, leases, timers] = loadAll(
    () => GerritReconciler.fromEnv(env),
    () => Gate.fromEnv(env, shared),
    () => LeasePruner.fromEnv(env, shared),
    () => TimerPass.fromEnv(env, shared),
  );
  // Gate runs whose workflow.completed was missed go into their queues on the way.
  const [reports] = loadAll(() => MissedReports.fromEnv(env, shared, gate));
  served = { namespaces, reports, leases, gate, timers };
  return served;
}

export const reconcile = cloudEventFunction('reconcile', async (event) => {
  const { namespaces, reports, leases, gate, timers } = served ?? startReconcile();
  // The PingSource's scheduled time, not the delivery's: a retried tick runs the same timers.
  const tick = typeof event.time === 'string' && Number.isFinite(Date.parse(event.time)) ? new Date(event.time) : new Date();
  const summary = await namespaces.run({ onProgress: (progress) => log.debug({ fn: 'reconcile', ...progress }, 'progress') });
  const missed = missedReportsFields(await reports.run());
  return { ...summaryFields(summary), reports: missed, gateQueues: await gate.tick(), configCheckLeases: await leases.run(), timers: await timers.run(tick) };
});
