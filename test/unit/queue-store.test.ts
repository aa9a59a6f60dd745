// The ChangeQueue store (shared/pipelines/queue-store.ts) over a fake of its narrow cluster interface: a
// decision is stored by compare-and-swap, a conflict or a concurrent create is decided again on what the other
// stored, a decision that changes nothing writes nothing, and the retries are bounded and counted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConflictError, ForbiddenError, NotFoundError, PermanentError, TransientError } from '../../shared/errors.js';
import type { ClusterObject, CreateResult } from '../../shared/k8s/api.js';
import { isDnsLabel, MAX_LABEL_LENGTH } from '../../shared/names.js';
import { emptyQueue, type QueueConfig, type QueueEvent } from '../../shared/pipelines/change-queue.js';
import { enqueueItem } from './support/pipelines.js';
import { ChangeQueueStore, QUEUE_CONFLICT_BACKOFF, QUEUE_UPDATE_ATTEMPTS, queueObjectName, type ChangeQueueObject, type QueueCluster } from '../../shared/pipelines/queue-store.js';

const NAMESPACE = 'seakeeper-system';
const CONFIG: QueueConfig = { queue: 'mediawiki/core master', pipeline: 'gate-and-submit', window: 5, windowFloor: 2, windowCeiling: 20 };
const NAME = queueObjectName(CONFIG.pipeline, CONFIG.queue);

const enqueue = (change: number): QueueEvent => ({ type: 'enqueue', eventId: `comment-added-${change}`, items: [enqueueItem(change, { at: change % 60 })] });

/**
 * An API server of one kind, in memory: resourceVersions, AlreadyExists, status writes at a stale version
 * refused. `before` runs ahead of each call (to let another writer in, or to fail it); every call yields, so
 * that concurrent updates interleave.
 */
class FakeCluster implements QueueCluster {
  readonly objects = new Map<string, ChangeQueueObject>();
  readonly calls: string[] = [];
  before: (call: string) => Promise<void> | void = () => {};
  #version = 0;

  async get<T extends ClusterObject>(_apiVersion: string, _kind: string, _namespace: string | undefined, name: string): Promise<T | undefined> {
    await this.#enter(`get ${name}`);
    const object = this.objects.get(name);
    return object ? (structuredClone(object) as unknown as T) : undefined;
  }

