// The workflow policy at submission, against the rig's real Gerrit and kube-apiserver (support/pipelines.ts
// names the stand-ins): hostile definitions pushed to projects' refs/meta/config, a change pushed to each, the
// CloudEvent gerrit-webhook makes of Gerrit's patchset-created delivered to patchset-created — each refused
// with Verified -1 and a review that names the rule and the field, and no Workflow submitted. Also where a
// definition comes from: an inherited seakeeper.yaml (its file named `<source>:<path>`) and WorkflowTemplates.
// rig: parallel (test/run.ts): a parent project, namespaces and change Leases of its own; no pass over all runs or queues
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mapWithConcurrency } from '../../shared/concurrency.js';
import type { ClusterObject } from '../../shared/k8s/cluster.js';
import { namespaceFor, ARGO_API_VERSION, LEASE_API_VERSION, LEASE_KIND, WORKFLOW_TEMPLATE_KIND } from '../../shared/names.js';
import { changeLeaseName, REJECTION_LEASE, rejectionMarker } from '../../shared/reporting/leases.js';
import { CONFIG_CHECK_TAG } from '../../shared/config/config-check.js';
import { CONFIG_REF } from '../../shared/config/project-config.js';
import { encodeId, GerritRest } from '../../shared/gerrit/rest.js';
import { createProject, pushChange, pushDirect } from '../../dev/gerrit-chores.js';
import { rigConnections } from './support/gerrit.js';
import { podsOf } from './support/argo.js';
import { safeText } from '../../shared/runs/workflow.js';
import {
  botVerified,
  changeDetail,
  configuredProject,
  deliver,
  gerritEvent,
  pipelineMessages,
  runsOf,
  startPipelineStack,
  waitForRuns,
  type PipelineStack,
} from './support/pipelines.js';
import { deleteNamespacesOf, hideProjects } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const rig = loadRig();
const { admin: adminConnection } = rigConnections(rig);
const PARENT = `it-${uniqueSuffix()}-policy`;
const SEAKEEPER_YAML = 'pipelines:\n  check: { workflow: ci/check.yaml }\n';
/** The rig's group of the bot (test/rig/rig.sh BOT_GROUP). */
const BOT_GROUP = 'Seakeeper CI';
const created: string[] = [];
/** Where the pipeline functions claim their posts (support/pipeline-rbac.ts). */
const SYSTEM_NAMESPACE = 'seakeeper-system';

let stack: PipelineStack;

test.before(async () => {
  stack = await startPipelineStack(rig, PARENT);
  // The config check votes on changes to refs/meta/config: the rig lets the bot vote on refs/heads/* only.
  const rest = new GerritRest(adminConnection);
  const group = await rest.json<{ id: string }>('GET', `groups/${encodeId(BOT_GROUP)}`);
  await rest.json('POST', `projects/${encodeId(PARENT)}/access`, {
    body: { add: { [CONFIG_REF]: { permissions: { 'label-Verified': { label: 'Verified', rules: { [group.id]: { action: 'ALLOW', min: -1, max: 1 } } } } } } },
  });
});

test.after(async () => {
  await stack?.stop();
  await deleteNamespacesOf(stack.cluster, created);
  await hideProjects(adminConnection, [PARENT, ...created]);
});

/** A Workflow whose one template is `template` (YAML flow mapping), with `spec` added to its spec. */
const workflow = (template: string, spec = '', metadata = '{ generateName: check- }') =>
  `apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: ${metadata}\nspec:\n  entrypoint: main\n${spec}  templates:\n    - ${template}\n`;
const container = (extra = '') => `{ name: main, container: { image: busybox, command: ["true"]${extra} } }`;

