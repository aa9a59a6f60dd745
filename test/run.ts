// Runs the uvu suites named on the command line (`unit`, `integration`), one process per test file so that
// a file crashing on import is seen as a failure instead of vanishing from the count, echoes uvu's output,
// notes each file's wall time (`# FILE: N s`), and closes with the line `N passed, N failed, N skipped` that CI
// reads.
//
//   --filter=REGEX  only the files whose path matches
//   --jobs=N        run N files at a time, each file's output printed whole when it ends. Integration files share
//                   one rig, so only those marked `// rig: parallel` overlap each other (below); the others run
//                   alone on the rig. Unit files need no rig and run beside the integration files
//   --start-rig     start the rig (`test/rig/rig.sh up`, its output in .rig-up.log) while the unit files run,
//                   and start the integration files once it is up: its ~50 s of start-up overlap the unit suite
//   --typecheck     run `tsc --noEmit` (tsconfig.json) beside the tests, counted as one test: its ~20 s overlap
//                   them too, where `make typecheck` first would add them
//
// Integration files and the rig. With --jobs=N, an integration file runs beside others only if its header (the
// comment lines it starts with) has the line `// rig: parallel`. Without it a file is exclusive: it runs alone,
// nothing else on the rig at the same time; the exclusive files run first, one by one in name order, then the
// marked ones N at a time. A file may carry the marker only if everything it does to the rig is to objects of
// its own (names made unique by uniqueSuffix, in namespaces, projects and accounts of its own) or is an
// idempotent apply of what every run applies alike (knative/ manifests, config/crds), and nothing it asserts
// depends on what else is on the rig. A file stays exclusive if it acts on cluster-wide or rig-wide state:
// a pass over every namespace, queue, project or Lease (reconcile, missed reports, Gate.tick, the Lease pruner),
// the dev stack, cluster-scoped objects others see (RBAC bindings, a default StorageClass, admission policies
// or CRDs that are not of its own), Gerrit's global config, fixed names, a node's capacity. Unmarked is the
// safe default: a new file runs alone until someone has read it and marked it.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mapWithConcurrency } from '../shared/concurrency.js';

const testRoot = path.dirname(fileURLToPath(import.meta.url));
const SUITE_FILE = /\.test\.ts$/;

interface FileResult {
  file: string;
  /** The tests that ran (uvu's Total: a skipped test is not among them), and one more for a crash. */
  total: number;
  passed: number;
  skipped: number;
  crashed: boolean;
  /** Wall time of the file's process. */
  seconds?: number;
}

/**
 * A file's count from uvu's summary and its exit code. uvu's Total leaves skipped tests out, so what failed is
 * Total − Passed. uvu exits non-zero on any failed test; a non-zero exit with every test passed means the file
 * died late (an error after its tests), which counts as one more failure.
 */
export function fileOutcome(summary: { total: number; passed: number; skipped: number }, code: number | null): Omit<FileResult, 'file'> {
  const lateCrash = code !== 0 && summary.passed === summary.total;
  return { ...summary, total: summary.total + (lateCrash ? 1 : 0), crashed: lateCrash };
}

export function parseUvuSummary(output: string): { total: number; passed: number; skipped: number } | undefined {
  const clean = output.replace(/\x1b\[[0-9;]*m/g, '');
  const number = (label: string) => {
    const match = new RegExp(`^\\s*${label}:\\s+(\\d+)\\s*$`, 'm').exec(clean);
    return match ? Number(match[1]) : undefined;
  };
  const total = number('Total');
  const passed = number('Passed');
  if (total === undefined || passed === undefined) return undefined;
  return { total, passed, skipped: number('Skipped') ?? 0 };
}

/** The header line that lets an integration file overlap other marked files on the rig (see the top). */
const PARALLEL_MARKER = /^\/\/ rig: parallel\b/;

/** Whether a test file's header (the comment and blank lines it starts with) carries `// rig: parallel`. */
export function rigParallel(source: string): boolean {
  for (const line of source.split('\n')) {
    if (PARALLEL_MARKER.test(line)) return true;
    if (line.trim() !== '' && !line.startsWith('//')) return false;
  }
  return false;
}

async function suiteFiles(suite: string, filter: RegExp | undefined): Promise<string[]> {
  const dir = path.join(testRoot, suite);
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && SUITE_FILE.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => !filter || filter.test(f))
    .sort();
}

function runFile(file: string, buffered = false): Promise<FileResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const echo = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString();
      if (!buffered) stream.write(chunk);
    };
    child.stdout.on('data', echo(process.stdout));
    child.stderr.on('data', echo(process.stderr));
    child.on('close', (code) => {
      const name = path.relative(testRoot, file);
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      const took = `# ${name}: ${seconds.toFixed(1)} s\n`;
      process.stdout.write(buffered ? `\n# ${name}\n${output}${took}` : took);
      const summary = parseUvuSummary(output);
      if (!summary) {
        resolve({ file, total: 1, passed: 0, skipped: 0, crashed: true, seconds });
        return;
      }
      resolve({ file, ...fileOutcome(summary, code), seconds });
    });
  });
}

/** One file with nothing else running: its output echoed as it comes. */
function runAlone(file: string): Promise<FileResult> {
  console.log(`\n# ${path.relative(testRoot, file)}`);
  return runFile(file);
}

