// gerrit-stream's loop in this process against the rig's real Gerrit (`gerrit stream-events` over SSH, REST for
// recovery) and real kube-apiserver (the checkpoint ConfigMap); the sink is the Broker STAND-IN of
// support/broker.ts. The adapter streams as an account of its own in the rig's "Seakeeper CI" group (which
// holds the Stream Events capability), so that closing its SSH sessions disturbs no other test.
// rig: parallel (test/run.ts): an account, project and namespace of its own; it closes its own account's SSH sessions only
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CloudEvent } from 'cloudevents';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Secret } from '../../shared/env.js';
import { ConfigMapCheckpointStore, type ConfigMap } from '../../shared/events/checkpoint-store.js';
import { gerritEventId } from '../../shared/events/gerrit-cloudevents.js';
import { parseGerritEvent, type JsonObject } from '../../shared/events/gerrit-event.js';
import { HttpSink } from '../../shared/events/sink.js';
import { sshStreamEvents, type OpenStream, type StreamSession } from '../../shared/events/ssh-stream.js';
import { GerritStreamAdapter, type RecoverySummary, type StreamAdapterOptions } from '../../shared/events/stream-adapter.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import { encodeId, GerritRest, type GerritConnection } from '../../shared/gerrit/rest.js';
import { ClusterClient } from '../../shared/k8s/cluster.js';
import { captureLog } from '../unit/support/capture.js';
import { BrokerStandIn } from './support/broker.js';
import { createProject, pushChange, pushDirect } from '../../dev/gerrit-chores.js';
import { createAccount, rigConnections } from './support/gerrit.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { closeConnectionsOf, sshKeyPair, type SshTarget } from './support/ssh.js';
import { eventually } from './support/wait.js';

const run = promisify(execFile);
const rig = loadRig();
const { admin: adminConnection } = rigConnections(rig);
const admin = new GerritClient(adminConnection);
const cluster = ClusterClient.fromKubeconfigFile(rig.KUBECONFIG);
const suffix = uniqueSuffix();
/** The rig's group with the Stream Events capability (test/rig/rig.sh). */
const STREAM_GROUP = 'Seakeeper CI';
const SSH_HOST = process.env.GERRIT_SSH_HOST!;
const SSH_PORT = Number(process.env.GERRIT_SSH_PORT);
const SOURCE = new URL(rig.GERRIT_URL).href;
const NAMESPACE = `seakeeper-it-stream-${suffix}`;
const CHECKPOINT = 'gerrit-stream-checkpoint';
const PROJECT = `seakeeper-it-stream-${suffix}`;
const QUIET_MS = 1_500;
const OPTIONS: StreamAdapterOptions = {
  reconnect: { baseMs: 200, capMs: 1_000 },
  retry: { baseMs: 100, capMs: 1_000 },
  persistIntervalMs: 300,
  // Small pages, so that recovery pages (and runs its catch-up query) even on a quiet rig.
  recoveryPageSize: 2,
  maxLineBytes: 64 * 1024,
};

let work: string;
let broker: BrokerStandIn;
let streamer: { username: string; accountId: number; connection: GerritConnection; privateKeyPath: string };
let ops: SshTarget;

test.before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'seakeeper-stream-it-'));
  broker = await BrokerStandIn.start();
  const streamKey = await sshKeyPair(work, 'stream');
  const opsKey = await sshKeyPair(work, 'ops');
  const username = `seakeeper-it-stream-${suffix}`;
  const password = randomBytes(16).toString('hex');
  const account = await createAccount(adminConnection, { username, groups: [STREAM_GROUP], sshKey: streamKey.publicKey, httpPassword: password });
  streamer = {
    username,
    accountId: account._account_id,
    connection: { baseUrl: rig.GERRIT_URL, username, password: new Secret(password) },
    privateKeyPath: streamKey.privateKeyPath,
  };
  // An administrator with an SSH key, to close the streamer's sessions the way an operator would.
  const opsUser = `seakeeper-it-ops-${suffix}`;
  await createAccount(adminConnection, { username: opsUser, groups: ['Administrators'], sshKey: opsKey.publicKey });
  ops = { host: SSH_HOST, port: SSH_PORT, user: opsUser, privateKeyPath: opsKey.privateKeyPath };
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
});

