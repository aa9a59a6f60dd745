// PingSource ticks: one reconcile pass — every Gerrit project's namespace made to match its config, drift
// repaired, orphans deprovisioned per policy (shared/provisioning/reconcile.ts). The event carries nothing
// the pass needs. Projects that fail are counted in the log line and tried again on the next tick; the tick
// itself is not retried, since the next one comes anyway.
import { cloudEventFunction } from '../../shared/events/handler.js';
import { log } from '../../shared/log.js';
import { GerritReconciler, summaryFields } from '../../shared/provisioning/reconcile.js';

let served: GerritReconciler | undefined;

/** Checks the configuration (Gerrit, cluster, policy): at start-up, when this function is served. */
export function startReconcile(env: NodeJS.ProcessEnv = process.env): GerritReconciler {
  served = GerritReconciler.fromEnv(env);
  return served;
}

export const reconcile = cloudEventFunction('reconcile', async () => {
  const summary = await (served ?? startReconcile()).run({ onProgress: (progress) => log.debug({ fn: 'reconcile', ...progress }, 'progress') });
  return summaryFields(summary);
});
