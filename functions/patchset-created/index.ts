// gerrit.patchset-created (and gerrit.wip-state-changed: a change marked ready for review is tested like a new
// patch set). On refs/meta/config: the config check before merge — seakeeper.yaml and its workflow files at the
// patch set, voted Verified +1 or -1 with located errors (shared/config/config-review.ts). On any other branch:
// the pipelines it triggers, their Workflows submitted and superseded runs stopped (shared/pipelines/submit.ts).
import { isConfigPatchSet, ConfigReviewer } from '../../shared/config/config-review.js';
import { loadAll } from '../../shared/config/policy-env.js';
import { cloudEventFunction } from '../../shared/events/handler.js';
import { PipelineTrigger } from '../../shared/pipelines/submit.js';

let served: { config: ConfigReviewer; pipelines: PipelineTrigger } | undefined;

/** Checks the configuration (Gerrit, cluster, policy, pipelines, ARGO_UI_URL): at start-up, when this function is served. */
export function startPatchsetCreated(env: NodeJS.ProcessEnv = process.env): { config: ConfigReviewer; pipelines: PipelineTrigger } {
  const [config, pipelines] = loadAll(
    () => ConfigReviewer.fromEnv(env),
    () => PipelineTrigger.fromEnv(env),
  );
  served = { config, pipelines };
  return served;
}

export const patchsetCreated = cloudEventFunction('patchset-created', (event) => {
  const { config, pipelines } = served ?? startPatchsetCreated();
  return isConfigPatchSet(event) ? config.handle(event) : pipelines.handle(event);
});
