// The gate queue's pure core (shared/pipelines/change-queue.ts): Zuul's dependent-manager scenarios as
// examples, then properties over random event sequences played against a simulated shell and branch, and
// every state checked against the ChangeQueue CRD's schema (config/crds/changequeues.yaml).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import {
  actionsOf,
  decide,
  emptyQueue,
  itemKey,
  liveRunNames,
  type EnqueueItem,
  type QueueAction,
  type QueueConfig,
  type QueueEvent,
  type QueueState,
  type RunResult,
} from '../../shared/pipelines/change-queue.js';
import { MAX_WORKFLOW_NAME } from '../../shared/pipelines/workflow-builder.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG: QueueConfig = { queue: 'mediawiki/core master', pipeline: 'gate-and-submit', window: 5, windowFloor: 2, windowCeiling: 20 };
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function change(number: number, options: { patchset?: number; needs?: number[]; at?: number } = {}): EnqueueItem {
  const patchset = options.patchset ?? 1;
  return {
    project: 'mediawiki/core',
    branch: 'master',
    change: number,
    patchset,
    ref: `refs/changes/${String(number % 100).padStart(2, '0')}/${number}/${patchset}`,
    revision: (number * 1000 + patchset).toString(16).padStart(40, '0'),
    enqueuedAt: new Date(Date.UTC(2025, 0, 1, 12, 0, options.at ?? 0)).toISOString(),
    needs: options.needs ?? [],
  };
}

/** A queue driven one event at a time; `actions` are the last decision's. */
class Gate {
  state: QueueState;
  actions: readonly QueueAction[] = [];
  private events = 0;
  constructor(readonly config: QueueConfig = CONFIG) {
    this.state = emptyQueue(config);
  }
  send(event: QueueEvent): this {
    const next = decide(this.state, event, this.config);
    this.state = next.state;
    this.actions = next.actions;
    return this;
  }
  enqueue(...items: EnqueueItem[]): this {
    return this.send({ type: 'enqueue', eventId: `comment-added-${++this.events}`, items });
  }
  runOf(number: number): string {
    const run = this.item(number).run;
    if (!run) throw new Error(`change ${number} has no run`);
    return run.name;
  }
  finish(number: number, result: RunResult, message?: string): this {
    return this.send({ type: 'run-finished', name: this.runOf(number), result, ...(message ? { message } : {}) });
  }
  merged(number: number): this {
    return this.send({ type: 'submitted', change: number, result: 'merged', message: 'Change has been successfully merged' });
  }
  item(number: number) {
    const item = this.state.items.find((i) => i.change === number);
    if (!item) throw new Error(`change ${number} is not queued`);
    return item;
  }
  includes(number: number): string[] {
    const run = this.item(number).run!;
    return run.includes.slice(run.merged).map((k) => k.split(',')[0]!);
  }
  queued(): number[] {
    return this.state.items.map((i) => i.change);
  }
  of<T extends QueueAction['type']>(type: T): Extract<QueueAction, { type: T }>[] {
    return this.actions.filter((a): a is Extract<QueueAction, { type: T }> => a.type === type);
  }
  started(): number[] {
    return this.of('start-run').map((a) => a.item.change);
  }
}

const changes = (...numbers: number[]) => numbers.map((n) => String(n));

// ---- examples ----

test('three changes that all merge: each tested on the ones ahead, submitted in order, the window grows', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3));
  assert.equal(gate.started(), [1, 2, 3]);
  assert.equal(gate.of('start-run').map((a) => a.includes.map((i) => i.change)), [[1], [1, 2], [1, 2, 3]]);
  assert.equal(gate.of('start-run')[1]!.includes[0], { project: 'mediawiki/core', branch: 'master', change: 1, patchset: 1, ref: 'refs/changes/01/1/1', revision: change(1).revision });

  gate.finish(3, 'succeeded').finish(2, 'succeeded');
  assert.equal(gate.of('submit'), [], 'a success behind the head waits');
  assert.is(gate.item(2).decided, undefined);
  gate.finish(1, 'succeeded');
  assert.equal(gate.of('submit').map((a) => [a.item.change, a.run]), [[1, gate.runOf(1)]]);
  assert.is(gate.item(1).decided, 'submitting');

  const runOf2 = gate.runOf(2);
  gate.merged(1);
  assert.equal(gate.queued(), [2, 3]);
  assert.is(gate.state.window, 6);
  assert.is(gate.runOf(2), runOf2, 'a change that merged ahead keeps the runs that included it');
  assert.is(gate.item(2).run!.merged, 1);
  assert.equal(gate.of('submit').map((a) => a.item.change), [2]);
  assert.equal(gate.of('stop-run'), []);

  gate.merged(2).merged(3);
  assert.equal(gate.queued(), []);
  assert.is(gate.state.window, 8);
  assert.equal(gate.state.owed, [], 'nothing to report on a merge: the submit voted');
  assert.is(gate.state.depth, 0);
  assert.is(gate.state.head, undefined);
});

test('failure at the head: reported at once with Verified -1, the items behind tested again without it, the window halves', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3));
  const before = [gate.runOf(2), gate.runOf(3)];
  gate.finish(1, 'failed');
  assert.equal(gate.queued(), [2, 3]);
  const [report] = gate.of('report');
  assert.is(report!.kind, 'failed');
  assert.is(report!.vote, -1);
  assert.is(report!.item.change, 1);
  assert.match(report!.message, /Failed in the gate-and-submit queue: run gate-and-submit-1-1-[0-9a-f]{10} tested it on master with nothing ahead of it\./);
  assert.equal(gate.of('stop-run').map((a) => a.name), before);
  assert.equal(gate.of('start-run').map((a) => a.includes.map((i) => i.change)), [[2], [2, 3]]);
  assert.is(gate.state.window, 2);
});

