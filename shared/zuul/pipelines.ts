// Zuul v2 pipelines as Seakeeper's (config/pipelines.yaml, its schema config/pipelines.schema.json). Pure: each
// pipeline becomes the nearest thing the schema can say today, and whatever it cannot say becomes a note, shown
// in the report and as a comment on the line it is about. Zuul's postmerge (change-merged), post and publish
// (ref-updated), and its periodic pipelines (timer, timers.ts), are Seakeeper's ref pipelines: independent, and
// never voting, so a vote their reporters would cast is dropped; a timer's also runs at the periodic priority.
// A pipeline none of whose triggers Seakeeper has yet (Zuul's own zuul trigger) is reserved: written out
// commented, so that its name stays taken and the block can be switched on once that trigger kind exists, but
// never half-working. A trigger's e-mail filter names a set of accounts (accounts.ts); one whose filter cannot be
// carried over is left out rather than let everyone in.
import { Document, isScalar, visit, type Node } from 'yaml';
import { PRIORITY_CLASSES } from '../names.js';
import { accountsYaml, collectAccountSets, emailList, noticeFor, type AccountSets, type ConvertedAccountSet } from './accounts.js';
import type { ZuulLayout, ZuulPipeline } from './layout.js';
import { pipelineName } from './names.js';
import type { Note } from './notes.js';
import { branchFilter, commentPattern, refFilter } from './regex.js';
import { convertTimer } from './timers.js';

type Path = readonly (string | number)[];

export interface ConvertedPipeline {
  readonly zuulName: string;
  readonly name: string;
  /** Zuul's own manager: only Zuul's dependent pipelines had shared queues. */
  readonly zuulDependent: boolean;
  /** The pipeline as pipelines.yaml writes it (the value under its name). */
  readonly value: Record<string, unknown>;
  /** Comments, each on the node at `path` inside `value` ([] is the pipeline itself). */
  readonly comments: readonly { readonly path: Path; readonly text: string }[];
  /** Why it is written commented out; undefined when it is live. */
  readonly reserved?: string | undefined;
}

export interface PipelinesConversion {
  readonly pipelines: readonly ConvertedPipeline[];
  /** Zuul pipeline name → Seakeeper pipeline name. */
  readonly names: ReadonlyMap<string, string>;
  /** `accounts:`, in the order the layout first uses each. */
  readonly accounts: readonly ConvertedAccountSet[];
  readonly notes: readonly Note[];
}

const SUPPORTED_EVENTS = new Set(['patchset-created', 'comment-added', 'change-merged', 'ref-updated']);

/** Events whose runs test a ref, not a patch set (shared/runs/ref-run.ts): they never vote and never gate. */
const REF_EVENTS = new Set(['change-merged', 'ref-updated', 'timer']);
/** Those whose runs report nowhere in Gerrit: there is no change to report on. */
const UNREPORTED_EVENTS = new Set(['ref-updated', 'timer']);

// Zuul's precedence orders the scheduler's work; Seakeeper's PriorityClasses order the cluster's
// (knative/cluster/priorityclasses.yaml): high is the gate's class, normal the checks', low the periodic one.
const PRIORITY: Record<string, string> = { high: PRIORITY_CLASSES.gate, normal: PRIORITY_CLASSES.check, low: PRIORITY_CLASSES.periodic };

// Zuul v2 left time limits to the Jenkins jobs; these are the shipped pipelines' (config/pipelines.yaml).
const KEEP = { secondsAfterSuccess: 172_800, secondsAfterFailure: 604_800 };
const WORKFLOW = {
  independent: { maxActiveDeadlineSeconds: 3600, ttlStrategy: KEEP, podGC: { strategy: 'OnPodSuccess' } },
  dependent: { maxActiveDeadlineSeconds: 5400, ttlStrategy: KEEP, podGC: { strategy: 'OnPodSuccess' } },
};

/** Zuul v2's default messages (zuul/reporter: start, success, failure). */
const DEFAULT_MESSAGES = { start: 'Starting {pipeline.name} jobs.', success: 'Build succeeded.', failure: 'Build failed.' };

