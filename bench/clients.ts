// The two cluster clients against the rig (`make rig-up`): what each costs a fresh function process to load, make
// and use once, beside a bare node process.
//
//   npm run --silent build && tsx bench/clients.ts [-- --runs=9]
//   BENCH_NODE_FLAGS='…' replaces the node flags the pipeline Services start with (knative/services/pipeline-patch.yaml)
//
// Each sample is a fresh node process, started with the pipeline Services' flags, running from the build
// (dist/, as in production) with the rig's KUBECONFIG:
//   bare node      nothing loaded: the baseline
//   HttpCluster    import shared/k8s/http-cluster.js, httpClusterFromEnv(), one GET (Namespace `default`)
//   ClusterClient  import shared/k8s/env.js, clusterClientFromEnv(), the same GET
// The process reports its own import-and-make time and GET time, and VmRSS / RssAnon after the GET; the bench
// times the whole process from spawn to exit. The variants take turns, so load on the two cores falls on each
// alike. Figures are medians over the runs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeFlagsOf } from '../dev/serve-function.js';
import { loadRig } from '../test/integration/support/rig.js';
import { median, numericArgs } from './cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = numericArgs().runs ?? 9;

interface Sample {
  /** spawn → exit, as the bench sees it. */
  wallMs: number;
  /** import and construction, as the process sees it. */
  makeMs: number;
  getMs: number;
  rssKiB: number;
  anonKiB: number;
}

// The process's own view: `make` is what the variant loads and builds; `get` its one call.
const PROBE = `
const { readFileSync } = await import('node:fs');
const [module, factory] = JSON.parse(process.argv[1]);
const started = performance.now();
const cluster = module ? (await import(module))[factory](process.env) : undefined;
const made = performance.now();
if (cluster) await cluster.get('v1', 'Namespace', undefined, 'default');
const got = performance.now();
const status = readFileSync('/proc/self/status', 'utf8');
const kB = (field) => Number(new RegExp('^' + field + ':\\\\s+(\\\\d+) kB$', 'm').exec(status)[1]);
console.log(JSON.stringify({ makeMs: made - started, getMs: got - made, rssKiB: kB('VmRSS'), anonKiB: kB('RssAnon') }));
cluster?.close?.();
process.exit(0);
`;

const built = (module: string) => pathToFileURL(path.join(ROOT, 'dist/shared/k8s', module)).href;
const VARIANTS: readonly { name: string; load?: [string, string] }[] = [
  { name: 'bare node' },
  { name: 'HttpCluster', load: [built('http-cluster.js'), 'httpClusterFromEnv'] },
  { name: 'ClusterClient', load: [built('env.js'), 'clusterClientFromEnv'] },
];

const flags = process.env.BENCH_NODE_FLAGS !== undefined ? process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean) : nodeFlagsOf('patchset-created');

function sample(load: [string, string] | undefined, kubeconfig: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...flags, '--input-type=module', '--eval', PROBE, JSON.stringify(load ?? [])], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', KUBECONFIG: kubeconfig },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) reject(new Error(`the probe exited ${code}`));
      else resolve({ wallMs, ...(JSON.parse(out) as Omit<Sample, 'wallMs'>) });
    });
  });
}

const MODULES = VARIANTS.flatMap((v) => (v.load ? [fileURLToPath(v.load[0])] : []));
if (!MODULES.every((m) => existsSync(m))) throw new Error('no build: run npm run --silent build first');

const rig = loadRig();
console.log(`cluster clients: ${RUNS} fresh processes each, node ${process.version} ${flags.join(' ')}; load ${loadavg()[0]!.toFixed(1)}`);
const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v.name, []]));
// One process of each first, unrecorded, so the first recorded one does not pay for a cold file cache.
for (const variant of VARIANTS) await sample(variant.load, rig.KUBECONFIG);
for (let run = 0; run < RUNS; run++) {
  for (const variant of VARIANTS) samples.get(variant.name)!.push(await sample(variant.load, rig.KUBECONFIG));
}

const mid = (name: string, field: keyof Sample) => median(samples.get(name)!.map((s) => s[field]));
const MiB = (kiB: number) => `${(kiB / 1024).toFixed(1)} MiB`;
const bare = VARIANTS[0]!.name;
for (const { name } of VARIANTS) {
  const versus = (field: keyof Sample, show: (n: number) => string) =>
    name === bare ? show(mid(name, field)) : `${show(mid(name, field))} (+${show(mid(name, field) - mid(bare, field))})`;
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  console.log(
    `  ${name.padEnd(13)} process ${versus('wallMs', ms)}; import and make ${ms(mid(name, 'makeMs'))}, one GET ${ms(mid(name, 'getMs'))}; ` +
      `VmRSS ${versus('rssKiB', MiB)}, anonymous ${versus('anonKiB', MiB)}${name === bare ? ' (the baseline)' : ''}`,
  );
}
console.log(`  load at the end ${loadavg()[0]!.toFixed(1)}`);