test('failure in the middle: it waits for the items ahead, the items behind are tested without it; reported once it is the head', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3));
  const first = gate.runOf(1);
  gate.finish(2, 'failed');
  assert.is(gate.item(2).decided, 'failing');
  assert.equal(gate.of('report'), [], 'not reported while a change ahead may still fail');
  assert.is(gate.runOf(1), first);
  assert.equal(gate.includes(3), changes(1, 3));
  assert.is(gate.state.window, 5, 'the window shrinks when the failure is final');

  gate.finish(1, 'succeeded').merged(1);
  assert.equal(gate.queued(), [3]);
  assert.equal(gate.of('report').map((r) => [r.item.change, r.kind, r.message.includes('with 1,1 ahead of it')]), [[2, 'failed', true]]);
  assert.is(gate.state.window, 3, '5 + 1 for the merge, then halved');
  assert.equal(gate.of('stop-run'), [], "3's run tested 1 and not 2: still valid");
});

test('an item ahead failing resets a failing item: its own failure may have been caused by it', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3));
  gate.finish(2, 'failed');
  const failedRun = gate.runOf(2);
  gate.finish(1, 'failed');
  assert.equal(gate.queued(), [2, 3]);
  assert.is(gate.item(2).decided, undefined);
  assert.is.not(gate.runOf(2), failedRun);
  assert.equal(gate.includes(2), changes(2));
  assert.equal(gate.includes(3), changes(2, 3));
  assert.equal(gate.of('report').map((r) => r.item.change), [1]);
});

test('two failures in a row: both reported in queue order once the head merges; the window halves twice, not below the floor', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3), change(4));
  gate.finish(2, 'failed');
  gate.finish(3, 'failed');
  assert.equal(gate.includes(4), changes(1, 4));
  assert.equal(['failing', 'failing'], [gate.item(2).decided, gate.item(3).decided]);
  gate.finish(4, 'succeeded').finish(1, 'succeeded').merged(1);
  assert.equal(gate.of('report').map((r) => r.item.change), [2, 3]);
  assert.equal(gate.queued(), [4]);
  assert.is(gate.state.window, 2, '6 → 3 → 2 (floor)');
  assert.equal(gate.of('submit').map((a) => a.item.change), [4], "4's run tested 1 (merged) and 4: submit");
});

test('a stacked chain enters together, each tested on its parents; a child whose parent is not in the queue is not enqueued', () => {
  const gate = new Gate().enqueue(change(10), change(11, { needs: [10] }), change(12, { needs: [11] }));
  assert.equal(gate.queued(), [10, 11, 12]);
  assert.equal(gate.includes(12), changes(10, 11, 12));

  gate.enqueue(change(21, { needs: [20] }), change(22, { needs: [21] }));
  assert.equal(gate.queued(), [10, 11, 12]);
  assert.equal(
    gate.of('message').map((m) => [m.item.change, m.text]),
    [
      [21, 'Not added to the gate-and-submit queue: it needs change 20, which is neither merged nor in the queue; get 20 approved first, then approve this change again.'],
      [22, 'Not added to the gate-and-submit queue: it needs change 21, which is neither merged nor in the queue; get 21 approved first, then approve this change again.'],
    ],
  );

  // Already queued at that patch set: nothing, even inside a chain; the rest of the chain still comes in.
  const state = gate.state;
  gate.enqueue(change(10), change(13, { needs: [10] }));
  assert.equal(gate.queued(), [10, 11, 12, 13]);
  assert.is(gate.state.items[0], state.items[0]);
});

test('a change that needs a failing one is not enqueued, and says why', () => {
  const gate = new Gate().enqueue(change(1), change(2));
  gate.finish(2, 'failed');
  gate.enqueue(change(3, { needs: [2] }));
  assert.equal(gate.queued(), [1, 2]);
  assert.equal(gate.of('message').map((m) => m.text), ['Not added to the gate-and-submit queue: it needs change 2, which is failing in the queue; approve this change again once 2 is fixed.']);
});

test('a dependent is held while its dependency fails and leaves with it, reported with no vote; the others are tested again', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3), change(4, { needs: [2] }), change(5, { needs: [4] }));
  const held = gate.runOf(4);
  gate.finish(2, 'failed');
  const failed = gate.runOf(2);
  assert.equal([gate.item(4).decided, gate.item(5).decided], ['needs-failing', 'needs-failing']);
  assert.is(gate.item(4).run, undefined);
  assert.ok(gate.of('stop-run').some((a) => a.name === held));
  assert.equal(gate.includes(3), changes(1, 3));

  gate.finish(1, 'succeeded').merged(1);
  assert.equal(gate.queued(), [3]);
  assert.equal(
    gate.of('report').map((r) => [r.item.change, r.kind, r.vote, r.message]),
    [
      [2, 'failed', -1, `Failed in the gate-and-submit queue: run ${failed} tested it on master with 1,1 ahead of it.`],
      [4, 'dependency-failed', undefined, 'Removed from the gate-and-submit queue: change 2, which it needs merged first, failed in the queue; approve this change again once 2 is back in the queue.'],
      [5, 'dependency-failed', undefined, 'Removed from the gate-and-submit queue: change 4, which it needs merged first, left the queue; approve this change again once 4 is back in the queue.'],
    ],
  );
});

test('a held dependent is tested again when the failure it waited on is revoked', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3, { needs: [2] }));
  gate.finish(2, 'failed');
  assert.is(gate.item(3).decided, 'needs-failing');
  gate.finish(1, 'failed');
  assert.is(gate.item(3).decided, undefined);
  assert.equal(gate.includes(3), changes(2, 3));
});

