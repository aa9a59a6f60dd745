// gerrit.patchset-created (and gerrit.wip-state-changed: a change marked ready for review is tested like a new
// patch set). On refs/meta/config: the config check before merge — seakeeper.yaml and its workflow files at the
// patch set, voted Verified +1 or -1 with located errors (shared/pipelines/config-review.ts). On any other branch:
// the pipelines it triggers, their Workflows created and superseded runs stopped (shared/pipelines/carry-out.ts),
// and an older patch set of the change taken out of its gate queue (shared/pipelines/gate.ts).
import { isConfigPatchSet, ConfigReviewer } from '../../shared/pipelines/config-review.js';
import { loadAll, policyFromEnv, unlessMisconfigured } from '../../shared/config/policy-env.js';
import { gerritClientFromEnv } from '../../shared/gerrit/env.js';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { cloudEventFunction } from '../../shared/events/handler.js';
import { CarryOut } from '../../shared/pipelines/carry-out.js';

let served: { config: ConfigReviewer; pipelines: CarryOut } | undefined;

/** Checks the configuration (Gerrit, cluster, policy, pipelines, ARGO_UI_URL, SEAKEEPER_NAMESPACE): at start-up, when this function is served. */
export function startPatchsetCreated(env: NodeJS.ProcessEnv = process.env): { config: ConfigReviewer; pipelines: CarryOut } {
  // One Gerrit client, cluster client and policy for both halves.
  const shared = {
    gerrit: unlessMisconfigured(() => gerritClientFromEnv(env)),
    cluster: unlessMisconfigured(() => httpClusterFromEnv(env)),
    policy: unlessMisconfigured(() => policyFromEnv(env)),
  };
  const [config, pipelines] = loadAll(
    () => ConfigReviewer.fromEnv(env, shared),
    () => CarryOut.fromEnv(env, shared),
  );
  served = { config, pipelines };
  return served;
}

export const patchsetCreated = cloudEventFunction('patchset-created', (event) => {
  const { config, pipelines } = served ?? startPatchsetCreated();
  return isConfigPatchSet(event) ? config.handle(event) : pipelines.handle(event);
});
