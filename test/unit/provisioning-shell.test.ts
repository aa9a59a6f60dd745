// The decisions inside the provisioning shell that need no server: which change an event announces (from the
// Gerrit events captured from the rig), how outcomes map onto ack or retry, the order of applies, the
// orphans of a snapshot, and the configuration from the environment. The shell's I/O is tested against the
// rig (test/integration/provision.test.ts, reconcile.test.ts, config-check.test.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import { parseAllDocuments } from 'yaml';
import * as assert from 'uvu/assert';
import { mapWithConcurrency } from '../../shared/concurrency.js';
import { alreadyReported, isConfigPatchSet, patchSetToCheck } from '../../shared/pipelines/config-review.js';
import { CONFIG_CHECK_TAG } from '../../shared/config/config-check.js';
import { ConfigError } from '../../shared/env.js';
import { loadAll, policyFromEnv } from '../../shared/config/policy-env.js';
import { loadPolicy } from '../../shared/config/policy.js';
import { NotImplementedError, PermanentError, TransientError } from '../../shared/errors.js';
import { CONFIG_CHANGED_TYPE } from '../../shared/events/gerrit-cloudevents.js';
import type { InboundEvent } from '../../shared/events/handler.js';
import { buildBundle, BUNDLE_KINDS, RETIRED_KINDS, WORKFLOW_EDITOR_CLUSTER_ROLE, WORKFLOW_EXECUTOR_CLUSTER_ROLE, WORKFLOW_VIEWER_CLUSTER_ROLE } from '../../shared/provisioning/bundle.js';
import { configChangeOf, settle, type ConfigChangeResult } from '../../shared/provisioning/config-changed.js';
import { provisionerConfigFromEnv } from '../../shared/provisioning/env.js';
import { MANAGED_BY_LABEL, NAMESPACE_PREFIX, PROJECT_ANNOTATION } from '../../shared/names.js';
import type { LiveObject } from '../../shared/provisioning/objects.js';
import { applyWaves, managedProjects, type ProjectSummary } from '../../shared/provisioning/provisioner.js';
import { defaultProjectConfig } from '../../shared/config/project-config.js';
import { streamLines } from './support/gerrit-fixtures.js';
import { testPolicy } from './support/policy.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const captured = streamLines().map((line) => JSON.parse(line) as Record<string, unknown> & { type: string });
const find = (predicate: (e: (typeof captured)[number]) => boolean) => {
  const found = captured.find(predicate);
  if (!found) throw new Error('fixture event missing');
  return found;
};
const metaConfigUpdate = find((e) => e.type === 'ref-updated' && (e.refUpdate as { refName: string }).refName === 'refs/meta/config');
const masterUpdate = find((e) => e.type === 'ref-updated' && (e.refUpdate as { refName: string }).refName === 'refs/heads/master');
const projectCreated = find((e) => e.type === 'project-created');
const metaPatchSet = find((e) => e.type === 'patchset-created' && (e.change as { branch: string }).branch === 'refs/meta/config');
const masterPatchSet = find((e) => e.type === 'patchset-created' && (e.change as { branch: string }).branch === 'master');

const inbound = (data: unknown, extensions: Record<string, string> = {}): InboundEvent => ({
  id: 'e1',
  source: 'https://gerrit.example.org/',
  type: CONFIG_CHANGED_TYPE,
  specversion: '1.0',
  data,
  ...extensions,
});

// ---- which change an event announces ----

test('a ref-updated of refs/meta/config names the project and the new revision', () => {
  const ref = metaConfigUpdate.refUpdate as { project: string; newRev: string };
  assert.equal(configChangeOf(inbound(metaConfigUpdate, { gerritproject: ref.project })), { project: ref.project, revision: ref.newRev });
});

test('a project-created names the project and no revision: its head is read', () => {
  assert.equal(configChangeOf(inbound(projectCreated)), { project: projectCreated.projectName });
});

test('anything else is not a config change: permanent (acked), saying what it was', () => {
  assert.throws(() => configChangeOf(inbound(masterUpdate)), (err: unknown) => err instanceof PermanentError && /ref-updated of refs\/heads\/master/.test((err as Error).message));
  assert.throws(() => configChangeOf(inbound(masterPatchSet)), (err: unknown) => err instanceof PermanentError && /patchset-created does not change/.test((err as Error).message));
  for (const data of [undefined, null, 'text', {}, { type: 'ref-updated' }]) {
    assert.throws(() => configChangeOf(inbound(data)), (err: unknown) => err instanceof PermanentError && /not a Gerrit event/.test((err as Error).message));
  }
});

test('an event whose gerritproject is not its data\'s project is refused, not acted on for either', () => {
  assert.throws(() => configChangeOf(inbound(metaConfigUpdate, { gerritproject: 'someone/else' })), (err: unknown) => err instanceof PermanentError && /someone\/else/.test((err as Error).message));
});

