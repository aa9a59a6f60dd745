// What an owner may write in a Workflow, WorkflowTemplate or CronWorkflow of their namespace by hand, on the rig's
// real kube-apiserver and Argo controller: the ValidatingAdmissionPolicies seakeeper-project-workflows and
// seakeeper-workflow-status (knative/cluster/admission.yaml) judge every author there. The owner acts through the
// API server's impersonation (`kubectl --as`), so RBAC and admission judge them as they would judge the owner.
//   - Keys that are not exactly Argo's fields: Argo decodes with Go's encoding/json, which ignores case and folds
//     `ſ` and the Kelvin sign, so `PodSpecPatch` would pass a check for podSpecPatch and still take effect. The
//     rig's CRDs are Argo's full ones, whose schema prunes or refuses such keys before admission except inside
//     inline templates (their schema stops there); Argo's minimal CRDs, which its own install manifests
//     (cluster-install, quick-start) use, keep every key. So the policies are also bound here to a copy of the minimal CRDs in a
//     group of this run's own, which shows them judging every place they read.
//   - Inline templates inside inline templates, the PriorityClass seakeeper-gate, artifacts that pick their own
//     storage, and a status that brings what Argo's controller would run.
//   - What stays allowed: Argo's artifact example with the namespace's repository, a steps and DAG Workflow run by
//     Argo's controller to its end (its status writes are not judged), a WorkflowTemplate run by reference, argo
//     retry's and stop's writes, a Workflow of 200 templates, judged well within the API server's CEL limits,
//     and every one of Argo's examples that the workflow policy accepts (admission must not refuse a run
//     Seakeeper's own check let through).
// rig: parallel (test/run.ts): a namespace of its own; its CRDs and policy copies are in an API group of its own
import { execFileSync } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { ARGO_MODULE, DEFAULT_ARGO_VERSION } from '../../dev/argo-schema.js';
import { ADMISSION_FILE } from '../../dev/admission-fields.js';
import { loadPolicy } from '../../shared/config/policy.js';
import { parseYaml } from '../../shared/config/yaml.js';
import { defaultProjectConfig } from '../../shared/config/project-config.js';
import type { ClusterObject } from '../../shared/k8s/cluster.js';
import { checkDefinition, checkWorkflowTemplate } from '../../shared/pipelines/workflow-policy.js';
import { ARGO_API_VERSION, namespaceFor, PRIORITY_CLASSES, WORKFLOW_KIND } from '../../shared/names.js';
import { buildBundle, OWNERS_BINDING, WORKFLOW_EDITOR_CLUSTER_ROLE } from '../../shared/provisioning/bundle.js';
import { readWorkflow } from '../../shared/runs/workflow-store.js';
import { finished } from './support/argo.js';
import { adminCluster, applyManifests, kubectl } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { eventually } from './support/wait.js';

const rig = loadRig();
const cluster = adminCluster(rig);
const suffix = uniqueSuffix();
const PROJECT = `it-${suffix}-tenant-wf/project`;
const NS = namespaceFor(PROJECT);
/** The project's owners, as provisioning binds them (policy groupPrefix `gerrit:`). */
const OWNERS_GROUP = `gerrit:${PROJECT}-owners`;
const AS_OWNER = ['--as=mallory', `--as-group=${OWNERS_GROUP}`];
/** One of Seakeeper's pipeline accounts (knative/rbac), which creates the runs. */
const SEAKEEPER_ACCOUNT = 'system:serviceaccount:seakeeper-system:patchset-created';
const AS_SEAKEEPER = [`--as=${SEAKEEPER_ACCOUNT}`];
const WORKFLOWS_POLICY = 'seakeeper-project-workflows';
const STATUS_POLICY = 'seakeeper-workflow-status';
/** Argo's minimal CRDs, in a group of this run's own, and the two policies bound to it under names of their own. */
const MINIMAL_GROUP = `minimal-${suffix}.tenant-workflows.test`;
const MINIMAL = (policy: string) => `${policy}-minimal-${suffix}`;
const MODULE_DIR = (JSON.parse(execFileSync('go', ['mod', 'download', '-json', `${ARGO_MODULE}@${DEFAULT_ARGO_VERSION}`], { encoding: 'utf8' })) as { Dir: string }).Dir;
const MINIMAL_CRDS = ['workflows', 'workflowtemplates', 'cronworkflows'];
let dir: string;

/** Argo's minimal CRD of `plural`, moved to MINIMAL_GROUP. */
function minimalCrd(plural: string): ClusterObject {
  const crd = parse(readFileSync(path.join(MODULE_DIR, `manifests/base/crds/minimal/argoproj.io_${plural}.yaml`), 'utf8')) as ClusterObject & { spec: { group: string; names: { shortNames?: string[] } } };
  crd.spec.group = MINIMAL_GROUP;
  delete crd.spec.names.shortNames;
  return { ...crd, metadata: { name: `${plural}.${MINIMAL_GROUP}` } };
}

