// The status page's shell: one list of the ChangeQueues in the system namespace and one of Seakeeper's
// Workflows in every namespace, each by label selector and from the API server's watch cache (a few seconds
// old at most, and no consistent read that waits on writes elsewhere), then the pure view of status-view.ts.
// Nothing is read per item, and nothing is written.
import type { Pipeline } from '../config/pipeline-config.js';
import type { ClusterApi } from '../k8s/api.js';
import { COMPONENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../names.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND } from '../pipelines/change-queue.js';
import { CHANGE_QUEUE_COMPONENT, type ChangeQueueObject } from '../pipelines/queue-store.js';
import { RUNS_SELECTOR } from '../runs/workflow.js';
import { listWorkflows } from '../runs/workflow-store.js';
import { buildStatusView, type StatusView } from './status-view.js';

/** The labels every ChangeQueue carries (queue-store.ts, changeQueueObject). */
export const CHANGE_QUEUES_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${COMPONENT_LABEL}=${CHANGE_QUEUE_COMPONENT}`;

export interface StatusSourceDeps {
  readonly cluster: Pick<ClusterApi, 'list'>;
  /** The system namespace, the only place ChangeQueues are read from. */
  readonly namespace: string;
  readonly pipelines: readonly Pipeline[];
  readonly gerritUrl: string;
  readonly argoUiUrl: string;
  readonly now?: () => Date;
}

/** Lists both kinds at once and builds the view as of the moment the lists were asked for. */
export async function readStatus(deps: StatusSourceDeps): Promise<StatusView> {
  const now = (deps.now ?? (() => new Date()))();
  const [queues, workflows] = await Promise.all([
    deps.cluster.list<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, deps.namespace, CHANGE_QUEUES_SELECTOR, { fromCache: true }),
    listWorkflows(deps.cluster, undefined, RUNS_SELECTOR, { fromCache: true }),
  ]);
  return buildStatusView({ now, pipelines: deps.pipelines, queues, workflows, gerritUrl: deps.gerritUrl, argoUiUrl: deps.argoUiUrl });
}
