// The status page's pure core (shared/status/): the view of queues and runs, the answer for one change, and
// the times, on hand-made ChangeQueues and Workflows with a fixed clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findPipeline, loadPipelines } from '../../shared/config/pipeline-config.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, namespaceFor, projectHash } from '../../shared/names.js';
import type { QueueItem, QueueState } from '../../shared/pipelines/change-queue.js';
import type { ChangeQueueObject } from '../../shared/pipelines/queue-store.js';
import { CHANGE_LABEL, PATCHSET_LABEL, PIPELINE_LABEL, REVISION_LABEL, safeText, type LiveWorkflow } from '../../shared/runs/workflow.js';
import { answerFor, ESTIMATE_RULE, mergeEstimate } from '../../shared/status/change-answer.js';
import { percentile } from '../../shared/statistics.js';
import { runTimes } from '../../shared/status/run-times.js';
import { changesNamed, publicView, refKey, refsNamed } from '../../shared/status/public-view.js';
import { MERGED_CHANGE_ANNOTATION, REF_ANNOTATION, REF_HASH_LABEL } from '../../shared/runs/ref-run.js';
import { publicQueries } from '../../shared/status/status-source.js';
import { buildStatusView, type StatusInput } from '../../shared/status/status-view.js';

const NOW = new Date('2026-12-03T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
const GATE = 'gate-and-submit';
const PROJECT = 'mediawiki/core';
// The two kinds of pipeline, whatever else config/pipelines.yaml holds.
const PIPELINES = [findPipeline(loadPipelines(), 'check')!, findPipeline(loadPipelines(), GATE)!];

function workflow(o: { name: string; project?: string; pipeline?: string; change: number; patchset?: number; startedAgo?: number; phase?: string; estimate?: number; subject?: string; namespace?: string; labels?: Record<string, string>; finishedAgo?: number; createdAgo?: number; nodes?: Record<string, unknown> }): LiveWorkflow {
  const project = o.project ?? PROJECT;
  return {
    metadata: {
      name: o.name,
      namespace: o.namespace ?? namespaceFor(project),
      creationTimestamp: ago(o.createdAgo ?? o.startedAgo ?? 0),
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [PROJECT_HASH_LABEL]: projectHash(project),
        [PIPELINE_LABEL]: o.pipeline ?? GATE,
        [CHANGE_LABEL]: String(o.change),
        [PATCHSET_LABEL]: String(o.patchset ?? 1),
        [REVISION_LABEL]: 'a'.repeat(40),
        ...o.labels,
      },
      annotations: { [PROJECT_ANNOTATION]: safeText(project) },
    },
    spec: { arguments: { parameters: [{ name: 'subject', value: safeText(o.subject ?? `Change ${o.change}`) }] } },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.startedAgo !== undefined ? { startedAt: ago(o.startedAgo) } : {}),
      ...(o.finishedAgo !== undefined ? { finishedAt: ago(o.finishedAgo) } : {}),
      ...(o.estimate !== undefined ? { estimatedDuration: o.estimate } : {}),
      ...(o.nodes ? { nodes: o.nodes } : {}),
    } as LiveWorkflow['status'],
  };
}

function item(change: number, o: Partial<QueueItem> & { runName?: string; runState?: 'running' | 'succeeded' | 'failed' | 'error' } = {}): QueueItem {
  const { runName, runState, ...rest } = o;
  return {
    project: PROJECT,
    branch: 'master',
    change,
    patchset: 1,
    ref: `refs/changes/${String(change).slice(-2)}/${change}/1`,
    revision: 'b'.repeat(40),
    enqueuedAt: ago(600 - change),
    needs: [],
    starts: 1,
    ...(runName ? { run: { name: runName, includes: [], merged: 0, attempt: 1, state: runState ?? 'running' } } : {}),
    ...rest,
  };
}

function queue(items: QueueItem[], window = 3, extra: Partial<QueueState> = {}): ChangeQueueObject {
  return {
    apiVersion: 'seakeeper.dev/v1alpha1',
    kind: 'ChangeQueue',
    metadata: { name: 'gate-and-submit-mediawiki-core-master', namespace: 'seakeeper-system' },
    spec: { pipeline: GATE, queue: 'mediawiki/core master' },
    status: { window, depth: items.length, items, owed: [], observed: [], ...extra },
  };
}

const input = (queues: ChangeQueueObject[], workflows: LiveWorkflow[]): StatusInput => ({
  now: NOW,
  pipelines: PIPELINES,
  queues,
  workflows,
  gerritUrl: 'https://gerrit.example.org/r/',
  argoUiUrl: 'https://argo.example.org/',
});

