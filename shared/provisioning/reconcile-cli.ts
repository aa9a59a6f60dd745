// `npm run reconcile`: one reconcile pass from a shell, configured like the reconcile function (GERRIT_URL,
// GERRIT_USER, GERRIT_PASSWORD or GERRIT_PASSWORD_FILE, KUBECONFIG, RECONCILE_CONCURRENCY, …). A progress
// line goes to stderr every few seconds; the summary, with the API requests made, is printed as JSON on
// stdout. Exit status: 0 done, 1 some projects failed (they are listed), 2 bad configuration.
import { ConfigError } from '../env.js';
import { CountingCluster } from '../k8s/counting.js';
import { provisionerConfigFromEnv, type ProvisionerConfig } from './env.js';
import { GerritReconciler } from './reconcile.js';

const PROGRESS_INTERVAL_MS = 2_000;

async function main(): Promise<number> {
  let config: ProvisionerConfig;
  try {
    config = provisionerConfigFromEnv();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`reconcile: ${err.message}\n`);
    return 2;
  }
  const cluster = new CountingCluster(config.cluster);
  const summary = await new GerritReconciler({ ...config, cluster }).run({
    progressIntervalMs: PROGRESS_INTERVAL_MS,
    onProgress: ({ done, total, ms }) => process.stderr.write(`reconcile: ${done}/${total} projects, ${(ms / 1000).toFixed(1)} s\n`),
  });
  process.stdout.write(`${JSON.stringify({ ...summary, api: cluster.counts }, null, 2)}\n`);
  return summary.failed > 0 ? 1 : 0;
}

process.exitCode = await main();
