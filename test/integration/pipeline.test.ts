// The check pipeline end to end against the rig's real Gerrit and kube-apiserver, every function served by the
// functions-framework CLI as in production (support/pipelines.ts): a push to the real Gerrit → the CloudEvent
// gerrit-webhook makes of the event Gerrit's webhooks plugin sends → patchset-created → a Workflow in the
// project's namespace, accepted by the real Argo CRD under strict field validation → run by the rig's real Argo
// workflow-controller, its pods bound by the real kube-scheduler and run by KWOK as the change's subject asks
// (support/argo.ts) → workflow-watch, fed the ApiServerSource's reference event (STAND-IN) → workflow.completed at
// the Broker (STAND-IN) → workflow-completed → the vote and the report, read back from Gerrit. (The reconcile
// pass's share, which acts on every namespace, is in pipeline-missed-reports.test.ts.)
// rig: parallel (test/run.ts): a project, namespace and functions of its own; it acts only on its own runs
import type { CloudEvent } from 'cloudevents';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ARGO_COMPLETED_LABEL, BRANCH_ANNOTATION, CHANGE_URL_ANNOTATION, DEFINITION_ANNOTATION, EVENT_ID_ANNOTATION, PROJECT_ANNOTATION, runOf, safeText, STOPPED_BECAUSE_ANNOTATION, SUPERSEDED_BY_ANNOTATION, type LiveWorkflow, type WorkflowNode } from '../../shared/runs/workflow.js';
import { ARGO_API_VERSION, WORKFLOW_KIND } from '../../shared/names.js';
import { patchWorkflow, readWorkflow, refOfWorkflow } from '../../shared/runs/workflow-store.js';
import { completedEventId } from '../../shared/reporting/completed-event.js';
import { COMPLETED_EVENT_MARKER, REPORT_MARKER, START_MARKER } from '../../shared/reporting/markers.js';
import { CarryOut } from '../../shared/pipelines/carry-out.js';
import { TransientError } from '../../shared/errors.js';
import type { InboundEvent } from '../../shared/events/handler.js';
import type { ClusterObject } from '../../shared/k8s/cluster.js';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { eventually, rejectionOf } from './support/wait.js';
import { encodeId, GerritRest } from '../../shared/gerrit/rest.js';
import { durationMs, formatDuration } from '../../shared/reporting/messages.js';
import { finished, podsOf, podsStopped, running } from './support/argo.js';
import { deadServer } from './support/dead-server.js';
import { serveFunction } from './support/functions.js';
import { newChangeId, pushChange, pushPatchSet } from '../../dev/gerrit-chores.js';
import { rigConnections } from './support/gerrit.js';
import {
  ARGO_UI_URL,
  botVerified,
  changeDetail,
  CLUSTER_URL,
  completedEvent,
  CONFIG_FILES,
  configuredProject,
  deliver,
  gerritEvent,
  pipelineMessages,
  runsOf,
  startPipelineStack,
  waitForRuns,
  workflowTouched,
  type PipelineStack,
} from './support/pipelines.js';
import { deleteNamespacesOf, hideProjects } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const rig = loadRig();
const { admin: adminConnection } = rigConnections(rig);
const suffix = uniqueSuffix();
const PARENT = `it-${suffix}-pipelines`;
const PROJECT = `${PARENT}/app`;
const BLOCKED = `${PARENT}/no-vote`;
/** The rig's group of the bot (test/rig/rig.sh BOT_GROUP). */
const BOT_GROUP = 'Seakeeper CI';


let stack: PipelineStack;
let namespace: string;

test.before(async () => {
  stack = await startPipelineStack(rig, PARENT);
  namespace = await configuredProject(rig, stack, PROJECT, CONFIG_FILES);
});

test.after(async () => {
  await stack?.stop();
  await deleteNamespacesOf(stack.cluster, [PROJECT, BLOCKED]);
  await hideProjects(adminConnection, [PARENT, PROJECT, BLOCKED]);
});

const ok = (answer: { status: number; body: string }, what: string) => assert.ok(answer.status >= 200 && answer.status < 300, `${what}: ${answer.status} ${answer.body}`);
const params = (workflow: LiveWorkflow) =>
  Object.fromEntries(((workflow.spec?.arguments as { parameters: { name: string; value: string }[] }).parameters).map((p) => [p.name, p.value]));