/** Pipeline keys whose meaning is carried (or deliberately replaced) below. */
const HANDLED = new Set([
  'name', 'description', 'manager', 'source', 'precedence', 'trigger', 'start', 'success', 'failure',
  'start-message', 'success-message', 'failure-message', 'window', 'window-floor', 'window-ceiling', 'require',
]);

const TRIGGER_HANDLED = new Set(['event', 'branch', 'comment', 'approval', 'email', 'email_filter', 'require-approval', 'reject-approval']);
/** What a ref-updated trigger has beside them. */
const REF_UPDATED_HANDLED = new Set([...TRIGGER_HANDLED, 'ref', 'ignore-deletes']);

/** Keys of a Zuul approval filter that qualify who voted and when, which Seakeeper's vote filters do not. */
const VOTER_KEYS = new Set(['username', 'email', 'email-filter', 'older-than', 'newer-than']);

/** The schema's limits on a trigger's requireApprovals / rejectApprovals. */
const MAX_VOTE_FILTERS = 8;
const MAX_VOTE = 10;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `code-review` → `Code-Review`: Zuul lower-cases Gerrit's label names. */
export const labelName = (zuul: string): string => zuul.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');

/** Converts every pipeline of the layout. Pure. */
export function convertPipelines(layout: ZuulLayout): PipelinesConversion {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const pipeline of layout.pipelines) {
    let name = pipelineName(pipeline.name);
    for (let n = 2; taken.has(name); n++) name = `${pipelineName(pipeline.name).slice(0, 36)}-${n}`;
    taken.add(name);
    names.set(pipeline.name, name);
  }
  const accounts = collectAccountSets(layout, names);
  const notes: Note[] = [...accounts.notes];
  const pipelines = layout.pipelines.map((p) => convertPipeline(p, names.get(p.name)!, accounts, notes));
  const live = pipelines.filter((p) => !p.reserved).map((p) => p.value as { trigger: Record<string, unknown>[] });
  const sets = accounts.sets.map((set) => {
    const notice = noticeFor(set.name, live);
    return notice === undefined ? set : { ...set, notice };
  });
  return { pipelines, names, accounts: sets, notes };
}

