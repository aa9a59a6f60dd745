// Storage in project namespaces, on the rig's real kube-apiserver and Argo controller: the ValidatingAdmissionPolicy
// seakeeper-project-storage (knative/cluster/admission-storage.yaml) lets a claim name only the StorageClasses
// of the system policy's storage.classes, which provisioning writes onto the namespace (annotation
// seakeeper.dev/storage-classes), and no PersistentVolume of its choosing, whoever creates the claim. A project
// owner holds no verb on claims: theirs reach the API server through Argo's controller (volumeClaimTemplates) or
// kube-controller-manager (ephemeral volumes; that controller does not run on the rig). The claims below are
// created by a cluster administrator, whom the policy judges like anyone else, and by Argo's controller from an
// owner's Workflow.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPolicy } from '../../shared/config/policy.js';
import { defaultProjectConfig } from '../../shared/config/project-config.js';
import type { ClusterObject } from '../../shared/k8s/cluster.js';
import { ARGO_API_VERSION, namespaceFor, WORKFLOW_KIND } from '../../shared/names.js';
import { buildBundle, namespaceObject, OWNERS_BINDING, STORAGE_CLASSES_ANNOTATION } from '../../shared/provisioning/bundle.js';
import { finished, runPods } from './support/argo.js';
import { adminCluster, applyManifests, kubectl } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { eventually } from './support/wait.js';

const rig = loadRig();
const cluster = adminCluster(rig);
const suffix = uniqueSuffix();
const PROJECT = `it-${suffix}-storage/project`;
const NS = namespaceFor(PROJECT);
/** The project's owners, as provisioning binds them (policy groupPrefix `gerrit:`). */
const OWNERS_GROUP = `gerrit:${PROJECT}-owners`;
const POLICY = 'seakeeper-project-storage';
/** StorageClass names of this run: two the policy allows, one it does not, and a default class made for one test. */
const LISTED = `it-${suffix}-listed`;
const UNLISTED = `it-${suffix}-unlisted`;
const DEFAULT = `it-${suffix}-default`;
const shipped = loadPolicy();
const policy = { ...shipped, storage: { ...shipped.storage, classes: [LISTED, DEFAULT, 'other-class'] } };
let dir: string;

test.before(async () => {
  await applyManifests(rig, 'knative/cluster');
  dir = await mkdtemp(path.join(tmpdir(), 'seakeeper-tenant-storage-'));
  // The Namespace and the owners' RoleBinding as provisioning makes them, from a policy that allows two classes
  // (and a third nobody uses).
  const bundle = buildBundle({ project: PROJECT, config: { ...defaultProjectConfig(policy), owners: [`${PROJECT}-owners`] }, policy });
  for (const object of bundle.filter((o) => o.kind === 'Namespace' || o.metadata.name === OWNERS_BINDING)) await cluster.apply(object as ClusterObject);
});

test.after(async () => {
  await cluster.delete('storage.k8s.io/v1', 'StorageClass', undefined, DEFAULT);
  await cluster.delete('v1', 'Namespace', undefined, NS);
  await rm(dir, { recursive: true, force: true });
});

/** Creates `object` with kubectl (as the administrator, or with `as` arguments): the answer or the refusal. */
async function create(object: object, ...as: string[]): Promise<{ ok: boolean; output: string }> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(object));
  try {
    return { ok: true, output: await kubectl(rig, ...as, 'create', '-f', file) };
  } catch (err) {
    return { ok: false, output: String((err as { stderr?: string }).stderr ?? err) };
  }
}

const asOwner = ['--as=mallory', `--as-group=${OWNERS_GROUP}`];

const claimSpec = (spec: object = {}) => ({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec });
const claim = (name: string, spec: object = {}, annotations?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: NS, ...(annotations ? { annotations } : {}) },
  spec: claimSpec(spec),
});

/** A claim the policy must refuse, with `message` in the refusal. */
async function refused(object: object, message: string): Promise<void> {
  const answer = await create(object);
  assert.not.ok(answer.ok, `${JSON.stringify(object)} was accepted`);
  assert.match(answer.output, `ValidatingAdmissionPolicy '${POLICY}'`);
  assert.match(answer.output, message);
}

test('an owner cannot create claims at all; what they write reaches the API server through Argo\'s controller', async () => {
  const answer = await create(claim('owners', { storageClassName: LISTED }), ...asOwner);
  assert.not.ok(answer.ok);
  assert.match(answer.output, 'cannot create resource "persistentvolumeclaims"');
});

test('a claim naming a StorageClass the policy does not list is refused, the policy and the allowed classes named', async () => {
  // The policy and its binding reach the API server's admission a moment after they are first written.
  let attempt = 0;
  await eventually(() => refused(claim(`unlisted-${(attempt += 1)}`, { storageClassName: UNLISTED }), `StorageClass ${UNLISTED} is not allowed`));
  await refused(claim('unlisted', { storageClassName: UNLISTED }), `StorageClass ${UNLISTED} is not allowed in a project namespace; allowed: ${LISTED}, ${DEFAULT}, other-class (the system policy's storage.classes)`);
});

