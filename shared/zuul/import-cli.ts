// `npm run import-zuul -- LAYOUT.yaml OUTDIR [--apply]`: converts a Zuul v2 layout (convert.ts) into OUTDIR —
// pipelines.yaml, projects/<project>/seakeeper.yaml, policy-shared-queues.yaml, report.txt — after checking each
// output with the parsers the functions use, and prints the summary. By default that is all, and it lists what
// --apply would push. --apply pushes each project's seakeeper.yaml to its refs/meta/config in Gerrit (GERRIT_URL,
// GERRIT_USER, GERRIT_PASSWORD, as the functions read them; the account must be allowed to push there), a few at
// a time; a project Gerrit does not have is reported, never created, and one whose file is already as converted
// is left alone. Exit status: 0 done, 1 a push failed or an output did not validate, 2 bad arguments or layout.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../env.js';
import { gerritConnectionFromEnv } from '../gerrit/env.js';
import { convertLayoutText, outputFiles, projectPath } from './convert.js';
import { summaryText } from './report.js';
import { validateOutputs } from './validate.js';
import { applyConfigs, DEFAULT_CONCURRENCY } from './apply.js';

const USAGE = `usage: npm run import-zuul -- LAYOUT.yaml OUTDIR [--apply] [--concurrency N] [--only PROJECT]...
  LAYOUT.yaml      a Zuul v2 layout (zuul/layout.yaml)
  OUTDIR           where the converted files go (replaced: its pipelines.yaml, projects/, policy-shared-queues.yaml, report.txt)
  --apply          push each project's seakeeper.yaml to its refs/meta/config (GERRIT_URL, GERRIT_USER, GERRIT_PASSWORD);
                   without it, print what would be pushed
  --concurrency N  pushes at once (default ${DEFAULT_CONCURRENCY})
  --only PROJECT   apply to these projects only (repeatable)
`;

async function main(): Promise<number> {
  let args: { layout: string; outdir: string; apply: boolean; concurrency: number; only: string[] | undefined };
  try {
    const { values, positionals } = parseArgs({
      options: { apply: { type: 'boolean' }, concurrency: { type: 'string' }, only: { type: 'string', multiple: true }, help: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length !== 2) throw new ConfigError(['expected LAYOUT.yaml and OUTDIR']);
    const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new ConfigError(['--concurrency must be a whole number from 1 to 64']);
    args = { layout: positionals[0]!, outdir: positionals[1]!, apply: values.apply === true, concurrency, only: values.only };
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }

  const converted = convertLayoutText(await readFile(args.layout, 'utf8'));
  if (!converted.ok) {
    process.stderr.write(`${args.layout} is not a Zuul v2 layout:\n${converted.problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 2;
  }
  const { conversion } = converted;
  const files = outputFiles(conversion, path.basename(args.layout));
  const problems = validateOutputs(files);
  if (problems.length > 0) {
    process.stderr.write(`the converted files do not validate:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 1;
  }

  for (const stale of ['projects', 'pipelines.yaml', 'policy-shared-queues.yaml', 'report.txt']) await rm(path.join(args.outdir, stale), { recursive: true, force: true });
  for (const [file, text] of files) {
    await mkdir(path.dirname(path.join(args.outdir, file)), { recursive: true });
    await writeFile(path.join(args.outdir, file), text);
  }
  process.stdout.write(summaryText(conversion));
  process.stdout.write(`wrote ${files.size} files to ${args.outdir}\n`);

  const only = args.only ? new Set(args.only) : undefined;
  const configs = conversion.projects
    .filter((p) => !only || only.has(p.name))
    .flatMap((p) => {
      const file = projectPath(p.name);
      return file ? [{ project: p.name, text: files.get(file)! }] : [];
    });
  if (!args.apply) {
    process.stdout.write(`dry run: --apply would push seakeeper.yaml to refs/meta/config of ${configs.length} projects:\n`);
    for (const config of configs) process.stdout.write(`  ${config.project}\n`);
    return 0;
  }

  let connection;
  try {
    connection = gerritConnectionFromEnv();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const started = Date.now();
  const outcome = await applyConfigs(connection, configs, args.concurrency);
  for (const project of outcome.missing) process.stdout.write(`missing in Gerrit (not created): ${project}\n`);
  for (const failure of outcome.failed) process.stdout.write(`failed: ${failure.project}: ${failure.error}\n`);
  process.stdout.write(
    `applied in ${((Date.now() - started) / 1000).toFixed(1)} s: ${outcome.pushed.length} pushed, ${outcome.unchanged.length} unchanged, ` +
      `${outcome.missing.length} missing in Gerrit, ${outcome.failed.length} failed\n`,
  );
  return outcome.failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
