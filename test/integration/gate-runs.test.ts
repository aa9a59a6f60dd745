// What a run tests and how a gate run's end is read, end to end against the rig (support/pipelines.ts, as
// gate.test.ts): a check run of an extension change that depends on an unmerged core change (Depends-On) gets
// both to merge, and a dependency cycle is refused with one report; a stacked chain that waited for its parent
// enters the gate queue behind it; a run whose checkout
// reports a merge conflict is reported "Merge failed … Please rebase" instead of a test failure; runs whose pods
// the infrastructure took away — one evicted through the real Eviction API (the API server deletes it and Argo's
// controller marks the step `pod deleted`), one failed as the kubelet's eviction manager fails a pod (the test
// writes the pod's status as that kubelet would: KWOK, the rig's kubelet, has no memory pressure to act on) —
// are run again in place, and the runs behind them keep going. Every vote, message and merge is read back from
// Gerrit.
// rig: parallel (test/run.ts): projects, namespaces and gate queues of its own; no tick, no pass over others
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChangeInfo } from '../../shared/gerrit/types.js';
import { changeUrl } from '../../shared/gerrit/refs.js';
import { pushChange, pushPatchSet } from '../../dev/gerrit-chores.js';
import { GerritRest } from '../../shared/gerrit/rest.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND } from '../../shared/pipelines/change-queue.js';
import { queueObjectName, type ChangeQueueObject } from '../../shared/pipelines/queue-store.js';
import { readWorkflow, refOfWorkflow } from '../../shared/runs/workflow-store.js';
import { isCompletedPhase, safeText, STALE_BECAUSE_ANNOTATION, STOPPED_BECAUSE_ANNOTATION, SUPERSEDED_BY_ANNOTATION } from '../../shared/runs/workflow.js';
import { podsOf, running, type RunPod } from './support/argo.js';
import { approve, complete, completeInOrder, outcomeWorkflow, gateRuns, merged, newGateRun, ok, PIPELINE, tested, testedChanges } from './support/gate.js';
import { rigConnections } from './support/gerrit.js';
import { botVerified, changeDetail, completedEvent, configuredProject, deliver, gerritEvent, pipelineMessages, runsOf, startPipelineStack, waitForRuns, type PipelineStack } from './support/pipelines.js';
import { deleteNamespacesOf, hideProjects } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { eventually } from './support/wait.js';

const rig = loadRig();
const { admin: adminConnection } = rigConnections(rig);
const adminRest = new GerritRest(adminConnection);
const suffix = uniqueSuffix();
const PARENT = `it-${suffix}-gate-runs`;
const CHAIN = `${PARENT}/chain`;
const CONFLICT = `${PARENT}/conflict`;
const INFRA = `${PARENT}/infra`;
const EXTENSION = `${PARENT}/extension`;
/** A check that ends in a second. */
const QUICK = `${PARENT}/quick`;
/** Two projects whose gate shares one queue, as MediaWiki core and its extensions do. */
const SHARED_CORE = `${PARENT}/shared-core`;
const SHARED_EXTENSION = `${PARENT}/shared-extension`;
const SHARED_QUEUE = `${PARENT}-mediawiki`;
/** A project whose owner names SHARED_QUEUE without the policy opening it to them. */
const INTRUDER = `${PARENT}/intruder`;
const PROJECTS = [CHAIN, CONFLICT, INFRA, EXTENSION, QUICK, SHARED_CORE, SHARED_EXTENSION, INTRUDER];

/** The kubelet's message on a pod it evicts for memory pressure. */
const EVICTED = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 52Mi. ';
/** Argo's RECENTLY_STARTED_POD_DURATION, at its default: a pod missing sooner after its start is made again. */
const ARGO_RECENTLY_STARTED_MS = 10_000;

const CONFLICT_LINE = 'merge conflict: change under test does not merge onto master with the changes ahead of it';

/**
 * A gate Workflow of one step that, for a change whose subject says `[conflict]`, ends as the checkout ends on
 * a conflict (config/gate/checkout.sh: exit 3, its line in the termination log), and otherwise succeeds after
 * `duration`.
 */
