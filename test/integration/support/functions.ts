// Serves one Seakeeper function the way production does — the functions-framework CLI in a process of its own,
// configured only by its environment — on a free loopback port, as dev/serve-function.ts starts it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, functionArgs, START_TIMEOUT_MS, waitForListening } from '../../../dev/serve-function.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ServedFunction {
  port: number;
  /** `http://127.0.0.1:PORT/` */
  url: string;
  /** Everything the process wrote so far (its log lines). */
  output(): string;
  stop(): Promise<void>;
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
