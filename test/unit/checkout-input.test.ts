// config/gate/checkout.sh's input checks, run as the real script under sh with a `git` first on PATH that only
// records that it ran: input the script refuses must never reach git, and `--check` never runs it at all. The
// fetches and merges are test/integration/checkout.test.ts's, against the rig's Gerrit.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkDefinition } from '../../shared/pipelines/workflow-policy.js';
import { CHECKOUT_CONFIGMAP, CHECKOUT_SCRIPT_KEY } from '../../shared/provisioning/bundle.js';

const SCRIPT = fileURLToPath(new URL('../../config/gate/checkout.sh', import.meta.url));
const REV = '0123456789abcdef0123456789abcdef01234567';
const REV2 = 'fedcba9876543210fedcba9876543210fedcba98';
const URL_BASE = 'http://127.0.0.1:9/a/';

let root = '';
let calls = '';
let termination = '';
let workspace = '';

test.before.each(() => {
  root = mkdtempSync(path.join(tmpdir(), 'seakeeper-checkout-input-'));
  const bin = path.join(root, 'bin');
  calls = path.join(root, 'git-calls');
  termination = path.join(root, 'termination-log');
  workspace = path.join(root, 'workspace');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'git'), '#!/bin/sh\nprintf \'%s\\n\' "$*" >>"$FAKE_GIT_CALLS"\nexit 1\n');
  chmodSync(path.join(bin, 'git'), 0o755);
  writeFileSync(termination, '');
});

test.after.each(() => {
  rmSync(root, { recursive: true, force: true });
});

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  gitRan: boolean;
  termination: string;
}

