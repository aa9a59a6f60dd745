// The Workflow Seakeeper creates for a trigger: a checked definition + the change → one Workflow object,
// built as data (never as YAML text), deterministic to the byte for the same inputs.
//
// Name: `<pipeline>-<change>-<patchset>-<h>`, h = 10 hex of sha256([event id, pipeline]); at most 50
// characters (the pipeline part is shortened), a DNS-1123 label, leaving room for Argo's pod-name suffixes.
// A redelivered event has the same id, so it maps to the same name and the create answers AlreadyExists; a
// `recheck` is another event, so it makes a new run.
//
// What the run learns about the change, it learns two ways (docs/architecture.md, "Change text"):
//   - `spec.arguments.parameters` (PARAMETER_NAMES: project, branch, change, patchset, ref, revision,
//     change_url, subject, pipeline), labels and annotations, every text in its safe form (`safeText`: nothing
//     but `A-Z a-z 0-9 . _ / : + -` and percent-escapes). Argo substitutes these into templates as text, and
//     again when it makes a pod, so text a change's author controls never reaches them as it is: a definition
//     may splice any of them into a script, and a `$( )` or `{{ }}` in a subject is inert there.
//   - The exact text, in the run's change ConfigMap (same name as the run, owned by it): every container of the
//     definition's templates gets it as environment (`envFrom`, CHANGE_ENVIRONMENT: SEAKEEPER_BRANCH, …). The
//     kubelet reads a ConfigMap; Argo's template engine never sees it.
// A parameter the definition declares under one of these names gets Seakeeper's value (the definition's
// declaration is a placeholder); the definition's other parameters follow, as declared.
import { createHash } from 'node:crypto';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, namespaceFor, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, projectHash, ARGO_API_VERSION, WORKFLOW_KIND } from '../names.js';
import type { RefTrigger, Trigger } from './triggers.js';
import { MERGED_CHANGE_ANNOTATION, OLD_REVISION_ANNOTATION, OLD_REVISION_PARAMETER, OLD_REVISION_VARIABLE, REF_ANNOTATION, REF_HASH_LABEL } from '../runs/ref-run.js';
import { eachTemplate, enforceWorkflowPolicy, templateContainers, type CheckedDefinition } from './workflow-policy.js';
import type { KubeObject } from '../provisioning/objects.js';
import { BRANCH_ANNOTATION, CHANGE_ENVIRONMENT, CHANGES_VARIABLE, safeText, CHANGE_LABEL, CHANGE_URL_ANNOTATION, DEFINITION_ANNOTATION, EVENT_ID_ANNOTATION, PARAMETER_NAMES, PATCHSET_LABEL, PIPELINE_LABEL, POLICY_NOTES_ANNOTATION, REVISION_LABEL, type ParameterName, type Workflow } from '../runs/workflow.js';

export const MAX_WORKFLOW_NAME = 50;
const NAME_HASH_CHARS = 10;
const MAX_NOTES_CHARS = 4000;

