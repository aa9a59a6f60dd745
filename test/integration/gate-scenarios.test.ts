// The gate queue's harder scenarios against the rig, on a pipeline stack as in gate.test.ts (every function
// served as in production, Argo's real controller, the real Gerrit): a failure at the head and the items behind it
// tested again without it; two failures in a row, each reported once, in queue order; the window halved by a
// failure and grown by each merge; two projects sharing one queue beside a project with its own; twin
// deliveries of an approval and of a completion acting once; and reconcile carrying out what a function that
// stopped after storing its queue left undone. Outcomes come from the change's subject (`[fail]`, the rig's
// outcome hook); every verdict is read back from Gerrit (votes, messages, merges) and from the cluster (runs,
// what each tested, the ChangeQueue's status).
//
// For speed (the file runs in CI), test.before does what no test looks at while it happens: the projects and
// their changes are made while the functions start, every change is approved on Gerrit at once, and the
// approvals that open each test's scenario are delivered, so that the first runs of every queue go side by
// side while the tests before run. The queue only learns how a run ended when a test delivers its completion
// (a reconcile pass of another suite would deliver it itself: the suites that run such passes run alone).
// rig: parallel (test/run.ts): projects, namespaces and queues of its own; its reconcile tick only over its queue
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProject, pushChange, pushDirect } from '../../dev/gerrit-chores.js';
import { resolveEffectiveConfig } from '../../shared/config/inheritance.js';
import { loadPolicy } from '../../shared/config/policy.js';
import { CONFIG_REF } from '../../shared/config/project-config.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import { encodeId, GerritRest } from '../../shared/gerrit/rest.js';
import type { ChangeInfo } from '../../shared/gerrit/types.js';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import type { EnqueueItem } from '../../shared/pipelines/change-queue.js';
import { Gate } from '../../shared/pipelines/gate.js';
import { QUEUE_ANNOTATION, queueConfigOf } from '../../shared/pipelines/gate-plan.js';
import { ChangeQueueStore } from '../../shared/pipelines/queue-store.js';
import { GerritConfigReader } from '../../shared/provisioning/config-reader.js';
import { Provisioner } from '../../shared/provisioning/provisioner.js';
import { refOfWorkflow } from '../../shared/runs/workflow-store.js';
import { safeText, type LiveWorkflow } from '../../shared/runs/workflow.js';
import { finished } from './support/argo.js';
import * as gate from './support/gate.js';
import { GATE, ok, PIPELINE, subjectGateWorkflow } from './support/gate.js';
import { rigConnections } from './support/gerrit.js';
import { botVerified, changeDetail, completedEvent, deliver, pipelineMessages, runsOf, startPipelineStack, workflowTouched, type Delivery, type PipelineStack } from './support/pipelines.js';
import { adminCluster, deleteNamespacesOf, hideProjects } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const rig = loadRig();
const { admin: adminConnection, bot: botConnection } = rigConnections(rig);
const adminRest = new GerritRest(adminConnection);
const cluster = adminCluster(rig);
const suffix = uniqueSuffix();
const PARENT = `it-${suffix}-gs`;
/** A failure at the head. */
const HEAD = `${PARENT}/head`;
/** Two failures in a row. */
const TWICE = `${PARENT}/twice`;
/** The window. */
const WINDOW = `${PARENT}/window`;
/** Q1 and Q2 gate together in the queue SHARED; SOLO has a queue of its own (and serves the last tests). */
const Q1 = `${PARENT}/q1`;
const Q2 = `${PARENT}/q2`;
const SOLO = `${PARENT}/solo`;
const SHARED = `gs-${suffix}`;
const PROJECTS = [HEAD, TWICE, WINDOW, Q1, Q2, SOLO];
const QUEUES = [HEAD, TWICE, WINDOW, SHARED, SOLO].map((queue) => `${queue} master`);

