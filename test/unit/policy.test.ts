import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readConfigFile } from '../../shared/config/files.js';
import { loadPolicy, parsePolicy, queueRefusal, type Policy } from '../../shared/config/policy.js';
import { ConfigInvalidError, type ConfigProblem } from '../../shared/config/yaml.js';
import { PermanentError } from '../../shared/errors.js';
import { TEST_POLICY_YAML, testPolicy } from './support/policy.js';

const bad = (text: string): ConfigProblem[] => {
  const result = parsePolicy(text);
  assert.not.ok(result.ok);
  return result.ok ? [] : result.problems;
};
const rules = (problems: ConfigProblem[]) => problems.map((p) => [p.path, p.rule]);

test('the shipped config/policy.yaml is valid, retains by default, and loads once', () => {
  const policy = loadPolicy();
  assert.is(loadPolicy(), policy);
  assert.is(policy.deprovision, 'retain');
  assert.is(policy.groupPrefix, 'gerrit:');
  assert.is(policy.podSecurity, 'baseline');
  assert.ok(policy.artifactRepository);
  const again = parsePolicy(readConfigFile('policy.yaml'));
  assert.ok(again.ok);
});

test('defaults fill what the policy leaves out', () => {
  const text = TEST_POLICY_YAML.replace('deprovision: retain\n', '').replace(/artifactRepository:[\s\S]*$/, '');
  const result = parsePolicy(text);
  assert.ok(result.ok);
  const policy = (result as { policy: Policy }).policy;
  assert.is(policy.deprovision, 'retain');
  assert.is(policy.podSecurity, 'baseline');
  assert.is(policy.artifactRepository, undefined);
  const insecureDefault = parsePolicy(TEST_POLICY_YAML.replace('  insecure: true\n', ''));
  assert.is((insecureDefault as { policy: Policy }).policy.artifactRepository?.insecure, false);
});

test('defaults above caps, requests above limits and zero caps are located errors', () => {
  const problems = bad(`
caps: { cpu: "0", memory: 1Gi, pods: 5 }
defaults: { cpu: "1", memory: 2Gi, pods: 6 }
container:
  defaultRequest: { cpu: "2", memory: 256Mi }
  defaultLimit: { cpu: "1", memory: 128Mi }
groupPrefix: "gerrit:"
`);
  assert.equal(rules(problems), [
    ['/caps/cpu', 'exclusiveMinimum'],
    ['/defaults/cpu', 'default-above-cap'],
    ['/defaults/memory', 'default-above-cap'],
    ['/defaults/pods', 'default-above-cap'],
    ['/container/defaultRequest/cpu', 'request-above-limit'],
    ['/container/defaultRequest/memory', 'request-above-limit'],
  ]);
  assert.equal(
    problems.map((p) => [p.line, p.column]),
    [[2, 14], [3, 18], [3, 31], [3, 42], [5, 26], [5, 39]],
  );
  assert.is(problems[0]!.file, 'config/policy.yaml');
});

test('unknown keys, missing keys and bad values', () => {
  assert.equal(rules(bad(`${TEST_POLICY_YAML}extra: 1\n`)), [['/extra', 'additionalProperties']]);
  assert.equal(rules(bad(TEST_POLICY_YAML.replace('groupPrefix: "gerrit:"\n', ''))), [['', 'required']]);
  assert.equal(rules(bad(TEST_POLICY_YAML.replace('deprovision: retain', 'deprovision: purge'))), [['/deprovision', 'enum']]);
  assert.equal(rules(bad(TEST_POLICY_YAML.replace('minio.seakeeper-system.svc:9000', 'http://minio:9000'))), [['/artifactRepository/endpoint', 'pattern']]);
  assert.equal(rules(bad(TEST_POLICY_YAML.replace('groupPrefix: "gerrit:"', 'groupPrefix: "a b"'))), [['/groupPrefix', 'pattern']]);
  assert.equal(rules(bad(TEST_POLICY_YAML.replace('pods: 40', 'pods: "40"'))), [['/caps/pods', 'type']]);
});

test('ConfigInvalidError for a bad policy is permanent', () => {
  const err = new ConfigInvalidError('invalid system policy config/policy.yaml', bad('caps: 1'));
  assert.instance(err, PermanentError);
  assert.match(err.message, /^invalid system policy config\/policy\.yaml: config\/policy\.yaml:1:/);
});

