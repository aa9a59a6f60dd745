import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChangeInfo } from '../../shared/gerrit/types.js';
import { claimPatch, donePatch, markerState, releasePatch, REPORT_MARKER, CLAIM_TTL_MS } from '../../shared/reporting/markers.js';
import { byteLength, cut, formatDuration, MAX_REPORT_BYTES, rejectionReview, reviewAlreadyPosted, startReview } from '../../shared/reporting/messages.js';
import { buildReport, changeStateOf, movedDependencies, reportPending, shouldReport, stepsOf, type ChangeState } from '../../shared/reporting/report.js';
import { dependenciesAnnotation, fromSafeText, runOf, testedDependencies, type LiveWorkflow, type WorkflowNode, type WorkflowStatus } from '../../shared/runs/workflow.js';
import { namespaceFor } from '../../shared/names.js';
import { firstTrigger, liveWorkflow, patchsetCreated, pipeline } from './support/pipelines.js';

const NOW = new Date('2025-01-01T12:00:00Z');
const OPEN: ChangeState = { status: 'NEW', currentPatchset: 3 };
const ARGO = 'https://argo.example.org';
const NS = namespaceFor('mediawiki/core');

const node = (id: string, fields: Partial<WorkflowNode>): [string, WorkflowNode] => [id, { id, name: `wf.${fields.displayName ?? id}`, ...fields }];
const at = (m: number, s = 0) => `2025-01-01T10:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}Z`;

function status(phase: 'Succeeded' | 'Failed' | 'Error'): WorkflowStatus {
  const failed = phase !== 'Succeeded';
  return {
    phase,
    startedAt: at(0),
    finishedAt: at(4, 12),
    ...(failed ? { message: 'child "wf-4" failed' } : {}),
    nodes: Object.fromEntries([
      node('wf', { displayName: 'wf', type: 'DAG', phase, startedAt: at(0), finishedAt: at(4, 12), children: ['wf-1', 'wf-2', 'wf-5'] }),
      node('wf-1', {
        displayName: 'lint',
        type: 'Pod',
        phase: 'Succeeded',
        startedAt: at(0, 5),
        finishedAt: at(1, 7),
        outputs: { artifacts: [{ name: 'main-logs', s3: { key: `${NS}/wf/wf-1/main.log` } }] },
      }),
      node('wf-2', { displayName: 'test', type: 'Retry', phase: failed ? 'Failed' : 'Succeeded', startedAt: at(1, 10), finishedAt: at(4, 10), children: ['wf-3', 'wf-4'] }),
      node('wf-3', { displayName: 'test(0)', type: 'Pod', phase: 'Failed', startedAt: at(1, 10), finishedAt: at(2, 0), message: 'Error (exit code 1)' }),
      node('wf-4', {
        displayName: 'test(1)',
        type: 'Pod',
        phase: failed ? 'Failed' : 'Succeeded',
        startedAt: at(2, 5),
        finishedAt: at(4, 10),
        ...(failed ? { message: 'Error (exit code 1)' } : {}),
        outputs: { artifacts: [{ name: 'junit', s3: { key: `${NS}/wf/wf-4/junit.xml` } }] },
      }),
      node('wf-5', { displayName: 'docs', type: 'Skipped', phase: 'Skipped', message: 'when false' }),
    ]),
  };
}

const finished = (phase: 'Succeeded' | 'Failed' | 'Error' = 'Succeeded', extra: Parameters<typeof liveWorkflow>[0] = {}): LiveWorkflow => liveWorkflow({ status: status(phase), ...extra });

// ---- shouldReport ----

