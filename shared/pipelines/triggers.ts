// Which pipelines a Gerrit event triggers (Zuul's event filters). Pure: a typed Gerrit event, the system's
// pipelines and the project's configuration in; the Triggers out, one per pipeline, sorted by pipeline name.
// A pipeline triggers only when the project's seakeeper.yaml names it.
//
// Conditions, per trigger rule of config/pipelines.yaml:
//   event      patchset-created, comment-added, or wip-state-changed (only when the change became ready:
//              moving a change into work in progress never triggers)
//   branches   include (any, when absent) and exclude regular expressions on Gerrit's short branch name
//   comment    comment-added: tested, case-insensitively, against the first line of the comment's body —
//              the comment without Gerrit's "Patch Set N: <votes>" header and "(N comments)" line, trimmed
//              (commentBody). So "recheck", "Recheck." and "Patch Set 3:\n\nrecheck\n\nflaky test" all match
//              `^recheck\.?$`, while "please recheck" does not.
//   approvals  comment-added: every listed vote was cast by this comment (Gerrit lists all of the author's
//              votes on every comment; only those with `oldValue` changed just now, as Zuul reads them)
//   ignoreWip / ignorePrivate (default true)
//   by         the event's account (the uploader of a patch set, the author of a comment, the account that marked
//              the change ready) is in the named set of accounts
//   requireApprovals / rejectApprovals
//              the change's current patch set carries a matching vote for each / for none (whoever cast it)
// Always: the change is open (status NEW when Gerrit says), and the event names the patchset's commit (40 hex).
//
// Ref pipelines (triggeredRefPipelines; their runs are runs/ref-run.ts's) take the events about a ref instead:
//   change-merged  the merged change's branch against `branches`, ignorePrivate; its run tests the new revision
//                  of refs/heads/<branch> (the event's newRev, else the patch set's commit)
//   ref-updated    the full ref name against `refs`, a deletion (new revision 40 zeros) only without
//                  ignoreDeletes; both revisions must be commits
//   timer          no Gerrit event: timers.ts
//
// The last three conditions of the first list need facts only Gerrit knows (group members, the change's votes): the shell asks `factsNeeded`
// which, for the rules the event otherwise meets, fetches them, and passes them in (TriggerFacts). A rule whose
// facts are missing does not match: nothing runs on a guess.
import type { ResourceAmounts } from '../config/policy.js';
import type { PipelineConfig, ProjectConfig } from '../config/project-config.js';
import type { AccountAttribute, ChangeMergedEvent, CommentAddedEvent, GerritEvent, PatchsetCreatedEvent, RefUpdatedEvent, WipStateChangedEvent } from '../events/gerrit-event.js';
import { NO_REVISION, type RefSubject } from '../runs/ref-run.js';
import type { AccountSet, Pipeline, TriggerEvent, TriggerRule, VoteFilter } from '../config/pipeline-config.js';
import type { ChangeRef } from '../runs/workflow.js';
import type { ChangeInfo } from '../gerrit/types.js';


export interface Trigger {
  /** The system's pipeline. */
  readonly pipeline: Pipeline;
  /** The project's entry for it: which Workflow it runs, which queue it shares. */
  readonly projectPipeline: PipelineConfig;
  /** Which rule of the pipeline matched (index into pipeline.triggers). */
  readonly rule: number;
  readonly event: TriggerEvent;
  readonly change: ChangeRef;
  /** The project's namespace totals (its seakeeper.yaml resources, within policy): no container may ask for more. */
  readonly resources: ResourceAmounts;
}

/** A ref pipeline's trigger (change-merged, ref-updated): what it runs is a ref's new revision (ref-run.ts). */
export interface RefTrigger extends Omit<Trigger, 'change'> {
  readonly subject: RefSubject;
}

type TriggeringEvent = PatchsetCreatedEvent | CommentAddedEvent | WipStateChangedEvent;
type RefTriggeringEvent = ChangeMergedEvent | RefUpdatedEvent;

/** Gerrit's commit ids: SHA-1, lower-case hex (also a valid label value). */
export const COMMIT_SHA = /^[0-9a-f]{40}$/;

/** Whether `name` passes a rule's include list (none: anything) and none of its exclude list. */
export function namePasses(name: string, include: readonly RegExp[], exclude: readonly RegExp[]): boolean {
  return (include.length === 0 || include.some((re) => re.test(name))) && !exclude.some((re) => re.test(name));
}

