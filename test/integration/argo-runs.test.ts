// What the cluster really does with the runs of a project namespace, on the rig: Argo's own workflow-controller
// makes the pods, the real kube-scheduler places them on the rig's fake nodes (KWOK runs them, ending as their
// outcome-hook annotations ask: support/argo.ts), and the real kube-apiserver admits them or not. Seakeeper's
// Workflows are built by its own builder from a pipeline, as patchset-created builds them; a project owner's are
// created by hand, as `argo submit` would.
// rig: parallel (test/run.ts): a project, namespaces and a tainted fake node of its own; the provisioner's
// manifests are applied as every run applies them
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClusterObject, CreateResult } from '../../shared/k8s/cluster.js';
import { buildWorkflow } from '../../shared/pipelines/workflow-builder.js';
import { refOfWorkflow } from '../../shared/runs/workflow-store.js';
import type { LiveWorkflow, WorkflowNode } from '../../shared/runs/workflow.js';
import { namespaceFor } from '../../shared/names.js';
import { checked, firstTrigger, patchsetCreated, pipeline } from '../unit/support/pipelines.js';
import { DURATION_ANNOTATION, EXIT_CODE_ANNOTATION, finished, podsOf, podsStopped, runPods, running } from './support/argo.js';
import { rigConnections } from './support/gerrit.js';
import { adminCluster, applyManifests, deleteNamespacesOf, hideProjects, kubectl, PROVISIONER_MANIFESTS } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { provisionedProject } from './support/pipelines.js';
import { eventually } from './support/wait.js';

const rig = loadRig();
const { admin: adminConnection } = rigConnections(rig);
const cluster = adminCluster(rig);
const suffix = uniqueSuffix();
const PROJECT = `it-${suffix}-runs`;
const NAMESPACE = namespaceFor(PROJECT);
/** A namespace of the test's own, without quota or limits, for filling a node. */
const PLAIN_NAMESPACE = `it-${suffix}-priority`;
/**
 * A fake node of the test's own, which KWOK runs as it runs the rig's (it manages every node with its
 * annotation), tainted so that only this test's pods land there: the priority test fills it, whatever else runs.
 */
const NODE = `it-${suffix}-node`;
const NODE_TAINT = { key: 'seakeeper.test/node', value: suffix, effect: 'NoSchedule' };

test.before(async () => {
  await applyManifests(rig, ...PROVISIONER_MANIFESTS);
  // One core for the whole namespace: two of the quota test's pods fit at once, not three.
  await provisionedProject(rig, PROJECT, { 'seakeeper.yaml': 'pipelines:\n  check: { workflow: check.yaml }\nresources: { cpu: "1", memory: 4Gi, pods: 10 }\n' }, { cluster });
  await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: PLAIN_NAMESPACE } } as ClusterObject);
  const capacity = { cpu: '8', memory: '32Gi', pods: '110' };
  await cluster.create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE, annotations: { 'kwok.x-k8s.io/node': 'fake' }, labels: { type: 'kwok-test', 'kubernetes.io/hostname': NODE, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
    spec: { taints: [NODE_TAINT] },
    status: { allocatable: capacity, capacity },
  } as ClusterObject);
  await eventually(async () => {
    const node = await cluster.get<ClusterObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>('v1', 'Node', undefined, NODE);
    if (node?.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') throw new Error(`node ${NODE} is not ready yet`);
  }, 30_000, 250);
  // The API server taints a new node not-ready; in the rig nothing else lifts it (test/rig/workloads.sh).
  await kubectl(rig, 'taint', 'nodes', NODE, 'node.kubernetes.io/not-ready:NoSchedule-').catch(() => undefined);
  // Argo's pods run as the namespace's default ServiceAccount; kube-controller-manager makes it.
  await eventually(async () => {
    if (!(await cluster.get('v1', 'ServiceAccount', PLAIN_NAMESPACE, 'default'))) throw new Error('no default ServiceAccount yet');
  });
});

test.after(async () => {
  await cluster.delete('v1', 'Namespace', undefined, PLAIN_NAMESPACE).catch(() => undefined);
  await cluster.delete('v1', 'Node', undefined, NODE).catch(() => undefined);
  await deleteNamespacesOf(cluster, [PROJECT]);
  await hideProjects(adminConnection, [PROJECT]);
});