const SHOULD: Array<[string, () => LiveWorkflow, ChangeState | undefined, string]> = [
  ['a finished run of the current patchset: vote', () => finished(), OPEN, 'report:all'],
  ['a failed run: vote', () => finished('Failed'), OPEN, 'report:all'],
  ['an Error run: vote', () => finished('Error'), OPEN, 'report:all'],
  ['still running', () => liveWorkflow({ status: { phase: 'Running' } }), OPEN, 'no:not-completed'],
  ['not started yet', () => liveWorkflow(), OPEN, 'no:not-completed'],
  ['not a Seakeeper Workflow', () => ({ metadata: { name: 'x', labels: {} }, status: { phase: 'Failed' } }), OPEN, 'no:not-seakeeper'],
  ['forged labels (the project hash does not match)', () => {
    const w = finished();
    return { ...w, metadata: { ...w.metadata, annotations: { ...w.metadata.annotations, 'seakeeper.dev/project': 'other' } } };
  }, OPEN, 'no:not-seakeeper'],
  ['already reported in this phase', () => finished('Failed', { annotations: { 'seakeeper.dev/reported': 'Failed' } }), OPEN, 'no:already-reported'],
  ['reported Failed, retried, now Succeeded', () => finished('Succeeded', { annotations: { 'seakeeper.dev/reported': 'Failed' } }), OPEN, 'report:all'],
  ['stopped for a newer run: never reported', () => finished('Failed', { annotations: { 'seakeeper.dev/superseded-by': 'check-12345-4-x' }, spec: { shutdown: 'Terminate' } }), OPEN, 'no:superseded'],
  ['its dependencies moved on while it ran: never reported', () => finished('Failed', { annotations: { 'seakeeper.dev/stale-because': 'it%20was%20tested%20with%20change%207%20patch%20set%201' } }), OPEN, 'no:superseded'],
  ['stopped by a human', () => finished('Failed', { spec: { shutdown: 'Stop' } }), OPEN, 'no:stopped'],
  ['another delivery is reporting it', () => finished('Failed', { annotations: { 'seakeeper.dev/reported-claim': `Failed ${new Date(NOW.getTime() - 1000).toISOString()}` } }), OPEN, 'no:in-progress'],
  ['a claim abandoned long ago', () => finished('Failed', { annotations: { 'seakeeper.dev/reported-claim': `Failed ${new Date(NOW.getTime() - CLAIM_TTL_MS - 1).toISOString()}` } }), OPEN, 'report:all'],
  ['the change was deleted', () => finished(), undefined, 'no:change-gone'],
  ['a newer patchset exists: no vote', () => finished(), { status: 'NEW', currentPatchset: 4 }, 'report:none'],
  ['the change was abandoned: no vote', () => finished(), { status: 'ABANDONED', currentPatchset: 3 }, 'report:none'],
  ['the change was merged: no vote below zero', () => finished('Failed'), { status: 'MERGED', currentPatchset: 3 }, 'report:non-negative'],
];

for (const [description, make, change, expected] of SHOULD) {
  test(`shouldReport: ${description} → ${expected}`, () => {
    const decision = shouldReport(make(), change, NOW);
    assert.is(decision.report ? `report:${decision.votes}` : `no:${decision.reason}`, expected);
  });
}

test('reportPending: what reconcile can tell without asking Gerrit', () => {
  assert.ok(reportPending(finished(), NOW).report);
  assert.not.ok(reportPending(finished('Failed', { annotations: { 'seakeeper.dev/reported': 'Failed' } }), NOW).report);
});

const atPatchset = (number: number, patchset: number, status = 'NEW') =>
  ({ _number: number, status, current_revision: 'c'.repeat(40), revisions: { ['c'.repeat(40)]: { _number: patchset } } }) as unknown as ChangeInfo;

test('the dependencies a run was tested with: written and read back, odd project names too; entries not in the form are left out', () => {
  const tested = [
    { project: 'mediawiki/core', change: 7, patchset: 1 },
    { project: 'Ümlaut/a project with spaces, 5,1 and a comma', change: 12, patchset: 3 },
  ];
  const run = runOf(finished('Succeeded', { annotations: { 'seakeeper.dev/dependencies': dependenciesAnnotation(tested) } }))!;
  assert.equal(testedDependencies(run.dependencies), tested);
  assert.equal(testedDependencies(fromSafeText(dependenciesAnnotation([tested[1]!]))), [tested[1]]);
  assert.equal(testedDependencies('core 7,1; nonsense; other 0,1; x 8,2'), [{ project: 'core', change: 7, patchset: 1 }, { project: 'x', change: 8, patchset: 2 }]);
  assert.equal(testedDependencies(undefined), []);
});

test('a run whose dependency has a newer patch set is stale; merged, abandoned, unchanged or unanswered ones are not', () => {
  const tested = [
    { project: 'core', change: 7, patchset: 1 },
    { project: 'core', change: 8, patchset: 2 },
    { project: 'lib', change: 9, patchset: 1 },
    { project: 'lib', change: 10, patchset: 1 },
  ];
  assert.equal(movedDependencies(tested, [atPatchset(7, 2), atPatchset(8, 2, 'MERGED'), atPatchset(9, 1, 'ABANDONED')]), [
    'it was tested with change 7 patch set 1, which has patch set 2 now',
  ]);
  assert.equal(movedDependencies(tested, []), []);
});

