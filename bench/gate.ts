// The gate pipeline against the rig (`make rig-up`): how long the head of a queue takes from its finished run to
// MERGED, and what eight deliveries deciding on one ChangeQueue at once cost.
//
//   npm run bench:gate [-- --items=20 --rounds=7]
//   BENCH_NODE_FLAGS='…' replaces the node flags of workflow-completed's Service; BENCH_LOG_DIR keeps its log lines
//
// Setup (not timed): a pipeline stack as the rig tests start it (test/integration/support/pipelines.ts: each
// function its own ServiceAccount, gerrit-webhook feeding a Broker stand-in), two projects running gate-and-submit
// (a queue each) with a one-step gate Workflow whose pod the rig's KWOK ends after 1 s, and per item three
// changes: one for the served function, one for the in-process handler, one for the baseline (Code-Review +2, no
// queue). workflow-completed is served from the build (dist/, `npm run build`) by the functions-framework CLI with
// its Service's node flags, as bench/pipeline.ts serves it, with the stack's workflow-completed account.
//
// 1. Head workflow.completed → MERGED. Per item, untimed: in each project, Code-Review +2 on the item's change,
//    its comment-added (as gerrit-webhook sent it) delivered to comment-added, which enqueues it on its queue,
//    empty otherwise, and creates its gate run; Argo's controller runs both runs to Succeeded. Then three timed
//    steps, 0.5 s of quiet before each, in turn (each first, second and last as often as the others):
//    - SERVED, the figure: from the POST of the run's workflow.completed to workflow-completed, through its
//      answer (the handler reads the run, stores run-finished in the queue, claims the vote on a Lease named by
//      the run, votes Verified +2, asks Gerrit to submit, then records the claim done beside storing
//      `submitted` in the queue), to the answer of a GET of the change that says MERGED.
//    - IN-PROCESS, for the breakdown: workflow-completed's handler built as startWorkflowCompleted builds it, in
//      this process, over clients that time each cluster and Gerrit call where it is made; its event handled,
//      then the same GET. Not the figure (this process has the full JIT, the Services' flags do not).
//    - BASELINE: the bare Gerrit calls a submit needs, as the bot, kept alive: POST the gate's success review on
//      a baseline change (the same message, Verified +2, tag and notify: successReview), POST submit, then the
//      same GET that says MERGED.
//    Item 0 warms every path up and is not counted; an item counts when both handlers voted and submitted
//    themselves (another session's reconcile may report a finished run first). Figures: medians over the items.
// 2. Eight concurrent deliveries on one queue, each through a ChangeQueueStore of its own over a client of its
//    own (an HttpCluster as the functions use it, acting as the pipeline functions' accounts in turn), on a queue
//    that exists: eight enqueues of different changes at once, then eight copies of one enqueue event at once.
//    TIMED: from starting the eight updates to the last one's end (and each one's own time). BASELINE: a single
//    update alone on the same queue (one enqueue), three per round between the others; their median.
//    Conflicts retried: the `retries` update returns, summed, and the 409 answers the wrapped client saw. No
//    lost update: every enqueued change is in the stored queue afterwards, the copied one once, depth right.
//    A second reference: eight enqueues one after another. A fresh queue per round; round 0 warms up.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudEvent } from 'cloudevents';
import { findPipeline, loadPipelines } from '../shared/config/pipeline-config.js';
import { binaryMessage } from '../shared/events/sink.js';
import { ConflictError } from '../shared/errors.js';
import { basicAuthorization, encodeId, GerritRest } from '../shared/gerrit/rest.js';
import { gerritClientFromEnv } from '../shared/gerrit/env.js';
import type { ChangeInfo } from '../shared/gerrit/types.js';
import { httpClusterFromEnv } from '../shared/k8s/http-cluster.js';
import { mapWithConcurrency } from '../shared/concurrency.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, type QueueConfig, type QueueEvent } from '../shared/pipelines/change-queue.js';
import { Gate } from '../shared/pipelines/gate.js';
import { queueConfigOf, successReview } from '../shared/pipelines/gate-plan.js';
import { ChangeQueueStore, QUEUE_UPDATE_ATTEMPTS, queueObjectName, type ChangeQueueObject, type QueueCluster, type QueueUpdate } from '../shared/pipelines/queue-store.js';
import { workflowCompletedEvent } from '../shared/reporting/completed-event.js';
import { Reporter } from '../shared/reporting/reporter.js';
import { argoWorkflowUrl } from '../shared/runs/workflow.js';
import { refOfWorkflow } from '../shared/runs/workflow-store.js';
import { namespaceFor } from '../shared/names.js';
import { FRAMEWORK_MAIN, freePort, nodeFlagsOf, waitForListening } from '../dev/serve-function.js';
import { pushChange } from '../dev/gerrit-chores.js';
import { finished } from '../test/integration/support/argo.js';
import { outcomeWorkflow } from '../test/integration/support/gate.js';
import { rigConnections } from '../test/integration/support/gerrit.js';
import { ARGO_UI_URL, CLUSTER_URL, configuredProject, deliver as deliverEvent, gerritEvent, runsOf, startPipelineStack, type PipelineStack } from '../test/integration/support/pipelines.js';
import type { PipelineAccount } from '../test/integration/support/pipeline-rbac.js';
import { deleteNamespacesOf, hideProjects } from '../test/integration/support/provisioning.js';
import { loadRig, uniqueSuffix } from '../test/integration/support/rig.js';
import { eventually } from '../test/integration/support/wait.js';
import { enqueueItem } from '../test/unit/support/pipelines.js';
import { median, numericArgs } from './cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST_INDEX = path.join(ROOT, 'dist/functions/index.js');