/** The shipped policy `name`, matching MINIMAL_GROUP instead of argoproj.io, and its binding. */
function minimalPolicy(name: string): ClusterObject[] {
  const policy = parseAllDocuments(readFileSync(ADMISSION_FILE, 'utf8'))
    .map((d) => d.toJS() as ClusterObject & { spec: { matchConstraints: { resourceRules: { apiGroups: string[] }[] } } })
    .find((d) => d.kind === 'ValidatingAdmissionPolicy' && d.metadata.name === name)!;
  for (const rule of policy.spec.matchConstraints.resourceRules) rule.apiGroups = [MINIMAL_GROUP];
  const copy = MINIMAL(name);
  return [
    { ...policy, metadata: { name: copy } },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: copy }, spec: { policyName: copy, validationActions: ['Deny'] } } as ClusterObject,
  ];
}

async function applyFile(object: object): Promise<void> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(object));
  await kubectl(rig, 'apply', '-f', file);
}

test.before(async () => {
  await applyManifests(rig, 'knative/cluster');
  dir = await mkdtemp(path.join(tmpdir(), 'seakeeper-tenant-workflows-'));
  // The Namespace and the owners' RoleBinding as provisioning makes them.
  const policy = loadPolicy();
  const bundle = buildBundle({ project: PROJECT, config: { ...defaultProjectConfig(policy), owners: [`${PROJECT}-owners`] }, policy });
  for (const object of bundle.filter((o) => o.kind === 'Namespace' || o.metadata.name === OWNERS_BINDING)) await cluster.apply(object as ClusterObject);
  // Seakeeper's pipeline account may create Workflows cluster-wide (knative/rbac); here in this namespace only.
  await cluster.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'seakeeper-pipeline', namespace: NS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: WORKFLOW_EDITOR_CLUSTER_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: 'patchset-created', namespace: 'seakeeper-system' }],
  } as ClusterObject);
  // The minimal CRDs and the policies' copies, and the owners' rights on them, as on argoproj.io.
  for (const plural of MINIMAL_CRDS) await applyFile(minimalCrd(plural));
  await kubectl(rig, 'wait', '--for=condition=Established', ...MINIMAL_CRDS.map((p) => `crd/${p}.${MINIMAL_GROUP}`));
  for (const object of [...minimalPolicy(WORKFLOWS_POLICY), ...minimalPolicy(STATUS_POLICY)]) await applyFile(object);
  await cluster.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'minimal-editor', namespace: NS },
    rules: [{ apiGroups: [MINIMAL_GROUP], resources: MINIMAL_CRDS, verbs: ['get', 'create', 'update', 'patch', 'delete'] }],
  } as ClusterObject);
  await cluster.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'minimal-editor', namespace: NS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'minimal-editor' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: OWNERS_GROUP }],
  } as ClusterObject);
  // Policies take a moment to reach the API server's admission: wait until each refuses what it must.
  await eventually(async () => {
    for (const group of ['argoproj.io', MINIMAL_GROUP]) {
      const answer = await create(workflow('probe', { ...SPEC, templates: [{ name: 'main', steps: [[{ name: 'a', inline: { PodSpecPatch: '{}' } }]] }] }, group), '--dry-run=server');
      if (answer.ok) throw new Error(`the policies do not judge ${group} yet`);
      const status = await create({ ...workflow('probe', SPEC, group), status: { phase: 'Running' } }, '--dry-run=server');
      if (status.ok) throw new Error(`the status policy does not judge ${group} yet`);
    }
  }, 30_000, 500);
});

test.after(async () => {
  await cluster.delete('v1', 'Namespace', undefined, NS);
  for (const name of [WORKFLOWS_POLICY, STATUS_POLICY].map(MINIMAL)) {
    await kubectl(rig, 'delete', '--ignore-not-found', `validatingadmissionpolicybinding/${name}`, `validatingadmissionpolicy/${name}`);
  }
  await kubectl(rig, 'delete', '--ignore-not-found', ...MINIMAL_CRDS.map((p) => `crd/${p}.${MINIMAL_GROUP}`));
  await rm(dir, { recursive: true, force: true });
});

/** Creates `object` as the owner (or with other `as` arguments): the answer, or the API server's refusal. */
async function create(object: object, ...args: string[]): Promise<{ ok: boolean; output: string }> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(object));
  return run('create', '-f', file, ...(args.some((a) => a.startsWith('--as=')) ? args : [...AS_OWNER, ...args]));
}

async function run(...args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    return { ok: true, output: await kubectl(rig, ...args) };
  } catch (err) {
    return { ok: false, output: String((err as { stderr?: string }).stderr ?? err) };
  }
}

/** A merge patch as the owner. */
const patchAsOwner = (resource: string, name: string, patch: object) => run('patch', resource, name, '-n', NS, '--type=merge', '-p', JSON.stringify(patch), ...AS_OWNER);

