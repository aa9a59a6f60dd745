import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse as parseYamlText, stringify } from 'yaml';
import { isDnsLabel, namespaceFor, projectHash } from '../../shared/names.js';
import { buildWorkflow, MAX_WORKFLOW_NAME, runParameters, workflowName } from '../../shared/pipelines/workflow-builder.js';
import { fromSafeText, PARAMETER_NAMES, runOf, safeText } from '../../shared/runs/workflow.js';
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
    // Every text in its safe form: a space is %20.
    { name: 'subject', value: 'Fix%20the%20frobnicator' },
    { name: 'pipeline', value: 'check' },
    // The definition's own parameter follows; its `branch` placeholder gave way to the real value.
    { name: 'php', value: '8.2' },
  ]);
  // What the definition said stays as it was written, but for the change's environment on every container.
  const withEnvironment = (checked().spec.templates as Array<Record<string, unknown>>).map((t) =>
    t.container ? { ...t, container: { ...(t.container as object), envFrom: [{ configMapRef: { name: workflow.metadata.name } }] } } : t,
  );
  assert.equal(spec.templates, withEnvironment);
  assert.is(spec.entrypoint, 'main');
});

test('the change ConfigMap: named as the run, in its namespace, the exact text under SEAKEEPER_* names', () => {
  const { workflow, environment } = build();
  assert.equal(environment.metadata, {
    name: workflow.metadata.name,
    namespace: workflow.metadata.namespace,
    labels: {
      'app.kubernetes.io/managed-by': 'seakeeper',
      'seakeeper.dev/project-hash': projectHash('mediawiki/core'),
      'seakeeper.dev/pipeline': 'check',
      'seakeeper.dev/change': '12345',
      'seakeeper.dev/patchset': '3',
    },
  });
  assert.equal(environment.data, {
    SEAKEEPER_PROJECT: 'mediawiki/core',
    SEAKEEPER_BRANCH: 'master',
    SEAKEEPER_CHANGE: '12345',
    SEAKEEPER_PATCHSET: '3',
    SEAKEEPER_REF: 'refs/changes/45/12345/3',
    SEAKEEPER_REVISION: '0123456789abcdef0123456789abcdef01234567',
    SEAKEEPER_CHANGE_URL: 'https://gerrit.example.org/c/mediawiki/core/+/12345',
    SEAKEEPER_SUBJECT: 'Fix the frobnicator',
    SEAKEEPER_PIPELINE: 'check',
  });
});

test('a run the caller names (a gate run): its name, more exact text in its ConfigMap, more labels and annotations', () => {
  const trigger = firstTrigger(patchsetCreated());
  const { workflow, environment } = buildWorkflow({
    trigger,
    eventId: EVENT_ID,
    definition: checked(),
    name: 'gate-and-submit-12345-3-0123456789',
    environment: { SEAKEEPER_CHANGES: 'mediawiki/core master refs/changes/45/12345/3 0123456789abcdef0123456789abcdef01234567' },
    labels: { 'seakeeper.dev/queue-hash': 'abc' },
    annotations: { 'seakeeper.dev/queue': 'mediawiki%20master' },
  });
  assert.is(workflow.metadata.name, 'gate-and-submit-12345-3-0123456789');
  assert.is(environment.metadata.name, workflow.metadata.name);
  assert.is(environment.data.SEAKEEPER_CHANGES, 'mediawiki/core master refs/changes/45/12345/3 0123456789abcdef0123456789abcdef01234567');
  assert.is(environment.data.SEAKEEPER_PROJECT, 'mediawiki/core');
  assert.is(workflow.metadata.labels['seakeeper.dev/queue-hash'], 'abc');
  assert.is(workflow.metadata.labels['seakeeper.dev/change'], '12345');
  assert.is(workflow.metadata.annotations['seakeeper.dev/queue'], 'mediawiki%20master');
  const container = (workflow.spec.templates as Array<{ container?: { envFrom?: unknown[] } }>).find((t) => t.container)!.container!;
  assert.equal(container.envFrom!.at(-1), { configMapRef: { name: 'gate-and-submit-12345-3-0123456789' } });
});