  async create<T extends ClusterObject>(obj: T): Promise<CreateResult<T>> {
    await this.#enter(`create ${obj.metadata.name}`);
    if (this.objects.has(obj.metadata.name)) return { created: false };
    // The status subresource: a create keeps the spec only.
    const { status: _status, ...rest } = obj as unknown as ChangeQueueObject;
    const stored = { ...rest, metadata: { ...rest.metadata, resourceVersion: String(++this.#version) } };
    this.objects.set(obj.metadata.name, stored);
    return { created: true, object: structuredClone(stored) as unknown as T };
  }

  async replaceStatus<T extends ClusterObject>(obj: T): Promise<T> {
    await this.#enter(`replaceStatus ${obj.metadata.name}`);
    const current = this.objects.get(obj.metadata.name);
    if (!current) throw new NotFoundError('changequeues "' + obj.metadata.name + '" not found');
    if (current.metadata.resourceVersion !== obj.metadata.resourceVersion) throw new ConflictError('the object has been modified');
    const stored = { ...current, status: structuredClone((obj as unknown as ChangeQueueObject).status!), metadata: { ...current.metadata, resourceVersion: String(++this.#version) } };
    this.objects.set(obj.metadata.name, stored);
    return structuredClone(stored) as unknown as T;
  }

  async #enter(call: string): Promise<void> {
    this.calls.push(call);
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.before(call);
  }
}

function store(cluster: QueueCluster, slept: number[] = []) {
  return new ChangeQueueStore(cluster, NAMESPACE, { sleep: async (ms) => void slept.push(ms), random: () => 0.5 });
}

test('the first decision that changes anything creates the object and stores the state', async () => {
  const cluster = new FakeCluster();
  const result = await store(cluster).update(CONFIG, enqueue(101));
  assert.equal({ retries: result.retries, written: result.written }, { retries: 0, written: true });
  assert.equal(cluster.calls, [`get ${NAME}`, `create ${NAME}`, `replaceStatus ${NAME}`]);
  const object = cluster.objects.get(NAME)!;
  assert.equal(object.spec, { pipeline: CONFIG.pipeline, queue: CONFIG.queue });
  assert.equal(object.metadata.labels, { 'app.kubernetes.io/managed-by': 'seakeeper', 'app.kubernetes.io/component': 'change-queue' });
  assert.equal(object.status, result.decision.state);
  assert.equal(object.status!.items.map((i) => i.change), [101]);
  assert.ok(result.decision.actions.some((a) => a.type === 'start-run'));
});

test('a decision that changes nothing writes nothing, and creates nothing', async () => {
  const cluster = new FakeCluster();
  const tick = await store(cluster).update(CONFIG, { type: 'tick' });
  assert.equal({ retries: tick.retries, written: tick.written }, { retries: 0, written: false });
  assert.equal(tick.decision.state, emptyQueue(CONFIG));
  assert.equal(cluster.calls, [`get ${NAME}`]);
  assert.is(cluster.objects.size, 0);
});

test('a redelivered enqueue (the same event id) writes nothing, and owes the same actions', async () => {
  const cluster = new FakeCluster();
  const first = await store(cluster).update(CONFIG, enqueue(101));
  const version = cluster.objects.get(NAME)!.metadata.resourceVersion;
  cluster.calls.length = 0;
  const again = await store(cluster).update(CONFIG, enqueue(101));
  assert.is(again.written, false);
  assert.equal(cluster.calls, [`get ${NAME}`]);
  assert.is(cluster.objects.get(NAME)!.metadata.resourceVersion, version);
  assert.equal(again.decision.state, first.decision.state);
  assert.equal(again.decision.actions, first.decision.actions);
});

test('a write that meets another\'s is decided again on what the other stored; the retry is counted', async () => {
  const cluster = new FakeCluster();
  const slept: number[] = [];
  await store(cluster).update(CONFIG, enqueue(101));
  let interleaved = false;
  cluster.before = async (call) => {
    if (call.startsWith('replaceStatus') && !interleaved) {
      interleaved = true;
      await store(new FakeClusterView(cluster)).update(CONFIG, enqueue(102));
    }
  };
  const result = await store(cluster, slept).update(CONFIG, enqueue(103));
  assert.equal({ retries: result.retries, written: result.written }, { retries: 1, written: true });
  assert.equal(cluster.objects.get(NAME)!.status!.items.map((i) => i.change), [101, 102, 103]);
  assert.equal(result.decision.state, cluster.objects.get(NAME)!.status);
  // One wait, full jitter within the first bound.
  assert.equal(slept, [Math.floor(0.5 * QUEUE_CONFLICT_BACKOFF.baseMs)]);
});

test('a create that meets another\'s reads the object again and decides on its state', async () => {
  const cluster = new FakeCluster();
  let raced = false;
  cluster.before = async (call) => {
    if (call.startsWith('create') && !raced) {
      raced = true;
      await store(new FakeClusterView(cluster)).update(CONFIG, enqueue(102));
    }
  };
  const result = await store(cluster).update(CONFIG, enqueue(101));
  assert.is(result.retries, 1);
  assert.equal(cluster.objects.get(NAME)!.status!.items.map((i) => i.change), [102, 101]);
  assert.equal(cluster.calls.filter((c) => c.startsWith('create')), [`create ${NAME}`, `create ${NAME}`]);
});

test('eight concurrent updates of one queue all land, each once, in an order their writes agree with', async () => {
  const cluster = new FakeCluster();
  const changes = [201, 202, 203, 204, 205, 206, 207, 208];
  const results = await Promise.all(changes.map((change) => store(cluster).update(CONFIG, enqueue(change))));
  const stored = cluster.objects.get(NAME)!.status!;
  assert.equal([...stored.items.map((i) => i.change)].sort(), changes);
  assert.equal(stored.observed.length, 8);
  assert.ok(results.every((r) => r.written));
  assert.ok(results.reduce((sum, r) => sum + r.retries, 0) > 0, 'eight at once: some met another');
  // The write that stored all eight was decided on the state the other seven had stored.
  assert.ok(results.some((r) => isDeep(r.decision.state, stored)));
});

test('still conflicting after every attempt: a TransientError that says so, each retry waited for', async () => {
  const cluster = new FakeCluster();
  await store(cluster).update(CONFIG, enqueue(101));
  let n = 0;
  cluster.before = async (call) => {
    if (call.startsWith('replaceStatus')) await store(new FakeClusterView(cluster)).update(CONFIG, enqueue(1000 + ++n));
  };
  const slept: number[] = [];
  const err = await store(cluster, slept).update(CONFIG, enqueue(102)).then(() => undefined, (e: unknown) => e);
  assert.instance(err, TransientError);
  assert.match(String((err as Error).message), `each of ${QUEUE_UPDATE_ATTEMPTS} times`);
  assert.is(slept.length, QUEUE_UPDATE_ATTEMPTS - 1);
  assert.ok(slept.every((ms) => ms >= 0 && ms < QUEUE_CONFLICT_BACKOFF.capMs));
  assert.is(cluster.calls.filter((c) => c.startsWith('replaceStatus')).length - n, QUEUE_UPDATE_ATTEMPTS + 1);
});

test('any other failure goes up as it is, untried again', async () => {
  const cluster = new FakeCluster();
  const forbidden = new ForbiddenError('changequeues/status is forbidden');
  cluster.before = (call) => {
    if (call.startsWith('replaceStatus')) throw forbidden;
  };
  const slept: number[] = [];
  const err = await store(cluster, slept).update(CONFIG, enqueue(101)).then(() => undefined, (e: unknown) => e);
  assert.is(err, forbidden);
  assert.equal(slept, []);
});

test('an object whose spec names another queue is refused, not shared', async () => {
  const cluster = new FakeCluster();
  await store(cluster).update({ ...CONFIG, pipeline: 'gate', queue: 'a-b' }, enqueue(101));
  const other = { ...CONFIG, pipeline: 'gate-a', queue: 'b' };
  assert.is(queueObjectName(other.pipeline, other.queue), queueObjectName('gate', 'a-b'));
  const err = await store(cluster).update(other, enqueue(102)).then(() => undefined, (e: unknown) => e);
  assert.instance(err, PermanentError);
  assert.match(String((err as Error).message), 'holds queue "a-b" of pipeline "gate"');
});

test('starting from the object a previous update stored saves the read; out of date, the write conflicts and the queue is read again at once; a no-op on it is checked against the stored state', async () => {
  const cluster = new FakeCluster();
  const slept: number[] = [];
  const first = await store(cluster, slept).update(CONFIG, enqueue(101));
  cluster.calls.length = 0;
  const second = await store(cluster, slept).update(CONFIG, enqueue(102), first.stored);
  assert.equal(cluster.calls, [`replaceStatus ${NAME}`], 'no read');
  assert.equal(second.stored!.status!.items.map((i) => i.change), [101, 102]);

  // Someone else wrote meanwhile: the assumed object is out of date.
  await store(cluster).update(CONFIG, enqueue(103));
  cluster.calls.length = 0;
  const third = await store(cluster, slept).update(CONFIG, enqueue(104), second.stored);
  assert.equal(cluster.calls, [`replaceStatus ${NAME}`, `get ${NAME}`, `replaceStatus ${NAME}`]);
  assert.equal([third.retries, slept], [1, []], 'no wait: nobody to make room for');
  assert.equal(cluster.objects.get(NAME)!.status!.items.map((i) => i.change), [101, 102, 103, 104]);

  // 103's enqueue is new to the out-of-date object, old to the stored one: decided on the stored state, nothing is written.
  cluster.calls.length = 0;
  const again = await store(cluster, slept).update(CONFIG, enqueue(103), first.stored);
  assert.equal(cluster.calls, [`replaceStatus ${NAME}`, `get ${NAME}`]);
  assert.is(again.written, false);
  // An event that changes nothing on the out-of-date object is decided again on the stored one.
  cluster.calls.length = 0;
  const posted = await store(cluster, slept).update(CONFIG, { type: 'dequeue', change: 104, reason: 'abandoned' }, first.stored);
  assert.equal(cluster.calls, [`get ${NAME}`, `replaceStatus ${NAME}`]);
  assert.is(posted.written, true);
  assert.equal(cluster.objects.get(NAME)!.status!.items.map((i) => i.change), [101, 102, 103]);
});

test('read: the stored state; an empty queue when there is no object, and nothing is created', async () => {
  const cluster = new FakeCluster();
  assert.equal(await store(cluster).read(CONFIG), emptyQueue(CONFIG));
  assert.is(cluster.objects.size, 0);
  const { decision } = await store(cluster).update(CONFIG, enqueue(101));
  assert.equal(await store(cluster).read(CONFIG), decision.state);
});

test('object names: readable when the queue name is tidy, hashed otherwise; always a distinct DNS label of at most 63', () => {
  assert.is(queueObjectName('gate-and-submit', 'mediawiki'), 'gate-and-submit-mediawiki');
  assert.match(queueObjectName('gate-and-submit', 'mediawiki/core master'), /^gate-and-submit-mediawiki-core-master--[a-z2-7]{10}$/);
  assert.match(queueObjectName('gate-and-submit', '日本語'), /^gate-and-submit--[a-z2-7]{10}$/);
  assert.match(queueObjectName('gate-and-submit', 'Ünïcödé master'), /^gate-and-submit-unicode-master--[a-z2-7]{10}$/);
  const names = ['mediawiki', 'Mediawiki', 'mediawiki/core master', 'mediawiki/core  master', 'mediawiki-core-master', '日本語', '中文', 'x'.repeat(300), `${'x'.repeat(299)}y`, 'a'.repeat(47)];
  const objects = names.map((queue) => queueObjectName('gate-and-submit', queue));
  for (const name of objects) assert.ok(isDnsLabel(name) && name.length <= MAX_LABEL_LENGTH, name);
  assert.is(new Set(objects).size, names.length);
  assert.is(queueObjectName('gate-and-submit', 'x'.repeat(300)).length, MAX_LABEL_LENGTH);
});

/** The same objects seen through another client (another delivery's process). */
class FakeClusterView implements QueueCluster {
  constructor(readonly inner: FakeCluster) {}
  get<T extends ClusterObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string) {
    return withoutHook(this.inner, () => this.inner.get<T>(apiVersion, kind, namespace, name));
  }
  create<T extends ClusterObject>(obj: T) {
    return withoutHook(this.inner, () => this.inner.create<T>(obj));
  }
  replaceStatus<T extends ClusterObject>(obj: T) {
    return withoutHook(this.inner, () => this.inner.replaceStatus<T>(obj));
  }
}

async function withoutHook<R>(cluster: FakeCluster, call: () => Promise<R>): Promise<R> {
  const hook = cluster.before;
  cluster.before = () => {};
  try {
    return await call();
  } finally {
    cluster.before = hook;
  }
}

function isDeep(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

test.run();
