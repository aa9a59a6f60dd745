// The capacity report's shell against stand-ins: one list of Workflows across namespaces, the archive read
// page by page (and skipped, saying so, without ARGO_SERVER_URL), and the weekly run's ConfigMap.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Secret } from '../../shared/env.js';
import type { ClusterObject } from '../../shared/k8s/cluster.js';
import { capacityConfigFromEnv, capacityToConfigMap, CAPACITY_CONFIGMAP, listArchivedWorkflows, readRunHistory, writeCapacityConfigMap, type Fetch } from '../../shared/capacity/capacity-shell.js';
import { RUNS_SELECTOR } from '../../shared/runs/workflow.js';

const DAY0 = Date.parse('2026-11-07T00:00:00Z');
const NOW = DAY0 + 2 * 86_400_000 + 3_600_000;

const liveRun = {
  metadata: { name: 'live', namespace: 'sk-a', uid: 'u-live' },
  spec: { templates: [{ name: 't', container: { resources: { requests: { cpu: '1', memory: '1Gi' } } } }] },
  status: { nodes: { p: { type: 'Pod', templateName: 't', startedAt: '2026-11-07T10:00:00Z', finishedAt: '2026-11-07T11:00:00Z' } } },
};
// What Argo's archive list answers: metadata and phase, no nodes.
const archivedRun = (uid: string) => ({ metadata: { name: uid, namespace: 'sk-a', uid }, status: { phase: 'Succeeded', startedAt: '2026-11-06T10:00:00Z' } });

function fakeCluster() {
  const calls: unknown[][] = [];
  const applied: ClusterObject[] = [];
  return {
    calls,
    applied,
    list: async <T extends ClusterObject>(...args: unknown[]): Promise<T[]> => {
      calls.push(args);
      return [liveRun as unknown as T];
    },
    apply: async <T extends ClusterObject>(obj: T): Promise<T> => {
      applied.push(obj);
      return obj;
    },
  };
}

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

test('without ARGO_SERVER_URL: one list of Workflows across namespaces, and the report says the archive was not read', async () => {
  const cluster = fakeCluster();
  const history = await readRunHistory(cluster, undefined);
  assert.equal(cluster.calls, [['argoproj.io/v1alpha1', 'Workflow', undefined, RUNS_SELECTOR, undefined]]);
  assert.is(history.workflows.length, 1);
  assert.match(history.notes.join('\n'), 'not read (ARGO_SERVER_URL is not set)');
});

test('the archive is read page by page with the runs selector and the token; live copies win over archived ones', async () => {
  const archive = fakeArchive([[archivedRun('u-live'), archivedRun('u-1')], [archivedRun('u-2')], []]);
  const items = await listArchivedWorkflows({ serverUrl: 'https://argo.example.org/base', token: new Secret('abc') }, RUNS_SELECTOR, archive.fetch, 2);
  assert.is(items.length, 3);
  assert.equal(
    archive.urls.map((u) => [u.pathname, u.searchParams.get('listOptions.labelSelector'), u.searchParams.get('listOptions.limit'), u.searchParams.get('listOptions.continue')]),
    [
      ['/base/api/v1/archived-workflows', RUNS_SELECTOR, '2', null],
      ['/base/api/v1/archived-workflows', RUNS_SELECTOR, '2', 'page-1'],
      ['/base/api/v1/archived-workflows', RUNS_SELECTOR, '2', 'page-2'],
    ],
  );
  assert.is(archive.headers[0]!.Authorization, 'Bearer abc');

  const cluster = fakeCluster();
  const again = fakeArchive([[archivedRun('u-live'), archivedRun('u-1')]]);
  const report = await writeCapacityConfigMap({ cluster, archive: { serverUrl: 'https://argo.example.org', token: undefined } }, 'seakeeper-system', { now: NOW, days: 2, horizonWeeks: 4 }, again.fetch);
  assert.is(again.headers[0]!.Authorization, undefined);
  assert.is(report.history.duplicates, 1);
  assert.is(report.history.skippedWorkflows['no status.nodes'], 1);
  assert.equal(report.metrics.pods.dailyMax, [1, 0]);
  assert.is(cluster.applied.length, 1);
  const configMap = cluster.applied[0] as ReturnType<typeof capacityToConfigMap>;
  assert.equal([configMap.kind, configMap.metadata.name, configMap.metadata.namespace], ['ConfigMap', CAPACITY_CONFIGMAP, 'seakeeper-system']);
  assert.equal(Object.keys(configMap.data).sort(), ['chart.svg', 'report.json', 'report.txt']);
  assert.is(JSON.parse(configMap.data['report.json']!).metrics.pods.quota, 1);
  assert.match(configMap.data['report.txt']!, 'Read 2 archived Workflows from https://argo.example.org');
});

test('an archive that refuses is an error naming the request', async () => {
  const refusing: Fetch = async () => ({ status: 403, text: async () => '{"message":"forbidden"}' });
  let message = 'resolved';
  await listArchivedWorkflows({ serverUrl: 'https://argo.example.org', token: undefined }, RUNS_SELECTOR, refusing).catch((err: Error) => (message = err.message));
  assert.match(message, 'GET https://argo.example.org/api/v1/archived-workflows: 403');
});

test('configuration: a bad ARGO_SERVER_URL is named', () => {
  assert.throws(() => capacityConfigFromEnv({ ARGO_SERVER_URL: 'argo:2746', KUBECONFIG: '/nonexistent' }), /ARGO_SERVER_URL must be an absolute http\(s\) URL/);
});

test.run();
