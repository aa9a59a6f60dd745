// project-config-changed against the rig's real Gerrit and kube-apiserver. Configs are pushed to real
// projects' refs/meta/config as an owner would; the event is the CloudEvent the ingress makes of the
// ref-updated Gerrit reports (its revisions read back over REST). The provisioner runs with its own
// ServiceAccount's token (knative/provisioner), never as admin, so RBAC and admission judge every call.
// Workflows here really run: the rig's Argo controller, scheduler and KWOK nodes (support/argo.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPolicy } from '../../shared/config/policy.js';
import { CONFIG_REF } from '../../shared/config/project-config.js';
import { ForbiddenError, PermanentError, TransientError } from '../../shared/errors.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import { Secret } from '../../shared/env.js';
import { ClusterClient, type ClusterObject } from '../../shared/k8s/cluster.js';
import { CountingCluster } from '../../shared/k8s/counting.js';
import {
  CONFIG_SOURCE_ANNOTATION,
  EXECUTOR_BINDING,
  MANAGED_KINDS,
  managedLabels,
  OWNERS_BINDING,
  RESOURCE_QUOTA,
  VIEWERS_BINDING,
  WORKFLOW_EDITOR_CLUSTER_ROLE,
  WORKFLOW_EXECUTOR_CLUSTER_ROLE,
} from '../../shared/provisioning/bundle.js';
import { ProjectConfigChanged } from '../../shared/provisioning/config-changed.js';
import { MANAGED_BY_LABEL, namespaceFor, PROJECT_ANNOTATION } from '../../shared/names.js';
import { ORPHANED, ORPHANED_REASON_ANNOTATION, STATE_LABEL } from '../../shared/provisioning/plan.js';
import { Provisioner } from '../../shared/provisioning/provisioner.js';
import { DURATION_ANNOTATION, finished } from './support/argo.js';
import { deadServer } from './support/dead-server.js';
import { createProject } from '../../dev/gerrit-chores.js';
import { rigConnections } from './support/gerrit.js';
import {
  adminCluster,
  apiServer,
  applyManifests,
  deleteManifests,
  metaConfigUpdated,
  NAMESPACE_DELETE_MANIFESTS,
  projectCreated,
  PROVISIONER_MANIFESTS,
  pushConfig,
  serviceAccountCluster,
  TestProjects,
} from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { eventually, rejectionOf } from './support/wait.js';

const rig = loadRig();
const { bot: botConnection, admin: adminConnection } = rigConnections(rig);
const bot = new GerritClient(botConnection);
const admin = adminCluster(rig);
const policy = loadPolicy();
const suffix = uniqueSuffix();
const SOURCE = rig.GERRIT_URL;

const projects = new TestProjects(suffix);
const projectName = (name: string) => projects.name(name);

const CORE = projectName('core');
const OTHER = projectName('other');
const OWNERS = `Core-Owners-${suffix}`;
const VIEWERS = `Core-Viewers-${suffix}`;

const CHECK_WORKFLOW = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: { generateName: check- }
spec:
  entrypoint: main
  serviceAccountName: workflow
  templates:
    - name: main
      container: { image: busybox, command: ["true"] }
