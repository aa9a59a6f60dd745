// dead-letter against the rig's real kube-apiserver: a dead event becomes one Warning Event in the namespace,
// a redelivery adds none, and a cluster that does not answer is a TransientError (so Knative redelivers).
// rig: parallel (test/run.ts): a namespace of its own
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TransientError } from '../../shared/errors.js';
import { recordDeadLetter } from '../../functions/dead-letter/index.js';
import type { InboundEvent } from '../../shared/events/handler.js';
import { HttpCluster, httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { deadServer } from './support/dead-server.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { rejectionOf } from './support/wait.js';

const rig = loadRig();
const cluster = httpClusterFromEnv({ KUBECONFIG: rig.KUBECONFIG });
const namespace = `seakeeper-it-dead-letter-${uniqueSuffix()}`;

const dead: InboundEvent = {
  id: `patchset-created-${uniqueSuffix()}`,
  source: rig.GERRIT_URL,
  type: 'gerrit.patchset-created',
  specversion: '1.0',
  subject: 'mediawiki/core/1/1',
  knativeerrordest: 'http://patchset-created.seakeeper-system.svc.cluster.local',
  knativeerrorcode: '503',
  knativeerrordata: Buffer.from('upstream connect error').toString('base64'),
};

const events = () => cluster.list<{ apiVersion: string; kind: string; metadata: { name: string }; reason: string; message: string }>(
  'v1', 'Event', namespace, 'seakeeper.dev/dead-letter=true');

test.before(async () => {
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'seakeeper.dev/test': 'dead-letter' } } });
});

test.after(async () => {
  await cluster.delete('v1', 'Namespace', undefined, namespace);
});

test('a dead event is recorded as one Warning Event an operator can list, saying why it died', async () => {
  await recordDeadLetter(dead, { cluster, namespace });
  const recorded = await events();
  assert.is(recorded.length, 1);
  assert.is(recorded[0]?.reason, 'DeliveryFailed');
  assert.match(recorded[0]?.message ?? '', `${dead.id} from ${rig.GERRIT_URL}`);
  assert.match(recorded[0]?.message ?? '', 'HTTP 503: upstream connect error');
});

test('the same dead event delivered again records nothing twice', async () => {
  await recordDeadLetter(dead, { cluster, namespace });
  await recordDeadLetter({ ...dead }, { cluster, namespace });
  assert.is((await events()).length, 1);
});

test('a cluster that never answers is a TransientError, so the dead letter is redelivered, not lost', async () => {
  const server = await deadServer();
  try {
    const hung = HttpCluster.fromToken({ server: `https://127.0.0.1:${server.port}`, token: 'unused' }, { timeoutMs: 1000 });
    const { err } = await rejectionOf(recordDeadLetter(dead, { cluster: hung, namespace }));
    assert.instance(err, TransientError);
  } finally {
    await server.close();
  }
});

test.run();