const args = numericArgs();
const ITEMS = args.items ?? 20;
const ROUNDS = args.rounds ?? 7;
const QUIET_MS = 500;

const ms = (n: number) => `${n.toFixed(1)} ms`;
const sleep = (n: number) => new Promise((resolve) => setTimeout(resolve, n));
const range = (values: readonly number[], digits = 1) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

const rig = loadRig();
const { admin: adminConnection } = rigConnections(rig);
const adminRest = new GerritRest(adminConnection);
const suffix = uniqueSuffix();
const PARENT = `bench-${suffix}-gate`;
const PROJECT = `${PARENT}/app`;
/** The in-process handler's changes gate in a queue of their own, so that its run and the served one's are ready together. */
const INPROCESS_PROJECT = `${PARENT}/inproc`;
const PIPELINE = 'gate-and-submit';
const GATE = findPipeline(loadPipelines(), PIPELINE)!;

/** The gate Workflow: one step whose pod the rig's KWOK ends after 1 s with exit code 0. */
const GATE_WORKFLOW = outcomeWorkflow('0', '1s');
const CONFIG = { 'seakeeper.yaml': `pipelines:\n  ${PIPELINE}: { workflow: ci/gate.yaml }\n`, 'ci/gate.yaml': GATE_WORKFLOW };

// --- bare HTTP to Gerrit, as the bot, kept alive ---------------------------------------------------------------

const gerritUrl = new URL(rig.GERRIT_URL);
const gerritAgent = new http.Agent({ keepAlive: true });
const botAuthorization = basicAuthorization(rig.GERRIT_USER, rig.GERRIT_PASSWORD);
const functionAgent = new http.Agent({ keepAlive: true });

function send(agent: http.Agent, url: URL, method: string, pathname: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path: pathname, agent, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function gerrit(method: string, pathname: string, body?: unknown): Promise<string> {
  const answer = await send(gerritAgent, gerritUrl, method, `${gerritUrl.pathname.replace(/\/$/, '')}/a/${pathname}`, {
    authorization: botAuthorization,
    accept: 'application/json',
    ...(body !== undefined ? { 'content-type': 'application/json; charset=UTF-8' } : {}),
  }, body === undefined ? undefined : JSON.stringify(body));
  if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${pathname}: ${answer.status} ${answer.body.slice(0, 300)}`);
  return answer.body;
}

/** The read that confirms the merge: GET the change; its status. */
async function statusOf(change: ChangeInfo): Promise<{ status: string }> {
  return JSON.parse((await gerrit('GET', `changes/${encodeId(`${change.project}~${change._number}`)}`)).replace(/^\)\]\}'\n/, '')) as { status: string };
}

// --- workflow-completed, served from the build -----------------------------------------------------------------

/** The flags workflow-completed's Service starts node with, unless BENCH_NODE_FLAGS measures others. */
const nodeFlags = () => (process.env.BENCH_NODE_FLAGS !== undefined ? process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean) : nodeFlagsOf('workflow-completed'));

interface Served {
  child: ChildProcess;
  port: number;
  logFile: string;
}

async function serveWorkflowCompleted(env: Record<string, string>): Promise<Served> {
  const port = await freePort();
  const logFile = path.join(process.env.BENCH_LOG_DIR ?? mkdtempSync(path.join(tmpdir(), 'bench-gate-')), `workflow-completed-${port}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...nodeFlags(), FRAMEWORK_MAIN, `--source=${DIST_INDEX}`, '--target=workflow-completed', `--port=${port}`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', out, 'inherit'],
  });
  await waitForListening(port, child, 'workflow-completed');
  return { child, port, logFile };
}

