// A reconcile pass: make every project's namespace match its config, whatever events were missed. Run by
// the `reconcile` function on PingSource ticks and by `npm run reconcile`.
//
// The catalog says which projects exist and how to read their configs (Gerrit: `/projects/?type=CODE`, with
// the whole parent tree listed once). The cluster is read once — every namespace, and each managed kind
// cluster-wide by our label — instead of several reads per project, so a pass over an unchanged world costs
// a few lists and Gerrit reads and no writes. Namespaces labelled as ours whose project is not in the
// catalog (deleted, hidden) are orphans: planned like any project, which deprovisions them per policy.
// Projects run with bounded concurrency; one project's failure is counted and the pass goes on.
import { resolveEffectiveConfig, type ProjectConfigReader } from '../config/inheritance.js';
import type { Policy } from '../config/policy.js';
import { mapWithConcurrency } from '../concurrency.js';
import type { GerritApi } from '../gerrit/client.js';
import type { Env } from '../env.js';
import { GerritConfigReader, type ConfigReaderGerrit } from './config-reader.js';
import { provisionerConfigFromEnv, type ProvisionerConfig } from './env.js';
import { managedProjects, Provisioner, snapshotSource, takeSnapshot, type Outcome, type ProjectSummary, type ProvisionerCluster } from './provisioner.js';

export interface ProjectCatalog {
  /** The projects to provision. */
  readonly projects: readonly string[];
  /** seakeeper.yaml texts and parents; NotFoundError (from parentOf) for a project that does not exist. */
  readonly reader: ProjectConfigReader;
}

/**
 * Gerrit's code projects (All-Projects and All-Users hold permissions and accounts, not code), with every
 * project's parent from one listing of the whole tree, so the walk needs no call per parent.
 */
export async function gerritCatalog(gerrit: ConfigReaderGerrit & Pick<GerritApi, 'listProjects'>): Promise<ProjectCatalog> {
  const [all, code] = await Promise.all([gerrit.listProjects('ALL', { parents: true }), gerrit.listProjects('CODE')]);
  const parents = new Map(all.map((p) => [p.name, p.parent]));
  return { projects: code.map((p) => p.name).sort(), reader: new GerritConfigReader(gerrit, { parents }) };
}

export interface Progress {
  readonly done: number;
  readonly total: number;
  readonly ms: number;
}

export interface ReconcileOptions {
  readonly concurrency: number;
  /**
   * Also plan the namespaces labelled ours whose project is not in the catalog (default true). Only a pass
   * over part of the projects, such as the benchmark's on a cluster others use too, turns this off.
   */
  readonly orphans?: boolean;
  /** Called at most every progressIntervalMs while the pass runs, and once at its end. */
  readonly onProgress?: (progress: Progress) => void;
  readonly progressIntervalMs?: number;
}

/** At most this many failures and problems are kept in the summary; the counts are complete. */
const MAX_LISTED = 20;
const DEFAULT_PROGRESS_INTERVAL_MS = 5_000;

export interface ReconcileSummary {
  /** Projects planned: the catalog's and the orphans'. */
  readonly projects: number;
  readonly orphans: number;
  readonly outcomes: Readonly<Record<Outcome, number>>;
  /** Projects whose pass threw (a failed call): they are tried again next pass. */
  readonly failed: number;
  /** Objects with our names that are not ours, across projects. */
  readonly conflicts: number;
  readonly writes: number;
  readonly ms: number;
  /** The first failures, and the first projects rejected or blocked, with why. */
  readonly failures: readonly { project: string; error: string }[];
  readonly attention: readonly { project: string; outcome: Outcome; reason: string }[];
}

const NO_OUTCOMES: Record<Outcome, number> = {
  created: 0,
  updated: 0,
  unchanged: 0,
  deprovisioned: 0,
  absent: 0,
  rejected: 0,
  blocked: 0,
  waiting: 0,
};

export async function reconcile(
  catalog: ProjectCatalog,
  deps: { cluster: ProvisionerCluster; policy: Policy },
  options: ReconcileOptions,
): Promise<ReconcileSummary> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const provisioner = new Provisioner(deps.cluster, deps.policy);
  const snapshot = await takeSnapshot(deps.cluster);
  const source = snapshotSource(snapshot, deps.cluster);
  const listed = new Set(catalog.projects);
  const orphans = options.orphans === false ? [] : managedProjects(snapshot).filter((p) => !listed.has(p));
  const projects = [...catalog.projects, ...orphans];

  let done = 0;
  let lastReport = 0;
  const interval = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  const results = await mapWithConcurrency(projects, options.concurrency, async (project) => {
    let result: ProjectSummary | { project: string; error: string };
    try {
      result = await provisioner.provision(await resolveEffectiveConfig(project, catalog.reader, deps.policy), source);
    } catch (err) {
      result = { project, error: err instanceof Error ? err.message : String(err) };
    }
    done += 1;
    if (options.onProgress && performance.now() - lastReport >= interval) {
      lastReport = performance.now();
      options.onProgress({ done, total: projects.length, ms: elapsed() });
    }
    return result;
  });
  options.onProgress?.({ done, total: projects.length, ms: elapsed() });

  const outcomes = { ...NO_OUTCOMES };
  const failures: { project: string; error: string }[] = [];
  const attention: { project: string; outcome: Outcome; reason: string }[] = [];
  let writes = 0;
  let conflicts = 0;
  for (const result of results) {
    if ('error' in result) {
      failures.push(result);
      continue;
    }
    outcomes[result.outcome] += 1;
    writes += result.writes;
    conflicts += result.conflicts.length;
    if (result.outcome === 'rejected' || result.outcome === 'blocked' || result.conflicts.length > 0) {
      attention.push({ project: result.project, outcome: result.outcome, reason: result.reason ?? result.conflicts.join('; ') });
    }
  }
  return {
    projects: projects.length,
    orphans: orphans.length,
    outcomes,
    failed: failures.length,
    conflicts,
    writes,
    ms: elapsed(),
    failures: failures.slice(0, MAX_LISTED),
    attention: attention.slice(0, MAX_LISTED),
  };
}

/** The summary as fields of a log line: counts, and the first failures when there are any. */
export function summaryFields(summary: ReconcileSummary): Record<string, unknown> {
  return {
    projects: summary.projects,
    orphans: summary.orphans,
    ...summary.outcomes,
    failed: summary.failed,
    conflicts: summary.conflicts,
    writes: summary.writes,
    passMs: summary.ms,
    ...(summary.failures.length > 0 ? { failures: summary.failures } : {}),
    ...(summary.attention.length > 0 ? { attention: summary.attention } : {}),
  };
}

/** One pass over Gerrit's projects, configured from the environment (the function and `npm run reconcile`). */
export class GerritReconciler {
  constructor(readonly config: { gerrit: ProvisionerConfig['gerrit']; cluster: ProvisionerCluster; policy: Policy; reconcileConcurrency: number }) {}

  static fromEnv(env: Env = process.env): GerritReconciler {
    return new GerritReconciler(provisionerConfigFromEnv(env));
  }

  async run(options: Omit<ReconcileOptions, 'concurrency'> = {}): Promise<ReconcileSummary> {
    const catalog = await gerritCatalog(this.config.gerrit);
    return reconcile(catalog, this.config, { ...options, concurrency: this.config.reconcileConcurrency });
  }
}