`;

function seakeeperYaml(options: { owners?: string[]; viewers?: string[]; cpu?: string; memory?: string; pods?: number } = {}): string {
  const lines = ['pipelines:', '  check: { workflow: check.yaml }'];
  lines.push(`resources: { cpu: "${options.cpu ?? '1'}", memory: ${options.memory ?? '1Gi'}, pods: ${options.pods ?? 3} }`);
  if (options.owners?.length) lines.push(`owners: [${options.owners.join(', ')}]`);
  if (options.viewers?.length) lines.push(`viewers: [${options.viewers.join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

let cluster: CountingCluster;
let handler: ProjectConfigChanged;

const handlerWith = (provisioner: Provisioner, gerrit: ConstructorParameters<typeof ProjectConfigChanged>[0]['gerrit'] = bot) =>
  new ProjectConfigChanged({ gerrit, provisioner, concurrency: 4 });

type Live = ClusterObject & { spec?: Record<string, unknown>; status?: Record<string, unknown>; subjects?: unknown; roleRef?: unknown };

/**
 * What any write to the namespace or to an object of ours in it would change: `kind/name` → resourceVersion of
 * the Namespace and of every object with our label. Objects kube-controller-manager makes (the `default`
 * ServiceAccount, `kube-root-ca.crt`) are left out, and so is a ResourceQuota's resourceVersion, which the
 * quota controller bumps whenever it recounts usage: for it, its spec and metadata without that.
 */
async function ourObjects(namespace: string): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  const ns = await admin.get('v1', 'Namespace', undefined, namespace);
  if (ns) versions[`Namespace/${namespace}`] = ns.metadata.resourceVersion!;
  for (const { apiVersion, kind } of MANAGED_KINDS) {
    for (const obj of await admin.list<Live>(apiVersion, kind, namespace, `${MANAGED_BY_LABEL}=seakeeper`)) {
      const { resourceVersion, managedFields, ...metadata } = obj.metadata;
      const ours = managedFields?.filter((f) => f.manager === 'seakeeper');
      versions[`${kind}/${obj.metadata.name}`] = kind === 'ResourceQuota' ? JSON.stringify([obj.spec, metadata, ours]) : resourceVersion!;
    }
  }
  return versions;
}

const managedNames = async (namespace: string) => {
  const names: string[] = [];
  for (const { apiVersion, kind } of MANAGED_KINDS) {
    for (const obj of await admin.list(apiVersion, kind, namespace, `${MANAGED_BY_LABEL}=seakeeper`)) names.push(`${kind}/${obj.metadata.name}`);
  }
  return names.sort();
};

test.before(async () => {
  await applyManifests(rig, ...PROVISIONER_MANIFESTS);
  cluster = new CountingCluster(await serviceAccountCluster(rig, 'project-config-changed'));
  handler = handlerWith(new Provisioner(cluster, policy));
});

test.after(async () => {
  await projects.cleanUp(adminConnection, admin);
});

test('provisions a namespace from a real project\'s seakeeper.yaml, as the provisioner\'s ServiceAccount', async () => {
  await Promise.all([createProject(adminConnection, CORE), createProject(adminConnection, OTHER)]);
  const event = await pushConfig(adminConnection, CORE, { 'seakeeper.yaml': seakeeperYaml({ owners: [OWNERS], viewers: [VIEWERS] }), 'check.yaml': CHECK_WORKFLOW });
  cluster.take();
  const fields = await handler.handle(event);
  assert.equal({ result: fields.result, namespace: fields.namespace }, { result: 'created', namespace: namespaceFor(CORE) });
  assert.is(cluster.counts.writes, fields.writes);

  const ns = await admin.get('v1', 'Namespace', undefined, namespaceFor(CORE));
  assert.is(ns?.metadata.annotations?.[PROJECT_ANNOTATION], CORE);
  assert.is(ns?.metadata.annotations?.[CONFIG_SOURCE_ANNOTATION], CORE);
  assert.is(ns?.metadata.labels?.[MANAGED_BY_LABEL], 'seakeeper');
  assert.equal(await managedNames(namespaceFor(CORE)), [
    'ConfigMap/artifact-repositories',
    'ConfigMap/seakeeper-checkout',
    'LimitRange/seakeeper',
    'NetworkPolicy/seakeeper-isolation',
    'ResourceQuota/seakeeper',
    'RoleBinding/seakeeper-owners',
    'RoleBinding/seakeeper-viewers',
    'RoleBinding/seakeeper-workflow-executor',
    'ServiceAccount/workflow',
  ]);
  const isolation = await admin.get<Live>('networking.k8s.io/v1', 'NetworkPolicy', namespaceFor(CORE), 'seakeeper-isolation');
  assert.equal(isolation?.spec?.ingress, [{ from: [{ podSelector: {} }] }], 'ingress only from the namespace itself');

  const other = await pushConfig(adminConnection, OTHER, { 'seakeeper.yaml': seakeeperYaml({ owners: [`Other-Owners-${suffix}`] }), 'check.yaml': CHECK_WORKFLOW });
  assert.is((await handler.handle(other)).result, 'created');
});

test('least privilege: the provisioner\'s token cannot write outside project namespaces, read Secrets, or delete namespaces', async () => {
  const outside = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `seakeeper-probe-${suffix}`, namespace: 'default' }, data: {} } as ClusterObject;
  // The API server takes a moment to put a just-created ValidatingAdmissionPolicy in force (a fresh rig applies it
  // in this suite's setup); dry runs pass through admission too, so probe with them until it holds.
  const denied = await eventually(async () => (await rejectionOf(cluster.apply(outside, { dryRun: true }))).err);
  assert.instance(denied, ForbiddenError, 'RBAC allows ConfigMaps, the admission policy confines them to sk-*');
  assert.match((denied as Error).message, 'writes only to project namespaces');
  assert.instance((await rejectionOf(cluster.get('v1', 'Secret', 'kube-system', 'anything'))).err, ForbiddenError);
  assert.instance((await rejectionOf(cluster.delete('v1', 'Namespace', undefined, namespaceFor(OTHER)))).err, ForbiddenError, 'retain: no namespace deletes');
  const escalation = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `escalate-${suffix}`, namespace: namespaceFor(CORE) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'gerrit:Anyone' }],
  } as unknown as ClusterObject;
  assert.instance((await rejectionOf(cluster.apply(escalation))).err, ForbiddenError, 'bind only on the three workflow ClusterRoles');
});