/** Longest first line of a comment that is tested against a pattern; longer ones match nothing. */
export const MAX_COMMENT_LINE = 1000;

const GERRIT_HEADER = /^Patch Set \d+:[^\n]*(?:\n|$)/;
const COMMENT_COUNT = /^\s*\((?:\d+ (?:inline )?comments?)\)[ \t]*(?:\n|$)/;

/** A comment's text without Gerrit's "Patch Set N: <votes>" header and "(N comments)" line, trimmed. */
export function commentBody(comment: string | undefined): string {
  let body = (comment ?? '').replace(/\r\n?/g, '\n').replace(GERRIT_HEADER, '').replace(/^\s*\n/, '');
  body = body.replace(COMMENT_COUNT, '');
  return body.trim();
}

/** The first line of the comment's body, trimmed: what `comment` conditions are tested against. */
export function commentCommand(comment: string | undefined): string {
  return (commentBody(comment).split('\n')[0] ?? '').trim();
}

function triggering(event: GerritEvent): TriggeringEvent | undefined {
  if (event.kind === 'patchset-created' || event.kind === 'comment-added') return event;
  if (event.kind === 'wip-state-changed') return event;
  return undefined;
}

/** The change and patchset the event is about, when it names the patchset's commit. */
export function changeRefOf(event: TriggeringEvent): ChangeRef | undefined {
  const patchSet = event.patchSet;
  if (!patchSet?.revision || !COMMIT_SHA.test(patchSet.revision)) return undefined;
  const { change } = event;
  return {
    project: event.project,
    branch: change.branch,
    number: change.number,
    patchset: patchSet.number,
    revision: patchSet.revision,
    ref: patchSet.ref ?? changeRef(change.number, patchSet.number),
    ...(change.url !== undefined ? { url: change.url } : {}),
    ...(change.subject !== undefined ? { subject: change.subject } : {}),
  };
}

/** Gerrit's ref of a patchset: refs/changes/<last two digits>/<change>/<patchset>. */
export function changeRef(change: number, patchset: number): string {
  return `refs/changes/${String(change % 100).padStart(2, '0')}/${change}/${patchset}`;
}

/** A vote on the change's current patch set. */
export interface Vote {
  readonly label: string;
  readonly value: number;
}

/** What the shell found out for the rules that need it (factsNeeded). */
export interface TriggerFacts {
  /** The names of the account sets the event's account is in (of those asked about). */
  readonly memberOf?: ReadonlySet<string>;
  /** The votes on the change's current patch set. */
  readonly votes?: readonly Vote[];
}

/** What the shell must fetch before the rules the event meets on its face can be decided. */
export interface FactsNeeded {
  /** The sets to test the event's account against. */
  readonly sets: readonly AccountSet[];
  readonly votes: boolean;
}

/** The account that made the event: the uploader of a patch set, the author of a comment, the changer. */
export function eventAccount(event: GerritEvent): AccountAttribute | undefined {
  if (event.kind === 'change-merged' || event.kind === 'ref-updated') return event.submitter;
  if (event.kind === 'patchset-created') return event.uploader;
  if (event.kind === 'comment-added') return event.author;
  if (event.kind === 'wip-state-changed') return event.changer;
  return undefined;
}

/** The votes on the change's current patch set (DETAILED_LABELS), 0 ("no score") left out. */
export function votesOf(info: Pick<ChangeInfo, 'labels'>): Vote[] {
  return Object.entries(info.labels ?? {}).flatMap(([label, detail]) =>
    (detail.all ?? []).flatMap((a) => (a.value === undefined || a.value === 0 ? [] : [{ label, value: a.value }])),
  );
}

const matchesFilter = (votes: readonly Vote[], filter: VoteFilter): boolean =>
  votes.some((v) => v.label === filter.label && filter.values.includes(v.value));

/** Whether the facts let the rule through: its account set, its required and rejected votes. */
function factsAllow(rule: TriggerRule, facts: TriggerFacts): boolean {
  if (rule.by && !facts.memberOf?.has(rule.by.name)) return false;
  if (rule.requireApprovals.length === 0 && rule.rejectApprovals.length === 0) return true;
  const { votes } = facts;
  if (!votes) return false;
  return rule.requireApprovals.every((f) => matchesFilter(votes, f)) && !rule.rejectApprovals.some((f) => matchesFilter(votes, f));
}

