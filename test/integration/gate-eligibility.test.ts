// Whether an approved change enters the gate queue (shared/pipelines/gate-eligibility.ts), on changes of the rig's
// real Gerrit 3.10.2 read as the bot reads them: the change with ELIGIBILITY_OPTIONS, the related changes of its
// current patch set, and each open parent with PARENT_OPTIONS. The administrator pushes, votes and abandons.
// rig: parallel (test/run.ts): a Gerrit project of its own
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProject, pushChange } from '../../dev/gerrit-chores.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import { encodeId, GerritRest } from '../../shared/gerrit/rest.js';
import type { ChangeInfo } from '../../shared/gerrit/types.js';
import { ELIGIBILITY_OPTIONS, gateEligibility, gateRulesOf, openParents, PARENT_OPTIONS, type GateEligibility } from '../../shared/pipelines/gate-eligibility.js';
import { findPipeline, loadPipelines } from '../../shared/config/pipeline-config.js';
import { rigConnections } from './support/gerrit.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const rig = loadRig();
const { bot: botConnection, admin: adminConnection } = rigConnections(rig);
const bot = new GerritClient(botConnection);
const admin = new GerritClient(adminConnection);
const adminRest = new GerritRest(adminConnection);
const PROJECT = `it-${uniqueSuffix()}/gate`;
const RULES = gateRulesOf(findPipeline(loadPipelines(), 'gate-and-submit')!, 0);
const APPROVED_AT = new Date().toISOString();

const id = (change: ChangeInfo | number) => `${PROJECT}~${typeof change === 'number' ? change : change._number}`;

/** What the gate's shell will do with an approval of patch set 1 of `change`. */
async function eligibility(change: ChangeInfo): Promise<GateEligibility> {
  const info = await bot.getChange(id(change), ELIGIBILITY_OPTIONS);
  const related = await bot.getRelatedChanges(id(change));
  const parents = await Promise.all(openParents(info, related).map((parent) => bot.getChange(id(parent), PARENT_OPTIONS)));
  return gateEligibility({ change: info, patchset: 1, approvedAt: APPROVED_AT, related, parents }, RULES);
}

const approve = (change: ChangeInfo) => admin.postReview(id(change), 'current', { labels: { 'Code-Review': 2 }, notify: 'NONE' });

test.before(async () => {
  await createProject(adminConnection, PROJECT);
  // A requirement of the project's own, beside the legacy Code-Review of All-Projects.
  await adminRest.json('PUT', `projects/${encodeId(PROJECT)}/submit_requirements/No-Unresolved-Comments`, {
    body: { name: 'No-Unresolved-Comments', submittability_expression: '-has:unresolved', allow_override_in_child_projects: true },
  });
});

test('a change with Code-Review +2 enters, as the item the queue takes', async () => {
  const change = await pushChange(adminConnection, PROJECT, { 'a.txt': 'a\n' }, 'Add a');
  await approve(change);
  const result = await eligibility(change);
  assert.equal(result, {
    eligible: true,
    item: {
      project: PROJECT,
      branch: 'master',
      change: change._number,
      patchset: 1,
      ref: change.revisions![change.current_revision!]!.ref,
      revision: change.current_revision!,
      enqueuedAt: APPROVED_AT,
      needs: [],
    },
  });
});

test('a change without Code-Review +2 does not, and nobody is told', async () => {
  const change = await pushChange(adminConnection, PROJECT, { 'b.txt': 'b\n' }, 'Add b');
  await admin.postReview(id(change), 'current', { labels: { 'Code-Review': 1 }, notify: 'NONE' });
  const result = await eligibility(change);
  assert.equal(result, { eligible: false, code: 'not-approved', reason: 'Not added to the gate-and-submit queue: it does not carry Code-Review +2 any more.', tellAuthor: false });
});

test('a child of an unapproved open parent does not, the author told which parent; once the parent is approved it does, needing it', async () => {
  const parent = await pushChange(adminConnection, PROJECT, { 'c.txt': 'c\n' }, 'Add c');
  const child = await pushChange(adminConnection, PROJECT, { 'c.txt': 'c, used\n' }, 'Use c', 'master', parent.revisions![parent.current_revision!]!.ref);
  await approve(child);
  const refused = await eligibility(child);
  assert.equal(refused, {
    eligible: false,
    code: 'parent',
    reason: `Not added to the gate-and-submit queue: it is based on change ${parent._number}, which does not carry Code-Review +2.`,
    tellAuthor: true,
  });
  await approve(parent);
  const admitted = await eligibility(child);
  assert.ok(admitted.eligible, JSON.stringify(admitted));
  assert.equal(admitted.eligible && admitted.item.needs, [parent._number]);
});

test('a requirement not met is named to the author', async () => {
  const change = await pushChange(adminConnection, PROJECT, { 'd.txt': 'd\n' }, 'Add d');
  await adminRest.json('POST', `changes/${encodeId(id(change))}/revisions/current/review`, {
    body: { labels: { 'Code-Review': 2 }, comments: { '/PATCHSET_LEVEL': [{ message: 'Does this need a release note?', unresolved: true }] }, notify: 'NONE' },
  });
  const result = await eligibility(change);
  assert.equal(result, {
    eligible: false,
    code: 'requirements',
    reason: 'Not added to the gate-and-submit queue: the submit requirement "No-Unresolved-Comments" is not satisfied.',
    tellAuthor: true,
  });
});

test('an abandoned change does not, and nobody is told', async () => {
  const change = await pushChange(adminConnection, PROJECT, { 'e.txt': 'e\n' }, 'Add e');
  await approve(change);
  await adminRest.json('POST', `changes/${encodeId(id(change))}/abandon`, { body: {} });
  const result = await eligibility(change);
  assert.equal(result, { eligible: false, code: 'closed', reason: `Not added to the gate-and-submit queue: change ${change._number} is abandoned.`, tellAuthor: false });
});

test.run();