test('the same event again (a redelivery, a re-run) writes nothing: every object keeps its resourceVersion', async () => {
  const before = await ourObjects(namespaceFor(CORE));
  const newRev = await bot.getBranchRevision(CORE, CONFIG_REF);
  const oldRev = '0'.repeat(40);
  cluster.take();
  for (let delivery = 0; delivery < 2; delivery++) {
    const fields = await handler.handle(metaConfigUpdated(CORE, oldRev, newRev!, SOURCE));
    assert.equal({ result: fields.result, writes: fields.writes }, { result: 'unchanged', writes: 0 });
  }
  assert.is(cluster.counts.writes, 0, 'no write reached the API server');
  assert.equal(await ourObjects(namespaceFor(CORE)), before);
});

test('a run\'s change ConfigMap (our labels, owned by its Workflow) outlives a provisioning pass: it goes with its run', async () => {
  const namespace = namespaceFor(CORE);
  const name = `check-1-1-${suffix.slice(0, 10)}`;
  const run = await admin.create({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name, namespace },
    spec: { entrypoint: 'wait', activeDeadlineSeconds: 60, templates: [{ name: 'wait', suspend: {} }] },
  } as unknown as ClusterObject);
  if (!run.created) throw new Error(`${namespace}/${name} exists already`);
  try {
    const owner = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', name, uid: run.object.metadata.uid! };
    await admin.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace, labels: { ...managedLabels(CORE), 'seakeeper.dev/pipeline': 'check' }, ownerReferences: [owner] },
      data: { SEAKEEPER_SUBJECT: 'Fix it' },
    } as unknown as ClusterObject);
    const fields = await handler.handle(metaConfigUpdated(CORE, '0'.repeat(40), (await bot.getBranchRevision(CORE, CONFIG_REF))!, SOURCE));
    assert.is(fields.result, 'unchanged');
    assert.ok(await admin.get('v1', 'ConfigMap', namespace, name), 'the run\'s ConfigMap is still there');
  } finally {
    await admin.delete('argoproj.io/v1alpha1', 'Workflow', namespace, name);
    await admin.delete('v1', 'ConfigMap', namespace, name);
  }
});

/** What RBAC answers `user` (in `groups`) asking to `verb` the argoproj.io `resource` in `namespace`. */
async function allowed(user: string, groups: string[], namespace: string, verb: string, resource = 'workflows'): Promise<boolean> {
  const review = await admin.create({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    metadata: { name: '' },
    spec: { user, groups, resourceAttributes: { namespace, verb, group: 'argoproj.io', resource } },
  } as unknown as ClusterObject);
  if (!review.created) throw new Error('a SubjectAccessReview is never "already there"');
  return (review.object as unknown as { status: { allowed: boolean } }).status.allowed;
}

const mayI = (groups: string[], namespace: string, verb: string) => allowed(`someone-${suffix}`, groups, namespace, verb);

/** Whether a step of a run in `namespace` (its ServiceAccount `workflow`) may write `verb` the task results in `where`. */
const stepMay = (namespace: string, verb: string, where = namespace, resource = 'workflowtaskresults') =>
  allowed(`system:serviceaccount:${namespace}:workflow`, ['system:serviceaccounts', `system:serviceaccounts:${namespace}`], where, verb, resource);