const config = (duration = '1s', queue?: string) => ({
  'seakeeper.yaml': `pipelines:\n  ${PIPELINE}: { workflow: ci/gate.yaml${queue ? `, queue: ${queue}` : ''} }\n`,
  'ci/gate.yaml': subjectGateWorkflow(duration),
});
const CONFIGS: Record<string, ReturnType<typeof config>> = {
  // The runs behind HEAD's failing head must still be going when it fails, to be stopped; once they are
  // started, test.before makes HEAD's runs take a second.
  [HEAD]: config('300s'),
  [TWICE]: config(),
  [WINDOW]: config(),
  [Q1]: config('1s', SHARED),
  [Q2]: config('1s', SHARED),
  [SOLO]: config(),
};
/** Each project's changes, in queue order (subjects with `[fail]` fail wherever they are tested). */
const SUBJECTS: Record<string, readonly string[]> = {
  [HEAD]: ['a1 [fail]', 'a2', 'a3'],
  [TWICE]: ['b1 [fail]', 'b2 [fail]', 'b3', 'b4'],
  [WINDOW]: ['c1 [fail]', 'c2', 'c3', 'c4'],
  [Q1]: ['q1'],
  [Q2]: ['q2'],
  [SOLO]: ['s1', 'twins', 'crashed'],
};
const changes: Record<string, ChangeInfo[]> = {};
/** The projects made so far, for clean-up. */
const made: string[] = [];
const changeOf = (project: string, subject: string): ChangeInfo => changes[project]![SUBJECTS[project]!.indexOf(subject)]!;

let stack: PipelineStack;

/**
 * A project with its configuration, provisioned (as project-config-changed would), and its changes: made under
 * All-Projects while the functions start, since the stack's parent project does not exist yet.
 */
async function newProject(project: string): Promise<void> {
  await createProject(adminConnection, project);
  made.push(project);
  await pushDirect(adminConnection, project, CONFIG_REF, CONFIGS[project]!, 'Add CI configuration');
  const policy = loadPolicy();
  const [summary, pushed] = await Promise.all([
    resolveEffectiveConfig(project, new GerritConfigReader(new GerritClient(botConnection)), policy).then((effective) => new Provisioner(cluster, policy).provision(effective)),
    Promise.all(SUBJECTS[project]!.map((subject) => pushChange(adminConnection, project, { [`${subject.split(' ')[0]}.txt`]: `${subject}\n` }, subject))),
  ]);
  if (!['created', 'updated', 'unchanged'].includes(summary.outcome)) throw new Error(`provisioning ${project}: ${summary.outcome} ${summary.reason ?? ''}`);
  changes[project] = pushed;
}

/** The project moved under the stack's parent, whose webhooks.config sends its events; then its changes approved on Gerrit. */
async function joinStack(project: string): Promise<void> {
  await adminRest.json('PUT', `projects/${encodeId(project)}/parent`, { body: { parent: PARENT, commit_message: 'Send events to the suite stack' } });
  await Promise.all(changes[project]!.map((change) => gate.codeReview(adminRest, project, change)));
}

/** The comment-added of the change's Code-Review +2 (approved in test.before) delivered to comment-added. */
async function deliverApproval(change: ChangeInfo): Promise<void> {
  ok(await deliver(stack.functions['comment-added'], await gate.approvalEvent(stack, change)), `comment-added of change ${change._number}`);
}

async function deliverApprovals(...list: ChangeInfo[]): Promise<void> {
  for (const change of list) await deliverApproval(change);
}

test.before(async () => {
  try {
    await setUp();
  } catch (err) {
    // uvu's runner drops an error thrown by a hook (it returns from its finally): say what went wrong.
    console.error('gate-scenarios: test.before failed:', err);
    throw err;
  }
});

async function setUp(): Promise<void> {
  const [started] = await Promise.all([startPipelineStack(rig, PARENT, { sharedQueues: { [SHARED]: [Q1, Q2] } }), ...PROJECTS.map(newProject)]);
  stack = started;
  await Promise.all(PROJECTS.map(joinStack));
  // Each queue's opening approvals, queues side by side.
  await Promise.all([
    (async () => {
      await deliverApprovals(...changes[HEAD]!);
      await Promise.all(changes[HEAD]!.map((change) => gateRuns(HEAD, change, 1)));
      await pushDirect(adminConnection, HEAD, CONFIG_REF, { 'ci/gate.yaml': subjectGateWorkflow() }, 'Gate runs take a second');
    })(),
    deliverApprovals(...changes[TWICE]!),
    deliverApprovals(changeOf(WINDOW, 'c1 [fail]')),
    deliverApprovals(changeOf(Q1, 'q1'), changeOf(Q2, 'q2')),
    deliverApprovals(changeOf(SOLO, 's1')),
  ]);
}

test.after(async () => {
  if (stack) {
    await stack.stop();
    await gate.deleteQueues(stack, QUEUES);
    made.unshift(PARENT);
  }
  await deleteNamespacesOf(cluster, PROJECTS);
  await hideProjects(adminConnection, made);
});