test('a new patch set mid-run: dequeued without a report, its run stopped, the items behind reset, its dependents told', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3), change(4, { needs: [2] }));
  const [run2, run3, run4] = [gate.runOf(2), gate.runOf(3), gate.runOf(4)];
  gate.send({ type: 'dequeue', change: 2, patchset: 2, reason: 'new-patchset' });
  assert.equal(gate.queued(), [1, 3]);
  assert.equal(gate.of('report'), []);
  assert.equal(
    gate.of('stop-run').map((a) => [a.name, a.reason]),
    [
      [run2, 'change 2,1 left the queue'],
      [run3, 'the changes ahead of 3,1 changed'],
      [run4, 'change 4,1 left the queue'],
    ],
  );
  assert.equal(gate.includes(3), changes(1, 3));
  assert.equal(gate.of('message').map((m) => [m.item.change, m.text]), [
    [4, 'Removed from the gate-and-submit queue: change 2, which it needs merged first, got a new patch set; approve this change again once 2 is back in the queue.'],
  ]);
  // Late or repeated news of that patch set, or of one the queue is already at, changes nothing.
  const state = gate.state;
  gate.enqueue(change(3, { patchset: 1 }));
  gate.send({ type: 'dequeue', change: 3, patchset: 1, reason: 'new-patchset' });
  assert.is(gate.state.items, state.items);
});

test('abandoned mid-run: dequeued without a report; approval removed: reported, with no vote', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3));
  gate.send({ type: 'dequeue', change: 1, reason: 'abandoned' });
  assert.equal(gate.queued(), [2, 3]);
  assert.equal([gate.of('report'), gate.of('message')], [[], []]);
  assert.equal(gate.includes(3), changes(2, 3));

  gate.send({ type: 'dequeue', change: 2, patchset: 7, reason: 'approval-removed' });
  assert.equal(gate.queued(), [2, 3], 'an approval removed from another patch set');
  gate.send({ type: 'dequeue', change: 2, patchset: 1, reason: 'approval-removed' });
  assert.equal(gate.queued(), [3]);
  assert.equal(gate.of('report').map((r) => [r.item.change, r.kind, r.vote, r.message]), [
    [2, 'approval-removed', undefined, 'Removed from the gate-and-submit queue: unable to merge due to a missing merge requirement.'],
  ]);
});

test('a newer patch set approved replaces the queued one at the end of the queue', () => {
  const gate = new Gate().enqueue(change(1), change(2));
  gate.enqueue(change(1, { patchset: 2, at: 5 }));
  assert.equal(gate.state.items.map((i) => itemKey(i)), ['2,1', '1,2']);
  assert.equal(gate.includes(2), changes(2));
});

test('window: only the first `window` items run; a failure shrinks it and stops runs beyond it; merges grow it; never below the floor', () => {
  const gate = new Gate().enqueue(...[1, 2, 3, 4, 5, 6, 7].map((n) => change(n)));
  assert.equal(gate.started(), [1, 2, 3, 4, 5]);
  assert.equal([gate.item(6).run, gate.item(7).run], [undefined, undefined]);

  gate.finish(1, 'failed');
  assert.is(gate.state.window, 2);
  assert.equal(gate.started(), [2, 3]);
  assert.equal(
    gate.of('stop-run').map((a) => a.reason),
    ['the changes ahead of 2,1 changed', 'the changes ahead of 3,1 changed', 'change 4,1 is outside the window of 2', 'change 5,1 is outside the window of 2'],
  );
  gate.finish(2, 'failed');
  assert.is(gate.state.window, 2, 'halving stops at windowFloor');
  gate.finish(3, 'succeeded').merged(3);
  assert.is(gate.state.window, 3);
  assert.equal(gate.queued(), [4, 5, 6, 7]);
  assert.equal(gate.started(), [4, 5, 6]);
});

test('an infrastructure error runs the same speculative state again without resetting anyone, up to the attempt limit, then reports it as infrastructure', () => {
  const gate = new Gate().enqueue(change(1), change(2));
  const behind = gate.runOf(2);
  const names = [gate.runOf(1)];
  gate.finish(1, 'error', 'pod deleted');
  assert.equal(gate.of('stop-run'), []);
  assert.is(gate.runOf(2), behind);
  assert.equal([gate.item(1).run!.attempt, gate.includes(1)], [2, changes(1)]);
  names.push(gate.runOf(1));
  gate.finish(1, 'error');
  names.push(gate.runOf(1));
  assert.is(gate.item(1).run!.attempt, 3);
  assert.is(new Set(names).size, 3, 'each attempt is a run of its own name');
  assert.equal(gate.of('start-run').find((a) => a.item.change === 1)!.attempt, 3);

  gate.finish(1, 'error', 'node lost');
  const [report] = gate.of('report');
  assert.equal([report!.kind, report!.vote], ['infrastructure', -1]);
  assert.match(report!.message, /^Not tested in the gate-and-submit queue: run gate-and-submit-1-1-[0-9a-f]{10} and the 2 before it ended in infrastructure errors \(node lost\); approve it again to retry\.$/);
  assert.equal(gate.queued(), [2]);
  assert.ok(gate.of('stop-run').some((a) => a.name === behind), 'its failure is final: the runs that included it start again');
});

test('maxAttempts is configurable: 1 means no re-run', () => {
  const gate = new Gate({ ...CONFIG, maxAttempts: 1 }).enqueue(change(1));
  gate.finish(1, 'error');
  assert.equal(gate.of('report').map((r) => [r.kind, r.message.replace(/[0-9a-f]{10}/, 'h')]), [
    ['infrastructure', 'Not tested in the gate-and-submit queue: run gate-and-submit-1-1-h ended in an infrastructure error; approve it again to retry.'],
  ]);
});

