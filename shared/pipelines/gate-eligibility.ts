// Whether an approved change enters its gate queue, decided on what Gerrit says about it now rather than on what
// the approval event said (docs/architecture.md, "What Seakeeper trusts"). Pure: the change as read with
// ELIGIBILITY_OPTIONS, the changes related to its current patch set (Gerrit's `revisions/current/related`) and
// its open git parents as read in, an EnqueueItem for change-queue.ts or the reason out.
//
// A change enters when it is open, neither work in progress nor private, its current patch set is the one the
// approval named, it carries the pipeline's trigger approval (Code-Review +2), and every submit requirement is
// met but those of the labels the pipeline votes itself (Verified): meeting those is what the queue is for.
// Its open git parents must merge first (`needs`), so each must be approved, current and alive; the queue
// itself then says when one is not in it (change-queue.ts, unmetNeed).
//
// A reason the author can act on (a requirement not met, a parent not approved, outdated or abandoned) is told
// to them in one sentence; the others (closed, a newer patch set, work in progress, the approval gone) are
// not: another event is about them, or the trigger ignores them already.
import type { ApprovalCondition, Pipeline } from '../config/pipeline-config.js';
import type { ChangeInfo, ChangeOption, LabelInfo, RelatedChangeAndCommitInfo, SubmitRequirementResultInfo, SubmitRequirementStatus } from '../gerrit/types.js';
import type { EnqueueItem } from './change-queue.js';

/** What a change is read with for gateEligibility. */
export const ELIGIBILITY_OPTIONS: readonly ChangeOption[] = ['CURRENT_REVISION', 'CURRENT_COMMIT', 'DETAILED_LABELS', 'SUBMIT_REQUIREMENTS'];
/** What its open parents are read with. */
export const PARENT_OPTIONS: readonly ChangeOption[] = ['CURRENT_REVISION', 'DETAILED_LABELS'];

const MET: ReadonlySet<SubmitRequirementStatus> = new Set(['SATISFIED', 'OVERRIDDEN', 'NOT_APPLICABLE', 'FORCED']);

export interface GateRules {
  readonly pipeline: string;
  /** The votes that enqueue a change (the trigger's: Code-Review +2); the change must still carry each. */
  readonly approvals: readonly ApprovalCondition[];
  /** Labels the pipeline votes itself (Verified): their submit requirements are not asked for. */
  readonly ownLabels: readonly string[];
}

/** A dependent pipeline's rules, from the trigger rule that matched (Trigger.rule) and the labels it votes. */
export function gateRulesOf(pipeline: Pipeline, rule: number): GateRules {
  const own = new Set([...Object.keys(pipeline.start?.labels ?? {}), ...Object.keys(pipeline.success.labels), ...Object.keys(pipeline.failure.labels)]);
  return { pipeline: pipeline.name, approvals: pipeline.triggers[rule]?.approvals ?? [], ownLabels: [...own].sort() };
}

export interface GateCandidate {
  /** The change, read with ELIGIBILITY_OPTIONS after the approval. */
  readonly change: ChangeInfo;
  /** The patch set the approval event names. */
  readonly patchset: number;
  /** When it was approved (ISO): the item's enqueuedAt. */
  readonly approvedAt: string;
  /** Gerrit's related changes of its current patch set. */
  readonly related: readonly RelatedChangeAndCommitInfo[];
  /** Every change openParents names, read with PARENT_OPTIONS. */
  readonly parents: readonly ChangeInfo[];
}

export type IneligibleCode = 'closed' | 'stale-patchset' | 'work-in-progress' | 'private' | 'not-approved' | 'requirements' | 'parent';

export type GateEligibility =
  | { readonly eligible: true; readonly item: EnqueueItem }
  /** `reason`: one sentence, for the author when `tellAuthor`, for the log either way. */
  | { readonly eligible: false; readonly code: IneligibleCode; readonly reason: string; readonly tellAuthor: boolean };

/** The git parents of the change's current patch set that are patch sets of open changes: read them for `parents`. */
export function openParents(change: ChangeInfo, related: readonly RelatedChangeAndCommitInfo[]): number[] {
  return parentChanges(change, related)
    .filter((r) => r.status === 'NEW')
    .map((r) => r._change_number!);
}

/**
 * The open changes built on the change's current patch set, each after its parents: the chain that waited for
 * it and may enter the queue behind it (Zuul enqueues the changes behind an approved one the same way). Only
 * a change whose related patch set is its current one counts; one rebased elsewhere since is not behind it.
 */
export function openDescendants(change: ChangeInfo, related: readonly RelatedChangeAndCommitInfo[]): number[] {
  const known = new Set([currentPatchSet(change).revision]);
  const taken: number[] = [];
  const candidates = related.filter((r) => r._change_number !== undefined && r._change_number !== change._number && r.status === 'NEW' && r._revision_number === r._current_revision_number);
  for (let grown = true; grown; ) {
    grown = false;
    for (const entry of candidates) {
      if (taken.includes(entry._change_number!) || !entry.commit.parents.some((parent) => known.has(parent.commit))) continue;
      taken.push(entry._change_number!);
      if (entry.commit.commit !== undefined) known.add(entry.commit.commit);
      grown = true;
    }
  }
  return taken;
}

