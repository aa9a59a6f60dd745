import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkConfigChange } from '../../shared/config/config-check.js';
import { formatProblem } from '../../shared/config/yaml.js';
import {
  checkDefinition,
  checkWorkflowTemplate,
  enforceWorkflowPolicy,
  POLICY_RULES,
  validateWorkflow,
  workflowValidator,
} from '../../shared/pipelines/workflow-policy.js';
import { testPolicy } from './support/policy.js';
import { BENIGN_WORKFLOW, pipeline } from './support/pipelines.js';

const FILE = 'ci/check.yaml';

/** A Workflow whose one template (and spec) take the given YAML, indented in place. */
function workflow(options: { spec?: string; template?: string; metadata?: string; top?: string } = {}): string {
  const indent = (text: string, n: number) => text.trim().replace(/\n/g, `\n${' '.repeat(n)}`);
  return `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: check-${options.metadata ? `\n  ${indent(options.metadata, 2)}` : ''}
spec:
  entrypoint: main${options.spec ? `\n  ${indent(options.spec, 2)}` : ''}
  templates:
    - name: main
      ${options.template ? indent(options.template, 6) : 'container: { image: alpine, command: [make, test] }'}
${options.top ?? ''}`;
}

const privileged = 'securityContext: { privileged: true }';