test('a patchset-created on refs/meta/config is checked; another branch is the pipelines\' (routed there, refused here)', () => {
  const change = metaPatchSet.change as { project: string; number: number };
  const patchSet = metaPatchSet.patchSet as { number: number; revision: string };
  assert.equal(patchSetToCheck(inbound(metaPatchSet)), { project: change.project, change: change.number, patchSet: patchSet.number, revision: patchSet.revision });
  assert.throws(() => patchSetToCheck(inbound(masterPatchSet)), (err: unknown) => err instanceof PermanentError && /not of master/.test((err as Error).message));
  assert.ok(isConfigPatchSet(inbound(metaPatchSet)));
  assert.not.ok(isConfigPatchSet(inbound(masterPatchSet)));
  assert.not.ok(isConfigPatchSet(inbound(metaConfigUpdate)));
  assert.throws(() => patchSetToCheck(inbound(metaConfigUpdate)), (err: unknown) => err instanceof PermanentError && !(err instanceof NotImplementedError));
  const { revision: _dropped, ...withoutRevision } = metaPatchSet.patchSet as Record<string, unknown>;
  assert.throws(() => patchSetToCheck(inbound({ ...metaPatchSet, patchSet: withoutRevision })), /without patchSet.revision/);
  assert.throws(() => patchSetToCheck(inbound('garbage')), (err: unknown) => err instanceof PermanentError);
});

test('already reported: a message with the config check\'s tag on this patch set, and only that', () => {
  const message = (tag: string | undefined, patchSet: number) => ({ id: 'm', date: '', message: 'x', ...(tag ? { tag } : {}), _revision_number: patchSet });
  assert.ok(alreadyReported([message('autogenerated:gerrit:newPatchSet', 2), message(CONFIG_CHECK_TAG, 2)], 2));
  assert.not.ok(alreadyReported([message(CONFIG_CHECK_TAG, 1)], 2), 'an earlier patch set\'s report');
  assert.not.ok(alreadyReported([message(undefined, 2), message('autogenerated:ci-test', 2)], 2));
  assert.not.ok(alreadyReported([], 1));
});

// ---- outcome → ack or retry ----

const summary = (overrides: Partial<ProjectSummary>): ProjectSummary => ({
  project: 'p',
  namespace: 'sk-p',
  outcome: 'unchanged',
  writes: 0,
  applied: [],
  deleted: [],
  conflicts: [],
  ...overrides,
});
const applied = (own: Partial<ProjectSummary>, rest: Partial<Extract<ConfigChangeResult, { kind: 'applied' }>> = {}): ConfigChangeResult => ({
  kind: 'applied',
  own: summary(own),
  descendants: [],
  failures: [],
  ...rest,
});

test('settle: done outcomes become the log line\'s fields, with the writes of descendants added', () => {
  assert.equal(settle(applied({ outcome: 'created', writes: 9 }, { descendants: [summary({ outcome: 'updated', writes: 2 }), summary({ outcome: 'updated', writes: 1 })] })), {
    namespace: 'sk-p',
    result: 'created',
    writes: 12,
    descendants: { updated: 2 },
  });
  assert.equal(settle(applied({ outcome: 'unchanged', conflicts: ['RoleBinding x not ours'] })), { namespace: 'sk-p', result: 'unchanged', writes: 0, conflicts: ['RoleBinding x not ours'] });
  assert.equal(settle({ kind: 'superseded', project: 'p', revision: 'a', head: 'b' }), { result: 'superseded', revision: 'a', head: 'b' });
});

test('settle: an invalid config or a namespace that is not ours is permanent; waiting or a namespace going is transient', () => {
  assert.throws(() => settle(applied({ outcome: 'rejected', reason: 'invalid configuration: seakeeper.yaml:1:1: …' })), (err: unknown) => err instanceof PermanentError && /p: invalid/.test((err as Error).message));
  assert.throws(() => settle(applied({ outcome: 'blocked', reason: 'not ours', retryable: false })), (err: unknown) => err instanceof PermanentError);
  assert.throws(() => settle(applied({ outcome: 'blocked', reason: 'being deleted', retryable: true })), (err: unknown) => err instanceof TransientError);
  assert.throws(() => settle(applied({ outcome: 'waiting', reason: '1 workflow(s) still running', retryable: true })), (err: unknown) => err instanceof TransientError);
});

