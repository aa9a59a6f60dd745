// Whether an approved change enters the gate queue (shared/pipelines/gate-eligibility.ts), over ChangeInfo as the
// rig's Gerrit 3.10.2 answers it (test/fixtures/gerrit/README.md) and variations of it: the fields a later state
// of the same change would have.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseGerritJson } from '../../shared/gerrit/rest.js';
import type { ChangeInfo, RelatedChangeAndCommitInfo, SubmitRequirementResultInfo } from '../../shared/gerrit/types.js';
import { gateEligibility, gateRulesOf, openDescendants, openParents, type GateCandidate, type GateEligibility, type GateRules } from '../../shared/pipelines/gate-eligibility.js';
import { pipeline } from './support/pipelines.js';

const fixture = <T>(name: string): T => parseGerritJson<T>(readFileSync(new URL(`../fixtures/gerrit/${name}`, import.meta.url), 'utf8'), name);

const CHILD = fixture<ChangeInfo>('child-approved.json');
const PARENT = fixture<ChangeInfo>('parent-unapproved.json');
const UNRESOLVED = fixture<ChangeInfo>('unresolved-comment.json');
const RELATED = fixture<{ changes: RelatedChangeAndCommitInfo[] }>('child-related.json').changes;
const RULES: GateRules = gateRulesOf(pipeline('gate-and-submit'), 0);
const APPROVED_AT = '2026-12-03T07:40:00.000Z';

/** The parent after a reviewer's Code-Review +2, as Gerrit would answer then. */
function approved(change: ChangeInfo): ChangeInfo {
  const vote = { _account_id: 1000000, value: 2, date: '2026-12-03 07:41:00.000000000', permitted_voting_range: { min: -2, max: 2 } };
  const labels = { ...change.labels!, 'Code-Review': { ...change.labels!['Code-Review']!, approved: { _account_id: 1000000 }, all: [vote] } };
  const srs = change.submit_requirements!.map((sr) => (sr.name === 'Code-Review' ? { ...sr, status: 'SATISFIED' as const } : sr));
  return { ...change, labels, submit_requirements: srs };
}

const candidate = (change: ChangeInfo, o: Partial<GateCandidate> = {}): GateCandidate => ({
  change,
  patchset: 1,
  approvedAt: APPROVED_AT,
  related: change._number === CHILD._number ? RELATED : [],
  parents: [],
  ...o,
});

const refused = (result: GateEligibility) => {
  assert.not.ok(result.eligible, 'expected not eligible');
  return result as Extract<GateEligibility, { eligible: false }>;
};

test('the rules of gate-and-submit: its trigger approval, and the label it votes itself', () => {
  assert.equal(RULES, { pipeline: 'gate-and-submit', approvals: [{ label: 'Code-Review', value: 2 }], ownLabels: ['Verified'] });
});

test('a change with Code-Review +2 whose open parent is approved too enters, needing the parent', () => {
  assert.equal(openParents(CHILD, RELATED), [PARENT._number]);
  const result = gateEligibility(candidate(CHILD, { parents: [approved(PARENT)] }), RULES);
  const revision = CHILD.current_revision!;
  assert.equal(result, {
    eligible: true,
    item: {
      project: CHILD.project,
      branch: 'master',
      change: CHILD._number,
      patchset: 1,
      ref: `refs/changes/02/${CHILD._number}/1`,
      revision,
      enqueuedAt: APPROVED_AT,
      needs: [PARENT._number],
    },
  });
  // Verified is unsatisfied on the fixture: that is the queue's to meet.
  assert.ok(CHILD.submit_requirements!.some((sr) => sr.name === 'Verified' && sr.status === 'UNSATISFIED'));
});

test('a change on the branch\'s own history needs nothing', () => {
  const result = gateEligibility(candidate(approved(PARENT), { related: RELATED }), RULES);
  assert.ok(result.eligible);
  assert.equal(result.eligible && result.item.needs, []);
  assert.equal(openParents(PARENT, RELATED), []);
});

test('a child of an unapproved open parent is refused, the author told which parent', () => {
  const result = refused(gateEligibility(candidate(CHILD, { parents: [PARENT] }), RULES));
  assert.equal(result, {
    eligible: false,
    code: 'parent',
    reason: `Not added to the gate-and-submit queue: it is based on change ${PARENT._number}, which does not carry Code-Review +2.`,
    tellAuthor: true,
  });
});

