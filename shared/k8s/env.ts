// The variables every process that talks to the cluster reads, whichever client it uses: KUBECONFIG (else the
// pod's ServiceAccount, as Knative runs us), a deadline per request, and the system namespace. Checked at
// start-up with errors that name the variable. Imports nothing of either client, so that loading it costs
// HttpCluster's users nothing of client-node.
import { ConfigError, integer, loadEnv, text, withDefault, type Env } from '../env.js';
import { DEFAULT_TIMEOUT_MS, type ClusterClientOptions } from './api.js';

/** Where Seakeeper's own objects live (a literal on the Service: Knative refuses fieldRef by default). */
export const systemNamespaceEnv = { SEAKEEPER_NAMESPACE: text() };

export const kubernetesEnv = {
  KUBERNETES_TIMEOUT_MS: withDefault(integer({ min: 100, max: 300_000 }), DEFAULT_TIMEOUT_MS),
};

/** A client made with KUBERNETES_TIMEOUT_MS, an unreadable KUBECONFIG reported as the variable's problem. */
export function clusterFromEnvWith<C>(make: (options: ClusterClientOptions) => C, env: Env = process.env): C {
  const { KUBERNETES_TIMEOUT_MS: timeoutMs } = loadEnv(kubernetesEnv, env);
  try {
    return make({ timeoutMs });
  } catch (err) {
    if (err instanceof ConfigError || !env.KUBECONFIG) throw err;
    throw new ConfigError([`KUBECONFIG names a kubeconfig that cannot be loaded (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
}
