// The capacity report on the rig's real runs: a Seakeeper run of two steps side by side, each asking for
// 111m CPU and 100Mi, made by Argo's own controller into pods that KWOK runs for three seconds; the report
// reads it back with every other Seakeeper run on the rig (one paged list across namespaces), as
// `npm run capacity` does, and the weekly run writes its ConfigMap. The archive (argo-server with a database)
// is not in the rig: test/unit/capacity-shell.test.ts answers for it with a stand-in.
// The capacity-report function is served as production serves it, acting as its own ServiceAccount with
// knative/rbac's rules, and given PingSource ticks. Its system namespace is one of this file's own, not
// seakeeper-system, so that two runs of the file never write one ConfigMap: the Role and RoleBinding of
// knative/rbac/capacity-report.yaml are applied there as rendered, only their namespace changed (the
// ClusterRole and the ServiceAccount are the deployed ones). So a rule missing from the Role fails here; one
// granted only in seakeeper-system could not.
// rig: parallel (test/run.ts): a project, namespaces and ConfigMaps of its own; it only reads other runs, and
// asserts on them no more than that they include its own
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CloudEvent } from 'cloudevents';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyseCapacity } from '../../shared/capacity/capacity.js';
import { CAPACITY_CONFIGMAP, capacityReport, writeCapacityConfigMap } from '../../shared/capacity/capacity-shell.js';
import type { ClusterObject } from '../../shared/k8s/cluster.js';
import { buildWorkflow } from '../../shared/pipelines/workflow-builder.js';
import { refOfWorkflow } from '../../shared/runs/workflow-store.js';
import type { LiveWorkflow } from '../../shared/runs/workflow.js';
import { checked, firstTrigger, patchsetCreated } from '../unit/support/pipelines.js';
import { parseRendered } from '../support/manifests.js';
import { DURATION_ANNOTATION, finished } from './support/argo.js';
import { serveFunction, type ServedFunction } from './support/functions.js';
import { rigConnections } from './support/gerrit.js';
import { accountKubeconfig } from './support/pipeline-rbac.js';
import { deliver, provisionedProject } from './support/pipelines.js';
import { adminCluster, applyManifests, deleteNamespacesOf, hideProjects, kubectl, PROVISIONER_MANIFESTS } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { eventually } from './support/wait.js';

const rig = loadRig();
const { admin: adminConnection } = rigConnections(rig);
const cluster = adminCluster(rig);
const suffix = uniqueSuffix();
const PROJECT = `it-${suffix}-capacity`;
const DAY_MS = 86_400_000;
/** The capacity-report function's system namespace. */
const SYSTEM_NAMESPACE = `it-${suffix}-capacity-sys`;

const DEFINITION = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: { generateName: check- }
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - { name: left, template: run }
          - { name: right, template: run }
    - name: run
      metadata: { annotations: { ${DURATION_ANNOTATION}: "3s" } }
      container:
        image: docker-registry.wikimedia.org/releng/ci:latest
        command: [make, test]
        resources: { requests: { cpu: 111m, memory: 100Mi } }