test('SubjectAccessReview: a run\'s steps may create and patch task results in their own namespace (executor ClusterRole), nothing more', async () => {
  const ns = namespaceFor(CORE);
  assert.ok(await stepMay(ns, 'create'));
  assert.ok(await stepMay(ns, 'patch'));
  assert.not.ok(await stepMay(ns, 'create', namespaceFor(OTHER)), 'not in another project\'s namespace');
  assert.not.ok(await stepMay(ns, 'delete'));
  assert.not.ok(await stepMay(ns, 'create', ns, 'workflows'));
});

test('SubjectAccessReview: owners may create Workflows in their namespace only; viewers may read, not create', async () => {
  const owner = [`gerrit:${OWNERS}`];
  const viewer = [`gerrit:${VIEWERS}`];
  assert.ok(await mayI(owner, namespaceFor(CORE), 'create'), 'owner creates in own namespace');
  assert.not.ok(await mayI(owner, namespaceFor(OTHER), 'create'), 'owner cannot create in another project\'s namespace');
  assert.not.ok(await mayI(owner, 'default', 'create'));
  assert.ok(await mayI(viewer, namespaceFor(CORE), 'list'), 'viewer lists');
  assert.not.ok(await mayI(viewer, namespaceFor(CORE), 'create'), 'viewer cannot create');
  assert.not.ok(await mayI([`gerrit:Somebody-Else-${suffix}`], namespaceFor(CORE), 'list'));
});

const pod = (name: string, cpu: string): ClusterObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    // Running until deleted: on the rig KWOK runs admitted pods, and a pod that finished counts no more.
    metadata: { name, namespace: namespaceFor(CORE), annotations: { [DURATION_ANNOTATION]: '600s' } },
    spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '600'], resources: { requests: { cpu, memory: '128Mi' }, limits: { memory: '128Mi' } } }] },
  }) as ClusterObject;

/** kube-controller-manager counts a new quota (and makes the default ServiceAccount) within seconds, or minutes when busy. */
const QUOTA_COUNTED_WITHIN_MS = 120_000;

test('quota is enforced once kube-controller-manager has counted: a pod beyond it is refused', async () => {
  // Quota admission only enforces a ResourceQuota whose status the controller has filled in.
  await eventually(async () => {
    const quota = await admin.get<Live>('v1', 'ResourceQuota', namespaceFor(CORE), RESOURCE_QUOTA);
    const status = quota?.status as { hard?: Record<string, string>; used?: Record<string, string> } | undefined;
    if (status?.hard?.['requests.cpu'] !== '1' || status.used === undefined) throw new Error('quota not counted yet');
  }, QUOTA_COUNTED_WITHIN_MS);
  // The first may have to wait for kube-controller-manager to create the namespace's default ServiceAccount.
  assert.ok((await eventually(() => admin.create(pod('first', '600m')), QUOTA_COUNTED_WITHIN_MS)).created);
  const { err } = await rejectionOf(admin.create(pod('second', '600m')));
  assert.instance(err, ForbiddenError);
  assert.match((err as Error).message, 'exceeded quota');
  await admin.delete('v1', 'Pod', namespaceFor(CORE), 'first');
});

test('a config change updates in place; dropping viewers, then owners, prunes their RoleBindings', async () => {
  const event = await pushConfig(adminConnection, CORE, { 'seakeeper.yaml': seakeeperYaml({ owners: [OWNERS], cpu: '2', pods: 4 }) });
  const fields = await handler.handle(event);
  assert.is(fields.result, 'updated');
  const quota = await admin.get<Live>('v1', 'ResourceQuota', namespaceFor(CORE), RESOURCE_QUOTA);
  assert.equal((quota?.spec as { hard: Record<string, string> }).hard, { 'limits.memory': '1Gi', pods: '4', 'requests.cpu': '2', 'requests.memory': '1Gi', 'requests.storage': '20Gi', persistentvolumeclaims: '10' });
  assert.is(await admin.get('rbac.authorization.k8s.io/v1', 'RoleBinding', namespaceFor(CORE), VIEWERS_BINDING), undefined);

  await handler.handle(await pushConfig(adminConnection, CORE, { 'seakeeper.yaml': seakeeperYaml({ cpu: '2', pods: 4 }) }));
  assert.is(await admin.get('rbac.authorization.k8s.io/v1', 'RoleBinding', namespaceFor(CORE), OWNERS_BINDING), undefined);
  await eventually(async () => assert.not.ok(await mayI([`gerrit:${OWNERS}`], namespaceFor(CORE), 'create'), 'former owners lost their rights'));
});

