// Every function is registered under its name and refuses to work unconfigured, naming what is missing.
import '../../functions/index.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

// Unconfigured means unconfigured: a developer's shell may hold the rig's variables (`. .rig/env`).
for (const name of Object.keys(process.env)) {
  if (/^(GERRIT_|KUBECONFIG$|KUBERNETES_|SEAKEEPER_|ARGO_|ARTIFACT_|K_SINK$|CLUSTER_URL$)/.test(name)) delete process.env[name];
}

/** Functions that read their configuration on first use when the process does not serve them. */
const CONFIGURED = ['patchset-created', 'comment-added', 'project-config-changed', 'workflow-completed', 'reconcile'];
const CLOUD_EVENT_FUNCTIONS = [...CONFIGURED, 'workflow-watch', 'dead-letter', 'capacity-report'];

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

for (const name of CONFIGURED) {
  test(`${name}: unconfigured, a valid CloudEvent gets a 500 (retried, not dropped) naming the missing variables`, async () => {
    const answer = await post(name, binaryEvent(`test.${name}`), '{"x":1}');
    assert.is(answer.status, 500);
    assert.match(answer.text, 'GERRIT_USER is required');
  });
}

for (const name of ['patchset-created', 'comment-added']) {
  test(`${name}: unconfigured, the system namespace its posts are claimed in is named with the rest`, async () => {
    const answer = await post(name, binaryEvent(`test.${name}`), '{"x":1}');
    assert.match(answer.text, 'GERRIT_USER is required');
    assert.match(answer.text, 'SEAKEEPER_NAMESPACE is required');
  });
}

test('dead-letter: unconfigured, a dead event gets a 500 (redelivered, not lost) naming the missing namespace', async () => {
  const answer = await post('dead-letter', binaryEvent('gerrit.patchset-created'), '{"x":1}');
  assert.is(answer.status, 500);
  assert.match(answer.text, 'SEAKEEPER_NAMESPACE is required');
});

test('capacity-report: unconfigured, a weekly tick gets a 500 (retried, not lost) naming the missing namespace', async () => {
  const answer = await post('capacity-report', binaryEvent('dev.knative.sources.ping'), '{"reason":"weekly","days":30,"horizonWeeks":4}');
  assert.is(answer.status, 500);
  assert.match(answer.text, 'SEAKEEPER_NAMESPACE is required');
});

test('workflow-watch: unconfigured, a valid CloudEvent gets a 500 naming the missing sink', async () => {
  const answer = await post('workflow-watch', binaryEvent('dev.knative.apiserver.ref.update'), '{"x":1}');
  assert.is(answer.status, 500);
  assert.match(answer.text, 'K_SINK is required');
});

for (const name of CLOUD_EVENT_FUNCTIONS) {
  test(`${name}: a request that is not a CloudEvent is acked as malformed, never passed on`, async () => {
    const { 'ce-type': _dropped, ...headers } = binaryEvent('x');
    const answer = await post(name, headers, '{"x":1}');
    assert.is(answer.status, 204);
  });
}

test('gerrit-webhook is registered as an HTTP function that refuses a request without its token', async () => {
  // Configured on first use here: this process serves no target, so nothing was started at import.
  Object.assign(process.env, {
    GERRIT_URL: 'https://gerrit.example.org/r/',
    SEAKEEPER_WEBHOOK_SECRET: 'a-secret-of-enough-length',
    K_SINK: 'http://127.0.0.1:9/',
  });
  const answer = await post('gerrit-webhook', { 'content-type': 'application/json' }, '{"type":"patchset-created"}');
  assert.is(answer.status, 401);
  assert.match(answer.type ?? '', 'application/json');
  assert.equal(JSON.parse(answer.text), { error: 'missing token: send it as the query parameter "token" or as Authorization: Bearer' });
});

test('a name that was never registered is refused by the framework', () => {
  assert.throws(() => getTestServer('gerrit-stream'), /not registered/);
});

test.run();