test('changeStateOf reads the current patchset from a ChangeInfo', () => {
  const info = {
    status: 'NEW',
    current_revision: 'b'.repeat(40),
    revisions: { ['b'.repeat(40)]: { _number: 4, ref: 'refs/changes/45/12345/4', created: '' } },
  } as unknown as ChangeInfo;
  assert.equal(changeStateOf(info), { status: 'NEW', currentPatchset: 4 });
});

// ---- buildReport ----

const url = (w: LiveWorkflow) => `${ARGO}/workflows/${NS}/${w.metadata.name}`;

test('a success: the message, Verified +1, tag, notify, on the revision tested', () => {
  const w = finished();
  const plan = buildReport(w, pipeline('check'), { argoUiUrl: `${ARGO}/` });
  const artifact = (nodeId: string, name: string) => `${ARGO}/artifact-files/${NS}/workflows/${w.metadata.name}/${nodeId}/outputs/${name}`;
  assert.equal(plan, {
    changeId: 'mediawiki/core~12345',
    revision: '0123456789abcdef0123456789abcdef01234567',
    review: {
      message: [
        'Build succeeded (check pipeline).',
        '',
        `${url(w)} : SUCCESS in 4m 12s`,
        '',
        '- lint : SUCCESS in 1m 02s',
        `  - main-logs: ${artifact('wf-1', 'main-logs')}`,
        '- test : SUCCESS in 3m 00s (2 attempts)',
        `  - junit: ${artifact('wf-4', 'junit')}`,
        '- docs : SKIPPED in ?',
      ].join('\n'),
      labels: { Verified: 1 },
      tag: 'autogenerated:seakeeper-check',
      notify: 'OWNER',
    },
    submit: false,
  });
});

test("a failure: Verified -1, Argo's message, the failed step with its message; artifacts by S3 key when configured", () => {
  const w = finished('Failed');
  const plan = buildReport(w, pipeline('check'), { argoUiUrl: ARGO, artifactBaseUrl: 'https://artifacts.example.org/seakeeper-artifacts/' });
  assert.equal(plan.review.labels, { Verified: -1 });
  assert.is(plan.review.notify, 'OWNER_REVIEWERS');
  assert.is(
    plan.review.message,
    [
      'Build failed (check pipeline).',
      '',
      `${url(w)} : FAILURE in 4m 12s`,
      'Argo: child "wf-4" failed',
      '',
      '- lint : SUCCESS in 1m 02s',
      `  - main-logs: https://artifacts.example.org/seakeeper-artifacts/${NS}/wf/wf-1/main.log`,
      '- test : FAILURE in 3m 00s (2 attempts) — Error (exit code 1)',
      `  - junit: https://artifacts.example.org/seakeeper-artifacts/${NS}/wf/wf-4/junit.xml`,
      '- docs : SKIPPED in ?',
    ].join('\n'),
  );
});

test('a run tested with its dependencies names them under its result line', () => {
  const w = finished('Failed', { annotations: { 'seakeeper.dev/dependencies': 'mediawiki/vendor%20777%2C2%3B%20mediawiki/skins/Vector%2012%2C1' } });
  const lines = buildReport(w, pipeline('check'), { argoUiUrl: `${ARGO}/` }).review.message!.split('\n');
  const at = lines.findIndex((line) => line.startsWith(`${url(w)} : FAILURE`));
  assert.is(lines[at + 1], 'Tested with the changes it depends on: mediawiki/vendor 777,2; mediawiki/skins/Vector 12,1');
  assert.not.ok(buildReport(finished('Failed'), pipeline('check'), { argoUiUrl: `${ARGO}/` }).review.message!.includes('Tested with'));
});

test('Error is a failure too', () => {
  const plan = buildReport(finished('Error'), pipeline('check'), { argoUiUrl: ARGO });
  assert.equal(plan.review.labels, { Verified: -1 });
  assert.match(plan.review.message!, /: ERROR in 4m 12s/);
});