`;

let run: LiveWorkflow;
let served: ServedFunction | undefined;
let kubeDir: string | undefined;

test.before(async () => {
  await applyManifests(rig, ...PROVISIONER_MANIFESTS);
  await provisionedProject(rig, PROJECT, { 'seakeeper.yaml': 'pipelines:\n  check: { workflow: check.yaml }\n' }, { cluster });
  const trigger = firstTrigger(patchsetCreated({ change: { project: PROJECT, number: 4242 } }));
  const { workflow } = buildWorkflow({ trigger, eventId: `capacity-${suffix}`, definition: checked(DEFINITION) });
  const created = await cluster.create(workflow as unknown as ClusterObject);
  if (!created.created) throw new Error('the run exists already');
  run = await finished(cluster, refOfWorkflow(created.object as unknown as LiveWorkflow));
});

test.after(async () => {
  await served?.stop();
  if (kubeDir) await rm(kubeDir, { recursive: true, force: true });
  await cluster.delete('v1', 'Namespace', undefined, SYSTEM_NAMESPACE);
  await deleteNamespacesOf(cluster, [PROJECT]);
  await hideProjects(adminConnection, [PROJECT]);
});

/** An hour into tomorrow (UTC): the report's one whole day is today, when the run ran. */
const tomorrow = () => Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS + 3_600_000;

test('the run Argo made, read as the report reads it: two pods at once, their CPU and memory requests summed', () => {
  assert.is(run.status?.phase, 'Succeeded');
  const report = analyseCapacity([run], { now: tomorrow(), days: 1, horizonWeeks: 4 });
  assert.is(report.history.pods, 2);
  const [today] = report.days;
  assert.equal([today!.maxPods, today!.maxCpuMillis, today!.maxMemoryBytes], [2, 222, 200 * 2 ** 20]);
  assert.equal([report.history.podsWithoutCpuRequest, report.history.skippedPods, report.history.runningPods], [0, 0, 0]);
});

test('from the cluster: one list across namespaces finds it among every Seakeeper run on the rig; the weekly run writes the ConfigMap', async () => {
  const config = { cluster, archive: undefined };
  const output = await capacityReport(config, { now: tomorrow(), days: 1, horizonWeeks: 4 });
  const [today] = output.report.days;
  assert.ok(output.report.history.workflows >= 1 && output.report.history.pods >= 2, JSON.stringify(output.report.history));
  assert.ok(today!.maxPods >= 2 && today!.maxCpuMillis >= 222, JSON.stringify(today));
  assert.match(output.text, "Argo's workflow archive: not read (ARGO_SERVER_URL is not set)");
  assert.ok(output.svg.startsWith('<svg'), output.svg.slice(0, 80));

  const namespace = run.metadata.namespace!;
  const written = await writeCapacityConfigMap(config, namespace, { now: tomorrow(), days: 1, horizonWeeks: 4 });
  const stored = await cluster.get<ClusterObject & { data: Record<string, string> }>('v1', 'ConfigMap', namespace, CAPACITY_CONFIGMAP);
  assert.equal(Object.keys(stored?.data ?? {}).sort(), ['chart.svg', 'report.json', 'report.txt']);
  assert.is(JSON.parse(stored!.data['report.json']!).metrics.pods.quota, written.metrics.pods.quota);
});

test('npm run capacity against the rig: exits 0, prints the report, writes the JSON and the chart', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'seakeeper-capacity-'));
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  const { stdout } = await promisify(execFile)(path.join(root, 'node_modules/.bin/tsx'), ['shared/capacity/capacity-cli.ts', '--days', '2', '--json', path.join(dir, 'r.json'), '--svg', path.join(dir, 'c.svg')], {
    cwd: root,
    env: { ...process.env, KUBECONFIG: rig.KUBECONFIG },
  });
  assert.match(stdout, /Read \d+ Workflows kept in the cluster/);
  assert.match(stdout, 'Recommended ResourceQuota');
  const json = JSON.parse(await readFile(path.join(dir, 'r.json'), 'utf8')) as { days: unknown[] };
  assert.is(json.days.length, 2);
  assert.match(await readFile(path.join(dir, 'c.svg'), 'utf8'), /^<svg/);
});

/** What the weekly PingSource sends (knative/sources/gerrit-stream.yaml), with `data` as given. */
const tick = (data: unknown) =>
  new CloudEvent<unknown>({
    specversion: '1.0',
    id: randomUUID(),
    type: 'dev.knative.sources.ping',
    source: '/apis/v1/namespaces/seakeeper-system/pingsources/capacity-report',
    datacontenttype: 'application/json',
    data,
  });

type StoredReport = ClusterObject & { data: Record<string, string> };
const storedReport = () => cluster.get<StoredReport>('v1', 'ConfigMap', SYSTEM_NAMESPACE, CAPACITY_CONFIGMAP);

test('capacity-report as its own ServiceAccount: a weekly tick creates the ConfigMap, the next one rewrites it; bad data is acknowledged, not retried', async () => {
  await applyManifests(rig, 'knative/system', 'knative/rbac');
  await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } });
  const rendered = parseRendered(await kubectl(rig, 'kustomize', path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../knative/rbac')));
  const own = rendered.filter((o) => (o.kind === 'Role' || o.kind === 'RoleBinding') && o.metadata.name === 'capacity-report');
  assert.equal(own.map((o) => o.kind).sort(), ['Role', 'RoleBinding']);
  for (const object of own) {
    const created = await cluster.create({ ...object, metadata: { ...object.metadata, namespace: SYSTEM_NAMESPACE } } as ClusterObject);
    assert.ok(created.created, `${object.kind} ${object.metadata.name}`);
  }
  kubeDir = await mkdtemp(path.join(tmpdir(), 'seakeeper-capacity-kube-'));
  served = await serveFunction('capacity-report', {
    KUBECONFIG: await accountKubeconfig(rig, 'capacity-report', kubeDir),
    SEAKEEPER_NAMESPACE: SYSTEM_NAMESPACE,
  });

  // The first apply of a ConfigMap that does not exist is authorized as create as well as patch.
  const first = await deliver(served, tick({ reason: 'weekly', days: 30, horizonWeeks: 4 }));
  assert.ok(first.status < 300, `${first.status} ${first.body}\n${served.output()}`);
  const created = await storedReport();
  assert.equal(Object.keys(created?.data ?? {}).sort(), ['chart.svg', 'report.json', 'report.txt']);
  const report = JSON.parse(created!.data['report.json']!) as { window: { days: number }; horizonWeeks: number; history: { workflows: number } };
  assert.equal([report.window.days, report.horizonWeeks], [30, 4]);
  // Its own run is among those read (ran today, so outside the window's whole days).
  assert.ok(report.history.workflows >= 1, JSON.stringify(report.history));
  await eventually(async () => assert.match(served!.output(), /"fn":"capacity-report".*"days":30,"horizonWeeks":4.*"outcome":"ok"/), 10_000, 100);

  const second = await deliver(served, tick({ reason: 'weekly', days: 2, horizonWeeks: 0 }));
  assert.ok(second.status < 300, `${second.status} ${second.body}\n${served.output()}`);
  const rewritten = await storedReport();
  assert.equal((JSON.parse(rewritten!.data['report.json']!) as { window: { days: number } }).window.days, 2);

  const bad = await deliver(served, tick({ reason: 'weekly', days: 'x' }));
  assert.ok(bad.status < 300, `a PermanentError is acknowledged, not retried: ${bad.status} ${bad.body}`);
  // The log line is the function process's: read it once it has come through the pipe.
  await eventually(async () => assert.match(served!.output(), /"fn":"capacity-report".*"outcome":"rejected".*days must be a whole number from 1 to 366/), 10_000, 100);
  assert.is((await storedReport())!.metadata.resourceVersion, rewritten!.metadata.resourceVersion);
});

test.run();