test('a merge conflict waits for the items ahead; should one fail, it is tested again without it; else it is reported as a merge failure with Verified -1', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3));
  gate.finish(2, 'conflict', 'merge conflict: change refs/changes/02/2/1 of mediawiki/core does not merge onto master with the changes ahead of it');
  assert.is(gate.item(2).decided, 'failing');
  assert.equal(gate.of('report'), []);
  assert.equal(gate.includes(3), changes(1, 3), 'the items behind are tested without it');
  gate.finish(1, 'failed');
  assert.equal(gate.of('report').map((r) => [r.item.change, r.kind]), [[1, 'failed']]);
  assert.equal([gate.item(2).decided, gate.includes(2)], [undefined, changes(2)], 'what it conflicted with left: tested again');

  gate.finish(2, 'conflict', 'merge conflict: change refs/changes/02/2/1 of mediawiki/core does not merge onto master with the changes ahead of it');
  const report = gate.of('report').find((r) => r.item.change === 2);
  assert.equal([report!.kind, report!.vote], ['merge-conflict', -1]);
  assert.is(
    report!.message,
    'Merge failed in the gate-and-submit queue: it does not merge onto master with nothing ahead of it (merge conflict: change refs/changes/02/2/1 of mediawiki/core does not merge onto master with the changes ahead of it). Please rebase it and upload a new patch set.',
  );
  assert.equal(gate.queued(), [3]);
  assert.equal(gate.includes(3), changes(3));
});

test('the window grows by one per merge up to its ceiling, and starts there when the pipeline asks for more', () => {
  const gate = new Gate({ ...CONFIG, window: 2, windowCeiling: 3 }).enqueue(...[1, 2, 3, 4, 5].map((n) => change(n)));
  assert.equal(gate.started(), [1, 2]);
  gate.finish(1, 'succeeded').merged(1);
  assert.is(gate.state.window, 3);
  gate.finish(2, 'succeeded').merged(2);
  assert.is(gate.state.window, 3, 'not beyond the ceiling');
  assert.equal(gate.started(), [3, 4, 5]);
  assert.is(emptyQueue({ ...CONFIG, window: 30, windowCeiling: 20 }).window, 20);
});

test('a late result of a stopped run, and a repeated result, are ignored', () => {
  const gate = new Gate().enqueue(change(1), change(2));
  const stale = gate.runOf(2);
  gate.finish(1, 'failed');
  const state = gate.state;
  gate.send({ type: 'run-finished', name: stale, result: 'succeeded' });
  assert.is(gate.state, state);
  assert.equal(gate.actions, actionsOf(state));
  gate.finish(2, 'succeeded');
  const after = gate.state;
  gate.send({ type: 'run-finished', name: gate.runOf(2), result: 'failed' });
  assert.is(gate.state, after);
});

test('submit refused: a merge-failure report, removed, the window halves, the items that included it start again', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3, { needs: [1] }));
  gate.finish(1, 'succeeded');
  gate.send({ type: 'submitted', change: 1, result: 'refused', message: 'merge conflict in\nRELEASE-NOTES' });
  assert.equal(gate.queued(), [2]);
  assert.equal(gate.of('report').map((r) => [r.item.change, r.kind, r.vote, r.message]), [
    [1, 'merge-failed', -1, 'Passed the gate-and-submit queue, but Gerrit refused to submit it: merge conflict in RELEASE-NOTES'],
    [3, 'dependency-failed', undefined, 'Removed from the gate-and-submit queue: change 1, which it needs merged first, could not be submitted; approve this change again once 1 is back in the queue.'],
  ]);
  assert.is(gate.state.window, 2);
  assert.equal(gate.includes(2), changes(2));
  // A refusal of a submit the queue did not ask for changes nothing.
  const state = gate.state;
  gate.send({ type: 'submitted', change: 2, result: 'refused', message: 'no' });
  assert.is(gate.state, state);
});

test('merged elsewhere: the head as a merge (without growing the window); another one resets the runs it moved the branch under', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3));
  const [run2, run3] = [gate.runOf(2), gate.runOf(3)];
  gate.send({ type: 'dequeue', change: 1, patchset: 1, reason: 'merged-elsewhere' });
  assert.equal([gate.queued(), gate.state.window, gate.runOf(2), gate.runOf(3)], [[2, 3], 5, run2, run3]);
  assert.equal(gate.state.owed, []);

  gate.enqueue(change(4, { at: 9 }));
  gate.send({ type: 'dequeue', change: 3, patchset: 1, reason: 'merged-elsewhere' });
  assert.equal(gate.queued(), [2, 4]);
  assert.ok(gate.of('stop-run').some((a) => a.name === run2), 'tested on a branch without 3');
  assert.equal([gate.includes(2), gate.includes(4)], [changes(2), changes(2, 4)]);

  const run4 = gate.runOf(4);
  gate.send({ type: 'dequeue', change: 2, patchset: 9, reason: 'merged-elsewhere' });
  assert.ok(gate.of('stop-run').some((a) => a.name === run4), 'another patch set than the one tested merged');
});

test('run names: <pipeline>-<change>-<patchset>-<10 hex>, DNS labels of at most 50 characters, deterministic', () => {
  const long = { ...CONFIG, pipeline: 'a-pipeline-name-that-is-far-too-long-for-a-run-name' };
  const gate = new Gate(long).enqueue(change(2_147_483_647, { patchset: 99_999 }));
  const name = gate.runOf(2_147_483_647);
  assert.ok(name.length <= MAX_WORKFLOW_NAME && DNS_LABEL.test(name), name);
  assert.match(name, /-2147483647-99999-[0-9a-f]{10}$/);
  assert.is(new Gate(long).enqueue(change(2_147_483_647, { patchset: 99_999 })).runOf(2_147_483_647), name);
  assert.is.not(new Gate({ ...long, queue: 'other' }).enqueue(change(2_147_483_647, { patchset: 99_999 })).runOf(2_147_483_647), name);
});

test('a redelivered approval does nothing, also after the change left the queue', () => {
  const gate = new Gate();
  const event: QueueEvent = { type: 'enqueue', eventId: 'comment-added-abc', items: [change(1)] };
  gate.send(event).finish(1, 'failed');
  const state = gate.state;
  gate.send(event);
  assert.is(gate.state, state);
});