test.after(async () => {
  // Gerrit keeps accounts; deactivated, the test's administrator and streamer can no longer log in.
  for (const username of [streamer?.username, ops?.user]) {
    if (username) await new GerritRest(adminConnection).request('DELETE', `accounts/${encodeId(username)}/active`).catch(() => undefined);
  }
  await broker?.close();
  await cluster.delete('v1', 'Namespace', undefined, NAMESPACE).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

/** Holds new connections while closed, so that the test can act while the adapter is disconnected. */
function gated(open: OpenStream) {
  let opened: Promise<void> = Promise.resolve();
  let release = () => {};
  const openStream: OpenStream = (handlers) => {
    let session: StreamSession | undefined;
    let cancelled = false;
    void opened.then(() => {
      if (cancelled) handlers.onEnd('cancelled before it opened');
      else session = open(handlers);
    });
    return {
      close: () => {
        cancelled = true;
        session?.close();
      },
      pause: () => session?.pause(),
      resume: () => session?.resume(),
    };
  };
  return {
    openStream,
    hold: () => (opened = new Promise<void>((resolve) => (release = resolve))),
    release: () => release(),
  };
}

/** Adds `lines` to the first chunk of every session: what Gerrit itself never sends. */
function injecting(open: OpenStream, lines: string): OpenStream {
  return (handlers) =>
    open({
      ...handlers,
      onOpen: () => {
        handlers.onOpen();
        handlers.onData(Buffer.from(lines));
      },
    });
}

function adapter(openStream: OpenStream, options: StreamAdapterOptions = {}) {
  const captured = captureLog();
  const instance = new GerritStreamAdapter({
    openStream,
    sink: new HttpSink(broker.url, { timeoutMs: 2_000 }),
    gerrit: new GerritClient(streamer.connection),
    store: new ConfigMapCheckpointStore(cluster, NAMESPACE, CHECKPOINT),
    source: SOURCE,
    logger: captured.logger,
    options: { ...OPTIONS, ...options },
  });
  return { adapter: instance, log: captured };
}

async function streamOf(logger = captureLog().logger): Promise<OpenStream> {
  return sshStreamEvents({ host: SSH_HOST, port: SSH_PORT, username: streamer.username, privateKey: await readFile(streamer.privateKeyPath), logger });
}

const once = <T>(emitter: GerritStreamAdapter, name: 'connected' | 'recovered'): Promise<T> =>
  new Promise((resolve) => emitter.once(name, (...args: unknown[]) => resolve(args[0] as T)));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ofType = (type: string, change?: number) =>
  broker.of(PROJECT).filter((e) => e.type === type && (change === undefined || e.gerritchange === String(change)));

async function arrived(type: string, change?: number): Promise<CloudEvent<unknown>> {
  await broker.waitFor(() => ofType(type, change).length > 0, `${type} for ${PROJECT} ${change ?? ''}`);
  return ofType(type, change)[0]!;
}

/** No event of the project arrived twice (by id) — after a quiet spell in which a duplicate would have come. */
async function eachOnce(): Promise<void> {
  await sleep(QUIET_MS);
  const ids = broker.of(PROJECT).map((e) => e.id);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  assert.equal(twice, [], 'no event of the project was delivered twice');
}

function expectedId(event: CloudEvent<unknown>): string {
  const parsed = parseGerritEvent(event.data);
  assert.ok(parsed.ok && parsed.event.kind !== 'dropped-output', 'data is the Gerrit event');
  return gerritEventId(parsed.event as Parameters<typeof gerritEventId>[0]);
}

const current = { gate: undefined as ReturnType<typeof gated> | undefined, adapter: undefined as GerritStreamAdapter | undefined };
let firstChange = 0;

test('streamed: a patchset, Code-Review+2, a refs/meta/config change and a submit arrive as their CloudEvents', async () => {
  const gate = gated(await streamOf());
  const { adapter: first } = adapter(gate.openStream);
  current.gate = gate;
  current.adapter = first;
  const connected = once(first, 'connected');
  await first.start();
  await connected;

  await createProject(adminConnection, PROJECT);
  const change = await pushChange(adminConnection, PROJECT, { 'README.md': 'hi\n' }, 'Add a README');
  firstChange = change._number;
  const created = await arrived('gerrit.patchset-created', firstChange);
  assert.equal(
    { source: created.source, subject: created.subject, id: created.id, project: created.gerritproject, patchset: created.gerritpatchset, branch: created.gerritbranch },
    { source: SOURCE, subject: `${PROJECT}/${firstChange}/1`, id: expectedId(created), project: PROJECT, patchset: '1', branch: 'master' },
  );

  await admin.postReview(`${PROJECT}~${firstChange}`, 'current', { labels: { 'Code-Review': 2 }, notify: 'NONE' });
  const commented = await arrived('gerrit.comment-added', firstChange);
  assert.ok(((commented.data as JsonObject).approvals as JsonObject[]).some((a) => a.type === 'Code-Review' && a.value === '2'));

  await pushDirect(adminConnection, PROJECT, 'refs/meta/config', { 'seakeeper.yaml': '# placeholder\n' }, 'Add seakeeper.yaml');
  await arrived('project.config-changed');

  await admin.submit(`${PROJECT}~${firstChange}`);
  const merged = await arrived('gerrit.change-merged', firstChange);
  assert.is(merged.id, expectedId(merged));
  await eachOnce();
});

test('cut by Gerrit (close-connection): what happens while disconnected arrives exactly once after the reconnect', async () => {
  const gate = current.gate!;
  const running = current.adapter!;
  gate.hold();
  const disconnected = new Promise((resolve) => running.once('disconnected', resolve));
  assert.ok((await closeConnectionsOf(ops, streamer.accountId)) >= 1, 'the adapter had a session to close');
  await disconnected;

  const missed = [
    await pushChange(adminConnection, PROJECT, { 'a.txt': 'a\n' }, 'Pushed while disconnected'),
    await pushChange(adminConnection, PROJECT, { 'b.txt': 'b\n' }, 'Also pushed while disconnected'),
  ];
  await admin.postReview(`${PROJECT}~${missed[0]!._number}`, 'current', { message: 'recheck', notify: 'NONE' });
  assert.ok(missed.every((c) => ofType('gerrit.patchset-created', c._number).length === 0), 'nothing arrived while disconnected');

  const recovered = once<RecoverySummary>(running, 'recovered');
  gate.release();
  const summary = await recovered;
  assert.is(summary.reason, 'connected');
  assert.ok(summary.sent >= 3, JSON.stringify(summary));
  assert.ok(summary.known >= 3, `what was streamed before is known: ${JSON.stringify(summary)}`);
  for (const change of missed) await arrived('gerrit.patchset-created', change._number);
  const recheck = await arrived('gerrit.comment-added', missed[0]!._number);
  assert.is((recheck.data as JsonObject).comment, 'Patch Set 1:\n\nrecheck');
  await eachOnce();

  // And it streams again.
  const after = await pushChange(adminConnection, PROJECT, { 'c.txt': 'c\n' }, 'Pushed after the reconnect');
  await arrived('gerrit.patchset-created', after._number);
  await eachOnce();
});

test('stopped and started again: the checkpoint is in the ConfigMap, and what happened meanwhile arrives exactly once', async () => {
  const running = current.adapter!;
  await running.stop();
  const stored = await cluster.get<ConfigMap>('v1', 'ConfigMap', NAMESPACE, CHECKPOINT);
  assert.is(stored?.data?.checkpoint, String(running.checkpoint));
  assert.match(stored?.data?.forwarded ?? '', /patchset-created-/);

  const missed = await pushChange(adminConnection, PROJECT, { 'd.txt': 'd\n' }, 'Pushed while stopped');
  await admin.postReview(`${PROJECT}~${missed._number}`, 'current', { labels: { 'Code-Review': 1 }, notify: 'NONE' });
  await sleep(500);
  assert.is(ofType('gerrit.patchset-created', missed._number).length, 0, 'nothing arrived while stopped');

  const { adapter: second } = adapter(await streamOf());
  current.adapter = second;
  const recovered = once<RecoverySummary>(second, 'recovered');
  await second.start();
  const summary = await recovered;
  assert.ok(summary.sent >= 2 && summary.known >= 3, JSON.stringify(summary));
  await arrived('gerrit.patchset-created', missed._number);
  const vote = await arrived('gerrit.comment-added', missed._number);
  assert.ok(((vote.data as JsonObject).approvals as JsonObject[]).some((a) => a.type === 'Code-Review' && a.value === '1'));
  await eachOnce();
  await second.stop();
});

test('malformed and oversized lines are logged and skipped, the stream goes on; dropped-output recovers', async () => {
  const oversized = `{"type":"comment-added","comment":"${'x'.repeat(OPTIONS.maxLineBytes! + 10)}"}\n`;
  const garbage = 'not json at all\n{"type":"patchset-created"}\n' + oversized + '{"type":"dropped-output"}\n';
  const { adapter: third, log } = adapter(injecting(await streamOf(), garbage));
  const recovered = once<RecoverySummary>(third, 'recovered');
  const dropped = new Promise<RecoverySummary>((resolve) => {
    third.on('recovered', (summary) => summary.reason === 'dropped-output' && resolve(summary));
  });
  await third.start();
  await recovered;
  await dropped;
  const change = await pushChange(adminConnection, PROJECT, { 'e.txt': 'e\n' }, 'After the garbage');
  await arrived('gerrit.patchset-created', change._number);
  await third.stop();
  const skipped = log.lines().filter((l) => l.outcome === 'skipped').map((l) => String(l.reason));
  assert.is(skipped.length, 3, skipped.join('\n'));
  assert.match(skipped[0]!, /^malformed JSON/);
  assert.match(skipped[1]!, /patchset-created/);
  assert.match(skipped[2]!, /exceeds the 65536-byte limit/);
  await eachOnce();
});

test('the checkpoint store: created when absent, compare-and-swap with a re-read when another write came first', async () => {
  const name = `cas-${suffix}`;
  const one = new ConfigMapCheckpointStore(cluster, NAMESPACE, name);
  const other = new ConfigMapCheckpointStore(cluster, NAMESPACE, name);
  assert.equal(await one.load(), { checkpoint: undefined, forwarded: undefined, problems: [] });
  await other.load();
  await one.save(100, { v: 1, seen: {} });
  // `other` still believes the ConfigMap absent: its create conflicts, it re-reads and patches.
  await other.save(200, { v: 1, seen: { 'patchset-created-0000000000000000000000000000000000000000': [200] } });
  await one.save(300, { v: 1, seen: {} }); // `one` holds a stale resourceVersion now
  const stored = await new ConfigMapCheckpointStore(cluster, NAMESPACE, name).load();
  assert.is(stored.checkpoint, 300);
  await cluster.patch<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NAMESPACE }, data: { checkpoint: 'soon' } }, (await cluster.get<ConfigMap>('v1', 'ConfigMap', NAMESPACE, name))!.metadata.resourceVersion!);
  assert.equal((await new ConfigMapCheckpointStore(cluster, NAMESPACE, name).load()).problems, ['checkpoint is not a number of seconds']);
});

