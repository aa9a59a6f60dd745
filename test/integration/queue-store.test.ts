// The ChangeQueue store (shared/pipelines/queue-store.ts) on the rig's real kube-apiserver, acting as the
// functions that drive the gate queues (patchset-created, comment-added, workflow-completed, reconcile) with
// knative/'s RBAC in the system namespace: eight deliveries deciding on one queue at once all land, each
// decided on what the others stored before it; a redelivered enqueue writes nothing; odd queue names get valid
// object names; and the accounts can do nothing else to a ChangeQueue.
// rig: parallel (test/run.ts): ChangeQueues of its own names; no tick over all queues
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ForbiddenError } from '../../shared/errors.js';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { isDnsLabel, MAX_LABEL_LENGTH } from '../../shared/names.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, type QueueConfig, type QueueEvent } from '../../shared/pipelines/change-queue.js';
import { ChangeQueueStore, queueObjectName, type ChangeQueueObject } from '../../shared/pipelines/queue-store.js';
import { enqueueItem } from '../unit/support/pipelines.js';
import { pipelineAccounts, type PipelineAccount, type PipelineAccounts } from './support/pipeline-rbac.js';
import { kubectl } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { rejectionOf } from './support/wait.js';

const rig = loadRig();
const admin = httpClusterFromEnv({ KUBECONFIG: rig.KUBECONFIG });
const SUFFIX = uniqueSuffix();
const config = (queue: string): QueueConfig => ({ queue, pipeline: 'gate-and-submit', window: 5, windowFloor: 2, windowCeiling: 20 });
const QUEUE_ACCOUNTS: readonly PipelineAccount[] = ['patchset-created', 'comment-added', 'workflow-completed', 'reconcile'];
let accounts: PipelineAccounts;
const made: string[] = [];

/** A store as one delivery has it: its own client, acting as `account`. */
function delivery(account: PipelineAccount): ChangeQueueStore {
  return new ChangeQueueStore(httpClusterFromEnv({ KUBECONFIG: accounts.kubeconfigs[account] }), accounts.namespace);
}

const enqueue = (change: number, second: number): QueueEvent => ({ type: 'enqueue', eventId: `comment-added-${SUFFIX}-${change}`, items: [enqueueItem(change, { patchset: 3, at: second })] });

const read = (queue: QueueConfig) => admin.get<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, accounts.namespace, queueObjectName(queue.pipeline, queue.queue));

function remember(queue: QueueConfig): QueueConfig {
  made.push(queueObjectName(queue.pipeline, queue.queue));
  return queue;
}

test.before(async () => {
  // knative/system (which installs config/crds), the pipeline accounts and knative/rbac, as deployed.
  accounts = await pipelineAccounts(rig);
  await kubectl(rig, 'wait', '--for=condition=Established', '--timeout=60s', 'crd/changequeues.seakeeper.dev');
});

test.after(async () => {
  for (const name of made) await admin.delete(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, accounts.namespace, name);
  await accounts.remove();
});