test('a crash after storing the state loses nothing: tick gives the actions still owed, and `posted` settles a notice', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3));
  gate.finish(2, 'failed');
  gate.finish(1, 'succeeded');
  const stored = gate.state;
  gate.send({ type: 'tick' });
  assert.is(gate.state, stored);
  assert.equal(
    gate.actions.map((a) => [a.type, 'item' in a ? a.item.change : undefined]),
    [['submit', 1], ['start-run', 3]],
  );
  gate.merged(1);
  const [report] = gate.of('report');
  gate.send({ type: 'tick' });
  assert.equal(gate.of('report'), [report]);
  gate.send({ type: 'posted', id: report!.id });
  assert.equal([gate.state.owed, gate.of('report')], [[], []]);
});

test('liveRunNames names every run the state refers to, finished ones included', () => {
  const gate = new Gate().enqueue(change(1), change(2));
  gate.finish(2, 'succeeded');
  assert.equal(liveRunNames(gate.state), [gate.runOf(1), gate.runOf(2)]);
});

// ---- properties: random event sequences against a simulated shell and branch ----

type Move =
  | { t: 'enqueue'; chain: number; parent: number | undefined; missing: boolean }
  | { t: 'repatch'; pick: number }
  | { t: 'again'; pick: number }
  | { t: 'return'; pick: number }
  | { t: 'redeliver' }
  | { t: 'finish'; pick: number; result: RunResult }
  | { t: 'dequeue'; pick: number; reason: 'new-patchset' | 'abandoned' | 'approval-removed' | 'merged-elsewhere'; patchset: 'same' | 'other' | 'absent' }
  | { t: 'submitted'; pick: number }
  | { t: 'post'; pick: number }
  | { t: 'tick' }
  | { t: 'crash' };

const moveArb: fc.Arbitrary<Move> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('enqueue' as const), chain: fc.integer({ min: 1, max: 3 }), parent: fc.option(fc.nat(), { nil: undefined }), missing: fc.nat(5).map((n) => n === 0) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('repatch' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('again' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('return' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ t: 'redeliver' as const }) },
  { weight: 10, arbitrary: fc.record({ t: fc.constant('finish' as const), pick: fc.nat(), result: fc.constantFrom('succeeded' as const, 'succeeded' as const, 'failed' as const, 'error' as const, 'conflict' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('dequeue' as const),
      pick: fc.nat(),
      reason: fc.constantFrom('new-patchset' as const, 'abandoned' as const, 'approval-removed' as const, 'merged-elsewhere' as const),
      patchset: fc.constantFrom('same' as const, 'other' as const, 'absent' as const),
    }),
  },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('submitted' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('post' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ t: 'tick' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'crash' as const }) },
);

const configArb: fc.Arbitrary<QueueConfig> = fc
  .record({ window: fc.integer({ min: 1, max: 8 }), windowFloor: fc.integer({ min: 1, max: 4 }), headroom: fc.integer({ min: 0, max: 3 }), maxAttempts: fc.integer({ min: 1, max: 3 }) })
  .map(({ headroom, ...c }) => ({ queue: 'mediawiki/core master', pipeline: 'gate-and-submit', windowCeiling: Math.max(c.window, c.windowFloor) + headroom, ...c }));

/**
 * The shell and the world around one queue: runs created and stopped, Gerrit's branch (the keys merged, in
 * order), posts. Carries out each decision's actions as the real shell will (idempotently), and checks the
 * properties as it goes; `states` collects every state decided.
 */
class World {
  state: QueueState;
  readonly states: QueueState[] = [];
  readonly branch: string[] = [];
  /** Each run as created: the branch's length then, and the changes it tested on top of it, itself last. */
  private readonly created = new Map<string, { base: number; tested: string[] }>();
  private readonly running = new Set<string>();
  private readonly stopped = new Set<string>();
  private readonly finished = new Set<string>();
  /** Submits carried out whose answer has not reached the queue yet. */
  private readonly answers: QueueEvent[] = [];
  private readonly posted = new Set<string>();
  private readonly everOwed = new Set<string>();
  /** Enqueue order of each stay in the queue (key and time), and the last one merged through the queue. */
  private readonly order = new Map<string, number>();
  private lastQueueMerge = -1;
  private readonly exits = new Map<string, string>();
  /** Keys of the items that left the queue. */
  private readonly left = new Set<string>();
  private nextChange = 100;
  private clock = 0;
  private events = 0;
  private lastEnqueue: QueueEvent | undefined;
  private crashNext = false;

  constructor(readonly config: QueueConfig) {
    this.state = emptyQueue(config);
  }

  play(move: Move): void {
    const event = this.eventFor(move);
    if (event) this.send(event);
  }

