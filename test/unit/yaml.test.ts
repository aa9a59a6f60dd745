import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  compileSchema,
  ConfigInvalidError,
  DEFAULT_YAML_LIMITS,
  formatProblem,
  parseYaml,
  pointerTokens,
  RULES,
  schemaProblems,
  toPointer,
  type ConfigProblem,
  type YamlResult,
} from '../../shared/config/yaml.js';
import { PermanentError } from '../../shared/errors.js';

const problems = (result: YamlResult): ConfigProblem[] => {
  assert.not.ok(result.ok, 'expected problems');
  return result.ok ? [] : result.problems;
};

function billionLaughs(levels = 9): string {
  let text = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 1; i < levels; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
  return text;
}

test('a document over the size limit is refused before parsing, with its size and the limit', () => {
  const huge = `a: "${'x'.repeat(5 * 1024 * 1024)}"\n`;
  const [p] = problems(parseYaml(huge, 'seakeeper.yaml'));
  assert.equal({ rule: p!.rule, path: p!.path, line: p!.line, column: p!.column, file: p!.file }, { rule: RULES.maxSize, path: '', line: 1, column: 1, file: 'seakeeper.yaml' });
  assert.match(p!.message, /5\.0 MiB/);
  assert.match(p!.message, /256 KiB/);
});

test('the size limit counts UTF-8 bytes, and exactly the limit is accepted', () => {
  const limit = DEFAULT_YAML_LIMITS.maxBytes;
  const exact = `a: ${'x'.repeat(limit - 3)}`;
  assert.is(Buffer.byteLength(exact), limit);
  assert.ok(parseYaml(exact, 'f').ok);
  assert.is(problems(parseYaml(`${exact}x`, 'f'))[0]!.rule, RULES.maxSize);
  const wide = `a: ${'é'.repeat(limit / 2)}`; // 2 bytes each
  assert.is(problems(parseYaml(wide, 'f'))[0]!.rule, RULES.maxSize);
});

test('a billion-laughs alias bomb is refused at the first alias', () => {
  const [p, ...rest] = problems(parseYaml(billionLaughs(), 'seakeeper.yaml'));
  assert.is(rest.length, 0);
  assert.is(p!.rule, RULES.aliasLimit);
  assert.is(p!.line, 2);
  assert.is(p!.column, 10);
});

test('a few aliases are fine; none at all with maxAliasCount 0', () => {
  const text = 'x: &g owners\ny: *g\nz: *g\n';
  const ok = parseYaml(text, 'f');
  assert.ok(ok.ok);
  if (ok.ok) assert.equal(ok.document.value, { x: 'owners', y: 'owners', z: 'owners' });
  assert.is(problems(parseYaml(text, 'f', { ...DEFAULT_YAML_LIMITS, maxAliasCount: 0 }))[0]!.rule, RULES.alias);
});

test('duplicate keys are refused, located at the second one', () => {
  const [p] = problems(parseYaml('owners: [a]\nviewers: [b]\nowners: [c]\n', 'seakeeper.yaml'));
  assert.is(p!.rule, RULES.duplicateKey);
  assert.is(p!.line, 3);
  assert.is(p!.column, 1);
  assert.match(p!.message, /"owners"/);
});

test('empty and comment-only documents are refused', () => {
  for (const text of ['', '\n\n', '# nothing here\n', '---\n', '~\n', 'null\n']) {
    assert.is(problems(parseYaml(text, 'f'))[0]!.rule, RULES.empty, JSON.stringify(text));
  }
});

test('more than one document is refused', () => {
  const [p] = problems(parseYaml('a: 1\n---\nb: 2\n', 'f'));
  assert.is(p!.rule, RULES.multipleDocuments);
  assert.is(p!.line, 2);
});

test('custom tags are refused (no !!js/function, no !!python/object)', () => {
  const found = problems(parseYaml('a: !!js/function "x"\nb: !!python/object:os.system "ls"\nc: !local x\n', 'f'));
  assert.is(found.length, 3);
  for (const p of found) assert.is(p.rule, RULES.tag);
  assert.equal(
    found.map((p) => p.line),
    [1, 2, 3],
  );
});

test('collection keys are refused without a process warning', () => {
  const warnings: unknown[] = [];
  const listener = (w: unknown) => warnings.push(w);
  process.on('warning', listener);
  try {
    const [p] = problems(parseYaml('? [a, b]\n: 1\n', 'f'));
    assert.is(p!.rule, RULES.complexKey);
  } finally {
    process.off('warning', listener);
  }
  assert.is(warnings.length, 0);
});

test('deep nesting is refused with a bounded number of problems', () => {
  const result = parseYaml('['.repeat(200_000), 'f');
  const found = problems(result);
  assert.ok(found.length <= DEFAULT_YAML_LIMITS.maxProblems);
  assert.ok(found.some((p) => p.rule === RULES.tooDeep));
});

test('syntax errors are located', () => {
  const [p] = problems(parseYaml('a: 1\nb: [1, 2\nc: 3\n', 'f'));
  assert.is(p!.rule, RULES.syntax);
  assert.ok(p!.line >= 2);
  const [tab] = problems(parseYaml('a:\n\tb: 1\n', 'f'));
  assert.is(tab!.line, 2);
});

