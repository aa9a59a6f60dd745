// The workflow policy's artifact-location rule: a definition's artifacts keep to the namespace's repository (no
// location of their own, no archiveLocation but archiveLogs, no artifactRepositoryRef, no subPath that climbs
// out of the key); raw data inline is fine. Admission (seakeeper-project-workflows) refuses the same for every
// author; here the owner hears about it with the field located.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatProblem } from '../../shared/config/yaml.js';
import { ARTIFACT_LOCATION_KINDS, checkDefinition, checkWorkflowTemplate, POLICY_RULES } from '../../shared/pipelines/workflow-policy.js';

const FILE = 'ci/check.yaml';
const R = POLICY_RULES;

/** A Workflow file with `spec` (YAML, in flow style or indented by two) under its spec. */
const workflow = (spec: string) => `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: check-
spec:
  ${spec.trim().replace(/\n/g, '\n  ')}
`;

function problems(text: string) {
  const result = checkDefinition({ kind: 'file', file: FILE, text });
  return result.ok ? [] : result.problems;
}

const main = (fields: string) => `entrypoint: main\ntemplates:\n  - { name: main, container: { image: alpine }, ${fields} }`;
const step = (fields: string) => `entrypoint: main\ntemplates:\n  - { name: main, steps: [[{ name: s, template: work, ${fields} }]] }\n  - { name: work, container: { image: alpine } }`;
const task = (fields: string) => `entrypoint: main\ntemplates:\n  - { name: main, dag: { tasks: [{ name: t, template: work, ${fields} }] } }\n  - { name: work, container: { image: alpine } }`;

// [what, spec, JSON pointer of the refused field, a phrase of the message]
const REFUSED: Array<[string, string, string, string]> = [
  ['an output under a key of its own', main('outputs: { artifacts: [{ name: logs, path: /logs, s3: { key: sk-victim/run/main.log } }] }'), '/spec/templates/0/outputs/artifacts/0/s3', 'artifact "logs" names its own s3 location'],
  ['an input from another bucket with credentials', main('inputs: { artifacts: [{ name: in, path: /in, s3: { bucket: other, key: x, accessKeySecret: { name: seakeeper-artifacts, key: accesskey } } }] }'), '/spec/templates/0/inputs/artifacts/0/s3', "other projects' artifacts and logs"],
  ['a gcs input', main('inputs: { artifacts: [{ name: in, path: /in, gcs: { bucket: b, key: k } }] }'), '/spec/templates/0/inputs/artifacts/0/gcs', 'own gcs location'],
  ['an azure output', main('outputs: { artifacts: [{ name: o, path: /o, azure: { endpoint: "https://x", container: c, blob: b } }] }'), '/spec/templates/0/outputs/artifacts/0/azure', 'own azure location'],
  ['an oss input', main('inputs: { artifacts: [{ name: in, path: /in, oss: { key: k } }] }'), '/spec/templates/0/inputs/artifacts/0/oss', 'own oss location'],
  ['an hdfs input', main('inputs: { artifacts: [{ name: in, path: /in, hdfs: { path: /x } }] }'), '/spec/templates/0/inputs/artifacts/0/hdfs', 'own hdfs location'],
  ['an artifactory output', main('outputs: { artifacts: [{ name: o, path: /o, artifactory: { url: "https://x" } }] }'), '/spec/templates/0/outputs/artifacts/0/artifactory', 'own artifactory location'],
  ['a git input', main('inputs: { artifacts: [{ name: src, path: /src, git: { repo: "http://169.254.169.254/" } }] }'), '/spec/templates/0/inputs/artifacts/0/git', "Argo's server fetches from it, from its own network"],
  ['an http argument of the Workflow', `arguments: { artifacts: [{ name: bin, http: { url: "http://metadata.google.internal/" } }] }\n${main('inputs: { artifacts: [{ name: bin, path: /bin }] }')}`, '/spec/arguments/artifacts/0/http', 'fetch or send it in a step instead (curl)'],
  ['an argument of a step', step('arguments: { artifacts: [{ name: x, s3: { key: k } }] }'), '/spec/templates/0/steps/0/0/arguments/artifacts/0/s3', 'own s3 location'],
  ['an argument of a DAG task', task('arguments: { artifacts: [{ name: x, gcs: { key: k } }] }'), '/spec/templates/0/dag/tasks/0/arguments/artifacts/0/gcs', 'own gcs location'],
  ['an argument of a step\'s hook', step('hooks: { exit: { template: work, arguments: { artifacts: [{ name: x, s3: { key: k } }] } } }'), '/spec/templates/0/steps/0/0/hooks/exit/arguments/artifacts/0/s3', 'own s3 location'],
  ['an argument of the Workflow\'s hook', `hooks: { exit: { template: main, arguments: { artifacts: [{ name: x, oss: { key: k } }] } } }\n${main('')}`, '/spec/hooks/exit/arguments/artifacts/0/oss', 'own oss location'],
  ['an input of an inline template', task('inline: { inputs: { artifacts: [{ name: x, path: /x, s3: { key: k } }] }, container: { image: alpine } }').replace('template: work, ', ''), '/spec/templates/0/dag/tasks/0/inline/inputs/artifacts/0/s3', 'own s3 location'],
  ['an output of templateDefaults', `templateDefaults: { outputs: { artifacts: [{ name: x, path: /x, s3: { key: k } }] } }\n${main('')}`, '/spec/templateDefaults/outputs/artifacts/0/s3', 'own s3 location'],
  ['a data template\'s artifactPaths', 'entrypoint: main\ntemplates:\n  - { name: main, data: { source: { artifactPaths: { name: all, s3: { bucket: b } } }, transformation: [] } }', '/spec/templates/0/data/source/artifactPaths/s3', 'artifact "all" names its own s3 location'],
  ['an archiveLocation', main('archiveLocation: { archiveLogs: true, s3: { key: sk-victim/logs } }'), '/spec/templates/0/archiveLocation/s3', 'archiveLocation may only set archiveLogs'],
  ['artifactRepositoryRef', `artifactRepositoryRef: { configMap: artifact-repositories, key: other }\n${main('')}`, '/spec/artifactRepositoryRef', 'picks another repository configuration'],
  ['a subPath with ..', step('arguments: { artifacts: [{ name: x, from: "{{workflow.outputs.artifacts.a}}", subPath: ../../../sk-victim/x }] }'), '/spec/templates/0/steps/0/0/arguments/artifacts/0/subPath', "could climb out of the artifact's key"],
  ['a subPath from a parameter', step('arguments: { artifacts: [{ name: x, from: "{{workflow.outputs.artifacts.a}}", subPath: "{{workflow.parameters.dir}}" }] }'), '/spec/templates/0/steps/0/0/arguments/artifacts/0/subPath', 'after substituting parameters'],
];

