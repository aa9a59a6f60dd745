// `make dev`'s stack end to end: dev/stack.ts started as `make dev` starts it (after the rig), with its Broker
// STAND-IN routing by the Triggers in knative/eventing and its ApiServerSource STAND-IN watching Workflows — so
// the production Trigger filters are on the path of every event here, not a test's own deliveries. The demo
// project the stack sets up gets a change pushed to the rig's real Gerrit; Gerrit's webhooks plugin (the rig's
// stand-in) sends it to gerrit-webhook, and from there everything moves by itself: Workflow created → run by the
// rig's real Argo controller on its fake nodes, ending as the change's subject asks (the demo's "[fail]") →
// workflow-watch → workflow-completed → the Verified vote on the change. No step is done by hand. Then Ctrl-C must
// stop every process the stack started.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEMO_PROJECT, FAIL_MARK } from '../../dev/demo.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import type { ChangeInfo } from '../../shared/gerrit/types.js';
import { ClusterClient } from '../../shared/k8s/cluster.js';
import type { LiveWorkflow } from '../../shared/runs/workflow.js';
import { namespaceFor } from '../../shared/names.js';
import { isListening } from '../../dev/serve-function.js';
import { newChangeId, pushPatchSet, whoAmI } from '../../dev/gerrit-chores.js';
import { rigConnections } from './support/gerrit.js';
import { runsIn, verifiedBy } from './support/pipelines.js';
import { loadRig } from './support/rig.js';
import { eventually } from './support/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const READY_LINE = 'Use the rig from another shell';
const FUNCTION_COUNT = readdirSync(path.join(ROOT, 'functions'), { withFileTypes: true }).filter((e) => e.isDirectory()).length;

const rig = loadRig();
const { admin: adminConnection, bot: botConnection } = rigConnections(rig);
const cluster = ClusterClient.fromKubeconfigFile(rig.KUBECONFIG);
const bot = new GerritClient(botConnection);
const namespace = namespaceFor(DEMO_PROJECT);

/** A base port whose next FUNCTION_COUNT ports are all free, away from the stack's default 8081. */
async function freeRange(): Promise<number> {
  for (;;) {
    // Below Linux's ephemeral range (32768 up), where outgoing connections take local ports at any moment.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const taken = await Promise.all(Array.from({ length: FUNCTION_COUNT }, (_, i) => isListening(base + i)));
    if (!taken.some(Boolean)) return base;
  }
}

interface Stack {
  child: ChildProcess;
  basePort: number;
  output(): string;
  exited: Promise<number | null>;
}

