// The config check before merge (patchset-created on refs/meta/config) against the rig's real Gerrit: changes
// are pushed for review to refs/meta/config as an owner would, the event is the CloudEvent the ingress makes of
// the patchset-created Gerrit reports, and the bot votes Verified with the located errors — once per patch set.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFIG_CHECK_TAG } from '../../shared/config/config-check.js';
import { LEASE_API_VERSION, LEASE_KIND } from '../../shared/names.js';
import { CHANGE_LEASES, ChangeLeases, changeLeaseName, CONFIG_CHECK_LEASE, CONFIG_CHECK_MARKER, claimedLease as leaseClaimed, LEASE_KEEP_MS, LeasePruner, type ChangeLease, type PatchSetIdentity } from '../../shared/reporting/leases.js';
import { CLAIM_TTL_MS } from '../../shared/reporting/markers.js';
import { ConfigReviewer } from '../../shared/pipelines/config-review.js';
import { ClusterClient, type ClusterObject } from '../../shared/k8s/cluster.js';
import { loadPolicy } from '../../shared/config/policy.js';
import { CONFIG_REF } from '../../shared/config/project-config.js';
import { PermanentError, TransientError } from '../../shared/errors.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import { encodeId, GerritRest } from '../../shared/gerrit/rest.js';
import type { ChangeInfo } from '../../shared/gerrit/types.js';
import { createProject, pushChange, pushPatchSet, whoAmI } from '../../dev/gerrit-chores.js';
import { rigConnections } from './support/gerrit.js';
import { hideProjects, patchsetCreated } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { rejectionOf } from './support/wait.js';

const rig = loadRig();
const { bot: botConnection, admin: adminConnection } = rigConnections(rig);
const bot = new GerritClient(botConnection);
const SYSTEM_NAMESPACE = 'seakeeper-system';
const cluster = ClusterClient.fromKubeconfigFile(rig.KUBECONFIG);
const leases = new ChangeLeases(cluster, SYSTEM_NAMESPACE);
const reviewer = new ConfigReviewer({ gerrit: bot, policy: loadPolicy(), leases });
const claimedLease = (target: PatchSetIdentity, namespace: string, now: Date) => leaseClaimed(CONFIG_CHECK_LEASE, CONFIG_CHECK_MARKER, target, namespace, now);
const PROJECT = `it-${uniqueSuffix()}/config-check`;
const SOURCE = rig.GERRIT_URL;
/** The rig's group of the bot (test/rig/rig.sh BOT_GROUP). */
const BOT_GROUP = 'Seakeeper CI';

const WORKFLOW = 'apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  entrypoint: main\n  templates: [{ name: main, container: { image: busybox } }]\n';

test.before(async () => {
  await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } });
  await createProject(adminConnection, PROJECT);
  // The rig lets the bot vote Verified on refs/heads/*; a config check votes on refs/meta/config changes too.
  const rest = new GerritRest(adminConnection);
  const group = await rest.json<{ id: string }>('GET', `groups/${encodeId(BOT_GROUP)}`);
  await rest.json('POST', `projects/${encodeId(PROJECT)}/access`, {
    body: { add: { [CONFIG_REF]: { permissions: { 'label-Verified': { label: 'Verified', rules: { [group.id]: { action: 'ALLOW', min: -1, max: 1 } } } } } } },
  });
});

test.after(async () => {
  await hideProjects(adminConnection, [PROJECT]);
});

async function botVote(change: ChangeInfo): Promise<number | undefined> {
  const me = await whoAmI(botConnection);
  const detailed = await bot.getChange(`${PROJECT}~${change._number}`, ['DETAILED_LABELS']);
  return detailed.labels?.Verified?.all?.find((v) => v._account_id === me._account_id)?.value;
}

const checkMessages = async (change: ChangeInfo) =>
  ((await bot.getChange(`${PROJECT}~${change._number}`, ['MESSAGES'])).messages ?? []).filter((m) => m.tag === CONFIG_CHECK_TAG);

let broken: ChangeInfo;

