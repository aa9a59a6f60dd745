// Runs the uvu suites named on the command line (`unit`, `integration`), one process per test file so that
// a file crashing on import is seen as a failure instead of vanishing from the count, echoes uvu's output,
// and closes with the line `N passed, N failed, N skipped` that CI reads.
//
//   --filter=REGEX  only the files whose path matches
//   --jobs=N        run N unit files at a time, each file's output printed whole when it ends (integration
//                   files share one rig and always run one at a time)
//   --start-rig     start the rig (`test/rig/rig.sh up`, its output in .rig-up.log) while the unit files run,
//                   and wait for it before the integration files: its ~50 s of start-up overlap the unit suite
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mapWithConcurrency } from '../shared/concurrency.js';

const testRoot = path.dirname(fileURLToPath(import.meta.url));
const SUITE_FILE = /\.test\.ts$/;

interface FileResult {
  file: string;
  total: number;
  passed: number;
  skipped: number;
  crashed: boolean;
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
      if (buffered) process.stdout.write(`\n# ${path.relative(testRoot, file)}\n${output}`);
      const summary = parseUvuSummary(output);
      if (!summary) {
        resolve({ file, total: 1, passed: 0, skipped: 0, crashed: true });
        return;
      }
      // uvu exits non-zero on any failed test; a non-zero exit with every test passed means the file died late.
      const lateCrash = code !== 0 && summary.passed === summary.total - summary.skipped;
      resolve({ file, ...summary, total: summary.total + (lateCrash ? 1 : 0), crashed: lateCrash });
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
  const results: FileResult[] = [];
  for (const suite of suites) {
    const files = await suiteFiles(suite, filter);
    if (suite === 'integration' && rig) {
      const started = await rig;
      if (!started.ok) {
        console.log(`\n# the rig did not start (.rig-up.log):\n${started.output}`);
        results.push({ file: 'test/rig/rig.sh', total: 1, passed: 0, skipped: 0, crashed: true });
        break;
      }
    }
    if (suite === 'integration' || jobs === 1) {
      for (const file of files) {
        console.log(`\n# ${path.relative(testRoot, file)}`);
        results.push(await runFile(file));
      }
    } else {
      results.push(...(await mapWithConcurrency(files, jobs, (file) => runFile(file, true))));
    }
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const skipped = results.reduce((n, r) => n + r.skipped, 0);
  const failed = results.reduce((n, r) => n + (r.total - r.passed - r.skipped), 0);
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
