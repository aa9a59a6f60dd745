import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EffectiveConfig } from '../../shared/config/inheritance.js';
import { defaultProjectConfig, parseProjectConfig, type ProjectConfig } from '../../shared/config/project-config.js';
import { FIELD_MANAGER } from '../../shared/k8s/cluster.js';
import {
  ARTIFACT_REPOSITORIES_CONFIGMAP,
  buildBundle,
  CONFIG_SOURCE_ANNOTATION,
  EXECUTOR_BINDING,
  managedLabels,
  OWNERS_BINDING,
  RESOURCE_QUOTA,
  VIEWERS_BINDING,
} from '../../shared/provisioning/bundle.js';
import { MANAGED_BY_LABEL, namespaceFor, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, projectHash } from '../../shared/names.js';
import { describeRef, objectKey, refOf, type KubeObject, type LiveObject } from '../../shared/provisioning/objects.js';
import {
  countUnfinishedWorkflows,
  isNoop,
  isUpToDate,
  ORPHANED,
  ORPHANED_REASON_ANNOTATION,
  planDeprovision,
  planProject,
  planProvision,
  SEAKEEPER_FIELD_MANAGER,
  STATE_LABEL,
  type DeprovisionPlan,
  type ProvisionPlan,
} from '../../shared/provisioning/plan.js';
import { deletingPolicy, policyWithoutArtifacts, testPolicy, projectConfig } from './support/policy.js';
import { serverView } from './support/server.js';

const PROJECT = 'mediawiki/core';
const NS = namespaceFor(PROJECT);

const config = (text: string): ProjectConfig => projectConfig(text);

const full = config(`pipelines: { check: { workflow: check.yaml } }
resources: { cpu: "4", memory: 8Gi, pods: 10 }
owners: [MediaWiki-owners]
viewers: [Trusted-Contributors]
`);

const bundle = (c: ProjectConfig = full, policy = testPolicy, project = PROJECT) => buildBundle({ project, config: c, policy });

/** The world after a successful apply of `objects`. */
function world(objects: KubeObject[]) {
  const live = objects.map((o) => serverView(o));
  return { liveNamespace: live.find((o) => o.kind === 'Namespace'), live: live.filter((o) => o.kind !== 'Namespace') };
}

function sync(plan: ProvisionPlan) {
  assert.is(plan.kind, 'sync');
  return plan as Extract<ProvisionPlan, { kind: 'sync' }>;
}

const names = (objects: { kind: string; metadata?: { name: string }; name?: string }[]) =>
  objects.map((o) => `${o.kind}/${o.metadata?.name ?? o.name}`);

test('our field manager is the ClusterClient’s', () => {
  assert.is(SEAKEEPER_FIELD_MANAGER, FIELD_MANAGER);
});

test('a new project: apply everything, Namespace first', () => {
  const desired = bundle();
  const plan = sync(planProvision({ project: PROJECT, desired, liveNamespace: undefined, live: [] }));
  assert.equal(plan.apply, desired);
  assert.equal(plan.prune, []);
  assert.equal(plan.unchanged, []);
  assert.equal(plan.conflicts, []);
  assert.not.ok(isNoop(plan));
});

test('a second pass over what the server returned makes zero writes', () => {
  const desired = bundle();
  const plan = sync(planProvision({ project: PROJECT, desired, ...world(desired) }));
  assert.ok(isNoop(plan));
  assert.is(plan.unchanged.length, desired.length);
});

test('quantities the server re-spelled are unchanged', () => {
  const desired = bundle(config('resources: { cpu: "0.5", memory: 1024Mi }'));
  const { liveNamespace, live } = world(desired);
  const quota = live.find((o) => o.kind === 'ResourceQuota')!;
  assert.equal((quota.spec as { hard: Record<string, string> }).hard['requests.cpu'], '500m');
  assert.equal((quota.spec as { hard: Record<string, string> }).hard['requests.memory'], '1Gi');
  assert.ok(isNoop(planProvision({ project: PROJECT, desired, liveNamespace, live })));
});