test('a broken seakeeper.yaml gets Verified -1 with every problem located, on that patch set', async () => {
  broken = await pushChange(
    adminConnection,
    PROJECT,
    { 'seakeeper.yaml': 'pipelines:\n  check: { workflow: check.yaml }\nresources: { pods: ten }\nowner: [Typo]\n' },
    'Add CI configuration',
    CONFIG_REF,
  );
  assert.equal(await reviewer.handle(patchsetCreated(broken, SOURCE)), { result: 'voted', vote: -1, problems: 2 });
  assert.is(await botVote(broken), -1);
  const [message, ...rest] = await checkMessages(broken);
  assert.is(rest.length, 0);
  assert.is(message?._revision_number, 1);
  assert.match(message!.message, 'Seakeeper config check failed: 2 problems');
  assert.match(message!.message, 'seakeeper.yaml:3:20: /resources/pods: must be a whole number, not text [type]');
  assert.match(message!.message, 'seakeeper.yaml:4:1: /owner: unknown key "owner"');
});

test('a redelivered event posts nothing: the tagged message on the patch set says it was reported', async () => {
  assert.equal(await reviewer.handle(patchsetCreated(broken, SOURCE)), { result: 'already-reported' });
  assert.is((await checkMessages(broken)).length, 1);
});

test('a workflow file that seakeeper.yaml names must exist and hold an Argo Workflow', async () => {
  const fixed = await pushPatchSet(
    adminConnection,
    PROJECT,
    broken.change_id,
    { 'seakeeper.yaml': 'pipelines:\n  check: { workflow: check.yaml }\n  gate: { workflow: gate.yaml }\n', 'check.yaml': 'apiVersion: v1\nkind: Pod\nspec: {}\n' },
    'Add CI configuration',
    CONFIG_REF,
  );
  assert.equal(await reviewer.handle(patchsetCreated(fixed, SOURCE)), { result: 'voted', vote: -1, problems: 3 });
  const latest = (await checkMessages(fixed)).at(-1)!;
  assert.is(latest._revision_number, 2);
  assert.match(latest.message, 'check.yaml:1:13: /apiVersion: apiVersion must be argoproj.io/v1alpha1');
  assert.match(latest.message, 'check.yaml:2:7: /kind: kind must be Workflow');
  assert.match(latest.message, 'seakeeper.yaml:3:21: /pipelines/gate/workflow: pipeline "gate" names "gate.yaml", which is not on refs/meta/config');
  broken = fixed;
});

test('an event for a patch set that is no longer current gets no vote', async () => {
  const good = await pushPatchSet(
    adminConnection,
    PROJECT,
    broken.change_id,
    { 'seakeeper.yaml': 'pipelines:\n  check: { workflow: check.yaml }\nowners: [Owners]\n', 'check.yaml': WORKFLOW },
    'Add CI configuration',
    CONFIG_REF,
  );
  assert.equal(await reviewer.handle(patchsetCreated(broken, SOURCE)), { result: 'superseded' });
  assert.equal(await reviewer.handle(patchsetCreated(good, SOURCE)), { result: 'voted', vote: 1, problems: 0 });
  assert.is(await botVote(good), 1);
  assert.match((await checkMessages(good)).at(-1)!.message, 'Seakeeper config check passed: seakeeper.yaml is valid, and so is its workflow file.');
});

test('a change on refs/meta/config that touches nothing Seakeeper reads gets no vote and no message', async () => {
  const notes = await pushChange(adminConnection, PROJECT, { 'notes.txt': 'hello\n' }, 'Add notes', CONFIG_REF);
  assert.equal(await reviewer.handle(patchsetCreated(notes, SOURCE)), { result: 'not-relevant' });
  assert.is((await checkMessages(notes)).length, 0);
});

test('a patch set on any other branch is not the config check\'s (patchset-created routes it to the pipelines)', async () => {
  const change = await pushChange(adminConnection, PROJECT, { 'README.md': 'hi\n' }, 'Add a README');
  const { err } = await rejectionOf(reviewer.handle(patchsetCreated(change, SOURCE)));
  assert.instance(err, PermanentError);
  assert.match((err as Error).message, 'not of master');
});