/** Definitions a project owner might push, each with the rule that refuses it and the field it names. */
const HOSTILE: { name: string; text: string; rule: string; field: string }[] = [
  { name: 'privileged', text: workflow(container(', securityContext: { privileged: true }')), rule: 'privileged', field: '/spec/templates/0/container/securityContext/privileged' },
  { name: 'capabilities', text: workflow(container(', securityContext: { capabilities: { add: [SYS_ADMIN] } }')), rule: 'capabilities', field: '/spec/templates/0/container/securityContext/capabilities/add' },
  { name: 'privilege-escalation', text: workflow(container(', securityContext: { allowPrivilegeEscalation: true }')), rule: 'privilege-escalation', field: 'allowPrivilegeEscalation' },
  { name: 'host-network', text: workflow(container(), '  hostNetwork: true\n'), rule: 'host-namespace', field: '/spec/hostNetwork' },
  // Argo's WorkflowSpec has hostNetwork but no hostPID: Argo would not read it; refused as such.
  { name: 'host-pid', text: workflow(container(), '  hostPID: true\n'), rule: 'unknown-field', field: '/spec/hostPID' },
  { name: 'host-path', text: workflow(container(), '  volumes: [{ name: root, hostPath: { path: / } }]\n'), rule: 'host-path', field: '/spec/volumes/0/hostPath' },
  { name: 'nfs', text: workflow(container(), '  volumes: [{ name: share, nfs: { server: nfs.example.org, path: /export } }]\n'), rule: 'volume-type', field: '/spec/volumes/0/nfs' },
  { name: 'host-port', text: workflow(container(', ports: [{ containerPort: 80, hostPort: 80 }]')), rule: 'host-port', field: '/spec/templates/0/container/ports/0/hostPort' },
  { name: 'pod-spec-patch', text: workflow(container(), "  podSpecPatch: '{\"hostNetwork\": true}'\n"), rule: 'pod-spec-patch', field: '/spec/podSpecPatch' },
  // Argo's decoder ignores case: spelled otherwise, the same patch would pass the rule above and still apply.
  { name: 'pod-spec-patch-case', text: workflow(container(), "  PodSpecPatch: '{\"hostNetwork\": true}'\n"), rule: 'unknown-field', field: '/spec/PodSpecPatch' },
  { name: 'priority-class-case', text: workflow('{ name: main, PriorityClassName: system-cluster-critical, container: { image: busybox, command: ["true"] } }'), rule: 'unknown-field', field: '/spec/templates/0/PriorityClassName' },
  { name: 'resource-template', text: workflow('{ name: main, resource: { action: create, manifest: "kind: ClusterRoleBinding" } }'), rule: 'resource-template', field: '/spec/templates/0/resource' },
  { name: 'http-template', text: workflow('{ name: main, http: { url: "http://169.254.169.254/" } }'), rule: 'agent-template', field: '/spec/templates/0/http' },
  { name: 'service-account', text: workflow('{ name: main, serviceAccountName: cluster-admin, container: { image: busybox } }'), rule: 'service-account', field: '/spec/templates/0/serviceAccountName' },
  { name: 'executor-account', text: workflow(container(), '  executor: { serviceAccountName: argo-server }\n'), rule: 'executor-service-account', field: '/spec/executor/serviceAccountName' },
  { name: 'cluster-template', text: workflow('{ name: main, steps: [[{ name: s, templateRef: { name: t, template: main, clusterScope: true } }]] }'), rule: 'cluster-scope', field: 'clusterScope' },
  { name: 'forged-label', text: workflow(container(), '', '{ labels: { seakeeper.dev/change: "1" } }'), rule: 'reserved-metadata', field: '/metadata/labels/seakeeper.dev~1change' },
  { name: 'shutdown', text: workflow(container(), '  shutdown: Stop\n'), rule: 'reserved-field', field: '/spec/shutdown' },
  { name: 'unsafe-sysctl', text: workflow(container(), '  securityContext: { sysctls: [{ name: kernel.msgmax, value: "65536" }] }\n'), rule: 'sysctl', field: '/spec/securityContext/sysctls/0' },
  { name: 'above-quota', text: workflow(container(', resources: { requests: { cpu: "64" } }')), rule: 'resources-above-quota', field: '/spec/templates/0/container/resources/requests/cpu' },
  { name: 'not-a-workflow', text: 'apiVersion: v1\nkind: Pod\nspec: { containers: [{ name: x, image: busybox }] }\n', rule: 'workflow-kind', field: '/kind' },
];

const rejections = (info: Awaited<ReturnType<typeof changeDetail>>) =>
  pipelineMessages(info).filter((m) => m.message.includes('Seakeeper cannot run the check pipeline'));

