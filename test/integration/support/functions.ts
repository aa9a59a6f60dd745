// Serves one Seakeeper function the way production does — the functions-framework CLI in a process of its own,
// configured only by its environment — on a free loopback port, from the TypeScript sources (through tsx, so
// no build is needed; at run time the code is the same).
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer, connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFlagsOf } from '../../support/manifests.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The functions-framework CLI's script. */
export const FRAMEWORK_MAIN = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')),
  'main.js',
);
const START_TIMEOUT_MS = 30_000;

export interface ServedFunction {
  port: number;
  /** `http://127.0.0.1:PORT/` */
  url: string;
  /** Everything the process wrote so far (its log lines). */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts connections on the loopback port. */
export const isListening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });

/**
 * node's arguments for the functions-framework CLI serving `target` on `port` from the TypeScript sources, with
 * the node flags its Knative Service starts node with.
 */
export function functionArgs(target: string, port: number): string[] {
  return [...nodeFlagsOf(target), '--import', 'tsx', FRAMEWORK_MAIN, `--source=${path.join(ROOT, 'functions/index.ts')}`, `--target=${target}`, `--port=${port}`];
}

/** Resolves once something listens on `port`; rejects when `child` exits first, or after `timeoutMs`. */
export async function waitForListening(port: number, child: ChildProcess, what: string, { timeoutMs = START_TIMEOUT_MS, pollMs = 100 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await isListening(port)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** The functions-framework CLI serving `target` on `port`, with exactly `env` (plus PATH); its output collected. */
function spawnFunction(target: string, port: number, env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, functionArgs(target, port), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Starts `target`; resolves once it listens, rejects with its output if it exits first. */
export async function serveFunction(target: string, env: Record<string, string>): Promise<ServedFunction> {
  const port = await freePort();
  const { child, exited, output } = spawnFunction(target, port, env);
  try {
    await waitForListening(port, child, target);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}:\n${output()}`);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs `target` expecting it to refuse to start; resolves with its exit code and output. */
export async function failedStart(target: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const { child, exited, output } = spawnFunction(target, await freePort(), env);
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: output() };
}