async function startStack(): Promise<Stack> {
  const basePort = await freeRange();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'dev/stack.ts')], {
    cwd: ROOT,
    env: { ...process.env, DEV_BASE_PORT: String(basePort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stack = { child, basePort, output: () => output, exited };
  const ready = eventually(async () => {
    if (!output.includes(READY_LINE)) throw new Error(`the stack is not ready yet:\n${output}`);
  }, 120_000, 500);
  const died = exited.then((code) => Promise.reject(new Error(`the stack exited with ${code} before it was ready:\n${output}`)));
  await Promise.race([ready, died]);
  return stack;
}

let stack: Stack | undefined;
let botAccount = 0;


test.after(async () => {
  if (stack && stack.child.exitCode === null) {
    stack.child.kill('SIGKILL');
    await stack.exited;
  }
});

/** Waits for the change's `count`th run in the check pipeline, created by the stack on its own. */
async function nthRun(change: number, count: number): Promise<LiveWorkflow> {
  return eventually(async () => {
    const runs = await runsIn(cluster, DEMO_PROJECT, change);
    if (runs.length < count) throw new Error(`change ${change} has ${runs.length} runs, waiting for ${count}:\n${stack!.output()}`);
    return runs[count - 1]!;
  }, 60_000, 500);
}

/** Waits until the bot's vote on the change is `value` and returns the change. */
async function voted(change: number, value: number): Promise<ChangeInfo> {
  return eventually(async () => {
    const info = await bot.getChange(`${DEMO_PROJECT}~${change}`, ['DETAILED_LABELS', 'MESSAGES']);
    if (verifiedBy(info, botAccount) !== value) throw new Error(`Verified ${verifiedBy(info, botAccount)}, waiting for ${value}:\n${stack!.output()}`);
    return info;
  }, 60_000, 500);
}

test('the stack serves every function on its own port and provisions the demo project through the webhook', async () => {
  botAccount = (await whoAmI(botConnection))._account_id;
  stack = await startStack();
  for (let i = 0; i < FUNCTION_COUNT; i++) assert.ok(await isListening(stack!.basePort + i), `port ${stack!.basePort + i}`);
  assert.match(stack!.output(), /routing by \d+ Triggers from knative\/eventing/);
  // The demo's refs/meta/config push went Gerrit → gerrit-webhook → Broker stand-in → project-config-changed.
  await eventually(async () => {
    const account = await cluster.get('v1', 'ServiceAccount', namespace, 'workflow');
    if (!account) throw new Error(`no ServiceAccount workflow in ${namespace} yet:\n${stack!.output()}`);
  }, 60_000, 500);
});

test('a pushed patchset runs the demo Workflow by itself; a failing one, a fixed patchset and a recheck come back as votes', async () => {
  const changeId = newChangeId();
  const change = await pushPatchSet(adminConnection, DEMO_PROJECT, changeId, { 'README': `Tried at ${new Date().toISOString()}\n` }, `Try Seakeeper through make dev ${FAIL_MARK}`);
  const first = await nthRun(change._number, 1);
  assert.is(first.metadata.labels?.['seakeeper.dev/patchset'], '1');
  const failed = await voted(change._number, -1);
  assert.ok(failed.messages?.some((m) => m.tag === 'autogenerated:seakeeper-check' && m.message.includes('Build failed')), 'the failure report');

  // Patchset 2 without the mark passes.
  await pushPatchSet(adminConnection, DEMO_PROJECT, changeId, { 'README': 'Fixed\n' }, 'Try Seakeeper through make dev');
  const second = await nthRun(change._number, 2);
  assert.is(second.metadata.labels?.['seakeeper.dev/patchset'], '2');
  await voted(change._number, 1);

  // A recheck goes through comment-added's Trigger (a different filter) and is reported on its own.
  await new GerritClient(adminConnection).postReview(`${DEMO_PROJECT}~${change._number}`, 'current', { message: 'recheck', notify: 'NONE' });
  const third = await nthRun(change._number, 3);
  assert.is.not(third.metadata.name, second.metadata.name);
  const passed = await eventually(async () => {
    const info = await bot.getChange(`${DEMO_PROJECT}~${change._number}`, ['DETAILED_LABELS', 'MESSAGES']);
    const count = info.messages?.filter((m) => m.tag === 'autogenerated:seakeeper-check' && /Build (succeeded|failed)/.test(m.message)).length ?? 0;
    if (count < 3) throw new Error(`${count} reports, waiting for 3:\n${stack!.output()}`);
    return info;
  }, 60_000, 500);
  const reports = passed.messages?.filter((m) => m.tag === 'autogenerated:seakeeper-check' && /Build (succeeded|failed)/.test(m.message)) ?? [];
  assert.is(reports.length, 3, 'one report per run, none twice');
  assert.is(verifiedBy(passed, botAccount), 1);
  assert.is((await runsIn(cluster, DEMO_PROJECT, change._number)).length, 3);
});

test('Ctrl-C stops every function process the stack started', async () => {
  stack!.child.kill('SIGINT');
  assert.is(await stack!.exited, 0);
  for (let i = 0; i < FUNCTION_COUNT; i++) assert.not.ok(await isListening(stack!.basePort + i), `port ${stack!.basePort + i} still listening`);
});

test.run();