const SPEC = { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox', command: ['true'] } }] };
/** A container template for steps and tasks to run. */
const WORK = { name: 'work', container: { image: 'busybox', command: ['true'] } };
const apiVersion = (group: string) => `${group}/v1alpha1`;
const workflow = (name: string, spec: object = SPEC, group = 'argoproj.io') => ({ apiVersion: apiVersion(group), kind: WORKFLOW_KIND, metadata: { name, namespace: NS }, spec });
const cronWorkflow = (name: string, spec: object, group = 'argoproj.io') => ({ apiVersion: apiVersion(group), kind: 'CronWorkflow', metadata: { name, namespace: NS }, spec });
const workflowTemplate = (name: string, spec: object, group = 'argoproj.io') => ({ apiVersion: apiVersion(group), kind: 'WorkflowTemplate', metadata: { name, namespace: NS }, spec });
/** A spec whose entry template runs `step` (a WorkflowStep) in a steps template. */
const withStep = (step: object, spec: object = {}) => ({ entrypoint: 'main', templates: [{ name: 'main', steps: [[{ name: 's', ...step }]] }, WORK], ...spec });
/** A spec whose entry template runs `task` (a DAGTask) in a DAG template. */
const withTask = (task: object, spec: object = {}) => ({ entrypoint: 'main', templates: [{ name: 'main', dag: { tasks: [{ name: 't', ...task }] } }, WORK], ...spec });
/** A spec whose one container template has `fields` too. */
const withTemplate = (fields: object, spec: object = {}) => ({ entrypoint: 'main', templates: [{ ...SPEC.templates[0]!, ...fields }], ...spec });

/** `object` is refused by `policy`, the refusal naming it and saying `message`. */
async function refused(what: string, object: object, policy: string, message: string | RegExp, ...args: string[]): Promise<void> {
  const answer = await create(object, ...args);
  assert.not.ok(answer.ok, `${what} was accepted`);
  assert.match(answer.output, `ValidatingAdmissionPolicy '${policy}'`, `${what}: ${answer.output}`);
  assert.match(answer.output, message, `${what}: ${answer.output}`);
}

const KEYS_REFUSED = "keys that are not exactly one of Argo's fields are not allowed";

// [what, object in MINIMAL_GROUP, "Type Key (Argo reads it as key)" the refusal names]
const FOLDED_KEYS: Array<[string, object, string]> = [
  ['a WorkflowSpec key', workflow('k', { ...SPEC, PodSpecPatch: '{}' }, MINIMAL_GROUP), 'WorkflowSpec PodSpecPatch (Argo reads it as podSpecPatch)'],
  ['a Template key, with ſ for s', workflow('k', withTemplate({ podſpecPatch: '{}' }), MINIMAL_GROUP), 'Template podſpecPatch (Argo reads it as podSpecPatch)'],
  ['a key of templateDefaults', workflow('k', { ...SPEC, templateDefaults: { PriorityClassName: PRIORITY_CLASSES.gate } }, MINIMAL_GROUP), 'Template PriorityClassName (Argo reads it as priorityClassName)'],
  ['a WorkflowStep key', workflow('k', withStep({ Inline: { resource: { action: 'create' } } }), MINIMAL_GROUP), 'WorkflowStep Inline (Argo reads it as inline)'],
  ['a DAGTemplate key, with the Kelvin sign for k', workflow('k', { entrypoint: 'main', templates: [{ name: 'main', dag: { 'tas\u212As': [] } }] }, MINIMAL_GROUP), 'DAGTemplate tas\u212As (Argo reads it as tasks)'],
  ['a DAGTask key', workflow('k', withTask({ TemplateRef: { name: 'x', template: 'y', clusterScope: true } }), MINIMAL_GROUP), 'DAGTask TemplateRef (Argo reads it as templateRef)'],
  ['a key of an inline template', workflow('k', withTask({ inline: { Resource: { action: 'create' } } }), MINIMAL_GROUP), 'Template Resource (Argo reads it as resource)'],
  ['a TemplateRef key', workflow('k', withStep({ templateRef: { name: 'x', template: 'y', ClusterScope: true } }), MINIMAL_GROUP), 'TemplateRef ClusterScope (Argo reads it as clusterScope)'],
  ['a WorkflowTemplateRef key', workflow('k', { workflowTemplateRef: { name: 'x', CLUSTERSCOPE: true } }, MINIMAL_GROUP), 'WorkflowTemplateRef CLUSTERSCOPE (Argo reads it as clusterScope)'],
  ['a LifecycleHook key', workflow('k', { ...SPEC, hooks: { exit: { TemplateRef: { name: 'x', template: 'y', clusterScope: true } } } }, MINIMAL_GROUP), 'LifecycleHook TemplateRef (Argo reads it as templateRef)'],
  ['an Arguments key', workflow('k', { ...SPEC, arguments: { Artifacts: [{ name: 'a', s3: { key: 'x' } }] } }, MINIMAL_GROUP), 'Arguments Artifacts (Argo reads it as artifacts)'],
  ['an Inputs key', workflow('k', withTemplate({ inputs: { ARTIFACTS: [] } }), MINIMAL_GROUP), 'Inputs ARTIFACTS (Argo reads it as artifacts)'],
  ['an Outputs key', workflow('k', withTemplate({ outputs: { Artifacts: [] } }), MINIMAL_GROUP), 'Outputs Artifacts (Argo reads it as artifacts)'],
  ['an Artifact key', workflow('k', withTemplate({ outputs: { artifacts: [{ name: 'a', path: '/a', S3: { key: 'sk-other/x' } }] } }), MINIMAL_GROUP), 'Artifact S3 (Argo reads it as s3)'],
  ['a Data key', workflow('k', withTemplate({ data: { Source: {} } }), MINIMAL_GROUP), 'Data Source (Argo reads it as source)'],
  ['a DataSource key', workflow('k', withTemplate({ data: { source: { ArtifactPaths: {} } } }), MINIMAL_GROUP), 'DataSource ArtifactPaths (Argo reads it as artifactPaths)'],
  ['a key of spec.artifactGC', workflow('k', { ...SPEC, artifactGC: { PodSpecPatch: '{}' } }, MINIMAL_GROUP), 'WorkflowLevelArtifactGC PodSpecPatch (Argo reads it as podSpecPatch)'],
  ['a WorkflowMetadata key', workflow('k', { ...SPEC, workflowMetadata: { Labels: { 'app.kubernetes.io/managed-by': 'seakeeper' } } }, MINIMAL_GROUP), 'WorkflowMetadata Labels (Argo reads it as labels)'],
  ['a CronWorkflowSpec key', cronWorkflow('k', { schedules: ['* * * * *'], WorkflowSpec: SPEC }, MINIMAL_GROUP), 'CronWorkflowSpec WorkflowSpec (Argo reads it as workflowSpec)'],
  ['a key of a CronWorkflow\'s workflowMetadata', cronWorkflow('k', { schedules: ['* * * * *'], workflowSpec: SPEC, workflowMetadata: { Labels: {} } }, MINIMAL_GROUP), 'ObjectMeta Labels (Argo reads it as labels)'],
  ['a key of a CronWorkflow\'s workflowSpec', cronWorkflow('k', { schedules: ['* * * * *'], workflowSpec: { ...SPEC, Templates: [] } }, MINIMAL_GROUP), 'WorkflowSpec Templates (Argo reads it as templates)'],
  ['a key of a WorkflowTemplate\'s template', workflowTemplate('k', withTemplate({ Plugin: {} }), MINIMAL_GROUP), 'Template Plugin (Argo reads it as plugin)'],
];

test(`keys spelled otherwise than Argo's fields are refused at every place the policy reads (Argo's minimal CRDs; ${FOLDED_KEYS.length} places)`, async () => {
  for (const [what, object, named] of FOLDED_KEYS) await refused(what, object, MINIMAL(WORKFLOWS_POLICY), named);
  // A key Argo has nowhere is refused too, and the same Workflow spelled right is not.
  await refused('an unknown key', workflow('k', { ...SPEC, hostPID: true }, MINIMAL_GROUP), MINIMAL(WORKFLOWS_POLICY), `${KEYS_REFUSED} in a project namespace (Argo's decoder ignores case and would read them past these checks): WorkflowSpec hostPID`);
  const spelledRight = await create(workflow('k', withStep({ templateRef: { name: 'x', template: 'y' } }, { hooks: { exit: { template: 'work' } } }), MINIMAL_GROUP), '--dry-run=server');
  assert.ok(spelledRight.ok, spelledRight.output);
});

test('on the rig\'s full CRDs, folded keys are refused by the schema before admission, and by the policy inside inline templates', async () => {
  const top = await create(workflow('k', { ...SPEC, PodSpecPatch: '{}' }));
  assert.not.ok(top.ok);
  assert.match(top.output, 'unknown field "spec.PodSpecPatch"');
  await refused('a folded key in an inline template', workflow('k', withStep({ inline: { PodSpecPatch: '{"hostNetwork": true}', container: { image: 'busybox' } } })), WORKFLOWS_POLICY, 'Template PodSpecPatch (Argo reads it as podSpecPatch)');
  await refused('a folded key in a step of an inline template', workflow('k', withTask({ inline: { steps: [[{ name: 'x', Inline: { resource: {} } }]] } })), WORKFLOWS_POLICY, 'WorkflowStep Inline (Argo reads it as inline)');
});

test('an inline template inside an inline template is refused: the policy reads one level of them, so nothing deeper hides', async () => {
  const nested = (group: string) => workflow('nested', withStep({ inline: { dag: { tasks: [{ name: 'x', inline: { podSpecPatch: '{}' } }] } } }), group);
  await refused('nested inline (argoproj.io)', nested('argoproj.io'), WORKFLOWS_POLICY, 'an inline template may not hold inline templates of its own');
  await refused('nested inline (minimal CRDs)', nested(MINIMAL_GROUP), MINIMAL(WORKFLOWS_POLICY), 'an inline template may not hold inline templates of its own');
  // One level is read, and judged.
  await refused('podSpecPatch one level down', workflow('inline', withTask({ inline: { podSpecPatch: '{}' } })), WORKFLOWS_POLICY, 'podSpecPatch is not allowed');
  const oneLevel = await create(workflow('inline', withTask({ inline: { container: { image: 'busybox' } } })), '--dry-run=server');
  assert.ok(oneLevel.ok, oneLevel.output);
});

const GATE = PRIORITY_CLASSES.gate;
const GATE_REFUSED = "only Seakeeper's gate runs may take the PriorityClass seakeeper-gate";

test('only Seakeeper\'s accounts may name the PriorityClass seakeeper-gate: an owner is refused in every place, Seakeeper is not', async () => {
  const attempts: Array<[string, object]> = [
    ['spec.podPriorityClassName', workflow('gate', { ...SPEC, podPriorityClassName: GATE })],
    ['a template\'s priorityClassName', workflow('gate', withTemplate({ priorityClassName: GATE }))],
    ['templateDefaults', workflow('gate', { ...SPEC, templateDefaults: { priorityClassName: GATE } })],
    ['an inline template', workflow('gate', withTask({ inline: { priorityClassName: GATE, container: { image: 'busybox' } } }))],
    ['a CronWorkflow\'s workflowSpec', cronWorkflow('gate', { schedules: ['* * * * *'], workflowSpec: { ...SPEC, podPriorityClassName: GATE } })],
    ['a WorkflowTemplate', workflowTemplate('gate', { ...SPEC, podPriorityClassName: GATE })],
  ];
  for (const [what, object] of attempts) await refused(what, object, WORKFLOWS_POLICY, GATE_REFUSED);
  // The other classes are the owner's to use (the pod policy allows Seakeeper's three to any pod).
  const check = await create(workflow('check', { ...SPEC, podPriorityClassName: PRIORITY_CLASSES.check }), '--dry-run=server');
  assert.ok(check.ok, check.output);

  // Seakeeper's pipeline account makes gate runs; an owner may still stop one (an update of its spec).
  const made = await create(workflow('gate-run', { ...SPEC, podPriorityClassName: GATE }), ...AS_SEAKEEPER);
  assert.ok(made.ok, made.output);
  const stopped = await patchAsOwner('workflow', 'gate-run', { spec: { shutdown: 'Stop' } });
  assert.ok(stopped.ok, stopped.output);
  // An owner's own Workflow cannot take it by an update either.
  const own = await create(workflow('own-run', { ...SPEC, suspend: true }));
  assert.ok(own.ok, own.output);
  const raised = await patchAsOwner('workflow', 'own-run', { spec: { podPriorityClassName: GATE } });
  assert.not.ok(raised.ok, 'the gate was added by an update');
  assert.match(raised.output, GATE_REFUSED);
});

const ARTIFACTS_REFUSED = "artifacts may not pick their own storage in a project namespace: they keep to the namespace's repository";

test('artifacts may not pick their own storage: locations, archiveLocation, artifactRepositoryRef, a subPath that climbs out', async () => {
  const attempts: Array<[string, object, string]> = [
    ['an output in another project\'s key', withTemplate({ outputs: { artifacts: [{ name: 'logs', path: '/logs', s3: { key: 'sk-victim/run/pod/main.log' } }] } }), 'artifact logs: s3'],
    ['an input from another bucket, with credentials', withTemplate({ inputs: { artifacts: [{ name: 'in', path: '/in', s3: { bucket: 'other', key: 'x', endpoint: 'minio.other:9000', accessKeySecret: { name: 'seakeeper-artifacts', key: 'accesskey' } } }] } }), 'artifact in: s3'],
    ['a gcs input', withTemplate({ inputs: { artifacts: [{ name: 'in', path: '/in', gcs: { bucket: 'b', key: 'k' } }] } }), 'artifact in: gcs'],
    ['a git input', withTemplate({ inputs: { artifacts: [{ name: 'src', path: '/src', git: { repo: 'http://169.254.169.254/latest' } }] } }), 'artifact src: git'],
    ['an http argument', { ...SPEC, arguments: { artifacts: [{ name: 'bin', http: { url: 'http://metadata.google.internal/' } }] } }, 'artifact bin: http'],
    ['an azure argument of a step', withStep({ template: 'work', arguments: { artifacts: [{ name: 'x', azure: { endpoint: 'https://other.blob.core.windows.net', container: 'c', blob: 'b' } }] } }), 'artifact x: azure'],
    ['an hdfs argument of a hook', { ...SPEC, hooks: { exit: { template: 'main', arguments: { artifacts: [{ name: 'x', hdfs: { path: '/x' } }] } } } }, 'artifact x: hdfs'],
    ['an oss argument of an inline template\'s task', withTask({ inline: { inputs: { artifacts: [{ name: 'x', path: '/x', oss: { key: 'k' } }] }, container: { image: 'busybox' } } }), 'artifact x: oss'],
    ['a data template\'s artifactPaths', { entrypoint: 'main', templates: [{ name: 'main', data: { source: { artifactPaths: { name: 'all', s3: { bucket: 'b' } } }, transformation: [] } }] }, 'artifact all: s3'],
    ['an archiveLocation', withTemplate({ archiveLocation: { archiveLogs: true, s3: { key: 'sk-victim/logs' } } }), 'archiveLocation of template main: s3'],
    ['spec.artifactRepositoryRef', { ...SPEC, artifactRepositoryRef: { configMap: 'artifact-repositories', key: 'other' } }, 'spec.artifactRepositoryRef'],
    ['a subPath with ..', withStep({ template: 'work', arguments: { artifacts: [{ name: 'x', from: '{{workflow.outputs.artifacts.a}}', subPath: '../../../sk-victim/x' }] } }), 'artifact x: subPath ../../../sk-victim/x'],
    ['a subPath from a parameter', withStep({ template: 'work', arguments: { artifacts: [{ name: 'x', from: '{{workflow.outputs.artifacts.a}}', subPath: '{{workflow.parameters.p}}' }] } }), 'artifact x: subPath {{workflow.parameters.p}}'],
  ];
  for (const [what, spec, named] of attempts) {
    await refused(what, workflow('art', spec), WORKFLOWS_POLICY, `${ARTIFACTS_REFUSED}, under its key prefix (raw data inline is fine): ${named}`);
  }
  await refused('an s3 output (minimal CRDs)', workflow('art', attempts[0]![1], MINIMAL_GROUP), MINIMAL(WORKFLOWS_POLICY), 'artifact logs: s3');
  // The namespace's repository, raw data, logs archived there and a plain subPath are fine.
  const allowed = withStep(
    { template: 'consume', arguments: { artifacts: [{ name: 'in', from: '{{workflow.outputs.artifacts.out}}', subPath: 'dir/file.txt' }, { name: 'note', raw: { data: 'hello' } }] } },
    { archiveLogs: true },
  );
  const consume = { name: 'consume', inputs: { artifacts: [{ name: 'in', path: '/in' }, { name: 'note', path: '/note' }] }, outputs: { artifacts: [{ name: 'out', path: '/out', globalName: 'out', archive: { none: {} } }] }, archiveLocation: { archiveLogs: true }, container: { image: 'busybox' } };
  const answer = await create(workflow('art-ok', { ...allowed, templates: [...allowed.templates, consume] }), '--dry-run=server');
  assert.ok(answer.ok, answer.output);
});

const LOCKS_REFUSED = 'a mutex or semaphore in another namespace, or a database one (shared by every namespace), is not allowed';

test('locks are the namespace\'s own: a mutex or semaphore of another namespace, or a database one, is refused', async () => {
  const victim = 'sk-it-victim';
  const attempts: Array<[string, object]> = [
    ['a mutex in another namespace', { ...SPEC, synchronization: { mutexes: [{ name: 'deploy', namespace: victim }] } }],
    ['a template\'s semaphore in another namespace', withTemplate({ synchronization: { semaphores: [{ namespace: victim, configMapKeyRef: { name: 'limits', key: 'gate' } }] } })],
    ['the deprecated single mutex', { ...SPEC, synchronization: { mutex: { name: 'm', namespace: victim } } }],
    ['a database mutex', { ...SPEC, synchronization: { mutexes: [{ name: 'm', database: true }] } }],
    ['a database semaphore in an inline template', withTask({ inline: { synchronization: { semaphores: [{ database: { key: 'k' } }] }, container: { image: 'busybox' } } })],
  ];
  for (const [what, spec] of attempts) await refused(what, workflow('locks', spec), WORKFLOWS_POLICY, LOCKS_REFUSED);
  // A key spelled otherwise (Argo would read `Namespace` as namespace) is refused as such (minimal CRDs: the
  // full ones refuse it before admission).
  const folded = { ...SPEC, synchronization: { mutexes: [{ name: 'm', Namespace: victim }] } };
  await refused('a folded Namespace key', workflow('locks', folded, MINIMAL_GROUP), MINIMAL(WORKFLOWS_POLICY), 'Mutex Namespace (Argo reads it as namespace)');
  // The namespace's own locks are fine, named with or without it.
  const own = { ...SPEC, synchronization: { mutexes: [{ name: 'm' }, { name: 'n', namespace: NS, database: false }], semaphores: [{ configMapKeyRef: { name: 'limits', key: 'k' } }] } };
  const answer = await create(workflow('locks-ok', own), '--dry-run=server');
  assert.ok(answer.ok, answer.output);
});

test("Argo's artifact example, with the namespace's repository, is accepted; Argo's controller then writes its status unhindered", async () => {
  const example = parse(readFileSync(path.join(MODULE_DIR, 'examples/artifact-passing.yaml'), 'utf8')) as { metadata: object };
  const created = await create({ ...example, metadata: { name: 'artifact-passing', namespace: NS } });
  assert.ok(created.ok, created.output);
  // The rig has no artifact repository and runs no executor; what matters here is that the controller's status
  // writes (its stored spec, repository and nodes) pass.
  await eventually(async () => {
    const nodes = (await readWorkflow(cluster, { namespace: NS, name: 'artifact-passing' }))?.status?.nodes ?? {};
    if (Object.keys(nodes).length === 0) throw new Error('Argo has written no nodes yet');
  });
});

test('a steps and a DAG Workflow an owner writes run to their end; a WorkflowTemplate runs by reference (Argo stores its spec)', async () => {
  const steps = { entrypoint: 'main', templates: [{ name: 'main', steps: [[{ name: 'a', template: 'echo' }], [{ name: 'b', template: 'echo' }, { name: 'c', inline: { container: { image: 'busybox', command: ['true'] } } }]] }, { name: 'echo', container: { image: 'busybox', command: ['true'] } }] };
  const dag = { entrypoint: 'main', templates: [{ name: 'main', dag: { tasks: [{ name: 'a', template: 'echo' }, { name: 'b', depends: 'a', template: 'echo', hooks: { exit: { template: 'echo' } } }] } }, steps.templates[1]!] };
  const template = await create(workflowTemplate('by-reference', steps));
  assert.ok(template.ok, template.output);
  for (const [name, spec] of [['steps', steps], ['dag', dag], ['by-reference', { workflowTemplateRef: { name: 'by-reference' } }]] as const) {
    const created = await create(workflow(name, spec));
    assert.ok(created.ok, created.output);
  }
  for (const name of ['steps', 'dag', 'by-reference']) {
    const done = await finished(cluster, { namespace: NS, name });
    assert.is(done.status?.phase, 'Succeeded', `${name}: ${String(done.status?.message ?? '')}`);
  }
  const byReference = await readWorkflow(cluster, { namespace: NS, name: 'by-reference' });
  assert.ok((byReference?.status as { storedWorkflowTemplateSpec?: unknown } | undefined)?.storedWorkflowTemplateSpec, 'Argo stored the template\'s spec');
});

const STATUS_REFUSED = "only Argo's controller may write what a Workflow's status tells it to run in a project namespace";

test('a status that brings what Argo\'s controller would run is refused: on create, and set on a Workflow afterwards', async () => {
  const forgedSpec = { entrypoint: 'main', templates: [{ name: 'main', podSpecPatch: '{"hostNetwork": true}', container: { image: 'busybox' } }] };
  for (const group of ['argoproj.io', MINIMAL_GROUP]) {
    const policy = group === 'argoproj.io' ? STATUS_POLICY : MINIMAL(STATUS_POLICY);
    await refused(`a stored spec on create (${group})`, { ...workflow('forged', { workflowTemplateRef: { name: 'by-reference' } }, group), status: { storedWorkflowTemplateSpec: forgedSpec } }, policy, 'a Workflow is created without a status');
  }
  // A Workflow Argo has finished (the steps test's): the owner may change its phase and message (argo retry, node
  // set), not what it would run.
  const ref = 'steps';
  const status = (await readWorkflow(cluster, { namespace: NS, name: ref }))!.status as { nodes: Record<string, { templateName?: string }> };
  const [nodeId] = Object.entries(status.nodes).find(([, n]) => n.templateName === 'echo')!;
  const attempts: Array<[string, object, string]> = [
    ['storedTemplates', { storedTemplates: { 'namespaced/by-reference/main': forgedSpec.templates[0] } }, 'status.storedTemplates'],
    ['a stored spec', { storedWorkflowTemplateSpec: forgedSpec }, 'status.storedWorkflowTemplateSpec'],
    ['another artifact repository', { artifactRepositoryRef: { namespace: 'argo', configMap: 'artifact-repositories' } }, 'status.artifactRepositoryRef'],
    ['a node\'s output artifacts', { nodes: { [nodeId]: { outputs: { artifacts: [{ name: 'out', s3: { key: 'sk-victim/x' } }] } } } }, `status.nodes (nodes ${nodeId})`],
    ['a node\'s template', { nodes: { [nodeId]: { templateName: 'other' } } }, `status.nodes (nodes ${nodeId})`],
    ['a new node', { nodes: { 'forged-node': { id: 'forged-node', name: 'forged', type: 'Pod', templateName: 'echo', phase: 'Pending' } } }, 'status.nodes (nodes forged-node)'],
  ];
  for (const [what, patch, named] of attempts) {
    const answer = await patchAsOwner('workflow', ref, { status: patch });
    assert.not.ok(answer.ok, `${what} was written`);
    assert.match(answer.output, `ValidatingAdmissionPolicy '${STATUS_POLICY}'`, answer.output);
    assert.match(answer.output, `${STATUS_REFUSED} (whoever may not create pods there may not set or change these): ${named}`, answer.output);
  }
  const retried = await patchAsOwner('workflow', ref, { status: { phase: 'Running', message: 'retried', nodes: { [nodeId]: { phase: 'Running', message: '' } } } });
  assert.ok(retried.ok, retried.output);
  // On the minimal CRDs, a folded status key is refused too.
  const plain = await create(workflow('plain', SPEC, MINIMAL_GROUP));
  assert.ok(plain.ok, plain.output);
  const folded = await patchAsOwner(`workflows.${MINIMAL_GROUP}`, 'plain', { status: { StoredTemplates: {} } });
  assert.not.ok(folded.ok, 'StoredTemplates was written');
  assert.match(folded.output, 'status.StoredTemplates');
});

test("admission refuses none of Argo's examples that the workflow policy accepts", async () => {
  const accepted: { name: string; text: string }[] = [];
  for (const file of globSync('examples/**/*.yaml', { cwd: MODULE_DIR }).sort()) {
    const documents = readFileSync(path.join(MODULE_DIR, file), 'utf8').split(/^---[ \t]*(?:#.*)?$/m).filter((text) => /^[ \t]*[^#\s]/m.test(text));
    documents.forEach((text, i) => {
      const parsed = parseYaml(text, file);
      const value = parsed.ok ? (parsed.document.value as { kind?: unknown; metadata?: { name?: string } }) : undefined;
      const ok =
        value?.kind === WORKFLOW_KIND ? checkDefinition({ kind: 'file', file, text }).ok
        : value?.kind === 'WorkflowTemplate' ? checkWorkflowTemplate(value.metadata?.name ?? file, value).length === 0
        : false;
      if (ok) accepted.push({ name: documents.length > 1 ? `${file}#${i}` : file, text });
    });
  }
  assert.ok(accepted.length > 100, `only ${accepted.length} examples accepted by the policy`);
  // One kubectl for them all: it reports each refusal with its file and goes on.
  const examples = path.join(dir, 'examples');
  await mkdir(examples);
  await Promise.all(accepted.map(({ text }, i) => writeFile(path.join(examples, `${i}.yaml`), text)));
  const answer = await run('create', '-f', examples, '-n', NS, '--dry-run=server', ...AS_OWNER);
  // (Two examples break the full CRDs' schema, which is not admission's doing: only the policies' refusals count.)
  const refused = answer.output
    .split('\n')
    .filter((line) => line.includes('ValidatingAdmissionPolicy'))
    .map((line) => line.replace(/"[^"]*\/(\d+)\.yaml"/, (_, i: string) => accepted[Number(i)]!.name));
  assert.equal(refused, [], refused.join('\n'));
  console.log(`  ${accepted.length} of Argo's examples the policy accepts: admission accepts them all`);
});

/** A Workflow of `count` templates, a third each containers with artifacts, steps with inline templates, DAGs. */
function bigSpec(count: number): object {
  const templates = Array.from({ length: count }, (_, i) => {
    if (i % 3 === 0) {
      return { name: `c${i}`, inputs: { parameters: [{ name: 'p' }], artifacts: [{ name: 'in', path: '/in', optional: true }] }, outputs: { artifacts: [{ name: 'out', path: '/out' }] }, metadata: { labels: { a: 'b' } }, container: { image: 'busybox', command: ['true'] } };
    }
    if (i % 3 === 1) {
      const step = (g: number, k: number) => ({ name: `s${g}${k}`, arguments: { parameters: [{ name: 'p', value: 'x' }] }, inline: { inputs: { parameters: [{ name: 'p' }] }, container: { image: 'busybox' } }, hooks: { exit: { template: `c${i - 1}` } } });
      return { name: `s${i}`, steps: Array.from({ length: 4 }, (_, g) => [step(g, 0), step(g, 1)]) };
    }
    return { name: `d${i}`, dag: { tasks: Array.from({ length: 8 }, (_, k) => ({ name: `t${k}`, template: `c${i - 2}`, arguments: { parameters: [{ name: 'p', value: 'x' }] } })) } };
  });
  return { entrypoint: 'c0', arguments: { parameters: [{ name: 'a', value: 'b' }] }, templateDefaults: { activeDeadlineSeconds: 100 }, templates };
}

test('a Workflow of 200 templates is judged within the API server\'s CEL cost limits, and promptly', async () => {
  for (const group of ['argoproj.io', MINIMAL_GROUP]) {
    const started = performance.now();
    const answer = await create(workflow('big', bigSpec(200), group), '--dry-run=server');
    const seconds = (performance.now() - started) / 1000;
    assert.ok(answer.ok, answer.output);
    assert.ok(seconds < 10, `judging took ${seconds.toFixed(1)} s`);
    console.log(`  200 templates (${group}): accepted in ${seconds.toFixed(2)} s`);
  }
});

test.run();
