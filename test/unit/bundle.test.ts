import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { defaultProjectConfig, parseProjectConfig, type ProjectConfig } from '../../shared/config/project-config.js';
import { compareQuantities, parseQuantity } from '../../shared/config/quantity.js';
import { ARGO_DEFAULT_ARTIFACT_REPOSITORY_ANNOTATION, ARTIFACT_REPOSITORIES_CONFIGMAP, ARTIFACT_REPOSITORY_KEY, BUNDLE_KINDS, buildBundle, CHECKOUT_CONFIGMAP, CHECKOUT_SCRIPT_KEY, CONFIG_SOURCE_ANNOTATION, EXECUTOR_BINDING, MANAGED_KINDS, MANAGED_SELECTOR, managedLabels, OWNERS_BINDING, POD_SECURITY_ENFORCE_LABEL, projectSelector, RETIRED_KINDS, STORAGE_CLASSES_ANNOTATION, VIEWERS_BINDING, WORKFLOW_EDITOR_CLUSTER_ROLE, WORKFLOW_EXECUTOR_CLUSTER_ROLE, WORKFLOW_VIEWER_CLUSTER_ROLE } from '../../shared/provisioning/bundle.js';
import { MANAGED_BY_LABEL, namespaceFor, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, projectHash, PRIORITY_CLASSES, WORKFLOW_SERVICE_ACCOUNT } from '../../shared/names.js';
import type { KubeObject } from '../../shared/provisioning/objects.js';
import { policyWithoutArtifacts, testPolicy, projectConfig } from './support/policy.js';

const PROJECT = 'mediawiki/core';
const NS = namespaceFor(PROJECT);

const config = (text: string): ProjectConfig => projectConfig(text);

const full = config(`pipelines: { check: { workflow: check.yaml } }
resources: { cpu: "4", memory: 8Gi, pods: 10 }
owners: [MediaWiki-owners, Release-Engineering]
viewers: [Trusted-Contributors]
`);

const find = (objects: KubeObject[], kind: string, name?: string) => objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

test('the bundle has every piece, the Namespace first', () => {
  const objects = buildBundle({ project: PROJECT, config: full, policy: testPolicy });
  assert.equal(
    objects.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      `Namespace/${NS}`,
      'ServiceAccount/workflow',
      `RoleBinding/${EXECUTOR_BINDING}`,
      `RoleBinding/${OWNERS_BINDING}`,
      `RoleBinding/${VIEWERS_BINDING}`,
      'ResourceQuota/seakeeper',
      'LimitRange/seakeeper',
      'NetworkPolicy/seakeeper-isolation',
      `ConfigMap/${CHECKOUT_CONFIGMAP}`,
      `ConfigMap/${ARTIFACT_REPOSITORIES_CONFIGMAP}`,
    ],
  );
});

test('every object is labelled managed-by seakeeper with the project hash; namespaced ones are in the namespace', () => {
  const objects = buildBundle({ project: PROJECT, config: full, policy: testPolicy });
  for (const o of objects) {
    assert.is(o.metadata.labels?.[MANAGED_BY_LABEL], 'seakeeper', o.kind);
    assert.is(o.metadata.labels?.[PROJECT_HASH_LABEL], projectHash(PROJECT), o.kind);
    if (o.kind !== 'Namespace') assert.is(o.metadata.namespace, NS, o.kind);
  }
  assert.equal(managedLabels(PROJECT), { [MANAGED_BY_LABEL]: 'seakeeper', [PROJECT_HASH_LABEL]: projectHash(PROJECT) });
  assert.is(projectSelector(PROJECT), `app.kubernetes.io/managed-by=seakeeper,seakeeper.dev/project-hash=${projectHash(PROJECT)}`);
  assert.is(MANAGED_SELECTOR, 'app.kubernetes.io/managed-by=seakeeper');
});

test('the Namespace carries the project name, config source, Pod Security level and the StorageClasses claims may name', () => {
  const ns = buildBundle({ project: PROJECT, config: full, policy: testPolicy, source: 'mediawiki' })[0]!;
  assert.equal(ns.metadata, {
    name: NS,
    labels: { ...managedLabels(PROJECT), [POD_SECURITY_ENFORCE_LABEL]: 'baseline' },
    annotations: { [PROJECT_ANNOTATION]: PROJECT, [CONFIG_SOURCE_ANNOTATION]: 'mediawiki', [STORAGE_CLASSES_ANNOTATION]: '' },
  });
  assert.not.ok('namespace' in ns.metadata);
  const classes = { ...testPolicy, storage: { ...testPolicy.storage, classes: ['standard', 'fast-ssd'] } };
  assert.is(buildBundle({ project: PROJECT, config: full, policy: classes })[0]!.metadata.annotations?.[STORAGE_CLASSES_ANNOTATION], 'standard,fast-ssd');
});