function convertPipeline(zuul: ZuulPipeline, name: string, accounts: AccountSets, allNotes: Note[]): ConvertedPipeline {
  const comments: { path: Path; text: string }[] = [];
  const note = (kind: string, detail: string, path: Path = []) => {
    allNotes.push({ kind, where: `pipeline ${zuul.name}`, detail });
    comments.push({ path, text: detail });
  };

  const zuulDependent = zuul.manager === 'DependentPipelineManager';
  const submits = [zuul.success, zuul.failure].some((r) => isRecord(r) && isRecord(r.gerrit) && r.gerrit.submit === true);
  // Only a dependent pipeline may submit in Seakeeper. A Zuul independent pipeline that submits (Wikimedia's
  // l10n gate) merges changes; as dependent it still does, each project's changes in a queue of their own.
  const manager = zuulDependent || submits ? 'dependent' : 'independent';

  const value: Record<string, unknown> = {};
  if (typeof zuul.description === 'string') value.description = zuul.description.replace(/\s+/g, ' ').trim().slice(0, 500);
  value.manager = manager;
  if (manager === 'dependent' && !zuulDependent) {
    note('manager', `Zuul's ${String(zuul.manager)} submits changes, which only a dependent pipeline may do here: dependent, with no shared queues`, ['manager']);
  }

  const precedence = typeof zuul.precedence === 'string' ? zuul.precedence : 'normal';
  value.priorityClass = PRIORITY[precedence] ?? PRIORITY_CLASSES.check;
  const precedenceComment = comments.push({ path: ['priorityClass'], text: `Zuul precedence: ${precedence}` }) - 1;

  const triggers: Record<string, unknown>[] = [];
  const later: Record<string, unknown>[] = [];
  /** Kinds of trigger Seakeeper has none of yet. */
  const lacking: string[] = [];
  /** Triggers of kinds it has, left out (a note says why). */
  const leftOut: string[] = [];
  /** Each trigger's notes, and its comments (`remarks`, their paths inside the trigger). */
  const results: { event: string; converted: TriggerResult; pending: [string, string][]; remarks: { path: Path; text: string }[] }[] = [];
  const zuulTriggers = isRecord(zuul.trigger) ? zuul.trigger : {};
  for (const [source, entries] of Object.entries(zuulTriggers)) {
    if (source === 'timer') {
      for (const entry of Array.isArray(entries) ? entries : []) {
        if (!isRecord(entry)) continue;
        for (const timer of convertTimer(entry)) {
          results.push({
            event: 'timer',
            converted: timer.trigger ? { ok: true, triggers: [timer.trigger] } : { ok: false },
            pending: timer.notes.map((n) => [n.kind, n.detail]),
            remarks: [...timer.comments],
          });
        }
      }
      continue;
    }
    if (source !== 'gerrit') {
      lacking.push(source);
      note(`trigger: ${source}`, `trigger ${source} (${JSON.stringify(entries)}) not carried over: Seakeeper has no ${source} trigger yet`);
      continue;
    }
    for (const entry of Array.isArray(entries) ? entries : []) {
      if (!isRecord(entry)) continue;
      const pending: [string, string][] = [];
      const converted = convertTrigger(entry, manager, accounts, (kind, detail) => pending.push([kind, detail]));
      results.push({ event: String(entry.event), converted, pending, remarks: [] });
    }
  }
  // A run of a ref neither gates nor votes. Where the pipeline does either for changes, its ref triggers are left
  // out, since the pipeline as a whole cannot be both; where it has ref triggers alone, its votes are (report).
  const changeTriggered = results.some((r) => r.converted.ok && !REF_EVENTS.has(r.event));
  const votes = (['start', 'success', 'failure'] as const).some((kind) => {
    const gerrit = isRecord(zuul[kind]) ? (zuul[kind] as Record<string, unknown>).gerrit : undefined;
    return isRecord(gerrit) && Object.entries(gerrit).some(([key, setting]) => key !== 'tag' && typeof setting === 'number');
  });
  for (const r of results) {
    if (!r.converted.ok || !REF_EVENTS.has(r.event)) continue;
    const why =
      manager === 'dependent' ? 'a dependent pipeline gates changes, and a run of a ref is no change'
      : changeTriggered && votes ? 'the pipeline votes on the changes its other triggers start it for, and a run of a ref never votes'
      : undefined;
    if (why === undefined) continue;
    r.pending.push([`trigger: ${r.event} in a pipeline that ${manager === 'dependent' ? 'gates' : 'votes'}`, `${r.event} trigger left out: ${why}`]);
    r.converted = { ok: false, later: r.converted.triggers[0] };
  }
  for (const { event, converted, pending, remarks } of results) {
    // A note on a trigger carried over sits above it; on one dropped, above the pipeline.
    for (const [kind, detail] of pending) note(kind, detail, converted.ok ? ['trigger', triggers.length] : []);
    if (converted.ok) {
      for (const remark of remarks) comments.push({ path: ['trigger', triggers.length, ...remark.path], text: remark.text });
      triggers.push(...converted.triggers);
    } else {
      (converted.lacking ? lacking : leftOut).push(event);
      if (converted.later) later.push(converted.later);
    }
  }
  // A reserved pipeline shows the triggers it waits for, as they would read once Seakeeper has them.
  value.trigger = (triggers.length > 0 ? triggers : later).slice(0, 16);

  // A pipeline with a timer runs at the periodic priority whatever else triggers it (config problem priority-class).
  const timed = triggers.some((t) => t.event === 'timer');
  if (timed && value.priorityClass !== PRIORITY_CLASSES.periodic) {
    value.priorityClass = PRIORITY_CLASSES.periodic;
    comments[precedenceComment] = { path: ['priorityClass'], text: `Zuul precedence: ${precedence}; a pipeline with a timer trigger runs at the periodic priority` };
  }
  if (timed) {
    // Zuul v2 enqueued a timer's pipeline once per project, on no branch (the Jenkins job checked out what it chose).
    comments.push({ path: [], text: "Zuul v2 ran a timer once per project: here it runs on each project's default branch (HEAD), unless a branches: filter names the branches" });
  }

  const refRuns: RefRuns =
    !triggers.some((t) => REF_EVENTS.has(String(t.event))) ? 'none'
    : triggers.every((t) => UNREPORTED_EVENTS.has(String(t.event))) ? 'report nowhere'
    : 'report on changes';
  const refKinds = timed ? 'change-merged, ref-updated or timer' : 'change-merged or ref-updated';
  const start = report(zuul, 'start', manager, refRuns, refKinds, note, comments);
  if (start) value.start = start;
  value.success = report(zuul, 'success', manager, refRuns, refKinds, note, comments) ?? { message: DEFAULT_MESSAGES.success };
  value.failure = report(zuul, 'failure', manager, refRuns, refKinds, note, comments) ?? { message: DEFAULT_MESSAGES.failure };
  value.tag = `autogenerated:seakeeper-${name}`;

  value.workflow = WORKFLOW[manager];
  comments.push({ path: ['workflow'], text: "Seakeeper's limits: Zuul v2 left them to the Jenkins jobs" });
  if (manager === 'dependent') {
    if (typeof zuul.window === 'number') value.window = zuul.window;
    if (typeof zuul['window-floor'] === 'number') value.windowFloor = zuul['window-floor'];
    if (typeof zuul['window-ceiling'] === 'number') value.windowCeiling = zuul['window-ceiling'];
  }

  for (const [key, setting] of Object.entries(zuul)) {
    if (HANDLED.has(key)) continue;
    note(`pipeline: ${key}`, `${key}: ${JSON.stringify(setting)} not carried over: pipelines.schema.json has no such setting`);
  }
  if (zuul.require !== undefined && !isRecord(zuul.require)) note('pipeline: require', `require: ${JSON.stringify(zuul.require)} not carried over: not a mapping`);
  for (const [key, setting] of Object.entries(isRecord(zuul.require) ? zuul.require : {})) {
    if (key === 'open' && setting === true) comments.push({ path: [], text: 'Zuul require: open: true is kept: Seakeeper triggers fire for open changes only' });
    else note('pipeline: require', `require: ${key}: ${JSON.stringify(setting)} not carried over: pipelines.schema.json has no such requirement`);
  }
  if (zuul.source !== undefined && zuul.source !== 'gerrit') note('pipeline: source', `source ${JSON.stringify(zuul.source)}: Seakeeper reads Gerrit only`);

  const reserved =
    triggers.length > 0 ? undefined
    : lacking.length > 0 || leftOut.length === 0
      ? `reserved, not live: its triggers (${[...new Set(lacking)].join(', ') || 'none'}) are kinds Seakeeper has no trigger for yet; it will not fire until one exists`
      : `reserved, not live: none of its triggers (${[...new Set(leftOut)].join(', ')}) could be carried over, as the notes say; it will not fire until one is`;
  if (reserved) allNotes.push({ kind: 'pipeline reserved (written commented out)', where: `pipeline ${zuul.name}`, detail: reserved });
  return { zuulName: zuul.name, name, zuulDependent, value, comments, reserved };
}