test('no vote when superseded; none below zero when merged; a pipeline without votes casts none', () => {
  const w = finished('Failed');
  const superseded = shouldReport(w, { status: 'NEW', currentPatchset: 4 }, NOW);
  assert.ok(superseded.report);
  if (!superseded.report) return;
  const plan = buildReport(w, pipeline('check'), { argoUiUrl: ARGO, votes: superseded.votes, note: superseded.note });
  assert.is(plan.review.labels, undefined);
  assert.is(plan.review.notify, 'NONE');
  assert.match(plan.review.message!, /^Build failed \(check pipeline\)\.\n\nPatchset 4 has replaced patchset 3: this result does not vote\.\n\n/);

  assert.is(buildReport(w, pipeline('check'), { argoUiUrl: ARGO, votes: 'non-negative' }).review.labels, undefined);
  assert.equal(buildReport(finished(), pipeline('check'), { argoUiUrl: ARGO, votes: 'non-negative' }).review.labels, { Verified: 1 });
  const experimental = buildReport(finished(), pipeline('experimental'), { argoUiUrl: ARGO });
  assert.is(experimental.review.labels, undefined);
  assert.is(experimental.review.tag, 'autogenerated:seakeeper-experimental');
});

test('the gate votes +2 and submits on success only', () => {
  const gate = pipeline('gate-and-submit');
  const ok = buildReport(finished('Succeeded', { pipeline: 'gate-and-submit' }), gate, { argoUiUrl: ARGO });
  assert.equal([ok.review.labels, ok.submit], [{ Verified: 2 }, true]);
  const failed = buildReport(finished('Failed', { pipeline: 'gate-and-submit' }), gate, { argoUiUrl: ARGO });
  assert.equal([failed.review.labels, failed.submit], [{ Verified: -1 }, false]);
});

function manySteps(succeeded: number, failed: number, nameLength = 40): WorkflowStatus {
  const nodes: Record<string, WorkflowNode> = {};
  for (let i = 0; i < succeeded + failed; i++) {
    const bad = i >= succeeded;
    const id = `wf-${i}`;
    nodes[id] = {
      id,
      displayName: `${bad ? 'broken' : 'fine'}-${String(i).padStart(5, '0')}-${'x'.repeat(nameLength)}`,
      type: 'Pod',
      phase: bad ? 'Failed' : 'Succeeded',
      startedAt: `2025-01-01T10:00:${String(i % 60).padStart(2, '0')}Z`,
      finishedAt: '2025-01-01T11:00:00Z',
      ...(bad ? { message: 'Error (exit code 2)' } : {}),
      outputs: { artifacts: [{ name: 'main-logs', s3: { key: `k/${i}` } }] },
    };
  }
  return { phase: failed > 0 ? 'Failed' : 'Succeeded', startedAt: '2025-01-01T10:00:00Z', finishedAt: '2025-01-01T11:00:00Z', nodes };
}

test('a long report stays under 15 KiB, keeping every failure and folding the successes', () => {
  const w = liveWorkflow({ status: manySteps(400, 3) });
  const message = buildReport(w, pipeline('check'), { argoUiUrl: ARGO }).review.message!;
  assert.ok(byteLength(message) <= MAX_REPORT_BYTES, `${byteLength(message)} bytes`);
  for (const i of [400, 401, 402]) assert.match(message, `- broken-${String(i).padStart(5, '0')}-`);
  assert.not.match(message, /- fine-/);
  assert.match(message, /- … 400 more steps that succeeded or were skipped: see the Argo UI/);
  // Failures keep their artifact links while they fit.
  assert.match(message, /main-logs: .*\/wf-402\/outputs\/main-logs/);
});

test('a report with only failures, too many to list, keeps as many as fit and counts the rest', () => {
  const w = liveWorkflow({ status: manySteps(10, 2000, 60) });
  const message = buildReport(w, pipeline('check'), { argoUiUrl: ARGO }).review.message!;
  assert.ok(byteLength(message) <= MAX_REPORT_BYTES, `${byteLength(message)} bytes`);
  const shown = message.split('\n').filter((l) => l.startsWith('- broken-')).length;
  assert.ok(shown > 50, `${shown} failures shown`);
  assert.match(message, new RegExp(`- … ${2000 - shown} more failed steps: see the Argo UI\\n- … 10 more steps that succeeded or were skipped: see the Argo UI$`));
});

test('a report of a run that never got a step (e.g. refused by the controller)', () => {
  const w = liveWorkflow({ status: { phase: 'Error', startedAt: at(0), finishedAt: at(0, 1), message: 'invalid spec: templates.main.steps failed to resolve\nline 2' } });
  assert.is(buildReport(w, pipeline('check'), { argoUiUrl: ARGO }).review.message, `Build failed (check pipeline).\n\n${url(w)} : ERROR in 1s\nArgo: invalid spec: templates.main.steps failed to resolve line 2`);
});