test('the host key: accepted and logged by default, as ssh-keygen prints it; pinned, a mismatch never connects', async () => {
  const privateKey = await readFile(streamer.privateKeyPath);
  const attempt = (hostKeyFingerprint?: string) =>
    new Promise<{ opened: boolean; reason: string; lines: Record<string, unknown>[] }>((resolve) => {
      const captured = captureLog();
      let opened = false;
      const session = sshStreamEvents({
        host: SSH_HOST,
        port: SSH_PORT,
        username: streamer.username,
        privateKey,
        ...(hostKeyFingerprint ? { hostKeyFingerprint } : {}),
        logger: captured.logger,
      })({
        onOpen: () => {
          opened = true;
          session.close();
        },
        onData: () => {},
        onEnd: (reason) => resolve({ opened, reason, lines: captured.lines() }),
      });
    });
  const accepted = await attempt();
  assert.ok(accepted.opened, accepted.reason);
  const fingerprint = String(accepted.lines.find((line) => line.hostKey)?.hostKey);
  const { stdout } = await run('sh', ['-c', `ssh-keyscan -p ${SSH_PORT} ${SSH_HOST} 2>/dev/null | ssh-keygen -lf -`]);
  assert.ok(stdout.split('\n').some((line) => line.split(' ')[1] === fingerprint), `${fingerprint} is one of:\n${stdout}`);
  assert.ok((await attempt(fingerprint)).opened, 'the pinned key connects');
  const refused = await attempt(`SHA256:${'A'.repeat(43)}`);
  assert.not.ok(refused.opened, 'a mismatch does not connect');
  assert.ok(refused.lines.some((line) => line.msg === 'SSH host key does not match GERRIT_SSH_HOST_KEY'));
});

