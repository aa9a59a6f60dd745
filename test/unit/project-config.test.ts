import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  defaultProjectConfig,
  parseProjectConfig,
  workflowFiles,
  type ProjectConfig,
} from '../../shared/config/project-config.js';
import { formatProblem, RULES, type ConfigProblem } from '../../shared/config/yaml.js';
import { testPolicy } from './support/policy.js';

const ISSUE_EXAMPLE = `pipelines:
  check: { workflow: check.yaml }          # an Argo Workflow manifest beside it on refs/meta/config
  gate-and-submit: { workflow: gate.yaml, queue: mediawiki }
resources: { cpu: "4", memory: 8Gi, pods: 10 }
owners: [MediaWiki-owners]                  # Gerrit group names
viewers: [Trusted-Contributors]
`;

function ok(text: string): ProjectConfig {
  const result = parseProjectConfig(text, testPolicy);
  if (!result.ok) assert.unreachable(`expected a valid config, got:\n${result.problems.map(formatProblem).join('\n')}`);
  return (result as { config: ProjectConfig }).config;
}

function bad(text: string): ConfigProblem[] {
  const result = parseProjectConfig(text, testPolicy);
  assert.not.ok(result.ok, `expected problems for ${JSON.stringify(text.slice(0, 200))}`);
  return result.ok ? [] : result.problems;
}

/** [path, line, column, rule] of each problem. */
const where = (problems: ConfigProblem[]) => problems.map((p) => [p.path, p.line, p.column, p.rule]);

test("the issue's example is accepted and normalised", () => {
  assert.equal(ok(ISSUE_EXAMPLE), {
    pipelines: [
      { name: 'check', workflow: 'check.yaml' },
      { name: 'gate-and-submit', workflow: 'gate.yaml', queue: 'mediawiki' },
    ],
    resources: { cpu: '4', memory: '8Gi', pods: 10 },
    owners: ['MediaWiki-owners'],
    viewers: ['Trusted-Contributors'],
  });
});

test('an empty mapping is valid and gets the policy defaults', () => {
  assert.equal(ok('{}'), defaultProjectConfig(testPolicy));
  assert.equal(ok('resources: { cpu: "3" }').resources, { cpu: '3', memory: '4Gi', pods: 10 });
});

test('pipelines are sorted, groups sorted, WorkflowTemplates accepted, workflow files listed once', () => {
  const config = ok(`pipelines:
  zeta: { workflow: ci/z.yml }
  alpha: { workflowTemplate: shared.template-1 }
  mid: { workflow: ci/z.yml, queue: q }
owners: [b, A, a]
`);
  assert.equal(
    config.pipelines.map((p) => p.name),
    ['alpha', 'mid', 'zeta'],
  );
  assert.equal(config.pipelines[0], { name: 'alpha', workflowTemplate: 'shared.template-1' });
  assert.equal(config.owners, ['A', 'a', 'b']);
  assert.equal(workflowFiles(config), ['ci/z.yml']);
});

test('YAML numbers are quantities too', () => {
  assert.equal(ok('resources: { cpu: 4, memory: 1024, pods: 3 }').resources, { cpu: '4', memory: '1024', pods: 3 });
  assert.equal(ok('resources: { cpu: 0.5 }').resources.cpu, '0.5');
});

test('unknown keys at every level, located at the key, with what is allowed', () => {
  const problems = bad(`pipelines:
  check: { workflow: check.yaml, timeout: 5 }
resources: { cpu: "1", disk: 10Gi }
owner: [x]
`);
  assert.equal(where(problems), [
    ['/pipelines/check/timeout', 2, 34, 'additionalProperties'],
    ['/resources/disk', 3, 24, 'additionalProperties'],
    ['/owner', 4, 1, 'additionalProperties'],
  ]);
  assert.match(problems[2]!.message, /unknown key "owner"; allowed here: pipelines, resources, owners, viewers/);
});

test('wrong types are located and say what was expected', () => {
  const problems = bad(`pipelines: [check]
resources: { cpu: true, memory: [1], pods: "ten" }
owners: MediaWiki-owners
viewers: [1]
`);
  assert.equal(where(problems), [
    ['/pipelines', 1, 12, 'type'],
    ['/resources/cpu', 2, 19, 'type'],
    ['/resources/memory', 2, 33, 'type'],
    ['/resources/pods', 2, 44, 'type'],
    ['/owners', 3, 9, 'type'],
    ['/viewers/0', 4, 11, 'type'],
  ]);
  assert.match(problems[0]!.message, /must be a mapping \(key: value\), not a list/);
  assert.match(problems[3]!.message, /must be a whole number, not text/);
  assert.match(problems[1]!.message, /must be text or a number, not true or false/);
});

test('a key with nothing after it is "empty", located at the key', () => {
  assert.equal(where(bad('owners:\n')), [['/owners', 1, 1, 'type']]);
});