const VALID = { 'seakeeper.yaml': 'pipelines:\n  check: { workflow: check.yaml }\n', 'check.yaml': WORKFLOW };
let thrice: ChangeInfo;
const lease_ = (name: string) => cluster.get<ChangeLease>(LEASE_API_VERSION, LEASE_KIND, SYSTEM_NAMESPACE, name);
const lease = (change: ChangeInfo) => cluster.get<ChangeLease>(LEASE_API_VERSION, LEASE_KIND, SYSTEM_NAMESPACE, changeLeaseName(CONFIG_CHECK_LEASE, PROJECT, change._number));

test('the same event delivered three times at once (both ingress paths, a Broker retry): one vote, one message', async () => {
  const change = await pushChange(adminConnection, PROJECT, VALID, 'Add CI configuration, thrice delivered', CONFIG_REF);
  thrice = change;
  const event = patchsetCreated(change, SOURCE);
  const results = await Promise.all([1, 2, 3].map(() => reviewer.handle(event)));
  assert.equal(results.filter((r) => r.result === 'voted'), [{ result: 'voted', vote: 1, problems: 0 }], JSON.stringify(results));
  for (const other of results.filter((r) => r.result !== 'voted')) assert.ok(['in-progress', 'already-reported'].includes(other.result), other.result);
  assert.is((await checkMessages(change)).length, 1);
  assert.is((await lease(change))?.metadata.annotations?.[CONFIG_CHECK_MARKER.done], change.current_revision);
  assert.equal(await reviewer.handle(event), { result: 'already-reported' });
});

test('Gerrit failing at the vote gives the claim back: the redelivery votes at once, and only once', async () => {
  const change = await pushChange(adminConnection, PROJECT, VALID, 'Add CI configuration, Gerrit fails', CONFIG_REF);
  // The real client, its postReview failing as a Gerrit that answers 503 would make it.
  const failingGerrit = {
    getChange: bot.getChange.bind(bot),
    listRevisionFiles: bot.listRevisionFiles.bind(bot),
    getFileContentAt: bot.getFileContentAt.bind(bot),
    postReview: async () => {
      throw new TransientError('Gerrit answered 503 Service Unavailable');
    },
  };
  const failing = new ConfigReviewer({ gerrit: failingGerrit, policy: loadPolicy(), leases });
  const { err } = await rejectionOf(failing.handle(patchsetCreated(change, SOURCE)));
  assert.instance(err, TransientError);
  const released = await lease(change);
  assert.is(released?.metadata.annotations?.[CONFIG_CHECK_MARKER.claim], undefined, 'the claim was given back');
  assert.equal(await reviewer.handle(patchsetCreated(change, SOURCE)), { result: 'voted', vote: 1, problems: 0 });
  assert.is((await checkMessages(change)).length, 1);
});

test('a claim held by a delivery still at work stops a twin; one left by a crashed delivery is taken over once it expires', async () => {
  const change = await pushChange(adminConnection, PROJECT, VALID, 'Add CI configuration, claimed elsewhere', CONFIG_REF);
  const target = { project: PROJECT, change: change._number, revision: change.current_revision! };
  assert.ok((await cluster.create(claimedLease(target, SYSTEM_NAMESPACE, new Date()))).created);
  assert.equal(await reviewer.handle(patchsetCreated(change, SOURCE)), { result: 'in-progress' });
  assert.is((await checkMessages(change)).length, 0);

  const held = (await lease(change))!;
  const expired = claimedLease(target, SYSTEM_NAMESPACE, new Date(Date.now() - CLAIM_TTL_MS - 1000)).metadata.annotations![CONFIG_CHECK_MARKER.claim]!;
  await cluster.patch({ apiVersion: LEASE_API_VERSION, kind: LEASE_KIND, metadata: { name: held.metadata.name, namespace: SYSTEM_NAMESPACE, annotations: { [CONFIG_CHECK_MARKER.claim]: expired } } }, held.metadata.resourceVersion!);
  assert.equal(await reviewer.handle(patchsetCreated(change, SOURCE)), { result: 'voted', vote: 1, problems: 0 });
  assert.is((await checkMessages(change)).length, 1);
});