export interface BuildInput {
  readonly trigger: Trigger;
  /** The id of the CloudEvent that triggered the run (deterministic: a redelivery carries the same). */
  readonly eventId: string;
  readonly definition: CheckedDefinition;
  /** The run's name, when the caller names it (a gate run: change-queue.ts); else workflowName of the event. */
  readonly name?: string;
  /** More of the run's exact text for its change ConfigMap (a gate run's SEAKEEPER_CHANGES). */
  readonly environment?: Readonly<Record<string, string>>;
  /** More labels and annotations (already label values, and safe forms) for the run. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The ConfigMap that gives a run's containers the change's exact text (created with the run, owned by it). */
export interface ChangeConfigMap extends KubeObject {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  data: Record<string, string>;
}

export interface BuiltWorkflow {
  readonly workflow: Workflow;
  readonly environment: ChangeConfigMap;
  /** What the policy changed in the definition (also in the seakeeper.dev/policy-notes annotation). */
  readonly notes: readonly string[];
}

/** The deterministic name of the run an event starts in a pipeline for a patchset. */
export function workflowName(pipeline: string, change: number, patchset: number, eventId: string): string {
  return runName(pipeline, `${change}-${patchset}`, eventId);
}

/** `<pipeline>-<middle>-<h>`, the pipeline part shortened to keep it within MAX_WORKFLOW_NAME. */
function runName(pipeline: string, middle: string, eventId: string): string {
  const hash = createHash('sha256').update(JSON.stringify([eventId, pipeline]), 'utf8').digest('hex').slice(0, NAME_HASH_CHARS);
  const tail = `-${middle}-${hash}`;
  const head = pipeline.slice(0, MAX_WORKFLOW_NAME - tail.length).replace(/-+$/, '') || 'run';
  return `${head}${tail}`;
}

function changesParameter(environment: BuildInput['environment']): Array<{ name: string; value: string }> {
  const changes = environment?.[CHANGES_VARIABLE];
  return changes === undefined ? [] : [{ name: CHANGES_PARAMETER, value: safeText(changes) }];
}

/** The parameters every run gets, in PARAMETER_NAMES order, in their safe form. */
export function runParameters(trigger: Trigger): Array<{ name: ParameterName; value: string }> {
  const values = changeText(trigger);
  return PARAMETER_NAMES.map((name) => ({ name, value: safeText(values[name]) }));
}

/** The change's text by parameter, exactly as Gerrit sent it. */
function changeText(trigger: Trigger): Record<ParameterName, string> {
  const { change } = trigger;
  const values: Record<ParameterName, string> = {
    project: change.project,
    branch: change.branch,
    change: String(change.number),
    patchset: String(change.patchset),
    ref: change.ref,
    revision: change.revision,
    change_url: change.url ?? '',
    subject: change.subject ?? '',
    pipeline: trigger.pipeline.name,
  };
  return values;
}

/**
 * The parameter `changes` of a run whose checkout merges changes (a gate run, a check: SEAKEEPER_CHANGES is
 * set): SEAKEEPER_CHANGES in its safe form, one `<project> <branch> <ref> <revision>` per line in merge order,
 * the change last (alone when nothing open is ahead of it). A definition may pass it to a step; the checkout
 * reads the exact text from the environment.
 */
export const CHANGES_PARAMETER = 'changes';

/** Ours first, then the definition's own parameters that do not share a name with ours. */
function mergeParameters(ours: ReadonlyArray<{ name: string; value: string }>, declared: unknown): unknown[] {
  const reserved = new Set<string>(ours.map((p) => p.name));
  const theirs = Array.isArray(declared)
    ? declared.filter((p) => !(typeof p === 'object' && p !== null && reserved.has(String((p as { name?: unknown }).name))))
    : [];
  return [...ours.map((p) => ({ ...p })), ...theirs];
}

/** The Workflow to create for a trigger. Pure and deterministic. */
export function buildWorkflow(input: BuildInput): BuiltWorkflow {
  const { trigger, eventId } = input;
  const { change, pipeline } = trigger;
  return assemble({
    pipeline: trigger.pipeline,
    project: change.project,
    name: input.name ?? workflowName(pipeline.name, change.number, change.patchset, eventId),
    definition: input.definition,
    parameters: [...runParameters(trigger), ...changesParameter(input.environment)],
    text: Object.fromEntries(Object.entries(changeText(trigger)).map(([parameter, text]) => [CHANGE_ENVIRONMENT[parameter as ParameterName], text])),
    labels: {
      [CHANGE_LABEL]: String(change.number),
      [PATCHSET_LABEL]: String(change.patchset),
      // 40 hex (triggers.ts accepts no other revision): a valid label value.
      [REVISION_LABEL]: change.revision,
      ...input.labels,
    },
    annotations: {
      [BRANCH_ANNOTATION]: safeText(change.branch),
      ...(change.url !== undefined ? { [CHANGE_URL_ANNOTATION]: safeText(change.url) } : {}),
      [EVENT_ID_ANNOTATION]: safeText(eventId),
      ...input.annotations,
    },
    configMapLabels: [CHANGE_LABEL, PATCHSET_LABEL],
    environment: input.environment,
  });
}

/** The deterministic name of the run an event starts in a pipeline for a ref: `<pipeline>-<new revision, 10>-<h>`. */
export function refWorkflowName(pipeline: string, newRevision: string, eventId: string): string {
  return runName(pipeline, newRevision.slice(0, NAME_HASH_CHARS), eventId);
}

/** A ref run's text by parameter, exactly as Gerrit sent it: a change's parameters, `revision` the new one. */
function refText(trigger: RefTrigger): Record<ParameterName | typeof OLD_REVISION_PARAMETER, string> {
  const { subject } = trigger;
  return {
    project: subject.project,
    branch: subject.branch,
    change: subject.change ? String(subject.change.number) : '',
    patchset: subject.change ? String(subject.change.patchset) : '',
    ref: subject.ref,
    revision: subject.newRevision,
    change_url: subject.change?.url ?? '',
    subject: subject.change?.subject ?? '',
    pipeline: trigger.pipeline.name,
    [OLD_REVISION_PARAMETER]: subject.oldRevision,
  };
}

/** The Workflow to create for a ref trigger (ref-run.ts). Pure and deterministic. */
export function buildRefWorkflow(input: { readonly trigger: RefTrigger; readonly eventId: string; readonly definition: CheckedDefinition }): BuiltWorkflow {
  const { trigger, eventId } = input;
  const { subject } = trigger;
  const text = refText(trigger);
  const environment = { ...CHANGE_ENVIRONMENT, [OLD_REVISION_PARAMETER]: OLD_REVISION_VARIABLE } as Record<string, string>;
  return assemble({
    pipeline: trigger.pipeline,
    project: subject.project,
    name: refWorkflowName(trigger.pipeline.name, subject.newRevision, eventId),
    definition: input.definition,
    parameters: Object.entries(text).map(([name, value]) => ({ name, value: safeText(value) })),
    text: Object.fromEntries(Object.entries(text).map(([parameter, value]) => [environment[parameter]!, value])),
    labels: { [REF_HASH_LABEL]: projectHash(subject.ref), [REVISION_LABEL]: subject.newRevision },
    annotations: {
      [REF_ANNOTATION]: safeText(subject.ref),
      [OLD_REVISION_ANNOTATION]: safeText(subject.oldRevision),
      ...(subject.branch !== '' ? { [BRANCH_ANNOTATION]: safeText(subject.branch) } : {}),
      ...(subject.change ? { [MERGED_CHANGE_ANNOTATION]: `${subject.change.number},${subject.change.patchset}` } : {}),
      ...(subject.change?.url !== undefined ? { [CHANGE_URL_ANNOTATION]: safeText(subject.change.url) } : {}),
      [EVENT_ID_ANNOTATION]: safeText(eventId),
    },
    configMapLabels: [REF_HASH_LABEL],
    environment: undefined,
  });
}

interface Assembly {
  readonly pipeline: Trigger['pipeline'];
  readonly project: string;
  readonly name: string;
  readonly definition: CheckedDefinition;
  /** Ours, in their safe form, in order. */
  readonly parameters: ReadonlyArray<{ name: string; value: string }>;
  /** The run's ConfigMap: variable → exact text. */
  readonly text: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Of the labels, those its ConfigMap carries too. */
  readonly configMapLabels: readonly string[];
  readonly environment: BuildInput['environment'];
}

/** A run's Workflow and ConfigMap: the policy forced onto the definition, the run's text and its bookkeeping. */
function assemble(run: Assembly): BuiltWorkflow {
  const { name, definition, pipeline } = run;
  const namespace = namespaceFor(run.project);
  const { spec: forced, notes } = enforceWorkflowPolicy(definition.spec, pipeline);
  // Appended, so the definition's own envFrom and env (which win over envFrom) stay as they were.
  eachTemplate(forced, (template) => {
    for (const { container } of templateContainers(template)) {
      container.envFrom = [...(Array.isArray(container.envFrom) ? container.envFrom : []), { configMapRef: { name } }];
    }
  });

  const declaredArguments = (typeof forced.arguments === 'object' && forced.arguments !== null ? forced.arguments : {}) as Record<string, unknown>;
  const spec: Record<string, unknown> = {
    ...forced,
    arguments: { ...declaredArguments, parameters: mergeParameters(run.parameters, declaredArguments.parameters) },
  };

  const labels: Record<string, string> = {
    ...definition.labels,
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [PROJECT_HASH_LABEL]: projectHash(run.project),
    [PIPELINE_LABEL]: pipeline.name,
    ...run.labels,
  };

  // Argo substitutes annotations too (`{{workflow.annotations.*}}`): safe forms only.
  const annotations: Record<string, string> = {
    ...definition.annotations,
    [PROJECT_ANNOTATION]: safeText(run.project),
    ...run.annotations,
    [DEFINITION_ANNOTATION]: safeText(definition.source),
  };
  if (notes.length > 0) annotations[POLICY_NOTES_ANNOTATION] = notes.join('\n').slice(0, MAX_NOTES_CHARS);

  return {
    workflow: {
      apiVersion: ARGO_API_VERSION,
      kind: WORKFLOW_KIND,
      metadata: { name, namespace, labels, annotations },
      spec,
    },
    environment: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace, labels: pick(labels, [MANAGED_BY_LABEL, PROJECT_HASH_LABEL, PIPELINE_LABEL, ...run.configMapLabels]) },
      data: { ...run.text, ...run.environment },
    },
    notes,
  };
}

const pick = (from: Record<string, string>, keys: readonly string[]): Record<string, string> =>
  Object.fromEntries(keys.flatMap((k) => (from[k] !== undefined ? [[k, from[k]]] : [])));
