// The sink transport against the Broker STAND-IN (test/integration/support/broker.ts) on loopback: binary mode,
// percent-encoded header values, the answer's status mapped onto the error contract, a deadline, kept-alive
// connections, and in-order delivery that stops at the first failure.
import { CloudEvent } from 'cloudevents';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConflictError, PermanentError, TransientError } from '../../shared/errors.js';
import { binaryMessage, decodeHeaderValue, encodeHeaderValue, HttpSink, sendInOrder } from '../../shared/events/sink.js';
import { BrokerStandIn } from '../integration/support/broker.js';
import { deadServer } from '../integration/support/dead-server.js';
import { freePort } from '../../dev/serve-function.js';
import { rejectionOf } from '../integration/support/wait.js';

const event = (id: string, extensions: Record<string, string> = {}) =>
  new CloudEvent<unknown>({
    id,
    type: 'gerrit.patchset-created',
    source: 'https://gerrit.example.org/r/',
    subject: 'mediawiki/core/42/3',
    time: '2024-05-01T12:00:00.000Z',
    datacontenttype: 'application/json',
    data: { change: { project: 'mediawiki/core', number: 42 } },
    gerritproject: 'mediawiki/core',
    ...extensions,
  });

// --- header values -----------------------------------------------------------------------------------------------

test('header values: printable ASCII travels as it is, except space, " and %', () => {
  assert.is(encodeHeaderValue('https://gerrit.example.org/r/'), 'https://gerrit.example.org/r/');
  assert.is(encodeHeaderValue('mediawiki/extensions/Foo_bar-1.2'), 'mediawiki/extensions/Foo_bar-1.2');
  assert.is(encodeHeaderValue('a b"c%d'), 'a%20b%22c%25d');
});

test('header values: everything else as UTF-8 bytes, astral characters included', () => {
  assert.is(encodeHeaderValue('café/日本'), 'caf%C3%A9/%E6%97%A5%E6%9C%AC');
  assert.is(encodeHeaderValue('🦭'), '%F0%9F%A6%AD');
  assert.is(encodeHeaderValue('tab\there\nnewline'), 'tab%09here%0Anewline');
});

test('header values: decoding undoes encoding for every string, and every encoded value is a legal header value', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (value) => {
      const encoded = encodeHeaderValue(value);
      assert.match(encoded, /^[\x21\x23-\x7e]*$/);
      assert.is(decodeHeaderValue(encoded), value);
    }),
  );
});

test('header values: a sequence that is not UTF-8, or a bare %, is refused when decoding', () => {
  assert.throws(() => decodeHeaderValue('%C3'), URIError);
  assert.throws(() => decodeHeaderValue('100%'), URIError);
  assert.is(decodeHeaderValue('%61bc'), 'abc', 'what was encoded without need is accepted');
});

test('binary mode: attributes as ce- headers (encoded), the data as the JSON body, Content-Type its datacontenttype', () => {
  const { headers, body } = binaryMessage(event('id-1', { gerritproject: 'ünï cødé' }));
  assert.equal(JSON.parse(body), { change: { project: 'mediawiki/core', number: 42 } });
  assert.is(headers['content-type'], 'application/json');
  assert.is(headers['ce-id'], 'id-1');
  assert.is(headers['ce-specversion'], '1.0');
  assert.is(headers['ce-source'], 'https://gerrit.example.org/r/');
  assert.is(headers['ce-time'], '2024-05-01T12:00:00.000Z');
  assert.is(headers['ce-gerritproject'], '%C3%BCn%C3%AF%20c%C3%B8d%C3%A9');
  assert.not.ok('ce-data' in headers);
});

// --- delivery ------------------------------------------------------------------------------------------------------

test('a 2xx is delivered: the stand-in receives the event with every attribute, decoded', async () => {
  const broker = await BrokerStandIn.start();
  try {
    await new HttpSink(broker.url).send(event('id-2', { gerritproject: 'café/日本' }));
    const [received] = broker.received;
    assert.equal(
      { id: received!.event.id, type: received!.event.type, subject: received!.event.subject, project: received!.event.gerritproject },
      { id: 'id-2', type: 'gerrit.patchset-created', subject: 'mediawiki/core/42/3', project: 'café/日本' },
    );
    assert.equal(received!.event.data, { change: { project: 'mediawiki/core', number: 42 } });
  } finally {
    await broker.close();
  }
});

for (const [status, kind] of [
  [500, TransientError],
  [503, TransientError],
  [429, TransientError],
  [408, TransientError],
  [409, ConflictError],
  [400, PermanentError],
  [404, PermanentError],
  [422, PermanentError],
  [301, PermanentError],
] as const) {
  test(`an answer ${status} is a ${kind.name}${kind === ConflictError ? ' (transient, by the error contract)' : ''} naming the event`, async () => {
    const broker = await BrokerStandIn.start();
    try {
      broker.failNext(1, status);
      const { err } = await rejectionOf(new HttpSink(broker.url).send(event('id-3')));
      assert.instance(err, kind);
      assert.is((err as TransientError).status, status);
      assert.match((err as Error).message, `gerrit.patchset-created id-3: ${status}`);
    } finally {
      await broker.close();
    }
  });
}

test('nobody listening is a TransientError', async () => {
  const { err } = await rejectionOf(new HttpSink(`http://127.0.0.1:${await freePort()}/`).send(event('id-4')));
  assert.instance(err, TransientError);
  assert.match((err as Error).message, 'ECONNREFUSED');
});

test('no answer within the deadline is a TransientError, at the deadline', async () => {
  const dead = await deadServer();
  try {
    const started = performance.now();
    const { err } = await rejectionOf(new HttpSink(`http://127.0.0.1:${dead.port}/`, { timeoutMs: 300 }).send(event('id-5')));
    assert.instance(err, TransientError);
    assert.match((err as Error).message, 'no answer within 300 ms');
    assert.ok(performance.now() - started < 2_000);
  } finally {
    await dead.close();
  }
});

test('connections are kept alive: many events, one connection', async () => {
  const broker = await BrokerStandIn.start();
  let connections = 0;
  broker.server.on('connection', () => connections++);
  const sink = new HttpSink(broker.url);
  try {
    for (let i = 0; i < 20; i++) await sink.send(event(`keep-${i}`));
    assert.is(broker.received.length, 20);
    assert.is(connections, 1);
  } finally {
    sink.close();
    await broker.close();
  }
});

test('sendInOrder: in order, and nothing after the first failure', async () => {
  const broker = await BrokerStandIn.start();
  const sink = new HttpSink(broker.url);
  try {
    await sendInOrder(sink, [event('a'), event('b'), event('c')]);
    assert.equal(broker.received.map((r) => r.event.id), ['a', 'b', 'c']);
    broker.failNext(1, 503, (headers) => headers['ce-id'] === 'e');
    const { err } = await rejectionOf(sendInOrder(sink, [event('d'), event('e'), event('f')]));
    assert.instance(err, TransientError);
    assert.equal(broker.received.map((r) => r.event.id), ['a', 'b', 'c', 'd']);
  } finally {
    sink.close();
    await broker.close();
  }
});

test.run();
