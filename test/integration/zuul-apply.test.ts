// rig: parallel (test/run.ts): projects of its own
//
// `npm run import-zuul -- LAYOUT OUTDIR [--apply]` against the rig's real Gerrit: a small layout naming three
// projects the test creates and one that does not exist. The dry run pushes nothing; --apply pushes each
// converted seakeeper.yaml to its project's refs/meta/config (read back from Gerrit), reports the missing
// project without creating it, and a second --apply finds nothing to push.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProject } from '../../dev/gerrit-chores.js';
import { CONFIG_FILE, CONFIG_REF } from '../../shared/config/project-config.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import { rigConnections } from './support/gerrit.js';
import { hideProjects } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

const rig = loadRig();
const { admin } = rigConnections(rig);
const gerrit = new GerritClient(admin);
const suffix = uniqueSuffix();
const [A, B, C, MISSING] = ['zuul-a', 'zuul-b', 'zuul-c', 'zuul-missing'].map((name) => `it-${suffix}/${name}`) as [string, string, string, string];

const LAYOUT = `
pipelines:
  - name: test
    manager: IndependentPipelineManager
    trigger: { gerrit: [{ event: patchset-created }] }
    success: { gerrit: { verified: 1 } }
    failure: { gerrit: { verified: -1 } }
  - name: gate-and-submit
    manager: DependentPipelineManager
    trigger: { gerrit: [{ event: comment-added, approval: [{ code-review: 2 }] }] }
    success: { gerrit: { verified: 2, submit: true } }
    failure: { gerrit: { verified: -1 } }
project-templates:
  - name: shared_lint
    test: [lint]
    gate-and-submit: [lint]
projects:
  - name: ${A}
    template: [{ name: shared_lint }]
  - name: ${B}
    template: [{ name: shared_lint }]
    gate-and-submit: [b-unit]
  - name: ${C}
    test: [c-unit]
    gate-and-submit: [c-unit]
  - name: ${MISSING}
    test: [m-unit]
`;

let dir = '';

/** The CLI as an operator runs it, as Gerrit's administrator (who may push to refs/meta/config). */
async function importZuul(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, GERRIT_USER: process.env.GERRIT_ADMIN_USER!, GERRIT_PASSWORD: process.env.GERRIT_ADMIN_PASSWORD! };
  const cli = path.join(ROOT, 'shared/zuul/import-cli.ts');
  const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
  return run(tsx, [cli, path.join(dir, 'layout.yaml'), path.join(dir, 'out'), ...args], { env, cwd: ROOT }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
  );
}

test.before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'seakeeper-zuul-'));
  await writeFile(path.join(dir, 'layout.yaml'), LAYOUT);
  await Promise.all([A, B, C].map((project) => createProject(admin, project)));
});

test.after(async () => {
  await hideProjects(admin, [A, B, C]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the dry run writes the files and lists what --apply would push, pushing nothing', async () => {
  const result = await importZuul();
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /dry run: --apply would push seakeeper\.yaml to refs\/meta\/config of 4 projects/);
  for (const project of [A, B, C, MISSING]) assert.ok(result.stdout.includes(`  ${project}\n`), project);
  assert.match(result.stdout, /shared queues: 1/);
  for (const project of [A, B, C]) assert.is(await gerrit.getFileContent(project, CONFIG_REF, CONFIG_FILE), undefined, project);
});

test('--apply pushes each seakeeper.yaml to refs/meta/config and reports the missing project without creating it', async () => {
  const result = await importZuul('--apply', '--concurrency', '2');
  assert.is(result.code, 0, result.stderr + result.stdout);
  assert.ok(result.stdout.includes(`missing in Gerrit (not created): ${MISSING}\n`), result.stdout);
  assert.match(result.stdout, /3 pushed, 0 unchanged, 1 missing in Gerrit, 0 failed/);
  for (const project of [A, B, C]) {
    const written = await readFile(path.join(dir, 'out/projects', project, 'seakeeper.yaml'), 'utf8');
    assert.is(await gerrit.getFileContent(project, CONFIG_REF, CONFIG_FILE), written, project);
  }
  // A and B share the template's gate job, so a queue named after the first of them; C gates alone.
  assert.match((await gerrit.getFileContent(A, CONFIG_REF, CONFIG_FILE))!, /queue: it-[a-z0-9]+-zuul-a/);
  assert.match((await gerrit.getFileContent(B, CONFIG_REF, CONFIG_FILE))!, /queue: it-[a-z0-9]+-zuul-a/);
  assert.not.match((await gerrit.getFileContent(C, CONFIG_REF, CONFIG_FILE))!, /queue:/);
  assert.is(await gerrit.getBranchRevision(MISSING, CONFIG_REF), undefined);
});

test('--apply again pushes nothing: every file is already as converted', async () => {
  const before = await Promise.all([A, B, C].map((project) => gerrit.getBranchRevision(project, CONFIG_REF)));
  const result = await importZuul('--apply');
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /0 pushed, 3 unchanged, 1 missing in Gerrit, 0 failed/);
  assert.equal(await Promise.all([A, B, C].map((project) => gerrit.getBranchRevision(project, CONFIG_REF))), before);
});

test.run();
