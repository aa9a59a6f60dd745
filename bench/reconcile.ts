// The bulk reconcile: all 2,182 real Wikimedia project names (test/fixtures/wikimedia-gerrit-projects.txt)
// reconciled against the rig's kube-apiserver, as the reconcile function's ServiceAccount (its RBAC and the
// admission policy of knative/provisioner apply), through the production pass (shared/provisioning/reconcile.ts:
// snapshot, plan, apply, prune). The projects are listed to the reconciler with one fixed seakeeper.yaml
// instead of being created in Gerrit, which only replaces where the config text comes from; and orphans are
// not planned, since the rig is shared and other sessions' namespaces are not the bench's to deprovision.
//
//   npm run bench:reconcile [-- --first-runs=2 --noop-runs=3 --concurrency=N --limit=2182 --start-run=1 --keep --wait-cleanup]
//
// First pass: every namespace is new. kube-controller-manager takes far longer to delete 2,182 namespaces than
// the pass takes to make them, so each further first pass uses the same names under a prefix of its own
// (`run2/3d2png`, …) rather than waiting. No-op passes: nothing changed since the last first pass. Each pass
// reports wall time and the API requests it made (writes: apply, create, patch, delete; reads: get and list,
// a paged list counting once). Baseline, measured in the same run: the snapshot alone (the cluster-wide lists
// every pass starts with), the floor of any pass. At the end every namespace the bench made is deleted
// (kube-controller-manager removes them in the background; --wait-cleanup waits), unless --keep.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProjectConfigReader } from '../shared/config/inheritance.js';
import { loadPolicy } from '../shared/config/policy.js';
import { CountingCluster } from '../shared/k8s/counting.js';
import { MANAGED_SELECTOR } from '../shared/provisioning/bundle.js';
import { DEFAULT_RECONCILE_CONCURRENCY } from '../shared/concurrency.js';
import { PROJECT_ANNOTATION } from '../shared/names.js';
import { takeSnapshot } from '../shared/provisioning/provisioner.js';
import { reconcile, type ReconcileSummary } from '../shared/provisioning/reconcile.js';
import { adminCluster, applyManifests, PROVISIONER_MANIFESTS, serviceAccountCluster } from '../test/integration/support/provisioning.js';
import { loadRig } from '../test/integration/support/rig.js';
import { median, numericArgs } from './cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROJECTS_FILE = path.join(ROOT, 'test/fixtures/wikimedia-gerrit-projects.txt');

const flags = new Set(process.argv.slice(2).filter((a) => !a.includes('=')));
const args = numericArgs();
const FIRST_RUNS = args['first-runs'] ?? 2;
const NOOP_RUNS = args['noop-runs'] ?? 3;
const CONCURRENCY = args.concurrency ?? DEFAULT_RECONCILE_CONCURRENCY;
const LIMIT = args.limit;
/** The first first pass's number: 1 uses the real names, N > 1 the names under `runN/` (fresh ones while earlier runs' namespaces stay). */
const START_RUN = args['start-run'] ?? 1;
const KEEP = flags.has('--keep');
const WAIT_CLEANUP = flags.has('--wait-cleanup');
const DELETE_BATCH = 32;
const DELETE_POLL_MS = 10_000;

/** The issue's example seakeeper.yaml: two pipelines, resources, owners and viewers (ten objects a namespace). */
const CONFIG = `pipelines:
  check: { workflow: check.yaml }
  gate-and-submit: { workflow: gate.yaml, queue: mediawiki }
resources: { cpu: "4", memory: 8Gi, pods: 10 }
owners: [MediaWiki-owners]
viewers: [Trusted-Contributors]
`;

const rig = loadRig();
const policy = loadPolicy();
const admin = adminCluster(rig);
const names = readFileSync(PROJECTS_FILE, 'utf8').split('\n').filter(Boolean).slice(0, LIMIT);
/** The names of first pass `run` (0-based, counted from START_RUN): run 1 has the real names, run N the same under `runN/`. */
const runNumber = (run: number) => START_RUN + run;
const projectsOf = (run: number) => (runNumber(run) === 1 ? names : names.map((name) => `run${runNumber(run)}/${name}`));
const allBenchProjects = new Set(Array.from({ length: Math.max(FIRST_RUNS, 1) }, (_, run) => projectsOf(run)).flat());

/** Every project has the same seakeeper.yaml of its own, so no walk goes past it. */
const reader: ProjectConfigReader = {
  readConfig: async () => CONFIG,
  parentOf: async () => undefined,
};

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The bench's namespaces that exist and are not being deleted, and how many others carry our label. */
async function benchNamespaces(): Promise<{ live: string[]; going: number; others: number }> {
  const namespaces = await admin.list('v1', 'Namespace', undefined, MANAGED_SELECTOR);
  const live: string[] = [];
  let going = 0;
  let others = 0;
  for (const ns of namespaces) {
    const project = ns.metadata.annotations?.[PROJECT_ANNOTATION] ?? '';
    if (!allBenchProjects.has(project)) others += 1;
    else if (ns.metadata.deletionTimestamp) going += 1;
    else live.push(ns.metadata.name);
  }
  return { live, going, others };
}

