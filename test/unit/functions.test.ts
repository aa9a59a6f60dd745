// Every function is registered under its name and, until its issue lands, refuses work instead of pretending.
import '../../functions/index.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const CLOUD_EVENT_FUNCTIONS = [
  'patchset-created',
  'comment-added',
  'project-config-changed',
  'workflow-watch',
  'workflow-completed',
  'reconcile',
  'dead-letter',
];

async function post(name: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string; type: string | null }> {
  const server: Server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body });
    return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const binaryEvent = (type: string) => ({
  'content-type': 'application/json',
  'ce-id': 'id-1',
  'ce-source': 'https://gerrit.example.org/',
  'ce-type': type,
  'ce-specversion': '1.0',
  'ce-gerritproject': 'mediawiki/core',
});

for (const name of CLOUD_EVENT_FUNCTIONS) {
  test(`${name}: a valid CloudEvent gets a 500 saying it is not implemented (so Knative does not count it done)`, async () => {
    const answer = await post(name, binaryEvent(`test.${name}`), '{"x":1}');
    assert.is(answer.status, 500);
    assert.match(answer.text, `${name} is not implemented yet`);
  });

  test(`${name}: a structured-mode CloudEvent is refused the same way`, async () => {
    const body = JSON.stringify({ id: 'id-2', source: 'https://gerrit.example.org/', type: `test.${name}`, specversion: '1.0', data: {} });
    const answer = await post(name, { 'content-type': 'application/cloudevents+json' }, body);
    assert.is(answer.status, 500);
    assert.match(answer.text, `${name} is not implemented yet`);
  });

  test(`${name}: a request that is not a CloudEvent is acked as malformed, never passed on`, async () => {
    const { 'ce-type': _dropped, ...headers } = binaryEvent('x');
    const answer = await post(name, headers, '{"x":1}');
    assert.is(answer.status, 204);
  });
}

test('gerrit-webhook answers 501 with a one-line JSON reason', async () => {
  const answer = await post('gerrit-webhook', { 'content-type': 'application/json' }, '{"type":"patchset-created"}');
  assert.is(answer.status, 501);
  assert.match(answer.type ?? '', 'application/json');
  assert.not.match(answer.text.trimEnd(), '\n');
  assert.equal(JSON.parse(answer.text), { error: 'gerrit-webhook is not implemented yet' });
});

test('gerrit-webhook answers 501 whatever the body', async () => {
  const answer = await post('gerrit-webhook', { 'content-type': 'text/plain' }, 'not json at all');
  assert.is(answer.status, 501);
  assert.equal(JSON.parse(answer.text), { error: 'gerrit-webhook is not implemented yet' });
});

test('a name that was never registered is refused by the framework', () => {
  assert.throws(() => getTestServer('gerrit-stream'), /not registered/);
});

test.run();
