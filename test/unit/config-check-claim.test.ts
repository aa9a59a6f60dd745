// The config check's claim Lease (shared/config/config-check-claim.ts): its name and shape, the decision a
// delivery takes on a Lease as read, and which Leases reconcile deletes. Against the real API server, with
// concurrent deliveries: test/integration/config-check.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  claimDecision,
  claimedLease,
  CONFIG_CHECK_MARKER,
  configCheckLeaseName,
  LEASE_KEEP_MS,
  staleLeases,
  type ConfigCheckLease,
} from '../../shared/reporting/leases.js';
import { isDnsLabel, projectHash } from '../../shared/names.js';
import { CLAIM_TTL_MS } from '../../shared/reporting/markers.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const REVISION = 'a'.repeat(40);
const TARGET = { project: 'mediawiki/extensions/Foo"Bar {{x}}', change: 12345, revision: REVISION };

test('the Lease is named by project hash and change, a DNS label whatever the project is called', () => {
  const name = configCheckLeaseName(TARGET.project, TARGET.change);
  assert.is(name, `config-check-${projectHash(TARGET.project)}-12345`);
  assert.ok(isDnsLabel(name), name);
  assert.is.not(configCheckLeaseName('a/b', 1), configCheckLeaseName('a-b', 1));
});

test('a created Lease holds the claim for the patch set\'s revision, labelled and annotated for people', () => {
  const lease = claimedLease(TARGET, 'seakeeper-system', NOW);
  assert.is(lease.metadata.namespace, 'seakeeper-system');
  assert.is(lease.metadata.labels?.['app.kubernetes.io/component'], 'config-check');
  assert.is(lease.metadata.annotations?.['seakeeper.dev/project'], TARGET.project);
  assert.is(lease.metadata.annotations?.['seakeeper.dev/change'], '12345');
  assert.is(lease.metadata.annotations?.[CONFIG_CHECK_MARKER.claim], `${REVISION} ${NOW.toISOString()}`);
});

test('claimDecision: free acts, a live claim is in progress, done is reported, another revision is free', () => {
  const fresh = claimedLease(TARGET, 'ns', NOW);
  assert.equal(claimDecision(fresh, REVISION, new Date(NOW.getTime() + 1000)), { act: false, reason: 'in-progress' });
  assert.equal(claimDecision(fresh, REVISION, new Date(NOW.getTime() + CLAIM_TTL_MS)), { act: true, phase: REVISION, value: undefined });
  assert.equal(claimDecision(fresh, 'b'.repeat(40), NOW), { act: true, phase: 'b'.repeat(40), value: undefined });
  const done: ConfigCheckLease = { ...fresh, metadata: { ...fresh.metadata, annotations: { [CONFIG_CHECK_MARKER.done]: REVISION } } };
  assert.equal(claimDecision(done, REVISION, NOW), { act: false, reason: 'already-reported' });
  assert.equal(claimDecision(done, 'c'.repeat(40), NOW), { act: true, phase: 'c'.repeat(40), value: undefined });
});

test('staleLeases: only Leases older than the keep time, and never one claimed right now', () => {
  const lease = (name: string, created: Date, claimedAt?: Date): ConfigCheckLease => {
    const base = claimedLease({ ...TARGET, change: Number(name.length) }, 'ns', claimedAt ?? NOW);
    const annotations = claimedAt ? base.metadata.annotations! : { [CONFIG_CHECK_MARKER.done]: REVISION };
    return { ...base, metadata: { ...base.metadata, name, creationTimestamp: created, annotations } };
  };
  const old = new Date(NOW.getTime() - LEASE_KEEP_MS - 1);
  const leases = [
    lease('young', new Date(NOW.getTime() - LEASE_KEEP_MS + 60_000)),
    lease('old-done', old),
    lease('old-claimed-now', old, new Date(NOW.getTime() - 1000)),
    lease('old-claim-abandoned', old, new Date(NOW.getTime() - CLAIM_TTL_MS - 1)),
    { ...lease('no-timestamp', old), metadata: { ...lease('no-timestamp', old).metadata, creationTimestamp: undefined } },
  ];
  assert.equal(staleLeases(leases, NOW).map((l) => l.metadata.name), ['old-done', 'old-claim-abandoned']);
});

test.run();
