// The pure manifest checks (test/support/manifests.ts) on small hand-made object sets; the real manifests and
// the fixtures are checked against the rig in test/integration/manifests.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkConfigMapRefs,
  checkFunctionsDeployed,
  checkNoInlinedSecrets,
  checkNoTokenWithoutNeeds,
  checkRbac,
  checkReachable,
  checkServiceAccountsExist,
  checkSubscribersExist,
  parseRbacNeeds,
  parseRendered,
  workloadEnvironments,
  INJECTED_SINK,
  type K8sObject,
} from '../support/manifests.js';

const NS = 'seakeeper-system';
const meta = (name: string) => ({ name, namespace: NS });

const service = (name: string, target = name, env: { name: string; value?: string }[] = []): K8sObject => ({
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  metadata: meta(name),
  spec: { template: { spec: { serviceAccountName: name, containers: [{ image: 'seakeeper', env: [{ name: 'FUNCTION_TARGET', value: target }, ...env] }] } } },
});
const trigger = (name: string, subscriber: string): K8sObject => ({
  apiVersion: 'eventing.knative.dev/v1',
  kind: 'Trigger',
  metadata: meta(name),
  spec: { broker: 'ci', subscriber: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: subscriber } } },
});
const account = (name: string, automount?: boolean): K8sObject => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: meta(name),
  ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
});
const clusterRole = (name: string, rules: object[]): K8sObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules });
const role = (name: string, rules: object[]): K8sObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(name), rules });
const binding = (kind: 'ClusterRoleBinding' | 'RoleBinding', roleKind: string, roleName: string, ...accounts: string[]): K8sObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: kind === 'RoleBinding' ? meta(roleName) : { name: roleName },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName },
  subjects: accounts.map((name) => ({ kind: 'ServiceAccount', name, namespace: NS })),
});

test('workloadEnvironments: literals, ConfigMap values, Secret placeholders, mounted files and injected sinks', () => {
  const fn = service('fn', 'fn', [
    { name: 'LITERAL', value: 'x' },
    { name: 'FROM_MAP', valueFrom: { configMapKeyRef: { name: 'seakeeper', key: 'gerrit-url' } } },
    { name: 'MISSING_KEY', valueFrom: { configMapKeyRef: { name: 'seakeeper', key: 'nope' } } },
    { name: 'USER', valueFrom: { secretKeyRef: { name: 'creds', key: 'username' } } },
    { name: 'PASSWORD_FILE', value: '/var/run/secrets/creds/password' },
    { name: 'OTHER_FILE', value: '/etc/config/x' },
  ] as { name: string; value?: string }[]);
  const spec = (fn.spec as { template: { spec: { containers: object[]; volumes?: object[] } } }).template.spec;
  Object.assign(spec.containers[0]!, { volumeMounts: [{ name: 'creds', mountPath: '/var/run/secrets/creds' }, { name: 'cfg', mountPath: '/etc/config' }] });
  spec.volumes = [{ name: 'creds', secret: { secretName: 'creds' } }, { name: 'cfg', configMap: { name: 'other' } }];
  const configMap: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('seakeeper'), data: { 'gerrit-url': 'https://g.example/' } };
  const binding: K8sObject = { apiVersion: 'sources.knative.dev/v1', kind: 'SinkBinding', metadata: meta('fn'), spec: { subject: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'fn' } } };
  const [bound] = workloadEnvironments([fn, configMap, binding]);
  assert.equal(bound, {
    workload: 'Service fn',
    program: 'fn',
    vars: {
      FUNCTION_TARGET: 'fn',
      LITERAL: 'x',
      FROM_MAP: 'https://g.example/',
      USER: 'secret-creds-username-placeholder',
      PASSWORD_FILE: '/var/run/secrets/creds/password',
      OTHER_FILE: '/etc/config/x',
      K_SINK: INJECTED_SINK,
    },
    mountedFiles: ['PASSWORD_FILE'],
    injected: ['K_SINK'],
  });
  const [unbound] = workloadEnvironments([fn, configMap]);
  assert.equal(unbound!.injected, []);
  assert.not.ok('K_SINK' in unbound!.vars);
});

