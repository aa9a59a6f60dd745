// The capacity report's pure analysis (shared/capacity/capacity.ts: Workflows → pod intervals → daily sweep →
// trend) on a synthetic month: 30 days × 5,000 runs a day, each run 2–5 pods one after another of 1–10 minutes,
// started uniformly over the day. No rig, no I/O.
//
//   npm run bench:capacity [-- --rounds=3 --days=30 --runs-per-day=5000]
//
// Each measurement runs in a fresh process, so that its peak RSS (getrusage's maxRSS) is its own, two ways:
//   held       the month is made first and held in an array (as the CLI holds the list it read); then only
//              the loop is timed: analyseCapacity over it, against the baseline, a bare loop over the same
//              objects that Date.parses every pod's two timestamps (the floor of any reading of them)
//   streamed   the same two loops over Workflows made one at a time as they are read, never held, so that the
//              peak RSS is the analysis's (and the generator's, which the baseline has too)
// The processes take turns, `rounds` of each; medians. Then the streamed analysis again with V8's heap capped
// (as `npm run capacity` reads: each list page into intervals, then dropped): it must complete. Also the heap
// one Workflow takes when held.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyseCapacity } from '../shared/capacity/capacity.js';
import { median, numericArgs } from './cli.js';

const DAY_MS = 86_400_000;
const args = numericArgs();
const ROUNDS = args.rounds ?? 3;
const DAYS = args.days ?? 30;
const RUNS_PER_DAY = args['runs-per-day'] ?? 5000;
/** Noon the day after the month: the window is exactly the generated days. */
const DAY0 = Date.parse('2026-11-01T00:00:00Z');
const NOW = DAY0 + DAYS * DAY_MS + DAY_MS / 2;

/** A deterministic stream of numbers in [0, 1) (a 32-bit LCG): the same month in every process. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const TEMPLATES = [
  { name: 'checkout', cpu: '100m', memory: '128Mi' },
  { name: 'build', cpu: '2', memory: '4Gi' },
  { name: 'test', cpu: '1500m', memory: '3Gi' },
  { name: 'lint', cpu: '500m', memory: '512Mi' },
  { name: 'publish', cpu: '250m', memory: '256Mi' },
];

/** The Workflows of the month, made one at a time as Argo would leave a finished run. */
export function* syntheticMonth(days = DAYS, runsPerDay = RUNS_PER_DAY): Generator<object> {
  const next = random(42);
  for (let day = 0; day < days; day++) {
    for (let run = 0; run < runsPerDay; run++) {
      const name = `test-${day}-${run}`;
      let at = DAY0 + day * DAY_MS + Math.floor(next() * DAY_MS);
      const started = at;
      const podCount = 2 + Math.floor(next() * 4);
      const nodes: Record<string, object> = {};
      const children: string[] = [];
      for (let i = 0; i < podCount; i++) {
        const template = TEMPLATES[i]!.name;
        const end = at + 60_000 + Math.floor(next() * 540_000);
        const id = `${name}-${1000 + i}`;
        children.push(id);
        nodes[id] = {
          id,
          name: `${name}.${template}`,
          displayName: template,
          type: 'Pod',
          templateName: template,
          templateScope: 'local/',
          phase: 'Succeeded',
          boundaryID: name,
          startedAt: new Date(at).toISOString(),
          finishedAt: new Date(end).toISOString(),
          progress: '1/1',
          resourcesDuration: { cpu: 12, memory: 34 },
          hostNodeName: 'node-1',
          outputs: { exitCode: '0' },
        };
        at = end;
      }
      nodes[name] = { id: name, name, displayName: name, type: 'Steps', templateName: 'main', phase: 'Succeeded', startedAt: new Date(started).toISOString(), finishedAt: new Date(at).toISOString(), children };
      yield {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Workflow',
        metadata: {
          name,
          namespace: 'sk-mediawiki-core',
          uid: `00000000-0000-4000-8000-${String(day * runsPerDay + run).padStart(12, '0')}`,
          labels: { 'app.kubernetes.io/managed-by': 'seakeeper', 'seakeeper.dev/pipeline': 'test', 'seakeeper.dev/change': String(100_000 + run), 'seakeeper.dev/patchset': '1' },
        },
        spec: {
          entrypoint: 'main',
          templates: [
            { name: 'main', steps: TEMPLATES.map((t) => [{ name: t.name, template: t.name }]) },
            ...TEMPLATES.map((t) => ({ name: t.name, container: { image: 'docker-registry.wikimedia.org/ci:1', command: ['make', t.name], resources: { requests: { cpu: t.cpu, memory: t.memory } } } })),
          ],
        },
        status: { phase: 'Succeeded', startedAt: new Date(started).toISOString(), finishedAt: new Date(at).toISOString(), nodes },
      };
    }
  }
}

interface Sample {
  ms: number;
  /** CPU time (user + system) of the timed loop: on a shared machine, less at the mercy of other work than wall time. */
  cpuMs: number;
  maxRssMiB: number;
  heapUsedMiB: number;
  pods: number;
}

const MIB = 2 ** 20;

type PodNodes = { status: { nodes: Record<string, { type: string; startedAt: string; finishedAt: string }> } };

function bareLoop(workflows: Iterable<object>): number {
  let sum = 0;
  let pods = 0;
  for (const workflow of workflows as Iterable<PodNodes>) {
    for (const node of Object.values(workflow.status.nodes)) {
      if (node.type !== 'Pod') continue;
      sum += Date.parse(node.finishedAt) - Date.parse(node.startedAt);
      pods += 1;
    }
  }
  if (sum <= 0) throw new Error('no pod time');
  return pods;
}

type Mode = 'analysis' | 'baseline';
type Input = 'held' | 'streamed';