/** A change pushed to the project, its patchset-created delivered to patchset-created; returns it and its run. */
async function pushAndRun(subject: string, project = PROJECT, files: Record<string, string> = { [`src/${subject.length}.txt`]: subject }) {
  const change = await pushChange(adminConnection, project, files, subject);
  const event = await gerritEvent(stack, 'gerrit.patchset-created', change, 1);
  ok(await deliver(stack.functions['patchset-created'], event), 'patchset-created');
  const [run] = await waitForRuns(stack, project, change._number, 1);
  return { change, event, run: run! };
}

/** Argo's controller finishes the run; the ApiServerSource STAND-IN tells workflow-watch; the workflow.completed it emits goes to workflow-completed. */
async function finishAndReport(run: LiveWorkflow): Promise<{ completed: CloudEvent<unknown>; workflow: LiveWorkflow }> {
  const ref = refOfWorkflow(run);
  const workflow = await finished(stack.cluster, ref);
  ok(await deliver(stack.functions['workflow-watch'], workflowTouched(ref)), 'workflow-watch');
  const completed = await completedEvent(stack, ref);
  ok(await deliver(stack.functions['workflow-completed'], completed), 'workflow-completed');
  return { completed, workflow };
}

/** Argo's nodes of a finished run by display name. */
const nodesOf = (workflow: LiveWorkflow): Record<string, WorkflowNode> =>
  Object.fromEntries(Object.values(workflow.status?.nodes ?? {}).map((n) => [String(n.displayName), n]));
/** The report's line for a step, from what Argo wrote of its node. */
const stepLine = (node: WorkflowNode, result: string) => `- ${node.displayName} : ${result} in ${formatDuration(durationMs(node.startedAt, node.finishedAt))}`;

const reports = (info: Awaited<ReturnType<typeof changeDetail>>) => pipelineMessages(info).filter((m) => /Build (succeeded|failed)/.test(m.message));

// --- the path every developer feels ----------------------------------------------------------------------------

let first: Awaited<ReturnType<typeof pushAndRun>>;

test('a pushed patchset runs the project\'s Workflow in its namespace: the change only as parameters, the policy forced', async () => {
  first = await pushAndRun('Add the frobnicator');
  const { change, event, run } = first;
  assert.is(run.metadata.namespace, namespace);
  assert.equal(runOf(run), { ...runOf(run)!, project: PROJECT, pipeline: 'check', change: change._number, patchset: 1, revision: change.current_revision!, branch: 'master', eventId: event.id });
  const spec = run.spec as Record<string, unknown>;
  assert.is(spec.serviceAccountName, 'workflow');
  assert.is(spec.podPriorityClassName, 'seakeeper-check');
  assert.is(spec.activeDeadlineSeconds, 3600);
  assert.equal(spec.podGC, { strategy: 'OnPodSuccess' });
  assert.equal(params(run), {
    project: PROJECT,
    branch: 'master',
    change: String(change._number),
    patchset: '1',
    ref: `refs/changes/${String(change._number % 100).padStart(2, '0')}/${change._number}/1`,
    revision: change.current_revision!,
    change_url: `${rig.GERRIT_URL.replace(/\/$/, '')}/c/${PROJECT}/+/${change._number}`,
    // Text in its safe form (names like these are unchanged by it).
    subject: 'Add%20the%20frobnicator',
    pipeline: 'check',
    php: '8.2',
    // What the checkout merges (SEAKEEPER_CHANGES): here the change alone, since it depends on nothing open.
    changes: safeText(`${PROJECT} master refs/changes/${String(change._number % 100).padStart(2, '0')}/${change._number}/1 ${change.current_revision!}`),
  });
  assert.is(run.metadata.labels?.team, 'core');
  const info = await changeDetail(stack, PROJECT, change._number);
  const [start, ...more] = pipelineMessages(info);
  assert.is(more.length, 0);
  assert.match(start!.message, `Starting check jobs: ${ARGO_UI_URL}workflows/${namespace}/${run.metadata.name}`);
  assert.is(botVerified(stack, info), undefined);
});