test('fields others own and server defaults are ignored', () => {
  const desired = bundle();
  const { liveNamespace, live } = world(desired);
  liveNamespace!.metadata.labels!['team.example.com/cost-centre'] = 'ci';
  liveNamespace!.metadata.annotations = { ...liveNamespace!.metadata.annotations, 'other/annotation': 'x' };
  const quota = live.find((o) => o.kind === 'ResourceQuota')!;
  (quota.spec as { hard: Record<string, string> }).hard['count/configmaps'] = '50';
  assert.ok(isNoop(planProvision({ project: PROJECT, desired, liveNamespace, live })));
});

test('drift in a field we own is repaired by re-applying that object alone', () => {
  const desired = bundle();
  const { liveNamespace, live } = world(desired);
  (live.find((o) => o.kind === 'ResourceQuota')!.spec as { hard: Record<string, string> }).hard.pods = '1000';
  const binding = live.find((o) => o.metadata.name === OWNERS_BINDING)!;
  binding.subjects = [...(binding.subjects as unknown[]), { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'gerrit:intruders' }];
  liveNamespace!.metadata.labels!['pod-security.kubernetes.io/enforce'] = 'privileged';
  const plan = sync(planProvision({ project: PROJECT, desired, liveNamespace, live }));
  assert.equal(names(plan.apply), [`Namespace/${NS}`, `RoleBinding/${OWNERS_BINDING}`, `ResourceQuota/${RESOURCE_QUOTA}`]);
  assert.equal(plan.prune, []);
});

test('an object of ours whose labels were edited away is still ours (our field manager applied it) and is repaired', () => {
  const desired = bundle();
  const { liveNamespace, live } = world(desired);
  const sa = live.find((o) => o.kind === 'ServiceAccount')!;
  delete sa.metadata.labels;
  const plan = sync(planProvision({ project: PROJECT, desired, liveNamespace, live }));
  assert.equal(names(plan.apply), ['ServiceAccount/workflow']);
  assert.equal(plan.conflicts, []);
});

test('a field we set before but no longer set makes the object changed (so applying releases it)', () => {
  const desired = bundle();
  const { liveNamespace, live } = world(desired);
  const fields = liveNamespace!.metadata.managedFields![0]!.fieldsV1 as { 'f:metadata': { 'f:labels': Record<string, unknown> } };
  fields['f:metadata']['f:labels'][`f:${STATE_LABEL}`] = {};
  liveNamespace!.metadata.labels![STATE_LABEL] = ORPHANED;
  const plan = sync(planProvision({ project: PROJECT, desired, liveNamespace, live }));
  assert.equal(names(plan.apply), [`Namespace/${NS}`]);
  // fields another manager owns do not count
  liveNamespace!.metadata.managedFields!.push({ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:x': {} } } } });
  assert.ok(isUpToDate(desired[1]!, live.find((o) => o.kind === 'ServiceAccount')!));
});

test('objects the config no longer asks for are pruned; nothing else is', () => {
  const before = bundle();
  const { liveNamespace, live } = world(before);
  const hash = projectHash(PROJECT);
  const foreign: LiveObject[] = [
    // created by someone else in our namespace: no labels
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'hand-made', namespace: NS } },
    // our label but another project's hash
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', namespace: NS, labels: { [MANAGED_BY_LABEL]: 'seakeeper', [PROJECT_HASH_LABEL]: projectHash('other') } } },
    // ours, but in another namespace
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere', namespace: 'sk-other', labels: { [MANAGED_BY_LABEL]: 'seakeeper', [PROJECT_HASH_LABEL]: hash } } },
    // ours, but of a kind we do not manage
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: NS, labels: { [MANAGED_BY_LABEL]: 'seakeeper', [PROJECT_HASH_LABEL]: hash } } },
    // a run's change ConfigMap: our labels, owned by its Workflow, which it goes with
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'check-12345-3-0123456789',
        namespace: NS,
        labels: { [MANAGED_BY_LABEL]: 'seakeeper', [PROJECT_HASH_LABEL]: hash, 'seakeeper.dev/pipeline': 'check' },
        ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', name: 'check-12345-3-0123456789', uid: 'u1' }],
      },
    },
  ];
  const after = bundle(config('resources: { cpu: "4", memory: 8Gi, pods: 10 }'), policyWithoutArtifacts);
  const plan = sync(planProvision({ project: PROJECT, desired: after, liveNamespace, live: [...live, ...foreign] }));
  assert.equal(plan.prune.map(describeRef).sort(), [
    `ConfigMap ${NS}/${ARTIFACT_REPOSITORIES_CONFIGMAP}`,
    `RoleBinding ${NS}/${OWNERS_BINDING}`,
    `RoleBinding ${NS}/${VIEWERS_BINDING}`,
  ]);
  assert.equal(plan.apply, []);
});

