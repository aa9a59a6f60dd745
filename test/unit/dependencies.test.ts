// Cross-project dependencies' pure core (shared/pipelines/dependencies.ts): what a change names, the one query
// per level, matching Gerrit's answer back, and the merge order or the cycle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChangeInfo, ChangeStatus } from '../../shared/gerrit/types.js';
import { dependentsQuery, dependsOnChange, levelQuery, matchLevel, mergeOrder, visibleToAuthors, wantedBy } from '../../shared/pipelines/dependencies.js';

const WEB = 'https://gerrit.example.org/';
const hex = (n: number) => n.toString(16).padStart(40, '0');
const changeId = (n: number) => `I${hex(n)}`;

function change(number: number, o: { message?: string; parents?: string[]; status?: ChangeStatus; changeId?: string; project?: string } = {}): ChangeInfo {
  const revision = hex(1000 + number);
  return {
    id: `${o.project ?? 'mediawiki/core'}~${number}`,
    project: o.project ?? 'mediawiki/core',
    branch: 'master',
    change_id: o.changeId ?? changeId(number),
    _number: number,
    status: o.status ?? 'NEW',
    current_revision: revision,
    revisions: { [revision]: { _number: 1, ref: `refs/changes/${String(number % 100).padStart(2, '0')}/${number}/1`, created: '2026-12-03 08:00:00.000000000', commit: { commit: revision, subject: `Change ${number}`, message: o.message ?? `Change ${number}\n`, parents: (o.parents ?? [hex(1)]).map((commit) => ({ commit })) } } },
  } as ChangeInfo;
}

test('a change names its footers (not itself) and its git parents; bad footers are its problems', () => {
  const c = change(7, { message: `Use it\n\nDepends-On: ${WEB}c/mediawiki/core/+/5\nDepends-On: ${changeId(6)}\nDepends-On: ${WEB}7\nDepends-On: ${changeId(7)}\nDepends-On: https://other.example.org/1\n`, parents: [hex(1005)] });
  const { wanted, problems } = wantedBy(c, WEB);
  assert.equal(wanted, { numbers: [5], changeIds: [changeId(6)], commits: [hex(1005)] });
  assert.equal(problems.map((p) => p.change), [7]);
  assert.match(problems[0]!.reason, 'another server');
  assert.throws(() => wantedBy({ ...c, revisions: {} }, WEB), /CURRENT_COMMIT/);
});

test('one query per level: every name not read yet, once, joined with OR; nothing left: none', () => {
  const known = { numbers: new Set([5]), changeIds: new Set<string>(), commits: new Set([hex(1)]) };
  const wanted = [
    { numbers: [5, 8], changeIds: [changeId(6)], commits: [hex(1), hex(1009)] },
    { numbers: [8], changeIds: [], commits: [hex(1009)] },
  ];
  assert.is(levelQuery(wanted, known), `change:8 OR change:${changeId(6)} OR commit:${hex(1009)}`);
  assert.is(levelQuery([{ numbers: [5], changeIds: [], commits: [hex(1)] }], known), undefined);
});

test('matching Gerrit\'s answer: open changes are needs; merged ones are not; abandoned or missing ones named by a footer are problems; a Change-Id takes every open change with it', () => {
  const root = change(10);
  const read = [change(5), change(6, { status: 'MERGED' }), change(7, { status: 'ABANDONED' }), change(8, { changeId: changeId(88) }), change(9, { changeId: changeId(88), project: 'x' }), change(11, { parents: [hex(1)] })];
  const wanted = { numbers: [5, 6, 7, 4], changeIds: [changeId(88), changeId(99)], commits: [hex(1011), hex(1), hex(2)] };
  const { needs, problems } = matchLevel(root, wanted, read);
  assert.equal(needs.map((c) => c._number), [5, 8, 9, 11]);
  assert.equal(problems.map((p) => p.reason), [
    'it depends on change 7, which was abandoned',
    'Depends-On names change 4, which does not exist or which you cannot see',
    `Depends-On names ${changeId(99)}, which is no change you can see`,
  ]);
});

test('merge order: each change after what it needs, the root last; shared needs once; a cycle is named in the order the changes need each other', () => {
  const graph = new Map([
    [1, { needs: [3, 2] }],
    [2, { needs: [4] }],
    [3, { needs: [4] }],
    [4, { needs: [] }],
  ]);
  assert.equal(mergeOrder(1, graph), { ok: true, order: [4, 2, 3, 1] });
  assert.equal(mergeOrder(9, new Map()), { ok: true, order: [9] });
  const cycle = new Map([
    [1, { needs: [2] }],
    [2, { needs: [3] }],
    [3, { needs: [1] }],
  ]);
  assert.equal(mergeOrder(1, cycle), { ok: false, cycle: [1, 2, 3, 1] });
  assert.equal(mergeOrder(1, new Map([[1, { needs: [2] }], [2, { needs: [2] }]])), { ok: false, cycle: [2, 2] });
});

test('the dependents of a change: one query for every way a footer names it; only a footer of the candidate\'s current patch set makes it one', () => {
  const target = change(5, { project: 'mediawiki/core' });
  assert.is(
    dependentsQuery([target], 'https://gerrit.example.org/r'),
    `status:open (message:"mediawiki/core/+/5" OR message:"gerrit.example.org/r/5" OR message:"c/5" OR message:${changeId(5)})`,
  );
  // A level of the graph at once: every form of each change in one query.
  assert.is(
    dependentsQuery([target, change(12, { project: 'a "quoted" name' })], 'https://gerrit.example.org/'),
    `status:open (message:"mediawiki/core/+/5" OR message:"gerrit.example.org/5" OR message:"c/5" OR message:${changeId(5)} OR message:"a quoted name/+/12" OR message:"gerrit.example.org/12" OR message:"c/12" OR message:${changeId(12)})`,
  );
  const byUrl = change(6, { message: `x\n\nDepends-On: ${WEB}c/mediawiki/core/+/5\n` });
  const byId = change(7, { message: `x\n\nDepends-On: ${changeId(5)}\n` });
  const mentions = change(8, { message: `Follows up ${WEB}c/mediawiki/core/+/5 (see there)\n` });
  const other = change(9, { message: `x\n\nDepends-On: ${WEB}c/mediawiki/core/+/55\n` });
  assert.equal([byUrl, byId, mentions, other, target].map((c) => dependsOnChange(c, target, WEB)), [true, true, false, false, false]);
});

test('the graph is read as the change\'s owner and its patch set\'s uploader would see it: both, once each', () => {
  const base = change(5);
  const uploadedBy = (owner: number, uploader?: number): ChangeInfo => ({
    ...base,
    owner: { _account_id: owner },
    revisions: { [base.current_revision!]: { ...base.revisions![base.current_revision!]!, ...(uploader ? { uploader: { _account_id: uploader } } : {}) } },
  });
  assert.is(visibleToAuthors(uploadedBy(1000007, 1000009)), 'visibleto:1000007 visibleto:1000009');
  assert.is(visibleToAuthors(uploadedBy(1000007, 1000007)), 'visibleto:1000007');
  assert.is(visibleToAuthors(uploadedBy(1000007)), 'visibleto:1000007');
});

test.run();