test('inside [ ] and { } indentation does not matter, as for kubectl and the argo CLI (libyaml)', () => {
  // Argo's examples (ci.yaml, sidecar.yaml, …) close a multi-line argument at the key's own column.
  const text = 'c:\n  command: [sh, -c]\n  args: ["\n    make &&\n    make test\n  "]\n  env: {A: 1,\nB: 2}\n  image: alpine\n';
  const result = parseYaml(text, 'f');
  assert.ok(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n'));
  if (!result.ok) return;
  assert.equal(result.document.value, { c: { command: ['sh', '-c'], args: [' make && make test '], env: { A: 1, B: 2 }, image: 'alpine' } });
  assert.equal(result.document.locate('/c/image'), { line: 9, column: 10 });
  // What libyaml refuses too: a collection left open, a document marker inside one.
  assert.is(problems(parseYaml('a: [1, 2\nb: 3\n', 'f'))[0]!.rule, RULES.syntax);
  assert.ok(problems(parseYaml('a: ["x\n---\n"]\n', 'f')).length > 0);
});

test('YAML 1.2 core schema: yes/no and on/off stay text, << is a plain key', () => {
  const result = parseYaml('a: yes\nb: off\nc: {<<: {d: 1}}\n', 'f');
  assert.ok(result.ok);
  if (result.ok) assert.equal(result.document.value, { a: 'yes', b: 'off', c: { '<<': { d: 1 } } });
});

test('locate maps JSON pointers to line:column, through sequences, escapes and aliases', () => {
  const text = [
    'pipelines:', //                        1
    '  check: { workflow: check.yaml }', // 2
    '  a/b~c:', //                          3
    '    workflow: x.yaml', //              4
    'owners:', //                           5
    '  - one', //                           6
    '  - &g two', //                        7
    'viewers: [*g, three]', //              8
    'resources:', //                        9
    'ref: *g', //                           10
  ].join('\n');
  const result = parseYaml(text, 'f');
  assert.ok(result.ok);
  if (!result.ok) return;
  const loc = result.document.locate;
  assert.equal(loc(''), { line: 1, column: 1 });
  assert.equal(loc('/pipelines/check/workflow'), { line: 2, column: 22 });
  assert.equal(loc('/pipelines/check/workflow', 'key'), { line: 2, column: 12 });
  assert.equal(loc('/pipelines/a~1b~0c/workflow'), { line: 4, column: 15 });
  assert.equal(loc('/owners/1'), { line: 7, column: 8 }); // the value, after its anchor
  assert.equal(loc('/ref'), { line: 10, column: 6 });
  assert.equal(loc('/viewers/1'), { line: 8, column: 15 });
  // `resources:` with no value: the key
  assert.equal(loc('/resources'), { line: 9, column: 1 });
  // beyond what exists: the nearest ancestor
  assert.equal(loc('/pipelines/check/nope/deeper'), { line: 2, column: 10 });
  assert.equal(loc('/owners/7'), { line: 6, column: 3 });
});

test('JSON pointers round-trip through tokens', () => {
  assert.equal(pointerTokens(''), []);
  assert.equal(pointerTokens('/a~1b/c~0d/0'), ['a/b', 'c~d', '0']);
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 10 }), { maxLength: 6 }), (tokens) => {
      assert.equal(pointerTokens(toPointer(tokens)), tokens);
    }),
  );
});

test('schema problems are located, worded and in document order; __proto__ is just an unknown key', () => {
  const validate = compileSchema({
    $id: 'test://yaml.test/schema',
    type: 'object',
    additionalProperties: false,
    properties: { name: { type: 'string' }, list: { type: 'array', items: { type: 'integer' } } },
  });
  const result = parseYaml('list: [1, "two"]\n__proto__: {polluted: true}\nname: 3\n', 't.yaml');
  assert.ok(result.ok);
  if (!result.ok) return;
  const found = schemaProblems(validate, result.document);
  assert.equal(
    found.map((p) => [p.path, p.line, p.column, p.rule]),
    [
      ['/list/1', 1, 11, 'type'],
      ['/__proto__', 2, 1, 'additionalProperties'],
      ['/name', 3, 7, 'type'],
    ],
  );
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  assert.is(formatProblem(found[2]!), 't.yaml:3:7: /name: must be text, not a whole number [type]');
});

test('ConfigInvalidError is permanent and carries every problem', () => {
  const p: ConfigProblem = { file: 'f', path: '/a', line: 1, column: 2, rule: 'type', message: 'm' };
  const err = new ConfigInvalidError('invalid', Array(7).fill(p));
  assert.instance(err, PermanentError);
  assert.is(err.problems.length, 7);
  assert.match(err.message, /and 2 more/);
});

test('property: arbitrary text never throws; every problem is fully located', () => {
  const yamlish = fc.stringMatching(/^[ \n\t:,\-[\]{}&*!|>'"#%@`?a-z0-9~]{0,200}$/);
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), yamlish), (text) => {
      const result = parseYaml(text, 'x.yaml');
      if (result.ok) return;
      assert.ok(result.problems.length > 0);
      for (const p of result.problems) {
        assert.is(p.file, 'x.yaml');
        assert.ok(Number.isInteger(p.line) && p.line >= 1, `line ${p.line}`);
        assert.ok(Number.isInteger(p.column) && p.column >= 1, `column ${p.column}`);
        assert.type(p.rule, 'string');
        assert.type(p.message, 'string');
        assert.type(p.path, 'string');
      }
    }),
    { numRuns: 3000 },
  );
});

test('property: billion laughs of any depth and width never expands', () => {
  fc.assert(
    fc.property(fc.integer({ min: 4, max: 30 }), (levels) => {
      assert.is(problems(parseYaml(billionLaughs(levels), 'f'))[0]!.rule, RULES.aliasLimit);
    }),
    { numRuns: 30 },
  );
});

test.run();