// [description, definition text, rule, JSON pointer of the offending field]
const HOSTILE: Array<[string, string, string, string]> = [
  ['privileged container', workflow({ template: `container: { image: alpine, ${privileged} }` }), POLICY_RULES.privileged, '/spec/templates/0/container/securityContext/privileged'],
  ['allowPrivilegeEscalation: true', workflow({ template: 'container: { image: alpine, securityContext: { allowPrivilegeEscalation: true } }' }), POLICY_RULES.privilegeEscalation, '/spec/templates/0/container/securityContext/allowPrivilegeEscalation'],
  ['added capabilities', workflow({ template: 'container: { image: alpine, securityContext: { capabilities: { add: [SYS_ADMIN] } } }' }), POLICY_RULES.capabilities, '/spec/templates/0/container/securityContext/capabilities/add'],
  ['unmasked /proc', workflow({ template: 'container: { image: alpine, securityContext: { procMount: Unmasked } }' }), POLICY_RULES.procMount, '/spec/templates/0/container/securityContext/procMount'],
  ['seccomp Unconfined', workflow({ spec: 'securityContext: { seccompProfile: { type: Unconfined } }' }), POLICY_RULES.seccomp, '/spec/securityContext/seccompProfile/type'],
  ['AppArmor Unconfined', workflow({ template: 'container: { image: alpine, securityContext: { appArmorProfile: { type: Unconfined } } }' }), POLICY_RULES.apparmor, '/spec/templates/0/container/securityContext/appArmorProfile/type'],
  ['SELinux user', workflow({ template: 'container: { image: alpine, securityContext: { seLinuxOptions: { user: system_u } } }' }), POLICY_RULES.selinux, '/spec/templates/0/container/securityContext/seLinuxOptions/user'],
  ['an unsafe sysctl', workflow({ spec: 'securityContext: { sysctls: [{ name: kernel.msgmax, value: "65536" }] }' }), POLICY_RULES.sysctl, '/spec/securityContext/sysctls/0'],
  ['hostNetwork', workflow({ spec: 'hostNetwork: true' }), POLICY_RULES.hostNamespace, '/spec/hostNetwork'],
  // Argo's templates have no hostPID or hostIPC: not read at all, so refused as keys Argo does not have there.
  ['hostPID in a template', workflow({ template: 'hostPID: true\ncontainer: { image: alpine }' }), POLICY_RULES.unknownField, '/spec/templates/0/hostPID'],
  ['hostIPC in templateDefaults', workflow({ spec: 'templateDefaults: { hostIPC: true }' }), POLICY_RULES.unknownField, '/spec/templateDefaults/hostIPC'],
  ['hostPath in spec.volumes', workflow({ spec: 'volumes: [{ name: root, hostPath: { path: / } }]' }), POLICY_RULES.hostPath, '/spec/volumes/0/hostPath'],
  ['hostPath in a template', workflow({ template: 'container: { image: alpine }\nvolumes: [{ name: sock, hostPath: { path: /var/run/docker.sock } }]' }), POLICY_RULES.hostPath, '/spec/templates/0/volumes/0/hostPath'],
  ['an NFS volume', workflow({ spec: 'volumes: [{ name: data, nfs: { server: nfs.internal, path: /export } }]' }), POLICY_RULES.volumeType, '/spec/volumes/0/nfs'],
  ['hostPort', workflow({ template: 'container: { image: alpine, ports: [{ containerPort: 80, hostPort: 80 }] }' }), POLICY_RULES.hostPort, '/spec/templates/0/container/ports/0/hostPort'],
  ['podSpecPatch on the spec', workflow({ spec: 'podSpecPatch: \'{"hostNetwork": true}\'' }), POLICY_RULES.podSpecPatch, '/spec/podSpecPatch'],
  ['podSpecPatch on a template', workflow({ template: 'container: { image: alpine }\npodSpecPatch: "{}"' }), POLICY_RULES.podSpecPatch, '/spec/templates/0/podSpecPatch'],
  ['a resource template', workflow({ template: 'resource: { action: create, manifest: "apiVersion: v1\\nkind: Pod" }' }), POLICY_RULES.resourceTemplate, '/spec/templates/0/resource'],
  ['an http template', workflow({ template: 'http: { url: "http://kubernetes.default" }' }), POLICY_RULES.agentTemplate, '/spec/templates/0/http'],
  ['a plugin template', workflow({ template: 'plugin: { hello: {} }' }), POLICY_RULES.agentTemplate, '/spec/templates/0/plugin'],
  ['serviceAccountName override in a template', workflow({ template: 'serviceAccountName: argo-server\ncontainer: { image: alpine }' }), POLICY_RULES.serviceAccount, '/spec/templates/0/serviceAccountName'],
  ['executor service account', workflow({ spec: 'executor: { serviceAccountName: admin }' }), POLICY_RULES.executorServiceAccount, '/spec/executor/serviceAccountName'],
  ['executor service account in a template', workflow({ template: 'executor: { serviceAccountName: admin }\ncontainer: { image: alpine }' }), POLICY_RULES.executorServiceAccount, '/spec/templates/0/executor/serviceAccountName'],
  ['automountServiceAccountToken: false', workflow({ spec: 'automountServiceAccountToken: false' }), POLICY_RULES.automountToken, '/spec/automountServiceAccountToken'],
  ['priorityClassName on a template', workflow({ template: 'priorityClassName: system-cluster-critical\ncontainer: { image: alpine }' }), POLICY_RULES.priorityClass, '/spec/templates/0/priorityClassName'],
  ['a cluster-scoped workflowTemplateRef', workflow({ spec: 'workflowTemplateRef: { name: shared, clusterScope: true }' }), POLICY_RULES.clusterScope, '/spec/workflowTemplateRef/clusterScope'],
  ['a cluster-scoped templateRef in steps', workflow({ template: 'steps: [[{ name: s, templateRef: { name: shared, template: t, clusterScope: true } }]]' }), POLICY_RULES.clusterScope, '/spec/templates/0/steps/0/0/templateRef/clusterScope'],
  ['a cluster-scoped templateRef in a hook', workflow({ spec: 'hooks: { exit: { templateRef: { name: shared, template: t, clusterScope: true } } }' }), POLICY_RULES.clusterScope, '/spec/hooks/exit/templateRef/clusterScope'],
  ['privileged initContainer', workflow({ template: `container: { image: alpine }\ninitContainers: [{ name: init, image: alpine, ${privileged} }]` }), POLICY_RULES.privileged, '/spec/templates/0/initContainers/0/securityContext/privileged'],
  ['privileged sidecar', workflow({ template: `container: { image: alpine }\nsidecars: [{ name: dind, image: docker:dind, ${privileged} }]` }), POLICY_RULES.privileged, '/spec/templates/0/sidecars/0/securityContext/privileged'],
  ['privileged containerSet container', workflow({ template: `containerSet: { containers: [{ name: main, image: alpine, ${privileged} }] }` }), POLICY_RULES.privileged, '/spec/templates/0/containerSet/containers/0/securityContext/privileged'],
  ['privileged script', workflow({ template: `script: { image: alpine, source: "id", ${privileged} }` }), POLICY_RULES.privileged, '/spec/templates/0/script/securityContext/privileged'],
  ['privileged templateDefaults', workflow({ spec: `templateDefaults: { container: { image: alpine, ${privileged} } }` }), POLICY_RULES.privileged, '/spec/templateDefaults/container/securityContext/privileged'],
  ['privileged inline template of a DAG task', workflow({ template: `dag: { tasks: [{ name: t, inline: { container: { image: alpine, ${privileged} } } }] }` }), POLICY_RULES.privileged, '/spec/templates/0/dag/tasks/0/inline/container/securityContext/privileged'],
  ['a mutex in another namespace', workflow({ spec: 'synchronization: { mutexes: [{ name: m, namespace: kube-system }] }' }), POLICY_RULES.synchronization, '/spec/synchronization/mutexes/0/namespace'],
  ['a database semaphore', workflow({ template: 'synchronization: { semaphores: [{ database: { key: k } }] }\ncontainer: { image: alpine }' }), POLICY_RULES.synchronization, '/spec/templates/0/synchronization/semaphores/0/database'],
  ['spec.shutdown', workflow({ spec: 'shutdown: Stop' }), POLICY_RULES.reservedField, '/spec/shutdown'],
  ['a forged Seakeeper label', workflow({ metadata: 'labels: { seakeeper.dev/change: "1" }' }), POLICY_RULES.reservedMetadata, '/metadata/labels/seakeeper.dev~1change'],
  ["Argo's completed label (the controller would ignore the run)", workflow({ spec: 'workflowMetadata: { labels: { workflows.argoproj.io/completed: "true" } }' }), POLICY_RULES.reservedMetadata, '/spec/workflowMetadata/labels/workflows.argoproj.io~1completed'],
  ["Argo's on-exit label on a template's pods (they would outlive a stopped run)", workflow({ template: 'metadata: { labels: { workflows.argoproj.io/on-exit: "true" } }\ncontainer: { image: alpine }' }), POLICY_RULES.reservedMetadata, '/spec/templates/0/metadata/labels/workflows.argoproj.io~1on-exit'],
  ["Argo's node-id annotation on the pods", workflow({ spec: 'podMetadata: { annotations: { workflows.argoproj.io/node-id: other } }' }), POLICY_RULES.reservedMetadata, '/spec/podMetadata/annotations/workflows.argoproj.io~1node-id'],
  ["Argo's kill command annotation", workflow({ metadata: 'annotations: { workflows.argoproj.io/kill-cmd-main: "[true]" }' }), POLICY_RULES.reservedMetadata, '/metadata/annotations/workflows.argoproj.io~1kill-cmd-main'],
  ['ownerReferences', workflow({ metadata: 'ownerReferences: [{ apiVersion: v1, kind: Namespace, name: default, uid: x }]' }), POLICY_RULES.metadata, '/metadata/ownerReferences'],
  ['an invalid label value', workflow({ metadata: 'labels: { team: "core team" }' }), POLICY_RULES.metadata, '/metadata/labels/team'],
  ['an unknown top-level key', workflow({ top: 'extra: 1' }), POLICY_RULES.field, '/extra'],
  ['an inline template inside an inline template (admission reads one level)', workflow({ template: 'dag: { tasks: [{ name: t, inline: { steps: [[{ name: s, inline: { container: { image: alpine } } }]] } }] }' }), POLICY_RULES.nestedInline, '/spec/templates/0/dag/tasks/0/inline/steps/0/0/inline'],
  ['a deadline that is not a number of seconds', workflow({ spec: 'activeDeadlineSeconds: 1h' }), POLICY_RULES.activeDeadline, '/spec/activeDeadlineSeconds'],
  ['a container asking for more than the namespace has', workflow({ template: 'container: { image: alpine, resources: { limits: { memory: 64Gi } } }' }), POLICY_RULES.resources, '/spec/templates/0/container/resources/limits/memory'],
  ['not a Workflow', workflow().replace('kind: Workflow', 'kind: Pod'), 'workflow-kind', '/kind'],
  ['a WorkflowTemplate in a workflow file', workflow().replace('kind: Workflow', 'kind: WorkflowTemplate'), 'workflow-kind', '/kind'],
  ['another API group', workflow().replace('argoproj.io/v1alpha1', 'batch/v1'), 'workflow-api-version', '/apiVersion'],
  ['two YAML documents', `${workflow()}---\n${workflow()}`, 'yaml-multiple-documents', ''],
  ['a YAML alias bomb', `apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  a: &a [x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n`, 'yaml-alias-limit', ''],
  ['5 MiB', `${workflow()}# ${'x'.repeat(5 * 1024 * 1024)}\n`, 'max-size', ''],
  ['a custom YAML tag', workflow({ spec: 'parallelism: !!js/function "f"' }), 'yaml-tag', ''],
];

