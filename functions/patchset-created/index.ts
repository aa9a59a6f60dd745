// gerrit.patchset-created. On refs/meta/config: the config check before merge — seakeeper.yaml and its
// workflow files at the patch set, voted Verified +1 or -1 with located errors (shared/config/config-review.ts).
// On any other branch the pipelines (submitting Workflows) are not built yet: it refuses those events
// (NotImplementedError), so nothing is acknowledged without being handled.
import { ConfigReviewer } from '../../shared/config/config-review.js';
import { cloudEventFunction } from '../../shared/events/handler.js';

let served: ConfigReviewer | undefined;

/** Checks the configuration (Gerrit, policy): at start-up, when this function is served. */
export function startPatchsetCreated(env: NodeJS.ProcessEnv = process.env): ConfigReviewer {
  served = ConfigReviewer.fromEnv(env);
  return served;
}

export const patchsetCreated = cloudEventFunction('patchset-created', (event) => (served ?? startPatchsetCreated()).handle(event));
