// How a Seakeeper function is served outside Knative — the functions-framework CLI in a process of its own, from
// the TypeScript sources through tsx (no build step; at run time the code is the same), with the node flags of its
// Knative Service — and how to tell it is up. `make dev` serves every function so; the integration tests and the
// bench serve one at a time the same way.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES_DIR = path.join(ROOT, 'knative/services');
const NODE_COMMAND_PATCH = 'pipeline-patch.yaml';
/** How long a function may take to listen (tsx compiles its sources first). */
export const START_TIMEOUT_MS = 30_000;

/** The functions-framework CLI's script. */
export const FRAMEWORK_MAIN = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')),
  'main.js',
);

/**
 * The flags node starts with in `fn`'s Knative Service: those of knative/services/pipeline-patch.yaml's command
 * where its kustomize target selects `fn`, else none. Tests, the bench and `make dev` start each function so;
 * manifests-check proves this agrees with the rendered Services.
 */
export function nodeFlagsOf(fn: string): string[] {
  const kustomization = parseYaml(readFileSync(path.join(SERVICES_DIR, 'kustomization.yaml'), 'utf8')) as { patches?: { path?: string; target?: { name?: string } }[] };
  const entry = kustomization.patches?.find((p) => p.path === NODE_COMMAND_PATCH);
  if (!entry?.target?.name || !new RegExp(entry.target.name).test(fn)) return [];
  const [op] = parseYaml(readFileSync(path.join(SERVICES_DIR, NODE_COMMAND_PATCH), 'utf8')) as { value: string[] }[];
  return op!.value.filter((arg) => arg.startsWith('--'));
}

/**
 * node's arguments for the functions-framework CLI serving `target` on `port` from the TypeScript sources, with
 * the node flags its Knative Service starts node with.
 */
export function functionArgs(target: string, port: number): string[] {
  return [...nodeFlagsOf(target), '--import', 'tsx', FRAMEWORK_MAIN, `--source=${path.join(ROOT, 'functions/index.ts')}`, `--target=${target}`, `--port=${port}`];
}

/** A loopback port nothing listens on now (the OS's choice). */
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