// support/gate.ts's helpers, on this suite's stack.
const gateRuns = (project: string, change: ChangeInfo, count: number) => gate.gateRuns(stack, project, change, count);
const onlyRun = async (project: string, change: ChangeInfo) => (await gateRuns(project, change, 1))[0]!;
const newRun = (project: string, change: ChangeInfo, ...earlier: LiveWorkflow[]) => gate.newGateRun(stack, project, change, earlier);
const complete = (...runs: LiveWorkflow[]) => gate.completeInOrder(stack, runs);
const tested = (run: LiveWorkflow) => gate.tested(stack, run);
const testedAll = (...runs: LiveWorkflow[]) => Promise.all(runs.map(tested));
const merged = (project: string, change: ChangeInfo) => gate.merged(stack, project, change);
const detail = (project: string, change: ChangeInfo) => changeDetail(stack, project, change._number);
const queueOf = async (queue: string) => (await gate.readQueue(stack, `${queue} master`))?.status;

const numbers = (...list: ChangeInfo[]) => list.map((c) => c._number);
const texts = (info: ChangeInfo) => pipelineMessages(info, PIPELINE).map((m) => m.message);
const failures = (info: ChangeInfo) => texts(info).filter((m) => m.includes('Failed in the gate-and-submit queue'));
const passes = (info: ChangeInfo) => texts(info).filter((m) => m.includes('Gate passed (gate-and-submit pipeline).'));
const starts = (info: ChangeInfo) => texts(info).filter((m) => m.includes('Starting gate-and-submit jobs'));
/** Gerrit's time of the submit (NoteDb keeps whole seconds: changes submitted together may tie). */
const submittedAt = (info: ChangeInfo) => String((info as ChangeInfo & { submitted?: string }).submitted);

/**
 * The revisions that landed on the project's master, oldest first, read from its first-parent history: a merge
 * commit brought its second parent, any other commit itself (Gerrit's default submit type, merge if necessary).
 */
async function landed(project: string): Promise<string[]> {
  const at = (path: string) => `projects/${encodeId(project)}/${path}`;
  const order: string[] = [];
  let commit: string | undefined = (await adminRest.json<{ revision: string }>('GET', at('branches/master'))).revision;
  while (commit !== undefined) {
    const { parents }: { parents: { commit: string }[] } = await adminRest.json('GET', at(`commits/${commit}`));
    order.unshift(parents.length > 1 ? parents[1]!.commit : commit);
    commit = parents[0]?.commit;
  }
  return order;
}

/** The changes landed on the project's master in this order. */
async function assertMergedInOrder(project: string, ...infos: ChangeInfo[]): Promise<void> {
  const order = await landed(project);
  const at = infos.map((info) => order.indexOf(info.current_revision!));
  assert.ok(at.every((index, i) => index >= 0 && (i === 0 || at[i - 1]! < index)), `landed ${JSON.stringify(order)}, merged ${JSON.stringify(infos.map((info) => info.current_revision))}`);
}

/** Merged, voted Verified +2 with one "Gate passed", never reported failing. */
function assertPassed(info: ChangeInfo): void {
  assert.is(info.status, 'MERGED', `change ${info._number}`);
  assert.is(botVerified(stack, info), 2, `change ${info._number}`);
  assert.is(passes(info).length, 1, texts(info).join('\n'));
  assert.equal(failures(info), [], `change ${info._number}`);
}

/** Open, voted Verified -1 with exactly one failure report, which says what it was tested with. */
function assertFailedOnce(info: ChangeInfo, testedWith: string): void {
  assert.is(info.status, 'NEW', `change ${info._number}`);
  assert.is(botVerified(stack, info), -1, `change ${info._number}`);
  const reports = failures(info);
  assert.is(reports.length, 1, texts(info).join('\n'));
  assert.match(reports[0]!, testedWith);
  assert.equal(passes(info), [], `change ${info._number}`);
}

async function assertQueueEmpty(queue: string): Promise<void> {
  const status = await queueOf(queue);
  assert.is(status?.depth, 0, JSON.stringify(status));
  assert.equal(status?.owed, []);
}

