// The gate pipeline (gate-and-submit, manager dependent) end to end against the rig's real Gerrit and
// kube-apiserver, every function served as in production (support/pipelines.ts): Code-Review +2 on the real
// Gerrit → the comment-added event gerrit-webhook made of it → comment-added → the change checked against Gerrit
// and enqueued in its ChangeQueue → a gate run per item, each testing the items ahead of it, run by the rig's
// real Argo controller (a run's outcome chosen by the rig's outcome hook) → workflow-watch → workflow.completed →
// workflow-completed → the run's result into its queue → Verified +2 and Gerrit's submit, or Verified -1; every
// vote, message and merge read back from Gerrit.
// rig: parallel (test/run.ts): projects, namespaces and queues of its own; its reconcile tick only over its queues
import type { CloudEvent } from 'cloudevents';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pushChange, pushDirect, pushPatchSet } from '../../dev/gerrit-chores.js';
import { CONFIG_REF } from '../../shared/config/project-config.js';
import { encodeId, GerritRest } from '../../shared/gerrit/rest.js';
import type { ChangeInfo } from '../../shared/gerrit/types.js';
import { Gate } from '../../shared/pipelines/gate.js';
import { QUEUE_ANNOTATION, queueConfigOf, queueHash } from '../../shared/pipelines/gate-plan.js';
import { readWorkflow, refOfWorkflow } from '../../shared/runs/workflow-store.js';
import { safeText, STOPPED_BECAUSE_ANNOTATION, type LiveWorkflow } from '../../shared/runs/workflow.js';
import * as support from './support/gate.js';
import { GATE, gateWorkflow, id, ok, PIPELINE, type Approval } from './support/gate.js';
import { rigConnections } from './support/gerrit.js';
import { botVerified, changeDetail, configuredProject, deliver, gerritEvent, pipelineMessages, runsOf, startPipelineStack, type PipelineStack } from './support/pipelines.js';
import { deleteNamespacesOf, hideProjects } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { eventually } from './support/wait.js';

const rig = loadRig();
const { admin: adminConnection } = rigConnections(rig);
const adminRest = new GerritRest(adminConnection);
const suffix = uniqueSuffix();
const PARENT = `it-${suffix}-gate`;
const PROJECT = `${PARENT}/app`;
const FLAKY = `${PARENT}/flaky`;
const STRICT = `${PARENT}/strict`;
const SLOW = `${PARENT}/slow`;
const REFUSED = `${PARENT}/refused`;

const CONFIG = { 'seakeeper.yaml': `pipelines:\n  ${PIPELINE}: { workflow: ci/gate.yaml }\n`, 'ci/gate.yaml': gateWorkflow() };

let stack: PipelineStack;

test.before(async () => {
  stack = await startPipelineStack(rig, PARENT);
  await configuredProject(rig, stack, PROJECT, CONFIG);
  await configuredProject(rig, stack, FLAKY, CONFIG);
  await configuredProject(rig, stack, STRICT, CONFIG);
  await configuredProject(rig, stack, SLOW, { ...CONFIG, 'ci/gate.yaml': gateWorkflow(0, '300s') });
  await configuredProject(rig, stack, REFUSED, { ...CONFIG, 'ci/gate.yaml': gateWorkflow().replace('  entrypoint: test\n', '  entrypoint: test\n  hostNetwork: true\n') });
});

test.after(async () => {
  // Without a stack the set-up failed: its error is the one to see, not this hook's.
  if (!stack) return;
  await stack.stop();
  // The queues this suite made (STRICT's never was: nothing entered it).
  await support.deleteQueues(stack, [PROJECT, FLAKY, SLOW, REFUSED].map((project) => `${project} master`));
  await deleteNamespacesOf(stack.cluster, [PROJECT, FLAKY, STRICT, SLOW, REFUSED]);
  await hideProjects(adminConnection, [PARENT, PROJECT, FLAKY, STRICT, SLOW, REFUSED]);
});

