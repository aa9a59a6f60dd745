// The capacity report's shell, the part the rig cannot serve: Argo's workflow archive (argo-server with a
// database is not in the rig), answered by a stand-in that serves pages as argo-server's archived-workflows
// list does. The list of live Workflows and the weekly ConfigMap are tested on the rig
// (test/integration/capacity.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Secret } from '../../shared/env.js';
import { capacityConfigFromEnv, listArchivedWorkflows, type Fetch } from '../../shared/capacity/capacity-shell.js';
import { RUNS_SELECTOR } from '../../shared/runs/workflow.js';

const DAY0 = Date.parse('2026-11-07T00:00:00Z');
const NOW = DAY0 + 2 * 86_400_000 + 3_600_000;

// What Argo's archive list answers: metadata and phase, no nodes.
const archivedRun = (uid: string) => ({ metadata: { name: uid, namespace: 'sk-a', uid }, status: { phase: 'Succeeded', startedAt: '2026-11-06T10:00:00Z' } });

function fakeArchive(pages: unknown[][]): { fetch: Fetch; urls: URL[]; headers: Record<string, string>[] } {
  const urls: URL[] = [];
  const headers: Record<string, string>[] = [];
  return {
    urls,
    headers,
    fetch: async (url, init) => {
      urls.push(new URL(url));
      headers.push(init.headers);
      const index = urls.length - 1;
      const more = index + 1 < pages.length;
      return { status: 200, text: async () => JSON.stringify({ items: pages[index] ?? null, metadata: more ? { continue: `page-${index + 1}` } : {} }) };
    },
  };
}

test('the archive is read page by page with the runs selector and the token, each run handed on as its page comes', async () => {
  const archive = fakeArchive([[archivedRun('u-live'), archivedRun('u-1')], [archivedRun('u-2')], []]);
  const seen: unknown[] = [];
  const count = await listArchivedWorkflows({ serverUrl: 'https://argo.example.org/base', token: new Secret('abc') }, RUNS_SELECTOR, (w) => seen.push(w), archive.fetch, 2);
  assert.is(count, 3);
  assert.equal(seen.map((w) => (w as { metadata: { uid: string } }).metadata.uid), ['u-live', 'u-1', 'u-2']);
  assert.equal(
    archive.urls.map((u) => [u.pathname, u.searchParams.get('listOptions.labelSelector'), u.searchParams.get('listOptions.limit'), u.searchParams.get('listOptions.continue')]),
    [
      ['/base/api/v1/archived-workflows', RUNS_SELECTOR, '2', null],
      ['/base/api/v1/archived-workflows', RUNS_SELECTOR, '2', 'page-1'],
      ['/base/api/v1/archived-workflows', RUNS_SELECTOR, '2', 'page-2'],
    ],
  );
  assert.is(archive.headers[0]!.Authorization, 'Bearer abc');
  const bare = fakeArchive([[]]);
  await listArchivedWorkflows({ serverUrl: 'https://argo.example.org', token: new Secret('Bearer xyz') }, RUNS_SELECTOR, () => {}, bare.fetch);
  assert.is(bare.headers[0]!.Authorization, 'Bearer xyz');
});

test('an archive that refuses is an error naming the request', async () => {
  const refusing: Fetch = async () => ({ status: 403, text: async () => '{"message":"forbidden"}' });
  let message = 'resolved';
  await listArchivedWorkflows({ serverUrl: 'https://argo.example.org', token: undefined }, RUNS_SELECTOR, () => {}, refusing).catch((err: Error) => (message = err.message));
  assert.match(message, 'GET https://argo.example.org/api/v1/archived-workflows: 403');
});

test('configuration: a bad ARGO_SERVER_URL is named', () => {
  assert.throws(() => capacityConfigFromEnv({ ARGO_SERVER_URL: 'argo:2746', KUBECONFIG: '/nonexistent' }), /ARGO_SERVER_URL must be an absolute http\(s\) URL/);
});

test.run();