test('settle: a descendant\'s transient failure retries the event; a permanent one is logged, not retried', () => {
  assert.throws(
    () => settle(applied({ outcome: 'updated' }, { failures: [{ project: 'child', error: new TransientError('apiserver 503') }] })),
    (err: unknown) => err instanceof TransientError && /child: apiserver 503/.test((err as Error).message),
  );
  const fields = settle(applied({ outcome: 'updated' }, { failures: [{ project: 'child', error: new PermanentError('422 invalid') }] }));
  assert.equal(fields.failed, ['child: 422 invalid']);
});

// ---- carrying out a plan ----

test('applies go in waves: the Namespace, then what is in it, then RoleBindings once any Role they name exists', () => {
  const config = { ...defaultProjectConfig(testPolicy), owners: ['Owners'] };
  const bundle = buildBundle({ project: 'mediawiki/core', config, policy: testPolicy });
  const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'sk-mediawiki-core' } };
  const waves = applyWaves([...bundle, role].reverse());
  assert.equal(waves[0]!.map((o) => o.kind), ['Namespace']);
  assert.ok(waves[1]!.every((o) => o.kind !== 'RoleBinding' && o.kind !== 'Namespace'));
  assert.ok(waves[1]!.some((o) => o.kind === 'Role'));
  assert.equal([...new Set(waves[2]!.map((o) => o.kind))], ['RoleBinding']);
  assert.is(waves.flat().length, bundle.length + 1);
  assert.equal(applyWaves([]), []);
  assert.equal(applyWaves([bundle[1]!]).length, 1, 'no empty waves');
});

const namespace = (name: string, labels: Record<string, string>, annotations: Record<string, string>, going = false): LiveObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels, annotations, ...(going ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
});

test('orphan candidates: namespaces labelled ours, by their project annotation; not those already going', () => {
  const ours = { [MANAGED_BY_LABEL]: 'seakeeper' };
  const snapshot = {
    namespaces: new Map([
      ['a', namespace('a', ours, { [PROJECT_ANNOTATION]: 'b/project' })],
      ['b', namespace('b', ours, { [PROJECT_ANNOTATION]: 'a/project' })],
      ['c', namespace('c', ours, { [PROJECT_ANNOTATION]: 'going' }, true)],
      ['d', namespace('d', { [MANAGED_BY_LABEL]: 'helm' }, { [PROJECT_ANNOTATION]: 'not ours' })],
      ['e', namespace('e', ours, {})],
    ]),
    objects: new Map(),
  };
  assert.equal(managedProjects(snapshot), ['a/project', 'b/project']);
});

test('mapWithConcurrency keeps order and never runs more than the limit at once', async () => {
  let running = 0;
  let peak = 0;
  const results = await mapWithConcurrency([5, 1, 4, 2, 3, 0], 2, async (n) => {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, n));
    running -= 1;
    return n * 10;
  });
  assert.equal(results, [50, 10, 40, 20, 30, 0]);
  assert.is(peak, 2);
  assert.equal(await mapWithConcurrency([], 3, async () => 1), []);
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    try {
      await mapWithConcurrency([1], bad, async () => 1);
      assert.unreachable(`limit ${bad}`);
    } catch (err) {
      assert.instance(err, RangeError);
    }
  }
});

// ---- the provisioner's RBAC and admission policy (knative/provisioner) follow the bundle ----

const manifests = (file: string) => parseAllDocuments(readFileSync(path.join(ROOT, 'knative/provisioner', file), 'utf8')).map((d) => d.toJS() as Record<string, any>);
const PLURALS: Record<string, string> = {
  ServiceAccount: 'serviceaccounts',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  ResourceQuota: 'resourcequotas',
  LimitRange: 'limitranges',
  NetworkPolicy: 'networkpolicies',
  ConfigMap: 'configmaps',
};

test('the provisioner may create, apply, prune every kind the bundle makes, only prune retired kinds, and bind exactly the three workflow ClusterRoles', () => {
  const role = manifests('rbac.yaml').find((d) => d.kind === 'ClusterRole')!;
  const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
  const verbsOn = ({ apiVersion, kind }: { apiVersion: string; kind: string }) => {
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
    const rule = rules.find((r) => r.apiGroups.includes(group) && r.resources.includes(PLURALS[kind]!) && !r.resourceNames);
    assert.ok(rule, kind);
    return [...rule!.verbs].sort();
  };
  for (const kind of BUNDLE_KINDS) assert.equal(verbsOn(kind), ['create', 'delete', 'get', 'list', 'patch'], kind.kind);
  for (const kind of RETIRED_KINDS) assert.equal(verbsOn(kind), ['delete', 'get', 'list'], kind.kind);
  const bind = rules.find((r) => r.verbs.includes('bind'))!;
  assert.equal(bind.resourceNames, [WORKFLOW_EDITOR_CLUSTER_ROLE, WORKFLOW_VIEWER_CLUSTER_ROLE, WORKFLOW_EXECUTOR_CLUSTER_ROLE]);
  assert.not.ok(rules.some((r) => r.verbs.includes('escalate') || r.verbs.includes('*') || r.resources.includes('secrets')));
  assert.not.ok(rules.some((r) => r.resources.includes('workflowtaskresults')), 'what the executor ClusterRole grants, the provisioner only binds');
  const namespaces = rules.find((r) => r.resources.includes('namespaces'))!;
  assert.not.ok(namespaces.verbs.includes('delete'), 'deleting namespaces only with deprovision-delete/');
});