test('steps: the leaves of the node tree, in the order they started, each once', () => {
  const steps = stepsOf(finished('Failed'), { argoUiUrl: ARGO });
  assert.equal(steps.map((s) => [s.id, s.name, s.phase, s.failed, s.attempts ?? null]), [
    ['wf-1', 'lint', 'Succeeded', false, null],
    ['wf-2', 'test', 'Failed', true, 2],
    ['wf-5', 'docs', 'Skipped', false, null],
  ]);
  // Malformed status is not a crash.
  assert.equal(stepsOf({ metadata: { name: 'x' }, status: { nodes: { a: null, b: 'x' } as never } }, { argoUiUrl: ARGO }), []);
});

test('durations', () => {
  assert.equal([0, 999, 42_000, 187_000, 3_723_000, undefined, -1].map(formatDuration), ['0s', '0s', '42s', '3m 07s', '1h 02m 03s', '?', '?']);
});

test('cut keeps whole code points and marks the cut', () => {
  const text = '✓'.repeat(10_000);
  const out = cut(text, 1000);
  assert.ok(byteLength(out) <= 1000);
  assert.ok(out.endsWith('\n…'));
  assert.not.match(out, /\uFFFD/);
});

// ---- markers ----

test('report markers: claim, done, stale claim, other phase', () => {
  const w = finished('Failed');
  assert.is(markerState(w, REPORT_MARKER, 'Failed', NOW), 'free');
  const claimed = { ...w, metadata: { ...w.metadata, annotations: { ...w.metadata.annotations, ...(claimPatch(REPORT_MARKER, 'Failed', NOW).metadata.annotations as Record<string, string>) } } };
  assert.is(markerState(claimed, REPORT_MARKER, 'Failed', NOW), 'claimed');
  assert.is(markerState(claimed, REPORT_MARKER, 'Failed', new Date(NOW.getTime() + CLAIM_TTL_MS)), 'free');
  assert.is(markerState(claimed, REPORT_MARKER, 'Succeeded', NOW), 'free');
  assert.equal(claimPatch(REPORT_MARKER, 'Failed', NOW), { metadata: { annotations: { 'seakeeper.dev/reported-claim': 'Failed 2025-01-01T12:00:00.000Z' } } });
  assert.equal(donePatch(REPORT_MARKER, 'Failed'), { metadata: { annotations: { 'seakeeper.dev/reported': 'Failed', 'seakeeper.dev/reported-claim': null } } });
  assert.equal(releasePatch(REPORT_MARKER), { metadata: { annotations: { 'seakeeper.dev/reported-claim': null } } });
});

// ---- start and rejection messages ----

test('the start message carries the run link and the policy notes', () => {
  const trigger = firstTrigger(patchsetCreated());
  const plan = startReview(pipeline('check'), trigger.change, 'https://argo/w', ['spec.activeDeadlineSeconds 86400 is lowered to 3600']);
  assert.is(plan!.review.message, 'Starting check jobs: https://argo/w\n\nSeakeeper adjusted the workflow definition:\n- spec.activeDeadlineSeconds 86400 is lowered to 3600');
  assert.is(startReview(pipeline('experimental'), trigger.change, 'u'), undefined);
  const gate = startReview(pipeline('gate-and-submit'), trigger.change, 'u');
  assert.equal(gate!.review.labels, { Verified: 0 });
});

test('a rejection with a thousand problems stays under the limit', () => {
  const trigger = firstTrigger(patchsetCreated());
  const problems = Array.from({ length: 1000 }, (_, i) => ({ file: 'ci/check.yaml', path: `/spec/templates/${i}`, line: i + 1, column: 1, rule: 'privileged', message: 'privileged containers are not allowed '.repeat(5) }));
  const plan = rejectionReview(pipeline('check'), trigger.change, 'ci/check.yaml', problems);
  assert.ok(byteLength(plan.review.message!) <= MAX_REPORT_BYTES);
  assert.match(plan.review.message!, /- … and \d+ more\n\nAn owner of the project/);
});

test('a review already posted on the patchset is recognised (redelivery of a rejection)', () => {
  const trigger = firstTrigger(patchsetCreated());
  const plan = rejectionReview(pipeline('check'), trigger.change, 'ci/check.yaml', []);
  const posted = { message: `Patch Set 3: Verified-1\n\n${plan.review.message}`, tag: 'autogenerated:seakeeper-check', _revision_number: 3 };
  assert.ok(reviewAlreadyPosted([posted], plan, 3));
  assert.not.ok(reviewAlreadyPosted([posted], plan, 4));
  assert.not.ok(reviewAlreadyPosted([{ ...posted, tag: 'autogenerated:other' }], plan, 3));
});

test.run();