/**
 * A trigger carried over, or not; one whose event Seakeeper lacks (`lacking`) keeps the form it would take
 * (`later`), as does a ref trigger its pipeline cannot have.
 */
type TriggerResult = { ok: true; triggers: Record<string, unknown>[] } | { ok: false; lacking?: boolean; later?: Record<string, unknown> | undefined };

/**
 * Whether the pipeline's runs test refs (ref-run.ts), and where they report: a postmerge run posts its message on
 * the change that merged; a run of a ref-updated event, or of a timer, posts nothing at all.
 */
type RefRuns = 'none' | 'report on changes' | 'report nowhere';

/** Python's truth of a YAML value, which is what Zuul v2 tested a boolean setting for. */
const pythonTrue = (value: unknown): boolean =>
  !(value === false || value === null || value === 0 || value === '' || (Array.isArray(value) && value.length === 0) || (isRecord(value) && Object.keys(value).length === 0));

function convertTrigger(
  entry: Record<string, unknown>,
  manager: 'independent' | 'dependent',
  accounts: AccountSets,
  note: (kind: string, detail: string) => void,
): TriggerResult {
  const event = String(entry.event);
  const emails = emailList(entry);
  const set = emails ? accounts.setOf(emails) : undefined;
  if (!SUPPORTED_EVENTS.has(event)) {
    note(`trigger: ${event}`, `trigger on ${event}${entry.ref ? ` of ${JSON.stringify(entry.ref)}` : ''}${entry.branch ? ` on ${JSON.stringify(entry.branch)}` : ''} not carried over: Seakeeper has no ${event} trigger yet`);
    const branches = entry.branch === undefined || entry.branch === null ? undefined : branchFilter(entry.branch);
    return { ok: false, lacking: true, later: { event, ...(branches && (branches.include || branches.exclude) ? { branches } : {}), ...(set && 'name' in set ? { by: set.name } : {}) } };
  }
  if (set && 'refused' in set) {
    note('trigger: email filter', `${event}: email filter (${emails!.length} patterns) not carried over: ${set.refused}; the trigger is left out, since without its filter every uploader would trigger`);
    return { ok: false };
  }
  const trigger: Record<string, unknown> = { event };
  if (event === 'ref-updated') {
    // Zuul v2 matched a ref-updated event by its ref alone: branch, documented as unused there, is not a filter.
    if (entry.branch !== undefined && entry.branch !== null) {
      note('trigger: branch on ref-updated', `ref-updated: branch ${JSON.stringify(entry.branch)} not carried over: Zuul v2 did not use branch on ref-updated events, only ref`);
    }
    if (entry.ref !== undefined && entry.ref !== null) {
      const refs = refFilter(entry.ref);
      if (refs === undefined) {
        note('trigger: ref pattern', `ref-updated: ref ${JSON.stringify(entry.ref)} does not compile as a JavaScript pattern; the trigger is left out, since without it every ref (tags, refs/meta/config) would trigger`);
        return { ok: false };
      }
      if (refs.include || refs.exclude) trigger.refs = refs;
    }
    // Zuul's default, true, is Seakeeper's; Zuul read the setting as Python's truth.
    if ('ignore-deletes' in entry) {
      const ignore = entry['ignore-deletes'];
      if (!pythonTrue(ignore)) trigger.ignoreDeletes = false;
      if (typeof ignore !== 'boolean') note('trigger: ignore-deletes', `ref-updated: ignore-deletes ${JSON.stringify(ignore)} is no boolean; read as Zuul read it, ${String(pythonTrue(ignore))}`);
    }
  } else if (entry.branch !== undefined && entry.branch !== null) {
    const branches = branchFilter(entry.branch);
    if (branches === undefined) note('trigger: branch pattern', `${event}: branch ${JSON.stringify(entry.branch)} does not compile as a JavaScript pattern; not carried over, so any branch triggers`);
    else if (branches.include || branches.exclude) trigger.branches = branches;
  }

  const approvals: { label: string; value: number }[] = [];
  for (const approval of Array.isArray(entry.approval) ? entry.approval : []) {
    if (!isRecord(approval)) continue;
    for (const [label, wanted] of Object.entries(approval)) {
      const vote = voteOf(wanted);
      if (vote === undefined) note('trigger: approval', `${event}: approval ${label}: ${JSON.stringify(wanted)} (several values) not carried over: Seakeeper matches one value per label`);
      else approvals.push({ label: labelName(label), value: vote });
    }
  }
  const comments: ({ pattern: string } | undefined)[] = [];
  const zuulComments = (Array.isArray(entry.comment) ? entry.comment : entry.comment === undefined || entry.comment === null ? [] : [entry.comment]).map(String);
  for (const comment of zuulComments) {
    const converted = commentPattern(comment);
    if (!converted) note('trigger: comment pattern', `comment ${JSON.stringify(comment)} does not compile as a JavaScript pattern; not carried over`);
    else {
      if (!converted.exact) note('trigger: comment pattern', `comment ${JSON.stringify(comment)} is matched against the comment's first line only`);
      comments.push(converted);
    }
  }

  for (const [key, setting] of Object.entries(entry)) {
    if ((event === 'ref-updated' ? REF_UPDATED_HANDLED : TRIGGER_HANDLED).has(key) || setting === null || setting === undefined) continue;
    note(`trigger: ${key}`, `${event}: ${key} ${JSON.stringify(setting)} not carried over: Seakeeper's ${event} triggers have no ${key}`);
  }

  // Zuul matched a comment or approval filter against the event's comment or votes; only comment-added has them,
  // so on any other event such a trigger never fired, and it is not made to fire here.
  if (event !== 'comment-added' && (zuulComments.length > 0 || approvals.length > 0)) {
    note(`trigger: ${zuulComments.length > 0 ? 'comment' : 'approval'} on ${event}`, `${event} with a comment or approval filter left out: only comment-added events carry either, so Zuul never fired it`);
    return { ok: false };
  }
  // A ref has no votes: Zuul's vote filters never let a ref-updated event through.
  if (event === 'ref-updated' && (entry['require-approval'] != null || entry['reject-approval'] != null)) {
    note('trigger: vote filter on ref-updated', 'ref-updated with require-approval or reject-approval left out: a ref has no votes, so Zuul never fired it');
    return { ok: false };
  }

  if (event === 'comment-added') {
    if (approvals.length > 0) trigger.approvals = approvals;
    if (comments.length === 0 && approvals.length === 0) {
      note('trigger: comment-added without condition', 'comment-added with neither a comment nor an approval left: dropped (it would trigger on every comment)');
      return { ok: false };
    }
  }
  if (set) trigger.by = set.name;
  const requireApprovals = voteFilters(event, 'require-approval', entry['require-approval'], note);
  if (requireApprovals.length > 0) trigger.requireApprovals = requireApprovals;
  const rejectApprovals = voteFilters(event, 'reject-approval', entry['reject-approval'], note);
  if (rejectApprovals.length > 0) trigger.rejectApprovals = rejectApprovals;
  // Zuul v2 knew nothing of work in progress: it tested such changes. A gate cannot submit them, so there
  // Seakeeper's default (skip them) is kept. A merged change or a ref is no work in progress.
  if (manager === 'independent' && !REF_EVENTS.has(event)) trigger.ignoreWip = false;
  // One trigger per comment pattern, each with the same conditions: `comment` goes right after `branches`.
  if (comments.length > 0) {
    return { ok: true, triggers: comments.map((c) => withComment(trigger, c!.pattern)) };
  }
  return { ok: true, triggers: [trigger] };
}