/** Asks for every bench namespace to be deleted; with `wait`, waits until kube-controller-manager has removed them. */
async function deleteAll(wait: boolean): Promise<{ deleted: number; ms: number }> {
  const started = performance.now();
  const { live } = await benchNamespaces();
  for (let i = 0; i < live.length; i += DELETE_BATCH) {
    await Promise.all(live.slice(i, i + DELETE_BATCH).map((name) => admin.delete('v1', 'Namespace', undefined, name)));
  }
  while (wait) {
    const { live: left, going } = await benchNamespaces();
    if (left.length + going === 0) break;
    process.stderr.write(`  waiting for kube-controller-manager: ${left.length + going} namespaces left\n`);
    await new Promise((resolve) => setTimeout(resolve, DELETE_POLL_MS));
  }
  return { deleted: live.length, ms: performance.now() - started };
}

interface PassResult {
  ms: number;
  writes: number;
  reads: number;
  summary: ReconcileSummary;
}

async function pass(cluster: CountingCluster, projects: readonly string[]): Promise<PassResult> {
  cluster.take();
  const started = performance.now();
  const summary = await reconcile({ projects, reader }, { cluster, policy }, { concurrency: CONCURRENCY, orphans: false });
  const ms = performance.now() - started;
  const counts = cluster.take();
  if (summary.failed > 0) throw new Error(`${summary.failed} projects failed, e.g. ${JSON.stringify(summary.failures.slice(0, 3))}`);
  return { ms, writes: counts.writes, reads: counts.reads, summary };
}

const outcomes = (r: PassResult) => JSON.stringify(Object.fromEntries(Object.entries(r.summary.outcomes).filter(([, n]) => n > 0)));
const describe = (r: PassResult) => `${seconds(r.ms)}, ${r.writes} writes, ${r.reads} reads; ${outcomes(r)}`;

async function main(): Promise<void> {
  console.log(`bench:reconcile — ${names.length} projects, concurrency ${CONCURRENCY}, ${cpus().length} cores (${cpus()[0]?.model}), Node ${process.version}`);
  await applyManifests(rig, ...PROVISIONER_MANIFESTS);
  const cluster = new CountingCluster(await serviceAccountCluster(rig, 'reconcile', { timeoutMs: 120_000 }));

  const before = await benchNamespaces();
  if (before.others > 0) console.log(`(${before.others} Seakeeper namespaces of other sessions on the rig: left alone)`);
  if (FIRST_RUNS > 0 && before.live.length + before.going > 0) {
    console.log(`${before.live.length + before.going} namespaces of an earlier run are still there; deleting them and waiting…`);
    await deleteAll(true);
  }

  const firsts: PassResult[] = [];
  for (let run = 0; run < FIRST_RUNS; run++) {
    const first = await pass(cluster, projectsOf(run));
    firsts.push(first);
    console.log(`first pass ${run + 1}${runNumber(run) > 1 ? ` (names under run${runNumber(run)}/)` : ''}: ${describe(first)}`);
  }
  const noops: PassResult[] = [];
  const snapshots: number[] = [];
  const last = projectsOf(Math.max(FIRST_RUNS - 1, 0));
  for (let run = 0; run < NOOP_RUNS; run++) {
    const noop = await pass(cluster, last);
    noops.push(noop);
    console.log(`no-op pass ${run + 1}: ${describe(noop)}`);
    const started = performance.now();
    await takeSnapshot(cluster);
    snapshots.push(performance.now() - started);
  }

  console.log('\nmedians');
  if (firsts.length > 0) {
    const rate = median(firsts.map((r) => r.writes / (r.ms / 1000)));
    console.log(`  first pass:  ${seconds(median(firsts.map((r) => r.ms)))}, ${median(firsts.map((r) => r.writes))} writes (${Math.round(rate)} writes/s)`);
  }
  if (noops.length > 0) {
    console.log(`  no-op pass:  ${seconds(median(noops.map((r) => r.ms)))}, ${Math.max(...noops.map((r) => r.writes))} writes at most, ${median(noops.map((r) => r.reads))} reads`);
    console.log(`  baseline, the snapshot alone: ${seconds(median(snapshots))}`);
  }

  if (!KEEP) {
    const { deleted, ms } = await deleteAll(WAIT_CLEANUP);
    console.log(WAIT_CLEANUP ? `cleaned up: ${deleted} namespaces deleted and gone in ${seconds(ms)}` : `cleaned up: deletion of ${deleted} namespaces requested; kube-controller-manager removes them`);
  }
}

await main();