test('eight deliveries enqueueing eight changes on one queue at once: all land, each decided on what landed before it', async () => {
  const queue = remember(config(`it-${SUFFIX} eight`));
  const changes = [301, 302, 303, 304, 305, 306, 307, 308];
  const results = await Promise.all(changes.map((change, i) => delivery(QUEUE_ACCOUNTS[i % QUEUE_ACCOUNTS.length]!).update(queue, enqueue(change, i))));
  const retries = results.map((r) => r.retries);
  console.log(`8 concurrent enqueues: ${retries.reduce((a, b) => a + b, 0)} conflicts retried (per delivery: ${retries.join(' ')})`);
  const stored = (await read(queue))!.status!;
  assert.equal([...stored.items.map((i) => i.change)].sort(), changes);
  assert.is(stored.depth, 8);
  assert.equal(new Set(stored.observed), new Set(changes.map((change) => `comment-added-${SUFFIX}-${change}`)));
  // Each item as its event carried it: its own enqueuedAt, revision and ref.
  for (const [i, change] of changes.entries()) {
    const stayed = stored.items.find((q) => q.change === change)!;
    const sent = enqueueItem(change, { patchset: 3, at: i });
    assert.equal([stayed.enqueuedAt, stayed.revision, stayed.ref], [sent.enqueuedAt, sent.revision, sent.ref]);
  }
  // The writes landed one after another: the k-th held k items, the k-th change last, and so the queue's order
  // is the order they landed in.
  assert.ok(results.every((r) => r.written));
  const byDepth = [...results].sort((a, b) => a.decision.state.depth - b.decision.state.depth);
  assert.equal(byDepth.map((r) => r.decision.state.depth), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(byDepth.map((r) => r.decision.state.items.at(-1)!.change), stored.items.map((q) => q.change));
  assert.equal(byDepth.at(-1)!.decision.state, stored);
  for (const [k, result] of byDepth.entries()) assert.equal(result.decision.state.items.map((q) => q.change), stored.items.slice(0, k + 1).map((q) => q.change));
  // The window of five has runs; the three behind wait.
  assert.is(stored.items.filter((q) => q.run?.state === 'running').length, 5);
  assert.ok(retries.every((r) => Number.isInteger(r) && r >= 0 && r < 16));
});

test('a redelivered enqueue (the same event id) writes nothing: the object keeps its resourceVersion', async () => {
  const queue = remember(config(`it-${SUFFIX} redelivered`));
  const first = await delivery('comment-added').update(queue, enqueue(401, 0));
  assert.ok(first.written);
  const before = (await read(queue))!;
  const again = await delivery('comment-added').update(queue, enqueue(401, 0));
  assert.equal({ written: again.written, retries: again.retries }, { written: false, retries: 0 });
  assert.equal(again.decision.state, before.status);
  // …and owes the same actions, so a redelivery after a crash still carries them out.
  assert.equal(again.decision.actions, first.decision.actions);
  const after = (await read(queue))!;
  assert.is(after.metadata.resourceVersion, before.metadata.resourceVersion);
  assert.equal(await delivery('reconcile').read(queue), before.status);
});

test('odd queue names: a valid object name, readable where it can be, the exact name in the spec', async () => {
  const names = ['mediawiki/core master', `it-${SUFFIX} Ünïcödé 日本語 ✓`, `it-${SUFFIX} ${'x'.repeat(300 - SUFFIX.length - 4)}`];
  assert.is(names[2]!.length, 300);
  for (const [i, name] of names.entries()) {
    const queue = remember(config(name === 'mediawiki/core master' ? `${name} ${SUFFIX}` : name));
    const object = queueObjectName(queue.pipeline, queue.queue);
    assert.ok(isDnsLabel(object) && object.length <= MAX_LABEL_LENGTH, object);
    await delivery('comment-added').update(queue, enqueue(500 + i, i));
    const stored = (await read(queue))!;
    assert.is(stored.metadata.name, object);
    assert.equal(stored.spec, { pipeline: 'gate-and-submit', queue: queue.queue });
    assert.equal(stored.status!.items.map((q) => q.change), [500 + i]);
  }
  assert.match(queueObjectName('gate-and-submit', `mediawiki/core master ${SUFFIX}`), /^gate-and-submit-mediawiki-core-master-[a-z0-9-]+--[a-z2-7]{10}$/);
  assert.match(queueObjectName('gate-and-submit', names[1]!), /^gate-and-submit-it-[a-z0-9-]+-unicode--[a-z2-7]{10}$/);
});

test('the queue accounts may read, create and swap the status, nothing else: not the spec, not delete, not elsewhere', async () => {
  const queue = remember(config(`it-${SUFFIX} rbac`));
  await delivery('workflow-completed').update(queue, enqueue(601, 0));
  const stored = (await read(queue))!;
  for (const account of QUEUE_ACCOUNTS) {
    const cluster = httpClusterFromEnv({ KUBECONFIG: accounts.kubeconfigs[account] });
    const patched = await rejectionOf(cluster.patch<ChangeQueueObject>({ ...stored, spec: { ...stored.spec, queue: 'another' } }, stored.metadata.resourceVersion!));
    assert.instance(patched.err, ForbiddenError, `${account} patch`);
    const deleted = await rejectionOf(cluster.delete(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, accounts.namespace, stored.metadata.name));
    assert.instance(deleted.err, ForbiddenError, `${account} delete`);
    const elsewhere = await rejectionOf(new ChangeQueueStore(cluster, 'default').update(queue, enqueue(602, 1)));
    assert.instance(elsewhere.err, ForbiddenError, `${account} in default`);
  }
  // workflow-watch has no business with the queues (patchset-created has: a new patch set dequeues).
  const other = await rejectionOf(delivery('workflow-watch').read(queue));
  assert.instance(other.err, ForbiddenError);
});

test.run();