test('reconcile\'s pruner deletes the Leases past their keep time, except one a delivery holds', async () => {
  // Everything this file (and runs of it in the last day) created is past its keep time then.
  const later = new Date(Date.now() + LEASE_KEEP_MS + 24 * 3600_000);
  const change = await pushChange(adminConnection, PROJECT, VALID, 'Add CI configuration, claimed when pruned', CONFIG_REF);
  // Claimed "at" the pruner's now: a delivery at work then. Removed at the end, so that a run of this file
  // minutes later (whose "later" is minutes later) does not find it still claimed.
  const held = claimedLease({ project: PROJECT, change: change._number, revision: change.current_revision! }, SYSTEM_NAMESPACE, later);
  assert.ok((await cluster.create(held)).created);
  try {
    const before = await cluster.list<ChangeLease>(LEASE_API_VERSION, LEASE_KIND, SYSTEM_NAMESPACE, CHANGE_LEASES);
    const mine = before.filter((l) => l.metadata.annotations?.['seakeeper.dev/project'] === PROJECT);
    assert.ok(mine.length >= 4, `this file's changes made ${mine.length} Leases`);

    const pruned = await new LeasePruner(cluster, SYSTEM_NAMESPACE).run(later);
    assert.is(pruned.leases, before.length);
    assert.is(pruned.deleted, before.length - 1);
    const left = await cluster.list<ChangeLease>(LEASE_API_VERSION, LEASE_KIND, SYSTEM_NAMESPACE, CHANGE_LEASES);
    assert.equal(left.map((l) => l.metadata.name), [held.metadata.name]);
  } finally {
    await cluster.delete(LEASE_API_VERSION, LEASE_KIND, SYSTEM_NAMESPACE, held.metadata.name);
  }
  // A patch set checked before its Lease went is still recognised by its tagged message.
  assert.equal(await reviewer.handle(patchsetCreated(thrice, SOURCE)), { result: 'already-reported' });
  assert.is((await checkMessages(thrice)).length, 1);
});

test('a claim taken between the pruner\'s list and its delete keeps its Lease (the delete is conditional on what was judged)', async () => {
  const later = new Date(Date.now() + LEASE_KEEP_MS + 24 * 3600_000);
  const change = await pushChange(adminConnection, PROJECT, VALID, 'Add CI configuration, claimed while pruning', CONFIG_REF);
  const target = { project: PROJECT, change: change._number, revision: change.current_revision! };
  const name = changeLeaseName(CONFIG_CHECK_LEASE, PROJECT, change._number);
  // Judged stale: done long ago as far as the pruner's clock goes.
  const created = await cluster.create(claimedLease(target, SYSTEM_NAMESPACE, new Date(Date.now() - CLAIM_TTL_MS - 1000)));
  assert.ok(created.created);
  // The pruner's list, and right after it a delivery claiming the Lease (as of the pruner's "now").
  const racing = {
    list: async <T extends ClusterObject>(...args: Parameters<typeof cluster.list>) => {
      const listed = (await cluster.list<T>(...args)).filter((l) => l.metadata.name === name);
      const lease = (await lease_(name))!;
      const claim = claimedLease(target, SYSTEM_NAMESPACE, later).metadata.annotations![CONFIG_CHECK_MARKER.claim]!;
      await cluster.patch({ apiVersion: LEASE_API_VERSION, kind: LEASE_KIND, metadata: { name, namespace: SYSTEM_NAMESPACE, annotations: { [CONFIG_CHECK_MARKER.claim]: claim } } }, lease.metadata.resourceVersion!);
      return listed;
    },
    delete: cluster.delete.bind(cluster),
  };
  try {
    assert.equal(await new LeasePruner(racing, SYSTEM_NAMESPACE).run(later), { leases: 1, deleted: 0 });
    assert.ok(await lease_(name), 'the claimed Lease is still there');
    // The next pass judges it again, as it is now: claimed at its "now", so kept.
    await new LeasePruner(cluster, SYSTEM_NAMESPACE).run(later);
    assert.ok(await lease_(name));
  } finally {
    await cluster.delete(LEASE_API_VERSION, LEASE_KIND, SYSTEM_NAMESPACE, name);
  }
});

test.run();