test('the process: sources/gerrit-stream/main.ts streams, and SIGTERM stops it with the checkpoint written', async () => {
  const name = `main-${suffix}`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('sources/gerrit-stream/main.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      GERRIT_URL: rig.GERRIT_URL,
      GERRIT_USER: streamer.username,
      GERRIT_PASSWORD: streamer.connection.password.reveal(),
      GERRIT_SSH_HOST: SSH_HOST,
      GERRIT_SSH_PORT: String(SSH_PORT),
      GERRIT_SSH_KEY: streamer.privateKeyPath,
      K_SINK: broker.url,
      SEAKEEPER_NAMESPACE: NAMESPACE,
      GERRIT_STREAM_CHECKPOINT: name,
      KUBECONFIG: rig.KUBECONFIG,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await eventually(async () => assert.match(output, '"outcome":"connected"'), 30_000);
    const change = await pushChange(adminConnection, PROJECT, { 'f.txt': 'f\n' }, 'Through the process');
    await arrived('gerrit.patchset-created', change._number);
    await eventually(async () => assert.ok(await cluster.get('v1', 'ConfigMap', NAMESPACE, name)), 10_000);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, output);
  assert.match(output, '"outcome":"stopped"');
  assert.match(output, /"hostKey":"SHA256:/);
  assert.not.match(output, streamer.connection.password.reveal());
  await eachOnce();
});

test('the process refuses to start without its configuration, naming every variable', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('sources/gerrit-stream/main.ts')], {
    env: { PATH: process.env.PATH ?? '', GERRIT_SSH_KEY: path.join(work, 'no-such-key') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.is(code, 1);
  for (const name of ['GERRIT_URL', 'GERRIT_USER', 'GERRIT_PASSWORD', 'GERRIT_SSH_HOST', 'K_SINK', 'SEAKEEPER_NAMESPACE', 'KUBECONFIG']) {
    assert.match(output, name);
  }
  assert.match(output, 'GERRIT_SSH_KEY names a file that cannot be read (ENOENT)');
});

test.run();