function gateWorkflow(duration = '1s'): string {
  return outcomeWorkflow(`{{=sprig.contains('${safeText('[conflict]')}', workflow.parameters.subject) ? '3' : '0'}}`, duration, CONFLICT_LINE);
}


const config = (duration?: string) => ({ 'seakeeper.yaml': `pipelines:\n  ${PIPELINE}: { workflow: ci/gate.yaml }\n`, 'ci/gate.yaml': gateWorkflow(duration) });

let stack: PipelineStack;

test.before(async () => {
  stack = await startPipelineStack(rig, PARENT, { sharedQueues: { [SHARED_QUEUE]: [SHARED_CORE, `${PARENT}/shared-extension`] } });
  const check = { ...config('300s'), 'seakeeper.yaml': 'pipelines:\n  check: { workflow: ci/gate.yaml }\n' };
  await Promise.all([
    configuredProject(rig, stack, CHAIN, config()),
    configuredProject(rig, stack, CONFLICT, config()),
    configuredProject(rig, stack, INFRA, config('300s')),
    configuredProject(rig, stack, EXTENSION, check),
    configuredProject(rig, stack, QUICK, { ...check, 'ci/gate.yaml': gateWorkflow('1s') }),
    ...[SHARED_CORE, SHARED_EXTENSION, INTRUDER].map((project) => configuredProject(rig, stack, project, { ...config(), 'seakeeper.yaml': `pipelines:\n  ${PIPELINE}: { workflow: ci/gate.yaml, queue: ${SHARED_QUEUE} }\n` })),
  ]);
});

test.after(async () => {
  // Without a stack the set-up failed: its error is the one to see, not this hook's.
  if (!stack) return;
  await stack.stop();
  const namespace = stack.env['comment-added'].SEAKEEPER_NAMESPACE!;
  for (const queue of [CHAIN, CONFLICT, INFRA, SHARED_QUEUE]) await stack.cluster.delete(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, namespace, queueObjectName(PIPELINE, `${queue} master`));
  await deleteNamespacesOf(stack.cluster, PROJECTS);
  await hideProjects(adminConnection, [PARENT, ...PROJECTS]);
});

const queueOf = async (project: string) =>
  stack.cluster.get<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, stack.env['comment-added'].SEAKEEPER_NAMESPACE!, queueObjectName(PIPELINE, `${project} master`));

const url = (change: ChangeInfo) => changeUrl(rig.GERRIT_URL, change.project, change._number);