  private eventFor(move: Move): QueueEvent | undefined {
    const items = this.state.items;
    const pick = <T>(list: readonly T[], n: number): T | undefined => (list.length ? list[n % list.length] : undefined);
    switch (move.t) {
      case 'enqueue': {
        const parent = move.missing ? this.nextChange++ : move.parent !== undefined ? pick(items, move.parent)?.change : undefined;
        const chain: EnqueueItem[] = [];
        for (let i = 0; i < move.chain; i++) {
          const need = i === 0 ? parent : chain[i - 1]!.change;
          chain.push(change(this.nextChange++, { at: ++this.clock, needs: need === undefined ? [] : [need] }));
        }
        return this.enqueueEvent(chain);
      }
      case 'repatch': {
        const item = pick(items, move.pick);
        if (item && this.branch.includes(itemKey(item))) return undefined;
        return item && this.enqueueEvent([change(item.change, { patchset: item.patchset + 1, at: ++this.clock })]);
      }
      case 'again': {
        const item = pick(items, move.pick);
        return item && this.enqueueEvent([change(item.change, { patchset: item.patchset, at: ++this.clock })]);
      }
      case 'return': {
        // Restored or approved again after it left: the same patch set, another stay.
        const gone = [...this.left].filter((k) => !this.branch.includes(k) && !items.some((i) => itemKey(i) === k));
        const key = pick(gone, move.pick);
        if (key === undefined) return undefined;
        const [number, patchset] = key.split(',').map(Number) as [number, number];
        return this.enqueueEvent([change(number, { patchset, at: ++this.clock })]);
      }
      case 'redeliver':
        return this.lastEnqueue;
      case 'finish': {
        // Runs the world still has going, including ones whose stop was lost in a crash, and late results.
        const name = pick([...this.running, ...[...this.stopped].slice(-3)], move.pick);
        if (name === undefined) return undefined;
        this.running.delete(name);
        this.finished.add(name);
        return { type: 'run-finished', name, result: move.result };
      }
      case 'dequeue': {
        const item = pick(items, move.pick);
        if (!item) return undefined;
        // Submitted and merged, the queue not told yet: Gerrit's change-merged is all that can come of it.
        const merged = this.branch.includes(itemKey(item));
        if (merged && move.reason !== 'merged-elsewhere') return undefined;
        const patchset = merged || move.patchset === 'same' ? item.patchset : move.patchset === 'absent' ? undefined : item.patchset + 1;
        if (move.reason === 'merged-elsewhere' && !merged) this.branch.push(itemKey({ change: item.change, patchset: patchset ?? 0 }));
        return { type: 'dequeue', change: item.change, reason: move.reason, ...(patchset === undefined ? {} : { patchset }) };
      }
      case 'submitted':
        return this.answers.splice(move.pick % Math.max(1, this.answers.length), 1)[0];
      case 'post': {
        const notice = pick(this.state.owed, move.pick);
        if (!notice) return undefined;
        this.posted.add(notice.id);
        return { type: 'posted', id: notice.id };
      }
      case 'tick':
        return { type: 'tick' };
      case 'crash':
        this.crashNext = true;
        return undefined;
    }
  }

  private enqueueEvent(items: EnqueueItem[]): QueueEvent {
    this.lastEnqueue = { type: 'enqueue', eventId: `comment-added-${++this.events}`, items };
    return this.lastEnqueue;
  }

  send(event: QueueEvent): void {
    const before = this.state;
    const { state, actions } = decide(before, event, this.config);
    this.state = state;
    this.states.push(state);
    this.checkState(state);
    this.checkExits(before, state, event);
    if (this.crashNext) {
      // Stored, then the process died: the actions are lost. The shell's sweep stops what the state does not name.
      this.crashNext = false;
      const named = new Set(liveRunNames(state));
      for (const name of [...this.running]) if (!named.has(name)) this.stop(name);
      return;
    }
    for (const action of actions) this.carryOut(action, state);
  }

  private carryOut(action: QueueAction, state: QueueState): void {
    switch (action.type) {
      case 'start-run':
        assert.not.ok(this.stopped.has(action.name) || this.finished.has(action.name), `${action.name} was asked for again after it ended`);
        assert.ok(action.name.length <= MAX_WORKFLOW_NAME && DNS_LABEL.test(action.name), action.name);
        assert.is(itemKey(action.includes[action.includes.length - 1]!), itemKey(action.item));
        if (!this.created.has(action.name)) {
          this.created.set(action.name, { base: this.branch.length, tested: action.includes.map(itemKey) });
          this.running.add(action.name);
        }
        break;
      case 'stop-run':
        this.stop(action.name);
        break;
      case 'submit':
        this.submit(action, state);
        break;
      case 'report':
      case 'message':
        break;
    }
  }

  private stop(name: string): void {
    if (this.running.delete(name)) this.stopped.add(name);
  }

  /** Gerrit merges what is submitted at once; the queue hears of it later. */
  private submit(action: Extract<QueueAction, { type: 'submit' }>, state: QueueState): void {
    const key = itemKey(action.item);
    if (this.branch.includes(key) || this.answers.some((a) => a.type === 'submitted' && a.change === action.item.change)) return;
    const head = state.items[0]!;
    assert.is(itemKey(head), key, 'only the head is submitted');
    const run = head.run!;
    assert.is(run.name, action.run);
    // (a) what the run tested ahead of the change is exactly what merged since it was created, in order. A
    // change submitted before the queue heard of it may be among them: on the branch already, it merged as a no-op.
    const created = this.created.get(run.name)!;
    const onBranch = new Set(this.branch.slice(0, created.base));
    assert.equal(created.tested.slice(0, -1).filter((k) => !onBranch.has(k)), this.branch.slice(created.base), `submitting ${key}`);
    assert.equal(run.includes.slice(run.includes.length - created.tested.length), created.tested);
    // What it needs merged first has merged.
    for (const need of head.needs) assert.ok(this.branch.some((k) => k.startsWith(`${need},`)), `${key} submitted before ${need}, which it needs`);
    // Now and then Gerrit refuses (a conflict with something merged outside the queue).
    const refused = (action.item.change + this.branch.length) % 7 === 0;
    if (!refused) {
      // (b) merges through the queue follow the queue's order.
      const position = this.order.get(`${key} ${head.enqueuedAt}`)!;
      assert.ok(position > this.lastQueueMerge, `${key} merged out of queue order`);
      this.lastQueueMerge = position;
      this.branch.push(key);
    }
    this.answers.push({ type: 'submitted', change: action.item.change, result: refused ? 'refused' : 'merged', message: refused ? 'merge conflict' : 'merged' });
  }