function withComment(trigger: Record<string, unknown>, comment: string): Record<string, unknown> {
  const { event, branches, ...rest } = trigger;
  return { event, ...(branches !== undefined ? { branches } : {}), comment, ...rest };
}

/** A vote as Zuul writes one: 2, +2, '-1'. */
const voteOf = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) ? value : typeof value === 'string' && /^[+-]?\d+$/.test(value) ? Number(value) : undefined;

/**
 * Zuul's require-approval / reject-approval (`[{verified: [-1, 2]}, {code-review: 2}]`) as Seakeeper's vote filters
 * on the change's current patch set. In Zuul an entry matches one vote, so an entry is one label; one that also
 * qualifies the voter (username, email, older-than, newer-than) cannot be said and is noted.
 */
function voteFilters(event: string, key: string, setting: unknown, note: (kind: string, detail: string) => void): { label: string; value: number | number[] }[] {
  if (setting === undefined || setting === null) return [];
  const filters: { label: string; value: number | number[] }[] = [];
  for (const entry of Array.isArray(setting) ? setting : [setting]) {
    const labels = isRecord(entry) ? Object.keys(entry).filter((k) => !VOTER_KEYS.has(k)) : [];
    const voter = isRecord(entry) ? Object.keys(entry).filter((k) => VOTER_KEYS.has(k)) : [];
    const wanted = labels.length === 1 ? (entry as Record<string, unknown>)[labels[0]!] : undefined;
    const votes = (Array.isArray(wanted) ? wanted : [wanted]).map(voteOf);
    const values = [...new Set(votes.filter((v): v is number => v !== undefined))];
    const why =
      voter.length > 0 ? `Seakeeper's vote filters do not ask who voted or when (${voter.join(', ')})`
      : labels.length !== 1 ? 'Seakeeper filters one label per entry'
      : values.length !== votes.length || values.some((v) => Math.abs(v) > MAX_VOTE) ? `votes are whole numbers from -${MAX_VOTE} to ${MAX_VOTE}`
      : filters.length === MAX_VOTE_FILTERS ? `a trigger has ${MAX_VOTE_FILTERS} at most`
      : undefined;
    if (why !== undefined) {
      note(`trigger: ${key}`, `${event}: ${key} ${JSON.stringify(entry)} not carried over: ${why}`);
      continue;
    }
    filters.push({ label: labelName(labels[0]!), value: Array.isArray(wanted) ? values : values[0]! });
  }
  return filters;
}

