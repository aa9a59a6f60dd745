// The change Leases the vote path claims on when a post has no Workflow (shared/reporting/leases.ts): their
// names and shape, the decision a delivery takes on a Lease as read, and which Leases reconcile deletes. Against
// the real API server, with concurrent deliveries: test/integration/config-check.test.ts and
// test/integration/vote-path.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CHANGE_LEASES,
  changeLeaseName,
  claimDecision,
  claimedLease,
  CONFIG_CHECK_LEASE,
  CONFIG_CHECK_MARKER,
  LEASE_KEEP_MS,
  REJECTION_LEASE,
  rejectionMarker,
  staleLeases,
  type ChangeLease,
} from '../../shared/reporting/leases.js';
import { isDnsLabel, projectHash } from '../../shared/names.js';
import { CLAIM_TTL_MS } from '../../shared/reporting/markers.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const REVISION = 'a'.repeat(40);
const TARGET = { project: 'mediawiki/extensions/Foo"Bar {{x}}', change: 12345, revision: REVISION };

test('a Lease is named by purpose, project hash and change, a DNS label whatever the project is called', () => {
  const name = changeLeaseName(CONFIG_CHECK_LEASE, TARGET.project, TARGET.change);
  assert.is(name, `config-check-${projectHash(TARGET.project)}-12345`);
  assert.ok(isDnsLabel(name), name);
  assert.ok(isDnsLabel(changeLeaseName(REJECTION_LEASE, TARGET.project, 2 ** 31 - 1)));
  assert.is.not(changeLeaseName(CONFIG_CHECK_LEASE, 'a/b', 1), changeLeaseName(CONFIG_CHECK_LEASE, 'a-b', 1));
  assert.is.not(changeLeaseName(CONFIG_CHECK_LEASE, 'a', 1), changeLeaseName(REJECTION_LEASE, 'a', 1));
});

test('a created Lease holds the claim for the patch set\'s revision, labelled and annotated for people', () => {
  const lease = claimedLease(CONFIG_CHECK_LEASE, CONFIG_CHECK_MARKER, TARGET, 'seakeeper-system', NOW);
  assert.is(lease.metadata.namespace, 'seakeeper-system');
  assert.is(lease.metadata.labels?.['app.kubernetes.io/component'], 'config-check');
  assert.is(lease.metadata.annotations?.['seakeeper.dev/project'], TARGET.project);
  assert.is(lease.metadata.annotations?.['seakeeper.dev/change'], '12345');
  assert.is(lease.metadata.annotations?.[CONFIG_CHECK_MARKER.claim], `${REVISION} ${NOW.toISOString()}`);
  const rejection = claimedLease(REJECTION_LEASE, rejectionMarker('check'), TARGET, 'ns', NOW);
  assert.is(rejection.metadata.labels?.['app.kubernetes.io/component'], 'rejection');
  assert.is(rejection.metadata.annotations?.['seakeeper.dev/rejected-check-claim'], `${REVISION} ${NOW.toISOString()}`);
});

test('rejection markers are per pipeline, valid annotation keys for the longest pipeline name', () => {
  const longest = `p${'x'.repeat(39)}`;
  const keys = rejectionMarker(longest);
  for (const key of [keys.claim, keys.done]) assert.ok(/^seakeeper\.dev\/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(key), key);
  assert.is.not(rejectionMarker('check').claim, rejectionMarker('test').claim);
});

test('the pruner\'s selector takes every purpose and nothing else', () => {
  assert.is(CHANGE_LEASES, 'app.kubernetes.io/managed-by=seakeeper,app.kubernetes.io/component in (config-check,rejection,gate-refusal,gate-notice,gate-submit,uploader-notice)');
});

test('claimDecision: free acts, a live claim is in progress, done is posted, another revision is free', () => {
  const fresh = claimedLease(CONFIG_CHECK_LEASE, CONFIG_CHECK_MARKER, TARGET, 'ns', NOW);
  const decide = (lease: ChangeLease, revision: string, now: Date) => claimDecision(lease, CONFIG_CHECK_MARKER, revision, now);
  assert.equal(decide(fresh, REVISION, new Date(NOW.getTime() + 1000)), { act: false, reason: 'in-progress' });
  assert.equal(decide(fresh, REVISION, new Date(NOW.getTime() + CLAIM_TTL_MS)), { act: true, phase: REVISION, value: undefined });
  assert.equal(decide(fresh, 'b'.repeat(40), NOW), { act: true, phase: 'b'.repeat(40), value: undefined });
  const done: ChangeLease = { ...fresh, metadata: { ...fresh.metadata, annotations: { [CONFIG_CHECK_MARKER.done]: REVISION } } };
  assert.equal(decide(done, REVISION, NOW), { act: false, reason: 'already-posted' });
  assert.equal(decide(done, 'c'.repeat(40), NOW), { act: true, phase: 'c'.repeat(40), value: undefined });
  // Another pipeline's rejection claim on the same Lease does not stand in this one's way.
  const other = claimedLease(REJECTION_LEASE, rejectionMarker('test'), TARGET, 'ns', NOW);
  assert.equal(claimDecision(other, rejectionMarker('check'), REVISION, NOW), { act: true, phase: REVISION, value: undefined });
});

test('staleLeases: only Leases older than the keep time, and never one with any claim live right now', () => {
  const lease = (name: string, created: Date, claimedAt?: Date, keys = CONFIG_CHECK_MARKER): ChangeLease => {
    const base = claimedLease(CONFIG_CHECK_LEASE, keys, { ...TARGET, change: Number(name.length) }, 'ns', claimedAt ?? NOW);
    const annotations = claimedAt ? base.metadata.annotations! : { [keys.done]: REVISION };
    return { ...base, metadata: { ...base.metadata, name, creationTimestamp: created, annotations } };
  };
  const old = new Date(NOW.getTime() - LEASE_KEEP_MS - 1);
  const leases = [
    lease('young', new Date(NOW.getTime() - LEASE_KEEP_MS + 60_000)),
    lease('old-done', old),
    lease('old-claimed-now', old, new Date(NOW.getTime() - 1000)),
    lease('old-rejection-claimed-now', old, new Date(NOW.getTime() - 1000), rejectionMarker('check')),
    lease('old-claim-abandoned', old, new Date(NOW.getTime() - CLAIM_TTL_MS - 1)),
    { ...lease('no-timestamp', old), metadata: { ...lease('no-timestamp', old).metadata, creationTimestamp: undefined } },
  ];
  assert.equal(staleLeases(leases, NOW).map((l) => l.metadata.name), ['old-done', 'old-claim-abandoned']);
});

test.run();