test(`the hostile table has at least 10 definitions (${HOSTILE.length})`, () => {
  assert.ok(HOSTILE.length >= 10);
});

for (const [description, text, rule, path] of HOSTILE) {
  test(`rejected: ${description} [${rule}]`, () => {
    const result = checkDefinition({ kind: 'file', file: FILE, text }, { resources: { cpu: '4', memory: '8Gi' } });
    assert.is(result.ok, false, `${description} passed the policy`);
    if (result.ok) return;
    assert.equal(
      result.problems.map((p) => [p.rule, p.path]),
      [[rule, path]],
      result.problems.map(formatProblem).join('\n'),
    );
    const [problem] = result.problems;
    assert.is(problem!.file, FILE);
    assert.ok(problem!.line >= 1 && problem!.column >= 1);
    assert.match(formatProblem(problem!), new RegExp(`\\[${rule}\\]$`));
  });
}

// Argo's decoder matches keys to fields case-insensitively and folds ſ to s and the Kelvin sign to k: a key
// spelled otherwise than Argo's field would pass every rule (they look for the exact spelling) and still take
// effect. Each is refused as a key Argo does not have there, naming the field it would be read as.
const SPELLED_OTHERWISE: Array<[string, string, string, string]> = [
  ['PodSpecPatch', workflow({ spec: "PodSpecPatch: '{\"hostNetwork\": true}'" }), '/spec/PodSpecPatch', 'podSpecPatch'],
  ['PodPriorityClassName', workflow({ spec: 'PodPriorityClassName: system-cluster-critical' }), '/spec/PodPriorityClassName', 'podPriorityClassName'],
  ['PriorityClassName in a template', workflow({ template: 'PriorityClassName: system-cluster-critical\ncontainer: { image: alpine }' }), '/spec/templates/0/PriorityClassName', 'priorityClassName'],
  ['WorkflowMetadata', workflow({ spec: 'WorkflowMetadata: { labels: { seakeeper.dev/change: "1" } }' }), '/spec/WorkflowMetadata', 'workflowMetadata'],
  ['HOSTNETWORK', workflow({ spec: 'HOSTNETWORK: true' }), '/spec/HOSTNETWORK', 'hostNetwork'],
  ['ſecurityContext (long s)', workflow({ template: 'container: { image: alpine, ſecurityContext: { privileged: true } }' }), '/spec/templates/0/container/ſecurityContext', 'securityContext'],
  ['Kelvin sign', workflow({ template: 'container: { image: alpine, wor\u212AingDir: /tmp }' }), '/spec/templates/0/container/wor\u212AingDir', 'workingDir'],
  ['a field of another place', workflow({ template: 'container: { image: alpine }\nhostNetwork: true' }), '/spec/templates/0/hostNetwork', ''],
];