test('parseRendered reads multi-document output and refuses a non-object', () => {
  const objects = parseRendered('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n');
  assert.equal(objects.map((o) => o.kind), ['ServiceAccount', 'ConfigMap']);
  assert.throws(() => parseRendered('- just\n- a list\n'), /not a Kubernetes object/);
});

test('every function needs exactly one Service with its FUNCTION_TARGET, and every Service a known target', () => {
  assert.equal(checkFunctionsDeployed([service('a'), service('b')], ['a', 'b']), []);
  assert.equal(checkFunctionsDeployed([service('a'), service('a2', 'a')], ['a', 'b']), [
    'function a: 2 Knative Services have FUNCTION_TARGET=a (want exactly 1)',
    'function b: 0 Knative Services have FUNCTION_TARGET=b (want exactly 1)',
  ]);
  assert.equal(checkFunctionsDeployed([service('a'), service('c')], ['a']), ['Service c: FUNCTION_TARGET=c is not a directory in functions/']);
});

test('a CloudEvent function is reachable through a Trigger, a source sink or the dead-letter sink', () => {
  const broker: K8sObject = {
    apiVersion: 'eventing.knative.dev/v1',
    kind: 'Broker',
    metadata: meta('ci'),
    spec: { delivery: { deadLetterSink: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'dl' } } } },
  };
  const ping: K8sObject = {
    apiVersion: 'sources.knative.dev/v1',
    kind: 'PingSource',
    metadata: meta('tick'),
    spec: { sink: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'tick' } } },
  };
  const objects = [service('a'), service('dl'), service('tick'), service('lonely'), trigger('a', 'a'), broker, ping];
  assert.equal(checkReachable(objects, ['a', 'dl', 'tick', 'lonely']), ['function lonely: no Trigger, source or dead-letter sink delivers to its Service']);
});

test('a Trigger whose subscriber Service is missing, or is not a Service, is reported', () => {
  const other = { ...trigger('x', 'ignored'), spec: { broker: 'ci', subscriber: { uri: 'http://example.org' } } };
  assert.equal(checkSubscribersExist([service('a'), trigger('a', 'a')]), []);
  assert.equal(checkSubscribersExist([service('a'), trigger('b', 'b'), other]), [
    'Trigger x: no subscriber.ref',
    'Trigger b: delivers to Service b, which does not exist',
  ]);
});

test('every workload runs as a ServiceAccount that exists', () => {
  const source: K8sObject = { apiVersion: 'sources.knative.dev/v1', kind: 'ApiServerSource', metadata: meta('w'), spec: { serviceAccountName: 'ws' } };
  assert.equal(checkServiceAccountsExist([service('a'), account('a'), source, account('ws')]), []);
  assert.equal(checkServiceAccountsExist([service('a'), source]), ['Service a: ServiceAccount a does not exist', 'ApiServerSource w: ServiceAccount ws does not exist']);
});

test('Secret values and secret-looking literal env values are refused; file paths and references are not', () => {
  const secret: K8sObject = { apiVersion: 'v1', kind: 'Secret', metadata: meta('s'), stringData: { password: 'hunter2' } };
  const ok = service('a', 'a', [{ name: 'GERRIT_PASSWORD_FILE', value: '/var/run/x' }, { name: 'GERRIT_SSH_KEY', value: '/var/run/key' }]);
  assert.equal(checkNoInlinedSecrets([ok]), []);
  assert.equal(checkNoInlinedSecrets([secret, service('b', 'b', [{ name: 'GERRIT_PASSWORD', value: 'hunter2' }])]), [
    'Secret s: values inlined in the manifests (reference a Secret created out of band)',
    'Service b: env GERRIT_PASSWORD has a literal value (use secretKeyRef or a mounted file)',
  ]);
});