for (const [what, spec, pointer, phrase] of REFUSED) {
  test(`refused: ${what}`, () => {
    const found = problems(workflow(spec));
    assert.equal(found.map((p) => [p.rule, p.path]), [[R.artifactLocation, pointer]], found.map(formatProblem).join('\n'));
    assert.match(found[0]!.message, phrase);
  });
}

test('the location kinds are those of Argo\'s ArtifactLocation but archiveLogs and raw (config/argo-fields.json)', () => {
  const fields = JSON.parse(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/argo-fields.json'), 'utf8')) as {
    definitions: Record<string, { properties?: Record<string, unknown> }>;
  };
  const kinds = Object.keys(fields.definitions['io.argoproj.workflow.v1alpha1.ArtifactLocation']!.properties!).filter((k) => k !== 'archiveLogs' && k !== 'raw');
  assert.equal([...ARTIFACT_LOCATION_KINDS].sort(), kinds.sort());
});

test("allowed: the namespace's repository (outputs, from, globalName, archive), raw data, archived logs, a plain subPath", () => {
  const spec = `entrypoint: main
archiveLogs: true
arguments: { artifacts: [{ name: note, raw: { data: hello } }] }
templates:
  - name: main
    steps:
      - - { name: make, template: make }
      - - name: use
          template: use
          arguments:
            artifacts:
              - { name: in, from: "{{steps.make.outputs.artifacts.out}}", subPath: dir/file.txt }
              - { name: note, raw: { data: "a {{workflow.name}} note" } }
  - name: make
    archiveLocation: { archiveLogs: true }
    container: { image: alpine }
    outputs: { artifacts: [{ name: out, path: /out, globalName: out, archive: { none: {} }, optional: true }] }
  - name: use
    container: { image: alpine }
    inputs: { artifacts: [{ name: in, path: /in, mode: 0o644 }, { name: note, path: /note }] }`;
  assert.equal(problems(workflow(spec)).map(formatProblem), []);
});

test('a location key is located at line:column in the file, and every one is reported', () => {
  const text = workflow(main('outputs: { artifacts: [{ name: a, path: /a, s3: { key: x } }, { name: b, path: /b, gcs: { key: y } }] }'));
  const found = problems(text);
  assert.equal(found.map((p) => p.path), ['/spec/templates/0/outputs/artifacts/0/s3', '/spec/templates/0/outputs/artifacts/1/gcs']);
  const line = text.split('\n').findIndex((l) => l.includes('s3:')) + 1;
  assert.is(found[0]!.line, line);
  assert.is(found[0]!.column, text.split('\n')[line - 1]!.indexOf('s3:') + 1);
});

test('a WorkflowTemplate read from the namespace is held to the same rule', () => {
  const template = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'WorkflowTemplate',
    metadata: { name: 'ci' },
    spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'alpine' }, outputs: { artifacts: [{ name: 'o', path: '/o', s3: { key: 'sk-victim/x' } }] } }] },
  };
  assert.equal(checkWorkflowTemplate('ci', template).map((p) => [p.rule, p.path]), [[R.artifactLocation, '/spec/templates/0/outputs/artifacts/0/s3']]);
});

test("podSpecPatch of the artifact garbage collector's pod is refused like any other (pod-spec-patch)", () => {
  const found = problems(workflow(`artifactGC: { strategy: OnWorkflowDeletion, podSpecPatch: '{"hostNetwork": true}' }\n${main('')}`));
  assert.equal(found.map((p) => [p.rule, p.path]), [[R.podSpecPatch, '/spec/artifactGC/podSpecPatch']]);
});

test('a location key spelled otherwise is the unknown-field rule\'s, not read as a location', () => {
  const found = problems(workflow(main('outputs: { artifacts: [{ name: o, path: /o, S3: { key: x } }] }')));
  assert.equal(found.map((p) => [p.rule, p.path]), [[R.unknownField, '/spec/templates/0/outputs/artifacts/0/S3']]);
});

test.run();
