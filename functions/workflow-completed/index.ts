// workflow.completed: the run's report, with the pipeline's vote, on the revision it tested
// (shared/reporting/reporter.ts); a run of a gate pipeline instead goes into its queue, which votes, submits
// and starts what follows (shared/pipelines/gate.ts).
import { loadAll, unlessMisconfigured } from '../../shared/config/policy-env.js';
import { gerritClientFromEnv } from '../../shared/gerrit/env.js';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { cloudEventFunction } from '../../shared/events/handler.js';
import { Gate } from '../../shared/pipelines/gate.js';
import { Reporter } from '../../shared/reporting/reporter.js';

let served: Reporter | undefined;

/** Checks the configuration (Gerrit, cluster, pipelines, ARGO_UI_URL, ARTIFACT_BASE_URL, SEAKEEPER_NAMESPACE): at start-up, when this function is served. */
export function startWorkflowCompleted(env: NodeJS.ProcessEnv = process.env): Reporter {
  const shared = { gerrit: unlessMisconfigured(() => gerritClientFromEnv(env)), cluster: unlessMisconfigured(() => httpClusterFromEnv(env)) };
  const [gate, reporter] = loadAll(
    () => Gate.fromEnv(env, shared),
    () => Reporter.fromEnv(env, shared.cluster),
  );
  served = new Reporter({ ...reporter.deps, gate });
  return served;
}

export const workflowCompleted = cloudEventFunction('workflow-completed', (event) => (served ?? startWorkflowCompleted()).handle(event));