test('every container of every template gets the environment, appended to its own envFrom', () => {
  const definition = checked(`apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - name: inline
            inline: { container: { image: alpine, envFrom: [{ secretRef: { name: token } }] } }
    - name: script
      script: { image: alpine, source: "true" }
      initContainers: [{ name: init, image: alpine }]
      sidecars: [{ name: db, image: mariadb }]
    - name: set
      containerSet: { containers: [{ name: a, image: alpine }, { name: b, image: alpine }] }
    - name: dag
      dag: { tasks: [{ name: t, inline: { container: { image: alpine } } }] }
    - name: suspend
      suspend: {}
`);
  const { workflow } = buildWorkflow({ trigger: firstTrigger(patchsetCreated()), eventId: EVENT_ID, definition });
  const ours = { configMapRef: { name: workflow.metadata.name } };
  const [main, script, set, dag, suspend] = workflow.spec.templates as Array<Record<string, any>>;
  assert.equal(main!.steps[0][0].inline.container.envFrom, [{ secretRef: { name: 'token' } }, ours]);
  assert.equal(script!.script.envFrom, [ours]);
  assert.equal(script!.initContainers[0].envFrom, [ours]);
  assert.equal(script!.sidecars[0].envFrom, [ours]);
  assert.equal(set!.containerSet.containers.map((c: { envFrom: unknown }) => c.envFrom), [[ours], [ours]]);
  assert.equal(dag!.dag.tasks[0].inline.container.envFrom, [ours]);
  assert.equal(suspend, { name: 'suspend', suspend: {} });
  // The definition it was built from is left as it was.
  assert.is((definition.spec.templates as Array<Record<string, any>>)[1]!.script.envFrom, undefined);
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

/** What Seakeeper hands to Argo's template engine: nothing that is shell syntax or opens a substitution. */
const SAFE_FORM = /^[A-Za-z0-9._/:+%-]*$/;

test('untrusted text reaches Argo only in its safe form, and the run\'s steps exactly, through the ConfigMap', () => {
  const trigger = firstTrigger(patchsetCreated({ change: { branch: HOSTILE_TEXT, subject: HOSTILE_TEXT, url: `https://g/${HOSTILE_TEXT}` } }));
  const { workflow, environment } = buildWorkflow({ trigger, eventId: `${EVENT_ID} {{workflow.name}}`, definition: checked() });
  const params = Object.fromEntries(((workflow.spec.arguments as { parameters: Array<{ name: string; value: string }> }).parameters).map((p) => [p.name, p.value]));
  for (const [name, value] of Object.entries(params)) assert.ok(SAFE_FORM.test(value), `${name}: ${value}`);
  assert.is(params.branch, safeText(HOSTILE_TEXT));
  assert.is(fromSafeText(params.branch!), HOSTILE_TEXT);
  assert.is(fromSafeText(params.subject!), HOSTILE_TEXT);
  assert.is(fromSafeText(params.change_url!), `https://g/${HOSTILE_TEXT}`);
  for (const key of ['seakeeper.dev/project', 'seakeeper.dev/branch', 'seakeeper.dev/change-url', 'seakeeper.dev/event-id', 'seakeeper.dev/definition']) {
    assert.ok(SAFE_FORM.test(workflow.metadata.annotations[key]!), key);
  }
  assert.equal(environment.data.SEAKEEPER_BRANCH, HOSTILE_TEXT);
  assert.equal(environment.data.SEAKEEPER_SUBJECT, HOSTILE_TEXT);
  assert.equal(environment.data.SEAKEEPER_CHANGE_URL, `https://g/${HOSTILE_TEXT}`);
  // The run model reads the exact text back.
  const run = runOf(workflow)!;
  assert.is(run.branch, HOSTILE_TEXT);
  assert.is(run.changeUrl, `https://g/${HOSTILE_TEXT}`);
  assert.is(run.eventId, `${EVENT_ID} {{workflow.name}}`);
  // The text went nowhere else in any form Argo would act on: not into the templates, the name, or a label.
  assert.not.match(JSON.stringify({ ...workflow, spec: { ...workflow.spec, templates: undefined } }), /rm -rf|\{\{|\$\(|`/);
  assert.not.match(JSON.stringify(workflow.spec.templates), /rm -rf|%7B/);
  for (const value of Object.values(workflow.metadata.labels)) assert.ok(LABEL_VALUE.test(value), value);
});

test('safe form: names Wikimedia uses stay as they are; everything else is percent-encoded UTF-8 and reads back', () => {
  for (const name of ['master', 'wmf/1.42.0-wmf.5', 'REL1_39', 'mediawiki/extensions/CirrusSearch', 'https://gerrit.example.org/c/mediawiki/core/+/12345', 'refs/changes/45/12345/3']) {
    assert.is(safeText(name), name);
  }
  assert.is(safeText('a b$(c)\'d"{{e}}\n~!*'), 'a%20b%24%28c%29%27d%22%7B%7Be%7D%7D%0A%7E%21%2A');
  assert.is(safeText('ü🚀'), '%C3%BC%F0%9F%9A%80');
  assert.is(safeText('100%'), '100%25');
  // A lone surrogate has no UTF-8: it reads back as U+FFFD.
  assert.is(fromSafeText(safeText('a\ud800b')), 'a\ufffdb');
  // Values it did not write (a run made before) are read as they are.
  assert.is(fromSafeText('50% off'), '50% off');
});

test('property: any branch, subject and project reach Argo in their safe form and the ConfigMap exactly; labels and names stay valid', () => {
  const definition = checked();
  fc.assert(
    fc.property(fc.string({ unit: 'binary', minLength: 1 }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }), (branch, subject, project) => {
      const trigger = firstTrigger(patchsetCreated({ change: { branch, subject, project } }));
      const { workflow, environment } = buildWorkflow({ trigger, eventId: EVENT_ID, definition });
      const params = (workflow.spec.arguments as { parameters: Array<{ name: string; value: string }> }).parameters;
      assert.equal(params.slice(0, PARAMETER_NAMES.length), runParameters(trigger));
      for (const p of params.slice(0, PARAMETER_NAMES.length)) assert.ok(SAFE_FORM.test(p.value), p.value);
      assert.is(fromSafeText(params.find((p) => p.name === 'branch')!.value), branch.toWellFormed());
      assert.is(fromSafeText(params.find((p) => p.name === 'subject')!.value), subject.toWellFormed());
      assert.is(workflow.metadata.annotations['seakeeper.dev/project'], safeText(project));
      assert.equal([environment.data.SEAKEEPER_BRANCH, environment.data.SEAKEEPER_SUBJECT, environment.data.SEAKEEPER_PROJECT], [branch, subject, project]);
      assert.is(workflow.metadata.namespace, namespaceFor(project));
      for (const [key, value] of Object.entries(workflow.metadata.labels)) {
        assert.ok(LABEL_KEY.test(key), key);
        assert.ok(LABEL_VALUE.test(value), value);
      }
      assert.ok(isDnsLabel(workflow.metadata.name));
      // And it reads back as the run it is.
      const run = runOf(workflow);
      assert.is(run?.project, project.toWellFormed());
      assert.is(run?.branch, branch.toWellFormed());
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

test('a WorkflowTemplate pipeline: the template\'s spec as checked, with the forced fields, parameters and environment', () => {
  const trigger = firstTrigger(patchsetCreated(), { pipelines: [{ name: 'check', workflowTemplate: 'ci' }], resources: { cpu: '4', memory: '8Gi', pods: 10 }, owners: [], viewers: [] });
  const result = checkDefinition({ kind: 'template', name: 'ci', object: { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'ci' }, spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'alpine' } }] } } });
  assert.ok(result.ok);
  if (!result.ok) return;
  const { workflow } = buildWorkflow({ trigger, eventId: EVENT_ID, definition: result.definition });
  assert.is(workflow.spec.workflowTemplateRef, undefined);
  assert.equal(workflow.spec.templates, [{ name: 'main', container: { image: 'alpine', envFrom: [{ configMapRef: { name: workflow.metadata.name } }] } }]);
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