test('a namespace an earlier release provisioned: its executor Role is pruned, its RoleBinding applied again to the ClusterRole', () => {
  const desired = bundle();
  const { liveNamespace, live } = world(desired);
  const binding = live.find((o) => o.kind === 'RoleBinding' && o.metadata.name === EXECUTOR_BINDING)!;
  const older: LiveObject[] = [
    ...live.filter((o) => o !== binding),
    { ...binding, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: EXECUTOR_BINDING } },
    serverView({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: EXECUTOR_BINDING, namespace: NS, labels: managedLabels(PROJECT) },
      rules: [{ apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] }],
    }),
  ];
  const plan = sync(planProvision({ project: PROJECT, desired, liveNamespace, live: older }));
  assert.equal(names(plan.apply), [`RoleBinding/${EXECUTOR_BINDING}`]);
  assert.equal(plan.prune.map(describeRef), [`Role ${NS}/${EXECUTOR_BINDING}`]);
  // A Role of ours someone took the labels off, or anybody else's, is left alone.
  const unlabelled = older.map((o) => (o.kind === 'Role' ? { ...o, metadata: { ...o.metadata, labels: {} } } : o));
  assert.equal(sync(planProvision({ project: PROJECT, desired, liveNamespace, live: unlabelled })).prune, []);
});

test('an object with one of our names that is not ours is a conflict: not applied, not pruned', () => {
  const desired = bundle();
  const handMade: LiveObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ARTIFACT_REPOSITORIES_CONFIGMAP, namespace: NS, managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update' }] },
    data: { mine: 'yes' },
  };
  const plan = sync(planProvision({ project: PROJECT, desired, liveNamespace: undefined, live: [handMade] }));
  assert.equal(
    plan.conflicts.map((c) => describeRef(c.ref)),
    [`ConfigMap ${NS}/${ARTIFACT_REPOSITORIES_CONFIGMAP}`],
  );
  assert.match(plan.conflicts[0]!.reason, /not created by Seakeeper/);
  assert.not.ok(plan.apply.some((o) => o.kind === 'ConfigMap' && o.metadata.name === ARTIFACT_REPOSITORIES_CONFIGMAP));
  assert.is(plan.apply.length, desired.length - 1);
});

test('a namespace that is not ours blocks everything; one being deleted blocks until it is gone', () => {
  const desired = bundle();
  const plain: LiveObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, uid: 'u' } };
  const blocked = planProvision({ project: PROJECT, desired, liveNamespace: plain, live: [] });
  assert.equal(blocked.kind === 'blocked' && [blocked.retryable, /not created by Seakeeper/.test(blocked.reason)], [false, true]);

  const other: LiveObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NS, labels: { [MANAGED_BY_LABEL]: 'seakeeper', [PROJECT_HASH_LABEL]: projectHash('other') }, annotations: { [PROJECT_ANNOTATION]: 'other' } },
  };
  const taken = planProvision({ project: PROJECT, desired, liveNamespace: other, live: [] });
  assert.ok(taken.kind === 'blocked' && /another Seakeeper project \("other"\)/.test(taken.reason));

  const going = { ...world(desired).liveNamespace! };
  going.metadata = { ...going.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' };
  const wait = planProvision({ project: PROJECT, desired, liveNamespace: going, live: [] });
  assert.equal(wait.kind === 'blocked' && wait.retryable, true);
  assert.ok(isNoop(wait));
});