function measure(mode: Mode, input: Input): Sample {
  const workflows: Iterable<object> = input === 'held' ? [...syntheticMonth()] : syntheticMonth();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const pods = mode === 'analysis' ? analyseCapacity(workflows, { now: NOW, days: DAYS, horizonWeeks: 4 }).history.pods : bareLoop(workflows);
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMiB: (process.resourceUsage().maxRSS * 1024) / MIB, heapUsedMiB: process.memoryUsage().heapUsed / MIB, pods };
}

function heldBytesPerWorkflow(count = 5000): number {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const held = [...syntheticMonth(1, count)];
  globalThis.gc?.();
  const bytes = (process.memoryUsage().heapUsed - before) / held.length;
  return held.length > 0 ? bytes : 0;
}

/** The V8 heap the capped run gets: the CLI reads a list page by page into intervals, so the month must fit. */
const CAPPED_HEAP_MB = 150;

function child(mode: string, nodeArgs: readonly string[] = []): Promise<Sample & { bytesPerWorkflow?: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, ...nodeArgs, '--expose-gc', fileURLToPath(import.meta.url), `--child=${mode}`, `--days=${DAYS}`, `--runs-per-day=${RUNS_PER_DAY}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${mode} exited ${code}`))));
  });
}

const childMode = process.argv.find((a) => a.startsWith('--child='))?.slice('--child='.length);
// Imported (for its generator) rather than run: nothing to do.
const imported = process.argv[1] === undefined || path.resolve(process.argv[1]) !== fileURLToPath(import.meta.url);
const [childMeasure, childInput] = (childMode ?? '').split(':') as [string, string | undefined];
if (imported) {
  // nothing
} else if ((childMeasure === 'analysis' || childMeasure === 'baseline') && (childInput === 'held' || childInput === 'streamed')) {
  process.stdout.write(JSON.stringify(measure(childMeasure, childInput)));
} else if (childMode === 'held-size') {
  process.stdout.write(JSON.stringify({ ms: 0, cpuMs: 0, maxRssMiB: 0, heapUsedMiB: 0, pods: 0, bytesPerWorkflow: heldBytesPerWorkflow() }));
} else {
  const runs = DAYS * RUNS_PER_DAY;
  console.log(`capacity analysis: ${DAYS} days × ${RUNS_PER_DAY} runs = ${runs.toLocaleString('en')} Workflows; ${ROUNDS} rounds, each measurement in a fresh process`);
  const kinds = [
    ['baseline', 'held'],
    ['analysis', 'held'],
    ['baseline', 'streamed'],
    ['analysis', 'streamed'],
  ] as const;
  const samples = new Map<string, Sample[]>(kinds.map(([m, i]) => [`${m}:${i}`, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [mode, input] of kinds) {
      const sample = await child(`${mode}:${input}`);
      samples.get(`${mode}:${input}`)!.push(sample);
      console.log(`  round ${round} ${`${mode}, ${input}`.padEnd(19)} ${sample.ms.toFixed(0).padStart(6)} ms (CPU ${sample.cpuMs.toFixed(0).padStart(6)} ms), peak RSS ${sample.maxRssMiB.toFixed(1)} MiB, heap at end ${sample.heapUsedMiB.toFixed(1)} MiB, ${sample.pods} pods`);
    }
  }
  // As the CLI reads now (each page into intervals, then dropped): the streamed analysis with V8's heap capped.
  const capped: Sample[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const sample = await child('analysis:streamed', [`--max-old-space-size=${CAPPED_HEAP_MB}`]);
    capped.push(sample);
    console.log(`  round ${round} analysis, streamed, heap capped at ${CAPPED_HEAP_MB} MB: ${sample.ms.toFixed(0)} ms (CPU ${sample.cpuMs.toFixed(0)} ms), peak RSS ${sample.maxRssMiB.toFixed(1)} MiB`);
  }
  const { bytesPerWorkflow = 0 } = await child('held-size');
  const of = (kind: string, key: keyof Sample) => median(samples.get(kind)!.map((s) => s[key]));
  for (const [mode, input] of kinds) {
    const kind = `${mode}:${input}`;
    console.log(`${`${mode}, ${input}`.padEnd(19)} median: ${of(kind, 'ms').toFixed(0)} ms (CPU ${of(kind, 'cpuMs').toFixed(0)} ms), peak RSS ${of(kind, 'maxRssMiB').toFixed(1)} MiB, heap at end ${of(kind, 'heapUsedMiB').toFixed(1)} MiB`);
  }
  console.log(`held: analysis ${of('analysis:held', 'ms').toFixed(0)} ms against the bare loop's ${of('baseline:held', 'ms').toFixed(0)} ms (×${(of('analysis:held', 'ms') / of('baseline:held', 'ms')).toFixed(2)}); CPU ${of('analysis:held', 'cpuMs').toFixed(0)} against ${of('baseline:held', 'cpuMs').toFixed(0)} ms`);
  console.log(`streamed: the analysis's peak RSS over the bare loop's: +${(of('analysis:streamed', 'maxRssMiB') - of('baseline:streamed', 'maxRssMiB')).toFixed(1)} MiB`);
  console.log(`one Workflow held in the heap: ${(bytesPerWorkflow / 1024).toFixed(1)} KiB, so ${((bytesPerWorkflow * runs) / MIB).toFixed(0)} MiB for the month`);
  console.log(`streamed with the heap capped at ${CAPPED_HEAP_MB} MB: completed, median ${median(capped.map((c) => c.ms)).toFixed(0)} ms, peak RSS ${median(capped.map((c) => c.maxRssMiB)).toFixed(1)} MiB`);
  console.log('targets: the analysis < 10 s and < 200 MB');
}
