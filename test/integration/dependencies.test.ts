// Cross-project dependencies resolved against the rig's real Gerrit (shared/pipelines/dependencies.ts): an
// extension change that depends on an unmerged core change, a stacked change, a Change-Id open on two
// branches, a ten-change chain (one query per level, counted), a three-change cycle, and footers that name
// nothing usable, and a footer naming a change its author may not read. Read as Seakeeper's bot reads them.
// rig: parallel (test/run.ts): Gerrit projects of its own
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProject, pushChange, pushPatchSet } from '../../dev/gerrit-chores.js';
import { encodeId, GerritRest } from '../../shared/gerrit/rest.js';
import { changeUrl } from '../../shared/gerrit/refs.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import type { ChangeInfo } from '../../shared/gerrit/types.js';
import { DEPENDENCY_OPTIONS, resolveDependencies, testedWith } from '../../shared/pipelines/dependencies.js';
import { Secret } from '../../shared/env.js';
import { createAccount, rigConnections } from './support/gerrit.js';
import { hideProjects } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const rig = loadRig();
const { bot: botConnection, admin: adminConnection } = rigConnections(rig);
const bot = new GerritClient(botConnection);
const PARENT = `it-${uniqueSuffix()}-deps`;
const CORE = `${PARENT}/core`;
const EXTENSION = `${PARENT}/extensions/Foo`;

let queries: string[] = [];
const counting = { queryChanges: (q: string, o?: Parameters<GerritClient['queryChanges']>[1]) => (queries.push(q), bot.queryChanges(q, o)) };

/** The change's dependencies as the pipelines resolve them, and the queries that took. */
async function resolve(change: ChangeInfo) {
  queries = [];
  const root = await bot.getChange(`${change.project}~${change._number}`, DEPENDENCY_OPTIONS);
  const resolved = await resolveDependencies(counting, root, rig.GERRIT_URL);
  return { order: resolved.order?.map((c) => c._number), cycle: resolved.cycle, problems: resolved.problems.map((p) => p.reason), queries: queries.length };
}

const url = (change: ChangeInfo) => changeUrl(rig.GERRIT_URL, change.project, change._number);

test.before(async () => {
  await createProject(adminConnection, PARENT);
  await createProject(adminConnection, CORE, PARENT);
  await createProject(adminConnection, EXTENSION, PARENT);
  await new GerritRest(adminConnection).json('PUT', `projects/${encodeId(CORE)}/branches/REL1_43`, { body: { revision: 'master' } });
});

test.after(async () => {
  await hideProjects(adminConnection, [PARENT, CORE, EXTENSION]);
});

test('an extension change depending on an unmerged core change: core first; a stacked change needs its open parent', async () => {
  const core = await pushChange(adminConnection, CORE, { 'hook.txt': 'hook\n' }, 'Add a hook');
  const extension = await pushChange(adminConnection, EXTENSION, { 'use.txt': 'use\n' }, `Use the hook\n\nDepends-On: ${url(core)}`);
  const resolved = await resolve(extension);
  assert.equal([resolved.order, resolved.cycle, resolved.problems], [[core._number, extension._number], undefined, []]);
  // The extension's level (its footer, its parent), then the core change's parent, unless that is known by then.
  assert.ok(resolved.queries >= 1 && resolved.queries <= 2, `${resolved.queries} queries`);
  const stacked = await pushChange(adminConnection, EXTENSION, { 'more.txt': 'more\n' }, 'Use it more', 'master', extension.revisions![extension.current_revision!]!.ref);
  assert.equal((await resolve(stacked)).order, [core._number, extension._number, stacked._number]);
});

test('a Change-Id names every open change that has it: a backport on each branch', async () => {
  const master = await pushChange(adminConnection, CORE, { 'fix.txt': 'fix\n' }, 'Fix it');
  const backport = await pushPatchSet(adminConnection, CORE, master.change_id, { 'fix.txt': 'fix, for the release\n' }, 'Fix it', 'REL1_43');
  const extension = await pushChange(adminConnection, EXTENSION, { 'f.txt': 'f\n' }, `Needs the fix\n\nDepends-On: ${master.change_id}`);
  const resolved = await resolve(extension);
  assert.equal([...resolved.order!].sort(), [master._number, backport._number, extension._number].sort());
  assert.is(resolved.order!.at(-1), extension._number);
});

test('a chain of ten footers across two projects takes one query per level; ten named side by side take one', async () => {
  let previous: ChangeInfo | undefined;
  const chain: ChangeInfo[] = [];
  for (let i = 0; i < 10; i++) {
    const project = i % 2 === 0 ? CORE : EXTENSION;
    previous = await pushChange(adminConnection, project, { [`chain${i}.txt`]: `${i}\n` }, `Chain ${i}${previous ? `\n\nDepends-On: ${url(previous)}` : ''}`);
    chain.push(previous);
  }
  const deep = await resolve(chain.at(-1)!);
  assert.equal(deep.order, chain.map((c) => c._number));
  // Nine levels of footers, and the last change's git parent (a branch tip, no change) unless already asked for.
  assert.ok(deep.queries >= 9 && deep.queries <= 10, `${deep.queries} queries`);
  const wide = await pushChange(adminConnection, EXTENSION, { 'wide.txt': 'w\n' }, `All of them\n\n${chain.map((c) => `Depends-On: ${url(c)}`).join('\n')}`);
  const resolved = await resolve(wide);
  assert.equal(resolved.order, [...chain.map((c) => c._number), wide._number]);
  assert.ok(resolved.queries <= 3, `${resolved.queries} queries`);
});