for (const [description, text, path, readAs] of SPELLED_OTHERWISE) {
  test(`refused, a key Argo would read past the rules: ${description} [unknown-field]`, () => {
    const result = checkDefinition({ kind: 'file', file: FILE, text });
    assert.not.ok(result.ok, 'accepted');
    if (result.ok) return;
    const found = result.problems.find((p) => p.rule === POLICY_RULES.unknownField && p.path === path);
    assert.ok(found, result.problems.map(formatProblem).join('\n'));
    if (readAs) assert.match(found!.message, `read it as "${readAs}"`);
  });
}

test('keys that are Argo\'s fields, and any key in maps and free-form values, pass', () => {
  const text = workflow({
    spec: 'arguments: { parameters: [{ name: p, value: v }] }\npodMetadata: { labels: { AnyCase: x } }\nnodeSelector: { Disk-Type: ssd }',
    template: 'steps: [[{ name: each, template: main, withItems: [{ AnyKey: 1, nested: { Deep: true } }], arguments: { parameters: [{ name: x, value: "{{item.AnyKey}}" }] } }]]',
  });
  const result = checkDefinition({ kind: 'file', file: FILE, text });
  assert.ok(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n'));
});

test('a rejection is located at line:column in the file', () => {
  const result = checkDefinition({ kind: 'file', file: FILE, text: workflow({ template: 'container:\n  image: alpine\n  securityContext:\n    privileged: true' }) });
  assert.ok(!result.ok);
  if (result.ok) return;
  assert.equal(result.problems.map(formatProblem), [
    'ci/check.yaml:12:23: /spec/templates/0/container/securityContext/privileged: privileged containers are not allowed [privileged]',
  ]);
});

test('every problem of a definition is reported at once', () => {
  const text = workflow({ spec: 'hostNetwork: true\nvolumes: [{ name: r, hostPath: { path: / } }]', template: `container: { image: alpine, ${privileged} }` });
  const result = checkDefinition({ kind: 'file', file: FILE, text });
  assert.ok(!result.ok);
  if (!result.ok) assert.equal(result.problems.map((p) => p.rule).sort(), ['host-namespace', 'host-path', 'privileged']);
});

test('a benign definition passes: root, dropped capabilities, emptyDir, tolerations and hostAliases are fine', () => {
  const text = workflow({
    spec: 'tolerations: [{ key: ci, operator: Exists }]\nhostAliases: [{ ip: 127.0.0.1, hostnames: [db] }]\ndnsPolicy: ClusterFirst\nactiveDeadlineSeconds: 600',
    template: 'container: { image: alpine, securityContext: { runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, capabilities: { drop: [ALL] }, seccompProfile: { type: RuntimeDefault } } }\nvolumes: [{ name: w, emptyDir: {} }, { name: s, secret: { secretName: token } }]',
  });
  const result = checkDefinition({ kind: 'file', file: FILE, text });
  assert.ok(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n'));
  assert.ok(checkDefinition({ kind: 'file', file: FILE, text: BENIGN_WORKFLOW }, { resources: { cpu: '4', memory: '8Gi' } }).ok);
  // Seakeeper's parameters are in their safe form (safeText): any of them may appear anywhere, scripts and shell
  // command lines included.
  for (const template of [
    'script: { image: alpine, command: [sh], source: "git checkout {{workflow.parameters.branch}}" }',
    'container: { image: alpine, command: [/bin/sh, -c], args: ["echo {{ workflow.parameters.subject }}"] }',
    'script: { image: alpine, source: "echo {{=workflow.parameters[\'change_url\']}}" }',
    'script: { image: alpine, source: "git fetch origin {{workflow.parameters.ref}} && git checkout {{workflow.parameters.revision}}" }',
  ]) {
    const checked = checkDefinition({ kind: 'file', file: FILE, text: workflow({ template }) });
    assert.ok(checked.ok, checked.ok ? '' : checked.problems.map(formatProblem).join('\n'));
  }
});

test("Argo's labels and annotations that are not its bookkeeping pass (its examples use them)", () => {
  const text = workflow({
    metadata: 'labels: { workflows.argoproj.io/test: "true", workflows.argoproj.io/archive-strategy: "false" }\nannotations: { workflows.argoproj.io/description: d, workflows.argoproj.io/version: ">= 3.2.0" }',
    spec: 'podMetadata: { labels: { workflows.argoproj.io/test: "true" } }',
  });
  const result = checkDefinition({ kind: 'file', file: FILE, text });
  assert.ok(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n'));
});

test('a checked definition keeps its spec, labels and annotations', () => {
  const result = checkDefinition({ kind: 'file', file: FILE, text: BENIGN_WORKFLOW });
  assert.ok(result.ok);
  if (!result.ok) return;
  assert.is(result.definition.source, FILE);
  assert.equal(result.definition.labels, { team: 'core' });
  assert.equal(result.definition.annotations, { 'workflows.argoproj.io/description': 'Unit tests' });
  assert.is(result.definition.spec.entrypoint, 'main');
});

test('a workflow file that is not on refs/meta/config', () => {
  const result = checkDefinition({ kind: 'file', file: FILE, text: undefined });
  assert.ok(!result.ok);
  if (!result.ok) assert.equal(result.problems.map((p) => [p.rule, p.file]), [['workflow-missing', FILE]]);
});

test('forced: service account, priority class, retention, pod GC; deadlines capped with a note', () => {
  const check = pipeline('check');
  const { spec, notes } = enforceWorkflowPolicy(
    {
      entrypoint: 'main',
      serviceAccountName: 'default',
      activeDeadlineSeconds: 86_400,
      podGC: { strategy: 'OnWorkflowCompletion' },
      templateDefaults: { activeDeadlineSeconds: 7200 },
      templates: [{ name: 'main', activeDeadlineSeconds: '99999' }, { name: 'quick', activeDeadlineSeconds: 60 }, { name: 'param', activeDeadlineSeconds: '{{inputs.parameters.t}}' }],
    },
    check,
  );
  assert.is(spec.serviceAccountName, 'workflow');
  assert.is(spec.podPriorityClassName, 'seakeeper-check');
  assert.equal(spec.ttlStrategy, { secondsAfterSuccess: 172800, secondsAfterFailure: 604800 });
  assert.equal(spec.podGC, { strategy: 'OnPodSuccess' });
  assert.is(spec.activeDeadlineSeconds, 3600);
  assert.is((spec.templateDefaults as { activeDeadlineSeconds: number }).activeDeadlineSeconds, 3600);
  assert.equal(
    (spec.templates as Array<{ activeDeadlineSeconds: unknown }>).map((t) => t.activeDeadlineSeconds),
    [3600, 60, 3600],
  );
  assert.equal(notes, [
    'spec.serviceAccountName "default" is replaced by "workflow" (set by Seakeeper for the check pipeline)',
    'spec.podGC {"strategy":"OnWorkflowCompletion"} is replaced by {"strategy":"OnPodSuccess"} (set by Seakeeper for the check pipeline)',
    "spec.activeDeadlineSeconds 86400 is lowered to 3600, the check pipeline's limit",
    "spec.templateDefaults.activeDeadlineSeconds 7200 is lowered to 3600, the check pipeline's limit",
    "spec.templates[0] (main).activeDeadlineSeconds 99999 is lowered to 3600, the check pipeline's limit",
    // An expression could come out above the limit when Argo resolves it.
    'spec.templates[2] (param).activeDeadlineSeconds "{{inputs.parameters.t}}" is replaced by 3600: a deadline must be a number of seconds here',
  ]);
  // Within the cap, a deadline stays; without one, the cap applies silently.
  assert.is(enforceWorkflowPolicy({ activeDeadlineSeconds: 120 }, check).spec.activeDeadlineSeconds, 120);
  assert.equal(enforceWorkflowPolicy({}, check).notes, []);
  assert.is(enforceWorkflowPolicy({}, check).spec.activeDeadlineSeconds, 3600);
});

test('every pod is bounded: exit handlers and hooks get the run\'s deadline from templateDefaults, inline templates are capped too', () => {
  const check = pipeline('check');
  const { spec } = enforceWorkflowPolicy(
    {
      entrypoint: 'main',
      activeDeadlineSeconds: 300,
      onExit: 'cleanup',
      templates: [
        { name: 'main', steps: [[{ name: 'inner', inline: { container: { image: 'alpine' }, activeDeadlineSeconds: 99999 } }]] },
        { name: 'graph', dag: { tasks: [{ name: 't', inline: { container: { image: 'alpine' }, activeDeadlineSeconds: '{{workflow.parameters.n}}' } }] } },
        { name: 'cleanup', container: { image: 'alpine', command: ['sleep', '100000'] } },
      ],
    },
    check,
  );
  // Argo applies spec.activeDeadlineSeconds to steps only; each pod carries templateDefaults' deadline.
  assert.is((spec.templateDefaults as { activeDeadlineSeconds: number }).activeDeadlineSeconds, 300);
  const templates = spec.templates as Array<Record<string, any>>;
  assert.is(templates[2]!.activeDeadlineSeconds, undefined, 'the exit handler takes templateDefaults');
  assert.is(templates[0]!.steps[0][0].inline.activeDeadlineSeconds, 3600);
  assert.is(templates[1]!.dag.tasks[0].inline.activeDeadlineSeconds, 3600);
});

test('enforcing does not modify the checked definition', () => {
  const spec = { templates: [{ name: 'main', activeDeadlineSeconds: 99999 }] };
  enforceWorkflowPolicy(spec, pipeline('check'));
  assert.is(spec.templates[0]!.activeDeadlineSeconds, 99999);
});

test('WorkflowTemplate pipelines: the template read from the namespace passes the same rules', () => {
  const template = (spec: Record<string, unknown>) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'ci' }, spec });
  const ok = checkDefinition({ kind: 'template', name: 'ci', object: template({ entrypoint: 'main', templates: [{ name: 'main', container: { image: 'alpine' } }] }) });
  assert.ok(ok.ok);
  if (ok.ok) {
    assert.is(ok.definition.source, 'WorkflowTemplate/ci');
    // The spec the policy judged, copied: a change to the template after the check does not reach the run.
    assert.equal(ok.definition.spec, { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'alpine' } }] });
  }
  const bad = checkWorkflowTemplate('ci', template({ templates: [{ name: 'main', container: { image: 'alpine', securityContext: { privileged: true } } }] }));
  assert.equal(bad.map((p) => [p.file, p.path, p.rule]), [['WorkflowTemplate/ci', '/spec/templates/0/container/securityContext/privileged', 'privileged']]);
  assert.equal(checkWorkflowTemplate('ci', undefined).map((p) => p.rule), ['workflow-template-missing']);
  assert.equal(checkWorkflowTemplate('ci', { kind: 'ConfigMap' }).map((p) => p.rule), ['workflow-kind']);
});