test('while the run goes, workflow-watch emits nothing; once Argo finished it, one workflow.completed and Verified +1 with Argo\'s steps in the report', async () => {
  const { change, run } = first;
  const ref = refOfWorkflow(run);
  const unfinished = (await readWorkflow(stack.cluster, ref))!;
  assert.is.not(unfinished.metadata.labels?.[ARGO_COMPLETED_LABEL], 'true', 'lint and the suites take seconds to run');
  ok(await deliver(stack.functions['workflow-watch'], workflowTouched(ref)), 'workflow-watch while it runs');
  assert.is(stack.broker.received.filter((r) => r.event.subject === `${ref.namespace}/${ref.name}`).length, 0, 'nothing emitted for a running Workflow');
  const { completed, workflow: done } = await finishAndReport(run);

  // Argo's own node tree: the DAG, its lint task, the test task's steps with unit and integration side by side.
  const nodes = nodesOf(done);
  assert.is(done.status?.phase, 'Succeeded');
  assert.equal(
    Object.fromEntries(Object.entries(nodes).map(([name, n]) => [name, `${n.type} ${n.phase}`])),
    { [ref.name]: 'DAG Succeeded', lint: 'Pod Succeeded', test: 'Steps Succeeded', '[0]': 'StepGroup Succeeded', unit: 'Pod Succeeded', integration: 'Pod Succeeded' },
  );
  assert.ok(Date.parse(nodes.unit!.startedAt!) >= Date.parse(nodes.lint!.finishedAt!), 'the test task ran after lint');
  // Argo resolved the artifact repository the namespace points at (provisioning's artifact-repositories).
  const repository = done.status?.artifactRepositoryRef as { configMap?: string; namespace?: string } | undefined;
  assert.equal([repository?.configMap, repository?.namespace], ['artifact-repositories', namespace]);
  assert.is(completed.id, completedEventId(done.metadata.uid!, 'Succeeded'));
  assert.is(completed.source, CLUSTER_URL);
  assert.equal([completed.pipeline, completed.gerritproject, completed.gerritchange, completed.gerritpatchset], ['check', PROJECT, String(change._number), '1']);
  assert.is(stack.broker.received.filter((r) => r.event.subject === `${ref.namespace}/${ref.name}`).length, 1, 'one workflow.completed');

  const info = await changeDetail(stack, PROJECT, change._number);
  assert.is(botVerified(stack, info), 1);
  const [report, ...others] = reports(info);
  assert.is(others.length, 0);
  assert.is(report!._revision_number, 1);
  assert.match(report!.message, 'Patch Set 1: Verified+1');
  assert.match(report!.message, 'Build succeeded (check pipeline).');
  assert.match(report!.message, `${ARGO_UI_URL}workflows/${namespace}/${run.metadata.name} : SUCCESS in ${formatDuration(durationMs(done.status?.startedAt, done.status?.finishedAt))}`);
  // Each step as Argo wrote it: its name, its phase and its duration, in the order the steps started.
  const lines = ['lint', 'integration', 'unit'].map((name) => stepLine(nodes[name]!, 'SUCCESS'));
  for (const line of lines) assert.ok(report!.message.split('\n').includes(line), `${line} in:\n${report!.message}`);
  assert.ok(report!.message.indexOf(lines[0]!) < report!.message.indexOf(lines[1]!), 'lint first');
  const marked = (await readWorkflow(stack.cluster, ref))!;
  assert.is(marked.metadata.annotations?.[REPORT_MARKER.done], 'Succeeded');
  assert.is(marked.metadata.annotations?.[COMPLETED_EVENT_MARKER.done], 'Succeeded');
});

test('a failing step fails the run: Verified -1, and the report names the step with the message Argo wrote for it', async () => {
  const { change, run } = await pushAndRun('Break the frobnicator [fail unit]');
  const { workflow: done } = await finishAndReport(run);
  assert.is(done.status?.phase, 'Failed');
  const nodes = nodesOf(done);
  assert.equal([nodes.lint!.phase, nodes.unit!.phase, nodes.integration!.phase], ['Succeeded', 'Failed', 'Succeeded']);
  // Argo's words for a main container that exited 2 with a termination message.
  assert.is(nodes.unit!.message, 'main: Error (exit code 2): unit failed');
  const info = await changeDetail(stack, PROJECT, change._number);
  assert.is(botVerified(stack, info), -1);
  const [report] = reports(info);
  assert.match(report!.message, 'Patch Set 1: Verified-1');
  assert.match(report!.message, 'Build failed (check pipeline).');
  assert.match(report!.message, `: FAILURE in ${formatDuration(durationMs(done.status?.startedAt, done.status?.finishedAt))}`);
  if (done.status?.message) assert.match(report!.message, `\nArgo: ${done.status.message}`);
  assert.ok(report!.message.split('\n').includes(`${stepLine(nodes.unit!, 'FAILURE')} — main: Error (exit code 2): unit failed`), report!.message);
  assert.ok(report!.message.split('\n').includes(stepLine(nodes.integration!, 'SUCCESS')), report!.message);
});

