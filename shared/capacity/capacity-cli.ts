// `npm run capacity`: how big the cluster must be for Seakeeper's runs, from their history (capacity-shell.ts
// reads it, capacity.ts works it out). The text report goes to stdout; `--json FILE` writes the summary,
// `--svg FILE` the chart of the daily concurrency. Configured like `npm run reconcile`: KUBECONFIG (else the
// pod's ServiceAccount), KUBERNETES_TIMEOUT_MS; ARGO_SERVER_URL and ARGO_TOKEN (or ARGO_TOKEN_FILE) for Argo's
// workflow archive. Exit status: 0 done, 1 the history could not be read, 2 bad options or configuration.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError } from '../env.js';
import { DAYS_BOUNDS, DEFAULT_DAYS, DEFAULT_HORIZON_WEEKS, WEEKS_BOUNDS } from './capacity.js';
import { capacityConfigFromEnv, capacityReport, type CapacityConfig } from './capacity-shell.js';

const USAGE = `usage: npm run capacity -- [--days N] [--weeks N] [--json FILE] [--svg FILE]
  --days N    whole UTC days of history before today (default ${DEFAULT_DAYS})
  --weeks N   planning horizon of the recommended quota, in weeks (default ${DEFAULT_HORIZON_WEEKS})
  --json FILE write the summary as JSON
  --svg FILE  write the chart of daily max, daily median and 7-day moving median of concurrent pods
`;

function wholeNumber(text: string | undefined, fallback: number, name: string, { min, max }: { readonly min: number; readonly max: number }): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new ConfigError([`--${name} must be a whole number from ${min} to ${max}`]);
  return Number(text);
}

async function main(): Promise<number> {
  let options: { days: number; weeks: number; json: string | undefined; svg: string | undefined };
  let config: CapacityConfig;
  try {
    const { values } = parseArgs({
      options: { days: { type: 'string' }, weeks: { type: 'string' }, json: { type: 'string' }, svg: { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    options = {
      days: wholeNumber(values.days, DEFAULT_DAYS, 'days', DAYS_BOUNDS),
      weeks: wholeNumber(values.weeks, DEFAULT_HORIZON_WEEKS, 'weeks', WEEKS_BOUNDS),
      json: values.json,
      svg: values.svg,
    };
    config = capacityConfigFromEnv();
  } catch (err) {
    const message = err instanceof ConfigError ? err.problems.join('; ') : err instanceof TypeError ? err.message : undefined;
    if (message === undefined) throw err;
    process.stderr.write(`capacity: ${message}\n${USAGE}`);
    return 2;
  }
  const started = Date.now();
  let output;
  try {
    output = await capacityReport(config, { now: Date.now(), days: options.days, horizonWeeks: options.weeks });
  } catch (err) {
    process.stderr.write(`capacity: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(output.text);
  if (options.json) await writeFile(options.json, `${JSON.stringify(output.report, null, 2)}\n`);
  if (options.svg) await writeFile(options.svg, output.svg);
  process.stderr.write(`capacity: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

process.exitCode = await main();
