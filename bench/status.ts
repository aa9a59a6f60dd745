// The status function's two costs, on the rig: building the JSON afresh (one list of ChangeQueues, one of
// Workflows, the pure view), and serving it from the cache, which is what nearly every request gets. The data:
// 10 queues of 20 items (window 5, so 50 gate runs) and 200 check runs going, in 10 project namespaces of the
// bench's own, with the queues in a system namespace of its own (Argo runs the Workflows: a suspended step
// each, so they stay Running and make no pod). Everything it made is deleted at the end.
//
//   npm run bench:status [-- --rounds=15 --requests=200]
//
// Baselines, timed in the same run: for the rebuild, the same two lists and anonymous Gerrit queries alone (what any reader of this state
// pays); for the cache, a GET of a static string of the same bytes from a bare node:http server. The status is
// served by StatusService's HTTP function on a node:http server in this process (functions-framework's Express
// adds the same to both). The Workflow list is cluster-wide, so it includes whatever else is on the rig; the
// count is printed.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Request, Response } from '@google-cloud/functions-framework';
import { findPipeline, loadPipelines } from '../shared/config/pipeline-config.js';
import { GerritRest } from '../shared/gerrit/rest.js';
import { httpClusterFromEnv } from '../shared/k8s/http-cluster.js';
import { ARGO_API_VERSION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, WORKFLOW_KIND, namespaceFor, projectHash } from '../shared/names.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, type QueueItem, type QueueState } from '../shared/pipelines/change-queue.js';
import { changeQueueObject, type ChangeQueueObject } from '../shared/pipelines/queue-store.js';
import { CHANGE_LABEL, PATCHSET_LABEL, PIPELINE_LABEL, REVISION_LABEL, RUNS_SELECTOR, safeText } from '../shared/runs/workflow.js';
import { listWorkflows } from '../shared/runs/workflow-store.js';
import { mapWithConcurrency } from '../shared/concurrency.js';
import { cachedValue } from '../shared/status/cached.js';
import { loadStatusPage, StatusService } from '../shared/status/status-http.js';
import { changesNamed } from '../shared/status/public-view.js';
import { CHANGE_QUEUES_SELECTOR, publicQueries, readStatus } from '../shared/status/status-source.js';
import { buildStatusView } from '../shared/status/status-view.js';
import { applyManifests } from '../test/integration/support/provisioning.js';
import { loadRig, uniqueSuffix } from '../test/integration/support/rig.js';
import { median, numericArgs } from './cli.js';

const args = numericArgs();
const ROUNDS = args.rounds ?? 15;
const REQUESTS = args.requests ?? 200;
const QUEUES = 10;
const ITEMS = 20;
const WINDOW = 5;
const CHECKS = 200;

const rig = loadRig();
const cluster = httpClusterFromEnv({ KUBECONFIG: rig.KUBECONFIG });
const suffix = uniqueSuffix();
const systemNamespace = `status-bench-${suffix}`;
const projects = Array.from({ length: QUEUES }, (_, i) => `status-bench-${suffix}-${i}`);
const pipelines = [findPipeline(loadPipelines(), 'check')!, findPipeline(loadPipelines(), 'gate-and-submit')!];

function workflow(project: string, pipeline: string, change: number, name: string) {
  return {
    apiVersion: ARGO_API_VERSION,
    kind: WORKFLOW_KIND,
    metadata: {
      name,
      namespace: namespaceFor(project),
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [PROJECT_HASH_LABEL]: projectHash(project),
        [PIPELINE_LABEL]: pipeline,
        [CHANGE_LABEL]: String(change),
        [PATCHSET_LABEL]: '1',
        [REVISION_LABEL]: 'a'.repeat(40),
      },
      annotations: { [PROJECT_ANNOTATION]: safeText(project) },
    },
    spec: { entrypoint: 'main', arguments: { parameters: [{ name: 'subject', value: safeText(`Change ${change} of ${project}`) }] }, templates: [{ name: 'main', suspend: {} }] },
  };
}

function queueState(project: string, q: number): QueueState {
  const items: QueueItem[] = Array.from({ length: ITEMS }, (_, i) => {
    const change = 100_000 + q * 100 + i;
    return {
      project,
      branch: 'master',
      change,
      patchset: 1,
      ref: `refs/changes/${String(change).slice(-2)}/${change}/1`,
      revision: 'b'.repeat(40),
      enqueuedAt: new Date(Date.now() - (ITEMS - i) * 60_000).toISOString(),
      needs: [],
      starts: i < WINDOW ? 1 : 0,
      ...(i < WINDOW ? { run: { name: `gate-and-submit-${change}-1-${suffix}`, includes: [`${change},1`], merged: 0, attempt: 1, state: 'running' as const } } : {}),
    };
  });
  return { window: WINDOW, depth: ITEMS, head: `${items[0]!.change},1`, items, owed: [], observed: [] };
}