test(`${HOSTILE.length} hostile definitions on refs/meta/config: each refused with Verified -1, its rule and field named — before merge by the config check, at submission by the policy`, async () => {
  const outcomes = await mapWithConcurrency(HOSTILE, 4, async (row) => {
    const project = `${PARENT}/${row.name}`;
    created.push(project);
    await createProject(adminConnection, project, PARENT);
    // Proposed for review: the config check (patchset-created on refs/meta/config).
    const proposal = await pushChange(adminConnection, project, { 'seakeeper.yaml': SEAKEEPER_YAML, 'ci/check.yaml': row.text }, `CI: ${row.name}`, CONFIG_REF);
    const checked = await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', proposal, 1));
    // Pushed past review by an owner: the pipelines refuse it when a change would run it.
    await pushDirect(adminConnection, project, CONFIG_REF, { 'seakeeper.yaml': SEAKEEPER_YAML, 'ci/check.yaml': row.text }, `CI: ${row.name}`);
    const change = await pushChange(adminConnection, project, { 'x.txt': row.name }, `Change in ${row.name}`);
    const event = await gerritEvent(stack, 'gerrit.patchset-created', change, 1);
    const answer = await deliver(stack.functions['patchset-created'], event);
    // Redelivered: the rejection is on the change already, nothing is posted twice.
    const again = await deliver(stack.functions['patchset-created'], event);
    return { row, project, proposal, checked, change, answer, again };
  });
  const failures: string[] = [];
  for (const { row, project, proposal, checked, change, answer, again } of outcomes) {
    const review = await changeDetail(stack, project, proposal._number);
    const check = (review.messages ?? []).filter((m) => m.tag === CONFIG_CHECK_TAG);
    const checkProblems = [
      checked.status === 204 ? '' : `config check answered ${checked.status} ${checked.body}`,
      check.length === 1 ? '' : `${check.length} config check messages`,
      botVerified(stack, review) === -1 ? '' : `config check Verified ${botVerified(stack, review)}`,
      check[0]?.message.includes(`[${row.rule}]`) ? '' : `config check: rule [${row.rule}] not named`,
      check[0]?.message.includes(row.field) ? '' : `config check: field ${row.field} not named`,
    ].filter(Boolean);
    if (checkProblems.length > 0) failures.push(`${row.name} (config check): ${checkProblems.join('; ')}\n${check[0]?.message ?? ''}`);
    const info = await changeDetail(stack, project, change._number);
    const posted = rejections(info);
    const message = posted[0]?.message ?? '';
    const problems = [
      answer.status === 204 ? '' : `answered ${answer.status} ${answer.body}`,
      again.status === 204 ? '' : `redelivery answered ${again.status}`,
      posted.length === 1 ? '' : `${posted.length} rejection messages`,
      botVerified(stack, info) === -1 ? '' : `Verified ${botVerified(stack, info)}`,
      message.includes(`ci/check.yaml breaks the workflow policy`) ? '' : 'no header',
      message.includes(`[${row.rule}]`) ? '' : `rule [${row.rule}] not named`,
      message.includes(row.field) ? '' : `field ${row.field} not named`,
      (await runsOf(stack, project, change._number)).length === 0 ? '' : 'a Workflow was submitted',
    ].filter(Boolean);
    if (problems.length > 0) failures.push(`${row.name}: ${problems.join('; ')}\n${message}`);
  }
  assert.equal(failures, []);
});

test('an inherited seakeeper.yaml: the parent\'s definition is checked, and named as <source>:<path> in the review', async () => {
  const family = `${PARENT}/family`;
  const child = `${family}/child`;
  created.push(family, child);
  await createProject(adminConnection, family, PARENT);
  await pushDirect(adminConnection, family, 'refs/meta/config', { 'seakeeper.yaml': SEAKEEPER_YAML, 'ci/check.yaml': HOSTILE[0]!.text }, 'CI for the family');
  await createProject(adminConnection, child, family);
  const change = await pushChange(adminConnection, child, { 'x.txt': 'x' }, 'Change in an inheriting project');
  const answer = await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', change, 1));
  assert.is(answer.status, 204, answer.body);
  const [message] = rejections(await changeDetail(stack, child, change._number));
  assert.match(message!.message, `${family}:ci/check.yaml breaks the workflow policy`);
  assert.match(message!.message, `${family}:ci/check.yaml:`);
});