test('a comment that is no command is acknowledged without a run', async () => {
  await stack.admin.postReview(`${PROJECT}~${first.change._number}`, 'current', { message: 'Looks good to me, but please recheck the docs', notify: 'NONE' });
  const comment = await gerritEvent(stack, 'gerrit.comment-added', first.change, 1, (e) => String((e.data as { comment?: string }).comment).includes('docs'));
  ok(await deliver(stack.functions['comment-added'], comment), 'comment-added');
  assert.is((await runsOf(stack, PROJECT, first.change._number)).length, 1);
});

test('recheck runs the pipeline again — a new Workflow for the same patchset, reported again', async () => {
  const { change } = first;
  await stack.admin.postReview(`${PROJECT}~${change._number}`, 'current', { message: 'recheck', notify: 'NONE' });
  const comment = await gerritEvent(stack, 'gerrit.comment-added', change, 1, (e) => String((e.data as { comment?: string }).comment).endsWith('recheck'));
  ok(await deliver(stack.functions['comment-added'], comment), 'comment-added');
  const runs = await waitForRuns(stack, PROJECT, change._number, 2);
  const rerun = runs.find((r) => r.metadata.name !== first.run.metadata.name)!;
  assert.is(runOf(rerun)!.eventId, comment.id);
  assert.is(runOf(rerun)!.patchset, 1);
  await finishAndReport(rerun);
  const info = await changeDetail(stack, PROJECT, change._number);
  assert.is(botVerified(stack, info), 1);
  assert.is(reports(info).length, 2);
});