const needsVotes = (rule: TriggerRule): boolean => rule.requireApprovals.length > 0 || rule.rejectApprovals.length > 0;

/** Whether one trigger rule matches the event, given what the shell found out (TriggerFacts). */
export function ruleMatches(rule: TriggerRule, event: GerritEvent, facts: TriggerFacts = {}): boolean {
  return eventMeets(rule, event) && factsAllow(rule, facts);
}

/** The ref and revisions a change-merged or ref-updated names, when they are a ref and commits. */
export function refSubjectOf(event: RefTriggeringEvent): RefSubject | undefined {
  if (event.kind === 'change-merged') {
    const { change, patchSet } = event;
    const newRevision = event.newRev !== undefined && COMMIT_SHA.test(event.newRev) ? event.newRev : patchSet.revision;
    if (newRevision === undefined || !COMMIT_SHA.test(newRevision)) return undefined;
    const merged = { number: change.number, patchset: patchSet.number, ...(change.url !== undefined ? { url: change.url } : {}), ...(change.subject !== undefined ? { subject: change.subject } : {}) };
    return { project: event.project, ref: `refs/heads/${change.branch}`, branch: change.branch, oldRevision: '', newRevision, change: merged };
  }
  const { refName, oldRev, newRev } = event.refUpdate;
  if (!refName || oldRev === undefined || newRev === undefined || !COMMIT_SHA.test(oldRev) || !COMMIT_SHA.test(newRev)) return undefined;
  // Gerrit before 2.13 named branches by their short name.
  const ref = refName.startsWith('refs/') ? refName : `refs/heads/${refName}`;
  return { project: event.project, ref, branch: ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : '', oldRevision: oldRev, newRevision: newRev };
}

function refEventMeets(rule: TriggerRule, event: RefTriggeringEvent): boolean {
  const subject = refSubjectOf(event);
  if (!subject) return false;
  if (event.kind === 'change-merged') {
    const { change } = event;
    if (change.status !== undefined && change.status !== 'MERGED') return false;
    if (rule.ignorePrivate && change.private === true) return false;
    return namePasses(change.branch, rule.includeBranches, rule.excludeBranches);
  }
  if (rule.ignoreDeletes && subject.newRevision === NO_REVISION) return false;
  return namePasses(subject.ref, rule.includeRefs, rule.excludeRefs);
}

/** Whether the event meets the rule on its face: everything but the conditions that need facts. */
function eventMeets(rule: TriggerRule, event: GerritEvent): boolean {
  if ((event.kind === 'change-merged' || event.kind === 'ref-updated') && rule.event === event.kind) return refEventMeets(rule, event);
  const e = triggering(event);
  if (!e || e.kind !== rule.event) return false;
  const { change } = e;
  if (change.status !== undefined && change.status !== 'NEW') return false;
  if (rule.ignoreWip && change.wip === true) return false;
  if (rule.ignorePrivate && change.private === true) return false;
  if (e.kind === 'wip-state-changed' && change.wip === true) return false;
  if (!namePasses(change.branch, rule.includeBranches, rule.excludeBranches)) return false;
  if (e.kind === 'comment-added') {
    if (rule.comment) {
      const command = commentCommand(e.comment);
      if (command.length > MAX_COMMENT_LINE || !rule.comment.test(command)) return false;
    }
    for (const wanted of rule.approvals) {
      const cast = e.approvals.some(
        (a) => a.type === wanted.label && Number(a.value) === wanted.value && a.oldValue !== undefined && Number(a.oldValue) !== wanted.value,
      );
      if (!cast) return false;
    }
  }
  return changeRefOf(e) !== undefined;
}

/** The index of the first rule of the pipeline that the event matches, or -1. */
function matchingRule(pipeline: Pipeline, event: GerritEvent, facts: TriggerFacts): number {
  return pipeline.triggers.findIndex((rule) => ruleMatches(rule, event, facts));
}

/**
 * Whether the event could trigger any pipeline for any project: the shell asks this before it fetches the
 * project's configuration, so the many comments that are not commands cost nothing.
 */
export function eventCanTrigger(event: GerritEvent, pipelines: readonly Pipeline[]): boolean {
  return pipelines.some((p) => p.triggers.some((rule) => eventMeets(rule, event)));
}

