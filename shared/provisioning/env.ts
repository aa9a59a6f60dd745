// The configuration of the functions that provision namespaces (project-config-changed, reconcile), from
// environment variables, checked at start-up with errors that name the variable: Gerrit (gerritEnv), the
// cluster (kubernetesEnv), the system policy (policyEnv) and the knobs below.
import { integer, loadEnv, withDefault, type Env } from '../env.js';
import { MAX_CONCURRENCY, reconcileConcurrencyEnv } from '../concurrency.js';
import { loadAll, policyFromEnv } from '../config/policy-env.js';
import type { Policy } from '../config/policy.js';
import type { GerritClient } from '../gerrit/client.js';
import { gerritClientFromEnv } from '../gerrit/env.js';
import type { ClusterApi } from '../k8s/cluster.js';
import { clusterClientFromEnv } from '../k8s/cluster.js';

/** Inheriting descendants of a changed project provisioned at once. */
export const DEFAULT_PROVISION_CONCURRENCY = 8;

export const provisionerEnv = {
  /** project-config-changed: how many inheriting descendants of a changed project are provisioned at once. */
  PROVISION_CONCURRENCY: withDefault(integer({ min: 1, max: MAX_CONCURRENCY }), DEFAULT_PROVISION_CONCURRENCY),
  ...reconcileConcurrencyEnv,
};

export interface ProvisionerConfig {
  readonly gerrit: GerritClient;
  readonly cluster: ClusterApi;
  readonly policy: Policy;
  readonly provisionConcurrency: number;
  readonly reconcileConcurrency: number;
}

/**
 * Everything a provisioning function needs — Gerrit (GERRIT_*), the cluster, the policy (SEAKEEPER_POLICY_FILE)
 * and the knobs above; throws one ConfigError listing every problem.
 */
export function provisionerConfigFromEnv(env: Env = process.env): ProvisionerConfig {
  const [config, gerrit, policy, cluster] = loadAll(
    () => loadEnv(provisionerEnv, env),
    () => gerritClientFromEnv(env),
    () => policyFromEnv(env),
    () => clusterClientFromEnv(env),
  );
  return { gerrit, cluster, policy, provisionConcurrency: config.PROVISION_CONCURRENCY, reconcileConcurrency: config.RECONCILE_CONCURRENCY };
}
