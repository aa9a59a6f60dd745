// The speculative checkout (config/gate/checkout.sh) against the rig's real Gerrit with real git: the script
// runs as a local process (`sh config/gate/checkout.sh`) with the environment a gate run's step gets, fetching
// over Gerrit's git-over-HTTP as the bot, with credentials in git's own configuration (http.extraHeader through
// GIT_CONFIG_*), as a run would get them. Input checks alone are test/unit/checkout-input.test.ts's.
// rig: parallel (test/run.ts): projects of its own, git in a directory of its own
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProject, pushChange, pushPatchSet } from '../../dev/gerrit-chores.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import { basicAuthorization, encodeId, GerritRest } from '../../shared/gerrit/rest.js';
import type { ChangeInfo } from '../../shared/gerrit/types.js';
import { rigConnections } from './support/gerrit.js';
import { hideProjects } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const run = promisify(execFile);
const rig = loadRig();
const { bot, admin } = rigConnections(rig);
const SCRIPT = fileURLToPath(new URL('../../config/gate/checkout.sh', import.meta.url));
const suffix = uniqueSuffix();
const projects: string[] = [];
const projectName = (name: string) => {
  const project = `it-${suffix}/checkout-${name}`;
  projects.push(project);
  return project;
};
const AUTHORIZATION = basicAuthorization(bot.username, bot.password);
const GIT_URL = `${rig.GERRIT_URL.replace(/\/$/, '')}/a/`;

let scratch = '';

test.before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'seakeeper-checkout-'));
  await mkdir(path.join(scratch, 'home'));
});

test.after(async () => {
  await rm(scratch, { recursive: true, force: true });
  await hideProjects(admin, projects);
});

/** `project branch ref revision`, as the gate shell writes a change into SEAKEEPER_CHANGES. */
function lineOf(change: ChangeInfo): string {
  const revision = change.current_revision!;
  return `${change.project} ${change.branch} ${change.revisions![revision]!.ref} ${revision}`;
}
const refOf = (change: ChangeInfo) => change.revisions![change.current_revision!]!.ref;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  termination: string;
  workspace: string;
  cwd: string;
}

let runs = 0;

