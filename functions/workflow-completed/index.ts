// workflow.completed: the run's report, with the pipeline's vote, on the revision it tested
// (shared/reporting/reporter.ts). Gate pipelines' decisions come with the gating issue.
import { cloudEventFunction } from '../../shared/events/handler.js';
import { Reporter } from '../../shared/reporting/reporter.js';

let served: Reporter | undefined;

/** Checks the configuration (Gerrit, cluster, pipelines, ARGO_UI_URL, ARTIFACT_BASE_URL): at start-up, when this function is served. */
export function startWorkflowCompleted(env: NodeJS.ProcessEnv = process.env): Reporter {
  served = Reporter.fromEnv(env);
  return served;
}

export const workflowCompleted = cloudEventFunction('workflow-completed', (event) => (served ?? startWorkflowCompleted()).handle(event));
