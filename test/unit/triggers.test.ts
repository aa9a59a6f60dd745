import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseGerritEventJson, type GerritEvent } from '../../shared/events/gerrit-event.js';
import { commentBody, commentCommand, eventCanTrigger, triggeredPipelines, unknownPipelines, changeRef } from '../../shared/pipelines/triggers.js';
import { dependentManager, managerFor, planTrigger } from '../../shared/pipelines/managers.js';
import { streamLines } from './support/gerrit-fixtures.js';
import { commentAdded, PIPELINES, patchsetCreated, projectConfig, REVISION, wipStateChanged, gerritEvent, CHANGE } from './support/pipelines.js';

const ALL = projectConfig([
  { name: 'check', workflow: 'ci/check.yaml' },
  { name: 'experimental', workflow: 'ci/experimental.yaml' },
  { name: 'gate-and-submit', workflow: 'ci/gate.yaml', queue: 'mediawiki' },
]);
const fired = (event: GerritEvent, config = ALL) => triggeredPipelines(event, PIPELINES, config).map((t) => t.pipeline.name);
const CR2 = [
  { type: 'Verified', value: '0' },
  { type: 'Code-Review', value: '2', oldValue: '0' },
];

// [description, event, pipelines it triggers]
const TABLE: Array<[string, () => GerritEvent, string[]]> = [
  ['a new patchset on master', () => patchsetCreated(), ['check']],
  ['a new patchset on a release branch', () => patchsetCreated({ change: { branch: 'REL1_43' } }), ['check']],
  ['a new patchset on refs/meta/config (the config check handles those)', () => patchsetCreated({ change: { branch: 'refs/meta/config' } }), []],
  ['a work-in-progress patchset', () => patchsetCreated({ change: { wip: true } }), []],
  ['a private patchset', () => patchsetCreated({ change: { private: true } }), []],
  ['a patchset of a merged change (replayed late)', () => patchsetCreated({ change: { status: 'MERGED' } }), []],
  ['a patchset event without its commit', () => patchsetCreated({ patchSet: { revision: undefined } }), []],
  ['a patchset event whose revision is not a commit id', () => patchsetCreated({ patchSet: { revision: 'HEAD; rm -rf /' } }), []],
  ['a change marked ready for review', () => wipStateChanged(), ['check']],
  ['a change moved into work in progress', () => wipStateChanged({ change: { wip: true } }), []],
  ['"recheck" as Gerrit writes it', () => commentAdded('Patch Set 3:\n\nrecheck'), ['check']],
  ['"recheck" without the Patch Set prefix', () => commentAdded('recheck'), ['check']],
  ['"Recheck." capitalised, with a full stop and spaces', () => commentAdded('Patch Set 3:\n\n  Recheck.  '), ['check']],
  ['"recheck" with votes in the header', () => commentAdded('Patch Set 3: Code-Review+1\n\nrecheck'), ['check']],
  ['"recheck" after the inline comment count', () => commentAdded('Patch Set 3:\n\n(2 comments)\n\nrecheck'), ['check']],
  ['"recheck" followed by an explanation', () => commentAdded('Patch Set 3:\n\nrecheck\n\nthe test is flaky'), ['check']],
  ['"recheck" with Windows line ends', () => commentAdded('Patch Set 3:\r\n\r\nrecheck'), ['check']],
  ['"please recheck" is not a command', () => commentAdded('Patch Set 3:\n\nplease recheck'), []],
  ['"rechecking" is not a command', () => commentAdded('Patch Set 3:\n\nrechecking'), []],
  ['a header mentioning recheck is not a command', () => commentAdded('Patch Set 3: recheck'), []],
  ['"recheck" on a work-in-progress change (asked for: runs)', () => commentAdded('recheck', [], { change: { wip: true } }), ['check']],
  ['"recheck" on a private change', () => commentAdded('recheck', [], { change: { private: true } }), []],
  ['"recheck" on an abandoned change', () => commentAdded('recheck', [], { change: { status: 'ABANDONED' } }), []],
  ['"check experimental"', () => commentAdded('Patch Set 3:\n\ncheck experimental'), ['experimental']],
  ['Code-Review +2 cast by this comment → the gate', () => commentAdded('Patch Set 3: Code-Review+2', CR2), ['gate-and-submit']],
  ['Code-Review +2 with "recheck" → both', () => commentAdded('Patch Set 3: Code-Review+2\n\nrecheck', CR2), ['check', 'gate-and-submit']],
  ['a Code-Review +2 that was already there (no oldValue) does not enqueue', () => commentAdded('Patch Set 3:\n\nlooks good', [{ type: 'Code-Review', value: '2' }]), []],
  ['Code-Review +1', () => commentAdded('Patch Set 3: Code-Review+1', [{ type: 'Code-Review', value: '1', oldValue: '0' }]), []],
  ['Verified +2 is not Code-Review', () => commentAdded('Patch Set 3: Verified+2', [{ type: 'Verified', value: '2', oldValue: '0' }]), []],
  ['Code-Review +2 on a WIP change', () => commentAdded('Patch Set 3: Code-Review+2', CR2, { change: { wip: true } }), []],
  ['a comment without text (votes by push)', () => commentAdded(undefined), []],
  ['an unrelated comment', () => commentAdded('Patch Set 3:\n\nLooks good to me'), []],
  ['another event type', () => gerritEvent({ type: 'change-merged', eventCreatedOn: 1, change: CHANGE, patchSet: { number: 3, revision: REVISION } }), []],
];