test('a configMapKeyRef must name a rendered ConfigMap and one of its keys', () => {
  const cm: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('seakeeper'), data: { 'gerrit-url': 'https://g/' } };
  const ref = (name: string, key: string) => ({ name: 'X', valueFrom: { configMapKeyRef: { name, key } } });
  const svc = (env: object[]) => ({ ...service('a'), spec: { template: { spec: { containers: [{ env }] } } } }) as K8sObject;
  assert.equal(checkConfigMapRefs([cm, svc([ref('seakeeper', 'gerrit-url')])]), []);
  assert.equal(checkConfigMapRefs([cm, svc([ref('seakeeper', 'argo-ui-url'), ref('other', 'k')])]), [
    'Service a: env X refers to key argo-ui-url that ConfigMap seakeeper does not have',
    'Service a: env X refers to ConfigMap other, which is not rendered',
  ]);
});

const NEEDS_YAML = `
serviceAccounts:
  web: []
  stream:
    - { apiGroup: "", resource: configmaps, verbs: [create], namespace: ${NS} }
    - { apiGroup: "", resource: configmaps, verbs: [get], resourceNames: [cp], namespace: ${NS} }
  watch: &w
    - { apiGroup: argoproj.io, resource: workflows, verbs: [get, patch] }
  done:
    - *w
`;

const rbacObjects = () => [
  account('web', false),
  account('stream'),
  account('watch'),
  account('done'),
  role('stream', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'] }, { apiGroups: [''], resources: ['configmaps'], resourceNames: ['cp'], verbs: ['get'] }]),
  binding('RoleBinding', 'Role', 'stream', 'stream'),
  clusterRole('reporter', [{ apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['get', 'patch'] }]),
  binding('ClusterRoleBinding', 'ClusterRole', 'reporter', 'watch', 'done'),
];

test('RBAC equal to the declared needs passes, aliases in the needs file included', () => {
  const needs = parseRbacNeeds(NEEDS_YAML);
  assert.equal(needs.done, needs.watch);
  assert.equal(checkRbac(rbacObjects(), needs), []);
  assert.equal(checkNoTokenWithoutNeeds(rbacObjects(), needs), []);
});

test('RBAC: a missing verb is a gap, an extra or wider grant an orphan', () => {
  const needs = parseRbacNeeds(NEEDS_YAML);
  const objects = rbacObjects();
  objects[4] = role('stream', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get'] }]);
  assert.equal(checkRbac(objects, needs), [
    'gap: stream ns:seakeeper-system core/configmaps get [cp] is needed but not granted',
    'orphan: stream ns:seakeeper-system core/configmaps get is granted but not declared in the needs',
  ]);
  const unbound = rbacObjects().filter((o) => o.kind !== 'ClusterRoleBinding');
  assert.equal(checkRbac([...unbound, binding('ClusterRoleBinding', 'ClusterRole', 'nope', 'watch')], needs), [
    'ClusterRoleBinding nope: ClusterRole nope does not exist',
    'gap: watch cluster argoproj.io/workflows get is needed but not granted',
    'gap: watch cluster argoproj.io/workflows patch is needed but not granted',
    'gap: done cluster argoproj.io/workflows get is needed but not granted',
    'gap: done cluster argoproj.io/workflows patch is needed but not granted',
  ]);
});

test('RBAC: a declared account that is not rendered, and a token where nothing is needed, are reported', () => {
  const needs = parseRbacNeeds(NEEDS_YAML);
  const objects = rbacObjects().filter((o) => !(o.kind === 'ServiceAccount' && o.metadata.name === 'web'));
  assert.equal(checkRbac(objects, needs), ['rbac needs: ServiceAccount web is not rendered']);
  assert.equal(checkNoTokenWithoutNeeds([account('web')], needs), [
    'ServiceAccount web: needs no Kubernetes access but mounts a token (set automountServiceAccountToken: false)',
  ]);
});

test.run();