test("the policy plugs into the config check's validateWorkflow seam", () => {
  const input = {
    changedFiles: ['ci/check.yaml'],
    seakeeperYaml: 'pipelines:\n  check: { workflow: ci/check.yaml }\n',
    files: ['seakeeper.yaml', 'ci/check.yaml'],
    workflowTexts: new Map([[FILE, workflow({ template: `container: { image: alpine, ${privileged} }` })]]),
  };
  const check = checkConfigChange(input, testPolicy, validateWorkflow);
  assert.ok(check.relevant && check.vote === -1);
  if (check.relevant) {
    assert.match(check.message, /ci\/check\.yaml:9:\d+: \/spec\/templates\/0\/container\/securityContext\/privileged: privileged containers are not allowed \[privileged\]/);
  }
  const fine = checkConfigChange({ ...input, workflowTexts: new Map([[FILE, BENIGN_WORKFLOW]]) }, testPolicy, validateWorkflow);
  assert.ok(fine.relevant && fine.vote === 1);
});

test('with the resources of the seakeeper.yaml under review, the config check refuses a container above them', () => {
  const text = workflow({ template: 'container: { image: alpine, resources: { requests: { cpu: "64" } } }' });
  const input = { changedFiles: ['ci/check.yaml'], seakeeperYaml: 'pipelines:\n  check: { workflow: ci/check.yaml }\n', files: ['seakeeper.yaml', FILE], workflowTexts: new Map([[FILE, text]]) };
  assert.ok(checkConfigChange(input, testPolicy, validateWorkflow).relevant);
  const check = checkConfigChange(input, testPolicy, workflowValidator({ resources: { cpu: '2', memory: '8Gi' } }));
  assert.ok(check.relevant && check.vote === -1 && check.problems.map((p) => p.rule).includes('resources-above-quota'));
});

test.run();