/** A definition as an owner writes it: `steps` side by side, each a pod asking for `cpu`, running `duration`. */
function definition(steps: string[], cpu: string, duration: string): string {
  const parallel = steps.map((name) => `          - { name: ${name}, template: run }`).join('\n');
  return `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: { generateName: check- }
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        -
${parallel}
    - name: run
      metadata: { annotations: { ${DURATION_ANNOTATION}: "${duration}" } }
      container:
        image: docker-registry.wikimedia.org/releng/ci:latest
        command: [make, test]
        resources: { requests: { cpu: ${cpu}, memory: 256Mi } }
`;
}

function created(result: CreateResult<ClusterObject>): LiveWorkflow {
  if (!result.created) throw new Error('the Workflow exists already');
  return result.object as unknown as LiveWorkflow;
}

let runs = 0;
/** Submits the Workflow patchset-created would build for a change of PROJECT, from `text`, in `pipelineName` as given. */
async function submit(text: string, adjust: (p: ReturnType<typeof pipeline>) => ReturnType<typeof pipeline> = (p) => p): Promise<LiveWorkflow> {
  const trigger = firstTrigger(patchsetCreated({ change: { project: PROJECT, number: 1000 + ++runs } }));
  const { workflow } = buildWorkflow({ trigger: { ...trigger, pipeline: adjust(trigger.pipeline) }, eventId: `argo-runs-${suffix}-${runs}`, definition: checked(text) });
  return created(await cluster.create(workflow as unknown as ClusterObject));
}

/** Creates a Workflow by hand, as a project owner with `argo submit` would. */
async function createByHand(namespace: string, name: string, spec: Record<string, unknown>): Promise<LiveWorkflow> {
  return created(await cluster.create({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name, namespace }, spec } as unknown as ClusterObject));
}

const podNodes = (workflow: LiveWorkflow): WorkflowNode[] => Object.values(workflow.status?.nodes ?? {}).filter((n) => n.type === 'Pod');
const seconds = (from: unknown, to: unknown) => (Date.parse(String(to)) - Date.parse(String(from))) / 1000;

test('the deadline the pipeline forces ends a run that runs too long: Argo fails it, and its pod stops', async () => {
  const run = await submit(definition(['forever'], '100m', '300s'), (p) => ({ ...p, workflow: { ...p.workflow, maxActiveDeadlineSeconds: 5 } }));
  assert.is(run.spec?.activeDeadlineSeconds, 5, 'forced by the pipeline (the definition has none)');
  const ref = refOfWorkflow(run);
  const done = await finished(cluster, ref);
  assert.is(done.status?.phase, 'Failed');
  const [pod] = podNodes(done);
  assert.is(pod!.phase, 'Failed');
  assert.ok(/deadline/.test(String(pod!.message)), String(pod!.message));
  assert.ok(seconds(done.status?.startedAt, done.status?.finishedAt) < 60, `ended after ${seconds(done.status?.startedAt, done.status?.finishedAt)} s, not after its 300`);
  await podsStopped(cluster, ref);
});