// support/gate.ts's helpers, on this suite's stack and as the administrator.
const approve = (project: string, change: ChangeInfo, review: Record<string, unknown> = {}): Promise<CloudEvent<unknown>> => support.approve(stack, adminRest, project, change, review);
const gateRuns = (project: string, change: ChangeInfo, count: number): Promise<LiveWorkflow[]> => support.gateRuns(stack, project, change, count);
const complete = (run: LiveWorkflow): Promise<LiveWorkflow> => support.complete(stack, run);
const tested = (run: LiveWorkflow): Promise<number[]> => support.tested(stack, run);
const merged = (project: string, change: ChangeInfo): Promise<ChangeInfo> => support.merged(stack, project, change);
const readQueue = (queue: string) => support.readQueue(stack, queue);

test('three changes approved in a row in one queue: each tested on those ahead of it, voted Verified +2 and merged in order', async () => {
  const changes = [];
  for (const name of ['a', 'b', 'c']) changes.push(await pushChange(adminConnection, PROJECT, { [`${name}.txt`]: `${name}\n` }, `Add ${name}`));
  for (const change of changes) await approve(PROJECT, change);
  const runs = await Promise.all(changes.map(async (change) => (await gateRuns(PROJECT, change, 1))[0]!));

  // Each run tests the items ahead of it, then its own change; the queue's label and name are on it.
  assert.equal(await Promise.all(runs.map(tested)), [[changes[0]!._number], [changes[0]!._number, changes[1]!._number], changes.map((c) => c._number)]);
  const config = queueConfigOf(GATE, `${PROJECT} master`);
  for (const run of runs) {
    assert.is(run.metadata.labels?.['seakeeper.dev/queue-hash'], queueHash(config));
    assert.is(run.metadata.annotations?.[QUEUE_ANNOTATION], safeText(`${PROJECT} master`));
    assert.is((run.spec as { podPriorityClassName?: string }).podPriorityClassName, 'seakeeper-gate');
  }
  const queue = await readQueue(config.queue);
  assert.is(queue?.status?.depth, 3);

  // The last run's result first: it waits for those ahead; the head's result then submits all three in turn.
  for (const run of [...runs].reverse()) await complete(run);
  const infos = await Promise.all(changes.map((change) => merged(PROJECT, change)));
  for (const info of infos) {
    assert.is(botVerified(stack, info), 2, `change ${info._number}`);
    const messages = pipelineMessages(info, PIPELINE).map((m) => m.message);
    assert.ok(messages.some((m) => m.includes('Starting gate-and-submit jobs')), messages.join('\n'));
    assert.ok(messages.some((m) => m.includes('Gate passed (gate-and-submit pipeline).')), messages.join('\n'));
  }
  const submitted = infos.map((info) => String((info as ChangeInfo & { submitted?: string }).submitted));
  assert.equal([...submitted].sort(), submitted, 'merged in queue order');
  const after = await readQueue(config.queue);
  assert.is(after?.status?.depth, 0);
  assert.equal(after?.status?.owed, []);
});

test('a failure in the middle is voted -1 and not merged; the change behind it is tested again without it and merges', async () => {
  const changes = [];
  for (const name of ['d', 'e', 'f']) changes.push(await pushChange(adminConnection, FLAKY, { [`${name}.txt`]: `${name}\n` }, `Add ${name}`));
  const [d, e, f] = changes as [ChangeInfo, ChangeInfo, ChangeInfo];
  // The outcome hook fails e's runs, wherever e is tested.
  await pushDirect(adminConnection, FLAKY, CONFIG_REF, { 'ci/gate.yaml': gateWorkflow(e._number) }, 'Fail change e');
  for (const change of changes) await approve(FLAKY, change);
  const [dRun] = await gateRuns(FLAKY, d, 1);
  const [eRun] = await gateRuns(FLAKY, e, 1);
  const [fRun] = await gateRuns(FLAKY, f, 1);

  await complete(dRun!);
  await merged(FLAKY, d);
  const eDone = await complete(eRun!);
  assert.is(eDone.status?.phase, 'Failed');
  // f's first run tested e under it: it no longer counts, and f is tested again on d alone.
  await complete(fRun!);
  const fRuns = await gateRuns(FLAKY, f, 2);
  const again = fRuns.find((run) => run.metadata.name !== fRun!.metadata.name)!;
  assert.equal(await tested(again), [f._number]);
  await complete(again);
  const fInfo = await merged(FLAKY, f);
  assert.is(botVerified(stack, fInfo), 2);

  const eInfo = await changeDetail(stack, FLAKY, e._number);
  assert.is(eInfo.status, 'NEW');
  assert.is(botVerified(stack, eInfo), -1);
  const failures = pipelineMessages(eInfo, PIPELINE).filter((m) => m.message.includes('Failed in the gate-and-submit queue'));
  assert.is(failures.length, 1, pipelineMessages(eInfo, PIPELINE).map((m) => m.message).join('\n'));
  const first = await readWorkflow(stack.cluster, refOfWorkflow(fRun!));
  // Stopped by the queue, or finished before the stop came: either way it was not what merged.
  assert.ok(first?.metadata.annotations?.[STOPPED_BECAUSE_ANNOTATION] !== undefined || first?.status?.phase === 'Succeeded');
});