for (const [description, make, expected] of TABLE) {
  test(`triggers: ${description}`, () => {
    assert.equal(fired(make()), expected);
    assert.is(eventCanTrigger(make(), PIPELINES), expected.length > 0);
  });
}

test('a project triggers only the pipelines its seakeeper.yaml names', () => {
  assert.equal(fired(patchsetCreated(), projectConfig([])), []);
  assert.equal(fired(commentAdded('check experimental'), projectConfig([{ name: 'check', workflow: 'a.yaml' }])), []);
  assert.equal(fired(commentAdded('Patch Set 3: Code-Review+2', CR2), projectConfig([{ name: 'check', workflow: 'a.yaml' }])), []);
  // …but the event could trigger something somewhere: the shell fetches the config to find out.
  assert.ok(eventCanTrigger(commentAdded('check experimental'), PIPELINES));
});

test('a trigger carries the change, the project entry, the rule and the namespace totals', () => {
  const [trigger] = triggeredPipelines(commentAdded('recheck'), PIPELINES, ALL);
  assert.equal(trigger!.change, {
    project: 'mediawiki/core',
    branch: 'master',
    number: 12345,
    patchset: 3,
    revision: REVISION,
    ref: 'refs/changes/45/12345/3',
    url: 'https://gerrit.example.org/c/mediawiki/core/+/12345',
    subject: 'Fix the frobnicator',
  });
  assert.equal(trigger!.projectPipeline, { name: 'check', workflow: 'ci/check.yaml' });
  assert.is(trigger!.rule, 2);
  assert.is(trigger!.event, 'comment-added');
  assert.equal(trigger!.resources, ALL.resources);
  // Without a ref in the event, Gerrit's scheme is used.
  const [fallback] = triggeredPipelines(patchsetCreated({ patchSet: { ref: undefined, number: 7 }, change: { number: 5 } }), PIPELINES, ALL);
  assert.is(fallback!.change.ref, 'refs/changes/05/5/7');
  assert.is(changeRef(1234567, 12), 'refs/changes/67/1234567/12');
});

test('Code-Review +2 into the gate: the dependent manager hands the trigger to the gate, naming the pipeline', () => {
  const [trigger] = triggeredPipelines(commentAdded('Patch Set 3: Code-Review+2', CR2), PIPELINES, ALL);
  assert.is(managerFor(trigger!.pipeline), dependentManager);
  assert.equal(dependentManager.needs(trigger!), {});
  const plan = planTrigger({ trigger: trigger!, eventId: 'comment-added-1', argoUiUrl: 'https://argo.example.org' });
  assert.equal(plan, { action: 'enqueue', pipeline: 'gate-and-submit' });
});

test('comment bodies: Gerrit header and comment count removed, trimmed', () => {
  assert.is(commentBody('Patch Set 1:\n\nrecheck'), 'recheck');
  assert.is(commentBody('Patch Set 2: Code-Review+2 Verified+1'), '');
  assert.is(commentBody('Patch Set 2:\n\n(1 comment)\n\nOne inline remark.'), 'One inline remark.');
  assert.is(commentBody('Patch Set 2:\n\n(3 inline comments)\n\nrecheck'), 'recheck');
  assert.is(commentBody(undefined), '');
  assert.is(commentBody('recheck'), 'recheck');
  assert.is(commentCommand('Patch Set 9:\n\n  recheck  \nbecause'), 'recheck');
  assert.is(commentCommand('Patch Set 1: Code-Review-1\n\nPatch Set 1 is fine by me: see?'), 'Patch Set 1 is fine by me: see?');
});

test('a very long first line matches nothing (and costs nothing)', () => {
  assert.equal(fired(commentAdded(`recheck${' '.repeat(5000)}x`)), []);
  assert.equal(fired(commentAdded(`recheck${' '.repeat(5000)}`)), ['check']);
});

test("the rig's captured events: recheck, Code-Review +2, the bot's own report", () => {
  const events = streamLines().map((line) => {
    const result = parseGerritEventJson(line);
    if (!result.ok) throw new Error(result.reason);
    return result.event;
  });
  const comments = events.filter((e): e is Extract<GerritEvent, { kind: 'comment-added' }> => e.kind === 'comment-added');
  const byComment = (text: string) => comments.find((e) => e.comment === text)!;
  assert.equal(fired(byComment('Patch Set 1:\n\nrecheck')), ['check']);
  assert.equal(fired(byComment('Patch Set 2: Code-Review+2\n\nLooks good, ship it.')), ['gate-and-submit']);
  assert.equal(fired(byComment('Patch Set 2: Verified+1\n\nBuild succeeded.')), []);
  const patchsets = events.filter((e) => e.kind === 'patchset-created');
  assert.equal(
    patchsets.map((e) => fired(e).join(',')),
    patchsets.map((e) => ((e as { change: { branch: string } }).change.branch === 'refs/meta/config' ? '' : 'check')),
  );
});

test('project pipelines no system pipeline has', () => {
  assert.equal(unknownPipelines(projectConfig([{ name: 'check', workflow: 'a.yaml' }, { name: 'chekc', workflow: 'a.yaml' }]), PIPELINES), ['chekc']);
});

test.run();
