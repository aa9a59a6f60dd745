// patchset-created and workflow-completed against the rig (`make rig-up`): what a handler costs on top of the
// Gerrit and Kubernetes calls it makes, how fast a function process starts, and how much memory it holds.
//
//   npm run bench:pipeline [-- --rounds=5 --events=20 --cold=5]
//   BENCH_NODE_FLAGS='…' replaces the node flags the Services start with (knative/services/pipeline-patch.yaml);
//   BENCH_NODE_OPTIONS sets NODE_OPTIONS
//
// Setup (not timed): a project with seakeeper.yaml and a check workflow on refs/meta/config (BENCH_CONFIG_FILES), its namespace
// provisioned, `events` changes pushed; their patchset-created events rebuilt from Gerrit's REST answer by the
// ingress's own gap recovery (gap-recovery.ts → gerrit-cloudevents.ts), as real as a webhook's.
//
// Warm, per round: both functions served from the build (dist/, `npm run build`) by the functions-framework CLI,
// each in a process of its own, as in production; one event at a time.
//   patchset-created   each change's event, under a round-specific id (a fresh run, no older one to stop),
//                      then the bare calls it makes, straight over HTTP with kept-alive connections: GET the
//                      head of refs/meta/config, LIST the change's Workflows (from the watch cache, as the
//                      handler asks), GET the change with its commit and query its dependencies (one level: its
//                      parent, the branch tip; dependencies.ts), CREATE a Workflow holding the start message's claim, CREATE its change
//                      ConfigMap (the handler makes it while posting the start), POST the start
//                      message, PATCH its done marker (again after a GET when Argo wrote the run in between:
//                      a 409), then query the changes that name it in Depends-On, the seakeeper.yaml and workflow file being cached by commit after the first event
//   workflow-completed the runs just created, once the rig's Argo controller has run them to their end,
//                      each workflow.completed delivered, then the bare calls: GET the Workflow, GET the change,
//                      PATCH the claim, POST the review, PATCH the done marker (on a copy of the Workflow)
// Handler time is the POST to the function, answer included; bare time the sum of its calls, in sequence as the
// handler makes them. Each round then deletes its Workflows. Figures are medians per round, then over rounds.
//
// Cold start: a fresh process per sample, from spawn to the answer of its first event (an event never handled
// before); then resident memory (VmRSS of /proc/PID/status) of the warm processes after all their events.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import type { CloudEvent } from 'cloudevents';
import { CONFIG_REF } from '../shared/config/project-config.js';
import { eventsFromChanges, RECOVERY_CHANGE_OPTIONS } from '../shared/events/gap-recovery.js';
import { toCloudEvents } from '../shared/events/gerrit-cloudevents.js';
import { binaryMessage } from '../shared/events/sink.js';
import { basicAuthorization, encodeId, parseGerritJson } from '../shared/gerrit/rest.js';
import type { ChangeInfo } from '../shared/gerrit/types.js';
import { DEPENDENCY_OPTIONS, dependentsQuery, levelQuery, wantedBy } from '../shared/pipelines/dependencies.js';
import { ClusterClient } from '../shared/k8s/cluster.js';
import { namespaceFor } from '../shared/names.js';
import { ARGO_COMPLETED_LABEL, runSelector, type LiveWorkflow } from '../shared/runs/workflow.js';
import { listWorkflows, refOfWorkflow } from '../shared/runs/workflow-store.js';
import { workflowCompletedEvent } from '../shared/reporting/completed-event.js';
import { finished } from '../test/integration/support/argo.js';
import { FRAMEWORK_MAIN, freePort, nodeFlagsOf, waitForListening } from '../dev/serve-function.js';
import { pushChange } from '../dev/gerrit-chores.js';
import { rigConnections } from '../test/integration/support/gerrit.js';
import { ARGO_UI_URL, CLUSTER_URL, provisionedProject } from '../test/integration/support/pipelines.js';
import { hideProjects } from '../test/integration/support/provisioning.js';
import { loadRig, uniqueSuffix } from '../test/integration/support/rig.js';
import { GerritClient } from '../shared/gerrit/client.js';
import { mapWithConcurrency } from '../shared/concurrency.js';
import { median, numericArgs } from './cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST_INDEX = path.join(ROOT, 'dist/functions/index.js');

