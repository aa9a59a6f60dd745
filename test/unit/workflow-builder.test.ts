import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse as parseYamlText, stringify } from 'yaml';
import { isDnsLabel, namespaceFor, projectHash } from '../../shared/names.js';
import { buildWorkflow, MAX_WORKFLOW_NAME, runParameters, workflowName } from '../../shared/pipelines/workflow-builder.js';
import { PARAMETER_NAMES, runOf } from '../../shared/runs/workflow.js';
import { checkDefinition } from '../../shared/pipelines/workflow-policy.js';
import { checked, commentAdded, firstTrigger, patchsetCreated, pipeline } from './support/pipelines.js';

const EVENT_ID = 'patchset-created-4f6c1d0a9e2b7c5d3f1e0a9b8c7d6e5f4a3b2c1d';
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;
const LABEL_KEY = /^(?:[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

const build = (eventId = EVENT_ID, trigger = firstTrigger(patchsetCreated())) => buildWorkflow({ trigger, eventId, definition: checked() });

test('the Workflow: namespace, labels, annotations, forced spec, parameters', () => {
  const { workflow, notes } = build();
  assert.is(workflow.apiVersion, 'argoproj.io/v1alpha1');
  assert.is(workflow.kind, 'Workflow');
  assert.is(workflow.metadata.name, workflowName('check', 12345, 3, EVENT_ID));
  assert.is(workflow.metadata.namespace, namespaceFor('mediawiki/core'));
  assert.equal(workflow.metadata.labels, {
    team: 'core',
    'app.kubernetes.io/managed-by': 'seakeeper',
    'seakeeper.dev/project-hash': projectHash('mediawiki/core'),
    'seakeeper.dev/pipeline': 'check',
    'seakeeper.dev/change': '12345',
    'seakeeper.dev/patchset': '3',
    'seakeeper.dev/revision': '0123456789abcdef0123456789abcdef01234567',
  });
  assert.equal(workflow.metadata.annotations, {
    'workflows.argoproj.io/description': 'Unit tests',
    'seakeeper.dev/project': 'mediawiki/core',
    'seakeeper.dev/branch': 'master',
    'seakeeper.dev/change-url': 'https://gerrit.example.org/c/mediawiki/core/+/12345',
    'seakeeper.dev/event-id': EVENT_ID,
    'seakeeper.dev/definition': 'ci/check.yaml',
  });
  assert.equal(notes, []);
  const spec = workflow.spec;
  assert.is(spec.serviceAccountName, 'workflow');
  assert.is(spec.podPriorityClassName, 'seakeeper-check');
  assert.is(spec.activeDeadlineSeconds, 3600);
  assert.equal(spec.podGC, { strategy: 'OnPodSuccess' });
  assert.equal(spec.ttlStrategy, { secondsAfterSuccess: 172800, secondsAfterFailure: 604800 });
  assert.equal((spec.arguments as { parameters: unknown }).parameters, [
    { name: 'project', value: 'mediawiki/core' },
    { name: 'branch', value: 'master' },
    { name: 'change', value: '12345' },
    { name: 'patchset', value: '3' },
    { name: 'ref', value: 'refs/changes/45/12345/3' },
    { name: 'revision', value: '0123456789abcdef0123456789abcdef01234567' },
    { name: 'change_url', value: 'https://gerrit.example.org/c/mediawiki/core/+/12345' },
    { name: 'subject', value: 'Fix the frobnicator' },
    { name: 'pipeline', value: 'check' },
    // The definition's own parameter follows; its `branch` placeholder gave way to the real value.
    { name: 'php', value: '8.2' },
  ]);
  // What the definition said stays as it was written: templates are never rewritten.
  assert.equal(spec.templates, checked().spec.templates);
  assert.is(spec.entrypoint, 'main');
});

test('what the policy changed is recorded on the Workflow and returned', () => {
  const definition = checked(
    'apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  entrypoint: main\n  serviceAccountName: default\n  activeDeadlineSeconds: 86400\n  templates: [{ name: main, container: { image: alpine } }]\n',
  );
  const { workflow, notes } = buildWorkflow({ trigger: firstTrigger(patchsetCreated()), eventId: EVENT_ID, definition });
  assert.is(notes.length, 2);
  assert.is(workflow.metadata.annotations['seakeeper.dev/policy-notes'], notes.join('\n'));
  assert.is(workflow.spec.activeDeadlineSeconds, 3600);
});

test('deterministic: the same event builds the same Workflow, to the byte', () => {
  assert.is(JSON.stringify(build()), JSON.stringify(build()));
  assert.is(stringify(build().workflow), stringify(build().workflow));
});

test('names: a redelivery maps to the same name, a recheck (another event) to a new one', () => {
  const first = build().workflow.metadata.name;
  assert.is(build().workflow.metadata.name, first);
  const recheck = buildWorkflow({ trigger: firstTrigger(commentAdded('recheck')), eventId: 'comment-added-9a8b', definition: checked() }).workflow.metadata.name;
  assert.is.not(recheck, first);
  assert.match(recheck, /^check-12345-3-[0-9a-f]{10}$/);
  // The same event in two pipelines: two runs.
  assert.is.not(workflowName('check', 1, 1, 'e'), workflowName('experimental', 1, 1, 'e'));
});

test('names stay within 50 characters and are DNS labels, whatever the pipeline name and numbers', () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/),
      fc.integer({ min: 1, max: 2_147_483_647 }),
      fc.integer({ min: 1, max: 99_999 }),
      fc.string(),
      (pipelineName, change, patchset, eventId) => {
        const name = workflowName(pipelineName, change, patchset, eventId);
        assert.ok(name.length <= MAX_WORKFLOW_NAME, name);
        assert.ok(isDnsLabel(name), name);
        assert.ok(name.endsWith(`-${change}-${patchset}-${name.slice(-10)}`));
      },
    ),
  );
  assert.is(workflowName('a-very-long-pipeline-name-of-forty-chars', 2_147_483_647, 99_999, 'x').length, MAX_WORKFLOW_NAME);
});