test('a three-change cycle is named, with no order; footers naming nothing usable are problems', async () => {
  const a = await pushChange(adminConnection, CORE, { 'a.txt': 'a\n' }, 'A');
  const b = await pushChange(adminConnection, EXTENSION, { 'b.txt': 'b\n' }, `B\n\nDepends-On: ${url(a)}`);
  const c = await pushChange(adminConnection, CORE, { 'c.txt': 'c\n' }, `C\n\nDepends-On: ${url(b)}`);
  await pushPatchSet(adminConnection, CORE, a.change_id, { 'a.txt': 'a\n' }, `A\n\nDepends-On: ${url(c)}\nDepends-On: https://review.opendev.org/c/openstack/nova/+/1\nDepends-On: ${rig.GERRIT_URL.replace(/\/?$/, '/')}999999`);
  const resolved = await resolve(a);
  assert.is(resolved.order, undefined);
  assert.equal(resolved.cycle, [a._number, c._number, b._number, a._number]);
  assert.equal(resolved.problems.length, 2, resolved.problems.join('\n'));
  assert.match(resolved.problems[0]!, 'another server');
  assert.match(resolved.problems[1]!, 'Depends-On names change 999999, which does not exist or which you cannot see');
});

test('the changes tested with a change: its dependents through footers, theirs, and the changes stacked on them, nearest first; one footer query per level and one related-changes read per dependent', async () => {
  const base = await pushChange(adminConnection, CORE, { 'base2.txt': 'b\n' }, 'A base');
  const chain: ChangeInfo[] = [];
  for (let i = 0; i < 4; i += 1) {
    const named = chain.at(-1) ?? base;
    chain.push(await pushChange(adminConnection, i % 2 ? CORE : EXTENSION, { [`link${i}.txt`]: `${i}\n` }, `Link ${i}\n\nDepends-On: ${url(named)}`));
  }
  const stacked = await pushChange(adminConnection, EXTENSION, { 'on-link0.txt': 's\n' }, 'On link 0', 'master', chain[0]!.revisions![chain[0]!.current_revision!]!.ref);
  const onBase = await pushChange(adminConnection, CORE, { 'base2.txt': 'b, c\n' }, 'Stacked on the base itself', 'master', base.revisions![base.current_revision!]!.ref);
  let requests = 0;
  const counted = {
    queryChanges: (q: string, o?: Parameters<GerritClient['queryChanges']>[1]) => ((requests += 1), bot.queryChanges(q, o)),
    getRelatedChanges: (id: string) => ((requests += 1), bot.getRelatedChanges(id)),
  };
  const found = await testedWith(counted, base, rig.GERRIT_URL);
  assert.equal(found.changes.map((c) => c._number), [chain[0]!._number, stacked._number, chain[1]!._number, chain[2]!._number, chain[3]!._number]);
  assert.not.ok(found.changes.some((c) => c._number === onBase._number), 'a change stacked on the base holds its old patch set: not re-checked for it');
  assert.is(found.truncated, false);
  // Levels: link0 (and what is stacked on it), link1, link2, link3, none: 5 footer queries, 1 for the stacked
  // change, 4 related-changes reads.
  assert.equal([found.requests, requests], [10, 10]);
  const bounded = await testedWith(bot, base, rig.GERRIT_URL, 2);
  assert.equal([bounded.changes.length, bounded.truncated], [2, true]);
});

test('a footer naming a change its author cannot see is not followed: the change is "not visible", never read into the graph (the bot sees it)', async () => {
  const secretProject = `${PARENT}/secret`;
  await createProject(adminConnection, secretProject, PARENT);
  const admin = new GerritRest(adminConnection);
  const groups = await admin.json<Record<string, { id: string }>>('GET', 'groups/');
  const only = { read: { exclusive: true, rules: Object.fromEntries(['Administrators', 'Service Users'].map((g) => [decodeURIComponent(groups[g]!.id), { action: 'ALLOW' }])) } };
  await admin.json('POST', `projects/${encodeId(secretProject)}/access`, { body: { add: { 'refs/*': { permissions: only }, 'refs/heads/*': { permissions: only } } } });
  const secret = await pushChange(adminConnection, secretProject, { 'key.txt': 'secret\n' }, 'A secret');
  assert.ok(await bot.getChange(`${secretProject}~${secret._number}`), 'Seakeeper\'s account sees it');
  const username = `dev-${uniqueSuffix()}`;
  await createAccount(adminConnection, { username, httpPassword: 'a-developer-password' });
  const developer = { ...adminConnection, username, password: new Secret('a-developer-password') };
  const visible = await pushChange(adminConnection, CORE, { 'open.txt': 'o\n' }, 'Open to all');
  const stealing = await pushChange(developer, EXTENSION, { 'steal.txt': 's\n' }, `Take it\n\nDepends-On: ${url(secret)}\nDepends-On: ${url(visible)}`);
  const resolved = await resolve(stealing);
  assert.equal(resolved.order, [visible._number, stealing._number]);
  assert.equal(resolved.problems, [`Depends-On names change ${secret._number}, which does not exist or which you cannot see`]);
  // The same footer in the administrator's change is followed: it is the author's sight that counts.
  const allowed = await pushChange(adminConnection, EXTENSION, { 'use-key.txt': 'u\n' }, `Use it\n\nDepends-On: ${url(secret)}`);
  assert.equal((await resolve(allowed)).order, [secret._number, allowed._number]);
  await hideProjects(adminConnection, [secretProject]);
});

test.run();
