// gerrit.comment-added: a `recheck` (or another command a pipeline's trigger names) runs the pipelines again
// (shared/pipelines/carry-out.ts); Code-Review +2 enqueues the change in its gate queue, and taking it back
// dequeues it (shared/pipelines/gate.ts). gerrit.change-merged and gerrit.change-abandoned (Trigger
// change-closed): the change's runs that are still going are stopped, never reported
// (shared/pipelines/closed-change.ts), and the change leaves its gate queue.
import { cloudEventFunction } from '../../shared/events/handler.js';
import { CarryOut } from '../../shared/pipelines/carry-out.js';

let served: CarryOut | undefined;

/** Checks the configuration (Gerrit, cluster, policy, pipelines, ARGO_UI_URL): at start-up, when this function is served. */
export function startCommentAdded(env: NodeJS.ProcessEnv = process.env): CarryOut {
  served = CarryOut.fromEnv(env);
  return served;
}

export const commentAdded = cloudEventFunction('comment-added', (event) => (served ?? startCommentAdded()).handleChangeEvent(event));