test('a request above a cap is an error naming the cap, never silently lowered', () => {
  const problems = bad('resources:\n  cpu: "32"\n  memory: 33Gi\n  pods: 41\n');
  assert.equal(where(problems), [
    ['/resources/cpu', 2, 8, 'policy-cap'],
    ['/resources/memory', 3, 11, 'policy-cap'],
    ['/resources/pods', 4, 9, 'policy-cap'],
  ]);
  assert.match(problems[0]!.message, /cpu "32" is above the cap of "16" set by system policy \(config\/policy\.yaml, caps\.cpu\)/);
  assert.match(problems[2]!.message, /pods "41" is above the cap of "40"/);
});

test('exactly the cap is accepted, in any spelling', () => {
  assert.equal(ok('resources: { cpu: 16000m, memory: 32768Mi, pods: 40 }').resources, { cpu: '16000m', memory: '32768Mi', pods: 40 });
  assert.equal(where(bad('resources: { cpu: 16001m }')), [['/resources/cpu', 1, 19, 'policy-cap']]);
});

test('zero, negative and malformed quantities', () => {
  assert.equal(where(bad('resources: { cpu: "0" }')), [['/resources/cpu', 1, 19, 'exclusiveMinimum']]);
  assert.equal(where(bad('resources: { cpu: 0 }')), [['/resources/cpu', 1, 19, 'exclusiveMinimum']]);
  assert.equal(where(bad('resources: { cpu: -1 }')), [['/resources/cpu', 1, 19, 'exclusiveMinimum']]);
  assert.equal(where(bad('resources: { cpu: 1e30 }')), [['/resources/cpu', 1, 19, 'pattern']]);
  for (const q of ['"-1"', '"1e3"', '"8 Gi"', '"8GB"', '"lots"', '""']) {
    assert.equal(where(bad(`resources: { memory: ${q} }`)), [['/resources/memory', 1, 22, 'pattern']], q);
  }
  assert.equal(where(bad('resources: { pods: 0 }')), [['/resources/pods', 1, 20, 'minimum']]);
  assert.equal(where(bad('resources: { pods: 2.5 }')), [['/resources/pods', 1, 20, 'type']]);
});

test('hostile workflow paths are refused', () => {
  const hostile = [
    '../x.yaml',
    '/etc/passwd',
    '/etc/x.yaml',
    'a/../b.yaml',
    'a/..',
    '..',
    './x.yaml',
    '.hidden.yaml',
    'dir/.x.yaml',
    'a//b.yaml',
    'a\\\\b.yaml',
    'x.json',
    'x.yaml/',
    'C:/x.yaml',
    'x.yaml\\n',
    '~/x.yaml',
    '$HOME/x.yaml',
    'a b.yaml',
    'a..b.yaml',
    '',
    `${'a/'.repeat(100)}x.yaml`,
  ];
  for (const path of hostile) {
    const problems = bad(`pipelines:\n  check:\n    workflow: "${path}"\n`);
    assert.equal(where(problems), [['/pipelines/check/workflow', 3, 15, problems[0]!.rule]], path);
    assert.ok(['pattern', 'maxLength'].includes(problems[0]!.rule), path);
  }
});

test('safe workflow paths are accepted', () => {
  for (const path of ['check.yaml', 'gate.yml', 'ci/check.yaml', 'ci/v1.2/check-x_y.yaml', 'A_b/C.yaml']) {
    assert.is(ok(`pipelines: { check: { workflow: "${path}" } }`).pipelines[0]!.workflow, path);
  }
});

test('property: every accepted workflow path is relative, normalised and stays inside the branch', () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9_.\-/\\~ ]{0,12}$/);
  fc.assert(
    fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom('.yaml', '.yml', '', '.json'), (parts, ext) => {
      const path = `${parts.join('/')}${ext}`;
      const result = parseProjectConfig(`pipelines: { check: { workflow: ${JSON.stringify(path)} } }`, testPolicy);
      if (!result.ok) return;
      assert.not.ok(path.startsWith('/'), path);
      for (const seg of path.split('/')) {
        assert.ok(seg !== '' && seg !== '.' && seg !== '..' && !seg.startsWith('.'), path);
      }
      assert.not.ok(path.includes('\\'), path);
      assert.match(path, /\.ya?ml$/);
    }),
    { numRuns: 3000 },
  );
});

test('a pipeline names exactly one of workflow or workflowTemplate', () => {
  const problems = bad(`pipelines:
  both: { workflow: a.yaml, workflowTemplate: t }
  neither: { queue: q }
`);
  assert.equal(where(problems), [
    ['/pipelines/both', 2, 9, 'oneOf'],
    ['/pipelines/neither', 3, 12, 'oneOf'],
  ]);
  assert.match(problems[0]!.message, /exactly one of 'workflow' \(a file\) or 'workflowTemplate'/);
});

