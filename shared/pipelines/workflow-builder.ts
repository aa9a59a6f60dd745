// The Workflow Seakeeper creates for a trigger: a checked definition + the change → one Workflow object,
// built as data (never as YAML text), deterministic to the byte for the same inputs.
//
// Name: `<pipeline>-<change>-<patchset>-<h>`, h = 10 hex of sha256([event id, pipeline]); at most 50
// characters (the pipeline part is shortened), a DNS-1123 label, leaving room for Argo's pod-name suffixes.
// A redelivered event has the same id, so it maps to the same name and the create answers AlreadyExists; a
// `recheck` is another event, so it makes a new run.
//
// What the run learns about the change comes only as `spec.arguments.parameters` (PARAMETER_NAMES: project,
// branch, change, patchset, ref, revision, change_url, subject, pipeline) and as labels and annotations.
// Values are carried verbatim — quotes, `{{ }}`, `$( )`, newlines, any Unicode. Argo substitutes parameter
// values into templates as text, and when it makes a pod it substitutes again: a `{{workflow.name}}` inside a
// branch name reaches the step expanded (pipeline.test.ts pins this). So free text is data only where the
// definition does not splice it into a command (workflow-policy.ts, parameter-in-script). A parameter the definition declares
// under one of these names gets Seakeeper's value (the definition's declaration is a placeholder);
// the definition's other parameters follow, as declared.
import { createHash } from 'node:crypto';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, namespaceFor, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, projectHash, ARGO_API_VERSION, WORKFLOW_KIND } from '../names.js';
import type { Trigger } from './triggers.js';
import { enforceWorkflowPolicy, type CheckedDefinition } from './workflow-policy.js';
import { BRANCH_ANNOTATION, CHANGE_LABEL, CHANGE_URL_ANNOTATION, DEFINITION_ANNOTATION, EVENT_ID_ANNOTATION, PARAMETER_NAMES, PATCHSET_LABEL, PIPELINE_LABEL, POLICY_NOTES_ANNOTATION, REVISION_LABEL, type ParameterName, type Workflow } from '../runs/workflow.js';

export const MAX_WORKFLOW_NAME = 50;
const NAME_HASH_CHARS = 10;
const MAX_NOTES_CHARS = 4000;

export interface BuildInput {
  readonly trigger: Trigger;
  /** The id of the CloudEvent that triggered the run (deterministic: a redelivery carries the same). */
  readonly eventId: string;
  readonly definition: CheckedDefinition;
}

export interface BuiltWorkflow {
  readonly workflow: Workflow;
  /** What the policy changed in the definition (also in the seakeeper.dev/policy-notes annotation). */
  readonly notes: readonly string[];
}

/** The deterministic name of the run an event starts in a pipeline for a patchset. */
export function workflowName(pipeline: string, change: number, patchset: number, eventId: string): string {
  const hash = createHash('sha256').update(JSON.stringify([eventId, pipeline]), 'utf8').digest('hex').slice(0, NAME_HASH_CHARS);
  const tail = `-${change}-${patchset}-${hash}`;
  const head = pipeline.slice(0, MAX_WORKFLOW_NAME - tail.length).replace(/-+$/, '') || 'run';
  return `${head}${tail}`;
}

/** The parameters every run gets, in PARAMETER_NAMES order; values exactly as Gerrit sent them. */
export function runParameters(trigger: Trigger): Array<{ name: ParameterName; value: string }> {
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
  return PARAMETER_NAMES.map((name) => ({ name, value: values[name] }));
}

/** Ours first, then the definition's own parameters that do not share a name with ours. */
function mergeParameters(ours: ReadonlyArray<{ name: string; value: string }>, declared: unknown): unknown[] {
  const reserved = new Set<string>(PARAMETER_NAMES);
  const theirs = Array.isArray(declared)
    ? declared.filter((p) => !(typeof p === 'object' && p !== null && reserved.has(String((p as { name?: unknown }).name))))
    : [];
  return [...ours.map((p) => ({ ...p })), ...theirs];
}

/** The Workflow to create for a trigger. Pure and deterministic. */
export function buildWorkflow(input: BuildInput): BuiltWorkflow {
  const { trigger, eventId, definition } = input;
  const { change, pipeline } = trigger;
  const name = workflowName(pipeline.name, change.number, change.patchset, eventId);
  const { spec: forced, notes } = enforceWorkflowPolicy(definition.spec, pipeline);

  const declaredArguments = (typeof forced.arguments === 'object' && forced.arguments !== null ? forced.arguments : {}) as Record<string, unknown>;
  const spec: Record<string, unknown> = {
    ...forced,
    arguments: { ...declaredArguments, parameters: mergeParameters(runParameters(trigger), declaredArguments.parameters) },
  };

  const labels: Record<string, string> = {
    ...definition.labels,
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [PROJECT_HASH_LABEL]: projectHash(change.project),
    [PIPELINE_LABEL]: pipeline.name,
    [CHANGE_LABEL]: String(change.number),
    [PATCHSET_LABEL]: String(change.patchset),
    // 40 hex (triggers.ts accepts no other revision): a valid label value.
    [REVISION_LABEL]: change.revision,
  };

  const annotations: Record<string, string> = {
    ...definition.annotations,
    [PROJECT_ANNOTATION]: change.project,
    [BRANCH_ANNOTATION]: change.branch,
    ...(change.url !== undefined ? { [CHANGE_URL_ANNOTATION]: change.url } : {}),
    [EVENT_ID_ANNOTATION]: eventId,
    [DEFINITION_ANNOTATION]: definition.source,
  };
  if (notes.length > 0) annotations[POLICY_NOTES_ANNOTATION] = notes.join('\n').slice(0, MAX_NOTES_CHARS);

  return {
    workflow: {
      apiVersion: ARGO_API_VERSION,
      kind: WORKFLOW_KIND,
      metadata: { name, namespace: namespaceFor(change.project), labels, annotations },
      spec,
    },
    notes,
  };
}