  private checkState(state: QueueState): void {
    // (c)
    assert.ok(state.window >= this.config.windowFloor && state.window <= this.config.windowCeiling, `window ${state.window}`);
    // (e)
    const again = decide(state, { type: 'tick' }, this.config);
    assert.equal(again.state, state, 'tick changed the state');
    assert.equal(again.actions, actionsOf(state));
    // (f)
    assert.equal(JSON.parse(JSON.stringify(state)), state);
    // Bookkeeping that the rest relies on.
    assert.is(state.depth, state.items.length);
    assert.is(state.head, state.items[0] ? itemKey(state.items[0]) : undefined);
    assert.is(new Set(state.items.map((i) => i.change)).size, state.items.length, 'one item per change');
    const names = liveRunNames(state);
    assert.is(new Set(names).size, names.length, 'run names are unique');
    state.items.forEach((item, index) => {
      const runs = index < state.window && !item.decided;
      if (runs) assert.ok(item.run, `${itemKey(item)} in the window has no run`);
      if (item.run?.state === 'running') assert.ok(index < state.window, `${itemKey(item)} runs outside the window`);
    });
  }

  /** (d) every stay in the queue ends exactly one way, and no notice is owed twice. */
  private checkExits(before: QueueState, after: QueueState, event: QueueEvent): void {
    const stay = (i: { change: number; patchset: number; enqueuedAt: string }) => `${itemKey(i)} ${i.enqueuedAt}`;
    const now = new Set(after.items.map(stay));
    const was = new Set(before.items.map(stay));
    for (const item of after.items) if (!was.has(stay(item))) this.order.set(stay(item), this.order.size);
    const fresh = after.owed.filter((n) => !before.owed.some((o) => o.id === n.id));
    for (const notice of fresh) {
      assert.not.ok(this.everOwed.has(notice.id), `notice ${notice.id} owed twice`);
      assert.ok(notice.id.length <= MAX_WORKFLOW_NAME && DNS_LABEL.test(notice.id), notice.id);
      this.everOwed.add(notice.id);
    }
    for (const notice of after.owed) assert.not.ok(this.posted.has(notice.id), `notice ${notice.id} still owed after it was posted`);
    const left = before.items.filter((i) => !now.has(stay(i)));
    for (const item of left) {
      const about = fresh.filter((n) => itemKey(n.item) === itemKey(item));
      const how = this.exitOf(item, event, about.map((n) => n.kind));
      assert.ok(how, `${stay(item)} left without a reason: ${JSON.stringify(event)} ${JSON.stringify(about)}`);
      assert.not.ok(this.exits.has(stay(item)), `${stay(item)} left twice`);
      this.exits.set(stay(item), how!);
      this.left.add(itemKey(item));
    }
    // A fresh notice is about a change that just left, or one that was not let in.
    for (const notice of fresh) {
      const leaving = left.some((i) => itemKey(i) === itemKey(notice.item));
      const refused =
        event.type === 'enqueue' &&
        notice.kind === 'message' &&
        event.items.some((i) => itemKey(i) === itemKey(notice.item)) &&
        !after.items.some((i) => itemKey(i) === itemKey(notice.item) && !was.has(stay(i)));
      assert.ok(leaving || refused, `notice about ${itemKey(notice.item)}, which did not leave`);
    }
  }

  private exitOf(item: { change: number; patchset: number }, event: QueueEvent, notices: readonly string[]): string | undefined {
    const aboutIt = 'change' in event && event.change === item.change;
    if (aboutIt && event.type === 'submitted' && event.result === 'merged') return notices.length === 0 ? 'merged' : undefined;
    if (aboutIt && event.type === 'dequeue' && event.reason === 'merged-elsewhere') return notices.length === 0 ? 'merged or dequeued' : undefined;
    if (aboutIt && event.type === 'dequeue') {
      const expected = event.reason === 'approval-removed' ? ['approval-removed'] : [];
      return JSON.stringify(notices) === JSON.stringify(expected) ? 'dequeued' : undefined;
    }
    if (event.type === 'enqueue' && event.items.some((i) => i.change === item.change && i.patchset > item.patchset)) return notices.length === 0 ? 'replaced by a newer patch set' : undefined;
    return notices.length === 1 ? `${notices[0]}` : undefined;
  }

  /** Hands the queue every answer still pending, then settles every notice. */
  drain(): void {
    while (this.answers.length) this.send(this.answers.shift()!);
    for (const notice of [...this.state.owed]) {
      this.posted.add(notice.id);
      this.send({ type: 'posted', id: notice.id });
    }
  }
}

const scenario = fc.tuple(configArb, fc.array(moveArb, { minLength: 1, maxLength: 150, size: 'max' }));

function play(config: QueueConfig, moves: readonly Move[]): World {
  const world = new World(config);
  for (const move of moves) world.play(move);
  world.drain();
  return world;
}

test('property: submits test exactly what merged since the run began, merges in queue order, the window stays above its floor, every item leaves one way, tick is a no-op, JSON round-trips', () => {
  fc.assert(fc.property(scenario, ([config, moves]) => void play(config, moves)), { numRuns: 200 });
});

test('property: with every run succeeding and nothing else happening, every change enqueued merges, in enqueue order', () => {
  fc.assert(
    fc.property(configArb, fc.integer({ min: 1, max: 12 }), (config, count) => {
      const world = new World(config);
      for (let i = 0; i < count; i++) world.play({ t: 'enqueue', chain: 1, parent: undefined, missing: false });
      for (let round = 0; round < 200 && world.state.items.length > 0; round++) {
        world.play({ t: 'finish', pick: 0, result: 'succeeded' });
        world.play({ t: 'submitted', pick: 0 });
      }
      assert.equal(world.state.items, []);
      const merged = world.branch.map((k) => Number(k.split(',')[0]));
      assert.equal(merged, [...merged].sort((a, b) => a - b));
    }),
    { numRuns: 100 },
  );
});

// ---- the ChangeQueue CRD's schema holds every state decide makes ----

const crd = parse(readFileSync(path.join(ROOT, 'config/crds/changequeues.yaml'), 'utf8')) as {
  spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Record<string, unknown> } }> };
};