// A queue of five: 101 testing, 102 failing, 103 testing, 104 and 105 outside the window of 3.
const QUEUE = queue([
  item(101, { runName: 'gate-101' }),
  item(102, { runName: 'gate-102', runState: 'failed', decided: 'failing' }),
  item(103, { runName: 'gate-103' }),
  item(104),
  item(105, { needs: [102], decided: 'needs-failing' }),
]);
const RUNS = [
  workflow({ name: 'gate-101', change: 101, startedAgo: 120, estimate: 300 }),
  workflow({ name: 'gate-102', change: 102, startedAgo: 100, phase: 'Failed', finishedAgo: 40 }),
  workflow({ name: 'gate-103', change: 103, startedAgo: 60, estimate: 400, subject: 'Fix the <b>build</b> $(rm -rf /)' }),
];

test('a gate queue: items in order, the window, failing items marked, runs and subjects from the listed Workflows', () => {
  const view = buildStatusView(input([QUEUE], RUNS));
  assert.is(view.generatedAt, NOW.toISOString());
  assert.equal(view.pipelines.map((p) => p.name), ['check', GATE]);
  const gate = view.pipelines.find((p) => p.name === GATE)!;
  const q = gate.queues[0]!;
  assert.is(q.queue, 'mediawiki/core master');
  assert.is(q.window, 3);
  assert.equal(q.items.map((i) => i.change), [101, 102, 103, 104, 105]);
  assert.equal(q.items.map((i) => i.inWindow), [true, true, true, false, false]);
  assert.equal(q.items.map((i) => i.failing), [false, true, false, false, true]);
  assert.equal(q.items.map((i) => i.status), ['testing', 'failing', 'testing', 'waiting', 'needs-failing']);
  const third = q.items[2]!;
  assert.is(third.subject, 'Fix the <b>build</b> $(rm -rf /)');
  assert.is(third.changeUrl, 'https://gerrit.example.org/r/c/mediawiki/core/+/103');
  assert.is(third.run?.url, `https://argo.example.org/workflows/${namespaceFor(PROJECT)}/gate-103`);
  assert.is(third.run?.phase, 'Running');
  assert.is(third.run?.elapsedSeconds, 60);
  assert.is(third.run?.remainingSeconds, 340);
  assert.is(q.items[3]!.run, undefined);
  assert.is(q.items[3]!.subject, undefined);
});