test('the workflow ServiceAccount is bound to the executor ClusterRole; the namespace has no Role of its own', () => {
  const objects = buildBundle({ project: PROJECT, config: full, policy: testPolicy });
  assert.ok(find(objects, 'ServiceAccount', WORKFLOW_SERVICE_ACCOUNT));
  assert.is(find(objects, 'Role'), undefined);
  const binding = find(objects, 'RoleBinding', EXECUTOR_BINDING)!;
  assert.equal(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: WORKFLOW_EXECUTOR_CLUSTER_ROLE });
  assert.equal(binding.subjects, [{ kind: 'ServiceAccount', name: 'workflow', namespace: NS }]);
});

test('owners and viewers are Kubernetes groups with the policy prefix, bound to the cluster roles', () => {
  const objects = buildBundle({ project: PROJECT, config: full, policy: { ...testPolicy, groupPrefix: 'oidc:gerrit/' } });
  const owners = find(objects, 'RoleBinding', OWNERS_BINDING)!;
  assert.equal(owners.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: WORKFLOW_EDITOR_CLUSTER_ROLE });
  assert.equal(owners.subjects, [
    { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:gerrit/MediaWiki-owners' },
    { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:gerrit/Release-Engineering' },
  ]);
  const viewers = find(objects, 'RoleBinding', VIEWERS_BINDING)!;
  assert.is((viewers.roleRef as { name: string }).name, WORKFLOW_VIEWER_CLUSTER_ROLE);
  assert.equal(viewers.subjects, [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:gerrit/Trusted-Contributors' }]);
});

test('no owner or viewer binding when the config names no groups', () => {
  const objects = buildBundle({ project: PROJECT, config: defaultProjectConfig(testPolicy), policy: testPolicy });
  assert.is(find(objects, 'RoleBinding', OWNERS_BINDING), undefined);
  assert.is(find(objects, 'RoleBinding', VIEWERS_BINDING), undefined);
});

test('ResourceQuota and LimitRange come from the (capped) request', () => {
  const objects = buildBundle({ project: PROJECT, config: full, policy: testPolicy });
  assert.equal(find(objects, 'ResourceQuota')!.spec, { hard: { 'requests.cpu': '4', 'requests.memory': '8Gi', 'limits.memory': '8Gi', pods: '10', 'requests.storage': '20Gi', persistentvolumeclaims: '10' } });
  assert.equal(find(objects, 'LimitRange')!.spec, {
    limits: [{ type: 'Container', default: { cpu: '1', memory: '1Gi' }, defaultRequest: { cpu: '100m', memory: '256Mi' }, max: { cpu: '4', memory: '8Gi' } }],
  });
});

test('a small namespace lowers the container defaults to fit', () => {
  const small = config('resources: { cpu: 50m, memory: 200Mi, pods: 1 }');
  const limits = (find(buildBundle({ project: PROJECT, config: small, policy: testPolicy }), 'LimitRange')!.spec as { limits: unknown[] }).limits;
  assert.equal(limits, [{ type: 'Container', default: { cpu: '50m', memory: '200Mi' }, defaultRequest: { cpu: '50m', memory: '200Mi' }, max: { cpu: '50m', memory: '200Mi' } }]);
});

test('property: LimitRange always satisfies defaultRequest ≤ default ≤ max (what the API server demands)', () => {
  const quantity = fc.tuple(fc.integer({ min: 1, max: 16000 }), fc.constantFrom('m', '')).filter(([n, s]) => s === 'm' || n <= 16).map(([n, s]) => `${n}${s}`);
  const memory = fc.tuple(fc.integer({ min: 1, max: 32 * 1024 }), fc.constantFrom('Mi')).map(([n, s]) => `${n}${s}`);
  fc.assert(
    fc.property(quantity, memory, (cpu, mem) => {
      const parsed = parseProjectConfig(`resources: { cpu: "${cpu}", memory: "${mem}" }`, testPolicy);
      if (!parsed.ok) return; // above a cap
      const [item] = (find(buildBundle({ project: PROJECT, config: parsed.config, policy: testPolicy }), 'LimitRange')!.spec as { limits: Record<string, Record<string, string>>[] }).limits;
      for (const r of ['cpu', 'memory']) {
        const q = (field: string) => parseQuantity(item![field]![r]!)!;
        assert.ok(compareQuantities(q('defaultRequest'), q('default')) <= 0);
        assert.ok(compareQuantities(q('default'), q('max')) <= 0);
      }
    }),
    { numRuns: 1000 },
  );
});

test('the NetworkPolicy closes ingress from other namespaces; egress goes anywhere but the metadata addresses, DNS and the namespace always', () => {
  const policy = find(buildBundle({ project: PROJECT, config: full, policy: testPolicy }), 'NetworkPolicy')!;
  assert.is(policy.apiVersion, 'networking.k8s.io/v1');
  assert.equal(policy.spec, {
    podSelector: {},
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ podSelector: {} }] }],
    egress: [
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }, { ipBlock: { cidr: '::/0', except: ['fd00:ec2::254/128'] } }] },
      { to: [{ podSelector: {} }] },
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      },
    ],
  });
});

