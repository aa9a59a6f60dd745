// A reconcile pass against the rig's real Gerrit (every project the bot can see) and kube-apiserver, as the
// reconcile function's own ServiceAccount: it provisions what an event missed, repairs drift, leaves objects
// it did not make alone, deprovisions orphans per policy, and a second pass over an unchanged world writes
// nothing. Also `npm run reconcile`, the same pass from a shell.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPolicy } from '../../shared/config/policy.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import type { ClusterObject } from '../../shared/k8s/cluster.js';
import { CountingCluster } from '../../shared/k8s/counting.js';
import { LIMIT_RANGE, NETWORK_POLICY, RESOURCE_QUOTA } from '../../shared/provisioning/bundle.js';
import { namespaceFor } from '../../shared/names.js';
import { ORPHANED, STATE_LABEL } from '../../shared/provisioning/plan.js';
import { CONFIG_REF, parseProjectConfig } from '../../shared/config/project-config.js';
import { Provisioner } from '../../shared/provisioning/provisioner.js';
import { gerritCatalog, GerritReconciler, type Progress, type ReconcileSummary } from '../../shared/provisioning/reconcile.js';
import { resolveEffectiveConfig } from '../../shared/config/inheritance.js';
import { createProject, pushDirect } from '../../dev/gerrit-chores.js';
import { rigConnections } from './support/gerrit.js';
import {
  adminCluster,
  applyManifests,
  kubectl,
  PROVISIONER_MANIFESTS,
  serviceAccountCluster,
  TestProjects,
} from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { rejectionOf } from './support/wait.js';

const run = promisify(execFile);
const rig = loadRig();
const { bot: botConnection, admin: adminConnection } = rigConnections(rig);
const admin = adminCluster(rig);
const policy = loadPolicy();
const suffix = uniqueSuffix();
const projects = new TestProjects(suffix);
const projectName = (name: string) => projects.name(name);

const MISSED = projectName('missed');
const DRIFTED = projectName('drifted');
const CONTESTED = projectName('contested');
const INVALID = projectName('invalid');
/** A child of MISSED without a seakeeper.yaml of its own. */
const INHERITING = projectName('missed/child');
/** Never created in Gerrit: its namespace is an orphan. */
const GHOST = projectName('ghost');
const CONFIG = 'resources: { cpu: "1", memory: 1Gi, pods: 2 }\nowners: [Reconcile-Owners]\n';

let cluster: CountingCluster;
let reconciler: GerritReconciler;

type Live = ClusterObject & { spec?: Record<string, unknown> };

test.before(async () => {
  await applyManifests(rig, ...PROVISIONER_MANIFESTS);
  cluster = new CountingCluster(await serviceAccountCluster(rig, 'reconcile'));
  reconciler = new GerritReconciler({ gerrit: new GerritClient(botConnection), cluster, policy, reconcileConcurrency: 8 });
  await Promise.all([MISSED, DRIFTED, CONTESTED, INVALID].map((p) => createProject(adminConnection, p)));
  await createProject(adminConnection, INHERITING, MISSED);
  // Pushed, but no event is handled: only a reconcile pass can notice.
  await Promise.all([
    pushDirect(adminConnection, MISSED, CONFIG_REF, { 'seakeeper.yaml': CONFIG }, 'Add CI configuration'),
    pushDirect(adminConnection, DRIFTED, CONFIG_REF, { 'seakeeper.yaml': CONFIG }, 'Add CI configuration'),
    pushDirect(adminConnection, CONTESTED, CONFIG_REF, { 'seakeeper.yaml': CONFIG }, 'Add CI configuration'),
    pushDirect(adminConnection, INVALID, CONFIG_REF, { 'seakeeper.yaml': 'resources: { pods: 100 }\n' }, 'Add CI configuration'),
  ]);
  // A namespace Seakeeper made for a project that is gone from Gerrit.
  const parsed = parseProjectConfig(CONFIG, policy);
  if (!parsed.ok) throw new Error('test config is invalid');
  const ghost = await new Provisioner(admin, policy).provision({ kind: 'configured', project: GHOST, source: GHOST, inherited: false, chain: [GHOST], config: parsed.config });
  assert.is(ghost.outcome, 'created');
});

test.after(async () => {
  await projects.cleanUp(adminConnection, admin, (project) => project !== GHOST);
});

let first: ReconcileSummary;
const progress: Progress[] = [];

test('a pass provisions what events missed, refuses invalid configs, marks orphans, and goes on past failures', async () => {
  cluster.take();
  first = await reconciler.run({ onProgress: (p) => progress.push(p), progressIntervalMs: 0 });
  assert.is(first.failed, 0, JSON.stringify(first.failures));
  assert.ok(first.outcomes.created >= 4, JSON.stringify(first.outcomes));
  assert.is(cluster.counts.writes, first.writes, 'the summary counts every write');
  assert.ok(first.orphans >= 1);
  for (const project of [MISSED, INHERITING, DRIFTED, CONTESTED]) assert.ok(await admin.get('v1', 'Namespace', undefined, namespaceFor(project)), project);
  assert.is(await admin.get('v1', 'Namespace', undefined, namespaceFor(INVALID)), undefined);
  assert.ok(first.attention.some((a) => a.project === INVALID && a.outcome === 'rejected' && /policy-cap/.test(a.reason)), JSON.stringify(first.attention));
  const ghost = await admin.get('v1', 'Namespace', undefined, namespaceFor(GHOST));
  assert.is(ghost?.metadata.labels?.[STATE_LABEL], ORPHANED);
  assert.equal(progress.at(-1), { done: first.projects, total: first.projects, ms: progress.at(-1)!.ms }, 'a progress line at the end');
});