test('a failure at the head: voted -1 once and not merged; the runs behind it that tested it are stopped, and they are tested again without it and merge', async () => {
  const [a1, a2, a3] = changes[HEAD] as [ChangeInfo, ChangeInfo, ChangeInfo];
  const [r1, r2, r3] = (await Promise.all([a1, a2, a3].map((change) => onlyRun(HEAD, change)))) as [LiveWorkflow, LiveWorkflow, LiveWorkflow];
  assert.equal(await testedAll(r1, r2, r3), [numbers(a1), numbers(a1, a2), numbers(a1, a2, a3)]);

  assert.is((await complete(r1))[0]!.status?.phase, 'Failed');
  const [s2, s3] = await Promise.all([gate.stopped(stack, r2), gate.stopped(stack, r3)]);
  for (const run of [s2, s3]) assert.is(run.spec?.shutdown, 'Terminate');
  const [n2, n3] = await Promise.all([newRun(HEAD, a2, r2), newRun(HEAD, a3, r3)]);
  assert.equal(await testedAll(n2, n3), [numbers(a2), numbers(a2, a3)]);
  assert.is((await queueOf(HEAD))?.window, 2);

  // a3's result first: it waits for a2's, which submits both.
  await complete(n3, n2);
  const [i1, i2, i3] = await Promise.all([detail(HEAD, a1), merged(HEAD, a2), merged(HEAD, a3)]);
  assertFailedOnce(i1, 'with nothing ahead of it');
  assertPassed(i2);
  assertPassed(i3);
  await assertMergedInOrder(HEAD, i2, i3);
  assert.is((await runsOf(stack, HEAD, a1._number, PIPELINE)).length, 1);
  await assertQueueEmpty(HEAD);
});

test('two failures in a row: each voted -1 once, the second only once the first has finished; the two behind merge in order, tested without them', async () => {
  const [b1, b2, b3, b4] = changes[TWICE] as [ChangeInfo, ChangeInfo, ChangeInfo, ChangeInfo];
  const first = (await Promise.all([b1, b2, b3, b4].map((change) => onlyRun(TWICE, change)))) as [LiveWorkflow, LiveWorkflow, LiveWorkflow, LiveWorkflow];
  assert.equal(await testedAll(...first), [numbers(b1), numbers(b1, b2), numbers(b1, b2, b3), numbers(b1, b2, b3, b4)]);

  // b2 fails (on b1) while b1's run is still going, as far as the queue knows: not reported yet, but the
  // changes behind it are tested again without it.
  assert.is((await complete(first[1]))[0]!.status?.phase, 'Failed');
  const [without2for3, without2for4] = await Promise.all([newRun(TWICE, b3, first[2]), newRun(TWICE, b4, first[3])]);
  assert.equal(await testedAll(without2for3, without2for4), [numbers(b1, b3), numbers(b1, b3, b4)]);
  const waiting = await detail(TWICE, b2);
  assert.is(botVerified(stack, waiting), undefined);
  assert.equal(failures(waiting), []);
  assert.equal((await queueOf(TWICE))?.owed, []);

  // b1 fails: reported. Its run no longer tested what b2's did: b2 is tested again on the branch alone, b3 on
  // b2, and b4 waits outside the window, halved to 2.
  await complete(first[0]);
  const [again2, again3] = await Promise.all([newRun(TWICE, b2, first[1]), newRun(TWICE, b3, first[2], without2for3)]);
  assert.equal(await testedAll(again2, again3), [numbers(b2), numbers(b2, b3)]);
  assertFailedOnce(await detail(TWICE, b1), 'with nothing ahead of it');
  assert.equal(failures(await detail(TWICE, b2)), []);
  assert.equal((await queueOf(TWICE))?.window, 2);
  assert.is((await runsOf(stack, TWICE, b4._number, PIPELINE)).length, 2);

  // b2 fails at the head now: reported; b3 and b4 are tested without either.
  await complete(again3, again2);
  const [last3, last4] = await Promise.all([newRun(TWICE, b3, first[2], without2for3, again3), newRun(TWICE, b4, first[3], without2for4)]);
  assert.equal(await testedAll(last3, last4), [numbers(b3), numbers(b3, b4)]);
  await complete(last4, last3);

  const [i1, i2, i3, i4] = await Promise.all([detail(TWICE, b1), detail(TWICE, b2), merged(TWICE, b3), merged(TWICE, b4)]);
  assertFailedOnce(i1, 'with nothing ahead of it');
  assertFailedOnce(i2, 'with nothing ahead of it');
  assertPassed(i3);
  assertPassed(i4);
  await assertMergedInOrder(TWICE, i3, i4);
  await assertQueueEmpty(TWICE);
});