test('the artifact repository ConfigMap is Argo’s default, with keys under the namespace', () => {
  const cm = find(buildBundle({ project: PROJECT, config: full, policy: testPolicy }), 'ConfigMap', ARTIFACT_REPOSITORIES_CONFIGMAP)!;
  assert.is(cm.metadata.annotations?.[ARGO_DEFAULT_ARTIFACT_REPOSITORY_ANNOTATION], ARTIFACT_REPOSITORY_KEY);
  const data = cm.data as Record<string, string>;
  assert.equal(Object.keys(data), [ARTIFACT_REPOSITORY_KEY]);
  assert.equal(parse(data[ARTIFACT_REPOSITORY_KEY]!), {
    s3: {
      endpoint: 'minio.seakeeper-system.svc:9000',
      bucket: 'seakeeper-artifacts',
      insecure: true,
      keyFormat: `${NS}/{{workflow.name}}/{{pod.name}}`,
      accessKeySecret: { name: 'seakeeper-artifacts', key: 'accesskey' },
      secretKeySecret: { name: 'seakeeper-artifacts', key: 'secretkey' },
    },
  });
  assert.is(find(buildBundle({ project: PROJECT, config: full, policy: policyWithoutArtifacts }), 'ConfigMap', ARTIFACT_REPOSITORIES_CONFIGMAP), undefined);
});

test('every namespace gets the speculative checkout script, config/gate/checkout.sh as it ships, with or without an artifact repository', () => {
  const shipped = readFileSync(new URL('../../config/gate/checkout.sh', import.meta.url), 'utf8');
  for (const policy of [testPolicy, policyWithoutArtifacts]) {
    const cm = find(buildBundle({ project: PROJECT, config: full, policy }), 'ConfigMap', CHECKOUT_CONFIGMAP)!;
    assert.equal(cm, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'seakeeper-checkout', namespace: NS, labels: managedLabels(PROJECT) },
      data: { [CHECKOUT_SCRIPT_KEY]: shipped },
    });
  }
  assert.is(CHECKOUT_SCRIPT_KEY, 'checkout.sh');
  assert.ok(shipped.startsWith('#!/bin/sh\n'));
});

test('the bundle is deterministic and does not depend on the order groups were written', () => {
  const a = buildBundle({ project: PROJECT, config: full, policy: testPolicy });
  const b = buildBundle({ project: PROJECT, config: { ...full, owners: [...full.owners].reverse() }, policy: testPolicy });
  assert.is(JSON.stringify(a), JSON.stringify(b));
});

test('project names with odd characters only ever reach objects as the namespace name and an annotation', () => {
  const project = 'evil"}\n- name: x\n{{workflow.name}}/../ü';
  const objects = buildBundle({ project, config: full, policy: testPolicy });
  const ns = namespaceFor(project);
  for (const o of objects) {
    const text = JSON.stringify(o);
    if (o.kind === 'Namespace') assert.is(o.metadata.annotations?.[PROJECT_ANNOTATION], project);
    else assert.not.ok(text.includes('/../ü') || text.includes('- name: x'), `${o.kind} mentions the raw project name`);
  }
  assert.match(String((find(objects, 'ConfigMap', ARTIFACT_REPOSITORIES_CONFIGMAP)!.data as Record<string, string>)[ARTIFACT_REPOSITORY_KEY]), new RegExp(`keyFormat: ${ns}/`));
});