export function gateEligibility(candidate: GateCandidate, rules: GateRules): GateEligibility {
  const { change } = candidate;
  const { revision, patchset, ref } = currentPatchSet(change);
  const queue = `Not added to the ${rules.pipeline} queue`;
  const silent = (code: IneligibleCode, reason: string): GateEligibility => ({ eligible: false, code, reason: `${queue}: ${reason}.`, tellAuthor: false });
  const tell = (code: IneligibleCode, reason: string): GateEligibility => ({ eligible: false, code, reason: `${queue}: ${reason}.`, tellAuthor: true });

  if (change.status !== 'NEW') return silent('closed', `change ${change._number} is ${change.status.toLowerCase()}`);
  if (patchset !== candidate.patchset) return silent('stale-patchset', `the approval was for patch set ${candidate.patchset}, and the current patch set is ${patchset}`);
  if (change.work_in_progress) return silent('work-in-progress', 'it is work in progress');
  if (change.is_private) return silent('private', 'it is private');
  const missing = rules.approvals.filter((wanted) => !carries(change.labels, wanted));
  if (missing.length > 0) return silent('not-approved', `it does not carry ${missing.map(vote).join(' and ')} any more`);

  if (change.submit_requirements === undefined) throw new Error(`change ${change._number} was read without SUBMIT_REQUIREMENTS`);
  const unmet = change.submit_requirements.filter((sr) => !MET.has(sr.status) && !rules.ownLabels.includes(sr.name));
  if (unmet.length > 0) return tell('requirements', requirementsReason(unmet));

  const needs: number[] = [];
  for (const parent of parentChanges(change, candidate.related)) {
    const number = parent._change_number!;
    if (parent._revision_number !== parent._current_revision_number) {
      return tell('parent', `it is based on patch set ${parent._revision_number} of change ${number}, whose current patch set is ${parent._current_revision_number}; rebase it`);
    }
    if (parent.status === 'MERGED') continue;
    if (parent.status === 'ABANDONED') return tell('parent', `it is based on change ${number}, which was abandoned; rebase it`);
    const info = candidate.parents.find((p) => p._number === number);
    if (!info) throw new Error(`change ${change._number}: its parent change ${number} was not read`);
    if (info.status === 'MERGED') continue;
    if (info.status === 'ABANDONED') return tell('parent', `it is based on change ${number}, which was abandoned; rebase it`);
    if (info.work_in_progress) return tell('parent', `it is based on change ${number}, which is work in progress`);
    const unapproved = rules.approvals.filter((wanted) => !carries(info.labels, wanted));
    if (unapproved.length > 0) return tell('parent', `it is based on change ${number}, which does not carry ${unapproved.map(vote).join(' and ')}`);
    needs.push(number);
  }

  return {
    eligible: true,
    item: { project: change.project, branch: change.branch, change: change._number, patchset, ref, revision, enqueuedAt: candidate.approvedAt, needs },
  };
}

function currentPatchSet(change: ChangeInfo) {
  const revision = change.current_revision;
  const info = revision === undefined ? undefined : change.revisions?.[revision];
  if (revision === undefined || !info) throw new Error(`change ${change._number} was read without CURRENT_REVISION`);
  return { revision, patchset: info._number, ref: info.ref, commit: info.commit };
}

/** The related entries of the current patch set's parents that are changes' patch sets (not the branch's history). */
function parentChanges(change: ChangeInfo, related: readonly RelatedChangeAndCommitInfo[]): RelatedChangeAndCommitInfo[] {
  const { commit } = currentPatchSet(change);
  if (!commit) throw new Error(`change ${change._number} was read without CURRENT_COMMIT`);
  return commit.parents.flatMap((parent) => related.filter((r) => r.commit.commit === parent.commit && r._change_number !== undefined));
}

/**
 * Whether someone's vote on the label is the wanted value. With DETAILED_LABELS every vote is listed; with
 * LABELS only the extremes are (`approved`: the highest value, `rejected`: the lowest), which stand for a
 * positive or negative wanted value.
 */
function carries(labels: Readonly<Record<string, LabelInfo>> | undefined, wanted: ApprovalCondition): boolean {
  if (labels === undefined) throw new Error('the change was read without LABELS or DETAILED_LABELS');
  const label = labels[wanted.label];
  if (!label) return false;
  if (label.all) return label.all.some((approval) => approval.value === wanted.value);
  return wanted.value > 0 ? label.approved !== undefined : wanted.value < 0 ? label.rejected !== undefined : false;
}

const vote = (wanted: ApprovalCondition): string => `${wanted.label} ${wanted.value > 0 ? '+' : ''}${wanted.value}`;

function requirementsReason(unmet: readonly SubmitRequirementResultInfo[]): string {
  const named = (srs: readonly SubmitRequirementResultInfo[]) => {
    const names = srs.map((sr) => JSON.stringify(sr.name));
    const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0];
    return `${srs.length > 1 ? 'the submit requirements' : 'the submit requirement'} ${list}`;
  };
  const unsatisfied = unmet.filter((sr) => sr.status !== 'ERROR');
  const failed = unmet.filter((sr) => sr.status === 'ERROR');
  const parts = [
    ...(unsatisfied.length > 0 ? [`${named(unsatisfied)} ${unsatisfied.length > 1 ? 'are' : 'is'} not satisfied`] : []),
    ...(failed.length > 0 ? [`${named(failed)} could not be evaluated`] : []),
  ];
  return parts.join(', and ');
}