test('Code-Review +2 taken back takes the change out of its queue: its run stopped, the author told why', async () => {
  const j = await pushChange(adminConnection, SLOW, { 'j.txt': 'j\n' }, 'Add j');
  await approve(SLOW, j);
  const [run] = await gateRuns(SLOW, j, 1);
  await adminRest.json('POST', `changes/${encodeId(id(SLOW, j))}/revisions/current/review`, { body: { labels: { 'Code-Review': 0 }, notify: 'NONE' } });
  const taken = (e: CloudEvent<unknown>) => ((e.data as { approvals?: Approval[] }).approvals ?? []).some((a) => a.type === 'Code-Review' && a.oldValue === '2');
  ok(await deliver(stack.functions['comment-added'], await gerritEvent(stack, 'gerrit.comment-added', j, 1, taken)), 'comment-added (approval removed)');
  const stoppedRun = await eventually(async () => {
    const now = await readWorkflow(stack.cluster, refOfWorkflow(run!));
    if (now?.metadata.annotations?.[STOPPED_BECAUSE_ANNOTATION] === undefined) throw new Error('not stopped');
    return now;
  }, 10_000);
  assert.ok(stoppedRun);
  const info = await changeDetail(stack, SLOW, j._number);
  const removed = pipelineMessages(info, PIPELINE).filter((m) => m.message.includes('Removed from the gate-and-submit queue: unable to merge due to a missing merge requirement.'));
  assert.is(removed.length, 1);
  assert.is(info.status, 'NEW');
});

test('a failure reported on a change someone merged meanwhile: Gerrit refuses the -1, and the queue does not owe it forever', async () => {
  const x = await pushChange(adminConnection, FLAKY, { 'x.txt': 'x\n' }, 'Add x');
  await pushDirect(adminConnection, FLAKY, CONFIG_REF, { 'ci/gate.yaml': gateWorkflow(x._number) }, 'Fail change x');
  await approve(FLAKY, x);
  const [run] = await gateRuns(FLAKY, x, 1);
  await adminRest.json('POST', `changes/${encodeId(id(FLAKY, x))}/submit`, { body: {} });
  await complete(run!);
  const info = await changeDetail(stack, FLAKY, x._number);
  assert.is(info.status, 'MERGED');
  const config = queueConfigOf(GATE, `${FLAKY} master`);
  const queue = await readQueue(config.queue);
  assert.is(queue?.status?.depth, 0);
  assert.equal(queue?.status?.owed, []);
  assert.is.not(botVerified(stack, info), -1);
  // Refused (409), not posted without its vote (403): nothing about the failure is on the change.
  assert.equal(pipelineMessages(info, PIPELINE).filter((m) => m.message.includes('Failed in the gate-and-submit queue')), []);
});

test('a gate definition the policy refuses: no run, the problems located once and Verified -1, the change out of the queue', async () => {
  const change = await pushChange(adminConnection, REFUSED, { 'k.txt': 'k\n' }, 'Add k');
  const event = await approve(REFUSED, change);
  ok(await deliver(stack.functions['comment-added'], event), 'comment-added again');
  assert.equal(await runsOf(stack, REFUSED, change._number, PIPELINE), []);
  const info = await changeDetail(stack, REFUSED, change._number);
  const messages = pipelineMessages(info, PIPELINE).map((m) => m.message);
  assert.is(messages.filter((m) => m.includes('Seakeeper cannot run the gate-and-submit pipeline: ci/gate.yaml breaks the workflow policy') && m.includes('host-namespace')).length, 1, messages.join('\n'));
  assert.is(messages.filter((m) => m.includes('Failed in the gate-and-submit queue')).length, 1, messages.join('\n'));
  assert.is(botVerified(stack, info), -1);
  assert.is(info.status, 'NEW');
});

