// The variables a function that talks to the cluster reads: KUBECONFIG (else the pod's ServiceAccount, as
// Knative runs us) and a deadline per request. Checked at start-up with errors that name the variable.
// (The same for HttpCluster: httpClusterFromEnv in http-cluster.ts, which this file's import of client-node
// would defeat.)
import type { Env } from '../env.js';
import { ClusterClient } from './cluster.js';
import { clusterFromEnvWith } from './http-cluster.js';

export { kubernetesEnv } from './http-cluster.js';

/** ClusterClient.fromEnv with KUBERNETES_TIMEOUT_MS, an unreadable KUBECONFIG reported as the variable's problem. */
export function clusterClientFromEnv(env: Env = process.env): ClusterClient {
  return clusterFromEnvWith((options) => ClusterClient.fromEnv(env, options), env);
}
