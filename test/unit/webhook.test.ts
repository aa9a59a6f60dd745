// gerrit-webhook's shell in this process: functions-framework's own server (getTestServer) around the handler,
// the framework guard installed, the Broker STAND-IN (test/integration/support/broker.ts) as the sink. The
// same function served by the functions-framework CLI and fed by the rig's Gerrit is in
// test/integration/gerrit-webhook.test.ts.
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, Secret } from '../../shared/env.js';
import { describeBodyFailure, guardFrameworkRequests, servedFunction, unguardFrameworkRequests } from '../../shared/events/framework.js';
import { GerritWebhook, presentedToken, SharedSecret } from '../../shared/events/webhook.js';
import { BrokerStandIn } from '../integration/support/broker.js';
import { captureLog } from './support/capture.js';

const SECRET = 'the-shared-secret-of-this-test';
const event = {
  type: 'patchset-created',
  eventCreatedOn: 1714564800,
  change: { project: 'mediawiki/core', branch: 'master', number: 42 },
  patchSet: { number: 3 },
};

const request = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;

test('the token: a Bearer header first, else the query parameter; nothing else counts', () => {
  assert.is(presentedToken(request('/?token=q', { authorization: 'Bearer b' })), 'b');
  assert.is(presentedToken(request('/?a=1&token=q%2Bx')), 'q+x');
  assert.is(presentedToken(request('/?token=q', { authorization: 'Basic Zm9vOmJhcg==' })), 'q');
  assert.is(presentedToken(request('/')), undefined);
  assert.is(presentedToken(request('/?tokens=q')), undefined);
});

test('the shared secret matches itself only, whatever the candidate\'s length', () => {
  const secret = new SharedSecret(new Secret(SECRET));
  assert.ok(secret.matches(SECRET));
  for (const candidate of [undefined, '', SECRET.slice(0, -1), `${SECRET}x`, SECRET.toUpperCase(), 'x'.repeat(10_000)]) {
    assert.not.ok(secret.matches(candidate));
  }
});

test('servedFunction reads --target as functions-framework does, else FUNCTION_TARGET', () => {
  assert.is(servedFunction(['node', 'ff', '--target=gerrit-webhook'], {}), 'gerrit-webhook');
  assert.is(servedFunction(['node', 'ff', '--target', 'reconcile'], { FUNCTION_TARGET: 'x' }), 'reconcile');
  assert.is(servedFunction(['node', 'ff'], { FUNCTION_TARGET: 'gerrit-webhook' }), 'gerrit-webhook');
  assert.is(servedFunction(['node', 'ff'], {}), 'function');
});

test('body-parser failures become a status and a one-line reason; anything else is ours, a 500', () => {
  const parseFailure = Object.assign(new SyntaxError('Unexpected token } in JSON\nat position 3'), { type: 'entity.parse.failed', status: 400, expose: true });
  assert.equal(describeBodyFailure(parseFailure), { status: 400, reason: 'malformed JSON: Unexpected token } in JSON\\u000aat position 3' });
  const charset = Object.assign(new Error('unsupported charset "LATIN1"'), { type: 'charset.unsupported', status: 415, expose: true });
  assert.equal(describeBodyFailure(charset), { status: 415, reason: 'unsupported charset "LATIN1"' });
  assert.equal(describeBodyFailure(Object.assign(new Error('internal detail'), { status: 400, expose: false })), { status: 400, reason: 'unreadable request body' });
  assert.equal(describeBodyFailure(new Error('boom')), { status: 500, reason: 'internal error, retry later' });
});

test('fromEnv names every missing variable, and refuses a source the CloudEvents SDK would refuse', () => {
  try {
    GerritWebhook.fromEnv({});
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.equal((err as ConfigError).problems, [
      'GERRIT_URL is required',
      'SEAKEEPER_WEBHOOK_SECRET (or SEAKEEPER_WEBHOOK_SECRET_FILE) is required',
      'K_SINK is required',
    ]);
  }
  assert.throws(() => new GerritWebhook({ secret: new Secret(SECRET), source: 'not a uri', sink: { send: async () => {} } }), /uri-reference/);
});