test('a change that misses a submit requirement gets one message naming it, and no run', async () => {
  await adminRest.json('PUT', `projects/${encodeId(STRICT)}/submit_requirements/No-Unresolved-Comments`, {
    body: { name: 'No-Unresolved-Comments', submittability_expression: '-has:unresolved', allow_override_in_child_projects: true },
  });
  const change = await pushChange(adminConnection, STRICT, { 'g.txt': 'g\n' }, 'Add g');
  const event = await approve(STRICT, change, { comments: { '/PATCHSET_LEVEL': [{ message: 'Does this need a release note?', unresolved: true }] } });
  // Delivered again (both ingress paths send every event): still one message.
  ok(await deliver(stack.functions['comment-added'], event), 'comment-added again');
  const info = await changeDetail(stack, STRICT, change._number);
  const messages = pipelineMessages(info, PIPELINE).map((m) => m.message);
  assert.is(messages.length, 1, messages.join('\n'));
  assert.match(messages[0]!, 'Not added to the gate-and-submit queue: the submit requirement "No-Unresolved-Comments" is not satisfied.');
  assert.is(botVerified(stack, info), undefined);
  assert.equal(await runsOf(stack, STRICT, change._number, PIPELINE), []);
  assert.is(info.status, 'NEW');
});

test('a new patch set and an abandoned change leave the queue: their runs stopped, the change behind tested again without them; reconcile ticks the queue', async () => {
  const h = await pushChange(adminConnection, SLOW, { 'h.txt': 'h\n' }, 'Add h');
  const i = await pushChange(adminConnection, SLOW, { 'i.txt': 'i\n' }, 'Add i');
  await approve(SLOW, h);
  await approve(SLOW, i);
  const [hRun] = await gateRuns(SLOW, h, 1);
  const [iRun] = await gateRuns(SLOW, i, 1);
  assert.equal(await tested(iRun!), [h._number, i._number]);

  await pushPatchSet(adminConnection, SLOW, h.change_id, { 'h.txt': 'h, again\n' }, 'Add h');
  ok(await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', h, 2)), 'patchset-created');
  const stopped = async (run: LiveWorkflow) =>
    eventually(async () => {
      const now = await readWorkflow(stack.cluster, refOfWorkflow(run));
      if (now?.metadata.annotations?.[STOPPED_BECAUSE_ANNOTATION] === undefined) throw new Error(`${run.metadata.name} is not stopped`);
      return now;
    }, 10_000);
  await stopped(hRun!);
  await stopped(iRun!);
  const iRuns = await gateRuns(SLOW, i, 2);
  const again = iRuns.find((run) => run.metadata.name !== iRun!.metadata.name)!;
  assert.equal(await tested(again), [i._number]);

  await adminRest.json('POST', `changes/${encodeId(id(SLOW, i))}/abandon`, { body: { notify: 'NONE' } });
  ok(await deliver(stack.functions['comment-added'], await gerritEvent(stack, 'gerrit.change-abandoned', i)), 'comment-added (change-abandoned)');
  await stopped(again);
  const config = queueConfigOf(GATE, `${SLOW} master`);
  const queue = await readQueue(config.queue);
  assert.is(queue?.status?.depth, 0);

  // reconcile's pass, as its own ServiceAccount, over this suite's queues (other suites' run beside it): each
  // ticked, nothing failing, nothing left to stop.
  const gate = Gate.fromEnv({ ...stack.env['comment-added'], KUBECONFIG: stack.kubeconfigs.reconcile });
  const ours = new Set([PROJECT, FLAKY, SLOW, REFUSED].map((project) => `${project} master`));
  const ticked = await gate.tick((queue) => ours.has(queue));
  assert.equal([ticked.queues, ticked.failed, ticked.stopped], [4, 0, 0], JSON.stringify(ticked));
});

test.run();