function report(
  zuul: ZuulPipeline,
  kind: 'start' | 'success' | 'failure',
  manager: 'independent' | 'dependent',
  refRuns: RefRuns,
  /** The ref events a vote-dropping note names. */
  refKinds: string,
  note: (kind: string, detail: string, path?: Path) => void,
  comments: { path: Path; text: string }[],
): Record<string, unknown> | undefined {
  const reporters = zuul[kind];
  const message = typeof zuul[`${kind}-message`] === 'string' ? (zuul[`${kind}-message`] as string) : undefined;
  if (!isRecord(reporters) && message === undefined) {
    if (kind === 'start') return undefined;
    // Reporting nothing is what a run of ref-updated does anyway: the message the schema asks for is never posted.
    if (refRuns === 'report nowhere') comments.push({ path: [kind], text: "a run of a ref posts nothing in Gerrit (as Zuul here): Zuul's default message, for the schema" });
    else note(`report: no ${kind} reporter`, `Zuul reported nothing on ${kind}; Seakeeper always posts a message, so Zuul's default one is posted, to nobody by e-mail`, [kind]);
    return { message: DEFAULT_MESSAGES[kind], notify: 'NONE' };
  }
  const out: Record<string, unknown> = { message: placeholders(message ?? DEFAULT_MESSAGES[kind], note, kind) };
  const labels: Record<string, number> = {};
  for (const [reporter, settings] of Object.entries(isRecord(reporters) ? reporters : {})) {
    if (reporter !== 'gerrit') {
      note(`report: ${reporter} reporter`, `${kind}: the ${reporter} reporter (${JSON.stringify(settings)}) not carried over: Seakeeper reports on Gerrit only`, [kind]);
      continue;
    }
    for (const [key, setting] of Object.entries(isRecord(settings) ? settings : {})) {
      if (key === 'tag') {
        note('report: gerrit tag', `${kind}: tag ${String(setting)} becomes autogenerated:seakeeper-<pipeline> (Seakeeper recognises its posts by it)`, [kind]);
      } else if (key === 'submit') {
        if (setting === true && kind === 'success' && manager === 'dependent') out.submit = true;
        else if (setting === true) note('report: submit', `${kind}: submit not carried over: only a dependent pipeline's success submits`, [kind]);
      } else if (typeof setting === 'number') {
        labels[labelName(key)] = setting;
      } else {
        note(`report: gerrit ${key}`, `${kind}: gerrit ${key}: ${JSON.stringify(setting)} not carried over`, [kind]);
      }
    }
  }
  if (Object.keys(labels).length > 0 && refRuns !== 'none') {
    // A run of a ref tests a commit that merged already: there is nothing left to vote on (config problem ref-vote).
    note('report: vote on a ref', `${kind}: ${Object.entries(labels).map(([label, vote]) => `${label} ${vote}`).join(', ')} not carried over: a pipeline triggered by ${refKinds} never votes`, [kind]);
  } else if (Object.keys(labels).length > 0) out.labels = labels;
  return out;
}

