// Builders for the pipelines tests: typed Gerrit events from plain objects (through the real parser), a
// project configuration, triggers, and Workflows as the cluster would return them.
import { parseGerritEvent, type GerritEvent } from '../../../shared/events/gerrit-event.js';
import type { ProjectConfig } from '../../../shared/config/project-config.js';
import { loadPipelines, findPipeline, type Pipeline } from '../../../shared/config/pipeline-config.js';
import type { EnqueueItem } from '../../../shared/pipelines/change-queue.js';
import { triggeredPipelines, type Trigger } from '../../../shared/pipelines/triggers.js';
import { buildWorkflow } from '../../../shared/pipelines/workflow-builder.js';
import { checkDefinition, type CheckedDefinition } from '../../../shared/pipelines/workflow-policy.js';
import type { LiveWorkflow, WorkflowStatus } from '../../../shared/runs/workflow.js';

export const PIPELINES = loadPipelines();

export function pipeline(name: string): Pipeline {
  const found = findPipeline(PIPELINES, name);
  if (!found) throw new Error(`no pipeline ${name} in config/pipelines.yaml`);
  return found;
}

export const REVISION = '0123456789abcdef0123456789abcdef01234567';

export const CHANGE = {
  project: 'mediawiki/core',
  branch: 'master',
  id: 'I0123456789abcdef0123456789abcdef01234567',
  number: 12345,
  subject: 'Fix the frobnicator',
  url: 'https://gerrit.example.org/c/mediawiki/core/+/12345',
  status: 'NEW',
};

export function gerritEvent(raw: Record<string, unknown>): GerritEvent {
  const result = parseGerritEvent(raw);
  if (!result.ok) throw new Error(`test event does not parse: ${result.reason}`);
  return result.event;
}

type Overrides = { change?: Record<string, unknown>; patchSet?: Record<string, unknown>; [key: string]: unknown };

const base = (type: string, o: Overrides) => {
  const { change = {}, patchSet = {}, ...rest } = o;
  return {
    type,
    eventCreatedOn: 1_700_000_000,
    change: { ...CHANGE, ...change },
    patchSet: { number: 3, revision: REVISION, ref: 'refs/changes/45/12345/3', ...patchSet },
    ...rest,
  };
};

export const patchsetCreated = (o: Overrides = {}): GerritEvent => gerritEvent(base('patchset-created', o));

export const commentAdded = (comment: string | undefined, approvals: unknown[] = [], o: Overrides = {}): GerritEvent =>
  gerritEvent({ ...base('comment-added', o), ...(comment !== undefined ? { comment } : {}), approvals, author: { username: 'dev' } });

export const wipStateChanged = (o: Overrides = {}): GerritEvent => gerritEvent({ ...base('wip-state-changed', o), changer: { username: 'dev' } });

export function projectConfig(pipelines: ProjectConfig['pipelines'] = [{ name: 'check', workflow: 'ci/check.yaml' }]): ProjectConfig {
  return { pipelines, resources: { cpu: '4', memory: '8Gi', pods: 10 }, owners: [], viewers: [] };
}

/** The line of BENIGN_WORKFLOW's step template `run` that declares its input (tests add fields after it). */
export const RUN_TEMPLATE_INPUTS = '      inputs: { parameters: [{ name: cmd }] }\n';

export const BENIGN_WORKFLOW = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: check-
  labels: { team: core }
  annotations: { workflows.argoproj.io/description: "Unit tests" }
spec:
  entrypoint: main
  arguments:
    parameters:
      - { name: branch, value: placeholder }
      - { name: php, value: "8.2" }
  templates:
    - name: main
      dag:
        tasks:
          - { name: lint, template: run, arguments: { parameters: [{ name: cmd, value: lint }] } }
          - { name: test, template: suites, dependencies: [lint] }
    - name: suites
      steps:
        - - { name: unit, template: run, arguments: { parameters: [{ name: cmd, value: unit }] } }
          - { name: integration, template: run, arguments: { parameters: [{ name: cmd, value: integration }] } }
    - name: run
${RUN_TEMPLATE_INPUTS}      container:
        image: docker-registry.wikimedia.org/releng/php82:latest
        command: [composer]
        args: ["{{inputs.parameters.cmd}}"]
        env: [{ name: BRANCH, value: "{{workflow.parameters.branch}}" }]
        securityContext: { runAsUser: 0, capabilities: { drop: [ALL] } }
        resources: { requests: { cpu: 500m, memory: 1Gi } }
      volumes: [{ name: cache, emptyDir: {} }]
`;

export function checked(text = BENIGN_WORKFLOW, file = 'ci/check.yaml'): CheckedDefinition {
  const result = checkDefinition({ kind: 'file', file, text });
  if (!result.ok) throw new Error(`test definition is refused: ${JSON.stringify(result.problems)}`);
  return result.definition;
}

export function firstTrigger(event: GerritEvent, config: ProjectConfig = projectConfig()): Trigger {
  const [trigger] = triggeredPipelines(event, PIPELINES, config);
  if (!trigger) throw new Error('the test event triggers nothing');
  return trigger;
}

/** A Workflow as the cluster returns it after the controller ran it. */
export function liveWorkflow(
  options: {
    patchset?: number;
    eventId?: string;
    pipeline?: string;
    status?: WorkflowStatus;
    annotations?: Record<string, string>;
    spec?: Record<string, unknown>;
    uid?: string;
    created?: string;
  } = {},
): LiveWorkflow {
  const trigger = firstTrigger(patchsetCreated({ patchSet: { number: options.patchset ?? 3 } }));
  const t = options.pipeline ? { ...trigger, pipeline: pipeline(options.pipeline) } : trigger;
  const { workflow } = buildWorkflow({ trigger: t, eventId: options.eventId ?? 'patchset-created-1', definition: checked() });
  return {
    ...workflow,
    metadata: {
      ...workflow.metadata,
      uid: options.uid ?? `uid-${workflow.metadata.name}`,
      resourceVersion: '1001',
      ...(options.created ? { creationTimestamp: options.created } : {}),
      annotations: { ...workflow.metadata.annotations, ...(options.annotations ?? {}) },
    },
    spec: { ...workflow.spec, ...(options.spec ?? {}) },
    ...(options.status ? { status: options.status } : {}),
  };
}

/** A patch set of mediawiki/core as an approval enqueues it; `at`: the approval's second past 2025-01-01 12:00 UTC. */
export function enqueueItem(change: number, options: { patchset?: number; needs?: number[]; at?: number } = {}): EnqueueItem {
  const patchset = options.patchset ?? 1;
  return {
    project: 'mediawiki/core',
    branch: 'master',
    change,
    patchset,
    ref: `refs/changes/${String(change % 100).padStart(2, '0')}/${change}/${patchset}`,
    revision: (change * 1000 + patchset).toString(16).padStart(40, '0'),
    enqueuedAt: new Date(Date.UTC(2025, 0, 1, 12, 0, options.at ?? 0)).toISOString(),
    needs: options.needs ?? [],
  };
}