test('a requirement not met is named to the author; the pipeline\'s own label is not asked for', () => {
  const result = refused(gateEligibility(candidate(UNRESOLVED), RULES));
  assert.equal(result, {
    eligible: false,
    code: 'requirements',
    reason: 'Not added to the gate-and-submit queue: the submit requirement "No-Unresolved-Comments" is not satisfied.',
    tellAuthor: true,
  });
  const strict = refused(gateEligibility(candidate(UNRESOLVED), { ...RULES, ownLabels: [] }));
  assert.is(strict.reason, 'Not added to the gate-and-submit queue: the submit requirements "No-Unresolved-Comments" and "Verified" are not satisfied.');
});

test('overridden and not applicable requirements are met; one that does not evaluate is not', () => {
  const withStatus = (status: SubmitRequirementResultInfo['status']): ChangeInfo => ({
    ...UNRESOLVED,
    submit_requirements: UNRESOLVED.submit_requirements!.map((sr) => (sr.name === 'No-Unresolved-Comments' ? { ...sr, status } : sr)),
  });
  assert.ok(gateEligibility(candidate(withStatus('OVERRIDDEN')), RULES).eligible);
  assert.ok(gateEligibility(candidate(withStatus('NOT_APPLICABLE')), RULES).eligible);
  assert.ok(gateEligibility(candidate(withStatus('SATISFIED')), RULES).eligible);
  const error = refused(gateEligibility(candidate(withStatus('ERROR')), RULES));
  assert.equal([error.code, error.tellAuthor], ['requirements', true]);
  assert.is(error.reason, 'Not added to the gate-and-submit queue: the submit requirement "No-Unresolved-Comments" could not be evaluated.');
});

test('without Code-Review +2 it is refused in silence: the approval was taken back, another event says so', () => {
  const result = refused(gateEligibility(candidate(PARENT), RULES));
  assert.equal(result, { eligible: false, code: 'not-approved', reason: 'Not added to the gate-and-submit queue: it does not carry Code-Review +2 any more.', tellAuthor: false });
  // Code-Review +1 is a vote, not the approval.
  const plusOne = { ...PARENT, labels: { ...PARENT.labels!, 'Code-Review': { ...PARENT.labels!['Code-Review']!, all: [{ _account_id: 1000000, value: 1 }] } } };
  assert.is(refused(gateEligibility(candidate(plusOne), RULES)).code, 'not-approved');
});

test('closed, a newer patch set, work in progress, private: refused in silence', () => {
  const base = approved(PARENT);
  const cases: [ChangeInfo, number, string, string][] = [
    [{ ...base, status: 'ABANDONED' }, 1, 'closed', `change ${base._number} is abandoned`],
    [{ ...base, status: 'MERGED' }, 1, 'closed', `change ${base._number} is merged`],
    [base, 2, 'stale-patchset', 'the approval was for patch set 2, and the current patch set is 1'],
    [{ ...base, work_in_progress: true }, 1, 'work-in-progress', 'it is work in progress'],
    [{ ...base, is_private: true }, 1, 'private', 'it is private'],
  ];
  for (const [change, patchset, code, reason] of cases) {
    assert.equal(refused(gateEligibility(candidate(change, { patchset }), RULES)), { eligible: false, code, reason: `Not added to the gate-and-submit queue: ${reason}.`, tellAuthor: false }, code);
  }
});

test('a parent at an outdated patch set, abandoned, or work in progress: the author is told to act', () => {
  const parentEntry = RELATED.find((r) => r._change_number === PARENT._number)!;
  const relatedWith = (entry: Partial<RelatedChangeAndCommitInfo>) => RELATED.map((r) => (r === parentEntry ? { ...r, ...entry } : r));
  const outdated = refused(gateEligibility(candidate(CHILD, { related: relatedWith({ _current_revision_number: 2 }), parents: [approved(PARENT)] }), RULES));
  assert.equal([outdated.code, outdated.tellAuthor], ['parent', true]);
  assert.is(outdated.reason, `Not added to the gate-and-submit queue: it is based on patch set 1 of change ${PARENT._number}, whose current patch set is 2; rebase it.`);
  const abandoned = refused(gateEligibility(candidate(CHILD, { related: relatedWith({ status: 'ABANDONED' }) }), RULES));
  assert.is(abandoned.reason, `Not added to the gate-and-submit queue: it is based on change ${PARENT._number}, which was abandoned; rebase it.`);
  assert.equal(openParents(CHILD, relatedWith({ status: 'ABANDONED' })), []);
  const wip = refused(gateEligibility(candidate(CHILD, { parents: [{ ...approved(PARENT), work_in_progress: true }] }), RULES));
  assert.is(wip.reason, `Not added to the gate-and-submit queue: it is based on change ${PARENT._number}, which is work in progress.`);
});

