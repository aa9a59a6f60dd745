// The status page's shell: one list of the ChangeQueues in the system namespace and one of Seakeeper's
// Workflows in every namespace, each by label selector and from the API server's watch cache (a few seconds
// old at most, and no consistent read that waits on writes elsewhere), then the pure view of status-view.ts.
// Nothing is read per item, and nothing is written. Then Gerrit is asked, as anyone (no credentials), which of
// the changes the view names it shows to the public, a hundred a query; the others are taken out
// (public-view.ts): the page is public, and a read-restricted project's changes run too.
import type { Pipeline } from '../config/pipeline-config.js';
import type { ClusterApi } from '../k8s/api.js';
import { COMPONENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../names.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND } from '../pipelines/change-queue.js';
import { CHANGE_QUEUE_COMPONENT, type ChangeQueueObject } from '../pipelines/queue-store.js';
import { RUNS_SELECTOR } from '../runs/workflow.js';
import { listWorkflows } from '../runs/workflow-store.js';
import type { GerritRest } from '../gerrit/rest.js';
import { changesNamed, publicView } from './public-view.js';
import { buildStatusView, type StatusView } from './status-view.js';

/** Change numbers per anonymous query (`change:1 OR change:2 …`): well inside Gerrit's query and URL limits. */
export const PUBLIC_QUERY_CHANGES = 100;

/** The labels every ChangeQueue carries (queue-store.ts, changeQueueObject). */
export const CHANGE_QUEUES_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${COMPONENT_LABEL}=${CHANGE_QUEUE_COMPONENT}`;

export interface StatusSourceDeps {
  readonly cluster: Pick<ClusterApi, 'list'>;
  /** The system namespace, the only place ChangeQueues are read from. */
  readonly namespace: string;
  readonly pipelines: readonly Pipeline[];
  readonly gerritUrl: string;
  readonly argoUiUrl: string;
  /** Gerrit without credentials (GerritRest with an AnonymousConnection). */
  readonly publicGerrit: Pick<GerritRest, 'json'>;
  readonly now?: () => Date;
}

/** The anonymous queries publicChanges makes for `numbers`: `change:1 OR change:2 …`, PUBLIC_QUERY_CHANGES each. */
export function publicQueries(numbers: readonly number[]): Array<{ q: string; n: number }> {
  const queries: Array<{ q: string; n: number }> = [];
  for (let i = 0; i < numbers.length; i += PUBLIC_QUERY_CHANGES) {
    const batch = numbers.slice(i, i + PUBLIC_QUERY_CHANGES);
    queries.push({ q: batch.map((n) => `change:${n}`).join(' OR '), n: batch.length });
  }
  return queries;
}

/** Which of `numbers` Gerrit shows to anyone who is not signed in (the queries at once). */
export async function publicChanges(gerrit: Pick<GerritRest, 'json'>, numbers: readonly number[]): Promise<Set<number>> {
  const answers = await Promise.all(publicQueries(numbers).map((query) => gerrit.json<Array<{ _number: number }>>('GET', 'changes/', { query })));
  return new Set(answers.flatMap((found) => (found ?? []).map((change) => change._number)));
}

/** Lists both kinds at once and builds the view as of the moment the lists were asked for. */
export async function readStatus(deps: StatusSourceDeps): Promise<StatusView> {
  const now = (deps.now ?? (() => new Date()))();
  const [queues, workflows] = await Promise.all([
    deps.cluster.list<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, deps.namespace, CHANGE_QUEUES_SELECTOR, { fromCache: true }),
    listWorkflows(deps.cluster, undefined, RUNS_SELECTOR, { fromCache: true }),
  ]);
  const view = buildStatusView({ now, pipelines: deps.pipelines, queues, workflows, gerritUrl: deps.gerritUrl, argoUiUrl: deps.argoUiUrl });
  return publicView(view, await publicChanges(deps.publicGerrit, changesNamed(view)));
}