/** The `carried` of the function's log line for each event id, read once the process has ended. */
function carriedByEvent(logFile: string): Map<string, string> {
  const carried = new Map<string, string>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { id?: string; carried?: string[]; result?: string };
    if (entry.id) carried.set(entry.id, `${entry.result ?? ''} ${(entry.carried ?? []).join('; ')}`);
  }
  return carried;
}

async function deliver(port: number, event: CloudEvent<unknown>): Promise<void> {
  const { headers, body } = binaryMessage(event);
  const answer = await send(functionAgent, new URL(`http://127.0.0.1:${port}/`), 'POST', '/', headers, body);
  if (answer.status !== 204) throw new Error(`workflow-completed answered ${answer.status}: ${answer.body.slice(0, 300)}`);
}

// --- part 1: the head's workflow.completed → MERGED ------------------------------------------------------------

let stack: PipelineStack;

const approvesNow = (e: CloudEvent<unknown>) =>
  ((e.data as { approvals?: { type: string; value: string; oldValue?: string }[] }).approvals ?? []).some((a) => a.type === 'Code-Review' && a.value === '2' && a.oldValue !== undefined && a.oldValue !== '2');

/** Untimed: Code-Review +2, comment-added enqueues the change, Argo runs its gate run to its end; its event. */
async function gatedAndRun(project: string, change: ChangeInfo): Promise<CloudEvent<unknown>> {
  await adminRest.json('POST', `changes/${encodeId(`${project}~${change._number}`)}/revisions/current/review`, { body: { labels: { 'Code-Review': 2 }, notify: 'NONE' } });
  const approval = await gerritEvent(stack, 'gerrit.comment-added', change, 1, approvesNow);
  const answer = await deliverEvent(stack.functions['comment-added'], approval);
  if (answer.status < 200 || answer.status >= 300) throw new Error(`comment-added answered ${answer.status}: ${answer.body}`);
  const [run] = await eventually(async () => {
    const runs = await runsOf(stack, project, change._number, PIPELINE);
    if (runs.length !== 1) throw new Error(`change ${change._number} has ${runs.length} gate runs`);
    return runs;
  }, 15_000);
  const done = await finished(stack.cluster, refOfWorkflow(run!));
  if (done.status?.phase !== 'Succeeded') throw new Error(`gate run ${done.metadata.name} is ${done.status?.phase}`);
  return workflowCompletedEvent(done, { source: CLUSTER_URL })!;
}

interface Merged {
  total: number;
  /** The function's answer. */
  answered: number;
}

async function timedGate(port: number, change: ChangeInfo, event: CloudEvent<unknown>): Promise<Merged> {
  const started = performance.now();
  await deliver(port, event);
  const answered = performance.now() - started;
  const info = await statusOf(change);
  const total = performance.now() - started;
  if (info.status !== 'MERGED') throw new Error(`change ${change._number} is ${info.status} after workflow-completed answered`);
  return { total, answered };
}

async function timedBare(change: ChangeInfo): Promise<number> {
  const n = change._number;
  const item = { project: change.project, branch: 'master', change: n, patchset: 1, ref: `refs/changes/${String(n % 100).padStart(2, '0')}/${n}/1`, revision: change.current_revision! };
  const plan = successReview(GATE, item, argoWorkflowUrl(ARGO_UI_URL, namespaceFor(change.project), `bare-${change._number}`));
  const id = encodeId(`${change.project}~${change._number}`);
  const started = performance.now();
  await gerrit('POST', `changes/${id}/revisions/${plan.revision}/review`, plan.review);
  await gerrit('POST', `changes/${id}/submit`, {});
  const info = await statusOf(change);
  const total = performance.now() - started;
  if (info.status !== 'MERGED') throw new Error(`baseline change ${change._number} is ${info.status}`);
  return total;
}

