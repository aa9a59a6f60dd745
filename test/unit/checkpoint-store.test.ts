// The checkpoint ConfigMap's shape; the store's compare-and-swap runs against the real API server in
// test/integration/gerrit-stream.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkpointConfigMap, readCheckpointConfigMap } from '../../shared/events/checkpoint-store.js';
import { ForwardedLog } from '../../shared/events/gap-recovery.js';

test('a checkpoint and a forwarded log round-trip through the ConfigMap', () => {
  const snapshot = { v: 1 as const, seen: { 'patchset-created-0123456789012345678901234567890123456789': [1700000000] } };
  const configMap = checkpointConfigMap('seakeeper-system', 'gerrit-stream-checkpoint', 1700000000, snapshot);
  assert.equal(configMap.metadata, {
    name: 'gerrit-stream-checkpoint',
    namespace: 'seakeeper-system',
    labels: { 'app.kubernetes.io/name': 'gerrit-stream', 'app.kubernetes.io/managed-by': 'seakeeper' },
  });
  const stored = readCheckpointConfigMap(JSON.parse(JSON.stringify(configMap)));
  assert.equal(stored, { checkpoint: 1700000000, forwarded: snapshot, problems: [] });
  assert.is(ForwardedLog.restore(stored.forwarded, { horizonSeconds: 10 ** 9 }).size, 1);
});

test('no ConfigMap, or an empty one, is a first start', () => {
  assert.equal(readCheckpointConfigMap(undefined), { checkpoint: undefined, forwarded: undefined, problems: [] });
  assert.equal(readCheckpointConfigMap({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }).checkpoint, undefined);
});

test('what does not parse counts as absent and is reported, never thrown', () => {
  const read = readCheckpointConfigMap({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { checkpoint: '-5', forwarded: '{oops' } });
  assert.equal(read, { checkpoint: undefined, forwarded: undefined, problems: ['checkpoint is not a number of seconds', 'forwarded is not JSON'] });
  assert.equal(readCheckpointConfigMap({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { checkpoint: '1.5e9' } }).problems, [
    'checkpoint is not a number of seconds',
  ]);
});

test.run();