test('an object with one of our names that someone else made is left alone, and reported', async () => {
  const theirs = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: OWNERS_BINDING, namespace: namespaceFor(CORE) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `someone-${suffix}` }],
  } as unknown as ClusterObject;
  assert.ok((await admin.create(theirs)).created);
  const before = await admin.get<Live>('rbac.authorization.k8s.io/v1', 'RoleBinding', namespaceFor(CORE), OWNERS_BINDING);

  const fields = await handler.handle(await pushConfig(adminConnection, CORE, { 'seakeeper.yaml': seakeeperYaml({ owners: [OWNERS], cpu: '2', pods: 4 }) }));
  assert.match(String(fields.conflicts), `RoleBinding ${namespaceFor(CORE)}/${OWNERS_BINDING} exists but was not created by Seakeeper`);
  const after = await admin.get<Live>('rbac.authorization.k8s.io/v1', 'RoleBinding', namespaceFor(CORE), OWNERS_BINDING);
  assert.is(after?.metadata.resourceVersion, before?.metadata.resourceVersion);
  assert.equal(after?.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' });
  await admin.delete('rbac.authorization.k8s.io/v1', 'RoleBinding', namespaceFor(CORE), OWNERS_BINDING);

  // Once it is gone, ours takes its place.
  await handler.handle(metaConfigUpdated(CORE, '0'.repeat(40), (await bot.getBranchRevision(CORE, CONFIG_REF))!, SOURCE));
  const ours = await admin.get<Live>('rbac.authorization.k8s.io/v1', 'RoleBinding', namespaceFor(CORE), OWNERS_BINDING);
  assert.equal(ours?.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: WORKFLOW_EDITOR_CLUSTER_ROLE });
});

test('a RoleBinding of ours with another roleRef (as an older release made it) is replaced: roleRef cannot change in place', async () => {
  const ns = namespaceFor(CORE);
  await admin.delete('rbac.authorization.k8s.io/v1', 'RoleBinding', ns, OWNERS_BINDING);
  const older = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: OWNERS_BINDING, namespace: ns, labels: managedLabels(CORE) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `gerrit:${OWNERS}` }],
  } as unknown as ClusterObject;
  assert.ok((await admin.create(older)).created);
  const fields = await handler.handle(metaConfigUpdated(CORE, '0'.repeat(40), (await bot.getBranchRevision(CORE, CONFIG_REF))!, SOURCE));
  assert.equal({ result: fields.result, writes: fields.writes }, { result: 'updated', writes: 2 }, 'deleted, then applied');
  const ours = await admin.get<Live>('rbac.authorization.k8s.io/v1', 'RoleBinding', ns, OWNERS_BINDING);
  assert.equal(ours?.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: WORKFLOW_EDITOR_CLUSTER_ROLE });
});

test('a namespace an earlier release provisioned, with its own executor Role: the Role is pruned, the binding now names the ClusterRole', async () => {
  const ns = namespaceFor(CORE);
  const rbac = 'rbac.authorization.k8s.io';
  await admin.delete(`${rbac}/v1`, 'RoleBinding', ns, EXECUTOR_BINDING);
  const older = [
    {
      apiVersion: `${rbac}/v1`,
      kind: 'Role',
      metadata: { name: EXECUTOR_BINDING, namespace: ns, labels: managedLabels(CORE) },
      rules: [{ apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] }],
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name: EXECUTOR_BINDING, namespace: ns, labels: managedLabels(CORE) },
      roleRef: { apiGroup: rbac, kind: 'Role', name: EXECUTOR_BINDING },
      subjects: [{ kind: 'ServiceAccount', name: 'workflow', namespace: ns }],
    },
  ] as unknown as ClusterObject[];
  for (const object of older) assert.ok((await admin.create(object)).created);

  const fields = await handler.handle(metaConfigUpdated(CORE, '0'.repeat(40), (await bot.getBranchRevision(CORE, CONFIG_REF))!, SOURCE));
  assert.equal({ result: fields.result, writes: fields.writes }, { result: 'updated', writes: 3 }, 'the binding deleted and applied, the Role deleted');
  assert.is(await admin.get(`${rbac}/v1`, 'Role', ns, EXECUTOR_BINDING), undefined);
  const binding = await admin.get<Live>(`${rbac}/v1`, 'RoleBinding', ns, EXECUTOR_BINDING);
  assert.equal(binding?.roleRef, { apiGroup: rbac, kind: 'ClusterRole', name: WORKFLOW_EXECUTOR_CLUSTER_ROLE });
  assert.ok(await stepMay(ns, 'create'), 'steps still write their task results');
});

