// Argo Workflows as Seakeeper builds and reads them: the labels and annotations that tie a Workflow to a
// pipeline run of a change, and a checked reading of them (`runOf`) for everything that comes back from the
// cluster. Labels are for selecting (all valid label values: numbers, hashes, pipeline names); annotations
// carry the text (project, branch, URL, event id) in its safe form (`safeText`), which label values could not
// hold. The exact text reaches a run's steps only through its change ConfigMap (CHANGE_ENVIRONMENT).
//
// On a Workflow of pipeline P for change C, patchset N of project X:
//   labels       app.kubernetes.io/managed-by=seakeeper, seakeeper.dev/project-hash=projectHash(X),
//                seakeeper.dev/pipeline=P, seakeeper.dev/change=C, seakeeper.dev/patchset=N,
//                seakeeper.dev/revision=<commit sha>
//   annotations  seakeeper.dev/project=X, seakeeper.dev/branch, seakeeper.dev/change-url,
//                seakeeper.dev/event-id (the CloudEvent that started it), seakeeper.dev/definition
//                (the workflow file or WorkflowTemplate), seakeeper.dev/policy-notes (what policy changed)
//   later        seakeeper.dev/superseded-by (a newer run stopped it: never reported),
//                seakeeper.dev/stopped-because (stopped when its change was merged or abandoned: never reported),
//                seakeeper.dev/completed-event[-claim] (workflow-watch emitted workflow.completed),
//                seakeeper.dev/reported[-claim] (workflow-completed posted the report)
import type { KubeObject, ObjectMeta } from '../provisioning/objects.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, namespaceFor, projectHash } from '../names.js';


/** The change and patchset a run tests: every field comes from the event (untrusted text stays text). */
export interface ChangeRef {
  readonly project: string;
  /** Gerrit's short branch name. */
  readonly branch: string;
  readonly number: number;
  readonly patchset: number;
  /** The patchset's commit SHA-1. */
  readonly revision: string;
  /** refs/changes/NN/C/P */
  readonly ref: string;
  readonly url?: string | undefined;
  readonly subject?: string | undefined;
}

export const PIPELINE_LABEL = 'seakeeper.dev/pipeline';
export const CHANGE_LABEL = 'seakeeper.dev/change';
export const PATCHSET_LABEL = 'seakeeper.dev/patchset';
export const REVISION_LABEL = 'seakeeper.dev/revision';
export const BRANCH_ANNOTATION = 'seakeeper.dev/branch';
export const CHANGE_URL_ANNOTATION = 'seakeeper.dev/change-url';
export const EVENT_ID_ANNOTATION = 'seakeeper.dev/event-id';
export const DEFINITION_ANNOTATION = 'seakeeper.dev/definition';
export const POLICY_NOTES_ANNOTATION = 'seakeeper.dev/policy-notes';
/** The changes a run tests merged before its own (Depends-On), `<project> <change>,<patchset>` joined by `; `, in its safe form. */
export const DEPENDENCIES_ANNOTATION = 'seakeeper.dev/dependencies';
/**
 * Set on a finished check run whose dependencies got new patch sets while it ran: why (in its safe form). Its
 * result speaks for a state that is gone, so it is never reported; the dependencies' new patch sets check it again.
 */
export const STALE_BECAUSE_ANNOTATION = 'seakeeper.dev/stale-because';
/** Set, with `spec.shutdown: Terminate`, on a run a newer one replaced: it is never reported. */
export const SUPERSEDED_BY_ANNOTATION = 'seakeeper.dev/superseded-by';
/** Set, with `spec.shutdown: Terminate`, on a run whose change was merged or abandoned: it is never reported. */
export const STOPPED_BECAUSE_ANNOTATION = 'seakeeper.dev/stopped-because';
/** Argo's label on a Workflow that has finished. */
export const ARGO_COMPLETED_LABEL = 'workflows.argoproj.io/completed';
export { PROJECT_ANNOTATION, PROJECT_HASH_LABEL };

/** Phases in which a Workflow has finished. */
export const COMPLETED_PHASES = ['Succeeded', 'Failed', 'Error'] as const;
export type CompletedPhase = (typeof COMPLETED_PHASES)[number];
export const isCompletedPhase = (phase: unknown): phase is CompletedPhase => (COMPLETED_PHASES as readonly unknown[]).includes(phase);