test('a refused definition, its event delivered three times at once (both ingress paths, a Broker retry): one rejection, claimed on the change\'s Lease', async () => {
  const project = `${PARENT}/thrice`;
  created.push(project);
  await createProject(adminConnection, project, PARENT);
  await pushDirect(adminConnection, project, CONFIG_REF, { 'seakeeper.yaml': SEAKEEPER_YAML, 'ci/check.yaml': HOSTILE[0]!.text }, 'CI: privileged');
  const change = await pushChange(adminConnection, project, { 'x.txt': 'thrice' }, 'Refused, thrice delivered');
  const event = await gerritEvent(stack, 'gerrit.patchset-created', change, 1);
  const answers = await Promise.all([1, 2, 3].map(() => deliver(stack.functions['patchset-created'], event)));
  assert.equal(answers.map((a) => a.status), [204, 204, 204], answers.map((a) => a.body).join('\n'));
  const info = await changeDetail(stack, project, change._number);
  assert.is(rejections(info).length, 1);
  assert.is(botVerified(stack, info), -1);
  const lease = await stack.cluster.get<ClusterObject>(LEASE_API_VERSION, LEASE_KIND, SYSTEM_NAMESPACE, changeLeaseName(REJECTION_LEASE, project, change._number));
  assert.is(lease?.metadata.annotations?.[rejectionMarker('check').done], change.current_revision);
  assert.is((await deliver(stack.functions['patchset-created'], event)).status, 204);
  assert.is(rejections(await changeDetail(stack, project, change._number)).length, 1);
});

test('a WorkflowTemplate in the namespace: checked, and the run carries the spec that was checked; a missing one is refused by name', async () => {
  const project = `${PARENT}/templated`;
  created.push(project);
  const namespace = await configuredProject(rig, stack, project, { 'seakeeper.yaml': 'pipelines:\n  check: { workflowTemplate: ci-check }\n' });
  const missing = await pushChange(adminConnection, project, { 'x.txt': '1' }, 'Before the template exists');
  assert.is((await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', missing, 1))).status, 204);
  assert.match(rejections(await changeDetail(stack, project, missing._number))[0]!.message, '[workflow-template-missing]');

  await stack.cluster.create({
    apiVersion: ARGO_API_VERSION,
    kind: WORKFLOW_TEMPLATE_KIND,
    metadata: { name: 'ci-check', namespace },
    spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox', command: ['true'] } }] },
  } as ClusterObject);
  const change = await pushChange(adminConnection, project, { 'x.txt': '2' }, 'With the template');
  assert.is((await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', change, 1))).status, 204);
  const [run] = await waitForRuns(stack, project, change._number, 1);
  // Not a reference Argo would resolve when the run starts (the template's owners may change it meanwhile):
  // the spec the policy judged, with the change's environment on its container.
  assert.is(run!.spec?.workflowTemplateRef, undefined);
  const [main] = run!.spec?.templates as Array<{ name: string; container: Record<string, unknown> }>;
  assert.is(main!.name, 'main');
  assert.equal([main!.container.image, main!.container.command, main!.container.envFrom], ['busybox', ['true'], [{ configMapRef: { name: run!.metadata.name } }]]);
  assert.is(run!.metadata.namespace, namespaceFor(project));
});

test('change text a definition splices into a shell, whole parameter and annotation sets included, reaches the pod as inert text', async () => {
  const project = `${PARENT}/spliced`;
  created.push(project);
  const spliced = workflow(
    '{ name: main, container: { image: busybox, command: [sh, -c], args: ["echo {{workflow.parameters.subject}} {{workflow.parameters.branch}}; echo \'{{workflow.parameters.json}}\'; echo \'{{workflow.annotations.json}}\'"] } }',
  );
  await configuredProject(rig, stack, project, { 'seakeeper.yaml': SEAKEEPER_YAML, 'ci/check.yaml': spliced });
  const subject = `pwn $(touch /tmp/pwned) \`id\` {{workflow.uid}} {{=sprig.env('HOME')}} 'quote' "dq"`;
  const change = await pushChange(adminConnection, project, { 'x.txt': '1' }, subject);
  assert.is((await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', change, 1))).status, 204);
  const [run] = await waitForRuns(stack, project, change._number, 1);
  const [pod] = await podsOf(stack.cluster, { namespace: run!.metadata.namespace!, name: run!.metadata.name });
  const main = pod!.spec.containers.find((c) => c.name === 'main') as { args?: string[] } | undefined;
  const script = main!.args!.join(' ');
  // Argo substituted all of it; what came from the change is in its safe form, and nothing of it is live.
  assert.match(script, `echo ${safeText(subject)} master;`);
  for (const live of ['$(touch', '`id`', "'quote'", '"dq"', '{{', run!.metadata.uid!]) assert.not.ok(script.includes(live), `${live} in ${script}`);
  // The exact subject is there for a step that wants it, in the environment the kubelet fills.
  const environment = (await stack.cluster.get<ClusterObject & { data: Record<string, string> }>('v1', 'ConfigMap', run!.metadata.namespace!, run!.metadata.name))!;
  assert.is(environment.data.SEAKEEPER_SUBJECT, subject);
});

test.run();
