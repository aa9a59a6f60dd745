// The status page's shell: one list of the ChangeQueues in the system namespace and one of Seakeeper's
// Workflows in every namespace, each by label selector and from the API server's watch cache (a few seconds
// old at most, and no consistent read that waits on writes elsewhere), then the pure view of status-view.ts.
// Nothing is read per item, and nothing is written. Then Gerrit is asked, as anyone (no credentials), which of
// the changes the view names it shows to the public, a hundred a query; the others are taken out
// (public-view.ts): the page is public, and a read-restricted project's changes run too. A run of a ref that no
// change stands for is shown when Gerrit shows its ref to anyone (one anonymous read per such ref).
import type { Pipeline } from '../config/pipeline-config.js';
import type { ClusterApi } from '../k8s/api.js';
import { COMPONENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../names.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND } from '../pipelines/change-queue.js';
import { CHANGE_QUEUE_COMPONENT, type ChangeQueueObject } from '../pipelines/queue-store.js';
import { RUNS_SELECTOR } from '../runs/workflow.js';
import { listWorkflows } from '../runs/workflow-store.js';
import { encodeId, type GerritRest } from '../gerrit/rest.js';
import { changesNamed, publicView, refKey, refsNamed } from './public-view.js';
import { NotFoundError } from '../errors.js';
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

/** The REST path that shows a branch or tag to whoever may read it; none for other refs (never public here). */
function refPath(project: string, ref: string): string | undefined {
  const base = `projects/${encodeId(project)}`;
  if (ref.startsWith('refs/heads/')) return `${base}/branches/${encodeId(ref.slice('refs/heads/'.length))}`;
  if (ref.startsWith('refs/tags/')) return `${base}/tags/${encodeId(ref.slice('refs/tags/'.length))}`;
  return undefined;
}

/**
 * Which of the refs Gerrit shows to anyone who is not signed in (refKey): one anonymous read each, at once. A
 * ref, not its project: Gerrit shows a project's name to anyone even where its branches are read-restricted.
 */
export async function publicRefs(gerrit: Pick<GerritRest, 'json'>, refs: ReadonlyArray<{ project: string; ref: string }>): Promise<Set<string>> {
  const shown = await Promise.all(
    refs.map(async ({ project, ref }) => {
      const path = refPath(project, ref);
      if (path === undefined) return undefined;
      try {
        await gerrit.json('GET', path);
        return refKey(project, ref);
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    }),
  );
  return new Set(shown.filter((key): key is string => key !== undefined));
}

/** Lists both kinds at once and builds the view as of the moment the lists were asked for. */
export async function readStatus(deps: StatusSourceDeps): Promise<StatusView> {
  const now = (deps.now ?? (() => new Date()))();
  const [queues, workflows] = await Promise.all([
    deps.cluster.list<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, deps.namespace, CHANGE_QUEUES_SELECTOR, { fromCache: true }),
    listWorkflows(deps.cluster, undefined, RUNS_SELECTOR, { fromCache: true }),
  ]);
  const view = buildStatusView({ now, pipelines: deps.pipelines, queues, workflows, gerritUrl: deps.gerritUrl, argoUiUrl: deps.argoUiUrl });
  const [changes, refs] = await Promise.all([publicChanges(deps.publicGerrit, changesNamed(view)), publicRefs(deps.publicGerrit, refsNamed(view))]);
  return publicView(view, changes, refs);
}
