// The cluster client contract against the rig's real kube-apiserver (RBAC on, Argo CRDs installed): every case
// runs over both clients, ClusterClient (requests through @kubernetes/client-node) and HttpCluster (node:http),
// each in a namespace of its own.
// rig: parallel (test/run.ts): namespaces and a CRD group of its own
import { execFile } from 'node:child_process';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AlreadyExistsError,
  AuthError,
  ConflictError,
  ForbiddenError,
  PermanentError,
  TransientError,
} from '../../shared/errors.js';
import { ClusterClient, FIELD_MANAGER, type ClusterObject, type WatchEventType } from '../../shared/k8s/cluster.js';
import { HttpCluster } from '../../shared/k8s/http-cluster.js';
import { deadServer } from './support/dead-server.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { eventually, rejectionOf } from './support/wait.js';

const rig = loadRig();
// Labelled so that what a crashed run leaves behind is easy to find and delete.
const TEST_LABEL = { 'app.kubernetes.io/created-by': 'seakeeper-integration-tests' };

function contract(Client: typeof ClusterClient | typeof HttpCluster): void {
  const test = suite(Client.name);
  const cluster = Client.fromEnv({ KUBECONFIG: rig.KUBECONFIG });
  const suffix = uniqueSuffix();
  const ns = `sk-it-${suffix}`;
  const widgetGroup = `it${suffix}.seakeeper.dev`;
  const widgetCrd = `widgets.${widgetGroup}`;

  const configMap = (name: string, data: Record<string, string>, labels?: Record<string, string>): ClusterObject & { data: Record<string, string> } => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
    data,
  });

  type ConfigMap = ReturnType<typeof configMap>;

  const workflow = (name: string, extraSpec: Record<string, unknown> = {}): ClusterObject => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name, namespace: ns },
    spec: {
      entrypoint: 'main',
      templates: [{ name: 'main', container: { image: 'busybox', command: ['true'] } }],
      ...extraSpec,
    },
  } as ClusterObject);

  test.before(async () => {
    const result = await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: TEST_LABEL } });
    assert.ok(result.created, `namespace ${ns} should be new`);
  });

  test.after(async () => {
    await cluster.delete('v1', 'Namespace', undefined, ns);
    await cluster.delete('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, widgetCrd);
    cluster.close();
  });

  test('creating an existing namespace reports it existed instead of failing', async () => {
    const again = await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    assert.equal(again, { created: false });
  });

  test('server-side apply creates, re-apply changes, and a field we stop applying is removed', async () => {
    const first = await cluster.apply(configMap('applied', { a: '1' }));
    assert.equal(first.data, { a: '1' });
    const managers = (first.metadata.managedFields ?? []).map((f) => `${f.manager}/${f.operation}`);
    assert.equal(managers, [`${FIELD_MANAGER}/Apply`]);

    await cluster.apply(configMap('applied', { a: '2', b: '3' }));
    assert.equal((await cluster.get<ConfigMap>('v1', 'ConfigMap', ns, 'applied'))?.data, { a: '2', b: '3' });

    await cluster.apply(configMap('applied', { a: '2' }));
    assert.equal((await cluster.get<ConfigMap>('v1', 'ConfigMap', ns, 'applied'))?.data, { a: '2' });
  });

  test('apply takes over a field another manager owns (force), and refuses without force', async () => {
    await cluster.apply(configMap('contested', { owner: 'seakeeper' }));
    const manifest = JSON.stringify(configMap('contested', { owner: 'someone-else' }));
    const kubectl = execFile('kubectl', ['--kubeconfig', rig.KUBECONFIG, 'apply', '--server-side', '--force-conflicts', '--field-manager=someone-else', '-f', '-']);
    kubectl.stdin?.end(manifest);
    await new Promise<void>((resolve, reject) => kubectl.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl exited ${code}`)))));

    const { err } = await rejectionOf(cluster.apply(configMap('contested', { owner: 'seakeeper' }), { force: false }));
    assert.instance(err, ConflictError);
    const taken = await cluster.apply(configMap('contested', { owner: 'seakeeper' }));
    assert.equal(taken.data, { owner: 'seakeeper' });
  });

  test('a patch at the current resourceVersion applies; one at a stale resourceVersion is a ConflictError', async () => {
    await cluster.create(configMap('cas', { state: 'v0' }));
    const read = await cluster.get<ConfigMap>('v1', 'ConfigMap', ns, 'cas');
    const stale = read!.metadata.resourceVersion!;

    const patched = await cluster.patch(configMap('cas', { state: 'v1' }), stale);
    assert.equal(patched.data, { state: 'v1' });
    assert.is.not(patched.metadata.resourceVersion, stale);

    const { err } = await rejectionOf(cluster.patch(configMap('cas', { state: 'lost update' }), stale));
    assert.instance(err, ConflictError);
    assert.not.instance(err, AlreadyExistsError);
    assert.is((err as ConflictError).status, 409);
    assert.equal((await cluster.get<ConfigMap>('v1', 'ConfigMap', ns, 'cas'))?.data, { state: 'v1' });
  });

  test('get of a missing object is undefined; delete reports whether there was something to delete', async () => {
    assert.is(await cluster.get('v1', 'ConfigMap', ns, 'never-created'), undefined);
    await cluster.create(configMap('doomed', {}));
    assert.is(await cluster.delete('v1', 'ConfigMap', ns, 'doomed'), true);
    assert.is(await cluster.delete('v1', 'ConfigMap', ns, 'doomed'), false);
    assert.is(await cluster.get('v1', 'ConfigMap', ns, 'doomed'), undefined);
  });

  test('a delete conditional on a resourceVersion: refused (ConflictError) once the object changed, done while it has not', async () => {
    const { object } = (await cluster.create(configMap('judged', { state: 'old' }))) as { object: ConfigMap };
    const judged = object.metadata.resourceVersion!;
    const changed = await cluster.patch(configMap('judged', { state: 'claimed since' }), judged);
    const { err } = await rejectionOf(cluster.delete('v1', 'ConfigMap', ns, 'judged', { resourceVersion: judged }));
    assert.instance(err, ConflictError);
    assert.equal((await cluster.get<ConfigMap>('v1', 'ConfigMap', ns, 'judged'))?.data, { state: 'claimed since' });
    assert.is(await cluster.delete('v1', 'ConfigMap', ns, 'judged', { resourceVersion: changed.metadata.resourceVersion! }), true);
    assert.is(await cluster.get('v1', 'ConfigMap', ns, 'judged'), undefined);
  });

  test('an apiVersion the cluster does not serve is a PermanentError, not "missing object"', async () => {
    const { err } = await rejectionOf(cluster.get('nonexistent.seakeeper.dev/v1', 'Thing', ns, 'x'));
    assert.instance(err, PermanentError);
    assert.match((err as Error).message, 'does not serve');
  });

  test('creating a Workflow twice: created, then AlreadyExists counted as done', async () => {
    const first = await cluster.create(workflow('wf-once'));
    assert.ok(first.created);
    assert.equal(await cluster.create(workflow('wf-once')), { created: false });
  });

  test('a Workflow with an unknown field is rejected by strict field validation', async () => {
    const { err } = await rejectionOf(cluster.create(workflow('wf-typo', { entrypointt: 'main' })));
    assert.instance(err, PermanentError);
    assert.match((err as Error).message, 'entrypointt');
    assert.is(await cluster.get('argoproj.io/v1alpha1', 'Workflow', ns, 'wf-typo'), undefined);

    // Server-side apply reports the same mistake as a 500; retrying would never fix it.
    const applied = await rejectionOf(cluster.apply(workflow('wf-typo', { entrypointt: 'main' })));
    assert.instance(applied.err, PermanentError);
    assert.match((applied.err as Error).message, 'entrypointt');
  });

  test('fields that client-node\'s models rename reach the server as written: a rule\'s `from`, a LimitRange\'s `default`', async () => {
    // Without them an ingress rule admits every source, and a LimitRange defaults containers to its maximum.
    const policy = await cluster.apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'same-namespace', namespace: ns },
      spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] },
    } as ClusterObject);
    assert.equal((policy as unknown as { spec: { ingress: unknown } }).spec.ingress, [{ from: [{ podSelector: {} }] }]);
    const read = await cluster.get<ClusterObject & { spec: { ingress: unknown } }>('networking.k8s.io/v1', 'NetworkPolicy', ns, 'same-namespace');
    assert.equal(read?.spec.ingress, [{ from: [{ podSelector: {} }] }], 'read back as the server\'s JSON, not as a model with `_from`');

    await cluster.create({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'defaults', namespace: ns },
      spec: { limits: [{ type: 'Container', default: { memory: '256Mi' }, max: { memory: '1Gi' } }] },
    } as ClusterObject);
    const limits = await cluster.get<ClusterObject & { spec: { limits: { default: unknown }[] } }>('v1', 'LimitRange', ns, 'defaults');
    assert.equal(limits?.spec.limits[0]?.default, { memory: '256Mi' });
  });

  test('a built-in kind with an unknown field is rejected by strict field validation, not stripped on the way', async () => {
    const { err } = await rejectionOf(cluster.apply({ ...configMap('strict', { a: '1' }), bogus: 'x' } as ClusterObject));
    assert.instance(err, PermanentError);
    assert.match((err as Error).message, 'bogus');
  });

  test('a dry-run create validates without persisting', async () => {
    const result = await cluster.create(workflow('wf-dry'), { dryRun: true });
    assert.ok(result.created);
    assert.is(await cluster.get('argoproj.io/v1alpha1', 'Workflow', ns, 'wf-dry'), undefined);
  });

  test('list follows every page: objects beyond the first page are there', async () => {
    const paged = Client.fromEnv({ KUBECONFIG: rig.KUBECONFIG }, { listPageSize: 2 });
    const label = { 'seakeeper.dev/paged': suffix };
    await Promise.all([1, 2, 3, 4, 5].map((i) => cluster.apply(configMap(`paged-${i}`, { i: String(i) }, label))));
    const listed = await paged.list('v1', 'ConfigMap', ns, `seakeeper.dev/paged=${suffix}`);
    assert.equal(listed.map((o) => o.metadata.name).sort(), ['paged-1', 'paged-2', 'paged-3', 'paged-4', 'paged-5']);
  });

  test('listed objects carry their apiVersion and kind, read consistently or from the watch cache', async () => {
    // The API server leaves both out of a list's items; callers read them like any object they get.
    const label = { 'seakeeper.dev/kinds': suffix };
    await cluster.apply(configMap('kinds-1', {}, label));
    await cluster.create(workflow('wf-kinds'));
    for (const options of [{}, { fromCache: true }]) {
      const configMaps = await eventually(async () => {
        const listed = await cluster.list('v1', 'ConfigMap', ns, `seakeeper.dev/kinds=${suffix}`, options);
        assert.is(listed.length, 1);
        return listed;
      }, 5_000);
      assert.equal(configMaps.map((o) => [o.apiVersion, o.kind, o.metadata.name]), [['v1', 'ConfigMap', 'kinds-1']]);
      const workflows = await eventually(async () => {
        const listed = (await cluster.list('argoproj.io/v1alpha1', 'Workflow', ns, undefined, options)).filter((o) => o.metadata.name === 'wf-kinds');
        assert.is(listed.length, 1);
        return listed;
      }, 5_000);
      assert.equal(workflows.map((o) => [o.apiVersion, o.kind]), [['argoproj.io/v1alpha1', 'Workflow']]);
    }
  });

  test('list and watch select by label', async () => {
    const selector = 'seakeeper.dev/it=watch';
    const events: { type: WatchEventType; name: string }[] = [];
    let ended: { err?: Error } | undefined;
    const stop = await cluster.watch<ConfigMap>(
      `/api/v1/namespaces/${ns}/configmaps`,
      selector,
      (type, object) => events.push({ type, name: object.metadata.name }),
      (err) => { ended = err ? { err } : {}; },
    );
    await cluster.create(configMap('watched-1', {}, { 'seakeeper.dev/it': 'watch' }));
    await cluster.create(configMap('unlabelled', {}));
    await cluster.create(configMap('watched-2', {}, { 'seakeeper.dev/it': 'watch' }));
    await eventually(async () => assert.is(events.length, 2), 10_000);
    stop();

    assert.equal(events.map((e) => `${e.type} ${e.name}`).sort(), ['ADDED watched-1', 'ADDED watched-2']);
    await eventually(async () => assert.equal(ended, {}), 5_000);

    const listed = await cluster.list<ConfigMap>('v1', 'ConfigMap', ns, selector);
    assert.equal(listed.map((c) => c.metadata.name).sort(), ['watched-1', 'watched-2']);
    const all = await cluster.list<ConfigMap>('v1', 'ConfigMap', ns);
    assert.ok(all.some((c) => c.metadata.name === 'unlabelled'));
  });

  test('replaceStatus writes only the status subresource, under compare-and-swap', async () => {
    await cluster.apply({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: widgetCrd, labels: TEST_LABEL },
      spec: {
        group: widgetGroup,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [{
          name: 'v1', served: true, storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', properties: {
            spec: { type: 'object', properties: { size: { type: 'integer' } } },
            status: { type: 'object', properties: { phase: { type: 'string' } } },
          } } },
        }],
      },
    } as ClusterObject);
    type Widget = ClusterObject & { spec: { size: number }; status?: { phase: string } };
    const widget: Widget = { apiVersion: `${widgetGroup}/v1`, kind: 'Widget', metadata: { name: 'w', namespace: ns }, spec: { size: 1 } };
    await eventually(() => cluster.create(widget));
    const current = (await cluster.get<Widget>(`${widgetGroup}/v1`, 'Widget', ns, 'w'))!;

    const updated = await cluster.replaceStatus<Widget>({ ...current, spec: { size: 99 }, status: { phase: 'Ready' } });
    assert.equal(updated.status, { phase: 'Ready' });
    const reread = (await cluster.get<Widget>(`${widgetGroup}/v1`, 'Widget', ns, 'w'))!;
    assert.equal(reread.status, { phase: 'Ready' });
    assert.equal(reread.spec, { size: 1 }, 'the status subresource ignores spec');

    const { err } = await rejectionOf(cluster.replaceStatus<Widget>({ ...current, status: { phase: 'Stale' } }));
    assert.instance(err, ConflictError);
  });

  test('an unprivileged ServiceAccount is refused with ForbiddenError', async () => {
    await cluster.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nobody', namespace: ns } });
    const kc = new KubeConfig();
    kc.loadFromFile(rig.KUBECONFIG);
    const { status } = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      name: 'nobody',
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const server = kc.getCurrentCluster()!;
    const nobody = Client.fromToken({ server: server.server, token: status!.token!, caData: server.caData, caFile: server.caFile });

    for (const attempt of [
      () => nobody.get('v1', 'ConfigMap', ns, 'applied'),
      () => nobody.list('v1', 'ConfigMap', ns),
      () => nobody.apply(configMap('by-nobody', { a: '1' })),
      () => nobody.watch(`/api/v1/namespaces/${ns}/configmaps`, undefined, () => {}),
    ]) {
      const { err } = await rejectionOf(attempt());
      assert.instance(err, ForbiddenError);
      assert.is((err as ForbiddenError).status, 403);
    }
  });

  test('a token the server does not know is an AuthError (401), not Forbidden', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(rig.KUBECONFIG);
    const server = kc.getCurrentCluster()!;
    const stranger = Client.fromToken({ server: server.server, token: 'not-a-token', caData: server.caData, caFile: server.caFile });
    const { err } = await rejectionOf(stranger.get('v1', 'ConfigMap', ns, 'applied'));
    assert.instance(err, AuthError);
    assert.not.instance(err, ForbiddenError);
  });

  test('a server that never answers is a TransientError within the client timeout', async () => {
    const dead = await deadServer();
    try {
      const hung = Client.fromToken({ server: `https://127.0.0.1:${dead.port}`, token: 't' }, { timeoutMs: 500 });
      const { err, ms } = await rejectionOf(hung.get('v1', 'ConfigMap', ns, 'x'));
      assert.instance(err, TransientError);
      assert.ok(ms < 5_000, `took ${ms} ms`);
    } finally {
      await dead.close();
    }
  });

  test.run();
}

for (const Client of [ClusterClient, HttpCluster]) contract(Client);