test('the window: a reported failure halves it to the floor (5 to 2), so of three changes approved next only two get runs; each merge grows it by one', async () => {
  const [c1, c2, c3, c4] = changes[WINDOW] as [ChangeInfo, ChangeInfo, ChangeInfo, ChangeInfo];
  assert.is((await queueOf(WINDOW))?.window, 5);
  await complete(await onlyRun(WINDOW, c1));
  assertFailedOnce(await detail(WINDOW, c1), 'with nothing ahead of it');
  assert.is((await queueOf(WINDOW))?.window, 2);

  // Each delivery creates the runs its decision owes before it answers: c4 has none.
  await deliverApprovals(c2, c3, c4);
  const [r2, r3] = await Promise.all([onlyRun(WINDOW, c2), onlyRun(WINDOW, c3)]);
  assert.equal(await runsOf(stack, WINDOW, c4._number, PIPELINE), []);
  const waiting = await queueOf(WINDOW);
  assert.equal(waiting?.items.map((item) => [item.change, item.run?.state ?? 'none']), [[c2._number, 'running'], [c3._number, 'running'], [c4._number, 'none']]);
  assert.equal(await testedAll(r2, r3), [numbers(c2), numbers(c2, c3)]);

  // c2 merges: the window is 3, and c4 gets its run, on c3.
  await complete(r2);
  await merged(WINDOW, c2);
  assert.is((await queueOf(WINDOW))?.window, 3);
  const r4 = await onlyRun(WINDOW, c4);
  assert.equal(await tested(r4), numbers(c3, c4));
  await complete(r3);
  await merged(WINDOW, c3);
  assert.is((await queueOf(WINDOW))?.window, 4);
  await complete(r4);
  const [i2, i3, i4] = await Promise.all([detail(WINDOW, c2), detail(WINDOW, c3), merged(WINDOW, c4)]);
  for (const info of [i2, i3, i4]) assertPassed(info);
  await assertMergedInOrder(WINDOW, i2, i3, i4);
  assert.is((await queueOf(WINDOW))?.window, 5);
  await assertQueueEmpty(WINDOW);
});

test('two projects with the same queue: share one ChangeQueue and test together; a project without one has its own queue and tests alone; all merge', async () => {
  const q1 = changeOf(Q1, 'q1');
  const q2 = changeOf(Q2, 'q2');
  const s1 = changeOf(SOLO, 's1');
  const [r1, r2, rs] = await Promise.all([onlyRun(Q1, q1), onlyRun(Q2, q2), onlyRun(SOLO, s1)]);

  const lines = async (run: LiveWorkflow) => (await gate.testedChanges(stack, run)).map((c) => `${c.project} ${c.change}`);
  assert.equal(await lines(r1), [`${Q1} ${q1._number}`]);
  assert.equal(await lines(r2), [`${Q1} ${q1._number}`, `${Q2} ${q2._number}`]);
  assert.equal(await lines(rs), [`${SOLO} ${s1._number}`]);
  assert.is(r1.metadata.annotations?.[QUEUE_ANNOTATION], safeText(`${SHARED} master`));
  assert.is(r2.metadata.annotations?.[QUEUE_ANNOTATION], safeText(`${SHARED} master`));
  assert.is(rs.metadata.annotations?.[QUEUE_ANNOTATION], safeText(`${SOLO} master`));
  const [shared, solo, ofQ1, ofQ2] = await Promise.all([queueOf(SHARED), queueOf(SOLO), queueOf(Q1), queueOf(Q2)]);
  assert.equal(shared?.items.map((item) => `${item.project} ${item.change}`), [`${Q1} ${q1._number}`, `${Q2} ${q2._number}`]);
  assert.equal(solo?.items.map((item) => `${item.project} ${item.change}`), [`${SOLO} ${s1._number}`]);
  assert.is(ofQ1, undefined);
  assert.is(ofQ2, undefined);

  // Q2's result first: it waits for Q1's, which submits both.
  await complete(r2, rs, r1);
  const [i1, i2, is] = await Promise.all([merged(Q1, q1), merged(Q2, q2), merged(SOLO, s1)]);
  for (const info of [i1, i2, is]) assertPassed(info);
  assert.ok(submittedAt(i1) <= submittedAt(i2), `Q1's change submitted no later than Q2's: ${submittedAt(i1)}, ${submittedAt(i2)}`);
  await assertQueueEmpty(SHARED);
  await assertQueueEmpty(SOLO);
});

