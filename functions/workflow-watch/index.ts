// Reference events of the ApiServerSource on Seakeeper's Workflows: once a Workflow has finished, one
// workflow.completed goes to K_SINK (shared/reporting/watcher.ts).
import { cloudEventFunction } from '../../shared/events/handler.js';
import { CompletionWatcher } from '../../shared/reporting/watcher.js';

let served: CompletionWatcher | undefined;

/** Checks the configuration (cluster, K_SINK, CLUSTER_URL): at start-up, when this function is served. */
export function startWorkflowWatch(env: NodeJS.ProcessEnv = process.env): CompletionWatcher {
  served = CompletionWatcher.fromEnv(env);
  return served;
}

export const workflowWatch = cloudEventFunction('workflow-watch', (event) => (served ?? startWorkflowWatch()).handle(event));