/** Zuul's `{pipeline.name}` is Seakeeper's `{pipeline}`; other Zuul placeholders have no equivalent. */
function placeholders(message: string, note: (kind: string, detail: string, path?: Path) => void, kind: string): string {
  return message.replace(/\{([^{}]*)\}/g, (whole, inner: string) => {
    if (inner === 'pipeline.name') return '{pipeline}';
    note('report: message placeholder', `${kind}: placeholder ${whole} has no Seakeeper equivalent; written without braces`, [kind, 'message']);
    return inner;
  });
}

/**
 * config/pipelines.yaml's text for the converted pipelines, reserved ones commented out after the live ones, then
 * the sets of accounts the triggers name (last: the 500-odd patterns of an allowlist would bury the pipelines).
 */
export function pipelinesYaml(pipelines: readonly ConvertedPipeline[], header: string, accounts: readonly ConvertedAccountSet[] = []): string {
  const live = pipelines.filter((p) => !p.reserved);
  const doc = new Document({ pipelines: Object.fromEntries(live.map((p) => [p.name, p.value])) }, { aliasDuplicateObjects: false });
  doc.commentBefore = header;
  for (const pipeline of live) {
    const at = (path: Path) => doc.getIn(['pipelines', pipeline.name, ...path], true) as Node | undefined;
    const pair = doc.getIn(['pipelines'], true) as { items?: { key: Node; value: Node }[] };
    const heading = pipeline.zuulName === pipeline.name ? `Zuul pipeline ${pipeline.zuulName}` : `Zuul pipeline ${pipeline.zuulName}, renamed ${pipeline.name}`;
    const own = pipeline.comments.filter((c) => c.path.length === 0).map((c) => c.text);
    const key = pair.items?.find((item) => isScalar(item.key) && item.key.value === pipeline.name)?.key;
    if (key) key.commentBefore = [heading, ...own].map((line) => ` ${line}`).join('\n');
    for (const comment of pipeline.comments.filter((c) => c.path.length > 0)) attachComment(at(comment.path), comment.text);
  }
  // A list of votes reads as Zuul wrote it: value: [-1, 2].
  visit(doc, { Seq: (_, seq) => void (seq.flow = seq.items.every((item) => isScalar(item) && typeof item.value === 'number')) });
  let text = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  for (const pipeline of pipelines.filter((p) => p.reserved)) {
    const block = new Document({ [pipeline.name]: pipeline.value }, { aliasDuplicateObjects: false }).toString({ lineWidth: 0 });
    text += `\n#   Zuul pipeline ${pipeline.zuulName}: ${pipeline.reserved}.\n`;
    for (const comment of pipeline.comments) text += `#   ${comment.text}\n`;
    text += block.replace(/\n$/, '').split('\n').map((line) => `#   ${line}`).join('\n') + '\n';
  }
  return accounts.length > 0 ? `${text}\n${accountsYaml(accounts)}` : text;
}

/** A comment on a scalar goes at the end of its line; on a collection, above it. Several are joined. */
function attachComment(node: Node | undefined, text: string): void {
  if (!node) return;
  if (isScalar(node)) node.comment = node.comment ? `${node.comment}; ${text}` : ` ${text}`;
  else node.commentBefore = node.commentBefore ? `${node.commentBefore}\n ${text}` : ` ${text}`;
}
