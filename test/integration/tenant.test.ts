// Tenant isolation against an owner who attacks another project, on the rig's real kube-apiserver, Argo
// controller and Gerrit. A project owner may create Workflows, WorkflowTemplates and CronWorkflows in their
// namespace (ClusterRole seakeeper-workflow-editor); they act here through the API server's impersonation
// (`kubectl --as`), so RBAC and admission judge them as they would judge the owner.
//   - The cluster (ValidatingAdmissionPolicy seakeeper-run-bookkeeping, knative/cluster/admission.yaml) refuses
//     Seakeeper's bookkeeping labels and annotations from anyone but Seakeeper, on create and on update, and
//     in workflowMetadata, which Argo's controller would copy onto a Workflow.
//   - The reporter (runOf) trusts a run only in the namespace of the project it names: a forged run that got
//     past admission anyway (created here by a cluster administrator) is not reported on the other change.
//   - Workflows, templates and CronWorkflows meet the workflow policy's hardest rules in admission
//     (seakeeper-project-workflows: no podSpecPatch, resource, http or plugin templates, cluster-scoped refs).
//   - Pods Argo makes from an owner's Workflow meet the pod policy (seakeeper-project-pods: no system
//     PriorityClass, no probe or hook naming a host), and volumes it claims meet the namespace's storage quota.
// rig: parallel (test/run.ts): namespaces and projects of its own
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPipelines } from '../../shared/config/pipeline-config.js';
import { loadPolicy } from '../../shared/config/policy.js';
import { defaultProjectConfig } from '../../shared/config/project-config.js';
import { buildBundle, namespaceObject, POD_SECURITY_ENFORCE_LABEL } from '../../shared/provisioning/bundle.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import type { ClusterObject } from '../../shared/k8s/cluster.js';
import { ARGO_API_VERSION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, namespaceFor, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, projectHash, WORKFLOW_KIND } from '../../shared/names.js';
import { REPORT_MARKER } from '../../shared/reporting/markers.js';
import { Reporter } from '../../shared/reporting/reporter.js';
import { CHANGE_LABEL, PATCHSET_LABEL, PIPELINE_LABEL, REVISION_LABEL } from '../../shared/runs/workflow.js';
import { readWorkflow } from '../../shared/runs/workflow-store.js';
import { createProject, pushChange } from '../../dev/gerrit-chores.js';
import { finished } from './support/argo.js';
import { eventually } from './support/wait.js';
import { rigConnections } from './support/gerrit.js';
import { adminCluster, applyManifests, hideProjects, kubectl } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const rig = loadRig();
const { bot: botConnection, admin: adminConnection } = rigConnections(rig);
const cluster = adminCluster(rig);
const suffix = uniqueSuffix();
const ATTACKER = `it-${suffix}-tenant/attacker`;
const VICTIM = `it-${suffix}-tenant/victim`;
/** The attacker project's owners, as provisioning binds them (policy groupPrefix `gerrit:`). */
const OWNERS_GROUP = `gerrit:${ATTACKER}-owners`;
const POLICY = 'seakeeper-run-bookkeeping';
/** A class the test's policy lets claims name (the rig has no StorageClass objects: the quota refuses first). */
const STORAGE_CLASS = 'standard';
let dir: string;

test.before(async () => {
  await applyManifests(rig, 'knative/cluster');
  dir = await mkdtemp(path.join(tmpdir(), 'seakeeper-tenant-'));
  // The shipped policy, with a StorageClass claims may name (it lists none as shipped: no claims at all).
  const shipped = loadPolicy();
  const policy = { ...shipped, storage: { ...shipped.storage, classes: [STORAGE_CLASS] } };
  for (const project of [ATTACKER, VICTIM]) {
    await createProject(adminConnection, project);
    // As provisioning makes project namespaces: the pod, workflow and storage policies match on them.
    await cluster.apply(namespaceObject({ project, policy }) as ClusterObject);
  }
  // The attacker namespace's quota, as provisioning makes it.
  const bundle = buildBundle({ project: ATTACKER, config: defaultProjectConfig(policy), policy });
  await cluster.apply(bundle.find((o) => o.kind === 'ResourceQuota') as ClusterObject);
  // What provisioning gives the owners (bundle.ts: RoleBinding seakeeper-owners).
  await cluster.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'seakeeper-owners', namespace: namespaceFor(ATTACKER) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'seakeeper-workflow-editor' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: OWNERS_GROUP }],
  } as ClusterObject);
});

