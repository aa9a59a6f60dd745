// Runs of a ref, not of a patch set (Zuul's Ref items): after a change merged (change-merged: postmerge), when a
// branch or tag moved (ref-updated: post, publish). They test a commit that is in the repository already, so
// nothing supersedes them, nothing stops them when a change closes, and no vote follows; a postmerge run
// reports on the change that merged, with a message alone.
//
// On a Workflow of pipeline P for ref R of project X, moved from O to N:
//   labels       app.kubernetes.io/managed-by=seakeeper, seakeeper.dev/project-hash=projectHash(X),
//                seakeeper.dev/pipeline=P, seakeeper.dev/ref-hash=projectHash(R), seakeeper.dev/revision=N
//                (no change or patchset label: a change's selectors never find it)
//   annotations  seakeeper.dev/project=X, seakeeper.dev/ref=R, seakeeper.dev/old-revision=O,
//                seakeeper.dev/merged-change=C,P and seakeeper.dev/change-url (postmerge: change C merged at patch set P), seakeeper.dev/event-id,
//                seakeeper.dev/definition, as a change's run has them
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, namespaceFor, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, projectHash } from '../names.js';
import { CHANGE_URL_ANNOTATION, EVENT_ID_ANNOTATION, optionalText, PIPELINE_LABEL, REVISION_LABEL, type LiveWorkflow } from './workflow.js';

/** What a ref run tests: every field from the event (untrusted text stays text). */
export interface RefSubject {
  readonly project: string;
  /** The full ref name: refs/heads/master, refs/tags/v1.2. */
  readonly ref: string;
  /** The short branch name for refs/heads/…; '' for any other ref. */
  readonly branch: string;
  /** The commit the ref pointed at before (40 zeros: it was created); '' when the event does not say (change-merged). */
  readonly oldRevision: string;
  /** The commit it points at now (40 zeros: it was deleted). */
  readonly newRevision: string;
  /** change-merged: the change that merged, which the run reports on. */
  readonly change?: { readonly number: number; readonly patchset: number; readonly url?: string | undefined; readonly subject?: string | undefined } | undefined;
}

export const REF_HASH_LABEL = 'seakeeper.dev/ref-hash';
export const REF_ANNOTATION = 'seakeeper.dev/ref';
export const OLD_REVISION_ANNOTATION = 'seakeeper.dev/old-revision';
export const MERGED_CHANGE_ANNOTATION = 'seakeeper.dev/merged-change';

/** The revision Git names a ref that does not exist (before it was created, after it was deleted). */
export const NO_REVISION = '0'.repeat(40);

/** The parameter (and SEAKEEPER_OLD_REVISION, in the environment) a ref run gets beside a change run's; `revision` is the new one. */
export const OLD_REVISION_PARAMETER = 'old_revision';
export const OLD_REVISION_VARIABLE = 'SEAKEEPER_OLD_REVISION';

/** What a Seakeeper Workflow says about the ref run it is. */
export interface RefRunInfo {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  readonly project: string;
  readonly pipeline: string;
  readonly ref: string;
  readonly revision: string;
  readonly oldRevision: string;
  /** postmerge: the change it reports on, and its patch set that merged. */
  readonly mergedChange: number | undefined;
  readonly mergedPatchset: number | undefined;
  readonly changeUrl: string | undefined;
  readonly eventId: string | undefined;
  /** '' while the controller has not picked it up. */
  readonly phase: string;
}

/**
 * The ref run a Workflow is, or undefined when it is not one: not Seakeeper's, a change's run, labels tampered
 * with, or outside the namespace of the project it names (as runOf for a change's run).
 */
export function refRunOf(workflow: LiveWorkflow): RefRunInfo | undefined {
  const labels = workflow.metadata.labels ?? {};
  const annotations = workflow.metadata.annotations ?? {};
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return undefined;
  const project = optionalText(annotations[PROJECT_ANNOTATION]);
  const ref = optionalText(annotations[REF_ANNOTATION]);
  const pipeline = labels[PIPELINE_LABEL];
  const revision = labels[REVISION_LABEL];
  if (project === undefined || ref === undefined || pipeline === undefined || revision === undefined) return undefined;
  if (labels[PROJECT_HASH_LABEL] !== projectHash(project) || labels[REF_HASH_LABEL] !== projectHash(ref)) return undefined;
  if (workflow.metadata.namespace !== namespaceFor(project)) return undefined;
  const merged = /^([1-9][0-9]{0,9}),([1-9][0-9]{0,4})$/.exec(annotations[MERGED_CHANGE_ANNOTATION] ?? '');
  return {
    namespace: workflow.metadata.namespace,
    name: workflow.metadata.name,
    uid: workflow.metadata.uid,
    project,
    pipeline,
    ref,
    revision,
    oldRevision: optionalText(annotations[OLD_REVISION_ANNOTATION]) ?? '',
    mergedChange: merged ? Number(merged[1]) : undefined,
    mergedPatchset: merged ? Number(merged[2]) : undefined,
    changeUrl: optionalText(annotations[CHANGE_URL_ANNOTATION]),
    eventId: optionalText(annotations[EVENT_ID_ANNOTATION]),
    phase: typeof workflow.status?.phase === 'string' ? workflow.status.phase : '',
  };
}

/** A finished ref run that reports: a postmerge run, on the change that merged. */
export function reportingRefRun(workflow: LiveWorkflow): (RefRunInfo & { readonly mergedChange: number; readonly mergedPatchset: number }) | undefined {
  const run = refRunOf(workflow);
  return run?.mergedChange !== undefined && run.mergedPatchset !== undefined ? (run as RefRunInfo & { mergedChange: number; mergedPatchset: number }) : undefined;
}
