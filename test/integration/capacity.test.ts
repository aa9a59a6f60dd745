// The capacity report on the rig's real runs: a Seakeeper run of two steps side by side, each asking for
// 111m CPU and 100Mi, made by Argo's own controller into pods that KWOK runs for three seconds; the report
// reads it back with every other Seakeeper run on the rig (one paged list across namespaces), as
// `npm run capacity` does, and the weekly run writes its ConfigMap. The archive (argo-server with a database)
// is not in the rig: test/unit/capacity-shell.test.ts answers for it with a stand-in.
// rig: parallel (test/run.ts): a project, a namespace and a ConfigMap of its own; it only reads other runs, and
// asserts on them no more than that they include its own
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyseCapacity } from '../../shared/capacity/capacity.js';
import { CAPACITY_CONFIGMAP, capacityReport, writeCapacityConfigMap } from '../../shared/capacity/capacity-shell.js';
import { resolveEffectiveConfig } from '../../shared/config/inheritance.js';
import { loadPolicy } from '../../shared/config/policy.js';
import { CONFIG_REF } from '../../shared/config/project-config.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import type { ClusterObject } from '../../shared/k8s/cluster.js';
import { buildWorkflow } from '../../shared/pipelines/workflow-builder.js';
import { GerritConfigReader } from '../../shared/provisioning/config-reader.js';
import { Provisioner } from '../../shared/provisioning/provisioner.js';
import { refOfWorkflow } from '../../shared/runs/workflow-store.js';
import type { LiveWorkflow } from '../../shared/runs/workflow.js';
import { checked, firstTrigger, patchsetCreated } from '../unit/support/pipelines.js';
import { createProject, pushDirect } from '../../dev/gerrit-chores.js';
import { DURATION_ANNOTATION, finished } from './support/argo.js';
import { rigConnections } from './support/gerrit.js';
import { adminCluster, applyManifests, deleteNamespacesOf, hideProjects, PROVISIONER_MANIFESTS } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const rig = loadRig();
const { admin: adminConnection, bot: botConnection } = rigConnections(rig);
const cluster = adminCluster(rig);
const suffix = uniqueSuffix();
const PROJECT = `it-${suffix}-capacity`;
const DAY_MS = 86_400_000;

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

test.before(async () => {
  await applyManifests(rig, ...PROVISIONER_MANIFESTS);
  await createProject(adminConnection, PROJECT);
  await pushDirect(adminConnection, PROJECT, CONFIG_REF, { 'seakeeper.yaml': 'pipelines:\n  check: { workflow: check.yaml }\n' }, 'Add CI configuration');
  const policy = loadPolicy();
  await new Provisioner(cluster, policy).provision(await resolveEffectiveConfig(PROJECT, new GerritConfigReader(new GerritClient(botConnection)), policy));
  const trigger = firstTrigger(patchsetCreated({ change: { project: PROJECT, number: 4242 } }));
  const { workflow } = buildWorkflow({ trigger, eventId: `capacity-${suffix}`, definition: checked(DEFINITION) });
  const created = await cluster.create(workflow as unknown as ClusterObject);
  if (!created.created) throw new Error('the run exists already');
  run = await finished(cluster, refOfWorkflow(created.object as unknown as LiveWorkflow));
});

test.after(async () => {
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

test.run();