// --- served in-process ---------------------------------------------------------------------------------------------

async function serve(name: string, webhook: GerritWebhook, guarded: boolean) {
  http(name, webhook.httpFunction());
  if (guarded) guardFrameworkRequests(webhook.guard);
  else unguardFrameworkRequests();
  const server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    post: async (body: string, headers: Record<string, string> = {}, path = `/?token=${SECRET}`) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

for (const guarded of [true, false]) {
  test(`${guarded ? 'guarded' : 'without the guard'}: delivered, 401, 413, 400 — one-line JSON answers, one log line each`, async () => {
    const broker = await BrokerStandIn.start();
    const { logger, lines } = captureLog();
    const webhook = GerritWebhook.fromEnv({ GERRIT_URL: 'https://gerrit.example.org/r/', SEAKEEPER_WEBHOOK_SECRET: SECRET, K_SINK: broker.url }, logger);
    const server = await serve(`gerrit-webhook-${guarded}`, webhook, guarded);
    try {
      const delivered = await server.post(JSON.stringify(event));
      assert.is(delivered.status, 202);
      assert.equal(delivered.body.ids, [broker.received[0]!.event.id]);
      assert.is(broker.received[0]!.event.source, 'https://gerrit.example.org/r/');

      assert.equal(await server.post(JSON.stringify(event), {}, '/'), { status: 401, body: { error: 'missing token: send it as the query parameter "token" or as Authorization: Bearer' } });
      // Valid JSON, so that without the guard too it reaches the handler, which measures what was read.
      assert.is((await server.post(JSON.stringify({ ...event, padding: 'x'.repeat(1024 * 1024) }))).status, 413);
      if (guarded) {
        // Without the guard functions-framework answers this itself, with an HTML page: the reason for the guard.
        const malformed = await server.post('{"type":');
        assert.equal(malformed, { status: 400, body: { error: 'malformed JSON: Unexpected end of JSON input' } });
      }
      assert.is(broker.received.length, 1, 'only the good event reached the sink');

      const outcomes = lines().map((l) => [l.status, l.outcome]);
      assert.equal(outcomes, [[202, 'ok'], [401, 'rejected'], [413, 'rejected'], ...(guarded ? [[400, 'rejected']] : [])]);
      assert.equal(
        { type: lines()[0]!.type, project: lines()[0]!.project, change: lines()[0]!.change },
        { type: 'gerrit.patchset-created', project: 'mediawiki/core', change: 42 },
      );
    } finally {
      await server.close();
      await broker.close();
      unguardFrameworkRequests();
    }
  });
}

/** `use` with the guarded webhook served under `name`, delivering to a fresh Broker stand-in. */
async function withGuarded(name: string, use: (server: Awaited<ReturnType<typeof serve>>, broker: BrokerStandIn) => Promise<void>) {
  const broker = await BrokerStandIn.start();
  const webhook = GerritWebhook.fromEnv({ GERRIT_URL: 'https://gerrit.example.org/r/', SEAKEEPER_WEBHOOK_SECRET: SECRET, K_SINK: broker.url }, captureLog().logger);
  const server = await serve(name, webhook, true);
  try {
    await use(server, broker);
  } finally {
    await server.close();
    await broker.close();
    unguardFrameworkRequests();
  }
}

test('guarded: an unsupported charset is 415 from the framework, answered in one line', () =>
  withGuarded('gerrit-webhook-charset', async (server) => {
    const answer = await server.post(JSON.stringify(event), { 'content-type': 'application/json; charset=latin1' });
    assert.equal(answer, { status: 415, body: { error: 'unsupported charset "LATIN1"' } });
  }));

test('a dropped-output notice is not an event to deliver: 400', () =>
  withGuarded('gerrit-webhook-dropped', async (server, broker) => {
    const answer = await server.post('{"type":"dropped-output"}');
    assert.is(answer.status, 400);
    assert.match(String(answer.body.error), 'dropped-output');
    assert.is(broker.received.length, 0);
  }));

test.run();