test('a parent merged since: nothing to wait for', () => {
  const merged = RELATED.map((r) => (r._change_number === PARENT._number ? { ...r, status: 'MERGED' as const } : r));
  assert.equal(openParents(CHILD, merged), []);
  const result = gateEligibility(candidate(CHILD, { related: merged }), RULES);
  assert.ok(result.eligible && result.item.needs.length === 0);
  // Read as merged after the related list said open.
  const late = gateEligibility(candidate(CHILD, { parents: [{ ...PARENT, status: 'MERGED' }] }), RULES);
  assert.ok(late.eligible && late.item.needs.length === 0);
});

test('with LABELS only, the label\'s highest vote stands for +2', () => {
  const { all: _all, values: _values, ...summary } = CHILD.labels!['Code-Review']!;
  const labelsOnly = { ...CHILD, labels: { ...CHILD.labels!, 'Code-Review': summary } };
  assert.ok(gateEligibility(candidate(labelsOnly, { parents: [approved(PARENT)] }), RULES).eligible);
  const { approved: _approved, ...none } = summary;
  assert.is(refused(gateEligibility(candidate({ ...labelsOnly, labels: { ...labelsOnly.labels, 'Code-Review': none } }), RULES)).code, 'not-approved');
});

test('the open chain built on a change, each after its parents: its current patch sets only, not the closed or rebased', () => {
  // As Gerrit lists a parent's related changes: the child first, then the parent itself.
  assert.equal(openDescendants(approved(PARENT), RELATED), [CHILD._number]);
  assert.equal(openDescendants(CHILD, RELATED), [], 'nothing is built on the child');
  const root = PARENT.current_revision!;
  const entry = (change: number, commit: string, parents: string[], o: Partial<RelatedChangeAndCommitInfo> = {}): RelatedChangeAndCommitInfo => ({
    commit: { commit, subject: `Change ${change}`, parents: parents.map((p) => ({ commit: p })) },
    _change_number: change,
    _revision_number: 1,
    _current_revision_number: 1,
    status: 'NEW',
    ...o,
  });
  const chain = [
    entry(14, 'e', ['d']),
    entry(13, 'd', ['c', 'b']),
    entry(12, 'c', [root], { status: 'ABANDONED' }),
    entry(11, 'b', [root]),
    entry(15, 'f', ['b'], { _revision_number: 1, _current_revision_number: 2 }),
    entry(16, 'g', ['f']),
    entry(PARENT._number, root, ['base']),
  ];
  assert.equal(openDescendants(PARENT, chain), [11, 13, 14]);
});

test('a change read without the options it needs is a bug of the caller, not a verdict', () => {
  const { submit_requirements: _srs, ...noSrs } = CHILD;
  assert.throws(() => gateEligibility(candidate(noSrs, { parents: [approved(PARENT)] }), RULES), /SUBMIT_REQUIREMENTS/);
  const { labels: _labels, ...noLabels } = CHILD;
  assert.throws(() => gateEligibility(candidate(noLabels), RULES), /LABELS/);
  const { current_revision: _rev, ...noRevision } = CHILD;
  assert.throws(() => gateEligibility(candidate(noRevision), RULES), /CURRENT_REVISION/);
  const revision = CHILD.current_revision!;
  const noCommit = { ...CHILD, revisions: { [revision]: { ...CHILD.revisions![revision]!, commit: undefined } } } as unknown as ChangeInfo;
  assert.throws(() => gateEligibility(candidate(noCommit), RULES), /CURRENT_COMMIT/);
  assert.throws(() => gateEligibility(candidate(CHILD), RULES), /parent change 1 was not read/);
});

test.run();