/** Eight deliveries of `event` to `to` at once. */
const eightAtOnce = (to: keyof PipelineStack['functions'], event: Parameters<typeof deliver>[1]): Promise<Delivery[]> =>
  Promise.all(Array.from({ length: 8 }, () => deliver(stack.functions[to], event)));

/** The workflow.completed of the passed run (Argo finished it, workflow-watch emitted it). */
async function completionOf(run: LiveWorkflow) {
  const ref = refOfWorkflow(run);
  assert.is((await finished(stack.cluster, ref)).status?.phase, 'Succeeded');
  ok(await deliver(stack.functions['workflow-watch'], workflowTouched(ref)), 'workflow-watch');
  return completedEvent(stack, ref);
}

/** One vote, one submit: Verified +2 with one "Gate passed", one start message, and Gerrit's merge message once. */
function assertSubmittedOnce(info: ChangeInfo): void {
  assertPassed(info);
  assert.is(starts(info).length, 1, texts(info).join('\n'));
  assert.is((info.messages ?? []).filter((m) => m.tag === 'autogenerated:gerrit:merged').length, 1, JSON.stringify(info.messages));
}

test('twin deliveries: eight of one approval make one queue item and one run; eight of its completion one Verified +2, one submit, one merge', async () => {
  const change = changeOf(SOLO, 'twins');
  const enqueued = await eightAtOnce('comment-added', await gate.approvalEvent(stack, change));
  enqueued.forEach((answer, i) => ok(answer, `comment-added ${i}`));
  assert.equal((await queueOf(SOLO))?.items.map((item) => item.change), [change._number]);
  const runs = await runsOf(stack, SOLO, change._number, PIPELINE);
  assert.is(runs.length, 1);
  assert.equal(await tested(runs[0]!), [change._number]);

  const completion = await completionOf(runs[0]!);
  const answers = await eightAtOnce('workflow-completed', completion);
  // Every twin succeeds: the one holding the vote submits, the others find it claimed or done.
  answers.forEach((answer, i) => ok(answer, `workflow-completed ${i}`));
  assertSubmittedOnce(await merged(SOLO, change));
  await assertQueueEmpty(SOLO);
});

test('a function that stopped between storing its queue and acting: no run, until reconcile ticks the queue; then it runs and merges', async () => {
  const change = changeOf(SOLO, 'crashed');
  const info = await detail(SOLO, change);
  const revision = info.current_revision!;
  const item: EnqueueItem = {
    project: SOLO,
    branch: 'master',
    change: change._number,
    patchset: info.revisions![revision]!._number,
    ref: info.revisions![revision]!.ref,
    revision,
    enqueuedAt: new Date().toISOString(),
    needs: [],
  };
  // What comment-added stores for the approval before it carries anything out, as its own ServiceAccount.
  const store = new ChangeQueueStore(httpClusterFromEnv({ KUBECONFIG: stack.kubeconfigs['comment-added'] }), gate.queueNamespace(stack));
  const update = await store.update(queueConfigOf(GATE, `${SOLO} master`), { type: 'enqueue', eventId: `it-${suffix}-crashed`, items: [item] });
  assert.ok(update.written);
  const owed = update.decision.actions.filter((action) => action.type === 'start-run' && action.item.change === change._number);
  assert.is(owed.length, 1, JSON.stringify(update.decision.actions));
  const stored = await queueOf(SOLO);
  assert.equal(stored?.items.map((i) => [i.change, i.run?.name]), [[change._number, (owed[0] as { name: string }).name]]);
  assert.equal(await runsOf(stack, SOLO, change._number, PIPELINE), []);

  // reconcile's pass, as its own ServiceAccount, over this queue (other suites' run beside it).
  await Gate.fromEnv({ ...stack.env['comment-added'], KUBECONFIG: stack.kubeconfigs.reconcile }).tick((queue) => queue === `${SOLO} master`);
  const run = await onlyRun(SOLO, change);
  assert.is(run.metadata.name, (owed[0] as { name: string }).name);
  assert.equal(await tested(run), [change._number]);
  await complete(run);
  const done = await merged(SOLO, change);
  assertSubmittedOnce(done);
  await assertQueueEmpty(SOLO);
});

test.run();
