// PingSource ticks: one reconcile pass — every Gerrit project's namespace made to match its config, drift
// repaired, orphans deprovisioned per policy (shared/provisioning/reconcile.ts) — then the finished runs whose
// report was never posted are reported (shared/reporting/missed-reports.ts), and the old change Leases the vote
// path claims on are deleted (shared/reporting/leases.ts). The event carries nothing the pass needs. What fails is counted in the log line and tried again on the next tick; the tick itself is not
// retried, since the next one comes anyway.
import { LeasePruner } from '../../shared/reporting/leases.js';
import { loadAll, unlessMisconfigured } from '../../shared/config/policy-env.js';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { cloudEventFunction } from '../../shared/events/handler.js';
import { log } from '../../shared/log.js';
import { GerritReconciler, summaryFields } from '../../shared/provisioning/reconcile.js';
import { MissedReports, missedReportsFields } from '../../shared/reporting/missed-reports.js';

type Passes = { namespaces: GerritReconciler; reports: MissedReports; leases: LeasePruner };
let served: Passes | undefined;

/** Checks the configuration (Gerrit, cluster, policy, pipelines, ARGO_UI_URL, SEAKEEPER_NAMESPACE): at start-up, when this function is served. */
export function startReconcile(env: NodeJS.ProcessEnv = process.env): Passes {
  // One HttpCluster for the two passes that use it (provisioning's uses ClusterClient).
  const shared = { cluster: unlessMisconfigured(() => httpClusterFromEnv(env)) };
  const [namespaces, reports, leases] = loadAll(
    () => GerritReconciler.fromEnv(env),
    () => MissedReports.fromEnv(env, shared),
    () => LeasePruner.fromEnv(env, shared),
  );
  served = { namespaces, reports, leases };
  return served;
}

export const reconcile = cloudEventFunction('reconcile', async () => {
  const { namespaces, reports, leases } = served ?? startReconcile();
  const summary = await namespaces.run({ onProgress: (progress) => log.debug({ fn: 'reconcile', ...progress }, 'progress') });
  return { ...summaryFields(summary), reports: missedReportsFields(await reports.run()), configCheckLeases: await leases.run() };
});