function run(env: Record<string, string | undefined>, args: string[] = []): Outcome {
  const result = spawnSync('sh', [SCRIPT, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: {
      PATH: `${path.join(root, 'bin')}:${process.env.PATH}`,
      FAKE_GIT_CALLS: calls,
      SEAKEEPER_GIT_URL: URL_BASE,
      SEAKEEPER_WORKSPACE: workspace,
      SEAKEEPER_TERMINATION_LOG: termination,
      ...env,
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, gitRan: existsSync(calls), termination: readFileSync(termination, 'utf8') };
}

const changes = (...lines: string[]) => ({ SEAKEEPER_CHANGES: lines.join('\n') });

/** Refused with exit 2 and `message` on stderr and in the termination log, before git or the workspace were touched. */
function assertRefused(outcome: Outcome, message: RegExp, label: string): void {
  assert.is(outcome.code, 2, `${label}: exit code (stderr: ${outcome.stderr})`);
  assert.match(outcome.stderr, message, label);
  assert.is(outcome.stderr.split('\n').filter(Boolean).length, 1, `${label}: one line`);
  assert.is(outcome.termination, outcome.stderr, `${label}: the termination log holds the same line`);
  assert.is(outcome.stdout, '', label);
  assert.not.ok(outcome.gitRan, `${label}: git ran`);
  assert.not.ok(existsSync(workspace), `${label}: the workspace was touched`);
}

test('--check prints the changes in merge order: per project as first seen, its branches in the order of their last line', () => {
  const outcome = run(
    changes(
      `mediawiki/core master refs/changes/45/12345/2 ${REV}`,
      `operations/puppet production refs/changes/07/7/1 ${REV}`,
      '',
      `mediawiki/core wmf/1.42.0-wmf.5 refs/changes/01/101/3 ${REV2}`,
      `mediawiki/core master refs/changes/02/102/1 ${REV}`,
      '',
    ),
    ['--check'],
  );
  assert.is(outcome.code, 0, outcome.stderr);
  assert.is(
    outcome.stdout,
    [
      `mediawiki/core wmf/1.42.0-wmf.5 refs/changes/01/101/3 ${REV2}`,
      `mediawiki/core master refs/changes/45/12345/2 ${REV}`,
      `mediawiki/core master refs/changes/02/102/1 ${REV}`,
      `operations/puppet production refs/changes/07/7/1 ${REV}`,
      '',
    ].join('\n'),
  );
  assert.not.ok(outcome.gitRan);
  assert.not.ok(existsSync(workspace));
});

test('text a shell would act on is data: quotes, backticks, $( ) in a project and a branch are checked out as written', () => {
  const project = 'it/odd\'"`;(q)&!';
  const branch = '$(touch${IFS}pwned)`touch${IFS}pwned2`';
  const outcome = run(changes(`${project} ${branch} refs/changes/03/3/1 ${REV}`), ['--check']);
  assert.is(outcome.code, 0, outcome.stderr);
  assert.is(outcome.stdout, `${project} ${branch} refs/changes/03/3/1 ${REV}\n`);
  assert.equal(readdirSync(root).sort(), ['bin', 'termination-log']);
});

test('a well-formed input reaches git (so the fake git above does see what runs), and its failure is exit 1', () => {
  const outcome = run(changes(`mediawiki/core master refs/changes/45/12345/2 ${REV}`));
  assert.is(outcome.code, 1);
  assert.ok(outcome.gitRan);
  assert.match(outcome.stderr, /^seakeeper: git init .* failed$/m);
  assert.is(outcome.termination, outcome.stderr.split('\n').filter(Boolean).at(-1) + '\n');
});

const LINE_ERRORS: [string, string, RegExp][] = [
  ['three fields', `a master refs/changes/45/12345/2`, / has 3 fields, not 4 \(PROJECT BRANCH REF REVISION\)/],
  ['a project with a space', `$(touch x) master refs/changes/45/12345/2 ${REV}`, / has 5 fields, not 4/],
  ['a quoted project with a space', `"it/a b" master refs/changes/45/12345/2 ${REV}`, / has 5 fields, not 4/],
  ['two spaces', `a  master refs/changes/45/12345/2 ${REV}`, /fields are separated by single spaces/],
  ['a leading space', ` a master refs/changes/45/12345/2 ${REV}`, /fields are separated by single spaces/],
  ['a trailing space', `a master refs/changes/45/12345/2 ${REV} `, /fields are separated by single spaces/],
  ['a tab', `a\tmaster refs/changes/45/12345/2 ${REV}`, / has a control character/],
  ['a CR', `a master refs/changes/45/12345/2 ${REV}\r`, / has a control character/],
  ['a branch ref', `a master refs/heads/master ${REV}`, /ref 'refs\/heads\/master' is not refs\/changes\/NN\/CHANGE\/PATCHSET/],
  ['no patch set', `a master refs/changes/45/12345 ${REV}`, /is not refs\/changes\/NN\/CHANGE\/PATCHSET/],
  ['a fourth number', `a master refs/changes/45/12345/1/2 ${REV}`, /is not refs\/changes\/NN\/CHANGE\/PATCHSET/],
  ['a one-digit shard', `a master refs/changes/5/5/1 ${REV}`, /is not refs\/changes\/NN\/CHANGE\/PATCHSET/],
  ['the wrong shard', `a master refs/changes/44/12345/1 ${REV}`, /should start refs\/changes\/45\//],
  ['a padded change number', `a master refs/changes/05/05/1 ${REV}`, /starts with 0/],
  ['patch set 0', `a master refs/changes/05/5/0 ${REV}`, /starts with 0/],
  ['39 hex digits', `a master refs/changes/45/12345/2 ${REV.slice(1)}`, /revision '[0-9a-f]{39}' is not 40 lowercase hex digits/],
  ['41 hex digits', `a master refs/changes/45/12345/2 ${REV}0`, /is not 40 lowercase hex digits/],
  ['upper-case hex', `a master refs/changes/45/12345/2 ${REV.toUpperCase()}`, /is not 40 lowercase hex digits/],
  ['a ref name as revision', `a master refs/changes/45/12345/2 FETCH_HEAD`, /is not 40 lowercase hex digits/],
  ['a parent directory', `../x master refs/changes/45/12345/2 ${REV}`, /project '\.\.\/x' has a '\.\.' path segment/],
  ['a way out', `../../etc master refs/changes/45/12345/2 ${REV}`, /project '\.\.\/\.\.\/etc' has a '\.\.' path segment/],
  ['a way out inside', `a/../../b master refs/changes/45/12345/2 ${REV}`, /has a '\.\.' path segment/],
  ['a project that is ..', `.. master refs/changes/45/12345/2 ${REV}`, /has a '\.\.' path segment/],
  ['a . segment', `a/./b master refs/changes/45/12345/2 ${REV}`, /has a '\.' path segment/],
  ['an absolute path', `/etc master refs/changes/45/12345/2 ${REV}`, /project '\/etc' is an absolute path/],
  ['an empty segment', `a//b master refs/changes/45/12345/2 ${REV}`, /has an empty path segment/],
  ['a trailing slash', `a/ master refs/changes/45/12345/2 ${REV}`, /ends with \//],
  ['a backslash', `a\\b master refs/changes/45/12345/2 ${REV}`, /has a backslash/],
  ['a .git segment', `a/.git/hooks master refs/changes/45/12345/2 ${REV}`, /has a \.git path segment/],
  ['a .GIT segment', `.GIT master refs/changes/45/12345/2 ${REV}`, /has a \.git path segment/],
  ['a branch like an option', `a -x refs/changes/45/12345/2 ${REV}`, /branch '-x' of a starts with -/],
  ['branch HEAD', `a HEAD refs/changes/45/12345/2 ${REV}`, /branch 'HEAD' of a is 'HEAD'/],
  ['a branch with ..', `a x..y refs/changes/45/12345/2 ${REV}`, /has \.\./],
  ['a branch with @{', `a x@{1} refs/changes/45/12345/2 ${REV}`, /has @\{/],
  ['a branch with :', `a x:y refs/changes/45/12345/2 ${REV}`, /has one of/],
  ['a branch with ~', `a x~1 refs/changes/45/12345/2 ${REV}`, /has one of/],
  ['a branch with ^', `a x^ refs/changes/45/12345/2 ${REV}`, /has one of/],
  ['a branch with *', `a x* refs/changes/45/12345/2 ${REV}`, /has one of/],
  ['a branch with [', `a x[1 refs/changes/45/12345/2 ${REV}`, /has one of/],
  ['a branch with \\', `a x\\y refs/changes/45/12345/2 ${REV}`, /has one of/],
  ['a hidden branch segment', `a wmf/.x refs/changes/45/12345/2 ${REV}`, /path segment that starts with \./],
  ['a .lock branch', `a x.lock refs/changes/45/12345/2 ${REV}`, /ends with \.lock/],
  ['a branch ending with .', `a x. refs/changes/45/12345/2 ${REV}`, /ends with \./],
  ['a branch ending with /', `a x/ refs/changes/45/12345/2 ${REV}`, /starts or ends with \//],
];

for (const [label, line, message] of LINE_ERRORS) {
  test(`refused before git runs: ${label}`, () => {
    // A good line first: nothing is done until every line has been checked.
    const outcome = run(changes(`mediawiki/core master refs/changes/01/1/1 ${REV}`, line));
    assertRefused(outcome, message, label);
    assert.match(outcome.stderr, /^seakeeper: SEAKEEPER_CHANGES line 2[: ]/, label);
  });
}

test('refused before git runs: a change given twice, one project inside another\'s directory, no change at all', () => {
  assertRefused(run(changes(`a master refs/changes/45/12345/2 ${REV}`, `a master refs/changes/45/12345/3 ${REV2}`)), /line 2: change 12345 of a is given twice/, 'twice');
  assertRefused(run(changes(`mediawiki master refs/changes/01/1/1 ${REV}`, `mediawiki/core master refs/changes/02/2/1 ${REV}`)), /project mediawiki\/core would be checked out inside project mediawiki/, 'nested');
  assertRefused(run({ SEAKEEPER_CHANGES: '' }), /SEAKEEPER_CHANGES is empty or not set/, 'empty');
  assertRefused(run({ SEAKEEPER_CHANGES: undefined }), /SEAKEEPER_CHANGES is empty or not set/, 'unset');
  assertRefused(run({ SEAKEEPER_CHANGES: '\n\n' }), /SEAKEEPER_CHANGES has no change/, 'empty lines');
});

test('refused before git runs: the URL and workspace', () => {
  const ok = changes(`a master refs/changes/45/12345/2 ${REV}`);
  assertRefused(run({ ...ok, SEAKEEPER_GIT_URL: undefined }), /SEAKEEPER_GIT_URL is empty or not set/, 'no URL');
  assertRefused(run({ ...ok, SEAKEEPER_GIT_URL: 'file:///srv/git/' }), /is not an http:\/\/, https:\/\/ or ssh:\/\/ URL/, 'file URL');
  assertRefused(run({ ...ok, SEAKEEPER_GIT_URL: '--upload-pack=touch x' }), /SEAKEEPER_GIT_URL has a space/, 'option');
  assertRefused(run({ ...ok, SEAKEEPER_GIT_URL: 'ext::sh' }), /is not an http/, 'ext transport');
  const withPassword = run({ ...ok, SEAKEEPER_GIT_URL: 'https://bot:s3cret-password@gerrit.example.org/a/' });
  assertRefused(withPassword, /SEAKEEPER_GIT_URL carries a password: give git the credentials through its credential configuration/, 'password');
  assert.not.match(withPassword.stderr, /s3cret-password/);
  assertRefused(run({ ...ok, SEAKEEPER_WORKSPACE: 'workspace' }), /SEAKEEPER_WORKSPACE is not an absolute path/, 'relative workspace');
  assertRefused(run(ok, ['--force']), /unknown argument/, 'argument');
  // A user name alone and a port are fine.
  assert.is(run({ ...ok, SEAKEEPER_GIT_URL: 'ssh://seakeeper-bot@gerrit.example.org:29418' }, ['--check']).code, 0);
});

test('the script is POSIX sh: it parses with sh -n', () => {
  const result = spawnSync('sh', ['-n', SCRIPT], { encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
  assert.ok(readFileSync(SCRIPT, 'utf8').startsWith('#!/bin/sh\n'));
});

test('README\'s Workflow snippet passes the workflow policy and mounts the script executable (0555, written 365 for YAML 1.2)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('**The speculative checkout.**'));
  const snippet = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(snippet, 'README has the snippet');
  const result = checkDefinition({ kind: 'file', file: 'ci/gate.yaml', text: `apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n${snippet}` });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const spec = result.ok ? (result.definition.spec as { volumes: { name: string; configMap?: { name: string; defaultMode: number } }[]; templates: { container: { command: string[]; volumeMounts: { name: string; mountPath: string }[] } }[] }) : undefined;
  const volume = spec!.volumes.find((v) => v.configMap)!;
  assert.equal(volume.configMap, { name: CHECKOUT_CONFIGMAP, defaultMode: 0o555 });
  const container = spec!.templates[0]!.container;
  const mount = container.volumeMounts.find((m) => m.name === volume.name)!;
  assert.match(container.command.join(' '), `${mount.mountPath}/${CHECKOUT_SCRIPT_KEY} &&`);
});

test.run();