const HOSTILE_TEXT = 'feature/"quoted" \'single\' {{workflow.name}} {{=sprig.env("X")}} $(rm -rf /) `id` ${HOME}\nsecond line\ttab ünïcødé ✓ 🚀 \u202e';

test('untrusted text arrives verbatim as parameter values and annotations', () => {
  const trigger = firstTrigger(patchsetCreated({ change: { branch: HOSTILE_TEXT, subject: HOSTILE_TEXT, url: `https://g/${HOSTILE_TEXT}` } }));
  const { workflow } = buildWorkflow({ trigger, eventId: EVENT_ID, definition: checked() });
  const params = Object.fromEntries(((workflow.spec.arguments as { parameters: Array<{ name: string; value: string }> }).parameters).map((p) => [p.name, p.value]));
  assert.is(params.branch, HOSTILE_TEXT);
  assert.is(params.subject, HOSTILE_TEXT);
  assert.is(params.change_url, `https://g/${HOSTILE_TEXT}`);
  assert.is(workflow.metadata.annotations['seakeeper.dev/branch'], HOSTILE_TEXT);
  // Through JSON (what the API server receives) and YAML (what `argo get -o yaml` shows) unchanged.
  assert.equal(JSON.parse(JSON.stringify(workflow)), workflow);
  assert.equal(parseYamlText(stringify(workflow)), workflow);
  // The text went nowhere else: not into the templates, the name, or a label.
  assert.not.match(JSON.stringify(workflow.spec.templates), /rm -rf/);
  for (const value of Object.values(workflow.metadata.labels)) assert.ok(LABEL_VALUE.test(value), value);
});

test('property: any branch, subject and project arrive verbatim; labels and names stay valid', () => {
  const definition = checked();
  fc.assert(
    fc.property(fc.string({ unit: 'binary', minLength: 1 }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }), (branch, subject, project) => {
      const trigger = firstTrigger(patchsetCreated({ change: { branch, subject, project } }));
      const { workflow } = buildWorkflow({ trigger, eventId: EVENT_ID, definition });
      const params = (workflow.spec.arguments as { parameters: Array<{ name: string; value: string }> }).parameters;
      assert.equal(params.slice(0, PARAMETER_NAMES.length), runParameters(trigger));
      assert.is(params.find((p) => p.name === 'branch')!.value, branch);
      assert.is(params.find((p) => p.name === 'subject')!.value, subject);
      assert.is(params.find((p) => p.name === 'project')!.value, project);
      assert.is(workflow.metadata.annotations['seakeeper.dev/project'], project);
      assert.is(workflow.metadata.namespace, namespaceFor(project));
      for (const [key, value] of Object.entries(workflow.metadata.labels)) {
        assert.ok(LABEL_KEY.test(key), key);
        assert.ok(LABEL_VALUE.test(value), value);
      }
      assert.ok(isDnsLabel(workflow.metadata.name));
      // And it reads back as the run it is.
      const run = runOf(workflow);
      assert.is(run?.project, project);
      assert.is(run?.branch, branch);
    }),
    { numRuns: 200 },
  );
});

test('a run speaks only for the project whose namespace it is in: the same labels in another namespace are no run', () => {
  const { workflow } = build();
  assert.ok(runOf(workflow));
  const elsewhere = { ...workflow, metadata: { ...workflow.metadata, namespace: namespaceFor('another/project') } };
  assert.is(runOf(elsewhere), undefined);
  assert.is(runOf({ ...workflow, metadata: { ...workflow.metadata, namespace: undefined } }), undefined);
});

test('a WorkflowTemplate pipeline: a reference to the template, with the forced fields and parameters', () => {
  const trigger = firstTrigger(patchsetCreated(), { pipelines: [{ name: 'check', workflowTemplate: 'ci' }], resources: { cpu: '4', memory: '8Gi', pods: 10 }, owners: [], viewers: [] });
  const result = checkDefinition({ kind: 'template', name: 'ci', object: { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'ci' }, spec: { templates: [] } } });
  assert.ok(result.ok);
  if (!result.ok) return;
  const { workflow } = buildWorkflow({ trigger, eventId: EVENT_ID, definition: result.definition });
  assert.equal(workflow.spec.workflowTemplateRef, { name: 'ci' });
  assert.is(workflow.spec.serviceAccountName, 'workflow');
  assert.is(workflow.metadata.annotations['seakeeper.dev/definition'], 'WorkflowTemplate/ci');
  assert.is((workflow.spec.arguments as { parameters: unknown[] }).parameters.length, PARAMETER_NAMES.length);
});

test('the gate pipeline gets the gate priority class and its own deadline', () => {
  const trigger = { ...firstTrigger(patchsetCreated()), pipeline: pipeline('gate-and-submit') };
  const { workflow } = buildWorkflow({ trigger, eventId: EVENT_ID, definition: checked() });
  assert.is(workflow.spec.podPriorityClassName, 'seakeeper-gate');
  assert.is(workflow.spec.activeDeadlineSeconds, 5400);
  assert.is(workflow.metadata.labels['seakeeper.dev/pipeline'], 'gate-and-submit');
});

test.run();
