// The capacity report's shell: reads Seakeeper's run history — the Workflows Argo's TTL still keeps, in one
// paged list across namespaces, and Argo's workflow archive when ARGO_SERVER_URL is set — hands it to the pure
// analysis (capacity.ts), and stores the result as a ConfigMap for the weekly run. `npm run capacity`
// (capacity-cli.ts) prints it instead.
//
// No request per Workflow: a list returns each Workflow whole, nodes included. The archive's list does not:
// since Argo 3.5 it answers with each run's metadata and phase only, so an archived run is counted under
// "no status.nodes" and adds no pods; reading each would be a request per run, which this report does not make.
import { loadAll } from '../config/policy-env.js';
import { httpUrl, loadEnv, optional, secret, type Env, type Secret } from '../env.js';
import { errorForStatus, networkError } from '../errors.js';
import type { ClusterApi, ClusterObject } from '../k8s/cluster.js';
import { clusterClientFromEnv } from '../k8s/cluster.js';
import { COMPONENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../names.js';
import { listWorkflows } from '../runs/workflow-store.js';
import { RUNS_SELECTOR } from '../runs/workflow.js';
import { analyseHistory, type CapacityOptions, type CapacityReport } from './capacity.js';
import { HistoryBuilder, type PodHistory } from './pod-intervals.js';
import { reportText } from './report-text.js';
import { concurrencyChart } from './svg-chart.js';

export const ARCHIVE_PAGE_SIZE = 500;
/** The ConfigMap the weekly run writes in the system namespace. */
export const CAPACITY_CONFIGMAP = 'seakeeper-capacity';

export const capacityEnv = {
  /** Argo's server (argo-server), for its workflow archive; unset: the archive is not read. */
  ARGO_SERVER_URL: optional(httpUrl()),
  /** A token argo-server accepts (`Bearer …` or the bare token); or ARGO_TOKEN_FILE. */
  ARGO_TOKEN: optional(secret()),
};

export interface ArgoArchive {
  readonly serverUrl: string;
  readonly token: Secret | undefined;
}

export interface CapacityConfig {
  readonly cluster: ClusterApi;
  readonly archive: ArgoArchive | undefined;
}

/** The cluster from KUBECONFIG (else the pod's ServiceAccount) and the archive's server; one ConfigError for every problem. */
export function capacityConfigFromEnv(env: Env = process.env): CapacityConfig {
  const [config, cluster] = loadAll(
    () => loadEnv(capacityEnv, env),
    () => clusterClientFromEnv(env),
  );
  return { cluster, archive: config.ARGO_SERVER_URL ? { serverUrl: config.ARGO_SERVER_URL, token: config.ARGO_TOKEN } : undefined };
}

export type Fetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

/**
 * Every archived Workflow matching `selector`, page by page (`listOptions.limit`, `listOptions.continue`), each
 * handed to `each` as its page arrives; resolves to how many there were.
 */
export async function listArchivedWorkflows(archive: ArgoArchive, selector: string, each: (workflow: unknown) => void, fetchPage: Fetch = fetch, pageSize = ARCHIVE_PAGE_SIZE): Promise<number> {
  let count = 0;
  const token = archive.token?.reveal();
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = token.startsWith('Bearer ') ? token : `Bearer ${token}`;
  let continueToken: string | undefined;
  do {
    const url = new URL('api/v1/archived-workflows', archive.serverUrl.endsWith('/') ? archive.serverUrl : `${archive.serverUrl}/`);
    url.searchParams.set('listOptions.labelSelector', selector);
    url.searchParams.set('listOptions.limit', String(pageSize));
    if (continueToken) url.searchParams.set('listOptions.continue', continueToken);
    const what = `GET ${url.origin}${url.pathname}`;
    let answer: { status: number; text(): Promise<string> };
    try {
      answer = await fetchPage(url.href, { headers, signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      throw networkError(`${what}: no answer`, err);
    }
    const body = await answer.text();
    if (answer.status !== 200) throw errorForStatus(answer.status, `${what}: ${answer.status} ${body.slice(0, 200)}`);
    const page = JSON.parse(body) as { items?: unknown[] | null; metadata?: { continue?: string } };
    for (const item of page.items ?? []) each(item);
    count += page.items?.length ?? 0;
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);
  return count;
}

export interface RunHistory {
  readonly pods: PodHistory;
  /** What was read from where, for the report. */
  readonly notes: string[];
}

/**
 * The pods of Seakeeper's runs: the live Workflows first, then the archived ones (where a run is in both, its
 * live copy, with nodes, is the one read). Each Workflow is turned into its pods as its page arrives and then
 * dropped, so a month of runs is held as intervals, not as Workflows. `now` ends the pods still running.
 */
export async function readRunHistory(cluster: Pick<ClusterApi, 'list'>, archive: ArgoArchive | undefined, now: number, fetchPage?: Fetch): Promise<RunHistory> {
  const builder = new HistoryBuilder(now);
  let live = 0;
  await listWorkflows(cluster, undefined, RUNS_SELECTOR, {
    each: (workflow) => {
      live += 1;
      builder.add(workflow);
    },
  });
  const notes = [`Read ${live} Workflows kept in the cluster (all namespaces, -l ${RUNS_SELECTOR}).`];
  if (!archive) {
    notes.push("Argo's workflow archive: not read (ARGO_SERVER_URL is not set); runs the TTL has deleted are missing.");
    return { pods: builder.history(), notes };
  }
  const archived = await listArchivedWorkflows(archive, RUNS_SELECTOR, (workflow) => builder.add(workflow), fetchPage);
  notes.push(
    `Read ${archived} archived Workflows from ${archive.serverUrl}; Argo lists archived runs without status.nodes, so those not also in the cluster add no pods (counted under "no status.nodes").`,
  );
  return { pods: builder.history(), notes };
}

export interface CapacityOutput {
  readonly report: CapacityReport;
  readonly text: string;
  readonly svg: string;
}

export async function capacityReport(config: { cluster: Pick<ClusterApi, 'list'>; archive: ArgoArchive | undefined }, options: CapacityOptions, fetchPage?: Fetch): Promise<CapacityOutput> {
  const history = await readRunHistory(config.cluster, config.archive, options.now, fetchPage);
  const report = analyseHistory(history.pods, options);
  return { report, text: reportText(report, history.notes), svg: concurrencyChart(report) };
}

export interface CapacityConfigMap extends ClusterObject {
  data: Record<string, string>;
}

/** The weekly run's result as a ConfigMap: the JSON summary, the text report and the chart. */
export function capacityToConfigMap(output: CapacityOutput, namespace: string): CapacityConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: CAPACITY_CONFIGMAP,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [COMPONENT_LABEL]: 'capacity' },
      annotations: { 'seakeeper.dev/generated-at': output.report.generatedAt },
    },
    data: { 'report.json': `${JSON.stringify(output.report)}\n`, 'report.txt': output.text, 'chart.svg': output.svg },
  };
}

/** What a weekly PingSource's function does: the report, applied as CAPACITY_CONFIGMAP in `namespace`. */
export async function writeCapacityConfigMap(
  config: { cluster: Pick<ClusterApi, 'list' | 'apply'>; archive: ArgoArchive | undefined },
  namespace: string,
  options: CapacityOptions,
  fetchPage?: Fetch,
): Promise<CapacityReport> {
  const output = await capacityReport(config, options, fetchPage);
  await config.cluster.apply(capacityToConfigMap(output, namespace));
  return output.report;
}