test('a new patchset stops the run of the old one: Argo itself ends it as Failed, its pods stop, and it is never reported; only the new one is', async () => {
  const changeId = newChangeId();
  const ps1 = await pushPatchSet(adminConnection, PROJECT, changeId, { 'a.txt': 'one\n' }, 'Two patchsets [slow]');
  ok(await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', ps1, 1)), 'patchset-created 1');
  const [old] = await waitForRuns(stack, PROJECT, ps1._number, 1);
  await running(stack.cluster, refOfWorkflow(old!));
  await pushPatchSet(adminConnection, PROJECT, changeId, { 'a.txt': 'two\n' }, 'Two patchsets');
  ok(await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', ps1, 2)), 'patchset-created 2');
  const runs = await waitForRuns(stack, PROJECT, ps1._number, 2);
  const stopped = (await readWorkflow(stack.cluster, refOfWorkflow(old!)))!;
  const current = runs.find((r) => r.metadata.name !== old!.metadata.name)!;
  assert.is(stopped.spec?.shutdown, 'Terminate');
  assert.is(stopped.metadata.annotations?.[SUPERSEDED_BY_ANNOTATION], current.metadata.name);

  // Argo ends a terminated run as Failed long before its five minutes; workflow-watch still emits, workflow-completed reports nothing.
  const { workflow: ended } = await finishAndReport(stopped);
  assert.is(ended.status?.phase, 'Failed');
  assert.is(ended.status?.message, 'Stopped with strategy \'Terminate\'');
  assert.match(String(nodesOf(ended).lint!.message), /shutdown with strategy: +Terminate/);
  await podsStopped(stack.cluster, refOfWorkflow(stopped));
  await finishAndReport(current);
  const info = await changeDetail(stack, PROJECT, ps1._number);
  const [report, ...others] = reports(info);
  assert.is(others.length, 0, 'only the new patchset is reported');
  assert.is(report!._revision_number, 2);
  assert.is(botVerified(stack, info), 1);
  assert.is((await readWorkflow(stack.cluster, refOfWorkflow(old!)))!.metadata.annotations?.[REPORT_MARKER.done], undefined);
});

test('every event delivered three times at once: one Workflow, one start message, one workflow.completed, one vote', async () => {
  const change = await pushChange(adminConnection, PROJECT, { 'b.txt': 'x\n' }, 'Delivered thrice');
  const event = await gerritEvent(stack, 'gerrit.patchset-created', change, 1);
  const thrice = async (to: keyof PipelineStack['functions'], e: CloudEvent<unknown>) =>
    (await Promise.all([1, 2, 3].map(() => deliver(stack.functions[to], e)))).forEach((a) => ok(a, to));
  await thrice('patchset-created', event);
  const [run] = await waitForRuns(stack, PROJECT, change._number, 1);
  const ref = refOfWorkflow(run!);
  await finished(stack.cluster, ref);
  await thrice('workflow-watch', workflowTouched(ref));
  const completed = stack.broker.received.filter((r) => r.event.subject === `${ref.namespace}/${ref.name}`).map((r) => r.event);
  assert.is(completed.length, 1, 'workflow-watch emitted once');
  await thrice('workflow-completed', completed[0]!);
  const info = await changeDetail(stack, PROJECT, change._number);
  assert.is(pipelineMessages(info).filter((m) => m.message.includes('Starting check jobs')).length, 1);
  assert.is(reports(info).length, 1);
  assert.is(botVerified(stack, info), 1);
  assert.is((await runsOf(stack, PROJECT, change._number)).length, 1);
});

test('stopping the superseded run fails after the new run was created: its start message is posted all the same, once, and the redelivery stops the old run', async () => {
  const changeId = newChangeId();
  const ps1 = await pushPatchSet(adminConnection, PROJECT, changeId, { 'stop.txt': 'one\n' }, 'Stop fails [slow]');
  ok(await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', ps1, 1)), 'patchset-created 1');
  const [old] = await waitForRuns(stack, PROJECT, ps1._number, 1);
  await pushPatchSet(adminConnection, PROJECT, changeId, { 'stop.txt': 'two\n' }, 'Stop fails');
  const event = await gerritEvent(stack, 'gerrit.patchset-created', ps1, 2);

  // patchset-created as its own ServiceAccount, in this process, the API server refusing the stop order (a patch
  // of the old run) as one that answers 503 would.
  const own = httpClusterFromEnv({ KUBECONFIG: stack.kubeconfigs['patchset-created'] });
  const refusing = new Proxy(own, {
    get: (target, name) => {
      const method = (Reflect.get(target, name) as (...args: unknown[]) => unknown).bind(target);
      if (name !== 'patch') return method;
      return async (obj: ClusterObject, resourceVersion: string) => {
        if (obj.metadata.name === old!.metadata.name) throw new TransientError('the API server answered 503 Service Unavailable');
        return method(obj, resourceVersion);
      };
    },
  });
  const { err } = await rejectionOf(CarryOut.fromEnv(stack.env['patchset-created'], { cluster: refusing }).handle(event as unknown as InboundEvent));
  assert.instance(err, TransientError);
  assert.is((await runsOf(stack, PROJECT, ps1._number)).length, 2, 'the new run was created before the stop failed');
  assert.is((await readWorkflow(stack.cluster, refOfWorkflow(old!)))!.spec?.shutdown, undefined);
  const starts = async () => pipelineMessages(await changeDetail(stack, PROJECT, ps1._number)).filter((m) => m.message.includes('Starting check jobs') && m._revision_number === 2);

  // Knative redelivers: the run is there (AlreadyExists), the stop goes through, the start message is there once.
  ok(await deliver(stack.functions['patchset-created'], event), 'patchset-created 2, redelivered');
  assert.is((await readWorkflow(stack.cluster, refOfWorkflow(old!)))!.spec?.shutdown, 'Terminate');
  assert.is((await starts()).length, 1);
  const current = (await runsOf(stack, PROJECT, ps1._number)).find((r) => r.metadata.name !== old!.metadata.name)!;
  assert.is(current.metadata.annotations?.[START_MARKER.done], 'start');
  ok(await deliver(stack.functions['patchset-created'], event), 'patchset-created 2, again');
  assert.is((await starts()).length, 1);
});

test('a report waits while the run\'s start message is being posted (the start resets the vote): retried, then posted after it', async () => {
  const { change, run } = await pushAndRun('Start still posting');
  const ref = refOfWorkflow(run);
  await finished(stack.cluster, ref);
  ok(await deliver(stack.functions['workflow-watch'], workflowTouched(ref)), 'workflow-watch');
  const completed = await completedEvent(stack, ref);
  // As a start message delivery at work right now would leave the run.
  const now = new Date().toISOString();
  const workflow = (await readWorkflow(stack.cluster, ref))!;
  const claimed = await patchWorkflow(stack.cluster, ref, { metadata: { annotations: { [START_MARKER.done]: null, [START_MARKER.claim]: `start ${now}` } } }, workflow.metadata.resourceVersion!);
  const answer = await deliver(stack.functions['workflow-completed'], completed);
  assert.ok(answer.status >= 500, `workflow-completed answered ${answer.status}: Knative must retry`);
  assert.is(reports(await changeDetail(stack, PROJECT, change._number)).length, 0);
  await patchWorkflow(stack.cluster, ref, { metadata: { annotations: { [START_MARKER.claim]: null, [START_MARKER.done]: 'start' } } }, claimed.metadata.resourceVersion!);
  ok(await deliver(stack.functions['workflow-completed'], completed), 'workflow-completed, retried');
  assert.is(reports(await changeDetail(stack, PROJECT, change._number)).length, 1);
});

test('work in progress runs nothing; marked ready for review (gerrit.wip-state-changed, routed to patchset-created), it runs', async () => {
  const change = await pushChange(adminConnection, PROJECT, { 'w.txt': 'x\n' }, 'Not ready yet');
  const id = encodeId(`${PROJECT}~${change._number}`);
  const rest = new GerritRest(adminConnection);
  await rest.json('POST', `changes/${id}/wip`, { body: {} });
  const intoWip = await gerritEvent(stack, 'gerrit.wip-state-changed', change, 1);
  ok(await deliver(stack.functions['patchset-created'], intoWip), 'patchset-created (into WIP)');
  assert.is((await runsOf(stack, PROJECT, change._number)).length, 0);
  await rest.json('POST', `changes/${id}/ready`, { body: {} });
  const ready = await gerritEvent(stack, 'gerrit.wip-state-changed', change, 1, (e) => e.id !== intoWip.id);
  ok(await deliver(stack.functions['patchset-created'], ready), 'patchset-created (ready)');
  const [run] = await waitForRuns(stack, PROJECT, change._number, 1);
  assert.is(runOf(run!)!.eventId, ready.id);
});

test('a delivery that died after posting (its claim expired, no done marker): the next finds the report on the change, posts nothing', async () => {
  const { change, run } = await pushAndRun('Reporter crashed');
  const { completed } = await finishAndReport(run);
  const ref = refOfWorkflow(run);
  // As a delivery that crashed between posting and marking done would have left it, its claim long expired.
  const reported = (await readWorkflow(stack.cluster, ref))!;
  const expired = new Date(Date.now() - 60 * 60_000).toISOString();
  await patchWorkflow(stack.cluster, ref, { metadata: { annotations: { [REPORT_MARKER.done]: null, [REPORT_MARKER.claim]: `Succeeded ${expired}` } } }, reported.metadata.resourceVersion!);
  ok(await deliver(stack.functions['workflow-completed'], completed), 'workflow-completed');
  assert.is(reports(await changeDetail(stack, PROJECT, change._number)).length, 1);
  const annotations = (await readWorkflow(stack.cluster, ref))!.metadata.annotations ?? {};
  assert.is(annotations[REPORT_MARKER.done], 'Succeeded');
  assert.is(annotations[REPORT_MARKER.claim], undefined);
});

test('branch names and subjects with quotes, {{ }}, $( ), newlines and Unicode: Argo gets their safe form, the steps the exact text', async () => {
  const branch = `feature/"it's"-{{workflow.name}}-$(id)-\`uname\`-ünï→🚀`;
  await new GerritRest(adminConnection).json('PUT', `projects/${encodeId(PROJECT)}/branches/${encodeId(branch)}`, { body: { revision: 'master' } });
  // A subject's first paragraph may span lines: Gerrit folds them into the subject with spaces.
  const message = `Fix "quotes" and 'apostrophes' {{workflow.parameters.branch}} $(rm -rf /) \`id\` ünïcødé → 🚀\nsecond line of the first paragraph`;
  const subject = message.replace('\n', ' ');
  const change = await pushChange(adminConnection, PROJECT, { 'c.txt': 'x\n' }, message, branch);
  const event = await gerritEvent(stack, 'gerrit.patchset-created', change, 1);
  const sent = (event.data as { change: { subject: string; branch: string } }).change;
  assert.is(sent.branch, branch);
  assert.is(sent.subject, subject);
  ok(await deliver(stack.functions['patchset-created'], event), 'patchset-created');
  const [run] = await waitForRuns(stack, PROJECT, change._number, 1);
  const ref = refOfWorkflow(run!);
  // Every parameter and annotation Argo could substitute is in the safe form: nothing for its template engine
  // or a shell to act on, even after Argo processed the run (it substitutes inside parameter values: before,
  // the {{workflow.name}} in this branch name reached the step expanded).
  const processed = await eventually(async () => {
    const read = (await readWorkflow(stack.cluster, ref))!;
    assert.ok(read.status?.nodes, 'Argo has processed the run');
    return read;
  });
  assert.is(params(processed).branch, safeText(branch));
  assert.is(params(processed).subject, safeText(subject));
  const annotations = processed.metadata.annotations ?? {};
  const changeText = [PROJECT_ANNOTATION, BRANCH_ANNOTATION, CHANGE_URL_ANNOTATION, EVENT_ID_ANNOTATION, DEFINITION_ANNOTATION].map((key) => annotations[key]);
  for (const value of [...Object.values(params(processed)), ...changeText]) {
    assert.not.match(String(value), /\{\{|\$\(|["'`]|\s/);
  }
  assert.is(runOf(processed)?.branch, branch);
  // The step gets the exact text from the run's change ConfigMap, which Argo never reads; the parameter it
  // declared as env is the safe form.
  const [pod] = await podsOf(stack.cluster, ref);
  const main = pod!.spec.containers.find((c) => c.name === 'main')!;
  assert.equal(main.envFrom, [{ configMapRef: { name: ref.name } }]);
  assert.is(main.env?.find((e) => e.name === 'BRANCH')?.value, safeText(branch));
  const environment = (await stack.cluster.get<ClusterObject & { data: Record<string, string> }>('v1', 'ConfigMap', ref.namespace, ref.name))!;
  assert.is(environment.data.SEAKEEPER_BRANCH, branch);
  assert.is(environment.data.SEAKEEPER_SUBJECT, subject);
  assert.is(environment.data.SEAKEEPER_CHANGE, String(change._number));
  assert.equal(environment.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [['Workflow', ref.name, run!.metadata.uid]]);

  // Gerrit never sends a newline in a subject; an event that carries one (the ingress passes data through
  // as it is) keeps it too. The same real event, its subject edited, under a new id.
  const withNewline = event.cloneWith({ id: `${event.id}-newline`, data: { ...(event.data as object), change: { ...sent, subject: 'line one\nline two\r\n\ttabbed "$(x)"' } } });
  ok(await deliver(stack.functions['patchset-created'], withNewline), 'patchset-created');
  const runs = await waitForRuns(stack, PROJECT, change._number, 2);
  const second = runs.find((r) => r.metadata.name !== ref.name)!;
  assert.is(params(second).subject, 'line%20one%0Aline%20two%0D%0A%09tabbed%20%22%24%28x%29%22');
  const secondEnvironment = (await stack.cluster.get<ClusterObject & { data: Record<string, string> }>('v1', 'ConfigMap', ref.namespace, second.metadata.name))!;
  assert.is(secondEnvironment.data.SEAKEEPER_SUBJECT, 'line one\nline two\r\n\ttabbed "$(x)"');

  // The ConfigMap goes with its run (Kubernetes' garbage collector, through the owner reference).
  await stack.cluster.delete(ARGO_API_VERSION, WORKFLOW_KIND, ref.namespace, ref.name);
  await eventually(async () => assert.is(await stack.cluster.get('v1', 'ConfigMap', ref.namespace, ref.name), undefined), 30_000);
});

test('a result on a patchset that a newer one replaced is reported without a vote, saying why', async () => {
  const changeId = newChangeId();
  const ps1 = await pushPatchSet(adminConnection, PROJECT, changeId, { 'd.txt': 'one\n' }, 'Replaced while running [fail unit]');
  ok(await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', ps1, 1)), 'patchset-created');
  const [run] = await waitForRuns(stack, PROJECT, ps1._number, 1);
  // Patchset 2 is pushed, but its event has not been handled yet: the run of patchset 1 is not stopped.
  await pushPatchSet(adminConnection, PROJECT, changeId, { 'd.txt': 'two\n' }, 'Replaced while running');
  await finishAndReport(run!);
  const info = await changeDetail(stack, PROJECT, ps1._number);
  const [report] = reports(info);
  assert.is(report!._revision_number, 1);
  assert.match(report!.message, 'Patchset 2 has replaced patchset 1: this result does not vote.');
  assert.not.match(report!.message, 'Verified');
  assert.is(botVerified(stack, info), undefined);
});

test('a change merged or abandoned stops its runs (Terminate), which are never reported', async () => {
  const { change, run } = await pushAndRun('Abandoned while running [slow]');
  await running(stack.cluster, refOfWorkflow(run));
  await new GerritRest(adminConnection).json('POST', `changes/${encodeId(`${PROJECT}~${change._number}`)}/abandon`, { body: { notify: 'NONE' } });
  ok(await deliver(stack.functions['comment-added'], await gerritEvent(stack, 'gerrit.change-abandoned', change)), 'comment-added (change-abandoned)');
  const stopped = (await readWorkflow(stack.cluster, refOfWorkflow(run)))!;
  assert.is(stopped.spec?.shutdown, 'Terminate');
  assert.is(stopped.metadata.annotations?.[STOPPED_BECAUSE_ANNOTATION], 'change abandoned');
  const { workflow: ended } = await finishAndReport(stopped);
  assert.is(ended.status?.message, 'Stopped with strategy \'Terminate\'');
  assert.is(reports(await changeDetail(stack, PROJECT, change._number)).length, 0);
});

test('where the bot may not vote Verified, the report is posted without the vote, saying so', async () => {
  await configuredProject(rig, stack, BLOCKED, CONFIG_FILES);
  const rest = new GerritRest(adminConnection);
  const group = await rest.json<{ id: string }>('GET', `groups/${encodeId(BOT_GROUP)}`);
  await rest.json('POST', `projects/${encodeId(BLOCKED)}/access`, {
    body: { add: { 'refs/heads/*': { permissions: { 'label-Verified': { label: 'Verified', rules: { [group.id]: { action: 'BLOCK', min: -1, max: 2 } } } } } } },
  });
  const { change, run } = await pushAndRun('No vote here [fail unit]', BLOCKED);
  await finishAndReport(run);
  const info = await changeDetail(stack, BLOCKED, change._number);
  const [report] = reports(info);
  assert.match(report!.message, 'Seakeeper may not vote Verified-1 on this change; the result follows without the vote.');
  assert.match(report!.message, 'Build failed (check pipeline).');
  assert.is(botVerified(stack, info), undefined);
  assert.is((await readWorkflow(stack.cluster, refOfWorkflow(run)))!.metadata.annotations?.[REPORT_MARKER.done], 'Failed');
});

test('Gerrit failing: the functions answer 5xx (Knative retries), the report claim is given back, and a redelivery reports', async () => {
  const dead = await deadServer();
  const env = stack.env;
  const deadGerrit = { GERRIT_URL: `http://127.0.0.1:${dead.port}/`, GERRIT_TIMEOUT_MS: '500' };
  const [created, completed] = await Promise.all([
    serveFunction('patchset-created', { ...env['patchset-created'], ...deadGerrit }),
    serveFunction('workflow-completed', { ...env['workflow-completed'], ...deadGerrit }),
  ]);
  try {
    const change = await pushChange(adminConnection, PROJECT, { 'e.txt': 'x\n' }, 'Gerrit is down');
    const event = await gerritEvent(stack, 'gerrit.patchset-created', change, 1);
    assert.is((await deliver(created, event)).status, 500);
    ok(await deliver(stack.functions['patchset-created'], event), 'patchset-created, Gerrit back');
    const [run] = await waitForRuns(stack, PROJECT, change._number, 1);
    const ref = refOfWorkflow(run!);
    await finished(stack.cluster, ref);
    ok(await deliver(stack.functions['workflow-watch'], workflowTouched(ref)), 'workflow-watch');
    const done = await completedEvent(stack, ref);
    assert.is((await deliver(completed, done)).status, 500);
    const annotations = (await readWorkflow(stack.cluster, ref))!.metadata.annotations ?? {};
    assert.is(annotations[REPORT_MARKER.claim], undefined, 'the claim was given back');
    assert.is(annotations[REPORT_MARKER.done], undefined);
    ok(await deliver(stack.functions['workflow-completed'], done), 'workflow-completed, Gerrit back');
    assert.is(botVerified(stack, await changeDetail(stack, PROJECT, change._number)), 1);
  } finally {
    await Promise.all([created.stop(), completed.stop(), dead.close()]);
  }
});

test.run();