/** Runs the script in a fresh directory (or `workspace`) with `lines` as SEAKEEPER_CHANGES. */
async function checkout(lines: readonly string[], options: { workspace?: string; gitUrl?: string } = {}): Promise<Outcome> {
  const dir = path.join(scratch, `run-${++runs}`);
  const cwd = path.join(dir, 'cwd');
  await mkdir(cwd, { recursive: true });
  const workspace = options.workspace ?? path.join(dir, 'workspace');
  const termination = path.join(dir, 'termination-log');
  await writeFile(termination, '');
  const env = {
    PATH: process.env.PATH,
    HOME: path.join(scratch, 'home'),
    GIT_CONFIG_NOSYSTEM: '1',
    // What a run's step would have: the credentials in git's configuration, never in the URL.
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: ${AUTHORIZATION}`,
    SEAKEEPER_CHANGES: lines.join('\n'),
    SEAKEEPER_GIT_URL: options.gitUrl ?? GIT_URL,
    SEAKEEPER_WORKSPACE: workspace,
    SEAKEEPER_TERMINATION_LOG: termination,
  };
  const child = spawn('sh', [SCRIPT], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const outcome = { code, stdout, stderr, termination: readFileSync(termination, 'utf8'), workspace, cwd };
  for (const text of [stdout, stderr, outcome.termination]) {
    assert.not.ok(text.includes(bot.password.reveal()) || text.includes(AUTHORIZATION), 'the credentials never reach the output');
  }
  return outcome;
}

const git = async (dir: string, ...args: string[]) => (await run('git', ['-C', dir, ...args], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: path.join(scratch, 'home') } })).stdout.trim();

/** The commits HEAD's first-parent history merged in, newest first (second parents). */
async function mergedRevisions(dir: string): Promise<string[]> {
  const parents = (await git(dir, 'log', '--first-parent', '--format=%P', 'HEAD')).split('\n');
  return parents.map((line) => line.split(' ')[1]).filter((p): p is string => p !== undefined);
}

const tipOf = async (project: string, branch = 'master') => (await new GerritClient(admin).getBranchRevision(project, `refs/heads/${branch}`))!;

test('one change onto its branch tip: merged with --no-ff by Seakeeper, the same commit on every run, in a fresh workspace or a reused one', async () => {
  const project = projectName('one');
  await createProject(admin, project);
  const change = await pushChange(admin, project, { 'one.txt': 'one\n' }, 'Add one');
  const tip = await tipOf(project);

  const first = await checkout([lineOf(change)]);
  assert.is(first.code, 0, first.stderr);
  const dir = path.join(first.workspace, project);
  const head = await git(dir, 'rev-parse', 'HEAD');
  assert.is(first.stdout, `${project} master ${head}\n`);
  assert.is(first.termination, '');
  assert.is(await git(dir, 'log', '-1', '--format=%P'), `${tip} ${change.current_revision}`);
  assert.is(await git(dir, 'log', '-1', '--format=%an <%ae>|%cn <%ce>|%s'), `Seakeeper <seakeeper@invalid>|Seakeeper <seakeeper@invalid>|Merge ${refOf(change)}`);
  assert.is(await git(dir, 'symbolic-ref', '--short', 'HEAD'), 'master');
  assert.is(await git(dir, 'status', '--porcelain'), '');
  assert.is(readFileSync(path.join(dir, 'one.txt'), 'utf8'), 'one\n');
  assert.is(await git(dir, 'remote', 'get-url', 'origin'), `${GIT_URL}${project}`);
  assert.match(first.stderr, `seakeeper: ${project}: master at ${tip}`);
  assert.match(first.stderr, `seakeeper: ${project}: merged ${refOf(change)} (${change.current_revision})`);

  // Reproducible: another workspace, and the same one again (fetched, reset and cleaned), give the same commit.
  await writeFile(path.join(dir, 'left-over.txt'), 'from an earlier step\n');
  const again = await checkout([lineOf(change)], { workspace: first.workspace });
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stderr, `seakeeper: ${project}: reusing ${dir}`);
  assert.is(again.stdout, first.stdout);
  assert.not.ok(existsSync(path.join(dir, 'left-over.txt')), 'the work tree is cleaned');
  const elsewhere = await checkout([lineOf(change)]);
  assert.is(elsewhere.stdout, first.stdout);
});

test('three changes of one project, a stack among them, merged in the order given; the tree has all three', async () => {
  const project = projectName('three');
  await createProject(admin, project);
  const first = await pushChange(admin, project, { 'first.txt': '1\n' }, 'Add first');
  const second = await pushChange(admin, project, { 'second.txt': '2\n' }, 'Add second');
  const third = await pushChange(admin, project, { 'third.txt': '3\n' }, 'Add third on top of second', 'master', refOf(second));
  const tip = await tipOf(project);

  // Queue order: second, its child third, then first (enqueued last, tested on top of both).
  const outcome = await checkout([lineOf(second), lineOf(third), lineOf(first)]);
  assert.is(outcome.code, 0, outcome.stderr);
  const dir = path.join(outcome.workspace, project);
  assert.equal((await readdir(dir)).filter((f) => f !== '.git').sort(), ['first.txt', 'second.txt', 'third.txt']);
  assert.equal(await mergedRevisions(dir), [first.current_revision, third.current_revision, second.current_revision]);
  assert.equal((await git(dir, 'log', '--first-parent', '--format=%s', 'HEAD')).split('\n'), [
    `Merge ${refOf(first)}`,
    `Merge ${refOf(third)}`,
    `Merge ${refOf(second)}`,
    'Initial empty repository',
  ]);
  assert.is(await git(dir, 'rev-list', '--max-parents=0', 'HEAD'), tip);
  assert.is(await git(dir, 'rev-parse', `${third.current_revision}^`), second.current_revision, 'third is on top of second');
  assert.is(outcome.stdout, `${project} master ${await git(dir, 'rev-parse', 'HEAD')}\n`);
});

test('two projects: each tip checked out in its own directory with its own changes, listed in the order first seen', async () => {
  const [a, b] = [projectName('two-a'), projectName('two-b')];
  await Promise.all([createProject(admin, a), createProject(admin, b)]);
  const inA = await pushChange(admin, a, { 'a.txt': 'a\n' }, 'Add a');
  const inB = await pushChange(admin, b, { 'b.txt': 'b\n' }, 'Add b');
  const inA2 = await pushChange(admin, a, { 'a2.txt': 'a2\n' }, 'Add a2');

  const outcome = await checkout([lineOf(inA), lineOf(inB), lineOf(inA2)]);
  assert.is(outcome.code, 0, outcome.stderr);
  const [dirA, dirB] = [path.join(outcome.workspace, a), path.join(outcome.workspace, b)];
  assert.equal((await readdir(dirA)).filter((f) => f !== '.git').sort(), ['a.txt', 'a2.txt']);
  assert.equal((await readdir(dirB)).filter((f) => f !== '.git').sort(), ['b.txt']);
  assert.equal(await mergedRevisions(dirA), [inA2.current_revision, inA.current_revision]);
  assert.equal(await mergedRevisions(dirB), [inB.current_revision]);
  assert.is(outcome.stdout, `${a} master ${await git(dirA, 'rev-parse', 'HEAD')}\n${b} master ${await git(dirB, 'rev-parse', 'HEAD')}\n`);
});

test('a conflict: exit 3 with one line naming the change, in the termination log too; the merge aborted, nothing reported as done', async () => {
  const project = projectName('conflict');
  await createProject(admin, project);
  const left = await pushChange(admin, project, { 'same.txt': 'left\n' }, 'Left');
  const right = await pushChange(admin, project, { 'same.txt': 'right\n' }, 'Right');

  const alone = await checkout([lineOf(right)]);
  assert.is(alone.code, 0, `on its own it merges: ${alone.stderr}`);

  const outcome = await checkout([lineOf(left), lineOf(right)]);
  const line = `seakeeper: merge conflict: change ${refOf(right)} of ${project} does not merge onto master with the changes ahead of it`;
  assert.is(outcome.code, 3, outcome.stderr);
  assert.is(outcome.stderr.trimEnd().split('\n').at(-1), line);
  assert.is(outcome.termination, `${line}\n`);
  assert.is(outcome.stdout, '', 'no HEAD is reported');
  const dir = path.join(outcome.workspace, project);
  assert.not.ok(existsSync(path.join(dir, '.git', 'MERGE_HEAD')), 'the merge was aborted');
  assert.is(await git(dir, 'status', '--porcelain'), '');
  assert.equal(await mergedRevisions(dir), [left.current_revision]);
});

test('a ref that does not point at the revision given (the patch set moved): refused with exit 4 before merging it', async () => {
  const project = projectName('moved');
  await createProject(admin, project);
  const one = await pushChange(admin, project, { 'moved.txt': 'one\n' }, 'Moved');
  const two = await pushPatchSet(admin, project, one.change_id, { 'moved.txt': 'two\n' }, 'Moved');
  assert.is.not(two.current_revision, one.current_revision);

  const outcome = await checkout([`${project} master ${refOf(one)} ${two.current_revision}`]);
  const line = `seakeeper: patch set moved: ${refOf(one)} of ${project} is ${one.current_revision}, not ${two.current_revision}`;
  assert.is(outcome.code, 4, outcome.stderr);
  assert.is(outcome.stderr.trimEnd().split('\n').at(-1), line);
  assert.is(outcome.termination, `${line}\n`);
  assert.is(outcome.stdout, '');
  assert.equal(await mergedRevisions(path.join(outcome.workspace, project)), []);

  const current = await checkout([lineOf(two)]);
  assert.is(current.code, 0, current.stderr);
});

test('malformed input is refused (exit 2) before git runs: a dead port never gets a connection, the workspace is never made', async () => {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const deadUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/a/`;
  try {
    const project = `it-${suffix}/checkout-never`;
    const good = `${project} master refs/changes/01/1/1 ${'a'.repeat(40)}`;
    const outcome = await checkout([good, `${project} master refs/changes/01/1 ${'a'.repeat(40)}`], { gitUrl: deadUrl });
    assert.is(outcome.code, 2);
    assert.is(outcome.stderr, "seakeeper: SEAKEEPER_CHANGES line 2: ref 'refs/changes/01/1' is not refs/changes/NN/CHANGE/PATCHSET\n");
    assert.is(outcome.termination, outcome.stderr);
    assert.not.ok(existsSync(outcome.workspace));
    // The same input well formed does reach the URL: the refusal above was the input's, not the network's.
    const reached = await checkout([good], { gitUrl: deadUrl });
    assert.is(reached.code, 1);
    assert.match(reached.stderr, `seakeeper: ${project}: cannot fetch branch master`);
    assert.ok(connections > 0);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('hostile text: $( ), `..`, quotes, spaces in a project or branch are refused or checked out as data, never run', async () => {
  // Refused: a space makes a fifth field; a way out of the workspace is not a project.
  for (const [line, message] of [
    [`$(touch pwned) master refs/changes/01/1/1 ${'a'.repeat(40)}`, /line 1 has 5 fields, not 4/],
    [`../../etc master refs/changes/01/1/1 ${'a'.repeat(40)}`, /project '\.\.\/\.\.\/etc' has a '\.\.' path segment/],
    [`"it/a b" master refs/changes/01/1/1 ${'a'.repeat(40)}`, /line 1 has 5 fields, not 4/],
  ] as const) {
    const outcome = await checkout([line]);
    assert.is(outcome.code, 2, line);
    assert.match(outcome.stderr, message);
    assert.equal(await readdir(outcome.cwd), [], 'nothing ran');
  }

  // Data: Gerrit allows quotes, backticks, ; ( ) & ! in project names and $ { } ( ) ` in branch names.
  const project = projectName(`odd'"\`;(q)&!`);
  const branch = '$(touch${IFS}pwned)`touch${IFS}pwned2`';
  await createProject(admin, project);
  await new GerritRest(admin).json('PUT', `projects/${encodeId(project)}/branches/${encodeId(branch)}`, { body: { revision: 'master' } });
  const change = await pushChange(admin, project, { 'odd.txt': 'odd\n' }, 'Odd', branch);
  assert.is(change.branch, branch);

  const outcome = await checkout([lineOf(change)]);
  assert.is(outcome.code, 0, outcome.stderr);
  const dir = path.join(outcome.workspace, project);
  assert.is(outcome.stdout, `${project} ${branch} ${await git(dir, 'rev-parse', 'HEAD')}\n`);
  assert.is(readFileSync(path.join(dir, 'odd.txt'), 'utf8'), 'odd\n');
  assert.is(await git(dir, 'symbolic-ref', '--short', 'HEAD'), branch);
  assert.equal(await mergedRevisions(dir), [change.current_revision]);
  assert.equal(await readdir(outcome.cwd), [], 'nothing ran in the working directory');
  assert.equal(await readdir(outcome.workspace), [`it-${suffix}`]);
  assert.equal(await readdir(path.join(outcome.workspace, `it-${suffix}`)), [`checkout-odd'"\`;(q)&!`]);
});

test.run();
