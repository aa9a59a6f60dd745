// What converting Wikimedia's whole Zuul v2 layout costs (`npm run import-zuul`'s pure part: shared/zuul), beside
// the baseline of only parsing its YAML the same way (yaml with merge keys); and, on request, --apply against the
// rig's Gerrit for a sample of projects.
//
//   npm run bench:import-zuul [-- --rounds=5 --apply=50 --concurrency=8]
//
// Each round in the same process, after one warm-up: parse (the baseline); convert (parse, pipelines, queues,
// projects) and render every output file; validate them all as the CLI does (parsePipelines, parseProjectConfig
// of 2,182 files under the merged policy, queueRefusal). The figures are medians over the rounds; the target is a
// conversion under 10 s.
//
// --apply=N creates N projects of its own on the rig (`bench-<suffix>/<a Wikimedia project name>`, N at the most
// 2,182: all of them), then times applyConfigs pushing each its converted seakeeper.yaml to refs/meta/config (the
// creation, at the same concurrency, is not timed), and for fewer than all extrapolates to 2,182; it hides the
// projects afterwards. The rig keeps them (hidden) until it is torn down.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { createProject } from '../dev/gerrit-chores.js';
import { mapWithConcurrency } from '../shared/concurrency.js';
import { applyConfigs } from '../shared/zuul/apply.js';
import { convertLayoutText, outputFiles, projectPath } from '../shared/zuul/convert.js';
import { validateOutputs } from '../shared/zuul/validate.js';
import { rigConnections } from '../test/integration/support/gerrit.js';
import { hideProjects } from '../test/integration/support/provisioning.js';
import { loadRig, uniqueSuffix } from '../test/integration/support/rig.js';
import { median, numericArgs } from './cli.js';

const args = numericArgs();
const ROUNDS = args.rounds ?? 5;
const APPLY = args.apply ?? 0;
const CONCURRENCY = args.concurrency ?? 8;
const LAYOUT = new URL('../test/fixtures/zuul/wikimedia-zuul-layout.yaml', import.meta.url);
const text = readFileSync(LAYOUT, 'utf8');

function time<T>(work: () => T): [number, T] {
  const start = performance.now();
  const result = work();
  return [performance.now() - start, result];
}

function convertAll(): Map<string, string> {
  const result = convertLayoutText(text);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return outputFiles(result.conversion, 'wikimedia-zuul-layout.yaml');
}

const rounds = { parse: [] as number[], convert: [] as number[], validate: [] as number[] };
convertAll(); // warm-up: module loading and JIT out of the first round
let files = new Map<string, string>();
for (let round = 0; round < ROUNDS; round++) {
  rounds.parse.push(time(() => parse(text, { merge: true, maxAliasCount: 100_000 }))[0]);
  const [convertMs, out] = time(convertAll);
  rounds.convert.push(convertMs);
  files = out;
  const [validateMs, problems] = time(() => validateOutputs(out));
  if (problems.length > 0) throw new Error(problems.slice(0, 5).join('\n'));
  rounds.validate.push(validateMs);
}
const ms = (values: number[]) => `${median(values).toFixed(0)} ms`;
const parseMs = median(rounds.parse);
const convertMs = median(rounds.convert);
console.log(`Wikimedia's layout, ${(text.length / 1024).toFixed(0)} KiB, ${files.size} files out; median of ${ROUNDS} rounds (Node ${process.version}):`);
console.log(`  parse only (baseline):        ${ms(rounds.parse)}`);
console.log(`  convert and render:           ${ms(rounds.convert)} (×${(convertMs / parseMs).toFixed(1)} the parse)`);
console.log(`  validate every output:        ${ms(rounds.validate)}`);
console.log(`  convert + validate:           ${(convertMs + median(rounds.validate)).toFixed(0)} ms (target < 10000 ms)`);

if (APPLY > 0) {
  const rig = loadRig();
  const { admin } = rigConnections(rig);
  const suffix = uniqueSuffix();
  const sample = [...files.keys()].filter((f) => f.startsWith('projects/')).slice(0, APPLY);
  const configs = sample.map((file) => {
    const name = file.slice('projects/'.length, -'/seakeeper.yaml'.length);
    return { project: `bench-${suffix}/${name}`, text: files.get(projectPath(name)!)! };
  });
  try {
    await mapWithConcurrency(configs, CONCURRENCY, ({ project }) => createProject(admin, project));
    const start = performance.now();
    const outcome = await applyConfigs(admin, configs, CONCURRENCY);
    const elapsed = performance.now() - start;
    if (outcome.pushed.length !== configs.length) throw new Error(`only ${outcome.pushed.length} of ${configs.length} pushed: ${JSON.stringify(outcome.failed.slice(0, 3))}`);
    const perProject = elapsed / configs.length;
    console.log(`--apply of ${configs.length} projects, concurrency ${CONCURRENCY}: ${(elapsed / 1000).toFixed(1)} s (${perProject.toFixed(0)} ms a project)`);
    if (configs.length < 2182) console.log(`  extrapolated to 2,182 projects: ${((perProject * 2182) / 60_000).toFixed(1)} min (not measured)`);
  } finally {
    await hideProjects(admin, configs.map((c) => c.project)).catch(() => undefined);
  }
}