test('BUNDLE_KINDS lists every namespaced kind the bundle makes; MANAGED_KINDS adds the retired Role, so that it is pruned', () => {
  const kinds = new Set(buildBundle({ project: PROJECT, config: full, policy: testPolicy }).filter((o) => o.kind !== 'Namespace').map((o) => `${o.apiVersion} ${o.kind}`));
  assert.equal([...kinds].sort(), BUNDLE_KINDS.map((k) => `${k.apiVersion} ${k.kind}`).sort());
  assert.equal(RETIRED_KINDS, [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' }]);
  assert.equal(MANAGED_KINDS, [...BUNDLE_KINDS, ...RETIRED_KINDS]);
});

// ---- knative/cluster: the cluster-wide pieces the bundle refers to ----

const clusterDir = new URL('../../knative/cluster/', import.meta.url);
const clusterObjects = (file: string) =>
  parseAllDocuments(readFileSync(new URL(file, clusterDir), 'utf8')).map((d) => d.toJS() as KubeObject & Record<string, unknown>);

test('knative/cluster is a kustomization of its YAML files', () => {
  const kustomization = parse(readFileSync(new URL('kustomization.yaml', clusterDir), 'utf8')) as { kind: string; resources: string[] };
  assert.is(kustomization.kind, 'Kustomization');
  assert.equal(kustomization.resources.sort(), ['admission-storage.yaml', 'admission.yaml', 'clusterroles.yaml', 'priorityclasses.yaml']);
});

test('claims in project namespaces: every CREATE is judged against the classes provisioning writes onto the namespace', () => {
  const [policy, binding, ...rest] = clusterObjects('admission-storage.yaml') as (KubeObject & { spec: Record<string, any> })[];
  assert.is(rest.length, 0);
  assert.equal([policy!.kind, policy!.metadata.name, binding!.kind, binding!.metadata.name], [
    'ValidatingAdmissionPolicy', 'seakeeper-project-storage', 'ValidatingAdmissionPolicyBinding', 'seakeeper-project-storage',
  ]);
  assert.is(policy!.spec.failurePolicy, 'Fail');
  assert.equal(policy!.spec.matchConstraints, {
    namespaceSelector: { matchLabels: { [MANAGED_BY_LABEL]: 'seakeeper' } },
    resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['persistentvolumeclaims'] }],
  });
  // No parameter resource: the allow-list is on the namespace, which every project namespace has.
  assert.not.ok('paramKind' in policy!.spec);
  assert.equal(binding!.spec, { policyName: 'seakeeper-project-storage', validationActions: ['Deny'] });
  const variables = Object.fromEntries((policy!.spec.variables as { name: string; expression: string }[]).map((v) => [v.name, v.expression]));
  assert.match(variables.allowed!, `namespaceObject.metadata.?annotations[?'${STORAGE_CLASSES_ANNOTATION}']`);
  assert.match(variables.named!, "'volume.beta.kubernetes.io/storage-class'");
  assert.match(variables.named!, 'object.spec.?storageClassName');
  for (const validation of policy!.spec.validations as { reason: string }[]) assert.is(validation.reason, 'Forbidden');
});

test('the ClusterRoles the bindings refer to exist, the viewer role only reads, the executor role only writes task results', () => {
  const roles = clusterObjects('clusterroles.yaml');
  assert.equal(
    roles.map((r) => `${r.kind}/${r.metadata.name}`),
    [`ClusterRole/${WORKFLOW_EDITOR_CLUSTER_ROLE}`, `ClusterRole/${WORKFLOW_VIEWER_CLUSTER_ROLE}`, `ClusterRole/${WORKFLOW_EXECUTOR_CLUSTER_ROLE}`],
  );
  assert.equal(roles[2]!.rules, [{ apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] }]);
  const rules = (role: Record<string, unknown>) => role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  const editor = rules(roles[0]!);
  assert.ok(editor.some((r) => r.apiGroups.includes('argoproj.io') && r.resources.includes('workflows') && r.verbs.includes('create')));
  for (const rule of rules(roles[1]!)) assert.equal(rule.verbs, ['get', 'list', 'watch']);
  for (const rule of [...editor, ...rules(roles[1]!)]) {
    assert.not.ok(rule.resources.includes('secrets'), 'no role grants secrets');
    assert.not.ok(rule.verbs.includes('*') || rule.resources.includes('*'), 'no wildcards');
  }
});

test('PriorityClasses: gate > check > periodic, none the global default', () => {
  const classes = clusterObjects('priorityclasses.yaml') as (KubeObject & { value: number; globalDefault: boolean })[];
  const value = (name: string) => classes.find((c) => c.metadata.name === name)!.value;
  assert.ok(value(PRIORITY_CLASSES.gate) > value(PRIORITY_CLASSES.check));
  assert.ok(value(PRIORITY_CLASSES.check) > value(PRIORITY_CLASSES.periodic));
  for (const c of classes) {
    assert.is(c.apiVersion, 'scheduling.k8s.io/v1');
    assert.is(c.globalDefault, false);
  }
});

test.run();