/** A Workflow as Seakeeper builds it. */
export interface Workflow extends KubeObject {
  metadata: ObjectMeta & { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown>;
}

export interface WorkflowNodeArtifact {
  name?: string;
  s3?: { key?: string; bucket?: string };
  [field: string]: unknown;
}

export interface WorkflowNode {
  id?: string;
  name?: string;
  displayName?: string;
  type?: string;
  templateName?: string;
  phase?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  message?: string;
  boundaryID?: string;
  children?: string[];
  outputs?: { artifacts?: WorkflowNodeArtifact[]; exitCode?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface WorkflowStatus {
  phase?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  message?: string;
  nodes?: Record<string, WorkflowNode>;
  [field: string]: unknown;
}

/** A Workflow as read from the cluster: anything may be missing or malformed, so read it through runOf. */
export interface LiveWorkflow {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    /** RFC 3339 text on the wire; client libraries may hand it over as a Date. */
    creationTimestamp?: string | Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: WorkflowStatus;
}

/** What a Seakeeper Workflow says about the run it is. */
export interface RunInfo {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  readonly project: string;
  readonly pipeline: string;
  readonly change: number;
  readonly patchset: number;
  readonly revision: string;
  readonly branch: string | undefined;
  readonly changeUrl: string | undefined;
  readonly eventId: string | undefined;
  /** The changes it tests merged before its own (DEPENDENCIES_ANNOTATION), as text. */
  readonly dependencies?: string | undefined;
  /** '' while the controller has not picked it up. */
  readonly phase: string;
  /** `spec.shutdown` (Stop or Terminate), when someone stopped it. */
  readonly shutdown: string | undefined;
  /** The run that replaced it, when Seakeeper stopped it for a newer one. */
  readonly supersededBy: string | undefined;
  /** Why its result speaks for a state that is gone (STALE_BECAUSE_ANNOTATION). */
  readonly staleBecause?: string | undefined;
  /** A postmerge run (ref-run.ts), reported on the change that merged: the ref it tested. Never votes. */
  readonly ref?: string | undefined;
}

/** An annotation's text, decoded from its safe form; undefined when absent. */
export const optionalText = (value: string | undefined): string | undefined => (value === undefined ? undefined : fromSafeText(value));

/** A change a run tests merged before its own, as DEPENDENCIES_ANNOTATION names it. */
export interface TestedDependency {
  readonly project: string;
  readonly change: number;
  readonly patchset: number;
}

/** DEPENDENCIES_ANNOTATION's value for `changes`, in its safe form. */
export function dependenciesAnnotation(changes: readonly TestedDependency[]): string {
  return safeText(changes.map((c) => `${c.project} ${c.change},${c.patchset}`).join('; '));
}

/** The changes a run's DEPENDENCIES_ANNOTATION names (its decoded text); entries not in its form are left out. */
export function testedDependencies(text: string | undefined): TestedDependency[] {
  if (!text) return [];
  return text.split('; ').flatMap((entry) => {
    const match = /^(.+) ([1-9][0-9]{0,9}),([1-9][0-9]{0,4})$/.exec(entry);
    return match ? [{ project: match[1]!, change: Number(match[2]), patchset: Number(match[3]) }] : [];
  });
}

const positive = (text: string | undefined): number | undefined =>
  text !== undefined && /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : undefined;

/**
 * The run a Workflow is, or undefined when it is not a Seakeeper run: labels missing or tampered with, or a
 * Workflow outside the namespace of the project it names.
 */
export function runOf(workflow: LiveWorkflow): RunInfo | undefined {
  const labels = workflow.metadata.labels ?? {};
  const annotations = workflow.metadata.annotations ?? {};
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return undefined;
  const projectText = annotations[PROJECT_ANNOTATION];
  const project = projectText === undefined ? undefined : fromSafeText(projectText);
  const pipeline = labels[PIPELINE_LABEL];
  const change = positive(labels[CHANGE_LABEL]);
  const patchset = positive(labels[PATCHSET_LABEL]);
  const revision = labels[REVISION_LABEL];
  if (project === undefined || pipeline === undefined || change === undefined || patchset === undefined || revision === undefined) return undefined;
  // The hash ties the exact project name (an annotation anyone who may edit the Workflow could change) to
  // the label the namespace's objects are selected by.
  if (labels[PROJECT_HASH_LABEL] !== projectHash(project)) return undefined;
  // A run speaks for the project whose namespace it is in, never another: an owner who may create Workflows
  // in their own namespace must not get Seakeeper to act (vote, stop, report) on another project's change.
  if (workflow.metadata.namespace !== namespaceFor(project)) return undefined;
  const shutdown = workflow.spec?.shutdown;
  return {
    namespace: workflow.metadata.namespace ?? '',
    name: workflow.metadata.name,
    uid: workflow.metadata.uid,
    project,
    pipeline,
    change,
    patchset,
    revision,
    branch: optionalText(annotations[BRANCH_ANNOTATION]),
    changeUrl: optionalText(annotations[CHANGE_URL_ANNOTATION]),
    eventId: optionalText(annotations[EVENT_ID_ANNOTATION]),
    dependencies: optionalText(annotations[DEPENDENCIES_ANNOTATION]),
    phase: typeof workflow.status?.phase === 'string' ? workflow.status.phase : '',
    shutdown: typeof shutdown === 'string' && shutdown !== '' ? shutdown : undefined,
    supersededBy: annotations[SUPERSEDED_BY_ANNOTATION],
    staleBecause: optionalText(annotations[STALE_BECAUSE_ANNOTATION]),
  };
}

/** Label selector for the runs of one change in one pipeline (list them in the project's namespace). */
export function runSelector(project: string, pipeline: string, change: number): string {
  return [
    `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
    `${PROJECT_HASH_LABEL}=${projectHash(project)}`,
    `${PIPELINE_LABEL}=${pipeline}`,
    `${CHANGE_LABEL}=${change}`,
  ].join(',');
}

/** Label selector for the runs of one change in every pipeline (list them in the project's namespace). */
export function changeRunsSelector(project: string, change: number): string {
  return [`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`, `${PROJECT_HASH_LABEL}=${projectHash(project)}`, `${CHANGE_LABEL}=${change}`].join(',');
}

/** Label selector for Seakeeper Workflows that Argo marked finished (what reconcile lists to find lost reports). */
export const COMPLETED_RUNS_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${ARGO_COMPLETED_LABEL}=true`;

/** Label selector for every Seakeeper Workflow (the ApiServerSource's selector). */
export const RUNS_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${PIPELINE_LABEL}`;

/** Gerrit's REST id of the run's change (`project~number`; the client encodes it). */
export function changeIdOf(run: Pick<RunInfo, 'project' | 'change'>): string {
  return `${run.project}~${run.change}`;
}

/** The Argo UI page of a Workflow. */
export function argoWorkflowUrl(argoUiUrl: string, namespace: string, name: string): string {
  return `${argoUiUrl.replace(/\/+$/, '')}/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

/**
 * The Argo parameters Seakeeper passes to every run (`spec.arguments.parameters`), in this order. A definition
 * may declare them (with a placeholder value, to document them or to run it by hand); Seakeeper's value
 * replaces the declared one.
 */
export const PARAMETER_NAMES = ['project', 'branch', 'change', 'patchset', 'ref', 'revision', 'change_url', 'subject', 'pipeline'] as const;
export type ParameterName = (typeof PARAMETER_NAMES)[number];

/**
 * The environment every container of a run gets from its change ConfigMap (named as the run), with the exact
 * text, by parameter: a ConfigMap is read by the kubelet, never by Argo's template engine.
 */
export const CHANGE_ENVIRONMENT: Readonly<Record<ParameterName, string>> = {
  project: 'SEAKEEPER_PROJECT',
  branch: 'SEAKEEPER_BRANCH',
  change: 'SEAKEEPER_CHANGE',
  patchset: 'SEAKEEPER_PATCHSET',
  ref: 'SEAKEEPER_REF',
  revision: 'SEAKEEPER_REVISION',
  change_url: 'SEAKEEPER_CHANGE_URL',
  subject: 'SEAKEEPER_SUBJECT',
  pipeline: 'SEAKEEPER_PIPELINE',
};

/**
 * More of a run's change ConfigMap when it tests more than its own change (a gate run, a check with
 * dependencies), read by its checkout step (config/gate/checkout.sh): the changes in merge order, and where
 * to fetch them.
 */
export const CHANGES_VARIABLE = 'SEAKEEPER_CHANGES';
export const GIT_URL_VARIABLE = 'SEAKEEPER_GIT_URL';

/** The characters text keeps in its safe form: none is shell syntax, and none opens an Argo substitution. */
const SAFE_CHARACTER = /[A-Za-z0-9._/:+-]/;

/**
 * Text as Seakeeper hands it to Argo (parameters, annotations): every character outside `A-Z a-z 0-9 . _ / :
 * + -` percent-encoded as its UTF-8 bytes, so `master`, `wmf/1.42.0-wmf.5` and `mediawiki/core` stay as they
 * are, and a subject or branch holding `$( )`, quotes, `{{ }}` or newlines arrives as inert text wherever a
 * definition splices it. Argo substitutes parameter values and annotations into templates as text, and again
 * when it makes a pod; what is in this form cannot become a command or an expression there.
 */
export function safeText(text: string): string {
  let out = '';
  // A lone surrogate has no UTF-8 form: it becomes U+FFFD, as any UTF-8 decoder would read it.
  for (const char of text.toWellFormed()) out += SAFE_CHARACTER.test(char) ? char : encodeURIComponent(char).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return out;
}

/** The text `safeText` encoded; a value it did not write (no valid percent-encoding) is taken as it is. */
export function fromSafeText(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