// --- the breakdown: the handler in this process, each call timed ----------------------------------------------

interface Call {
  what: string;
  ms: number;
}

/** `target` with each of its methods that returns a promise timed into `calls`. */
function instrument<T extends object>(target: T, side: string, calls: Call[], name: (method: string, args: unknown[]) => string): T {
  return new Proxy(target, {
    get(t, property) {
      const value = Reflect.get(t, property, t) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...callArgs: unknown[]) => {
        const started = performance.now();
        const out = (value as (...a: unknown[]) => unknown).apply(t, callArgs);
        if (!out || typeof (out as Promise<unknown>).then !== 'function') return out;
        const what = `${side} ${name(property, callArgs)}`;
        return (out as Promise<unknown>).then(
          (result) => (calls.push({ what, ms: performance.now() - started }), result),
          (err: unknown) => {
            calls.push({ what: `${what} (failed: ${(err as Error).constructor.name})`, ms: performance.now() - started });
            throw err;
          },
        );
      };
    },
  });
}

const clusterCallName = (method: string, a: unknown[]) => {
  const kind = typeof a[0] === 'object' && a[0] !== null ? (a[0] as { kind?: string }).kind ?? '' : String(a[1]);
  return `${method} ${kind}`;
};

/** workflow-completed's handler as startWorkflowCompleted makes it, over timed clients; warmed up by a read of each. */
async function inProcessHandler(calls: Call[], warm: ChangeInfo): Promise<Reporter> {
  const env = stack.env['workflow-completed'];
  const cluster = instrument(httpClusterFromEnv(env), 'k8s', calls, clusterCallName);
  const gerritClient = instrument(gerritClientFromEnv(env), 'gerrit', calls, (method) => method);
  const gate = Gate.fromEnv(env, { gerrit: gerritClient, cluster });
  await cluster.get(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, env.SEAKEEPER_NAMESPACE!, queueObjectName(PIPELINE, `${warm.project} master`));
  await gerritClient.getChange(`${warm.project}~${warm._number}`);
  calls.length = 0;
  return new Reporter({ ...Reporter.fromEnv(env, cluster).deps, gate });
}

// --- part 2: eight concurrent deliveries on one queue ----------------------------------------------------------

const QUEUE_ACCOUNTS: readonly PipelineAccount[] = ['patchset-created', 'comment-added', 'workflow-completed', 'reconcile'];

/** A QueueCluster that counts the 409 answers (a conflicting write, a create of an object that exists). */
function counting(inner: QueueCluster, counter: { conflicts: number }): QueueCluster {
  return {
    get: (...a) => inner.get(...a),
    create: async (object) => {
      const result = await inner.create(object);
      if (!result.created) counter.conflicts += 1;
      return result;
    },
    replaceStatus: async (object) => {
      try {
        return await inner.replaceStatus(object);
      } catch (err) {
        if (err instanceof ConflictError) counter.conflicts += 1;
        throw err;
      }
    },
  } as QueueCluster;
}

interface Contended {
  wall: number;
  each: number[];
  retries: number;
  /** The most one delivery retried (it gives up after QUEUE_UPDATE_ATTEMPTS). */
  most: number;
  conflicts: number;
  written: number;
}

async function concurrently(stores: readonly ChangeQueueStore[], counter: { conflicts: number }, queue: QueueConfig, events: readonly QueueEvent[]): Promise<Contended> {
  const before = counter.conflicts;
  const started = performance.now();
  const results = await Promise.all(
    stores.map(async (store, i): Promise<{ update: QueueUpdate; ms: number }> => {
      const update = await store.update(queue, events[i]!);
      return { update, ms: performance.now() - started };
    }),
  );
  return {
    wall: performance.now() - started,
    each: results.map((r) => r.ms),
    retries: results.reduce((sum, r) => sum + r.update.retries, 0),
    most: Math.max(...results.map((r) => r.update.retries)),
    conflicts: counter.conflicts - before,
    written: results.filter((r) => r.update.written).length,
  };
}