test('an exit handler is bounded too (Argo applies the run\'s deadline to steps only): its pod carries the deadline and stops', async () => {
  const text = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: { generateName: check- }
spec:
  entrypoint: main
  onExit: cleanup
  templates:
    - name: main
      container: { image: docker-registry.wikimedia.org/releng/ci:latest, command: [make, test] }
    - name: cleanup
      metadata: { annotations: { ${DURATION_ANNOTATION}: "300s" } }
      container: { image: docker-registry.wikimedia.org/releng/ci:latest, command: [make, clean] }
`;
  const run = await submit(text, (p) => ({ ...p, workflow: { ...p.workflow, maxActiveDeadlineSeconds: 5 } }));
  const ref = refOfWorkflow(run);
  const done = await finished(cluster, ref);
  const exit = podNodes(done).find((n) => String(n.displayName).includes('onExit') || n.templateName === 'cleanup');
  assert.ok(exit, JSON.stringify(podNodes(done).map((n) => [n.displayName, n.templateName])));
  assert.is(exit!.phase, 'Failed', String(exit!.message));
  assert.ok(/deadline/i.test(String(exit!.message)), String(exit!.message));
  assert.ok(seconds(exit!.startedAt, exit!.finishedAt) < 60, `the exit handler ran ${seconds(exit!.startedAt, exit!.finishedAt)} s, not its 300`);
  await podsStopped(cluster, ref);
});

test('the namespace\'s ResourceQuota keeps a pod beyond it from starting; the run finishes once room frees', async () => {
  // Each pod asks 400m for its step and 100m for Argo's wait container (the LimitRange's default): two fit in one core.
  const run = await submit(definition(['a', 'b', 'c'], '400m', '4s'));
  const ref = refOfWorkflow(run);
  const refusal = await eventually(async () => {
    const live = (await cluster.get<ClusterObject & LiveWorkflow>('argoproj.io/v1alpha1', 'Workflow', ref.namespace, ref.name))!;
    const pending = podNodes(live).find((n) => n.phase === 'Pending' && /exceeded quota/.test(String(n.message)));
    if (!pending) throw new Error(`no pod refused by the quota yet: ${JSON.stringify(podNodes(live).map((n) => [n.displayName, n.phase, n.message]))}`);
    return pending;
  }, 30_000, 200);
  assert.match(String(refusal.message), 'exceeded quota: seakeeper');
  const done = await finished(cluster, ref);
  assert.is(done.status?.phase, 'Succeeded');
  assert.equal(podNodes(done).map((n) => n.phase), ['Succeeded', 'Succeeded', 'Succeeded']);
  // The refused step waited for one of the others to finish.
  const byName = Object.fromEntries(podNodes(done).map((n) => [String(n.displayName), n]));
  const firstDone = Math.min(...podNodes(done).map((n) => Date.parse(String(n.finishedAt))));
  assert.ok(Date.parse(String(byName[String(refusal.displayName)]!.finishedAt)) - firstDone >= 3000, 'the refused pod ran after room freed');
});

test('a pod that breaks the namespace\'s Pod Security level is refused by the API server; Argo reports why', async () => {
  // Seakeeper's policy would refuse this definition; an owner can still create it by hand in the namespace.
  const run = await createByHand(NAMESPACE, 'privileged', {
    entrypoint: 'main',
    serviceAccountName: 'workflow',
    templates: [{ name: 'main', container: { image: 'docker-registry.wikimedia.org/releng/ci:latest', command: ['make'], securityContext: { privileged: true } } }],
  });
  const done = await finished(cluster, refOfWorkflow(run));
  assert.is.not(done.status?.phase, 'Succeeded');
  const [node] = podNodes(done);
  assert.is(node!.phase, 'Error', String(node!.message));
  assert.ok(/violates PodSecurity "baseline:latest": privileged/.test(String(node!.message)), String(node!.message));
  assert.is((await runPods(cluster, refOfWorkflow(run))).length, 0, 'no pod was admitted');
});

test('on a full node, a pending gate pod starts before a check pod that was waiting longer (PriorityClasses; no preemption)', async () => {
  const onNode = (name: string, priorityClass: string, cpu: string, duration: string) =>
    createByHand(PLAIN_NAMESPACE, name, {
      entrypoint: 'main',
      podPriorityClassName: priorityClass,
      nodeSelector: { 'kubernetes.io/hostname': NODE },
      tolerations: [{ ...NODE_TAINT, operator: 'Equal' }],
      templates: [{ name: 'main', metadata: { annotations: { [DURATION_ANNOTATION]: duration, [EXIT_CODE_ANNOTATION]: '0' } }, container: { image: 'ci', command: ['run'], resources: { requests: { cpu } } } }],
    });
  // The node has 8 cores: the filler leaves half a core, so neither waiting run fits until it ends.
  const filler = await onNode('filler', 'seakeeper-check', '7500m', '15s');
  await running(cluster, refOfWorkflow(filler));
  const check = await onNode('check-waiting', 'seakeeper-check', '6', '4s');
  await eventually(async () => {
    const [pod] = await podsOf(cluster, refOfWorkflow(check));
    const scheduled = pod!.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.reason !== 'Unschedulable') throw new Error(`check pod not judged unschedulable yet: ${JSON.stringify(scheduled)}`);
  }, 20_000, 200);
  const gate = await onNode('gate-waiting', 'seakeeper-gate', '6', '4s');
  const [gateDone, checkDone, fillerDone] = await Promise.all([gate, check, filler].map((w) => finished(cluster, refOfWorkflow(w), 90_000)));
  assert.equal([gateDone!.status?.phase, checkDone!.status?.phase, fillerDone!.status?.phase], ['Succeeded', 'Succeeded', 'Succeeded'], 'nothing was preempted');
  const started = async (w: LiveWorkflow) => {
    const [pod] = await podsOf(cluster, refOfWorkflow(w));
    assert.is(pod!.spec.nodeName, NODE);
    return Date.parse(String(pod!.status?.startTime));
  };
  const [gateStart, checkStart] = [await started(gate), await started(check)];
  assert.ok(gateStart < checkStart, `the gate pod started first (gate ${new Date(gateStart).toISOString()}, check ${new Date(checkStart).toISOString()})`);
  assert.ok(gateStart >= Date.parse(String(podNodes(fillerDone!)[0]!.finishedAt)) - 1000, 'the gate pod waited for room, it did not evict the filler');
});

test.run();