/** The project's pipelines, in name order, each with the rules the event meets on its face. */
function candidates(event: GerritEvent, pipelines: readonly Pipeline[], config: ProjectConfig): { pipeline: Pipeline; rules: TriggerRule[] }[] {
  return pipelines
    .filter((pipeline) => config.pipelines.some((p) => p.name === pipeline.name))
    .map((pipeline) => ({ pipeline, rules: pipeline.triggers.filter((rule) => eventMeets(rule, event)) }))
    .filter((c) => c.rules.length > 0);
}

/** The facts the project's candidate rules need: nothing at all for rules without `by` or vote filters. */
export function factsNeeded(event: GerritEvent, pipelines: readonly Pipeline[], config: ProjectConfig): FactsNeeded {
  const rules = candidates(event, pipelines, config).flatMap((c) => c.rules);
  const sets = new Map<string, AccountSet>();
  for (const rule of rules) if (rule.by) sets.set(rule.by.name, rule.by);
  return { sets: [...sets.values()], votes: rules.some(needsVotes) };
}

/**
 * The notice owed to the uploader of a patch set that a pipeline of the project would have run for a member of
 * a set of accounts (by) but not for them: the first such set, in pipeline order, that has a notice. Posted once
 * per change (the shell claims it); none when the rule would not have run for a member either (its votes).
 */
export function noticeOwed(event: GerritEvent, pipelines: readonly Pipeline[], config: ProjectConfig, facts: TriggerFacts): AccountSet | undefined {
  if (event.kind !== 'patchset-created') return undefined;
  for (const { pipeline, rules } of candidates(event, pipelines, config)) {
    if (matchingRule(pipeline, event, facts) >= 0) continue;
    for (const rule of rules) {
      if (!rule.by?.notice || facts.memberOf?.has(rule.by.name) !== false) continue;
      if (factsAllow({ ...rule, by: undefined }, facts)) return rule.by;
    }
  }
  return undefined;
}

/** What is common to a change's and a ref's triggers: the pipeline, the project's entry for it, the rule. */
type Matched = Pick<Trigger, 'pipeline' | 'projectPipeline' | 'rule' | 'resources'>;

/** The project's pipelines whose rules the event matches, sorted by pipeline name. */
function matchedPipelines(event: GerritEvent, pipelines: readonly Pipeline[], config: ProjectConfig, facts: TriggerFacts): Matched[] {
  const matched: Matched[] = [];
  for (const pipeline of pipelines) {
    const projectPipeline = config.pipelines.find((p) => p.name === pipeline.name);
    if (!projectPipeline) continue;
    const rule = matchingRule(pipeline, event, facts);
    if (rule >= 0) matched.push({ pipeline, projectPipeline, rule, resources: config.resources });
  }
  return matched.sort((a, b) => (a.pipeline.name < b.pipeline.name ? -1 : a.pipeline.name > b.pipeline.name ? 1 : 0));
}

/** The pipelines the event triggers for a project with this configuration, sorted by pipeline name. */
export function triggeredPipelines(event: GerritEvent, pipelines: readonly Pipeline[], config: ProjectConfig, facts: TriggerFacts = {}): Trigger[] {
  const e = triggering(event);
  const change = e && changeRefOf(e);
  if (!e || !change) return [];
  return matchedPipelines(event, pipelines, config, facts).map((m) => ({ ...m, event: e.kind, change }));
}

/** The ref pipelines a change-merged or ref-updated triggers for a project with this configuration, by name. */
export function triggeredRefPipelines(event: GerritEvent, pipelines: readonly Pipeline[], config: ProjectConfig, facts: TriggerFacts = {}): RefTrigger[] {
  if (event.kind !== 'change-merged' && event.kind !== 'ref-updated') return [];
  const subject = refSubjectOf(event);
  if (!subject) return [];
  return matchedPipelines(event, pipelines, config, facts).map((m) => ({ ...m, event: event.kind, subject }));
}

/**
 * The project's pipelines that no system pipeline has: they would never run. For the config check and the
 * provisioning log; the names in a ProjectConfig are otherwise free.
 */
export function unknownPipelines(config: ProjectConfig, pipelines: readonly Pipeline[]): string[] {
  const known = new Set(pipelines.map((p) => p.name));
  return config.pipelines.map((p) => p.name).filter((name) => !known.has(name));
}
