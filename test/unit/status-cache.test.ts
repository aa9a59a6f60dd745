// The status function's cache (shared/status/cached.ts) and its HTTP routes (status-http.ts) over a fake view.
import { createHash } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, Response } from '@google-cloud/functions-framework';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cachedValue } from '../../shared/status/cached.js';
import { loadStatusPage, StatusService } from '../../shared/status/status-http.js';
import type { StatusView } from '../../shared/status/status-view.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('cache: two concurrent calls share one build; within the TTL no rebuild; after it, one more', async () => {
  let clock = 0;
  let builds = 0;
  const pending = deferred<number>();
  const get = cachedValue(() => (builds++ === 0 ? pending.promise : Promise.resolve(builds)), 5000, () => clock);
  const [a, b] = [get(), get()];
  assert.is(builds, 1);
  pending.resolve(1);
  assert.equal(await Promise.all([a, b]), [1, 1]);
  clock = 4999;
  assert.is(await get(), 1);
  assert.is(builds, 1);
  clock = 5000;
  assert.is(await get(), 2);
  assert.is(builds, 2);
});

test('cache: a build slower than the TTL is still shared; a failed build is not kept', async () => {
  let clock = 0;
  let builds = 0;
  const slow = deferred<string>();
  const get = cachedValue(() => (++builds === 1 ? slow.promise : builds === 2 ? Promise.reject(new Error('api down')) : Promise.resolve('ok')), 1000, () => clock);
  const first = get();
  clock = 10_000;
  const second = get();
  assert.is(builds, 1);
  slow.resolve('slow');
  assert.equal(await Promise.all([first, second]), ['slow', 'slow']);
  clock = 20_000;
  await get().then(
    () => assert.unreachable('the build failed'),
    (err: Error) => assert.is(err.message, 'api down'),
  );
  // The failure is not served from the cache: the next call builds again at once.
  assert.is(await get(), 'ok');
  assert.is(builds, 3);
});

const VIEW: StatusView = { generatedAt: '2026-12-03T12:00:00.000Z', statsWindowSeconds: 86_400, pipelines: [] };
const quiet = { info() {}, warn() {}, error() {}, debug() {}, fatal() {} } as never;

async function serve(status: () => Promise<StatusView>): Promise<{ url: string; server: Server }> {
  const fn = new StatusService({ status, page: loadStatusPage(), logger: quiet }).httpFunction();
  const server = http.createServer((req, res) => void fn(req as Request, res as Response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('routes: the page with a policy naming its own script by hash, the JSON, a change, and refusals', async () => {
  let asked = 0;
  const { url, server } = await serve(async () => {
    asked += 1;
    return VIEW;
  });
  try {
    for (const path of ['/', '/status']) {
      const page = await fetch(url + path);
      assert.is(page.status, 200, path);
      assert.match(page.headers.get('content-type')!, 'text/html');
      const html = await page.text();
      const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
      assert.ok(page.headers.get('content-security-policy')!.includes(`'sha256-${createHash('sha256').update(script).digest('base64')}'`));
    }
    const status = await fetch(`${url}/api/status`);
    assert.is(status.status, 200);
    assert.equal(await status.json(), VIEW);
    const change = await fetch(`${url}/api/change/4242`);
    assert.is(change.status, 200);
    const answer = (await change.json()) as { change: number; known: boolean };
    assert.equal([answer.change, answer.known], [4242, false]);
    assert.is(asked, 2);
    const head = await fetch(`${url}/api/status`, { method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(await head.text(), '');

    const post = await fetch(`${url}/api/status`, { method: 'POST', body: '{}' });
    assert.is(post.status, 405);
    assert.is(post.headers.get('allow'), 'GET, HEAD');
    assert.is((await fetch(`${url}/api/change/12ab`)).status, 400);
    assert.is((await fetch(`${url}/api/change/0`)).status, 400);
    assert.is((await fetch(`${url}/admin`)).status, 404);
  } finally {
    server.close();
  }
});

test('routes: when the cluster cannot be read, a 500 without its details', async () => {
  const { url, server } = await serve(() => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:6443 token=abc')));
  try {
    const answer = await fetch(`${url}/api/status`);
    assert.is(answer.status, 500);
    assert.equal(await answer.json(), { error: 'internal error, retry later' });
  } finally {
    server.close();
  }
});

test.run();
