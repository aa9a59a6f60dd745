import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkConfigChange,
  MAX_MESSAGE_BYTES,
  MAX_MESSAGE_PROBLEMS,
  reviewMessage,
  workflowProblems,
  workflowsToFetch,
  type ConfigChangeInput,
} from '../../shared/config/config-check.js';
import type { ConfigProblem } from '../../shared/config/yaml.js';
import { testPolicy } from './support/policy.js';

const SEAKEEPER = `pipelines:
  check: { workflow: ci/check.yaml }
  gate-and-submit: { workflow: ci/gate.yaml, queue: mediawiki }
owners: [MediaWiki-owners]
`;
const WORKFLOW = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: { generateName: check- }
spec:
  entrypoint: main
  templates: [{ name: main, container: { image: alpine, command: [true] } }]
`;
const FILES = ['project.config', 'groups', 'seakeeper.yaml', 'ci/check.yaml', 'ci/gate.yaml'];

const input = (over: Partial<ConfigChangeInput>): ConfigChangeInput => ({
  changedFiles: ['seakeeper.yaml'],
  seakeeperYaml: SEAKEEPER,
  files: FILES,
  workflowTexts: new Map([
    ['ci/check.yaml', WORKFLOW],
    ['ci/gate.yaml', WORKFLOW],
  ]),
  ...over,
});

test('a change that touches nothing Seakeeper reads gets no vote', () => {
  assert.equal(checkConfigChange(input({ changedFiles: ['project.config', 'groups'] }), testPolicy), { relevant: false });
  assert.equal(checkConfigChange(input({ changedFiles: ['unrelated.yaml'] }), testPolicy), { relevant: false });
  assert.equal(checkConfigChange(input({ changedFiles: ['project.config'], seakeeperYaml: undefined }), testPolicy), { relevant: false });
});

test('a valid seakeeper.yaml and its workflows: Verified +1', () => {
  const check = checkConfigChange(input({}), testPolicy);
  assert.equal(check, {
    relevant: true,
    ok: true,
    vote: 1,
    problems: [],
    message: 'Seakeeper config check passed: seakeeper.yaml is valid, and so are its 2 workflow files.',
  });
});

test('changing only a referenced workflow file is checked too', () => {
  const check = checkConfigChange(input({ changedFiles: ['ci/gate.yaml'], workflowTexts: new Map([['ci/gate.yaml', 'kind: [']]) }), testPolicy);
  assert.is(check.relevant && check.vote, -1);
  if (!check.relevant) return;
  assert.equal(
    check.problems.map((p) => [p.file, p.rule]),
    [['ci/gate.yaml', 'yaml-syntax']],
  );
});

test('an invalid seakeeper.yaml: Verified -1 with every problem located, one per line', () => {
  const check = checkConfigChange(input({ seakeeperYaml: 'pipelines:\n  check: { workflow: ../x.yaml }\nresources: { cpu: "64" }\nextra: 1\n' }), testPolicy);
  assert.ok(check.relevant);
  if (!check.relevant) return;
  assert.is(check.vote, -1);
  assert.is(check.ok, false);
  const lines = check.message.split('\n');
  assert.is(lines[0], 'Seakeeper config check failed: 2 problems on refs/meta/config.');
  assert.match(lines[2]!, /^\* seakeeper\.yaml:2:22: \/pipelines\/check\/workflow: "\.\.\/x\.yaml" is not a relative path.* \[pattern\]$/);
  assert.match(lines[3]!, /^\* seakeeper\.yaml:4:1: \/extra: unknown key "extra".* \[additionalProperties\]$/);
});

test('a quota above the cap is reported with the cap', () => {
  const check = checkConfigChange(input({ seakeeperYaml: 'resources: { pods: 100 }\n' }), testPolicy);
  assert.ok(check.relevant && /seakeeper\.yaml:1:20: \/resources\/pods: pods "100" is above the cap of "40"/.test(check.message));
});

test('a workflow named in seakeeper.yaml but absent from the branch', () => {
  const check = checkConfigChange(input({ files: ['seakeeper.yaml', 'ci/check.yaml'] }), testPolicy);
  assert.ok(check.relevant);
  if (!check.relevant) return;
  assert.equal(
    check.problems.map((p) => [p.path, p.line, p.column, p.rule]),
    [['/pipelines/gate-and-submit/workflow', 3, 32, 'workflow-missing']],
  );
  // and deleting a referenced workflow file makes the change relevant
  const deleted = checkConfigChange(input({ changedFiles: ['ci/gate.yaml'], files: ['seakeeper.yaml', 'ci/check.yaml'] }), testPolicy);
  assert.is(deleted.relevant && deleted.vote, -1);
});

test('workflow files must hold one Argo Workflow', () => {
  const rules = (text: string) => workflowProblems('w.yaml', text).map((p) => [p.path, p.rule]);
  assert.equal(rules(WORKFLOW), []);
  assert.equal(rules('apiVersion: v1\nkind: Pod\nspec: {}\n'), [
    ['/apiVersion', 'workflow-api-version'],
    ['/kind', 'workflow-kind'],
  ]);
  assert.equal(rules('- a\n'), [['', 'type']]);
  assert.equal(rules('apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n'), [['', 'workflow-spec']]);
  assert.equal(rules(''), [['', 'empty-document']]);
  assert.equal(rules(`a: "${'x'.repeat(300 * 1024)}"`), [['', 'max-size']]);
});

test('the Workflow policy of a later issue plugs in as a validator', () => {
  const seen: string[] = [];
  const check = checkConfigChange(input({}), testPolicy, (file, doc) => {
    seen.push(file);
    return file === 'ci/gate.yaml' ? [{ file, path: '/spec', ...doc.locate('/spec'), rule: 'workflow-policy', message: 'no privileged pods' }] : [];
  });
  assert.equal(seen, ['ci/check.yaml', 'ci/gate.yaml']);
  assert.ok(check.relevant && check.vote === -1 && /ci\/gate\.yaml:5:3: \/spec: no privileged pods \[workflow-policy\]/.test(check.message));
});

test('removing seakeeper.yaml is fine (the project inherits or is deprovisioned per policy)', () => {
  const check = checkConfigChange(input({ seakeeperYaml: undefined }), testPolicy);
  assert.ok(check.relevant && check.vote === 1 && /removed/.test(check.message));
});

test('workflowsToFetch names the referenced workflow files that exist', () => {
  assert.equal(workflowsToFetch(SEAKEEPER, FILES, testPolicy), ['ci/check.yaml', 'ci/gate.yaml']);
  assert.equal(workflowsToFetch(SEAKEEPER, ['ci/gate.yaml'], testPolicy), ['ci/gate.yaml']);
  assert.equal(workflowsToFetch('bad: [', FILES, testPolicy), []);
  assert.equal(workflowsToFetch(undefined, FILES, testPolicy), []);
});

test('long reports are cut to fit Gerrit: at most 50 problems and 15 KiB, with a count of the rest', () => {
  const problem = (i: number, message = `problem ${i}`): ConfigProblem => ({ file: 'seakeeper.yaml', path: `/p/${i}`, line: i + 1, column: 1, rule: 'type', message });
  const many = reviewMessage(Array.from({ length: 1000 }, (_, i) => problem(i)));
  const lines = many.split('\n');
  assert.is(lines.filter((l) => l.startsWith('* ')).length, MAX_MESSAGE_PROBLEMS);
  assert.is(lines.at(-1), '(and 950 more)');
  assert.match(lines[0]!, /1000 problems/);

  const huge = reviewMessage(Array.from({ length: 200 }, (_, i) => problem(i, `${'é'.repeat(2000)}\nsecond line`)));
  assert.ok(Buffer.byteLength(huge) <= MAX_MESSAGE_BYTES, `${Buffer.byteLength(huge)} bytes`);
  assert.match(huge, /\(and \d+ more\)$/);
  for (const line of huge.split('\n').slice(2)) assert.ok(line.length <= 410, 'a line is cut short');
  assert.not.ok(huge.includes('second line\n'));
});

test('a gate queue the policy does not open to the project is a located problem (only when the project is known)', () => {
  const closed = checkConfigChange(input({ project: 'operations/puppet' }), testPolicy);
  assert.ok(closed.relevant && !closed.ok);
  const problems = closed.relevant ? closed.problems : [];
  assert.equal(problems.map((p) => [p.path, p.rule, p.line]), [['/pipelines/gate-and-submit/queue', 'queue-not-shared', 3]]);
  assert.match(problems[0]!.message, 'pipeline "gate-and-submit": "queue: mediawiki" names no shared gate queue');
  const open = { ...testPolicy, sharedQueues: { mediawiki: ['mediawiki/*'] } };
  const allowed = checkConfigChange(input({ project: 'mediawiki/core' }), open);
  assert.ok(allowed.relevant && allowed.ok);
  assert.ok((checkConfigChange(input({}), testPolicy) as { ok: boolean }).ok, 'no project: not judged');
});

test.run();