/**
 * The API server prunes fields a structural schema does not declare, and would drop them without a word: here
 * every object must declare every field it gets (additionalProperties false), so a field missing from the
 * CRD fails this test instead of vanishing from the stored state.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out = Object.fromEntries(Object.entries(schema).filter(([k]) => !k.startsWith('x-kubernetes-')).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, closed(s)])) : closed(v)]));
  if (out.type === 'object' && 'properties' in out) out.additionalProperties = false;
  return out;
}

const statusSchema = (closed(crd.spec.versions[0]!.schema.openAPIV3Schema) as { properties: { status: object } }).properties.status;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validStatus = ajv.compile(statusSchema);

test('CRD: every state decide makes, over random event sequences, validates against the status schema with nothing pruned', () => {
  fc.assert(
    fc.property(scenario, ([config, moves]) => {
      for (const state of play(config, moves).states) {
        assert.ok(validStatus(state), JSON.stringify(validStatus.errors));
      }
    }),
    { numRuns: 50 },
  );
});

test('CRD: a state with every kind of item, run and notice validates', () => {
  const gate = new Gate().enqueue(change(1), change(2), change(3, { needs: [2] }), change(4));
  gate.enqueue(change(5));
  gate.finish(2, 'failed').finish(4, 'error', 'pod deleted').finish(1, 'succeeded');
  gate.send({ type: 'dequeue', change: 4, patchset: 1, reason: 'approval-removed' });
  gate.finish(5, 'conflict', 'merge conflict');
  assert.is(gate.item(5).run!.state, 'conflict');
  const kinds = new Set(gate.state.items.map((i) => i.decided));
  assert.equal(kinds, new Set(['submitting', 'failing', 'needs-failing']));
  assert.ok(validStatus(gate.state), JSON.stringify(validStatus.errors));
  assert.not.ok(validStatus({ ...gate.state, items: [{ ...gate.state.items[0], surprise: 1 }] }), 'an undeclared field is caught');
});

test('with the time of each decision, the items that left are kept a day: merged, or why as their author was told; refusals too; without it nothing is kept', () => {
  const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 12, minute)).toISOString();
  let state = emptyQueue(CONFIG);
  const send = (event: QueueEvent, minute: number) => (state = decide(state, event, CONFIG, at(minute)).state);
  send({ type: 'enqueue', eventId: 'e1', items: [change(1), change(2, { needs: [1] }), change(3)] }, 0);
  const run1 = state.items[0]!.run!.name;
  send({ type: 'run-finished', name: run1, result: 'failed' }, 10);
  // 1 failed at the head and 2, which needs it, went with it; 3 stays.
  assert.equal(state.items.map((i) => i.change), [3]);
  assert.equal(state.departed!.map((d) => [d.change, d.merged, d.leftAt]), [[1, false, at(10)], [2, false, at(10)]]);
  assert.match(state.departed![0]!.why!, 'Failed in the gate-and-submit queue: run gate-and-submit-1-1-');
  assert.match(state.departed![1]!.why!, 'Removed from the gate-and-submit queue: change 1, which it needs merged first, failed in the queue');
  assert.is(state.departed![0]!.enqueuedAt, change(1).enqueuedAt);
  send({ type: 'run-finished', name: state.items[0]!.run!.name, result: 'succeeded' }, 20);
  send({ type: 'submitted', change: 3, result: 'merged', message: 'merged' }, 21);
  assert.equal(state.departed!.at(-1), { change: 3, patchset: 1, project: 'mediawiki/core', enqueuedAt: change(3).enqueuedAt, leftAt: at(21), merged: true });
  send({ type: 'enqueue', eventId: 'e2', items: [change(4)] }, 30);
  send({ type: 'dequeue', change: 4, patchset: 2, reason: 'new-patchset' }, 31);
  assert.is(state.departed!.at(-1)!.why, 'it got a new patch set');
  send({ type: 'refused', item: { change: 5, patchset: 2, project: 'mediawiki/core', why: 'Not added to the gate-and-submit queue: it does not carry Code-Review +2.' } }, 32);
  assert.equal(state.refused, [{ change: 5, patchset: 2, project: 'mediawiki/core', at: at(32), why: 'Not added to the gate-and-submit queue: it does not carry Code-Review +2.' }]);
  // An approval the queue itself turns away (a need neither merged nor queued) is a refusal too.
  send({ type: 'enqueue', eventId: 'e3', items: [change(10, { needs: [9] })] }, 33);
  assert.equal(state.refused!.at(-1), { change: 10, patchset: 1, project: 'mediawiki/core', at: at(33), why: 'Not added to the gate-and-submit queue: it needs change 9, which is neither merged nor in the queue; get 9 approved first, then approve this change again.' });
  state = { ...state, refused: state.refused!.slice(0, -1) };
  // A day later, what is older than a day is dropped when something new is kept.
  send({ type: 'refused', item: { change: 6, patchset: 1, project: 'mediawiki/core', why: 'x'.repeat(400) } }, 24 * 60 + 31);
  assert.equal(state.refused!.map((r) => [r.change, r.why.length]), [[5, 'Not added to the gate-and-submit queue: it does not carry Code-Review +2.'.length], [6, 300]]);
  send({ type: 'refused', item: { change: 7, patchset: 1, project: 'mediawiki/core', why: 'y' } }, 24 * 60 + 33);
  assert.equal(state.refused!.map((r) => r.change), [6, 7]);
  // Without a time (the decisions as before): nothing recorded, and a refusal changes nothing.
  const untimed = decide(emptyQueue(CONFIG), { type: 'refused', item: { change: 8, patchset: 1, project: 'p', why: 'w' } }, CONFIG);
  assert.equal(untimed.state, emptyQueue(CONFIG));
  assert.equal(untimed.actions, []);
});

test.run();