test('storage: the schema\'s default when the policy names none; what it names otherwise; a negative count refused', () => {
  assert.equal(testPolicy.storage, { requests: '20Gi', claims: 10, classes: [] });
  const named = parsePolicy(`${TEST_POLICY_YAML}storage: { requests: 5Gi, claims: 2 }\n`);
  assert.ok(named.ok);
  assert.equal(named.policy.storage, { requests: '5Gi', claims: 2, classes: [] });
  const negative = parsePolicy(`${TEST_POLICY_YAML}storage: { requests: 5Gi, claims: -1 }\n`);
  assert.not.ok(negative.ok);
});

test('storage classes: none by default; StorageClass names otherwise; "", other text and duplicates refused', () => {
  const listed = parsePolicy(`${TEST_POLICY_YAML}storage: { requests: 5Gi, claims: 2, classes: [standard, fast-ssd.example.org] }\n`);
  assert.ok(listed.ok);
  assert.equal(listed.policy.storage.classes, ['standard', 'fast-ssd.example.org']);
  for (const classes of ['[""]', '["fast,slow"]', '[Standard]', '[standard, standard]']) {
    const refused = parsePolicy(`${TEST_POLICY_YAML}storage: { requests: 5Gi, claims: 2, classes: ${classes} }\n`);
    assert.not.ok(refused.ok, classes);
  }
  assert.equal(loadPolicy().storage.classes, [], 'the shipped policy allows no class until a release engineer names some');
});

test('egress: the metadata addresses by default; ranges an operator adds; text that is no CIDR refused', () => {
  assert.equal(testPolicy.egress, { deny: ['169.254.169.254/32', 'fd00:ec2::254/128'] });
  const ranges = parsePolicy(`${TEST_POLICY_YAML}egress: { deny: [10.0.0.0/8, "fd00::/8"] }\n`);
  assert.ok(ranges.ok && ranges.policy.egress.deny.join() === '10.0.0.0/8,fd00::/8');
  assert.not.ok(parsePolicy(`${TEST_POLICY_YAML}egress: { deny: [metadata.google.internal] }\n`).ok);
});

test('shared gate queues: none by default; each opened to the projects it names, exactly or by prefix; bad names and patterns are located errors', () => {
  assert.equal(loadPolicy().sharedQueues, {});
  const opened = parsePolicy(`${TEST_POLICY_YAML}\nsharedQueues:\n  mediawiki: [mediawiki/core, mediawiki/extensions/*]\n`);
  assert.ok(opened.ok);
  const policy = (opened as { policy: Policy }).policy;
  const cases: Array<[string, string | undefined, boolean]> = [
    ['mediawiki/core', 'mediawiki', true],
    ['mediawiki/extensions/Foo', 'mediawiki', true],
    ['mediawiki/extensions/Foo/Bar', 'mediawiki', true],
    ['mediawiki/extensions', 'mediawiki', false],
    ['mediawiki/core2', 'mediawiki', false],
    ['operations/puppet', 'mediawiki', false],
    // A queue nobody opened, also one spelled as another project's name (its queue of its own).
    ['operations/puppet', 'puppet', false],
    ['attacker', 'victim', false],
    // A project's own queue: without queue:, or naming itself.
    ['operations/puppet', undefined, true],
    ['victim', 'victim', true],
    // A project named like the shared queue, not among its projects: its own queue would be the shared one.
    ['mediawiki', undefined, false],
  ];
  assert.equal(
    cases.map(([project, queue]) => queueRefusal(project, queue, policy) === undefined),
    cases.map(([, , allowed]) => allowed),
  );
  assert.is(
    queueRefusal('operations/puppet', 'mediawiki', policy),
    'the gate queue "mediawiki" is shared by mediawiki/core, mediawiki/extensions/* (sharedQueues in the system policy), and operations/puppet is not among them; ask the release engineers to add it',
  );
  assert.is(
    queueRefusal('attacker', 'victim', policy),
    '"queue: victim" names no shared gate queue of the system policy (sharedQueues); ask the release engineers to open it to attacker, or remove queue: to gate in a queue of its own',
  );
  assert.equal(
    rules(bad(`${TEST_POLICY_YAML}\nsharedQueues:\n  Bad_Name: [a]\n  ok: []\n  star: ["a*b"]\n`)).map(([path]) => path),
    ['/sharedQueues/Bad_Name', '/sharedQueues/ok', '/sharedQueues/star/0'],
  );
  // Object.prototype's names are no queues.
  assert.is(typeof queueRefusal('x', 'constructor', policy), 'string');
});

test.run();