test.after(async () => {
  for (const project of [ATTACKER, VICTIM]) await cluster.delete('v1', 'Namespace', undefined, namespaceFor(project));
  await hideProjects(adminConnection, [ATTACKER, VICTIM]);
  await rm(dir, { recursive: true, force: true });
});

/** `kubectl` as an owner of the attacker project: the answer, or the API server's refusal. */
async function asOwner(...args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    return { ok: true, output: await kubectl(rig, '--as=mallory', `--as-group=${OWNERS_GROUP}`, ...args) };
  } catch (err) {
    return { ok: false, output: String((err as { stderr?: string }).stderr ?? err) };
  }
}

/** Creates `object` as an owner. */
async function createAsOwner(object: object): Promise<{ ok: boolean; output: string }> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(object));
  return asOwner('create', '-f', file);
}

/** Seakeeper's labels and annotations of a run of `project`'s change. */
function runMetadata(project: string, change: number, revision: string) {
  return {
    labels: {
      [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
      [PROJECT_HASH_LABEL]: projectHash(project),
      [PIPELINE_LABEL]: 'check',
      [CHANGE_LABEL]: String(change),
      [PATCHSET_LABEL]: '1',
      [REVISION_LABEL]: revision,
    },
    annotations: { [PROJECT_ANNOTATION]: project },
  };
}

const SPEC = { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox', command: ['true'] } }] };
const workflow = (name: string, metadata: object = {}, spec: object = SPEC) => ({
  apiVersion: ARGO_API_VERSION,
  kind: WORKFLOW_KIND,
  metadata: { name, namespace: namespaceFor(ATTACKER), ...metadata },
  spec,
});

test('an owner may create and label their own Workflows (the policy leaves what is theirs alone)', async () => {
  const created = await createAsOwner(workflow('own', { labels: { team: 'a' }, annotations: { note: 'mine' } }));
  assert.ok(created.ok, created.output);
  const labelled = await asOwner('label', 'workflow', 'own', '-n', namespaceFor(ATTACKER), 'team=b', '--overwrite');
  assert.ok(labelled.ok, labelled.output);
});

test('an owner cannot create a Workflow carrying Seakeeper\'s labels: refused by the API server, the policy named', async () => {
  const forged = await createAsOwner(workflow('forged', runMetadata(VICTIM, 1, 'a'.repeat(40))));
  assert.not.ok(forged.ok);
  assert.match(forged.output, `ValidatingAdmissionPolicy '${POLICY}'`);
  assert.match(forged.output, `label ${CHANGE_LABEL}=1`);
  // One annotation alone is enough to be refused.
  const annotated = await createAsOwner(workflow('annotated', { annotations: { [REPORT_MARKER.done]: 'Succeeded' } }));
  assert.not.ok(annotated.ok);
  assert.match(annotated.output, `annotation ${REPORT_MARKER.done}=Succeeded`);
});

test('nor have Argo\'s controller put them on for them: workflowMetadata in a Workflow, a WorkflowTemplate, a CronWorkflow', async () => {
  const wfMeta = { workflowMetadata: { labels: { [CHANGE_LABEL]: '1' } } };
  const attempts = [
    workflow('meta', {}, { ...SPEC, ...wfMeta }),
    { apiVersion: ARGO_API_VERSION, kind: 'WorkflowTemplate', metadata: { name: 'meta', namespace: namespaceFor(ATTACKER) }, spec: { ...SPEC, workflowMetadata: { labelsFrom: { [MANAGED_BY_LABEL]: { expression: "'seakeeper'" } } } } },
    { apiVersion: ARGO_API_VERSION, kind: 'CronWorkflow', metadata: { name: 'meta', namespace: namespaceFor(ATTACKER) }, spec: { schedules: ['* * * * *'], workflowSpec: { ...SPEC, workflowMetadata: { annotations: { [PROJECT_ANNOTATION]: VICTIM } } } } },
  ];
  for (const object of attempts) {
    const answer = await createAsOwner(object);
    assert.not.ok(answer.ok, `${object.kind} was accepted`);
    assert.match(answer.output, `ValidatingAdmissionPolicy '${POLICY}'`);
    assert.match(answer.output, 'workflowMetadata may not name');
  }
});

test('an owner cannot add, change or remove Seakeeper\'s bookkeeping on a run Seakeeper made (a marker erased would report twice)', async () => {
  await cluster.create(workflow('seakeepers', runMetadata(ATTACKER, 7, 'b'.repeat(40))) as ClusterObject);
  const ns = namespaceFor(ATTACKER);
  for (const args of [
    ['annotate', 'workflow', 'seakeepers', '-n', ns, `${REPORT_MARKER.done}=Succeeded`],
    ['label', 'workflow', 'seakeepers', '-n', ns, `${CHANGE_LABEL}=8`, '--overwrite'],
    ['label', 'workflow', 'seakeepers', '-n', ns, `${CHANGE_LABEL}-`],
    ['annotate', 'workflow', 'seakeepers', '-n', ns, `${PROJECT_ANNOTATION}-`],
  ]) {
    const answer = await asOwner(...args);
    assert.not.ok(answer.ok, `${args.join(' ')} was accepted`);
    assert.match(answer.output, `ValidatingAdmissionPolicy '${POLICY}'`);
  }
  const unrelated = await asOwner('label', 'workflow', 'seakeepers', '-n', ns, 'team=c');
  assert.ok(unrelated.ok, unrelated.output);
  assert.is((await readWorkflow(cluster, { namespace: ns, name: 'seakeepers' }))?.metadata.labels?.[CHANGE_LABEL], '7');
});

test('a forged run that got past admission is not reported on another project\'s change; the same run in that project\'s namespace is', async () => {
  const change = await pushChange(adminConnection, VICTIM, { 'v.txt': 'victim\n' }, 'The victim\'s change');
  const metadata = runMetadata(VICTIM, change._number, change.current_revision!);
  // A cluster administrator is not matched by the admission policy: the stand-in for anything that slips past it.
  const forged = { ...workflow('forged-run'), metadata: { name: 'forged-run', namespace: namespaceFor(ATTACKER), ...metadata } };
  const genuine = { ...forged, metadata: { ...forged.metadata, name: 'genuine-run', namespace: namespaceFor(VICTIM) } };
  for (const object of [forged, genuine]) await cluster.create(object as ClusterObject);
  const reporter = new Reporter({ gerrit: new GerritClient(botConnection), cluster, pipelines: loadPipelines(), argoUiUrl: 'https://argo.example.org/' });
  const messages = async () => ((await new GerritClient(botConnection).getChange(`${VICTIM}~${change._number}`, ['MESSAGES'])).messages ?? []).filter((m) => m.tag === 'autogenerated:seakeeper-check');

  await finished(cluster, { namespace: namespaceFor(ATTACKER), name: 'forged-run' });
  assert.equal(await reporter.report({ namespace: namespaceFor(ATTACKER), name: 'forged-run' }), { result: 'not-seakeeper', workflow: `${namespaceFor(ATTACKER)}/forged-run` });
  assert.is((await messages()).length, 0);

  await finished(cluster, { namespace: namespaceFor(VICTIM), name: 'genuine-run' });
  assert.is((await reporter.report({ namespace: namespaceFor(VICTIM), name: 'genuine-run' })).result, 'reported');
  assert.is((await messages()).length, 1);
});

test('what would reach past every other limit is refused in a project namespace for every author (workflow policy in admission)', async () => {
  const ns = namespaceFor(ATTACKER);
  const attempts: Array<[string, object, string]> = [
    ['podSpecPatch', workflow('patch', {}, { ...SPEC, podSpecPatch: '{"hostNetwork": true}' }), 'podSpecPatch is not allowed'],
    ['a resource template', workflow('resource', {}, { entrypoint: 'main', templates: [{ name: 'main', resource: { action: 'create', manifest: 'kind: ClusterRoleBinding' } }] }), 'resource templates are not allowed'],
    [
      'an http template inline in a WorkflowTemplate',
      { apiVersion: ARGO_API_VERSION, kind: 'WorkflowTemplate', metadata: { name: 'agent', namespace: ns }, spec: { entrypoint: 'main', templates: [{ name: 'main', steps: [[{ name: 's', inline: { http: { url: 'http://169.254.169.254/' } } }]] }] } },
      'http and plugin templates are not allowed',
    ],
    [
      'a cluster-scoped template in a CronWorkflow',
      { apiVersion: ARGO_API_VERSION, kind: 'CronWorkflow', metadata: { name: 'cluster', namespace: ns }, spec: { schedules: ['* * * * *'], workflowSpec: { entrypoint: 'main', templates: [{ name: 'main', dag: { tasks: [{ name: 't', templateRef: { name: 'x', template: 'y', clusterScope: true } }] } }] } } },
      'cluster-scoped templates',
    ],
  ];
  for (const [what, object, message] of attempts) {
    const answer = await createAsOwner(object);
    assert.not.ok(answer.ok, `${what} was accepted`);
    assert.match(answer.output, "ValidatingAdmissionPolicy 'seakeeper-project-workflows'");
    assert.match(answer.output, message);
  }
  // Nor can it be added afterwards to a Workflow the owner made.
  const patched = await asOwner('patch', 'workflow', 'own', '-n', ns, '--type=merge', '-p', '{"spec":{"podSpecPatch":"{}"}}');
  assert.not.ok(patched.ok, 'podSpecPatch was added by an update');
  assert.match(patched.output, 'podSpecPatch is not allowed');
});

/** An owner's Workflow, run by Argo's controller to its end: its phase and message. */
async function ownersRun(name: string, spec: object): Promise<{ phase: unknown; message: string }> {
  const created = await createAsOwner(workflow(name, {}, spec));
  assert.ok(created.ok, created.output);
  const ended = await finished(cluster, { namespace: namespaceFor(ATTACKER), name });
  const nodes = Object.values((ended.status?.nodes ?? {}) as Record<string, { message?: string }>);
  return { phase: ended.status?.phase, message: [ended.status?.message, ...nodes.map((n) => n.message)].filter(Boolean).join('\n') };
}

test('pods Argo makes from an owner\'s Workflow may not take a system PriorityClass: the API server refuses them (pod policy)', async () => {
  const run = await ownersRun('system-priority', { ...SPEC, podPriorityClassName: 'system-cluster-critical' });
  assert.is.not(run.phase, 'Succeeded');
  assert.match(run.message, "ValidatingAdmissionPolicy 'seakeeper-project-pods'");
  assert.match(run.message, 'PriorityClass system-cluster-critical is not for project pods');
});

test('nor probes or hooks that name a host (the kubelet would send them from the node\'s network): Pod Security, and the pod policy where the namespace is privileged', async () => {
  const probed = { ...SPEC, templates: [{ name: 'main', container: { image: 'busybox', command: ['true'], livenessProbe: { httpGet: { host: '169.254.169.254', path: '/latest/meta-data/', port: 80 } } } }] };
  // Pod Security "baseline" refuses a probe's host since Kubernetes 1.34.
  const baseline = await ownersRun('probe-host', probed);
  assert.is.not(baseline.phase, 'Succeeded');
  assert.match(baseline.message, 'violates PodSecurity "baseline:latest": probe or lifecycle host');
  // The policy may set a project's Pod Security level to privileged: the pod policy still refuses it.
  const namespace = namespaceFor(ATTACKER);
  await kubectl(rig, 'label', '--overwrite', 'namespace', namespace, `${POD_SECURITY_ENFORCE_LABEL}=privileged`);
  try {
    const privileged = await ownersRun('probe-host-privileged', probed);
    assert.is.not(privileged.phase, 'Succeeded');
    assert.match(privileged.message, "ValidatingAdmissionPolicy 'seakeeper-project-pods'");
    assert.match(privileged.message, 'a probe or lifecycle hook may not name a host');
  } finally {
    await kubectl(rig, 'label', '--overwrite', 'namespace', namespace, `${POD_SECURITY_ENFORCE_LABEL}=${loadPolicy().podSecurity}`);
  }
});

test('storage is under the namespace\'s quota: a claim above the policy\'s storage is refused by the API server', async () => {
  const claiming = {
    ...SPEC,
    volumeClaimTemplates: [{ metadata: { name: 'work' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: STORAGE_CLASS, resources: { requests: { storage: '500Gi' } } } }],
  };
  const created = await createAsOwner(workflow('big-claim', {}, claiming));
  assert.ok(created.ok, created.output);
  // Argo waits, retrying the claim, and says why; nothing is claimed and no pod runs.
  const message = await eventually(async () => {
    const text = String((await readWorkflow(cluster, { namespace: namespaceFor(ATTACKER), name: 'big-claim' }))?.status?.message ?? '');
    assert.match(text, 'exceeded quota');
    return text;
  });
  assert.match(message, 'requests.storage=500Gi');
  assert.is(await cluster.get('v1', 'PersistentVolumeClaim', namespaceFor(ATTACKER), 'big-claim-work'), undefined);
  await cluster.delete(ARGO_API_VERSION, WORKFLOW_KIND, namespaceFor(ATTACKER), 'big-claim');
});

test.run();