test('objects are matched regardless of API version', () => {
  const a = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'n' } };
  const b = { ...a, apiVersion: 'rbac.authorization.k8s.io/v1beta1' };
  assert.is(objectKey(refOf(a)), objectKey(refOf(b)));
  assert.is.not(objectKey(refOf(a)), objectKey(refOf({ ...a, kind: 'RoleBinding' })));
});

test('reconcile of all 2,182 Wikimedia projects: a second pass makes zero writes', () => {
  const projects = readFileSync(new URL('../fixtures/wikimedia-gerrit-projects.txt', import.meta.url), 'utf8').split('\n').filter(Boolean);
  let writes = 0;
  let objects = 0;
  for (const project of projects) {
    const desired = bundle(full, testPolicy, project);
    const first = sync(planProvision({ project, desired, liveNamespace: undefined, live: [] }));
    const { liveNamespace, live } = world(first.apply);
    const second = sync(planProvision({ project, desired, liveNamespace, live }));
    writes += second.apply.length + second.prune.length;
    objects += second.unchanged.length;
  }
  assert.is(writes, 0);
  assert.is(objects, projects.length * 10);
});

test('property: for any valid config, apply then plan again is a no-op, and one drifted field is repaired', () => {
  const group = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _-]{0,10}[A-Za-z0-9]$/);
  const cfg = fc.record({
    cpu: fc.constantFrom('100m', '0.5', '1', '4', '16', '2500m'),
    memory: fc.constantFrom('256Mi', '1Gi', '1024Mi', '8Gi', '1.5Gi', '32Gi'),
    pods: fc.integer({ min: 1, max: 40 }),
    owners: fc.uniqueArray(group, { maxLength: 4 }),
    viewers: fc.uniqueArray(group, { maxLength: 4 }),
  });
  fc.assert(
    fc.property(cfg, fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), (c, project, pick) => {
      const parsed = parseProjectConfig(JSON.stringify({ resources: { cpu: c.cpu, memory: c.memory, pods: c.pods }, owners: c.owners, viewers: c.viewers }), testPolicy);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
      const desired = bundle(parsed.config, testPolicy, project);
      const { liveNamespace, live } = world(desired);
      assert.ok(isNoop(planProvision({ project, desired, liveNamespace, live })));
      // drift: someone strips our managed-by label from one object; our field manager still owns it
      const all = [liveNamespace!, ...live];
      const victim = all[pick % all.length]!;
      delete victim.metadata.labels![MANAGED_BY_LABEL];
      const plan = sync(planProvision({ project, desired, liveNamespace, live }));
      assert.equal(names(plan.apply), [`${victim.kind}/${victim.metadata.name}`]);
      assert.equal(plan.prune, []);
      assert.equal(plan.conflicts, []);
    }),
    { numRuns: 300 },
  );
});

// ---- deprovisioning ----

const liveNs = (project = PROJECT, policy = testPolicy) => world(bundle(full, policy, project)).liveNamespace!;

test('deprovision: nothing to do without a namespace; never a namespace that is not ours', () => {
  assert.equal(planDeprovision({ project: PROJECT, policy: testPolicy, reason: 'unconfigured', liveNamespace: undefined, runningWorkflows: 0 }).kind, 'none');
  const plain: LiveObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } };
  assert.is(planDeprovision({ project: PROJECT, policy: deletingPolicy, reason: 'unconfigured', liveNamespace: plain, runningWorkflows: 0 }).kind, 'blocked');
});

test('deprovision waits while workflows run, whatever the policy', () => {
  for (const policy of [testPolicy, deletingPolicy]) {
    const plan = planDeprovision({ project: PROJECT, policy, reason: 'missing-project', liveNamespace: liveNs(), runningWorkflows: 2 });
    assert.is(plan.kind, 'wait');
    assert.ok(isNoop(plan));
    assert.match((plan as { reason: string }).reason, /2 workflow\(s\) still running/);
  }
});

