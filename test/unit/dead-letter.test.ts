import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deadLetterName, decodeErrorData, describeDeadLetter, MAX_ERROR_DATA_CHARS } from '../../shared/events/dead-letter.js';
import type { InboundEvent } from '../../shared/events/handler.js';

const dead: InboundEvent = {
  id: 'patchset-created-abc',
  source: 'https://gerrit.example.org/',
  type: 'gerrit.patchset-created',
  specversion: '1.0',
  subject: 'mediawiki/core/123/2',
  knativeerrordest: 'http://patchset-created.seakeeper-system.svc.cluster.local',
  knativeerrorcode: '500',
  knativeerrordata: Buffer.from('{"error":"internal error, retry later"}').toString('base64'),
};
const now = new Date('2026-11-27T20:00:00Z');

test('the Event says what was not delivered, where to, and what the subscriber last answered', () => {
  const { event, fields } = describeDeadLetter(dead, { namespace: 'seakeeper-system', now });
  assert.is(event.metadata.namespace, 'seakeeper-system');
  assert.is(event.type, 'Warning');
  assert.is(event.reason, 'DeliveryFailed');
  assert.is(
    event.message,
    'gerrit.patchset-created patchset-created-abc from https://gerrit.example.org/ (mediawiki/core/123/2) was not delivered to http://patchset-created.seakeeper-system.svc.cluster.local: HTTP 500: {"error":"internal error, retry later"}',
  );
  assert.equal(event.involvedObject, { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: 'ci', namespace: 'seakeeper-system' });
  assert.is(event.firstTimestamp, '2026-11-27T20:00:00.000Z');
  assert.is(fields.code, '500');
  assert.is(fields.deadId, 'patchset-created-abc');
});

test('the same dead event always gets the same Event name (a redelivery records nothing twice); another gets another', () => {
  assert.is(deadLetterName(dead), deadLetterName({ ...dead }));
  assert.is.not(deadLetterName(dead), deadLetterName({ ...dead, id: 'other' }));
  assert.is.not(deadLetterName(dead), deadLetterName({ ...dead, source: 'https://other.example.org/' }));
  assert.match(deadLetterName(dead), /^dead-letter\.[0-9a-f]{32}$/);
});

test('an event without Knative error extensions is still recorded, saying only what is known', () => {
  const { event, fields } = describeDeadLetter(
    { id: 'x', source: 's', type: 't', specversion: '1.0' },
    { namespace: 'ns', now },
  );
  assert.is(event.message, 't x from s was not delivered');
  assert.is(fields.destination, undefined);
  assert.is(fields.response, undefined);
});

test('error data: base64 is decoded, non-base64 is shown as it came, long answers are cut, newlines folded', () => {
  assert.is(decodeErrorData(Buffer.from('line one\nline two').toString('base64')), 'line one line two');
  assert.is(decodeErrorData('not base64!'), 'not base64!');
  assert.is(decodeErrorData(undefined), undefined);
  const long = decodeErrorData(Buffer.from('x'.repeat(5000)).toString('base64'));
  assert.is(long?.length, MAX_ERROR_DATA_CHARS + 1);
  assert.ok(long?.endsWith('…'));
});

test('a hostile subject or answer stays text inside the message (no new fields, one line)', () => {
  const { event } = describeDeadLetter(
    { ...dead, subject: 'p/1/1\nreason: Forged', knativeerrordata: Buffer.from('a\r\nb').toString('base64') },
    { namespace: 'ns', now },
  );
  assert.is(event.reason, 'DeliveryFailed');
  assert.ok(event.message.endsWith(': a b'));
});

test.run();
