// The gate shell's pure pieces (shared/pipelines/gate-plan.ts): which queue a change is in, Argo's phases as
// the queue reads them, what a gate run receives, the reviews the queue's actions post, and which Gerrit events
// take a change out of its queue.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  changesText,
  dequeueOf,
  noticeReview,
  dependencyNeeds,
  queueConfigOf,
  queueHash,
  queueName,
  refusalReview,
  runChangeOf,
  runOutcomeOf,
  successReview,
} from '../../shared/pipelines/gate-plan.js';
import { commentAdded, enqueueItem, patchsetCreated, pipeline, gerritEvent, CHANGE, REVISION } from './support/pipelines.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const GATE = pipeline('gate-and-submit');

test('a change is queued by its project\'s queue: (or its name) and its branch; window and floor from the pipeline', () => {
  assert.is(queueName('mediawiki/core', 'master', {}), 'mediawiki/core master');
  assert.is(queueName('mediawiki/extensions/Foo', 'wmf/1.42', { queue: 'mediawiki' }), 'mediawiki wmf/1.42');
  assert.equal(queueConfigOf(GATE, 'mediawiki master'), { queue: 'mediawiki master', pipeline: 'gate-and-submit', window: 5, windowFloor: 2, windowCeiling: 20 });
  assert.equal(queueConfigOf({ ...GATE, window: undefined, windowFloor: undefined }, 'q'), { queue: 'q', pipeline: 'gate-and-submit', window: 5, windowFloor: 2, windowCeiling: 20 });
  assert.equal(queueConfigOf({ ...GATE, window: 1, windowFloor: 3 }, 'q').windowFloor, 1);
  // A window above the default ceiling raises it; a ceiling given below the window lowers the window.
  assert.equal(queueConfigOf({ ...GATE, window: 30 }, 'q').windowCeiling, 30);
  assert.equal([queueConfigOf({ ...GATE, window: 8, windowCeiling: 6 }, 'q').window, queueConfigOf({ ...GATE, windowCeiling: 50 }, 'q').windowCeiling], [6, 50]);
  const hash = queueHash({ pipeline: 'gate-and-submit', queue: 'mediawiki master' });
  assert.ok(/^[0-9a-f]{40}$/.test(hash), hash);
  assert.is.not(hash, queueHash({ pipeline: 'gate-and-submit', queue: 'mediawiki wmf/1.42' }));
});

test('dependencies let a change into its queue only when each is gated in the same queue, and not in a cycle', () => {
  const dep = (change: number, queue: string | undefined) => ({ change, project: `p${change}`, queue });
  assert.equal(dependencyNeeds('gate-and-submit', 'mediawiki master', [dep(1, 'mediawiki master'), dep(2, 'mediawiki master')]), { ok: true, needs: [1, 2] });
  assert.equal(dependencyNeeds('gate-and-submit', 'mediawiki master', []), { ok: true, needs: [] });
  assert.equal(dependencyNeeds('gate-and-submit', 'mediawiki master', [dep(1, 'mediawiki master'), dep(2, 'p2 master')]), {
    ok: false,
    reason:
      'Not added to the gate-and-submit queue: it depends on change 2 of p2, which is in a different queue (p2 master); changes in different queues cannot be tested together: merge 2 first, or let both projects share a queue (queue: in seakeeper.yaml).',
  });
  assert.equal(dependencyNeeds('gate-and-submit', 'q', [dep(3, undefined)]), {
    ok: false,
    reason: 'Not added to the gate-and-submit queue: it depends on change 3 of p3, which the gate-and-submit pipeline does not test; merge it first.',
  });
  assert.equal(dependencyNeeds('gate-and-submit', 'q', [dep(1, 'q')], [5, 1, 5]), {
    ok: false,
    reason: 'Not added to the gate-and-submit queue: its dependencies form a cycle (5 → 1 → 5); remove a Depends-On footer from one of these changes.',
  });
});

type Node = { type: string; phase: string; message?: string; children?: string[] };
const finishedRun = (phase: string, nodes: Record<string, Node> = {}, message?: string) => ({ status: { phase, nodes, ...(message ? { message } : {}) } });
const pod = (phase: string, message?: string): Node => ({ type: 'Pod', phase, ...(message ? { message } : {}) });
const steps = { type: 'Steps', phase: 'Failed', message: 'child failed' };

test('a run that is not finished has no outcome; Succeeded is a success', () => {
  for (const phase of ['Running', 'Pending', '', undefined]) assert.is(runOutcomeOf({ status: { phase } }), undefined);
  assert.is(runOutcomeOf({}), undefined);
  assert.equal(runOutcomeOf(finishedRun('Succeeded')), { result: 'succeeded' });
});