test('the admission policy confines the provisioner to namespaces with the prefix every project namespace has', () => {
  const policy = manifests('admission.yaml').find((d) => d.kind === 'ValidatingAdmissionPolicy')!;
  const expression = (policy.spec.validations as { expression: string }[])[0]!.expression;
  assert.match(expression, `startsWith('${NAMESPACE_PREFIX}-')`);
  const accounts = manifests('serviceaccounts.yaml').map((d) => `system:serviceaccount:${d.metadata.namespace}:${d.metadata.name}`);
  for (const account of accounts) assert.match((policy.spec.matchConditions as { expression: string }[])[0]!.expression, `'${account}'`);
});

// ---- configuration ----

test('policy: the shipped one by default; SEAKEEPER_POLICY_FILE replaces it, and its problems name the variable and the place', () => {
  assert.equal(policyFromEnv({}), loadPolicy());
  const files: Record<string, string> = {
    '/etc/policy/ok.yaml': 'caps: { cpu: "8", memory: 16Gi, pods: 20 }\ndefaults: { cpu: "1", memory: 2Gi, pods: 5 }\ncontainer:\n  defaultRequest: { cpu: 100m, memory: 128Mi }\n  defaultLimit: { cpu: "1", memory: 1Gi }\ndeprovision: delete\ngroupPrefix: "ldap:"\n',
    '/etc/policy/bad.yaml': 'caps: { cpu: "8", memory: 16Gi, pods: 20 }\n',
  };
  const read = (path: string) => {
    if (!(path in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return files[path]!;
  };
  const policy = policyFromEnv({ SEAKEEPER_POLICY_FILE: '/etc/policy/ok.yaml' }, read);
  assert.equal({ deprovision: policy.deprovision, groupPrefix: policy.groupPrefix, pods: policy.caps.pods }, { deprovision: 'delete', groupPrefix: 'ldap:', pods: 20 });
  assert.throws(() => policyFromEnv({ SEAKEEPER_POLICY_FILE: '/etc/policy/bad.yaml' }, read), (err: unknown) => err instanceof ConfigError && /^invalid configuration: SEAKEEPER_POLICY_FILE: \/etc\/policy\/bad\.yaml:1:1:/.test((err as Error).message));
  assert.throws(() => policyFromEnv({ SEAKEEPER_POLICY_FILE: '/nowhere.yaml' }, read), /SEAKEEPER_POLICY_FILE names a file that cannot be read \(ENOENT\)/);
});

test('the provisioner\'s configuration reports every problem at once, each naming its variable', () => {
  try {
    provisionerConfigFromEnv({ GERRIT_URL: 'ftp://gerrit', RECONCILE_CONCURRENCY: '0', KUBERNETES_TIMEOUT_MS: 'soon' });
    assert.unreachable('should not load');
  } catch (err) {
    assert.instance(err, ConfigError);
    const problems = (err as ConfigError).problems;
    for (const expected of ['RECONCILE_CONCURRENCY must be an integer from 1 to 64', 'GERRIT_URL must be an absolute http(s) URL', 'GERRIT_USER is required', 'KUBERNETES_TIMEOUT_MS must be an integer']) {
      assert.ok(problems.some((p) => p.startsWith(expected)), `${expected} in ${JSON.stringify(problems)}`);
    }
  }
  assert.throws(() => provisionerConfigFromEnv({}), /KUBECONFIG is required outside a cluster/);
  assert.throws(() => provisionerConfigFromEnv({ KUBECONFIG: '/nowhere/kubeconfig' }), /KUBECONFIG names a kubeconfig that cannot be loaded \(ENOENT\)/);
});

test('loadAll returns every loader\'s value, or one ConfigError with all their problems; other errors pass through', () => {
  assert.equal(loadAll(() => 1, () => 'two'), [1, 'two']);
  assert.throws(
    () => loadAll(() => { throw new ConfigError(['A is required']); }, () => 2, () => { throw new ConfigError(['B must be', 'C must be']); }),
    (err: unknown) => err instanceof ConfigError && JSON.stringify(err.problems) === JSON.stringify(['A is required', 'B must be', 'C must be']),
  );
  assert.throws(() => loadAll(() => { throw new TypeError('bug'); }), TypeError);
});

test.run();