test('a namespace with a project\'s name that someone else made blocks provisioning: permanent, untouched', async () => {
  const taken = projectName('taken');
  await createProject(adminConnection, taken);
  await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespaceFor(taken), labels: { owner: 'someone-else' } } });
  const event = await pushConfig(adminConnection, taken, { 'seakeeper.yaml': seakeeperYaml(), 'check.yaml': CHECK_WORKFLOW });
  const before = await ourObjects(namespaceFor(taken));
  const { err } = await rejectionOf(handler.handle(event));
  assert.instance(err, PermanentError);
  assert.match((err as Error).message, 'exists but was not created by Seakeeper');
  assert.equal(await ourObjects(namespaceFor(taken)), before);
  await admin.delete('v1', 'Namespace', undefined, namespaceFor(taken));
});

test('an invalid config on a provisioned project changes nothing: permanent, with the error located', async () => {
  const before = await ourObjects(namespaceFor(CORE));
  const event = await pushConfig(adminConnection, CORE, { 'seakeeper.yaml': `${seakeeperYaml({ owners: [OWNERS] })}colour: blue\n` });
  cluster.take();
  const { err } = await rejectionOf(handler.handle(event));
  assert.instance(err, PermanentError);
  assert.match((err as Error).message, 'seakeeper.yaml:5:1: /colour:', (err as Error).message);
  assert.is(cluster.counts.writes, 0);
  assert.equal(await ourObjects(namespaceFor(CORE)), before);
});

test('an event older than refs/meta/config\'s head is superseded: a later one carries the newer config', async () => {
  const head = (await bot.getBranchRevision(CORE, CONFIG_REF))!;
  const good = await pushConfig(adminConnection, CORE, { 'seakeeper.yaml': seakeeperYaml({ owners: [OWNERS], cpu: '2', pods: 4 }) });
  assert.is((await handler.handle(good)).result, 'unchanged');
  cluster.take();
  const stale = metaConfigUpdated(CORE, '0'.repeat(40), head, SOURCE);
  assert.equal(await handler.handle(stale), { result: 'superseded', revision: head, head: (await bot.getBranchRevision(CORE, CONFIG_REF))! });
  assert.is(cluster.counts.writes, 0);
});

const workflow = (name: string): ClusterObject =>
  ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name, namespace: namespaceFor(CORE) },
    // Runs until it is stopped (the rig's outcome hook: five minutes).
    spec: { entrypoint: 'main', templates: [{ name: 'main', metadata: { annotations: { [DURATION_ANNOTATION]: '300s' } }, container: { image: 'busybox', command: ['true'] } }] },
  }) as ClusterObject;