test('drift is repaired: an edited quota is restored, a deleted NetworkPolicy comes back', async () => {
  const ns = namespaceFor(DRIFTED);
  await kubectl(rig, 'patch', 'resourcequota', RESOURCE_QUOTA, '-n', ns, '--type=merge', '-p', '{"spec":{"hard":{"pods":"99"}}}');
  await admin.delete('networking.k8s.io/v1', 'NetworkPolicy', ns, NETWORK_POLICY);
  const summary = await reconciler.run();
  assert.is(summary.failed, 0);
  const quota = await admin.get<Live>('v1', 'ResourceQuota', ns, RESOURCE_QUOTA);
  assert.is((quota?.spec?.hard as Record<string, string>).pods, '2');
  assert.ok(await admin.get('networking.k8s.io/v1', 'NetworkPolicy', ns, NETWORK_POLICY));
});

test('an object with our name that someone else made is found by name, reported, and left alone', async () => {
  const ns = namespaceFor(CONTESTED);
  await admin.delete('v1', 'LimitRange', ns, LIMIT_RANGE);
  const theirs = { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: LIMIT_RANGE, namespace: ns }, spec: { limits: [{ type: 'Container', max: { memory: '2Gi' } }] } };
  assert.ok((await admin.create(theirs as ClusterObject)).created);
  const before = (await admin.get('v1', 'LimitRange', ns, LIMIT_RANGE))!.metadata.resourceVersion;
  const summary = await reconciler.run();
  assert.ok(summary.attention.some((a) => a.project === CONTESTED && /LimitRange .* not created by Seakeeper/.test(a.reason)), JSON.stringify(summary.attention));
  assert.is((await admin.get('v1', 'LimitRange', ns, LIMIT_RANGE))!.metadata.resourceVersion, before);
});

test('a second pass over an unchanged world makes no writes at all', async () => {
  cluster.take();
  const summary = await reconciler.run();
  assert.is(summary.failed, 0);
  assert.is(summary.writes, 0, JSON.stringify(summary, null, 1));
  assert.is(cluster.counts.writes, 0);
  assert.is(summary.outcomes.created + summary.outcomes.updated + summary.outcomes.deprovisioned, 0);
});

test('the catalog: code projects only, every parent from one listing; each config read once; hidden projects never asked', async () => {
  const calls: string[] = [];
  const real = new GerritClient(botConnection);
  // Counts the calls that reach the real Gerrit.
  const counted = new Proxy(real, {
    get: (target, name: string) => {
      const value = Reflect.get(target, name) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${name} ${String(args[0])}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const catalog = await gerritCatalog(counted);
  assert.ok(catalog.projects.includes(MISSED));
  assert.not.ok(catalog.projects.includes('All-Projects') || catalog.projects.includes('All-Users'), 'not code projects');
  assert.equal(calls.sort(), ['listProjects ALL', 'listProjects CODE']);

  calls.length = 0;
  const [a, b] = await Promise.all([resolveEffectiveConfig(INHERITING, catalog.reader, policy), resolveEffectiveConfig(MISSED, catalog.reader, policy)]);
  assert.equal([a.kind, a.kind === 'configured' && a.source, b.kind], ['configured', MISSED, 'configured']);
  assert.equal(calls.sort(), [`getFileContent ${INHERITING}`, `getFileContent ${MISSED}`].sort(), 'no parent lookups; the shared parent read once');

  calls.length = 0;
  assert.is((await resolveEffectiveConfig(`it-${suffix}/hidden-or-gone`, catalog.reader, policy)).kind, 'missing-project');
  assert.equal(calls, [], 'a project outside the listing is not asked about (Gerrit answers 409 for a hidden one)');
});

test('npm run reconcile: the same pass from a shell prints its summary and the API requests it made', async () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const { stdout, stderr } = await run('npm', ['run', '--silent', 'reconcile'], {
    cwd: root,
    env: {
      ...process.env,
      GERRIT_URL: rig.GERRIT_URL,
      GERRIT_USER: rig.GERRIT_USER,
      GERRIT_PASSWORD: rig.GERRIT_PASSWORD.reveal(),
      KUBECONFIG: rig.KUBECONFIG,
      RECONCILE_CONCURRENCY: '4',
    },
  });
  const summary = JSON.parse(stdout) as ReconcileSummary & { api: { writes: number } };
  assert.is(summary.failed, 0);
  assert.is(summary.api.writes, 0);
  assert.match(stderr, /reconcile: \d+\/\d+ projects/);
});

test('npm run reconcile without its configuration exits 2 naming every missing variable', async () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  const { err } = await rejectionOf(run('npm', ['run', '--silent', 'reconcile'], { cwd: root, env }));
  const failure = err as { code: number; stderr: string };
  assert.is(failure.code, 2);
  assert.match(failure.stderr, 'GERRIT_URL is required');
  assert.match(failure.stderr, 'KUBECONFIG is required outside a cluster');
});

test.run();