const args = numericArgs();
const ROUNDS = args.rounds ?? 5;
const EVENTS = args.events ?? 20;
const COLD = args.cold ?? 5;

const ms = (n: number) => `${n.toFixed(1)} ms`;

// --- the rig, and bare HTTP to it --------------------------------------------------------------------------

const rig = loadRig();
const { admin: adminConnection, bot: botConnection } = rigConnections(rig);
const cluster = ClusterClient.fromKubeconfigFile(rig.KUBECONFIG);
const gerritUrl = new URL(rig.GERRIT_URL);
const gerritAgent = new http.Agent({ keepAlive: true });
const botAuthorization = basicAuthorization(rig.GERRIT_USER, rig.GERRIT_PASSWORD);

const kc = new KubeConfig();
kc.loadFromFile(rig.KUBECONFIG);
const kubeServer = new URL(kc.getCurrentCluster()!.server);
const kubeAgent = await (async () => {
  const options: https.AgentOptions = { keepAlive: true };
  await kc.applyToHTTPSOptions(options);
  return new https.Agent(options);
})();

interface Answer {
  status: number;
  body: string;
}

/** One request, its body read to the end; rejects on a non-2xx answer. */
function send(agent: http.Agent, base: URL, method: string, pathname: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const client = base.protocol === 'https:' ? https : http;
    const req = client.request(
      { host: base.hostname, port: base.port, method, path: pathname, agent, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) reject(new Error(`${method} ${pathname}: ${status} ${text.slice(0, 200)}`));
          else resolve({ status, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const gerrit = (method: string, pathname: string, body?: unknown) =>
  send(gerritAgent, gerritUrl, method, `${gerritUrl.pathname.replace(/\/$/, '')}/a/${pathname}`, {
    authorization: botAuthorization,
    accept: 'application/json',
    ...(body !== undefined ? { 'content-type': 'application/json; charset=UTF-8' } : {}),
  }, body === undefined ? undefined : JSON.stringify(body));
const kube = (method: string, pathname: string, body?: unknown, contentType = 'application/json') =>
  send(kubeAgent, kubeServer, method, pathname, { accept: 'application/json', ...(body !== undefined ? { 'content-type': contentType } : {}) }, body === undefined ? undefined : JSON.stringify(body));
const workflowsPath = (namespace: string) => `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/workflows`;

/** Runs the calls one after another, as the handler does, and returns how long they took together. */
async function timed(calls: (() => Promise<unknown>)[]): Promise<number> {
  const started = performance.now();
  for (const call of calls) await call();
  return performance.now() - started;
}

// --- function processes --------------------------------------------------------------------------------------

interface Served {
  child: ChildProcess;
  port: number;
}

function functionEnv(target: string): Record<string, string> {
  const gerritEnv = { GERRIT_URL: rig.GERRIT_URL, GERRIT_USER: rig.GERRIT_USER, GERRIT_PASSWORD: rig.GERRIT_PASSWORD.reveal() };
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    KUBECONFIG: rig.KUBECONFIG,
    ARGO_UI_URL,
    ...gerritEnv,
    ...(target === 'workflow-watch' ? { K_SINK: 'http://127.0.0.1:9/', CLUSTER_URL } : {}),
    // Where the claims on Leases and the gate's queues are; the bench's changes claim none and are in no queue.
    SEAKEEPER_NAMESPACE: 'seakeeper-system',
    NODE_OPTIONS: [process.env.BENCH_NODE_OPTIONS ?? '', process.env.BENCH_PROFILE_DIR ? `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}` : '']
      .filter(Boolean)
      .join(' '),
  };
}

const NOOP_SOURCE = path.join(ROOT, 'bench/noop-function.js');

function spawnFunction(target: string, port: number, source = DIST_INDEX, flagsOf = target): ChildProcess {
  // Log lines go where a container's stdout goes: a file the runtime collects; /dev/null here.
  // BENCH_LOG_DIR keeps each process's log lines (their `ms` is the handler's own time), else /dev/null.
  const logDir = process.env.BENCH_LOG_DIR;
  const out = logDir ? openSync(path.join(logDir, `${target}-${port}.log`), 'w') : 'ignore';
  // The flags its Knative Service starts node with, unless BENCH_NODE_FLAGS measures others.
  const flags = process.env.BENCH_NODE_FLAGS !== undefined ? process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean) : nodeFlagsOf(flagsOf);
  return spawn(process.execPath, [...flags, FRAMEWORK_MAIN, `--source=${source}`, `--target=${target}`, `--port=${port}`], {
    cwd: ROOT,
    env: functionEnv(target),
    stdio: ['ignore', out, 'inherit'],
  });
}

async function serve(target: string): Promise<Served> {
  const port = await freePort();
  const child = spawnFunction(target, port);
  await waitForListening(port, child, target);
  return { child, port };
}

const functionAgent = new http.Agent({ keepAlive: true });

async function deliver(port: number, event: CloudEvent<unknown>): Promise<number> {
  const { headers, body } = binaryMessage(event);
  const started = performance.now();
  const answer = await send(functionAgent, new URL(`http://127.0.0.1:${port}/`), 'POST', '/', headers, body);
  if (answer.status !== 204) throw new Error(`the function answered ${answer.status}`);
  return performance.now() - started;
}

/** VmRSS, and the part of it that is not file-backed (the node binary's pages are shared with every process). */
function rss(pid: number): { total: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)![1]) * 1024;
  return { total: kB('VmRSS'), anon: kB('RssAnon') };
}
const mem = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB (${(bytes / 1e6).toFixed(1)} MB)`;

// --- setup -----------------------------------------------------------------------------------------------------

const PROJECT = `bench-${uniqueSuffix()}/app`;
const namespace = namespaceFor(PROJECT);

/**
 * The bench project's check Workflow: two steps that wait three seconds each without a pod (suspend). The rig's
 * Argo controller runs every run the bench creates to its end by itself, but no pod is made, scheduled or run by
 * KWOK on the same two cores while a function is timed — in production they run on other machines.
 */
const BENCH_CONFIG_FILES = {
  'seakeeper.yaml': 'pipelines:\n  check: { workflow: ci/check.yaml }\n',
  'ci/check.yaml': `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: { generateName: check- }
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - { name: lint, template: wait }
          - { name: test, template: wait }
    - name: wait
      suspend: { duration: "3" }