test('a step that ran and failed is the change\'s failure, whatever else failed beside it', () => {
  const nodes = { w: steps, a: pod('Failed', 'main: Error (exit code 2): tests failed'), b: pod('Error', 'pod deleted') };
  assert.equal(runOutcomeOf(finishedRun('Failed', nodes, 'child \'w-a\' failed')), { result: 'failed', message: "child 'w-a' failed" });
  // Out of memory, or over its own storage limit: the step's own doing.
  assert.is(runOutcomeOf(finishedRun('Failed', { a: pod('Failed', 'main: OOMKilled (exit code 137)') }))!.result, 'failed');
  assert.is(runOutcomeOf(finishedRun('Failed', { a: pod('Failed', 'Pod ephemeral local storage usage exceeds the total limit of containers 1Gi.') }))!.result, 'failed');
  // Its deadline passed: a timeout, as Zuul's TIMED_OUT, is reported.
  assert.is(runOutcomeOf(finishedRun('Failed', { a: pod('Failed', 'Pod was active on the node longer than the specified deadline') }))!.result, 'failed');
});

test('pods lost to the infrastructure (deleted under the run, evicted, rejected, their node shut down) make an infrastructure error, with the reasons', () => {
  const cases: Array<[string, Node]> = [
    ['pod deleted', pod('Error', 'pod deleted')],
    ['The node was low on resource: memory. Threshold quantity: 100Mi, available: 52Mi. ', pod('Failed', 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 52Mi. ')],
    ['Pod was rejected: Node didn\'t have enough resource: cpu', pod('Failed', 'Pod was rejected: Node didn\'t have enough resource: cpu')],
    ['Pod was terminated in response to imminent node shutdown.', pod('Failed', 'Pod was terminated in response to imminent node shutdown.')],
    ['Preempted in order to admit critical pod', pod('Failed', 'Preempted in order to admit critical pod')],
    ['pod failed: neither main nor wait container completed successfully', pod('Failed', 'pod failed: neither main nor wait container completed successfully')],
    ['init: Error (exit code 1): failed to download artifact', pod('Error', 'init: Error (exit code 1): failed to download artifact')],
  ];
  for (const [message, node] of cases) {
    assert.equal(runOutcomeOf(finishedRun(node.phase === 'Error' ? 'Error' : 'Failed', { w: steps, a: node })), { result: 'error', message }, message);
  }
  const two = runOutcomeOf(finishedRun('Failed', { a: pod('Error', 'pod deleted'), b: pod('Error', 'pod deleted'), c: pod('Failed', 'The node had condition: [DiskPressure]. ') }));
  assert.equal(two, { result: 'error', message: 'pod deleted; The node had condition: [DiskPressure]. ' });
  // Argo's Error with no failed step (the controller could not make the pods): the infrastructure's too.
  assert.equal(runOutcomeOf(finishedRun('Error', {}, 'error in entry template execution')), { result: 'error', message: 'error in entry template execution' });
  // Failed without a failed step (a deadline of the whole run): the change's.
  assert.equal(runOutcomeOf(finishedRun('Failed', {}, 'Step exceeded its deadline')), { result: 'failed', message: 'Step exceeded its deadline' });
});

test('an attempt that Argo\'s retryStrategy recovered from does not count', () => {
  const nodes = {
    r: { type: 'Retry', phase: 'Succeeded', children: ['a0', 'a1'] },
    a0: pod('Failed', 'main: Error (exit code 1): flaky'),
    a1: pod('Succeeded'),
    b: pod('Error', 'pod deleted'),
  };
  assert.equal(runOutcomeOf(finishedRun('Error', nodes)), { result: 'error', message: 'pod deleted' });
  const failedRetry = { ...nodes, r: { ...nodes.r, phase: 'Failed' } };
  assert.is(runOutcomeOf(finishedRun('Failed', failedRetry))!.result, 'failed');
});

test('the checkout\'s merge conflict (exit 3 and its termination message) is a conflict, named by its line', () => {
  const line = 'merge conflict: change refs/changes/45/12345/2 of mediawiki/core does not merge onto master with the changes ahead of it';
  const nodes = { w: steps, a: pod('Failed', `main: Error (exit code 3): ${line}`) };
  assert.equal(runOutcomeOf(finishedRun('Failed', nodes)), { result: 'conflict', message: line });
  // Exit 3 alone, or the words without the exit code, is an ordinary failure.
  assert.is(runOutcomeOf(finishedRun('Failed', { a: pod('Failed', 'main: Error (exit code 3)') }))!.result, 'failed');
  assert.is(runOutcomeOf(finishedRun('Failed', { a: pod('Failed', `main: Error (exit code 1): ${line}`) }))!.result, 'failed');
});

test('SEAKEEPER_CHANGES: one line per change in merge order, exact text, that checkout.sh --check takes', () => {
  const a = enqueueItem(1);
  const b = { ...enqueueItem(2), project: 'mediawiki/extensions/Foo', branch: 'wmf/1.42' };
  const text = changesText([a, b]);
  assert.is(text, `mediawiki/core master refs/changes/01/1/1 ${a.revision}\nmediawiki/extensions/Foo wmf/1.42 refs/changes/02/2/1 ${b.revision}`);
  const checked = execFileSync('sh', [path.join(ROOT, 'config/gate/checkout.sh'), '--check'], {
    env: { PATH: process.env.PATH ?? '', SEAKEEPER_CHANGES: text, SEAKEEPER_GIT_URL: 'https://gerrit.example.org/' },
    encoding: 'utf8',
  });
  assert.ok(checked.includes('mediawiki/extensions/Foo'), checked);
});

test('the change a gate run tests, as the builder takes it, with its URL on Gerrit', () => {
  assert.equal(runChangeOf(enqueueItem(7), 'https://gerrit.example.org'), {
    project: 'mediawiki/core',
    branch: 'master',
    number: 7,
    patchset: 1,
    revision: enqueueItem(7).revision,
    ref: 'refs/changes/07/7/1',
    url: 'https://gerrit.example.org/c/mediawiki/core/+/7',
  });
});

test('notices become posts: a report with its -1, a message without a vote; the pipeline\'s tag and failure notify', () => {
  const item = enqueueItem(3);
  const report = noticeReview(GATE, { type: 'report', id: 'n1', item, kind: 'failed', message: 'Failed in the gate-and-submit queue.', vote: -1 });
  assert.equal(report, {
    changeId: 'mediawiki/core~3',
    revision: item.revision,
    review: { message: 'Failed in the gate-and-submit queue.', labels: { Verified: -1 }, tag: 'autogenerated:seakeeper-gate-and-submit', notify: 'OWNER_REVIEWERS' },
    submit: false,
  });
  const message = noticeReview(GATE, { type: 'message', id: 'n2', item, text: 'Removed from the queue.' });
  assert.equal(message.review, { message: 'Removed from the queue.', tag: 'autogenerated:seakeeper-gate-and-submit', notify: 'OWNER_REVIEWERS' });
  const removed = noticeReview(GATE, { type: 'report', id: 'n3', item, kind: 'approval-removed', message: 'Removed.' });
  assert.is(removed.review.labels, undefined);
});

test('the head passed: Verified +2 with the success message, to be submitted; a refusal to enqueue tells the owner', () => {
  const item = enqueueItem(4);
  const plan = successReview(GATE, item, 'https://argo.example.org/workflows/sk-x/gate-and-submit-4-1-abc');
  assert.equal(plan.review.labels, { Verified: 2 });
  assert.ok(plan.review.message!.startsWith('Gate passed (gate-and-submit pipeline).'), plan.review.message);
  assert.is(plan.submit, true);
  assert.is(plan.review.tag, 'autogenerated:seakeeper-gate-and-submit');
  const refusal = refusalReview(GATE, { project: 'p', change: 4, revision: REVISION }, 'Not added to the gate-and-submit queue: …');
  assert.equal(refusal, { changeId: 'p~4', revision: REVISION, review: { message: 'Not added to the gate-and-submit queue: …', tag: 'autogenerated:seakeeper-gate-and-submit', notify: 'OWNER' }, submit: false });
});

test('what takes a change out of its queue: a new patch set, abandoned, merged, Code-Review +2 taken back', () => {
  const n = CHANGE.number;
  assert.equal(dequeueOf(patchsetCreated(), GATE), { type: 'dequeue', change: n, patchset: 3, reason: 'new-patchset' });
  const closed = (type: string) => gerritEvent({ type, eventCreatedOn: 1, change: CHANGE, patchSet: { number: 3, revision: REVISION }, abandoner: { username: 'x' }, submitter: { username: 'x' }, newRev: REVISION });
  assert.equal(dequeueOf(closed('change-abandoned'), GATE), { type: 'dequeue', change: n, reason: 'abandoned' });
  assert.equal(dequeueOf(closed('change-merged'), GATE), { type: 'dequeue', change: n, patchset: 3, reason: 'merged-elsewhere' });
  const removed = commentAdded('Patch Set 3: Code-Review-1', [{ type: 'Code-Review', value: '-1', oldValue: '2' }]);
  assert.equal(dequeueOf(removed, GATE), { type: 'dequeue', change: n, patchset: 3, reason: 'approval-removed' });
  // The approval itself, another vote, a comment: nothing leaves.
  assert.is(dequeueOf(commentAdded('Patch Set 3: Code-Review+2', [{ type: 'Code-Review', value: '2', oldValue: '0' }]), GATE), undefined);
  assert.is(dequeueOf(commentAdded('Patch Set 3: Verified-1', [{ type: 'Verified', value: '-1', oldValue: '2' }, { type: 'Code-Review', value: '2' }]), GATE), undefined);
  assert.is(dequeueOf(commentAdded('looks good'), GATE), undefined);
});

test.run();
