// The ChangeQueue CRD (config/crds/changequeues.yaml) on the rig's real kube-apiserver: a state decide made is
// written through the status subresource by compare-and-swap, as the gate's shell will write it, and reads back
// equal (nothing pruned, nothing converted); the API server refuses a status outside the schema; and
// `kubectl get changequeues` shows the printer columns.
// rig: parallel (test/run.ts): ChangeQueues in a namespace of its own; config/crds applied as the rig has them
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConflictError, PermanentError } from '../../shared/errors.js';
import type { ClusterObject } from '../../shared/k8s/api.js';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, decide, emptyQueue, type EnqueueItem, type QueueConfig, type QueueEvent, type QueueState } from '../../shared/pipelines/change-queue.js';
import { rejectionOf } from './support/wait.js';
import { applyManifests, kubectl } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const rig = loadRig();
const cluster = httpClusterFromEnv({ KUBECONFIG: rig.KUBECONFIG });
const NAMESPACE = `it-${uniqueSuffix()}-cq`;
const CONFIG: QueueConfig = { queue: 'mediawiki/core master', pipeline: 'gate-and-submit', window: 5, windowFloor: 2, windowCeiling: 20 };

interface ChangeQueue extends ClusterObject {
  spec: { pipeline: string; queue: string };
  status?: QueueState;
}

const item = (change: number, needs: number[] = []): EnqueueItem => ({
  project: 'mediawiki/core',
  branch: 'master',
  change,
  patchset: 2,
  ref: `refs/changes/${change % 100}/${change}/2`,
  revision: change.toString(16).padStart(40, 'a'),
  enqueuedAt: '2025-01-01T12:00:00.000Z',
  needs,
});

/** A state with something of everything: runs in each state, each decision, owed reports with and without a vote. */
function busyState(): QueueState {
  let state = emptyQueue(CONFIG);
  const send = (event: QueueEvent) => (state = decide(state, event, CONFIG).state);
  const run = (change: number) => state.items.find((i) => i.change === change)!.run!.name;
  send({ type: 'enqueue', eventId: 'comment-added-1', items: [item(101), item(102), item(103, [102]), item(104), item(105)] });
  send({ type: 'run-finished', name: run(102), result: 'failed', message: 'child "gate-and-submit-102-2-x" failed' });
  send({ type: 'run-finished', name: run(104), result: 'error', message: 'pod deleted' });
  send({ type: 'run-finished', name: run(101), result: 'succeeded' });
  send({ type: 'dequeue', change: 105, patchset: 2, reason: 'approval-removed' });
  return state;
}

const queueObject = (name: string, queue = CONFIG.queue): ChangeQueue => ({
  apiVersion: CHANGE_QUEUE_API_VERSION,
  kind: CHANGE_QUEUE_KIND,
  metadata: { name, namespace: NAMESPACE },
  spec: { pipeline: CONFIG.pipeline, queue },
});

/** kubectl's table, cut at the header's column starts (a cell may hold spaces, or be empty). */
function table(output: string): string[][] {
  const [header = '', ...lines] = output.trimEnd().split('\n');
  const starts = [...header.matchAll(/\S+/g)].map((m) => m.index);
  const cells = (line: string) => starts.map((start, i) => line.slice(start, starts[i + 1]).trim());
  return [cells(header), ...lines.map(cells)];
}

test.before(async () => {
  await applyManifests(rig, 'config/crds');
  await kubectl(rig, 'wait', '--for=condition=Established', '--timeout=60s', 'crd/changequeues.seakeeper.dev');
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
});

test.after(async () => {
  await cluster.delete('v1', 'Namespace', undefined, NAMESPACE);
});

test('a state decide made goes in through the status subresource and reads back equal', async () => {
  const state = busyState();
  assert.equal(new Set(state.items.map((i) => i.decided)), new Set(['submitting', 'failing', 'needs-failing', undefined]));
  const created = await cluster.create(queueObject('busy'));
  assert.ok(created.created);
  const written = await cluster.replaceStatus<ChangeQueue>({ ...created.object, status: state });
  assert.equal(written.status, state);
  const read = await cluster.get<ChangeQueue>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, NAMESPACE, 'busy');
  assert.equal(read?.status, state);
  assert.equal(read?.spec, { pipeline: CONFIG.pipeline, queue: CONFIG.queue });
});

test('the status is written by compare-and-swap: a write from a stale read is a conflict, and changes nothing', async () => {
  const created = await cluster.create(queueObject('cas'));
  assert.ok(created.created);
  const first = await cluster.replaceStatus<ChangeQueue>({ ...created.object, status: emptyQueue(CONFIG) });
  const stale = { ...created.object, status: busyState() };
  const { err } = await rejectionOf(cluster.replaceStatus(stale));
  assert.instance(err, ConflictError);
  const read = await cluster.get<ChangeQueue>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, NAMESPACE, 'cas');
  assert.equal(read?.status, first.status);
});

test('only the status subresource writes the status: a patch of the object leaves it as it was', async () => {
  const created = await cluster.create(queueObject('main'));
  assert.ok(created.created);
  const written = await cluster.replaceStatus<ChangeQueue>({ ...created.object, status: emptyQueue(CONFIG) });
  await cluster.patch<ChangeQueue>({ ...queueObject('main'), status: busyState() }, written.metadata.resourceVersion!);
  const read = await cluster.get<ChangeQueue>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, NAMESPACE, 'main');
  assert.equal(read?.status, emptyQueue(CONFIG));
});

test('the API server refuses a status outside the schema', async () => {
  const created = await cluster.create(queueObject('invalid'));
  assert.ok(created.created);
  const state = busyState();
  const bad = { ...state, items: state.items.map((i, n) => (n === 0 ? { ...i, run: { ...i.run!, state: 'lost' } } : i)) };
  const { err } = await rejectionOf(cluster.replaceStatus({ ...created.object, status: bad }));
  assert.instance(err, PermanentError);
  assert.match(String((err as Error).message), 'status.items[0].run.state');
});

test('kubectl get changequeues shows queue, pipeline, depth, window, head and age', async () => {
  const created = await cluster.create(queueObject('columns', 'mediawiki/extensions/Cite master'));
  assert.ok(created.created);
  const state = busyState();
  await cluster.replaceStatus<ChangeQueue>({ ...created.object, status: state });
  const empty = await cluster.create(queueObject('empty', 'operations/puppet production'));
  assert.ok(empty.created);
  await cluster.replaceStatus<ChangeQueue>({ ...empty.object, status: emptyQueue(CONFIG) });

  const rows = table(await kubectl(rig, 'get', 'changequeues', '-n', NAMESPACE));
  assert.equal(rows[0], ['NAME', 'QUEUE', 'PIPELINE', 'DEPTH', 'WINDOW', 'HEAD', 'AGE']);
  const row = (name: string) => rows.find((r) => r[0] === name)!;
  assert.equal(row('columns').slice(0, 6), ['columns', 'mediawiki/extensions/Cite master', 'gate-and-submit', String(state.depth), String(state.window), state.head!]);
  // An empty queue has no head: an empty cell.
  assert.equal(row('empty').slice(0, 6), ['empty', 'operations/puppet production', 'gate-and-submit', '0', '5', '']);
  assert.match(row('empty')[6]!, /^\d+s$/);
  // The short name and the category reach the same objects.
  assert.match(await kubectl(rig, 'get', 'cq', '-n', NAMESPACE, '-o', 'name'), 'changequeue.seakeeper.dev/columns');
});

test.run();