async function queueRounds(): Promise<void> {
  const namespace = stack.env['comment-added'].SEAKEEPER_NAMESPACE!;
  const admin = httpClusterFromEnv({ KUBECONFIG: rig.KUBECONFIG });
  const counter = { conflicts: 0 };
  const stores = [...Array(8).keys()].map(
    (i) => new ChangeQueueStore(counting(httpClusterFromEnv({ KUBECONFIG: stack.kubeconfigs[QUEUE_ACCOUNTS[i % QUEUE_ACCOUNTS.length]!] }), counter), namespace),
  );
  const enqueue = (change: number, second: number): QueueEvent => ({ type: 'enqueue', eventId: `bench-${suffix}-${change}`, items: [enqueueItem(change, { at: second })] });

  const rounds: { single: number; serial: number; different: Contended; copies: Contended }[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    // Round 0 warms the eight clients up (connections, discovery) and is not counted.
    const queue = queueConfigOf(GATE, `bench-${suffix} eight ${round}`);
    const base = 1000 + round * 100;
    try {
      await stores[0]!.update(queue, enqueue(base, 0)); // the queue exists from here on
      const singles: number[] = [];
      const single = async (change: number, second: number) => {
        const started = performance.now();
        const update = await stores[(singles.length + 1) % 8]!.update(queue, enqueue(change, second));
        singles.push(performance.now() - started);
        if (update.retries !== 0 || !update.written) throw new Error(`the single update was retried ${update.retries} times, written ${update.written}`);
      };
      await single(base + 1, 1);
      const different = await concurrently(stores, counter, queue, [...Array(8).keys()].map((i) => enqueue(base + 10 + i, 10 + i)));
      await single(base + 2, 2);
      const copy = enqueue(base + 20, 20);
      const copies = await concurrently(stores, counter, queue, Array(8).fill(copy));
      await single(base + 3, 3);
      // A second reference: eight enqueues one after another, as if the deliveries had come in turn.
      const serialStarted = performance.now();
      for (const [i, store] of stores.entries()) await store.update(queue, enqueue(base + 30 + i, 30 + i));
      const serial = performance.now() - serialStarted;

      // No lost update: every change enqueued is there, the copied one once.
      const stored = (await admin.get<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, namespace, queueObjectName(queue.pipeline, queue.queue)))!.status!;
      const expected = [base, base + 1, ...[...Array(8).keys()].map((i) => base + 10 + i), base + 2, base + 20, base + 3, ...[...Array(8).keys()].map((i) => base + 30 + i)].sort();
      const got = stored.items.map((item) => item.change).sort();
      if (JSON.stringify(got) !== JSON.stringify(expected) || stored.depth !== expected.length) {
        throw new Error(`round ${round}: the queue holds ${JSON.stringify(got)} (depth ${stored.depth}), not ${JSON.stringify(expected)}`);
      }
      if (different.written !== 8 || copies.written !== 1) throw new Error(`round ${round}: ${different.written} of 8 enqueues and ${copies.written} of 8 copies wrote`);
      if (round === 0) continue;
      const r = { single: median(singles), serial, different, copies };
      rounds.push(r);
      console.log(
        `  round ${round}: single ${ms(r.single)} (${singles.map((v) => v.toFixed(1)).join(', ')}); ` +
          `8 changes: all in ${ms(different.wall)} (×${(different.wall / r.single).toFixed(2)}), each median ${ms(median(different.each))}, ${different.retries} retries (at most ${different.most} by one), ${different.conflicts} 409s; ` +
          `8 copies: all in ${ms(copies.wall)} (×${(copies.wall / r.single).toFixed(2)}), ${copies.retries} retries, ${copies.conflicts} 409s; ` +
          `8 in turn ${ms(serial)}; depth ${stored.depth}, nothing lost`,
      );
    } finally {
      await admin.delete(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, namespace, queueObjectName(queue.pipeline, queue.queue));
    }
  }
  const line = (label: string, pick: (r: (typeof rounds)[number]) => Contended) => {
    const walls = rounds.map((r) => pick(r).wall);
    const ratios = rounds.map((r) => pick(r).wall / r.single);
    const retries = rounds.map((r) => pick(r).retries);
    const conflicts = rounds.map((r) => pick(r).conflicts);
    const most = Math.max(...rounds.map((r) => pick(r).most));
    console.log(
      `  ${label}: all eight ${ms(median(walls))} (${range(walls)}), ×${median(ratios).toFixed(2)} (×${range(ratios, 2)}) the single update; ` +
        `each ${ms(median(rounds.map((r) => median(pick(r).each))))} median, ${ms(median(rounds.map((r) => Math.max(...pick(r).each))))} the slowest; ` +
        `retries per round ${median(retries)} (${Math.min(...retries)}–${Math.max(...retries)}; at most ${most} by one delivery of ${QUEUE_UPDATE_ATTEMPTS - 1}), 409s ${median(conflicts)} (${Math.min(...conflicts)}–${Math.max(...conflicts)})`,
    );
  };
  const singles = rounds.map((r) => r.single);
  console.log(`eight concurrent deliveries on one queue, ${rounds.length} rounds (median, range); every round checked: nothing lost`);
  console.log(`  single uncontended update ${ms(median(singles))} (${range(singles)}); eight in turn ${ms(median(rounds.map((r) => r.serial)))} (${range(rounds.map((r) => r.serial))})`);
  line('8 enqueues of 8 changes', (r) => r.different);
  line('8 copies of one enqueue ', (r) => r.copies);
}

