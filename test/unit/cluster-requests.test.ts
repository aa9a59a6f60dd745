// What both cluster clients send and make of answers the real API server cannot be made to give (a malformed
// watch line) or that cannot be told apart from outside (a list from the watch cache). The server here is a
// stand-in, named as such: a node:https server (client-node refuses plain HTTP) that serves one group's
// discovery document, pages a ConfigMap list as the API server does, and records each request's query.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NotFoundError, PermanentError, TransientError } from '../../shared/errors.js';
import { ClusterClient, type ClusterApi, type ClusterObject } from '../../shared/k8s/cluster.js';
import { HttpCluster } from '../../shared/k8s/http-cluster.js';
import { eventually } from '../integration/support/wait.js';

const NAMES = ['a', 'b', 'c'];
/** As the API server lists them: items without apiVersion and kind. */
const item = (name: string) => ({ metadata: { name, namespace: 'ns' }, data: { name } });

/** A certificate for 127.0.0.1 from openssl (a prerequisite of the rig), and its key. */
function selfSigned(): { cert: Buffer; key: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), 'seakeeper-test-'));
  try {
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=stand-in', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    return { cert: readFileSync(cert), key: readFileSync(key) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tls = selfSigned();
const requests: URLSearchParams[] = [];
const server = https.createServer(tls, (req, res) => {
  const url = new URL(req.url ?? '/', 'http://stand-in');
  res.setHeader('content-type', 'application/json');
  if (url.pathname === '/api/v1') {
    res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }] }));
    return;
  }
  if (url.pathname !== '/api/v1/namespaces/ns/configmaps') {
    res.statusCode = 404;
    res.end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'not here' }));
    return;
  }
  requests.push(url.searchParams);
  if (url.searchParams.get('watch') === 'true') {
    // A good event, then a line cut short; the connection stays open as a real watch's would.
    res.write(`${JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', ...item('a') } })}\n`);
    res.write('{"type":"MODIFIED","object":{"metadata"\n');
    return;
  }
  // From the watch cache (resourceVersion=0) the API server ignores limit and answers in one page.
  const limit = url.searchParams.get('resourceVersion') === '0' ? NAMES.length : Number(url.searchParams.get('limit') ?? NAMES.length);
  const from = Number(url.searchParams.get('continue') ?? 0);
  const next = from + limit < NAMES.length ? String(from + limit) : undefined;
  res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: next ? { continue: next } : {}, items: NAMES.slice(from, from + limit).map(item) }));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const standIn = { server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't', caData: tls.cert.toString('base64') };

const clients: [string, (pageSize?: number) => ClusterApi][] = [
  ['HttpCluster', (listPageSize) => HttpCluster.fromToken(standIn, { listPageSize })],
  ['ClusterClient', (listPageSize) => ClusterClient.fromToken(standIn, { listPageSize })],
];

for (const [name, make] of clients) {
  test(`${name}: a list from the cache asks for resourceVersion=0 without a limit`, async () => {
    requests.length = 0;
    const listed = await make(2).list('v1', 'ConfigMap', 'ns', undefined, { fromCache: true });
    assert.equal(listed.map((o) => o.metadata.name), NAMES);
    assert.equal(requests.map((q) => [q.get('resourceVersion'), q.get('limit')]), [['0', null]]);
  });

  test(`${name}: a consistent list pages with limit and continue`, async () => {
    requests.length = 0;
    const listed = await make(2).list('v1', 'ConfigMap', 'ns');
    assert.equal(listed.map((o) => o.metadata.name), NAMES);
    assert.equal(requests.map((q) => [q.get('resourceVersion'), q.get('limit'), q.get('continue')]), [[null, '2', null], [null, '2', '2']]);
  });

  test(`${name}: listed items carry their apiVersion and kind, which the server leaves out`, async () => {
    for (const options of [{}, { fromCache: true }]) {
      const listed = await make().list<ClusterObject>('v1', 'ConfigMap', 'ns', undefined, options);
      assert.equal(listed.map((o) => `${o.apiVersion} ${o.kind}`), NAMES.map(() => 'v1 ConfigMap'));
    }
  });

  test(`${name}: a group the server does not serve, or a kind it does not know, is permanent, not "no such object"`, async () => {
    const cluster = make();
    const unserved = await cluster.get('example.org/v1', 'Thing', 'ns', 'a').then(() => undefined, (err: unknown) => err);
    assert.instance(unserved, PermanentError);
    assert.not.instance(unserved, NotFoundError);
    assert.match((unserved as Error).message, 'does not serve example.org/v1');
    const unknown = await cluster.get('v1', 'Nonsense', 'ns', 'a').then(() => undefined, (err: unknown) => err);
    assert.instance(unknown, PermanentError);
    assert.match((unknown as Error).message, 'Unrecognized API version and kind: v1 Nonsense');
  });

  test(`${name}: a malformed watch line ends the watch with a TransientError that says so`, async () => {
    const events: string[] = [];
    let ended: Error | undefined;
    await make().watch<ClusterObject>('/api/v1/namespaces/ns/configmaps', undefined, (type, object) => events.push(`${type} ${object.metadata.name}`), (err) => {
      ended = err ?? new Error('ended without an error');
    });
    await eventually(async () => assert.ok(ended), 5_000, 20);
    assert.equal(events, ['ADDED a']);
    assert.instance(ended, TransientError);
    assert.match(ended!.message, 'not JSON');
  });
}

test.after(() => {
  server.closeAllConnections();
  server.close();
});

test.run();