test('removing seakeeper.yaml retains the namespace marked orphaned (default policy), never while a workflow runs', async () => {
  await admin.create(workflow('running'));
  const event = await pushConfig(adminConnection, CORE, { 'seakeeper.yaml': null, 'check.yaml': null }, 'Remove CI configuration');
  cluster.take();
  const { err } = await rejectionOf(handler.handle(event));
  assert.instance(err, TransientError, 'waiting for workflows is retried');
  assert.match((err as Error).message, '1 workflow(s) still running');
  assert.is(cluster.counts.writes, 0);
  assert.is((await admin.get('v1', 'Namespace', undefined, namespaceFor(CORE)))?.metadata.labels?.[STATE_LABEL], undefined);

  // Its owner stops it (as `argo terminate` does); Argo's controller ends it.
  const ref = { namespace: namespaceFor(CORE), name: 'running' };
  const running = (await admin.get<Live>('argoproj.io/v1alpha1', 'Workflow', ref.namespace, ref.name))!;
  await admin.patch({ ...running, spec: { ...running.spec, shutdown: 'Terminate' } } as ClusterObject, running.metadata.resourceVersion!);
  await finished(admin, ref);

  const fields = await handler.handle(event);
  assert.is(fields.result, 'deprovisioned');
  const ns = await admin.get('v1', 'Namespace', undefined, namespaceFor(CORE));
  assert.is(ns?.metadata.labels?.[STATE_LABEL], ORPHANED);
  assert.match(ns?.metadata.annotations?.[ORPHANED_REASON_ANNOTATION] ?? '', 'no seakeeper.yaml');
  assert.ok(await admin.get('v1', 'ResourceQuota', namespaceFor(CORE), RESOURCE_QUOTA), 'what is inside stays');
  assert.equal(await handler.handle(event), { namespace: namespaceFor(CORE), result: 'unchanged', writes: 0 });

  const back = await pushConfig(adminConnection, CORE, { 'seakeeper.yaml': seakeeperYaml({ owners: [OWNERS] }), 'check.yaml': CHECK_WORKFLOW });
  assert.is((await handler.handle(back)).result, 'updated');
  assert.is((await admin.get('v1', 'Namespace', undefined, namespaceFor(CORE)))?.metadata.labels?.[STATE_LABEL], undefined, 'the orphan mark is gone');
});

test('with `deprovision: delete`, removing seakeeper.yaml deletes the namespace (RBAC from deprovision-delete/)', async () => {
  const doomed = projectName('doomed');
  await createProject(adminConnection, doomed);
  const deleting = handlerWith(new Provisioner(cluster, { ...policy, deprovision: 'delete' }));
  await applyManifests(rig, NAMESPACE_DELETE_MANIFESTS);
  try {
    assert.is((await deleting.handle(await pushConfig(adminConnection, doomed, { 'seakeeper.yaml': seakeeperYaml() }))).result, 'created');
    const fields = await deleting.handle(await pushConfig(adminConnection, doomed, { 'seakeeper.yaml': null }));
    assert.is(fields.result, 'deprovisioned');
    const ns = await admin.get('v1', 'Namespace', undefined, namespaceFor(doomed));
    assert.ok(ns === undefined || ns.metadata.deletionTimestamp, 'deleted, or being deleted by kube-controller-manager');
  } finally {
    await deleteManifests(rig, NAMESPACE_DELETE_MANIFESTS);
  }
});

test('inheritance: a parent\'s config provisions the children that have none, and its changes reach them', async () => {
  const parent = projectName('team');
  const child = projectName('team/child');
  const own = projectName('team/own');
  await createProject(adminConnection, parent);
  await Promise.all([createProject(adminConnection, child, parent), createProject(adminConnection, own, parent)]);
  assert.is((await handler.handle(await pushConfig(adminConnection, own, { 'seakeeper.yaml': seakeeperYaml({ owners: [`Own-${suffix}`] }) }))).result, 'created');
  const ownBefore = await ourObjects(namespaceFor(own));

  const fields = await handler.handle(await pushConfig(adminConnection, parent, { 'seakeeper.yaml': seakeeperYaml({ owners: [`Team-${suffix}`] }) }));
  assert.equal({ result: fields.result, descendants: fields.descendants }, { result: 'created', descendants: { created: 1 } });
  const ns = await admin.get('v1', 'Namespace', undefined, namespaceFor(child));
  assert.is(ns?.metadata.annotations?.[CONFIG_SOURCE_ANNOTATION], parent);
  const owners = await admin.get<Live>('rbac.authorization.k8s.io/v1', 'RoleBinding', namespaceFor(child), OWNERS_BINDING);
  assert.equal(owners?.subjects, [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `gerrit:Team-${suffix}` }]);
  assert.equal(await ourObjects(namespaceFor(own)), ownBefore, 'a child with its own seakeeper.yaml is not touched');

  assert.equal(await handler.handle(projectCreated(child, SOURCE)), { namespace: namespaceFor(child), result: 'unchanged', writes: 0 });

  const changed = await handler.handle(await pushConfig(adminConnection, parent, { 'seakeeper.yaml': seakeeperYaml({ owners: [`Team-${suffix}`, `More-${suffix}`] }) }));
  assert.equal(changed.descendants, { updated: 1 });
  const updated = await admin.get<Live>('rbac.authorization.k8s.io/v1', 'RoleBinding', namespaceFor(child), OWNERS_BINDING);
  assert.is((updated?.subjects as unknown[]).length, 2);
});

