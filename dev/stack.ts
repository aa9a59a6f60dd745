// `make dev`: serves every function in functions/ as its own functions-framework process on its own port,
// against the rig's servers (the Makefile sources .rig/env first), until Ctrl-C stops them all.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { httpClusterFromEnv } from '../shared/k8s/http-cluster.js';
import { Secret } from '../shared/env.js';
import { log } from '../shared/log.js';
import { namespaceFor } from '../shared/names.js';
import { loadRouting, startBroker } from './broker.js';
import { DEMO_PARENT, DEMO_PROJECT, FAIL_MARK, setUpDemo } from './demo.js';
import { watchWorkflows } from './workflow-source.js';
import { functionArgs, waitForListening } from './serve-function.js';

const SYSTEM_NAMESPACE = 'seakeeper-system';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const basePort = Number(process.env.DEV_BASE_PORT ?? 8081);
if (!Number.isInteger(basePort) || basePort < 1024 || basePort > 65000) {
  console.error(`DEV_BASE_PORT must be an integer between 1024 and 65000, got ${process.env.DEV_BASE_PORT}`);
  process.exit(2);
}

const functionNames = readdirSync(path.join(root, 'functions'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

const children: ChildProcess[] = [];
let stopping = false;

function serve(name: string, port: number): ChildProcess {
  // From the TypeScript sources through tsx, as the integration tests serve them (with the node flags of its
  // Knative Service): no build step, and an edit is picked up by restarting `make dev`.
  const child = spawn(process.execPath, functionArgs(name, port), {
    cwd: root,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) stream.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on('data', prefix(process.stdout));
  child.stderr?.on('data', prefix(process.stderr));
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the stack`);
      stop(1);
    }
  });
  return child;
}

const STOP_GRACE_MS = 5_000;

/** Stops every function process (SIGKILL for one still running after the grace period), then exits. */
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  const exited = running.map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
  for (const child of running) child.kill('SIGTERM');
  const kill = setTimeout(() => running.forEach((child) => child.kill('SIGKILL')), STOP_GRACE_MS);
  void Promise.all(exited).then(() => {
    clearTimeout(kill);
    process.exit(code);
  });
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const ports = new Map(functionNames.map((name, i) => [name, basePort + i]));

// STAND-INs for the Broker and the ApiServerSource (dev/broker.ts, dev/workflow-source.ts): routing by the
// Triggers in knative/eventing, so what runs here is wired as production is. Set K_SINK to send elsewhere.
const routing = loadRouting(path.join(root, 'knative/eventing'));
const broker = await startBroker({
  ...routing,
  urlOf: (service) => (ports.has(service) ? `http://127.0.0.1:${ports.get(service)}/` : undefined),
  // LOG_LEVEL, which the functions read too, decides what the stand-ins print: routine deliveries at debug.
  log: (line, level) => {
    if (log.isLevelEnabled(level)) console.log(`[broker] ${line}`);
  },
});
process.env.K_SINK ??= broker.url;
// The webhooks plugin's URL carries this as ?token=; a fresh one per `make dev` unless set.
process.env.SEAKEEPER_WEBHOOK_SECRET ??= randomBytes(24).toString('hex');
// Where review messages link runs; no Argo UI runs here (`argo server` listens on 2746 by default).
process.env.ARGO_UI_URL ??= 'https://localhost:2746/';
process.env.SEAKEEPER_NAMESPACE ??= SYSTEM_NAMESPACE;
const cluster = httpClusterFromEnv();
// dead-letter records Events in the system namespace, as in production.
await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: process.env.SEAKEEPER_NAMESPACE } });
// The cluster-wide pieces a deployment applies first: the PriorityClasses every run names (Argo fails a run whose
// class does not exist) and the owners' ClusterRoles.
await promisify(execFile)('kubectl', ['apply', '--server-side', '--force-conflicts', '--field-manager=seakeeper-dev', '-k', path.join(root, 'knative/cluster')]);
const stopWatch = watchWorkflows(cluster, process.env.K_SINK, process.env.KUBECONFIG ?? 'rig', (line) => console.log(`[workflow-source] ${line}`));
process.on('exit', stopWatch);

for (const [name, port] of ports) children.push(serve(name, port));
try {
  await announce();
} catch (err) {
  console.error(`could not set the stack up: ${err instanceof Error ? err.stack : String(err)}`);
  stop(1);
}

/** Waits for the functions, sets up the demo project, and prints what runs where and what to try. */
async function announce(): Promise<void> {
  const ready = await Promise.all(
    [...ports.values()].map((port, i) => waitForListening(port, children[i]!, `port ${port}`).then(() => true, () => false)),
  );

  console.log('\nSeakeeper functions (Ctrl-C stops them; `make rig-down` stops the rig):');
  for (const [i, [name, port]] of [...ports].entries()) {
    console.log(`  ${name.padEnd(24)} http://127.0.0.1:${port}${ready[i] ? '' : '   (not listening yet)'}`);
  }
  const webhookPort = ports.get('gerrit-webhook');
  if (webhookPort !== undefined) {
    const webhookUrl = `http://127.0.0.1:${webhookPort}/?token=${process.env.SEAKEEPER_WEBHOOK_SECRET}`;
    console.log(`\nwebhooks.config url for Gerrit: ${webhookUrl}`);
    await setUpDemo(
      { baseUrl: process.env.GERRIT_URL ?? '', username: process.env.GERRIT_ADMIN_USER ?? 'admin', password: new Secret(process.env.GERRIT_ADMIN_PASSWORD ?? 'secret') },
      webhookUrl,
    );
    const gerrit = new URL(process.env.GERRIT_URL ?? 'http://127.0.0.1/');
    console.log(`
Demo: ${DEMO_PROJECT} (under ${DEMO_PARENT}, whose webhooks.config points at gerrit-webhook) defines CI in
seakeeper.yaml + check.yaml on refs/meta/config; its namespace is ${namespaceFor(DEMO_PROJECT)}. Try:
  git clone http://admin:secret@${gerrit.host}/a/${DEMO_PROJECT} /tmp/hello && cd /tmp/hello
  echo hi > file && git add file && git commit -m "Try Seakeeper" -m "Change-Id: I$(openssl rand -hex 20)"
  git push origin HEAD:refs/for/master
  kubectl get workflows -n ${namespaceFor(DEMO_PROJECT)} -w          # the check run appears, runs and finishes
Argo's controller runs it on the rig's fake nodes; a few seconds later the Verified vote is on the change:
  curl -s -u admin:secret ${gerrit.origin}/a/changes/?q=project:${DEMO_PROJECT}\&o=LABELS
A change whose subject contains ${FAIL_MARK} fails its run (Verified -1):
  echo again >> file && git commit -am "Try a failure ${FAIL_MARK}" -m "Change-Id: I$(openssl rand -hex 20)" && git push origin HEAD:refs/for/master`);
    console.log(`Broker stand-in (K_SINK): ${process.env.K_SINK}, routing by ${routing.routes.length} Triggers from knative/eventing`);
  }
  console.log(`\nGerrit:          ${process.env.GERRIT_URL ?? '(rig env not loaded)'}  (admin / secret)`);
  console.log(`Kubernetes:      KUBECONFIG=${process.env.KUBECONFIG ?? '(rig env not loaded)'}`);
  console.log('Use the rig from another shell with: . .rig/env\n');
}