async function setUp(): Promise<void> {
  await applyManifests(rig, 'knative/system');
  for (const name of [systemNamespace, ...projects.map(namespaceFor)]) await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const workflows = [];
  for (const [q, project] of projects.entries()) {
    const object = changeQueueObject(systemNamespace, { queue: `${project} master`, pipeline: 'gate-and-submit', window: WINDOW, windowFloor: 2, windowCeiling: 20 });
    const created = await cluster.create(object);
    if (!created.created) throw new Error(`${object.metadata.name} existed`);
    const state = queueState(project, q);
    await cluster.replaceStatus<ChangeQueueObject>({ ...created.object, status: state });
    for (const item of state.items) if (item.run) workflows.push(workflow(project, 'gate-and-submit', item.change, item.run.name));
    for (let c = 0; c < CHECKS / QUEUES; c++) workflows.push(workflow(project, 'check', 200_000 + q * 100 + c, `check-${200_000 + q * 100 + c}-1-${suffix}`));
  }
  await mapWithConcurrency(workflows, 8, (w) => cluster.create(w));
}

async function tearDown(): Promise<void> {
  for (const name of [systemNamespace, ...projects.map(namespaceFor)]) await cluster.delete('v1', 'Namespace', undefined, name);
}

/** Median milliseconds of `call` over ROUNDS, after one warm-up call. */
async function time(call: () => Promise<unknown>, rounds = ROUNDS): Promise<number> {
  await call();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await call();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

async function listen(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/status`, server };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve(bytes));
      })
      .on('error', reject);
  });
}

/**
 * The page loaded in headless Chromium (the Debian package, as the status test uses it) in real time, driven
 * over the DevTools protocol (Node's own WebSocket): the page notes when its first data was on screen and when
 * its own DOM was ready, both from navigation start, and they are read back once there.
 */
async function firstRender(url: string): Promise<{ firstRender: number; domReady: number }> {
  const profile = await mkdtemp(path.join(tmpdir(), 'seakeeper-bench-chromium-'));
  const browser = spawn('chromium', ['--headless=new', '--disable-gpu', '--no-sandbox', '--no-first-run', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let seen = '';
      browser.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const found = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
        if (found) resolve(found[1]!);
      });
      browser.on('exit', (code) => reject(new Error(`chromium exited ${code}: ${seen.slice(0, 300)}`)));
    });
    const port = new URL(endpoint).port;
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
    const page = new WebSocket(targets.find((t) => t.type === 'page')!.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => ((page.onopen = resolve), (page.onerror = reject)));
    let id = 0;
    const call = (method: string, params: object = {}) =>
      new Promise<{ result?: { result?: { value?: unknown } } }>((resolve) => {
        const mine = ++id;
        const listener = (event: MessageEvent) => {
          const message = JSON.parse(String(event.data)) as { id?: number };
          if (message.id === mine) {
            page.removeEventListener('message', listener);
            resolve(message as never);
          }
        };
        page.addEventListener('message', listener);
        page.send(JSON.stringify({ id: mine, method, params }));
      });
    await call('Page.navigate', { url });
    for (let waited = 0; waited < 10_000; waited += 50) {
      const answer = await call('Runtime.evaluate', { expression: 'JSON.stringify(document.getElementById("pipelines")?.dataset ?? {})', returnByValue: true });
      const data = JSON.parse(String(answer.result?.result?.value ?? '{}')) as { firstRenderMs?: string; domReadyMs?: string };
      if (data.firstRenderMs) {
        page.close();
        return { firstRender: Number(data.firstRenderMs), domReady: Number(data.domReadyMs) };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the page did not render within 10 s');
  } finally {
    const exited = browser.exitCode !== null ? Promise.resolve() : new Promise((resolve) => browser.once('exit', resolve));
    browser.kill();
    await exited;
    await rm(profile, { recursive: true, force: true, maxRetries: 5 });
  }
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));

await setUp();
try {
  const publicGerrit = new GerritRest({ baseUrl: rig.GERRIT_URL, anonymous: true });
  const deps = { cluster, namespace: systemNamespace, pipelines, gerritUrl: rig.GERRIT_URL, argoUiUrl: 'https://argo.example.org/', publicGerrit };
  // Wait until Argo has picked every run up, so that every round lists the same state.
  // (Read unfiltered: the bench's changes are not in Gerrit, so the public view hides them all.)
  for (let i = 0; ; i++) {
    const [listedQueues, listedWorkflows] = await Promise.all([
      cluster.list<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, systemNamespace, CHANGE_QUEUES_SELECTOR, { fromCache: true }),
      listWorkflows(cluster, undefined, RUNS_SELECTOR, { fromCache: true }),
    ]);
    const view = buildStatusView({ now: new Date(), pipelines, queues: listedQueues, workflows: listedWorkflows, gerritUrl: deps.gerritUrl, argoUiUrl: deps.argoUiUrl });
    const running = view.pipelines.flatMap((p) => [...p.checks.map((c) => c.run.phase), ...p.queues.flatMap((q) => q.items.flatMap((it) => (it.run?.phase ? [it.run.phase] : [])))]);
    if (running.filter((phase) => phase === 'Running').length >= CHECKS + QUEUES * WINDOW) break;
    if (i > 120) throw new Error(`Argo has not started the runs: ${running.length} listed`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const [queues, workflows] = await Promise.all([
    cluster.list<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, systemNamespace, CHANGE_QUEUES_SELECTOR, { fromCache: true }),
    listWorkflows(cluster, undefined, RUNS_SELECTOR, { fromCache: true }),
  ]);
  const view = buildStatusView({ now: new Date(), pipelines, queues, workflows, gerritUrl: deps.gerritUrl, argoUiUrl: deps.argoUiUrl });
  // What the page is served: the public view (the bench's changes are not in Gerrit, so every item is hidden).
  const json = JSON.stringify(await readStatus(deps));
  console.log(`${queues.length} queues × ${ITEMS} items, ${view.pipelines[0]!.checks.length} check runs going; ${workflows.length} Workflows listed (the rig's others included); JSON ${(json.length / 1024).toFixed(1)} KiB`);

  const rebuild = await time(() => readStatus(deps));
  // The bare calls: the two lists, then Gerrit's anonymous queries for the same change numbers.
  const queries = publicQueries(changesNamed(view));
  const lists = await time(async () => {
    await Promise.all([
      cluster.list(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, systemNamespace, CHANGE_QUEUES_SELECTOR, { fromCache: true }),
      listWorkflows(cluster, undefined, RUNS_SELECTOR, { fromCache: true }),
    ]);
    await Promise.all(queries.map((query) => publicGerrit.json('GET', 'changes/', { query })));
  });
  const pure = await time(async () => buildStatusView({ now: new Date(), pipelines, queues, workflows, gerritUrl: deps.gerritUrl, argoUiUrl: deps.argoUiUrl }));

  const service = new StatusService({ status: cachedValue(() => readStatus(deps), 3_600_000), page: loadStatusPage(), logger: { info() {}, warn() {}, error() {}, debug() {}, fatal() {} } as never });
  const fn = service.httpFunction();
  const status = await listen((req, res) => void fn(req as Request, res as Response));
  const bare = await listen((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(json));
  try {
    const cached = await time(() => get(status.url), REQUESTS);
    const staticGet = await time(() => get(bare.url), REQUESTS);
    console.log(`rebuild (two lists, the anonymous queries, the view): ${fmt(rebuild)} ms   baseline, the lists and the queries alone: ${fmt(lists)} ms   the view alone: ${fmt(pure)} ms   (median of ${ROUNDS}; target < 200 ms)`);
    console.log(`cached GET /api/status: ${fmt(cached)} ms   baseline, GET of a static string of the same ${(json.length / 1024).toFixed(1)} KiB: ${fmt(staticGet)} ms   (median of ${REQUESTS}; target < 5 ms)`);
    const renders: Array<{ firstRender: number; domReady: number }> = [];
    for (let round = 0; round < ROUNDS; round++) renders.push(await firstRender(new URL('/', status.url).href));
    console.log(
      `first render in headless Chromium (navigation start → the first data on screen): ${median(renders.map((r) => r.firstRender))} ms   baseline, the page's own DOMContentLoaded: ${median(renders.map((r) => r.domReady))} ms   (median of ${ROUNDS}; target < 1 s)`,
    );
  } finally {
    status.server.close();
    bare.server.close();
    agent.destroy();
  }
} finally {
  await tearDown();
}