`,
};

interface BenchChange {
  number: number;
  revision: string;
  event: CloudEvent<unknown>;
}

async function setup(): Promise<BenchChange[]> {
  const bot = new GerritClient(botConnection);
  await provisionedProject(rig, PROJECT, BENCH_CONFIG_FILES, { cluster, bot });
  const since = Math.floor(Date.now() / 1000) - 60;
  const count = EVENTS + COLD;
  await mapWithConcurrency([...Array(count).keys()], 4, (i) => pushChange(adminConnection, PROJECT, { [`f${i}.txt`]: `${i}\n` }, `Bench change ${i}`));
  const { changes } = await bot.queryChanges(`project:${PROJECT}`, { options: RECOVERY_CHANGE_OPTIONS, limit: 500 });
  const { events } = eventsFromChanges(changes, since, { webUrl: rig.GERRIT_URL });
  return events
    .filter((e) => e.kind === 'patchset-created')
    .map((e) => {
      const event = toCloudEvents(e, { source: gerritUrl.href }).find((c) => c.type === 'gerrit.patchset-created')!;
      const change = (e as { change: { number: number } }).change;
      return { number: change.number, revision: (e as { patchSet: { revision: string } }).patchSet.revision, event };
    })
    .sort((a, b) => a.number - b.number);
}

/** Deletes every Workflow of the bench namespace (between rounds, not timed). */
async function clearWorkflows(): Promise<void> {
  await kube('DELETE', `${workflowsPath(namespace)}?propagationPolicy=Background`);
  for (;;) {
    const { items } = JSON.parse((await kube('GET', workflowsPath(namespace))).body) as { items: unknown[] };
    if (items.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// --- the bare calls --------------------------------------------------------------------------------------------

async function barePatchsetCreated(change: BenchChange, template: LiveWorkflow): Promise<number> {
  const name = `bare-${randomUUID().slice(0, 8)}`;
  const annotations = { 'seakeeper.dev/started-claim': `start ${new Date().toISOString()}` };
  const copy = { apiVersion: template.apiVersion, kind: template.kind, metadata: { name, namespace, labels: { bench: 'bare' }, annotations }, spec: template.spec };
  const claim = markerPatch(`${workflowsPath(namespace)}/${name}`);
  let uid = '';
  const environment = () => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { bench: 'bare' }, ownerReferences: [{ apiVersion: template.apiVersion, kind: template.kind, name, uid }] },
    data: { SEAKEEPER_PROJECT: PROJECT, SEAKEEPER_CHANGE: String(change.number), SEAKEEPER_SUBJECT: 'Bench change' },
  });
  const query = (q: string) => gerrit('GET', `changes/?q=${encodeURIComponent(q)}${DEPENDENCY_OPTIONS.map((o) => `&o=${o}`).join('')}`);
  let info: ChangeInfo | undefined;
  return timed([
    () => gerrit('GET', `projects/${encodeId(PROJECT)}/branches/${encodeId(CONFIG_REF)}`),
    () => kube('GET', `${workflowsPath(namespace)}?labelSelector=${encodeURIComponent(runSelector(PROJECT, 'check', change.number))}&resourceVersion=0`),
    () =>
      gerrit('GET', `changes/${encodeId(`${PROJECT}~${change.number}`)}?${DEPENDENCY_OPTIONS.map((o) => `o=${o}`).join('&')}`).then((answer) => {
        info = parseGerritJson<ChangeInfo>(answer.body, 'change');
      }),
    () => query(levelQuery([wantedBy(info!, rig.GERRIT_URL).wanted], { numbers: new Set([change.number]), changeIds: new Set(), commits: new Set() })!),
    () =>
      kube('POST', `${workflowsPath(namespace)}?fieldManager=seakeeper&fieldValidation=Strict`, copy).then((answer) => {
        claim.read(answer);
        uid = (JSON.parse(answer.body) as LiveWorkflow).metadata.uid!;
      }),
    () => kube('POST', `/api/v1/namespaces/${namespace}/configmaps?fieldManager=seakeeper`, environment()),
    () => gerrit('POST', `changes/${encodeId(`${PROJECT}~${change.number}`)}/revisions/${change.revision}/review`, { message: `Starting check jobs: ${ARGO_UI_URL}workflows/${namespace}/${name}`, tag: 'autogenerated:seakeeper-check', notify: 'NONE' }),
    claim.annotate({ 'seakeeper.dev/started': 'start', 'seakeeper.dev/started-claim': null }),
    () => query(dependentsQuery([info!], rig.GERRIT_URL)),
  ]);
}

/**
 * A claim marker's compare-and-swap patches of the Workflow at `at`, from the resourceVersion last read; a
 * conflict (Argo's controller writes the run too) reads it again and patches again, as the handler does.
 */
function markerPatch(at: string) {
  let resourceVersion = '';
  const read = (answer: { body: string }) => {
    resourceVersion = (JSON.parse(answer.body) as LiveWorkflow).metadata.resourceVersion!;
  };
  const patch = (annotations: Record<string, string | null>) =>
    kube('PATCH', `${at}?fieldManager=seakeeper&fieldValidation=Strict`, { metadata: { resourceVersion, annotations } }, 'application/merge-patch+json').then(read);
  const annotate = (annotations: Record<string, string | null>) => () =>
    patch(annotations).catch(async (err: Error) => {
      if (!err.message.includes(': 409 ')) throw err;
      read(await kube('GET', at));
      await patch(annotations);
    });
  return { read, annotate };
}

async function bareWorkflowCompleted(change: BenchChange, copyName: string): Promise<number> {
  const at = `${workflowsPath(namespace)}/${copyName}`;
  const claim = markerPatch(at);
  return timed([
    () => kube('GET', at).then(claim.read),
    () => gerrit('GET', `changes/${encodeId(`${PROJECT}~${change.number}`)}?o=CURRENT_REVISION`),
    claim.annotate({ 'seakeeper.dev/reported-claim': `Succeeded ${new Date().toISOString()}` }),
    () => gerrit('POST', `changes/${encodeId(`${PROJECT}~${change.number}`)}/revisions/${change.revision}/review`, { message: 'Build succeeded (check pipeline).', labels: { Verified: 1 }, tag: 'autogenerated:seakeeper-check', notify: 'OWNER' }),
    claim.annotate({ 'seakeeper.dev/reported': 'Succeeded', 'seakeeper.dev/reported-claim': null }),
  ]);
}

// --- main --------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(`pipeline bench: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`);
  console.log(`  ${ROUNDS} rounds of ${EVENTS} events per function; ${COLD} cold starts each; project ${PROJECT}`);
  for (const target of ['patchset-created', 'workflow-completed']) {
    const flags = process.env.BENCH_NODE_FLAGS ?? nodeFlagsOf(target).join(' ');
    console.log(`  ${target}: node ${flags || '(no flags)'}${process.env.BENCH_NODE_OPTIONS ? `, NODE_OPTIONS=${process.env.BENCH_NODE_OPTIONS}` : ''}`);
  }
  const changes = await setup();
  if (changes.length < EVENTS + COLD) throw new Error(`only ${changes.length} patchset-created events were rebuilt`);
  const warm = changes.slice(0, EVENTS);
  const cold = changes.slice(EVENTS, EVENTS + COLD);

  const created = await serve('patchset-created');
  const completed = await serve('workflow-completed');
  const rounds: { psc: number; pscBare: number; wc: number; wcBare: number }[] = [];
  try {
    // Warm-up, not counted: connections, discovery, the config cache, JIT.
    for (const change of warm.slice(0, 2)) await deliver(created.port, change.event.cloneWith({ id: `${change.event.id}-warmup` }));
    await clearWorkflows();

    for (let round = 1; round <= ROUNDS; round++) {
      const psc: number[] = [];
      const pscBare: number[] = [];
      const runs: { change: BenchChange; run: LiveWorkflow }[] = [];
      for (const change of warm) {
        psc.push(await deliver(created.port, change.event.cloneWith({ id: `${change.event.id}-r${round}` })));
        const [run] = await listWorkflows(cluster, namespace, runSelector(PROJECT, 'check', change.number));
        runs.push({ change, run: run! });
        pscBare.push(await barePatchsetCreated(change, run!));
      }
      // The rig's Argo controller runs every run to its end, and a bare copy of each is made for the baseline
      // (not timed; labelled completed, so the controller leaves it alone).
      const copies = await mapWithConcurrency(runs, 4, async ({ run }) => {
        const done = await finished(cluster, refOfWorkflow(run));
        const labels = { bench: 'bare', [ARGO_COMPLETED_LABEL]: 'true' };
        const copy = { apiVersion: done.apiVersion, kind: done.kind, metadata: { name: `bare-${run.metadata.name}`, namespace, labels }, spec: done.spec, status: done.status };
        await kube('POST', `${workflowsPath(namespace)}?fieldManager=seakeeper`, copy);
        return { finished: done, copy: copy.metadata.name };
      });
      const wc: number[] = [];
      const wcBare: number[] = [];
      for (const [i, { change }] of runs.entries()) {
        wc.push(await deliver(completed.port, workflowCompletedEvent(copies[i]!.finished, { source: CLUSTER_URL })!));
        wcBare.push(await bareWorkflowCompleted(change, copies[i]!.copy));
      }
      await clearWorkflows();
      const r = { psc: median(psc), pscBare: median(pscBare), wc: median(wc), wcBare: median(wcBare) };
      rounds.push(r);
      console.log(
        `  round ${round}: patchset-created ${ms(r.psc)} vs bare ${ms(r.pscBare)} (×${(r.psc / r.pscBare).toFixed(2)}); ` +
          `workflow-completed ${ms(r.wc)} vs bare ${ms(r.wcBare)} (×${(r.wc / r.wcBare).toFixed(2)})`,
      );
    }
    const memory = { 'patchset-created': rss(created.child.pid!), 'workflow-completed': rss(completed.child.pid!) };

    // Cold starts: a new process per sample, its first event one it never saw; the baseline is a no-op function
    // started the same way (the pipeline Services' flags), answering the same first event.
    const coldStarts: Record<string, number[]> = { 'patchset-created': [], 'workflow-completed': [], noop: [] };
    const coldRss: Record<string, number[]> = { 'patchset-created': [], 'workflow-completed': [] };
    for (const [i, change] of cold.entries()) {
      for (const target of ['patchset-created', 'workflow-completed'] as const) {
        let event = change.event.cloneWith({ id: `${change.event.id}-cold` });
        if (target === 'workflow-completed') {
          const [run] = await listWorkflows(cluster, namespace, runSelector(PROJECT, 'check', change.number));
          event = workflowCompletedEvent(await finished(cluster, refOfWorkflow(run!)), { source: CLUSTER_URL })!;
        }
        const port = await freePort();
        const started = performance.now();
        const child = spawnFunction(target, port);
        await waitForListening(port, child, target, { pollMs: 2 });
        await deliver(port, event);
        coldStarts[target]!.push(performance.now() - started);
        coldRss[target]!.push(rss(child.pid!).total);
        child.kill('SIGTERM');
        if (target === 'patchset-created') {
          const noopPort = await freePort();
          const noopStarted = performance.now();
          const noop = spawnFunction('noop', noopPort, NOOP_SOURCE, target);
          await waitForListening(noopPort, noop, 'noop', { pollMs: 2 });
          await deliver(noopPort, event);
          coldStarts.noop!.push(performance.now() - noopStarted);
          noop.kill('SIGTERM');
        }
      }
      if (i === cold.length - 1) await clearWorkflows();
    }

    const m = (f: (r: (typeof rounds)[number]) => number) => median(rounds.map(f));
    console.log('medians over the rounds (the ratio is the median of the rounds\' ratios):');
    console.log(`  patchset-created    per event ${ms(m((r) => r.psc))}   bare calls ${ms(m((r) => r.pscBare))}   ratio ×${m((r) => r.psc / r.pscBare).toFixed(2)}   (target ≤ ×1.2)`);
    console.log(`  workflow-completed  per event ${ms(m((r) => r.wc))}   bare calls ${ms(m((r) => r.wcBare))}   ratio ×${m((r) => r.wc / r.wcBare).toFixed(2)}   (target ≤ ×1.2)`);
    const noopCold = median(coldStarts.noop!);
    console.log(`  no-op function      cold start ${ms(noopCold)} (${coldStarts.noop!.map((v) => v.toFixed(0)).join(', ')}; the baseline)`);
    for (const target of ['patchset-created', 'workflow-completed'] as const) {
      console.log(
        `  ${target.padEnd(19)} cold start ${ms(median(coldStarts[target]!))} (${coldStarts[target]!.map((v) => v.toFixed(0)).join(', ')}; ` +
          `×${(median(coldStarts[target]!) / noopCold).toFixed(2)} the no-op's; target < 500 ms)\n` +
          `  ${''.padEnd(19)} VmRSS after ${ROUNDS * EVENTS + 2} events ${mem(memory[target].total)}, of it anonymous ${mem(memory[target].anon)}; ` +
          `after its first event ${mem(median(coldRss[target]!))} (target < 100 MB)`,
      );
    }
  } finally {
    created.child.kill('SIGTERM');
    completed.child.kill('SIGTERM');
    await cluster.delete('v1', 'Namespace', undefined, namespace);
    await hideProjects(adminConnection, [PROJECT]);
    gerritAgent.destroy();
    kubeAgent.destroy();
    functionAgent.destroy();
  }
}

await main();