// --- main ------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(`gate bench: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`);
  console.log(`  ${ITEMS} items, ${ROUNDS} rounds of concurrent deliveries; projects ${PROJECT}, ${INPROCESS_PROJECT}`);
  console.log(`  workflow-completed: node ${nodeFlags().join(' ') || '(no flags)'}`);
  stack = await startPipelineStack(rig, PARENT);
  let served: Served | undefined;
  try {
    await configuredProject(rig, stack, PROJECT, CONFIG);
    await configuredProject(rig, stack, INPROCESS_PROJECT, CONFIG);
    const push = (project: string, count: number, kind: string) =>
      mapWithConcurrency([...Array(count).keys()], 4, (i) => pushChange(adminConnection, project, { [`${kind}${i}.txt`]: `${i}\n` }, `Bench ${kind} change ${i}`));
    const [gated, bare] = [await push(PROJECT, ITEMS + 1, 'gated'), await push(PROJECT, ITEMS + 1, 'bare')];
    const inProcess = await push(INPROCESS_PROJECT, ITEMS + 1, 'gated');
    await mapWithConcurrency(bare, 4, (change) =>
      adminRest.json('POST', `changes/${encodeId(`${PROJECT}~${change._number}`)}/revisions/current/review`, { body: { labels: { 'Code-Review': 2 }, notify: 'NONE' } }),
    );
    served = await serveWorkflowCompleted(stack.env['workflow-completed']);
    const calls: Call[] = [];
    const handler = await inProcessHandler(calls, inProcess[0]!);

    interface Item {
      served: Merged;
      eventId: string;
      inProcess: number;
      calls: Call[];
      bare: number;
    }
    const items: Item[] = [];
    // Item 0 warms up every path (connections, discovery, JIT) and is not counted.
    for (let i = 0; i <= ITEMS; i++) {
      const [servedEvent, inProcessEvent] = await Promise.all([gatedAndRun(PROJECT, gated[i]!), gatedAndRun(INPROCESS_PROJECT, inProcess[i]!)]);
      const item: Partial<Item> = { eventId: servedEvent.id };
      const steps = [
        async () => (item.served = await timedGate(served!.port, gated[i]!, servedEvent)),
        async () => {
          calls.length = 0;
          const started = performance.now();
          await handler.handle({ specversion: '1.0', type: inProcessEvent.type, id: inProcessEvent.id, source: inProcessEvent.source, data: inProcessEvent.data });
          const info = await statusOf(inProcess[i]!);
          item.inProcess = performance.now() - started;
          if (info.status !== 'MERGED') throw new Error(`change ${inProcess[i]!._number} is ${info.status} after the handler`);
          item.calls = [...calls];
        },
        async () => (item.bare = await timedBare(bare[i]!)),
      ];
      // The three in turn, each first and last as often as the others.
      for (let k = 0; k < 3; k++) {
        await sleep(QUIET_MS);
        await steps[(i + k) % 3]!();
      }
      if (i === 0) continue;
      items.push(item as Item);
      console.log(
        `  item ${String(i).padStart(2)}: served ${ms(item.served!.total)} (answered ${ms(item.served!.answered)}), in-process ${ms(item.inProcess!)}, bare ${ms(item.bare!)}; ×${(item.served!.total / item.bare!).toFixed(2)}`,
      );
    }
    // An item counts when both handlers did the whole work themselves: the vote, the submit, merged. (Another
    // delivery of the same run, such as a reconcile pass of another session, may have done it first.)
    served.child.kill('SIGTERM');
    await new Promise((resolve) => (served!.child.exitCode !== null ? resolve(undefined) : served!.child.once('exit', resolve)));
    const carried = carriedByEvent(served.logFile);
    const counted = items.filter(
      (item) => /posted merged/.test(carried.get(item.eventId) ?? '') && item.calls.some((c) => c.what === 'gerrit postReview') && item.calls.some((c) => c.what === 'gerrit submit'),
    );
    const m = median(counted.map((g) => g.served.total));
    const inp = median(counted.map((g) => g.inProcess));
    const b = median(counted.map((g) => g.bare));
    console.log(`head workflow.completed → MERGED, ${counted.length} of ${items.length} items counted (median, range):`);
    console.log(`  served workflow-completed ${ms(m)} (${range(counted.map((g) => g.served.total))}); to its answer ${ms(median(counted.map((g) => g.served.answered)))}`);
    console.log(`  the same handler in this process ${ms(inp)} (${range(counted.map((g) => g.inProcess))})`);
    console.log(`  bare review + submit + read ${ms(b)} (${range(counted.map((g) => g.bare))})`);
    console.log(`  ratio served / bare ×${(m / b).toFixed(2)} (target ≤ ×1.3; median of the items' ratios ×${median(counted.map((g) => g.served.total / g.bare)).toFixed(2)}); in-process / bare ×${(inp / b).toFixed(2)}`);

    // Where the in-process handler's time went, call by call.
    const perCall = new Map<string, number[]>();
    const phases = new Map<string, number[]>();
    let order: string[] = [];
    for (const { calls: made } of counted) {
      const seen = new Map<string, number>();
      const keys = made.map((call) => {
        const n = (seen.get(call.what) ?? 0) + 1;
        seen.set(call.what, n);
        return `${call.what} #${n}`;
      });
      if (keys.length > order.length) order = keys;
      made.forEach((call, i) => perCall.set(keys[i]!, [...(perCall.get(keys[i]!) ?? []), call.ms]));
      const vote = made.findIndex((c) => c.what === 'gerrit postReview');
      const submit = made.findIndex((c) => c.what === 'gerrit submit');
      const sum = (from: number, to: number) => made.slice(from, to).reduce((t, c) => t + c.ms, 0);
      const parts: [string, number][] = [
        ['before the vote: read the run, store run-finished (GET, PUT), claim (Lease CREATE)', sum(0, vote)],
        ['the vote (review POST)', sum(vote, vote + 1)],
        ['between the vote and the submit', sum(vote + 1, submit)],
        ['the submit (POST)', sum(submit, submit + 1)],
        ["after, side by side: the claim recorded done (Lease PATCH), the queue's update (PUT; summed)", sum(submit + 1, made.length)],
        ['all calls (summed, though some overlap)', sum(0, made.length)],
      ];
      for (const [what, value] of parts) phases.set(what, [...(phases.get(what) ?? []), value]);
    }
    console.log(`breakdown of the in-process handler (median per call over the counted items, in the order made):`);
    for (const key of order) console.log(`  ${key.padEnd(40)} ${ms(median(perCall.get(key)!))}  (${perCall.get(key)!.length} of ${counted.length})`);
    for (const [what, values] of phases) console.log(`  ${what.padEnd(84)} ${ms(median(values))} (${range(values)})`);

    await queueRounds();
  } finally {
    served?.child.kill('SIGTERM');
    await stack.stop();
    for (const project of [PROJECT, INPROCESS_PROJECT]) {
      await stack.cluster.delete(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, stack.env['comment-added'].SEAKEEPER_NAMESPACE!, queueObjectName(PIPELINE, `${project} master`));
    }
    await deleteNamespacesOf(stack.cluster, [PROJECT, INPROCESS_PROJECT]);
    await hideProjects(adminConnection, [PARENT, PROJECT, INPROCESS_PROJECT]);
    gerritAgent.destroy();
    functionAgent.destroy();
  }
}

await main();