test('elapsed and remaining: a fixed clock, Argo’s estimate, a finished run, a run not yet started', () => {
  const now = NOW.getTime();
  assert.equal(runTimes(workflow({ name: 'a', change: 1, startedAgo: 90, estimate: 60 }), now), { elapsedSeconds: 90, estimatedSeconds: 60, estimateFrom: 'argo', remainingSeconds: 0 });
  assert.equal(runTimes(workflow({ name: 'b', change: 1, startedAgo: 90, estimate: 600 }), now, 30), { elapsedSeconds: 90, estimatedSeconds: 600, estimateFrom: 'argo', remainingSeconds: 510 });
  // Without Argo's estimate, the history's.
  assert.equal(runTimes(workflow({ name: 'h', change: 1, startedAgo: 90 }), now, 300), { elapsedSeconds: 90, estimatedSeconds: 300, estimateFrom: 'history', remainingSeconds: 210 });
  assert.equal(runTimes(workflow({ name: 'c', change: 1, startedAgo: 90, finishedAgo: 30, estimate: 600, phase: 'Succeeded' }), now), { elapsedSeconds: 60, estimatedSeconds: 600, estimateFrom: 'argo' });
  // Before Argo's controller picked it up: counted from its creation.
  assert.equal(runTimes(workflow({ name: 'd', change: 1, createdAgo: 5 }), now), { elapsedSeconds: 5 });
  assert.is(percentile([], 50), undefined);
  assert.is(percentile([30, 10, 20], 50), 20);
  assert.is(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
});

const departure = (change: number, queuedFor: number, leftAgo: number, merged = true, why?: string) => ({
  change,
  patchset: 1,
  project: PROJECT,
  enqueuedAt: ago(leftAgo + queuedFor),
  leftAt: ago(leftAgo),
  merged,
  ...(why ? { why } : {}),
});

test('a queue’s residence, as Zuul’s resident_time: median and 90th percentile of the time the items that left in the last day spent in it', () => {
  const departed = [departure(1, 100, 10), departure(2, 200, 20), departure(3, 300, 30, false, 'it got a new patch set'), departure(4, 400, 40), departure(5, 5000, 90_000)];
  const q = buildStatusView(input([queue([], 3, { departed })], [])).pipelines[1]!.queues[0]!;
  // The one that left more than a day ago is not counted.
  assert.equal(q.residence, { items: 4, medianSeconds: 200, p90Seconds: 400 }); // nearest rank
  assert.equal(q.departed.map((d) => d.change), [1, 2, 3, 4]);
  assert.equal(buildStatusView(input([QUEUE], RUNS)).pipelines[1]!.queues[0]!.residence, { items: 0 });
});

test('why, after it left or was refused: the newest the queue remembers, in words', () => {
  const departed = [departure(7, 600, 3600, false, 'Failed in the gate-and-submit queue: run gate-7 tested it on master with nothing ahead of it.'), departure(8, 120, 60)];
  const refused = [{ change: 9, patchset: 3, project: PROJECT, at: ago(30), why: 'Not added to the gate-and-submit queue: it does not carry Code-Review +2.' }];
  const view = buildStatusView(input([queue([], 3, { departed, refused })], []));
  const failed = answerFor(view, 7);
  assert.ok(failed.known);
  assert.equal(failed.says.slice(0, 2), [
    'Change 7 is not in any gate queue.',
    `Patch set 1 left the gate-and-submit queue “mediawiki/core master” at ${ago(3600)}, after 10 min in it: Failed in the gate-and-submit queue: run gate-7 tested it on master with nothing ahead of it.`,
  ]);
  assert.is(failed.lastLeft?.kind, 'left');
  assert.is(answerFor(view, 8).says[1], `Patch set 1 merged from the gate-and-submit queue “mediawiki/core master” at ${ago(60)}, after 2 min in it.`);
  assert.is(answerFor(view, 9).says[1], `Its approval of patch set 3 did not add it to the gate-and-submit queue “mediawiki/core master” at ${ago(30)}: Not added to the gate-and-submit queue: it does not carry Code-Review +2.`);
  // Hidden from the public: the page does not know it.
  assert.not.ok(answerFor(publicView(view, new Set([8])), 7).known);
});

test('Workflows outside their project’s namespace, with forged or missing labels, or not Seakeeper’s, are not shown', () => {
  const forged = [
    // Another project's namespace naming mediawiki/core.
    workflow({ name: 'gate-101', change: 101, namespace: 'sk-evil', startedAgo: 10 }),
    // The project-hash label of another project.
    workflow({ name: 'check-1', pipeline: 'check', change: 7, labels: { [PROJECT_HASH_LABEL]: projectHash('other') } }),
    // Not Seakeeper's.
    workflow({ name: 'check-2', pipeline: 'check', change: 8, labels: { [MANAGED_BY_LABEL]: 'someone' } }),
    // The system namespace is no project's.
    workflow({ name: 'check-3', pipeline: 'check', change: 9, namespace: 'seakeeper-system' }),
  ];
  const view = buildStatusView(input([QUEUE], forged));
  const [check, gate] = view.pipelines;
  assert.equal(check!.checks, []);
  assert.equal(check!.stats, { running: 0, started: 0, failed: 0, infrastructureErrors: 0 });
  // The queue names gate-101, but the only Workflow of that name is in the wrong namespace: no run data.
  const head = gate!.queues[0]!.items[0]!;
  assert.is(head.run?.phase, undefined);
  assert.is(head.subject, undefined);
  // A Workflow of the queue's run name, in the right namespace, for another change, is not its run either.
  const other = buildStatusView(input([QUEUE], [workflow({ name: 'gate-101', change: 999, startedAgo: 1 })]));
  assert.is(other.pipelines[1]!.queues[0]!.items[0]!.run?.phase, undefined);
});

test('check runs in progress, sorted by change; finished and stopped ones left out; a day’s counts per pipeline', () => {
  const failedNode = { n1: { type: 'Pod', phase: 'Failed', message: 'main: Error (exit code 1): tests failed' } };
  const evicted = { n1: { type: 'Pod', phase: 'Error', message: 'pod deleted' } };
  const checks = [
    workflow({ name: 'check-b', pipeline: 'check', change: 20, startedAgo: 30, estimate: 100 }),
    workflow({ name: 'check-a', pipeline: 'check', change: 10, startedAgo: 50 }),
    workflow({ name: 'check-done', pipeline: 'check', change: 11, startedAgo: 50, phase: 'Succeeded', finishedAgo: 1 }),
    workflow({ name: 'check-failed', pipeline: 'check', change: 12, startedAgo: 500, phase: 'Failed', finishedAgo: 100, nodes: failedNode }),
    workflow({ name: 'check-error', pipeline: 'check', change: 13, startedAgo: 500, phase: 'Error', finishedAgo: 100, nodes: evicted }),
    workflow({ name: 'check-old', pipeline: 'check', change: 14, startedAgo: 2 * 86_400, phase: 'Failed', finishedAgo: 86_000, nodes: failedNode }),
    { ...workflow({ name: 'check-stopped', pipeline: 'check', change: 15, startedAgo: 5 }), spec: { shutdown: 'Terminate' } },
  ];
  const check = buildStatusView(input([], checks)).pipelines[0]!;
  assert.equal(check.checks.map((c) => [c.change, c.run.name, c.run.elapsedSeconds, c.run.remainingSeconds]), [
    // check-a: no estimate from Argo; the project's one succeeded check run took 49 s.
    [10, 'check-a', 50, 0],
    [20, 'check-b', 30, 70],
  ]);
  assert.is(check.checks[0]!.subject, 'Change 10');
  assert.is(check.checks[0]!.changeUrl, 'https://gerrit.example.org/r/c/mediawiki/core/+/10');
  assert.equal(check.stats, { running: 2, started: 6, failed: 1, infrastructureErrors: 1 });
});

test('without Argo’s estimate, a run is expected to take the median of its project’s succeeded runs in the pipeline', () => {
  const done = (name: string, project: string, seconds: number, pipeline = GATE) =>
    workflow({ name, project, pipeline, change: 1, startedAgo: 1000 + seconds, finishedAgo: 1000, phase: 'Succeeded' });
  const history = [done('h1', PROJECT, 100), done('h2', PROJECT, 300), done('h3', PROJECT, 200), done('h4', 'other', 5), done('h5', PROJECT, 9, 'check')];
  const view = buildStatusView(input([QUEUE], [...RUNS.map((w) => ({ ...w, status: { ...w.status, estimatedDuration: undefined } })), ...history]));
  const head = view.pipelines[1]!.queues[0]!.items[0]!;
  // 200 s typical, 120 s run: 80 s to go.
  assert.equal([head.run?.estimatedSeconds, head.run?.estimateFrom, head.run?.remainingSeconds], [200, 'history', 80]);
  assert.is(answerFor(view, 103).queues[0]!.estimatedMergeSeconds, 140);
});

test('the queue’s owed notices are kept, and a queue of an unknown pipeline is not shown', () => {
  const owed = [{ id: 'n1', kind: 'message' as const, item: { project: PROJECT, branch: 'master', change: 300, patchset: 2, ref: 'refs/changes/00/300/2', revision: 'c'.repeat(40) }, text: 'Not added to the gate-and-submit queue: it needs change 299.' }];
  const stray = { ...queue([item(1)]), spec: { pipeline: 'gone', queue: 'x master' } };
  const view = buildStatusView(input([queue([], 5, { owed }), stray], []));
  assert.equal(view.pipelines[1]!.queues.map((q) => q.notices), [[{ change: 300, patchset: 2, kind: 'message', text: owed[0]!.text }]]);
  assert.equal(view.pipelines.flatMap((p) => p.queues).length, 1);
});

test('why, in a queue inside the window: place, estimate by the rule (the longest remaining ahead), in words', () => {
  const view = buildStatusView(input([QUEUE], RUNS));
  const answer = answerFor(view, 103);
  assert.ok(answer.known);
  assert.is(answer.estimateRule, ESTIMATE_RULE);
  const place = answer.queues[0]!;
  assert.equal([place.position, place.depth, place.inWindow, place.failing, place.estimatedMergeSeconds], [3, 5, true, false, 340]);
  // 101 has 180 s left, 103 has 340 s; 102 is failing and holds nothing up.
  assert.match(answer.says[0]!, /3rd of 5 in the gate-and-submit queue “mediawiki\/core master”, inside the window of 3/);
  assert.match(answer.says[0]!, /Estimated to merge in 6 min/);
  assert.is(answerFor(view, 101).queues[0]!.estimatedMergeSeconds, 180);
});

test('why, failing, outside the window, or needing a failed change: what the author can do', () => {
  const view = buildStatusView(input([QUEUE], RUNS));
  assert.match(answerFor(view, 102).says[0]!, /its run failed there \(gate-102: https:\/\/argo/);
  assert.match(answerFor(view, 102).says[0]!, /upload a new patch set/);
  assert.is(answerFor(view, 102).queues[0]!.estimatedMergeSeconds, undefined);
  const outside = answerFor(view, 104);
  assert.match(outside.says[0]!, /4th of 5 .* outside the window of 3: its tests start once 1 change ahead of it leaves the window/);
  assert.is(outside.queues[0]!.estimatedMergeSeconds, undefined);
  assert.match(answerFor(view, 105).says[0]!, /needs change 102, which failed in the queue/);
});

test('why, not in any queue: its check runs, the queue’s unposted word, or nothing known', () => {
  const owed = [{ id: 'n1', kind: 'message' as const, item: { project: PROJECT, branch: 'master', change: 300, patchset: 2, ref: 'r', revision: 'c'.repeat(40) }, text: 'Not added: it needs change 299.' }];
  const view = buildStatusView(input([queue([], 5, { owed })], [workflow({ name: 'check-a', pipeline: 'check', change: 10, startedAgo: 50 })]));
  const checked = answerFor(view, 10);
  assert.ok(checked.known);
  assert.equal(checked.queues, []);
  assert.is(checked.says[0], 'Change 10 is not in any gate queue.');
  assert.match(checked.says[1]!, /Its check run for patch set 1 is running for 50 s: https:\/\/argo/);
  assert.match(checked.says.at(-1)!, /Code-Review \+2/);
  assert.match(answerFor(view, 300).says.join(' '), /about to post on it: “Not added: it needs change 299.”/);
  const unknown = answerFor(view, 4242);
  assert.not.ok(unknown.known);
  assert.is(unknown.says[0], 'Change 4242 is not in any gate queue and has no run in progress.');
});

test('mergeEstimate: unknown while a run ahead has no estimate or the item has no run; finished runs count as 0', () => {
  const base = { position: 1, patchset: 1, project: 'p', branch: 'b', changeUrl: '', enqueuedAt: '', queuedSeconds: 0, inWindow: true, needs: [] };
  const running = (change: number, remainingSeconds?: number) => ({ ...base, change, status: 'testing' as const, failing: false, run: { name: `r${change}`, url: '', state: 'running' as const, attempt: 1, ...(remainingSeconds !== undefined ? { remainingSeconds } : {}) } });
  assert.is(mergeEstimate([running(1, 10), running(2, 5)]), 10);
  assert.is(mergeEstimate([running(1), running(2, 5)]), undefined);
  assert.is(mergeEstimate([{ ...base, change: 1, status: 'waiting', failing: false }]), undefined);
  assert.is(mergeEstimate([{ ...running(1), run: { name: 'r1', url: '', state: 'succeeded', attempt: 1 } }, running(2, 7)]), 7);
});

test('what the public may not read is not shown: a hidden queue item keeps its place and timing and nothing that names it; its checks and notices go', () => {
  const checks = [workflow({ name: 'check-201', change: 201, pipeline: 'check', startedAgo: 30 }), workflow({ name: 'check-202', change: 202, pipeline: 'check', startedAgo: 30 })];
  const view = buildStatusView(input([QUEUE], [...RUNS, ...checks]));
  assert.equal(changesNamed(view), [101, 102, 103, 104, 105, 201, 202]);
  const shown = publicView(view, new Set([101, 102, 104, 105, 201]));
  const q = shown.pipelines.find((p) => p.name === GATE)!.queues[0]!;
  assert.equal(q.items.map((i) => i.change), [101, 102, 0, 104, 105]);
  assert.equal(q.items[2], { position: 3, change: 0, patchset: 0, project: '', branch: '', changeUrl: '', enqueuedAt: q.items[2]!.enqueuedAt, queuedSeconds: q.items[2]!.queuedSeconds, inWindow: true, status: 'testing', failing: false, needs: [], hidden: true, run: { name: '', url: '', state: 'running', attempt: 1, elapsedSeconds: 60, remainingSeconds: 340 } });
  assert.not.ok(JSON.stringify(shown).includes('rm -rf') || JSON.stringify(shown).includes('gate-103'));
  // The changes behind it still wait for its run: 104 and 105 are outside the window, and 101's estimate is as before.
  assert.equal(answerFor(shown, 101).queues[0]!.estimatedMergeSeconds, answerFor(view, 101).queues[0]!.estimatedMergeSeconds);
  assert.not.ok(answerFor(shown, 103).known, 'the hidden change is not known to the page');
  assert.equal(shown.pipelines.find((p) => p.name === 'check')!.checks.map((c) => c.change), [201]);
  // 105 needs 102, which is visible; a hidden need is dropped.
  assert.equal(publicView(view, new Set([101, 103, 104, 105])).pipelines.find((p) => p.name === GATE)!.queues[0]!.items[4]!.needs, []);
});

/** A run of a ref as ref-run.ts labels it: no change or patch set label. */
function refRun(o: { name: string; project?: string; ref: string; phase?: string; mergedChange?: string; startedAgo?: number }): LiveWorkflow {
  const project = o.project ?? PROJECT;
  return {
    metadata: {
      name: o.name,
      namespace: namespaceFor(project),
      creationTimestamp: ago(o.startedAgo ?? 60),
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [PROJECT_HASH_LABEL]: projectHash(project), [PIPELINE_LABEL]: 'check', [REF_HASH_LABEL]: projectHash(o.ref), [REVISION_LABEL]: 'c'.repeat(40) },
      annotations: { [PROJECT_ANNOTATION]: safeText(project), [REF_ANNOTATION]: safeText(o.ref), ...(o.mergedChange ? { [MERGED_CHANGE_ANNOTATION]: o.mergedChange } : {}) },
    },
    spec: {},
    status: { phase: o.phase ?? 'Running', startedAt: ago(o.startedAgo ?? 60) },
  };
}

test('runs of refs going (post, publish, periodic, postmerge) are listed per pipeline and counted; the public sees those of public projects and changes', () => {
  const workflows = [
    refRun({ name: 'post-1', ref: 'refs/heads/master' }),
    refRun({ name: 'publish-1', ref: 'refs/tags/v1.2' }),
    refRun({ name: 'post-secret', project: 'secret/app', ref: 'refs/heads/master' }),
    refRun({ name: 'postmerge-1', ref: 'refs/heads/master', mergedChange: '77,2' }),
    refRun({ name: 'post-done', ref: 'refs/heads/REL1_46', phase: 'Succeeded' }),
    // A forged one: its ref-hash does not match its ref.
    { ...refRun({ name: 'forged', ref: 'refs/heads/master' }), metadata: { ...refRun({ name: 'forged', ref: 'refs/heads/master' }).metadata, annotations: { [PROJECT_ANNOTATION]: PROJECT, [REF_ANNOTATION]: 'refs/heads/other' } } },
  ];
  const view = buildStatusView(input([], workflows));
  const check = view.pipelines.find((p) => p.name === 'check')!;
  assert.equal(check.refRuns.map((r) => [r.project, r.ref, r.change, r.run.name]), [
    [PROJECT, 'refs/heads/master', undefined, 'post-1'],
    [PROJECT, 'refs/heads/master', 77, 'postmerge-1'],
    [PROJECT, 'refs/tags/v1.2', undefined, 'publish-1'],
    ['secret/app', 'refs/heads/master', undefined, 'post-secret'],
  ]);
  assert.is(check.refRuns[1]!.changeUrl, 'https://gerrit.example.org/r/c/mediawiki/core/+/77');
  assert.is(check.stats.running, 4);
  assert.is(check.stats.started, 5);
  assert.equal(check.checks, [], 'no change runs: they are not checks');
  assert.equal(changesNamed(view), [77]);
  assert.equal(refsNamed(view), [
    { project: PROJECT, ref: 'refs/heads/master' },
    { project: PROJECT, ref: 'refs/tags/v1.2' },
    { project: 'secret/app', ref: 'refs/heads/master' },
  ]);
  const shown = publicView(view, new Set([77]), new Set([refKey(PROJECT, 'refs/heads/master'), refKey(PROJECT, 'refs/tags/v1.2')]));
  assert.equal(shown.pipelines.find((p) => p.name === 'check')!.refRuns.map((r) => r.run.name), ['post-1', 'postmerge-1', 'publish-1']);
  assert.equal(publicView(view, new Set(), new Set()).pipelines.find((p) => p.name === 'check')!.refRuns, []);
});

test('the anonymous queries: a hundred change numbers each, joined with OR', () => {
  const numbers = Array.from({ length: 250 }, (_, i) => i + 1);
  const queries = publicQueries(numbers);
  assert.equal(queries.map((q) => q.n), [100, 100, 50]);
  assert.is(queries[2]!.q, Array.from({ length: 50 }, (_, i) => `change:${201 + i}`).join(' OR '));
  assert.equal(publicQueries([]), []);
});

test.run();