test('a claim naming a listed StorageClass is accepted', async () => {
  const answer = await create(claim('listed', { storageClassName: LISTED }));
  assert.ok(answer.ok, answer.output);
});

test('the legacy class annotation, which Kubernetes reads before storageClassName, is judged too', async () => {
  const annotation = 'volume.beta.kubernetes.io/storage-class';
  await refused(claim('annotated', { storageClassName: LISTED }, { [annotation]: UNLISTED }), `StorageClass ${UNLISTED} is not allowed`);
  await refused(claim('annotated-empty', {}, { [annotation]: '' }), 'must name a StorageClass');
  const answer = await create(claim('annotated-listed', {}, { [annotation]: LISTED }));
  assert.ok(answer.ok, answer.output);
});

test('storageClassName "" (any unclaimed PersistentVolume without a class) and spec.volumeName (one chosen by name) are refused', async () => {
  await refused(claim('static', { storageClassName: '' }), 'must name a StorageClass');
  await refused(claim('by-name', { storageClassName: LISTED, volumeName: `pv-of-another-project-${suffix}` }), 'may not name a PersistentVolume (spec.volumeName)');
});

test('a claim naming no class: refused without a default class (it would bind like ""); with a listed default, it gets the default and is accepted', async () => {
  // The rig has no default StorageClass: the claim keeps no class, which Kubernetes binds to class-less volumes.
  await refused(claim('no-class'), 'must name a StorageClass');
  // A default class for this test alone: while it exists, the API server fills its name into any claim on the rig
  // that names no class.
  await cluster.apply({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: DEFAULT, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'seakeeper.test/none',
  } as ClusterObject);
  try {
    // The API server's DefaultStorageClass admission sees the new class a moment after it is written.
    let attempt = 0;
    const name = await eventually(async () => {
      const answer = await create(claim(`default-class-${(attempt += 1)}`));
      assert.ok(answer.ok, answer.output);
      return `default-class-${attempt}`;
    });
    const created = await cluster.get<ClusterObject & { spec: { storageClassName?: string } }>('v1', 'PersistentVolumeClaim', NS, name);
    assert.is(created?.spec.storageClassName, DEFAULT);
  } finally {
    await cluster.delete('storage.k8s.io/v1', 'StorageClass', undefined, DEFAULT);
  }
});

/** An owner's Workflow that claims a volume of `storageClassName` for its step. */
const claimingWorkflow = (name: string, storageClassName: string) => ({
  apiVersion: ARGO_API_VERSION,
  kind: WORKFLOW_KIND,
  metadata: { name, namespace: NS },
  spec: {
    entrypoint: 'main',
    volumeClaimTemplates: [{ metadata: { name: 'work' }, spec: claimSpec({ storageClassName }) }],
    templates: [{ name: 'main', container: { image: 'busybox', command: ['true'], volumeMounts: [{ name: 'work', mountPath: '/work' }] } }],
  },
});

test('a Workflow whose volumeClaimTemplates name an unlisted class: Argo\'s controller cannot create the claim and ends the run in Error, saying why', async () => {
  const created = await create(claimingWorkflow('bad-class', UNLISTED), ...asOwner);
  assert.ok(created.ok, created.output);
  const ended = await finished(cluster, { namespace: NS, name: 'bad-class' });
  assert.is(ended.status?.phase, 'Error');
  const message = String(ended.status?.message ?? '');
  assert.match(message, 'pvc create error');
  assert.match(message, `ValidatingAdmissionPolicy '${POLICY}'`);
  assert.match(message, `StorageClass ${UNLISTED} is not allowed`);
  assert.is(await cluster.get('v1', 'PersistentVolumeClaim', NS, 'bad-class-work'), undefined);
  assert.equal(await runPods(cluster, { namespace: NS, name: 'bad-class' }), []);
});

test('a Workflow whose volumeClaimTemplates name a listed class gets its claim', async () => {
  const created = await create(claimingWorkflow('good-class', LISTED), ...asOwner);
  assert.ok(created.ok, created.output);
  const claimed = await eventually(async () => {
    const pvc = await cluster.get<ClusterObject & { spec: { storageClassName?: string } }>('v1', 'PersistentVolumeClaim', NS, 'good-class-work');
    assert.ok(pvc, 'no claim yet');
    return pvc;
  });
  assert.is(claimed.spec.storageClassName, LISTED);
  await cluster.delete(ARGO_API_VERSION, WORKFLOW_KIND, NS, 'good-class');
});

test('a namespace whose annotation lists no class (the shipped policy) allows no claim at all', async () => {
  await cluster.apply(namespaceObject({ project: PROJECT, policy: shipped }) as ClusterObject);
  try {
    const ns = await cluster.get('v1', 'Namespace', undefined, NS);
    assert.is(ns?.metadata.annotations?.[STORAGE_CLASSES_ANNOTATION], '');
    let attempt = 0;
    await eventually(() => refused(claim(`none-allowed-${(attempt += 1)}`, { storageClassName: LISTED }), `StorageClass ${LISTED} is not allowed in a project namespace; allowed: none`));
  } finally {
    await cluster.apply(namespaceObject({ project: PROJECT, policy }) as ClusterObject);
  }
});

test.run();