/** `tsc --noEmit` over the whole project, as one result; its errors are printed when it fails. */
function typecheck(): Promise<FileResult> {
  const root = path.resolve(testRoot, '..');
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(path.join(root, 'node_modules/.bin/tsc'), ['-p', path.join(root, 'tsconfig.json'), '--noEmit'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => {
      const ok = code === 0;
      console.log(`\n# typecheck (tsc --noEmit): ${ok ? 'no errors' : 'FAILED'}, ${((Date.now() - started) / 1000).toFixed(1)} s${ok ? '' : `\n${output}`}`);
      resolve({ file: 'tsc', total: 1, passed: ok ? 1 : 0, skipped: 0, crashed: false });
    });
  });
}

/** `test/rig/rig.sh up` in the background; resolves when it ends, with its output (also in .rig-up.log). */
function startRig(): Promise<{ ok: boolean; output: string }> {
  const root = path.resolve(testRoot, '..');
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(root, 'test/rig/rig.sh'), 'up'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => {
      void writeFile(path.join(root, '.rig-up.log'), output).finally(() => resolve({ ok: code === 0, output }));
    });
  });
}

/**
 * The integration files once the rig (when this run starts it) is up: with `jobs` above 1, the exclusive ones
 * alone, one by one, then those marked `// rig: parallel` `jobs` at a time (see the top).
 */
async function runIntegration(files: readonly string[], jobs: number, rig: Promise<{ ok: boolean; output: string }> | undefined): Promise<FileResult[]> {
  if (files.length === 0) return [];
  if (rig) {
    const started = await rig;
    if (!started.ok) {
      console.log(`\n# the rig did not start (.rig-up.log):\n${started.output}`);
      return [{ file: 'test/rig/rig.sh', total: 1, passed: 0, skipped: 0, crashed: true }];
    }
  }
  const results: FileResult[] = [];
  if (jobs === 1) {
    for (const file of files) results.push(await runAlone(file));
    return results;
  }
  const marked = await Promise.all(files.map(async (file) => rigParallel(await readFile(file, 'utf8'))));
  const exclusive = files.filter((_, i) => !marked[i]);
  // Longest first (by the last run's times), so that no long file starts last and runs on alone.
  const took = await readFileTimes();
  const parallel = longestFirst(files.filter((_, i) => marked[i]), took);
  console.log(`\n# integration: ${exclusive.length} alone, then ${parallel.length} marked \`// rig: parallel\` ${jobs} at a time`);
  for (const file of exclusive) results.push(await runFile(file, true));
  results.push(...(await mapWithConcurrency(parallel, jobs, (file) => runFile(file, true))));
  await writeFileTimes({ ...took, ...Object.fromEntries(results.map((r) => [path.relative(testRoot, r.file), r.seconds ?? 0])) });
  return results;
}

/** Where the last run's time per integration file is kept: outside the clone, with the rig's tool caches. */
const FILE_TIMES = path.join(process.env.SEAKEEPER_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'seakeeper'), 'test-times.json');

async function readFileTimes(): Promise<Record<string, number>> {
  try {
    return JSON.parse(await readFile(FILE_TIMES, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

async function writeFileTimes(times: Record<string, number>): Promise<void> {
  await mkdir(path.dirname(FILE_TIMES), { recursive: true }).catch(() => undefined);
  await writeFile(FILE_TIMES, `${JSON.stringify(times, null, 1)}\n`).catch(() => undefined);
}

/** Files by their last time, longest first; a file without one (new) first of all, then the rest by name. */
export function longestFirst(files: readonly string[], took: Readonly<Record<string, number>>): string[] {
  const time = (file: string) => took[path.relative(testRoot, file)] ?? Number.POSITIVE_INFINITY;
  return [...files].sort((a, b) => time(b) - time(a) || (a < b ? -1 : a > b ? 1 : 0));
}

async function main(): Promise<number> {
  const suites = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const filterArg = process.argv.find((a) => a.startsWith('--filter='));
  const filter = filterArg ? new RegExp(filterArg.slice('--filter='.length)) : undefined;
  if (suites.length === 0) {
    console.error('usage: tsx test/run.ts unit|integration [...] [--filter=REGEX]');
    return 2;
  }
  const jobsArg = process.argv.find((a) => a.startsWith('--jobs='));
  const jobs = jobsArg ? Math.max(1, Number(jobsArg.slice('--jobs='.length)) || 1) : 1;
  const rig = process.argv.includes('--start-rig') && suites.includes('integration') ? startRig() : undefined;
  const typechecked = process.argv.includes('--typecheck') ? typecheck() : undefined;
  const results: FileResult[] = [];
  const unitFiles = suites.includes('unit') ? await suiteFiles('unit', filter) : [];
  const integrationFiles = suites.includes('integration') ? await suiteFiles('integration', filter) : [];
  if (jobs === 1) {
    for (const file of unitFiles) results.push(await runAlone(file));
    results.push(...(await runIntegration(integrationFiles, 1, rig)));
  } else {
    // Unit files need no rig: they run `jobs` at a time from the start, and the integration files start as soon
    // as the rig is up, beside the unit files still to run (an exclusive file has the rig to itself, not the
    // machine). Every file's output is printed whole when it ends.
    const [unit, integration] = await Promise.all([mapWithConcurrency(unitFiles, jobs, (file) => runFile(file, true)), runIntegration(integrationFiles, jobs, rig)]);
    results.push(...unit, ...integration);
  }
  if (typechecked) results.push(await typechecked);
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const skipped = results.reduce((n, r) => n + r.skipped, 0);
  const failed = results.reduce((n, r) => n + (r.total - r.passed), 0);
  for (const r of results.filter((r) => r.crashed)) {
    console.log(`CRASHED: ${path.relative(testRoot, r.file)} ended without a uvu summary or with a late error`);
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (passed + failed === 0) {
    console.error('no test ran');
    return 1;
  }
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = await main();
}