const BILLION_LAUGHS = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
  .concat(Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`))
  .join('\n');
const FIVE_MIB = 5 * 1024 * 1024;

const BAD_CONFIGS: { name: string; text: string; located: RegExp }[] = [
  { name: 'unknown-key', text: 'pipelines: {}\nowner: [Typo]\n', located: /seakeeper\.yaml:2:1: \/owner: .*\[additionalProperties\]/ },
  { name: 'above-cap', text: 'resources: { cpu: "64" }\n', located: /seakeeper\.yaml:1:\d+: \/resources\/cpu: .*cap.*\[policy-cap\]/ },
  { name: 'alias-bomb', text: `${BILLION_LAUGHS}\n`, located: /seakeeper\.yaml:\d+:\d+:.*\[yaml-alias-limit\]/ },
  { name: 'five-mib', text: `# ${'x'.repeat(FIVE_MIB)}\npipelines: {}\n`, located: /seakeeper\.yaml:1:1: .*\[max-size\]/ },
  { name: 'wrong-types', text: 'owners: Core-Owners\nresources: { pods: ten }\n', located: /seakeeper\.yaml:1:9: \/owners: .*\[type\]/ },
];

test('invalid configs are refused with located errors and nothing applied (no namespace)', async () => {
  const bad = BAD_CONFIGS.map((config) => ({ ...config, project: projectName(`bad-${config.name}`) }));
  await Promise.all(bad.map((p) => createProject(adminConnection, p.project)));
  for (const config of bad) {
    const event = await pushConfig(adminConnection, config.project, { 'seakeeper.yaml': config.text });
    cluster.take();
    const { err } = await rejectionOf(handler.handle(event));
    assert.instance(err, PermanentError, config.name);
    assert.match((err as Error).message, config.located, config.name);
    assert.is(cluster.counts.writes, 0, config.name);
    assert.is(await admin.get('v1', 'Namespace', undefined, namespaceFor(config.project)), undefined, config.name);
  }
});

test('names that fold to the same text get distinct namespaces, each annotated with its own project', async () => {
  const names = ['Fold.Me', 'fold_me', 'fold-me', 'FOLD/ME'].map((n) => projectName(n));
  await Promise.all(names.map((n) => createProject(adminConnection, n)));
  for (const name of names) {
    assert.is((await handler.handle(await pushConfig(adminConnection, name, { 'seakeeper.yaml': seakeeperYaml() }))).result, 'created', name);
  }
  const namespaces = names.map(namespaceFor);
  assert.is(new Set(namespaces).size, names.length);
  for (const [i, name] of names.entries()) {
    assert.is((await admin.get('v1', 'Namespace', undefined, namespaces[i]!))?.metadata.annotations?.[PROJECT_ANNOTATION], name);
  }
});

test('Gerrit or the API server failing is transient: the event is retried, not dropped', async () => {
  const dead = await deadServer();
  try {
    const event = metaConfigUpdated(CORE, '0'.repeat(40), (await bot.getBranchRevision(CORE, CONFIG_REF))!, SOURCE);
    const gerritDown = handlerWith(
      new Provisioner(cluster, policy),
      new GerritClient({ baseUrl: `http://127.0.0.1:${dead.port}/`, username: 'x', password: new Secret('y'), timeoutMs: 500 }),
    );
    assert.instance((await rejectionOf(gerritDown.handle(event))).err, TransientError);

    const { caData, caFile } = apiServer(rig);
    const clusterDown = ClusterClient.fromToken({ server: `https://127.0.0.1:${dead.port}`, token: 'x', ...(caData ? { caData } : {}), ...(caFile ? { caFile } : {}) }, { timeoutMs: 500 });
    assert.instance((await rejectionOf(handlerWith(new Provisioner(clusterDown, policy)).handle(event))).err, TransientError);
  } finally {
    await dead.close();
  }
});

test.run();