test('bad pipeline names, queue names and template names', () => {
  const problems = bad(`pipelines:
  Check: { workflow: a.yaml }
  gate_and_submit: { workflow: a.yaml }
  ${'x'.repeat(41)}: { workflow: a.yaml }
  -lead: { workflow: a.yaml }
  ok: { workflow: a.yaml, queue: Media_Wiki }
  tpl: { workflowTemplate: ../t }
`);
  assert.equal(where(problems), [
    ['/pipelines/Check', 2, 3, 'pattern'],
    ['/pipelines/gate_and_submit', 3, 3, 'pattern'],
    [`/pipelines/${'x'.repeat(41)}`, 4, 3, 'pattern'],
    ['/pipelines/-lead', 5, 3, 'pattern'],
    ['/pipelines/ok/queue', 6, 34, 'pattern'],
    ['/pipelines/tpl/workflowTemplate', 7, 28, 'pattern'],
  ]);
  assert.match(problems[0]!.message, /key "Check" is not a pipeline name/);
});

test('at most 32 pipelines', () => {
  const many = Array.from({ length: 33 }, (_, i) => `  p${i}: { workflow: a.yaml }`).join('\n');
  assert.equal(where(bad(`pipelines:\n${many}\n`)), [['/pipelines', 2, 3, 'maxProperties']]);
});

test('bad group names: control characters, surrounding spaces, too long, duplicates, too many', () => {
  const problems = bad(`owners: ["a\\tb", " lead", "trail ", "${'g'.repeat(129)}", "", ok, ok]
viewers: [${Array.from({ length: 51 }, (_, i) => `g${i}`).join(', ')}]
`);
  assert.equal(
    where(problems).map(([path, , , rule]) => [path, rule]),
    [
      ['/owners/0', 'pattern'],
      ['/owners/1', 'pattern'],
      ['/owners/2', 'pattern'],
      ['/owners/3', 'maxLength'],
      ['/owners/4', 'pattern'],
      ['/owners/6', 'uniqueItems'],
      ['/viewers', 'maxItems'],
    ],
  );
  assert.ok(ok('owners: ["Seakeeper CI", "ldap/wmf", "Ünïcode group"]').owners.length === 3);
});

test('non-mapping roots', () => {
  for (const text of ['[owners]', '"just text"', '42', 'true']) {
    const problems = bad(text);
    assert.equal(where(problems), [['', 1, 1, 'type']], text);
    assert.match(problems[0]!.message, /^must be a mapping \(key: value\), not /);
  }
});

test('empty documents, duplicate keys, alias bombs, 5 MiB and bad YAML go through the safe parser', () => {
  assert.is(bad('')[0]!.rule, RULES.empty);
  assert.is(bad('# only a comment\n')[0]!.rule, RULES.empty);
  assert.equal(where(bad('owners: [a]\nowners: [b]\n')), [['', 2, 1, RULES.duplicateKey]]);
  let bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 0; i < 8; i++) bomb += `${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [${Array(10).fill(i === 0 ? '*a' : `*${'b'.repeat(i)}`).join(', ')}]\n`;
  assert.is(bad(`${bomb}owners: *${'b'.repeat(8)}\n`)[0]!.rule, RULES.aliasLimit);
  assert.is(bad(`owners: ["${'x'.repeat(5 * 1024 * 1024)}"]\n`)[0]!.rule, RULES.maxSize);
  assert.is(bad('owners: [a\n')[0]!.rule, RULES.syntax);
  assert.is(bad('owners: !!python/object x\n')[0]!.rule, RULES.tag);
});

test('a problem reached through an alias is located at the anchored node', () => {
  const problems = bad('x-base: &r { cpu: "99" }\nresources: *r\n');
  assert.equal(where(problems)[0], ['/x-base', 1, 1, 'additionalProperties']);
  const capped = bad('resources: &r { cpu: "99" }\n');
  assert.equal(where(capped), [['/resources/cpu', 1, 22, 'policy-cap']]);
});

test('problems name the file as given', () => {
  const [p] = (parseProjectConfig('nope: 1', testPolicy, { file: 'mediawiki:seakeeper.yaml' }) as { problems: ConfigProblem[] }).problems;
  assert.is(p!.file, 'mediawiki:seakeeper.yaml');
});

test('property: random documents never throw, and every problem is located', () => {
  const key = fc.constantFrom('pipelines', 'resources', 'owners', 'viewers', 'cpu', 'memory', 'pods', 'workflow', 'queue', 'x');
  const value = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.string({ maxLength: 12 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(key, tie('v'), { maxKeys: 4 }),
    ),
  })).v;
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 5 }), (doc) => {
      const result = parseProjectConfig(JSON.stringify(doc), testPolicy);
      if (result.ok) return;
      for (const p of result.problems) {
        assert.ok(p.line >= 1 && p.column >= 1);
        assert.ok(p.path === '' || p.path.startsWith('/'));
        assert.ok(p.rule.length > 0 && p.message.length > 0);
      }
    }),
    { numRuns: 1000 },
  );
});

test.run();