test('retain (the default): nothing deleted, the Namespace marked orphaned; a second pass writes nothing', () => {
  const live = liveNs(PROJECT);
  live.metadata.annotations![CONFIG_SOURCE_ANNOTATION] = 'mediawiki';
  const plan = planDeprovision({ project: PROJECT, policy: testPolicy, reason: 'unconfigured', liveNamespace: live, runningWorkflows: 0 });
  assert.is(plan.kind, 'retain');
  const [marked] = (plan as Extract<DeprovisionPlan, { kind: 'retain' }>).apply;
  assert.equal(marked!.metadata.labels?.[STATE_LABEL], ORPHANED);
  assert.match(marked!.metadata.annotations![ORPHANED_REASON_ANNOTATION]!, /no seakeeper\.yaml/);
  // everything we owned on the Namespace is still in what we apply (one field manager: omitted = dropped)
  assert.is(marked!.metadata.annotations![CONFIG_SOURCE_ANNOTATION], 'mediawiki');
  assert.is(marked!.metadata.labels![MANAGED_BY_LABEL], 'seakeeper');
  const again = planDeprovision({ project: PROJECT, policy: testPolicy, reason: 'unconfigured', liveNamespace: serverView(marked!), runningWorkflows: 0 });
  assert.equal(again, { kind: 'retain', apply: [] });
  assert.ok(isNoop(again));
  // provisioning again removes the mark (we own it, the bundle does not set it)
  const back = sync(planProvision({ project: PROJECT, desired: bundle(), liveNamespace: serverView(marked!), live: world(bundle()).live }));
  assert.equal(names(back.apply), [`Namespace/${NS}`]);
});

test('delete: the Namespace is deleted; one already going is left alone', () => {
  const live = liveNs();
  assert.equal(planDeprovision({ project: PROJECT, policy: deletingPolicy, reason: 'missing-project', liveNamespace: live, runningWorkflows: 0 }), {
    kind: 'delete',
    delete: [{ apiVersion: 'v1', kind: 'Namespace', name: NS }],
  });
  const going = { ...live, metadata: { ...live.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
  assert.is(planDeprovision({ project: PROJECT, policy: deletingPolicy, reason: 'missing-project', liveNamespace: going, runningWorkflows: 0 }).kind, 'none');
});

test('unfinished workflows are counted by Argo’s completed label and phase', () => {
  assert.is(
    countUnfinishedWorkflows([
      { metadata: { labels: { 'workflows.argoproj.io/completed': 'true' } }, status: { phase: 'Succeeded' } },
      { status: { phase: 'Failed' } },
      { status: { phase: 'Error' } },
      { status: { phase: 'Running' } },
      { status: { phase: 'Pending' } },
      {},
    ]),
    3,
  );
});

// ---- planProject: the one call a handler makes ----

test('planProject: configured → provision, unconfigured/missing → deprovision, invalid → reject', () => {
  const live = { namespace: undefined, objects: [], runningWorkflows: 0 };
  const configured: EffectiveConfig = { kind: 'configured', project: PROJECT, source: 'mediawiki', inherited: true, chain: [PROJECT, 'mediawiki'], config: defaultProjectConfig(testPolicy) };
  const provision = planProject(configured, testPolicy, live);
  assert.is(provision.action, 'provision');
  if (provision.action === 'provision') {
    const plan = sync(provision.plan);
    assert.is(plan.apply[0]!.metadata.annotations![CONFIG_SOURCE_ANNOTATION], 'mediawiki');
  }
  assert.equal(planProject({ kind: 'unconfigured', project: PROJECT, chain: [PROJECT] }, testPolicy, live), {
    action: 'deprovision',
    plan: { kind: 'none', reason: `namespace ${NS} does not exist` },
  });
  const gone = planProject({ kind: 'missing-project', project: PROJECT }, deletingPolicy, { ...live, namespace: liveNs() });
  assert.equal(gone.action === 'deprovision' && gone.plan.kind, 'delete');
  const problems = [{ file: 'seakeeper.yaml', path: '/x', line: 1, column: 1, rule: 'additionalProperties', message: 'm' }];
  assert.equal(planProject({ kind: 'invalid', project: PROJECT, source: PROJECT, chain: [PROJECT], problems }, testPolicy, live), { action: 'reject', problems });
});

test.run();