/** The change's patchset-created (as gerrit-webhook sent it) delivered to patchset-created. */
async function uploaded(change: ChangeInfo, patchset = 1): Promise<void> {
  ok(await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', change, patchset)), 'patchset-created');
}

test('check: an extension change that depends on an unmerged change of another project is tested with it merged first; the start message names it', async () => {
  const core = await pushChange(adminConnection, CHAIN, { 'hook.txt': 'hook\n' }, 'Add a hook');
  const extension = await pushChange(adminConnection, EXTENSION, { 'use.txt': 'use\n' }, `Use the hook\n\nDepends-On: ${url(core)}`);
  await uploaded(extension);
  const [run] = await waitForRuns(stack, EXTENSION, extension._number, 1);
  const lines = await testedChanges(stack, run!);
  assert.equal(
    lines.map((l) => [l.project, l.change, l.ref]),
    [
      [CHAIN, core._number, core.revisions![core.current_revision!]!.ref],
      [EXTENSION, extension._number, extension.revisions![extension.current_revision!]!.ref],
    ],
  );
  const info = await changeDetail(stack, EXTENSION, extension._number);
  const started = pipelineMessages(info, 'check').map((m) => m.message);
  assert.is(started.length, 1, started.join('\n'));
  assert.match(started[0]!, `Tested with the changes it depends on, merged first:\n- ${CHAIN} change ${core._number}, patch set 1`);
});

test('check: a new patch set of the dependency checks again every change tested with it (its dependent, that one\'s dependent, the change stacked on it); the runs of the old state are stopped unreported', async () => {
  const core = await pushChange(adminConnection, CHAIN, { 'base.txt': 'base\n' }, 'Add a base');
  const extension = await pushChange(adminConnection, EXTENSION, { 'on-base.txt': 'x\n' }, `Build on the base\n\nDepends-On: ${core.change_id}`);
  const second = await pushChange(adminConnection, EXTENSION, { 'on-extension.txt': 'y\n' }, `Build on the extension\n\nDepends-On: ${url(extension)}`);
  const stacked = await pushChange(adminConnection, EXTENSION, { 'on-extension.txt': 'y, z\n' }, 'Build on that', 'master', second.revisions![second.current_revision!]!.ref);
  const dependents = [extension, second, stacked];
  // The extension's upload checks it, and the changes already tested with it: one run each.
  await uploaded(extension);
  const first = await Promise.all(dependents.map(async (change) => (await waitForRuns(stack, EXTENSION, change._number, 1))[0]!));
  const again = await pushPatchSet(adminConnection, CHAIN, core.change_id, { 'base.txt': 'base, again\n' }, 'Add a base');
  await uploaded(again, 2);
  const newRef = again.revisions![again.current_revision!]!.ref;
  for (const [i, change] of dependents.entries()) {
    const runs = await waitForRuns(stack, EXTENSION, change._number, 2);
    const fresh = runs.find((run) => run.metadata.name !== first[i]!.metadata.name)!;
    const lines = await testedChanges(stack, fresh);
    assert.equal(lines[0] && [lines[0].change, lines[0].ref], [core._number, newRef], `change ${change._number} is tested on the new patch set`);
    assert.equal(lines.at(-1)?.change, change._number);
    const old = await eventually(async () => {
      const now = await readWorkflow(stack.cluster, refOfWorkflow(first[i]!));
      if (now?.metadata.annotations?.[SUPERSEDED_BY_ANNOTATION] === undefined) throw new Error(`the old run of change ${change._number} is not superseded`);
      return now;
    }, 10_000);
    assert.is(old.metadata.annotations?.[SUPERSEDED_BY_ANNOTATION], fresh.metadata.name);
  }
  assert.equal(
    (await testedChanges(stack, (await runsOf(stack, EXTENSION, stacked._number)).find((run) => run.metadata.name !== first[2]!.metadata.name)!)).map((c) => c.change),
    [core._number, extension._number, second._number, stacked._number],
  );
});

test('check: a run that finishes after its dependency got a new patch set is not reported (nothing votes on the old state); the new patch set\'s upload checks it again, and that run is reported', async () => {
  const core = await pushChange(adminConnection, CHAIN, { 'moving.txt': 'm\n' }, 'Add a moving part');
  const dependent = await pushChange(adminConnection, QUICK, { 'use-moving.txt': 'u\n' }, `Use the moving part\n\nDepends-On: ${url(core)}`);
  await uploaded(dependent);
  const [run] = await waitForRuns(stack, QUICK, dependent._number, 1);
  // The new patch set's event has not come yet (late, or lost and redelivered later).
  const again = await pushPatchSet(adminConnection, CHAIN, core.change_id, { 'moving.txt': 'm, moved\n' }, 'Add a moving part');
  const done = await complete(stack, run!);
  assert.is(done.status?.phase, 'Succeeded');
  const after = await readWorkflow(stack.cluster, refOfWorkflow(run!));
  assert.match(after?.metadata.annotations?.[STALE_BECAUSE_ANNOTATION] ?? '', safeText(`change ${core._number} patch set 1, which has patch set 2 now`));
  let info = await changeDetail(stack, QUICK, dependent._number);
  assert.is(pipelineMessages(info).length, 1, 'the start message only');
  assert.is(botVerified(stack, info), undefined);
  // A redelivery does not ask again: the Workflow says why it is not reported.
  ok(await deliver(stack.functions['workflow-completed'], await completedEvent(stack, refOfWorkflow(run!))), 'workflow-completed, again');

  await uploaded(again, 2);
  const runs = await waitForRuns(stack, QUICK, dependent._number, 2);
  const fresh = runs.find((r) => r.metadata.name !== run!.metadata.name)!;
  await complete(stack, fresh);
  info = await eventually(async () => {
    const now = await changeDetail(stack, QUICK, dependent._number);
    if (botVerified(stack, now) === undefined) throw new Error('not reported yet');
    return now;
  }, 10_000);
  assert.is(botVerified(stack, info), 1);
  const reports = pipelineMessages(info).filter((m) => m.message.includes('Tested with the changes it depends on: '));
  assert.is(reports.length, 1, pipelineMessages(info).map((m) => m.message).join('\n---\n'));
  assert.match(reports[0]!.message, `${CHAIN} ${core._number},2`);
});

test('check: a dependency cycle is refused with one report naming it (Verified -1), and no run', async () => {
  const a = await pushChange(adminConnection, EXTENSION, { 'a.txt': 'a\n' }, 'A');
  const b = await pushChange(adminConnection, EXTENSION, { 'b.txt': 'b\n' }, `B\n\nDepends-On: ${url(a)}`);
  await pushPatchSet(adminConnection, EXTENSION, a.change_id, { 'a.txt': 'a\n' }, `A\n\nDepends-On: ${url(b)}`);
  await uploaded(a, 2);
  await uploaded(a, 2);
  assert.equal(await runsOf(stack, EXTENSION, a._number, 'check'), []);
  const info = await changeDetail(stack, EXTENSION, a._number);
  const messages = pipelineMessages(info, 'check').map((m) => m.message);
  assert.is(messages.length, 1, messages.join('\n'));
  assert.match(messages[0]!, `its dependencies form a cycle (${a._number} → ${b._number} → ${a._number})`);
  assert.is(botVerified(stack, info), -1);
});

test('gate: a change that depends on a change of another project in its shared queue is tested behind it, and both merge; one in another queue is refused, told why', async () => {
  const core = await pushChange(adminConnection, SHARED_CORE, { 'api.txt': 'api\n' }, 'Add an API');
  const extension = await pushChange(adminConnection, SHARED_EXTENSION, { 'use.txt': 'use\n' }, `Use the API\n\nDepends-On: ${url(core)}`);
  const elsewhere = await pushChange(adminConnection, CHAIN, { 'other.txt': 'other\n' }, 'Another queue\'s change');
  const stranded = await pushChange(adminConnection, SHARED_EXTENSION, { 'stranded.txt': 's\n' }, `Needs another queue\n\nDepends-On: ${url(elsewhere)}`);
  await approve(stack, adminRest, SHARED_CORE, core);
  await approve(stack, adminRest, SHARED_EXTENSION, extension);
  await approve(stack, adminRest, SHARED_EXTENSION, stranded);
  const [[coreRun], [extensionRun]] = await Promise.all([gateRuns(stack, SHARED_CORE, core, 1), gateRuns(stack, SHARED_EXTENSION, extension, 1)]);
  assert.equal(
    (await testedChanges(stack, extensionRun!)).map((c) => [c.project, c.change]),
    [
      [SHARED_CORE, core._number],
      [SHARED_EXTENSION, extension._number],
    ],
  );
  await complete(stack, extensionRun!);
  await complete(stack, coreRun!);
  const [coreInfo, extensionInfo] = await Promise.all([merged(stack, SHARED_CORE, core), merged(stack, SHARED_EXTENSION, extension)]);
  assert.equal([botVerified(stack, coreInfo), botVerified(stack, extensionInfo)], [2, 2]);

  assert.equal(await runsOf(stack, SHARED_EXTENSION, stranded._number, PIPELINE), []);
  const told = pipelineMessages(await changeDetail(stack, SHARED_EXTENSION, stranded._number), PIPELINE).map((m) => m.message);
  assert.is(told.length, 1, told.join('\n'));
  assert.match(told[0]!, `Not added to the gate-and-submit queue: it depends on change ${elsewhere._number} of ${CHAIN}, which is in a different queue (${CHAIN} master)`);
});

test('gate: a project whose config names a shared queue the policy does not open to it is kept out, told why; the queue never sees its change', async () => {
  const change = await pushChange(adminConnection, INTRUDER, { 'ahead.txt': 'a\n' }, 'Get ahead of the shared queue');
  await approve(stack, adminRest, INTRUDER, change);
  const told = pipelineMessages(await changeDetail(stack, INTRUDER, change._number), PIPELINE).map((m) => m.message);
  assert.is(told.length, 1, told.join('\n'));
  assert.match(told[0]!, `Not added to the gate-and-submit queue: the gate queue "${SHARED_QUEUE}" is shared by ${SHARED_CORE}, ${SHARED_EXTENSION} (sharedQueues in the system policy), and ${INTRUDER} is not among them`);
  assert.equal(await runsOf(stack, INTRUDER, change._number, PIPELINE), []);
  assert.not.ok((await queueOf(SHARED_QUEUE))?.status?.items.some((item) => item.change === change._number));
});

test('gate: changes approved before the change they depend on wait, told why; that one\'s approval brings them in behind it, a dependent\'s dependent too, and all merge', async () => {
  const core = await pushChange(adminConnection, SHARED_CORE, { 'point.txt': 'p\n' }, 'Add a hook point');
  const extension = await pushChange(adminConnection, SHARED_EXTENSION, { 'at.txt': 'a\n' }, `Hook in at the point\n\nDepends-On: ${url(core)}`);
  const further = await pushChange(adminConnection, SHARED_EXTENSION, { 'further.txt': 'f\n' }, `Use the hook\n\nDepends-On: ${extension.change_id}`);
  await approve(stack, adminRest, SHARED_EXTENSION, extension);
  await approve(stack, adminRest, SHARED_EXTENSION, further);
  const told = pipelineMessages(await changeDetail(stack, SHARED_EXTENSION, extension._number), PIPELINE).map((m) => m.message);
  assert.is(told.length, 1, told.join('\n'));
  assert.match(told[0]!, `it needs change ${core._number}, which is neither merged nor in the queue`);
  assert.equal(await runsOf(stack, SHARED_EXTENSION, extension._number, PIPELINE), []);
  assert.equal(await runsOf(stack, SHARED_EXTENSION, further._number, PIPELINE), []);

  await approve(stack, adminRest, SHARED_CORE, core);
  const [[coreRun], [extensionRun], [furtherRun]] = await Promise.all([
    gateRuns(stack, SHARED_CORE, core, 1),
    gateRuns(stack, SHARED_EXTENSION, extension, 1),
    gateRuns(stack, SHARED_EXTENSION, further, 1),
  ]);
  assert.equal(await tested(stack, extensionRun!), [core._number, extension._number]);
  assert.equal(await tested(stack, furtherRun!), [core._number, extension._number, further._number]);
  await completeInOrder(stack, [coreRun!, extensionRun!, furtherRun!]);
  const infos = await Promise.all([merged(stack, SHARED_CORE, core), merged(stack, SHARED_EXTENSION, extension), merged(stack, SHARED_EXTENSION, further)]);
  assert.equal(infos.map((info) => botVerified(stack, info)), [2, 2, 2]);
  // The queue remembers, for the status page, the refusals and the merges.
  const remembered = (await queueOf(SHARED_QUEUE))?.status;
  assert.ok(remembered?.refused?.some((r) => r.change === extension._number && r.why.includes(`it needs change ${core._number}`)), JSON.stringify(remembered?.refused));
  assert.equal(remembered?.departed?.filter((d) => [core._number, extension._number, further._number].includes(d.change)).map((d) => [d.change, d.merged]), [[core._number, true], [extension._number, true], [further._number, true]]);
});

test('gate: a new patch set of a dependency in the queue takes it out, and the change that depends on it leaves with it, told which', async () => {
  const core = await pushChange(adminConnection, SHARED_CORE, { 'reworked.txt': 'r\n' }, 'Rework the API');
  const extension = await pushChange(adminConnection, SHARED_EXTENSION, { 'on-rework.txt': 'o\n' }, `Follow the rework\n\nDepends-On: ${url(core)}`);
  await approve(stack, adminRest, SHARED_CORE, core);
  await approve(stack, adminRest, SHARED_EXTENSION, extension);
  await Promise.all([gateRuns(stack, SHARED_CORE, core, 1), gateRuns(stack, SHARED_EXTENSION, extension, 1)]);
  const again = await pushPatchSet(adminConnection, SHARED_CORE, core.change_id, { 'reworked.txt': 'r, again\n' }, 'Rework the API');
  await uploaded(again, 2);
  const queue = await eventually(async () => {
    const now = await queueOf(SHARED_QUEUE);
    if (now?.status?.items.some((item) => item.change === extension._number || item.change === core._number)) throw new Error('still queued');
    return now;
  }, 10_000);
  assert.ok(queue);
  const removed = pipelineMessages(await changeDetail(stack, SHARED_EXTENSION, extension._number), PIPELINE).filter((m) => m.message.includes('Removed from the gate-and-submit queue'));
  assert.is(removed.length, 1);
  assert.match(removed[0]!.message, `change ${core._number}, which it needs merged first`);
  assert.equal((await Promise.all([changeDetail(stack, SHARED_CORE, core._number), changeDetail(stack, SHARED_EXTENSION, extension._number)])).map((i) => i.status), ['NEW', 'NEW']);
});

test('gate: when a dependency fails, the change that depends on it leaves the queue with it, told which', async () => {
  const core = await pushChange(adminConnection, SHARED_CORE, { 'break.txt': 'b\n' }, 'Break the API [conflict]');
  const extension = await pushChange(adminConnection, SHARED_EXTENSION, { 'follow.txt': 'f\n' }, `Follow the API\n\nDepends-On: ${url(core)}`);
  await approve(stack, adminRest, SHARED_CORE, core);
  await approve(stack, adminRest, SHARED_EXTENSION, extension);
  const [[coreRun], [extensionRun]] = await Promise.all([gateRuns(stack, SHARED_CORE, core, 1), gateRuns(stack, SHARED_EXTENSION, extension, 1)]);
  await complete(stack, coreRun!);
  // Stopped by the queue, or finished before the stop came (its pod runs a second): either way not counted.
  const after = await readWorkflow(stack.cluster, refOfWorkflow(extensionRun!));
  assert.ok(after?.metadata.annotations?.[STOPPED_BECAUSE_ANNOTATION] !== undefined || isCompletedPhase(after?.status?.phase), String(after?.status?.phase));
  const info = await changeDetail(stack, SHARED_EXTENSION, extension._number);
  const removed = pipelineMessages(info, PIPELINE).filter((m) => m.message.includes('Removed from the gate-and-submit queue'));
  assert.is(removed.length, 1, pipelineMessages(info, PIPELINE).map((m) => m.message).join('\n'));
  assert.match(removed[0]!.message, `change ${core._number}, which it needs merged first, failed in the queue`);
  assert.equal([info.status, (await changeDetail(stack, SHARED_CORE, core._number)).status], ['NEW', 'NEW']);
  assert.equal(await runsOf(stack, SHARED_EXTENSION, extension._number, PIPELINE).then((runs) => runs.length), 1, 'not tested again without it');
  assert.equal((await queueOf(SHARED_QUEUE))?.status?.items.map((item) => item.change), [], 'both out of the queue');
});

test('a stacked change approved before its parent waits, told why; the parent\'s approval brings the chain in, in order, and both merge; a change on top that depends on another queue\'s change stays out', async () => {
  const parent = await pushChange(adminConnection, CHAIN, { 'c.txt': 'c\n' }, 'Add c');
  const child = await pushChange(adminConnection, CHAIN, { 'c.txt': 'c, used\n' }, 'Use c', 'master', parent.revisions![parent.current_revision!]!.ref);
  const elsewhere = await pushChange(adminConnection, SHARED_CORE, { 'else.txt': 'e\n' }, 'In the shared queue');
  const top = await pushChange(adminConnection, CHAIN, { 'top.txt': 't\n' }, `On top\n\nDepends-On: ${url(elsewhere)}`, 'master', child.revisions![child.current_revision!]!.ref);
  await approve(stack, adminRest, CHAIN, child);
  await approve(stack, adminRest, CHAIN, top);
  const waiting = await changeDetail(stack, CHAIN, child._number);
  const told = pipelineMessages(waiting, PIPELINE).map((m) => m.message);
  assert.is(told.length, 1, told.join('\n'));
  assert.ok(told[0]!.endsWith(`\n\nNot added to the gate-and-submit queue: it is based on change ${parent._number}, which does not carry Code-Review +2.`), told[0]);
  assert.equal(await runsOf(stack, CHAIN, child._number, PIPELINE), []);

  await approve(stack, adminRest, CHAIN, parent);
  const [[parentRun], [childRun]] = await Promise.all([gateRuns(stack, CHAIN, parent, 1), gateRuns(stack, CHAIN, child, 1)]);
  assert.equal(await tested(stack, childRun!), [parent._number, child._number]);
  assert.equal(await runsOf(stack, CHAIN, top._number, PIPELINE), [], 'its Depends-On keeps it out');
  assert.equal((await queueOf(CHAIN))?.status?.items.map((item) => item.change).filter((n) => [parent._number, child._number, top._number].includes(n)), [parent._number, child._number]);
  await complete(stack, childRun!);
  await complete(stack, parentRun!);
  const [parentInfo, childInfo] = await Promise.all([merged(stack, CHAIN, parent), merged(stack, CHAIN, child)]);
  assert.equal([botVerified(stack, parentInfo), botVerified(stack, childInfo)], [2, 2]);
});

test('a merge conflict is reported as a merge failure (Verified -1, rebase) once the change ahead finished, not as a test failure; the change ahead merges', async () => {
  const ahead = await pushChange(adminConnection, CONFLICT, { 'a.txt': 'a\n' }, 'Add a');
  const conflicting = await pushChange(adminConnection, CONFLICT, { 'b.txt': 'b\n' }, 'Add b [conflict]');
  await approve(stack, adminRest, CONFLICT, ahead);
  await approve(stack, adminRest, CONFLICT, conflicting);
  const [[aheadRun], [conflictRun]] = await Promise.all([gateRuns(stack, CONFLICT, ahead, 1), gateRuns(stack, CONFLICT, conflicting, 1)]);
  const done = await complete(stack, conflictRun!);
  assert.is(done.status?.phase, 'Failed');
  assert.equal(pipelineMessages(await changeDetail(stack, CONFLICT, conflicting._number), PIPELINE).filter((m) => m.message.includes('Merge failed')), [], 'not before the change ahead finished');

  await complete(stack, aheadRun!);
  await merged(stack, CONFLICT, ahead);
  const info = await changeDetail(stack, CONFLICT, conflicting._number);
  const reports = pipelineMessages(info, PIPELINE).filter((m) => m.message.includes('Merge failed') || m.message.includes('Failed in'));
  assert.equal(
    reports.map((m) => m.message),
    [`Patch Set 1: Verified-1\n\nMerge failed in the gate-and-submit queue: it does not merge onto master with ${ahead._number},1 ahead of it (${CONFLICT_LINE}). Please rebase it and upload a new patch set.`],
  );
  assert.is(botVerified(stack, info), -1);
  assert.is(info.status, 'NEW');
  assert.is((await queueOf(CONFLICT))?.status?.depth, 0);
});

test('runs whose pods the infrastructure took (evicted through the API, evicted by the kubelet) run again in place; the run behind keeps going; nothing is reported', async () => {
  const first = await pushChange(adminConnection, INFRA, { 'p.txt': 'p\n' }, 'Add p');
  const second = await pushChange(adminConnection, INFRA, { 'q.txt': 'q\n' }, 'Add q');
  await approve(stack, adminRest, INFRA, first);
  await approve(stack, adminRest, INFRA, second);
  const [[firstRun], [secondRun]] = await Promise.all([gateRuns(stack, INFRA, first, 1), gateRuns(stack, INFRA, second, 1)]);
  const [firstRunning] = await Promise.all([running(stack.cluster, refOfWorkflow(firstRun!)), running(stack.cluster, refOfWorkflow(secondRun!))]);
  const [[firstPod], [secondPod]] = await Promise.all([podsOf(stack.cluster, refOfWorkflow(firstRun!)), podsOf(stack.cluster, refOfWorkflow(secondRun!))]);

  // The second's pod is failed as the kubelet's eviction manager fails a pod on a node short of memory.
  const pod = (await stack.cluster.get<RunPod>('v1', 'Pod', secondPod!.metadata.namespace!, secondPod!.metadata.name))!;
  await stack.cluster.replaceStatus<RunPod>({
    ...pod,
    status: { ...pod.status, phase: 'Failed', reason: 'Evicted', message: EVICTED } as RunPod['status'],
  });
  // The first's is evicted as a drain or a preemption would: the API server deletes it. Argo's controller makes
  // a pod deleted in its first 10 s again itself (RECENTLY_STARTED_POD_DURATION): only a later loss reaches us.
  const started = Date.parse(String(Object.values(firstRunning.status?.nodes ?? {}).find((n) => n.type === 'Pod')?.startedAt));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + ARGO_RECENTLY_STARTED_MS + 1000 - Date.now())));
  const kc = new KubeConfig();
  kc.loadFromFile(rig.KUBECONFIG);
  await kc.makeApiClient(CoreV1Api).createNamespacedPodEviction({
    name: firstPod!.metadata.name,
    namespace: firstPod!.metadata.namespace!,
    body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: firstPod!.metadata.name, namespace: firstPod!.metadata.namespace! } },
  });

  // Each is re-run at the same speculative state: the second still tests the first under it.
  const [firstDone, secondDone] = await Promise.all([complete(stack, firstRun!), complete(stack, secondRun!)]);
  const nodeMessages = (run: typeof firstDone) => Object.values(run.status?.nodes ?? {}).filter((n) => n.type === 'Pod').map((n) => `${n.phase}: ${n.message}`);
  assert.equal(nodeMessages(firstDone), ['Error: pod deleted']);
  assert.equal(nodeMessages(secondDone), [`Failed: ${EVICTED}`]);
  const [firstAgain, secondAgain] = await Promise.all([newGateRun(stack, INFRA, first, [firstRun!]), newGateRun(stack, INFRA, second, [secondRun!])]);
  assert.equal(await tested(stack, firstAgain), [first._number]);
  assert.equal(await tested(stack, secondAgain), [first._number, second._number]);
  const queue = await queueOf(INFRA);
  assert.equal(
    queue?.status?.items.map((item) => [item.change, item.run?.name, item.run?.attempt]),
    [
      [first._number, firstAgain.metadata.name, 2],
      [second._number, secondAgain.metadata.name, 2],
    ],
  );
  // Neither re-run stopped the other: the first's re-run was not a reset of the run behind it.
  const [firstNow, secondNow] = await Promise.all([readWorkflow(stack.cluster, refOfWorkflow(firstAgain)), readWorkflow(stack.cluster, refOfWorkflow(secondAgain))]);
  assert.equal([firstNow?.metadata.annotations?.[STOPPED_BECAUSE_ANNOTATION], secondNow?.metadata.annotations?.[STOPPED_BECAUSE_ANNOTATION]], [undefined, undefined]);
  for (const change of [first, second]) {
    const info = await changeDetail(stack, INFRA, change._number);
    assert.equal(pipelineMessages(info, PIPELINE).filter((m) => !m.message.includes('Starting gate-and-submit jobs')), [], `change ${change._number}`);
    assert.is.not(botVerified(stack, info), -1);
  }
});

test.run();
