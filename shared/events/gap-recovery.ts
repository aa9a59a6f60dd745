// Gap recovery for gerrit-stream, the pure part: which instant to recover from, the Gerrit query that finds the
// changes touched since, the events those changes show happened — rebuilt in stream-events' own shape, so that
// they map to the CloudEvents the streamed originals had (gerrit-cloudevents.ts) — and the log that tells which
// of them the stream had already forwarded.
//
// Time. The checkpoint is the newest `eventCreatedOn` (seconds) forwarded. Gerrit stamps an event when it
// builds it, after the update it reports has been written; REST shows when the update was written (a message's
// `date`, a revision's `created`). So a rebuilt event is stamped at or before its original: on the rig the
// same second for 52 of 54 rebuilt events, a second earlier for two; a slow update (a large push, a submit of a
// big stack) widens that. Recovery therefore starts a margin before the checkpoint and keeps every rebuilt event
// at or after that instant, the boundary second included: the margin covers that lag and events delivered a
// little out of order; the same second because more events of the checkpoint's second may have been missed.
//
// Duplicates. Everything in the window the stream had forwarded comes back. patchset-created and change-merged
// get exactly the original ids. The kinds whose id includes the instant (comment-added, change-abandoned,
// change-restored) get the original id when the stamps agree, which is nearly always; ForwardedLog recognises
// the rest, so the shell sends only what `log.has()` does not know. What is still sent twice (after a restart
// without the log, or an event the webhook path delivered) is a duplicate the downstream handlers absorb,
// being idempotent (docs/architecture.md, principle 2); a loss would not be absorbed.
//
// What REST can rebuild (ChangeInfo with ALL_REVISIONS, MESSAGES, DETAILED_ACCOUNTS; DETAILED_LABELS and
// ALL_COMMITS make the data closer to the original):
//   patchset-created    every revision, at its `created`
//   comment-added       every review message ("Patch Set N: Code-Review+2 …") and every upload that voted
//                       ("Uploaded patch set N: Code-Review+2.", which Gerrit sends without a comment), at the
//                       message's `date`; the votes come from the message text
//   change-merged, change-abandoned, change-restored   from Gerrit's tagged messages
// Not rebuilt: ref-updated (so no project.config-changed: the reconcile pass repairs configuration), topic,
// hashtag, reviewer, WIP and private changes, and anything on a change deleted since.
// Approximations in the rebuilt `data` (never in the ids): `approvals` lists the change's labels with the
// author's votes as the messages record them (a vote copied from an earlier patch set counts as 0), `topic`,
// `hashtags`, `wip` and `private` are the change's current ones, and change-merged has no `newRev`.
//
// The shell, per (re)connection or dropped-output notice: `beginRecovery` → page through
// `updatedSinceQuery(since)` with RECOVERY_CHANGE_OPTIONS → `eventsFromChanges` → forward each event the
// ForwardedLog does not know, noting it and the checkpoint → `endRecovery`; live events go on meanwhile (noted
// in both too); persist `checkpointToPersist()` and `log.snapshot()` together.
import type { AccountInfo, ChangeOption, ChangeStatus } from '../gerrit/types.js';
import { changeUrl } from '../gerrit/refs.js';
import { isStamped, occurrenceKey } from './gerrit-cloudevents.js';
import {
  accountKey,
  oneLine,
  own,
  parseGerritEvent,
  type AccountAttribute,
  type ApprovalAttribute,
  type JsonObject,
  type ProjectGerritEvent,
} from './gerrit-event.js';

/** The ChangeInfo options recovery needs. */
export const RECOVERY_CHANGE_OPTIONS: readonly ChangeOption[] = [
  'ALL_REVISIONS',
  'MESSAGES',
  'DETAILED_ACCOUNTS',
  // Optional; they make the rebuilt data closer to the original: label names for `approvals`, and the
  // commits for `parents`, the commit author and `commitMessage`, which Depends-On footers live in.
  'DETAILED_LABELS',
  'ALL_COMMITS',
];

/**
 * How far before the checkpoint recovery looks. It must exceed the longest Gerrit update (a large push, a
 * slow submit), since that is how late an event can arrive behind newer ones.
 */
export const DEFAULT_RECOVERY_MARGIN_SECONDS = 300;

// --- the checkpoint ------------------------------------------------------------------------------------------

/** The instant recovery starts from: the checkpoint less the margin. Events at this second are included. */
export function recoverySince(checkpoint: number, marginSeconds = DEFAULT_RECOVERY_MARGIN_SECONDS): number {
  return Math.max(0, Math.floor(checkpoint) - Math.max(0, Math.floor(marginSeconds)));
}

/**
 * The checkpoint of a running gerrit-stream. `newest` is the newest eventCreatedOn forwarded (accepted by the
 * Broker) from the stream or a recovery. While a recovery is outstanding the value to persist is held at what
 * the checkpoint was when the earliest of them began: live events may run ahead, but a restart must still
 * recover what the unfinished recovery had not yet sent.
 */
export interface CheckpointState {
  readonly newest: number | undefined;
  readonly held: number | undefined;
  readonly recoveries: number;
}

/** The state at start-up, from the persisted checkpoint (undefined on the very first start). */
export function checkpointFrom(persisted: number | undefined): CheckpointState {
  return { newest: persisted, held: undefined, recoveries: 0 };
}

/** After the Broker accepted an event. Only ever moves forward. */
export function noteForwarded(state: CheckpointState, eventCreatedOn: number): CheckpointState {
  if (state.newest !== undefined && state.newest >= eventCreatedOn) return state;
  return { ...state, newest: eventCreatedOn };
}

/**
 * On every (re)connection and on a dropped-output notice: where the recovery it starts begins, or undefined when
 * nothing was ever forwarded (a first start has no gap to fill). Pair each recovery that began with one
 * `endRecovery` once all its events were forwarded; a failed recovery is retried, not ended.
 */
export function beginRecovery(
  state: CheckpointState,
  marginSeconds = DEFAULT_RECOVERY_MARGIN_SECONDS,
): { state: CheckpointState; since: number | undefined } {
  if (state.newest === undefined) return { state, since: undefined };
  const held = state.held === undefined ? state.newest : Math.min(state.held, state.newest);
  return { state: { ...state, held, recoveries: state.recoveries + 1 }, since: recoverySince(state.newest, marginSeconds) };
}

export function endRecovery(state: CheckpointState): CheckpointState {
  const recoveries = Math.max(0, state.recoveries - 1);
  return { ...state, recoveries, held: recoveries === 0 ? undefined : state.held };
}

/** The checkpoint to write to the ConfigMap now (undefined: nothing to write yet). */
export function checkpointToPersist(state: CheckpointState): number | undefined {
  return state.held ?? state.newest;
}

// --- what was forwarded ----------------------------------------------------------------------------------------

/**
 * How much later than the change message Gerrit may stamp the event it builds for it and still be taken for
 * the same occurrence. Observed: 0 or 1 s. A genuine repeat (the same author posting the same text on the same
 * patch set) within this many seconds is taken for a duplicate — a double click, in practice.
 */
export const DEFAULT_STAMP_TOLERANCE_SECONDS = 5;

export interface ForwardedLogOptions {
  toleranceSeconds?: number;
  /** How long an entry is kept behind the newest one noted; at least the recovery margin plus the tolerance. */
  horizonSeconds?: number;
}

/** A ForwardedLog as JSON, small enough to keep beside the checkpoint (about 70 bytes per event). */
export interface ForwardedLogSnapshot {
  v: 1;
  /** occurrence key → the eventCreatedOn of each forwarded event with that key. */
  seen: Record<string, number[]>;
}

/**
 * The events gerrit-stream forwarded lately, so that recovery does not send again what the stream already
 * sent under an id it cannot reproduce. A rebuilt event whose kind has no instant in its identity
 * (patchset-created, change-merged) is known when its occurrence was forwarded at all; one with an instant is
 * known when its occurrence was forwarded stamped at the rebuilt second or up to `toleranceSeconds` later.
 * Keep it across restarts with `snapshot()` / `ForwardedLog.restore()`. Deterministic, no I/O.
 */
export class ForwardedLog {
  readonly toleranceSeconds: number;
  readonly horizonSeconds: number;
  #seen = new Map<string, number[]>();
  #newest = -Infinity;
  #notesSincePrune = 0;

  constructor(options: ForwardedLogOptions = {}) {
    this.toleranceSeconds = Math.max(0, options.toleranceSeconds ?? DEFAULT_STAMP_TOLERANCE_SECONDS);
    this.horizonSeconds = Math.max(
      this.toleranceSeconds,
      options.horizonSeconds ?? DEFAULT_RECOVERY_MARGIN_SECONDS + this.toleranceSeconds + 60,
    );
  }

  /** After the Broker accepted an event, streamed or rebuilt. */
  note(event: ProjectGerritEvent): void {
    this.#add(occurrenceKey(event), event.eventCreatedOn);
    if (++this.#notesSincePrune >= 1024) this.prune();
  }

  /** Whether a rebuilt event was already forwarded (see the class comment). */
  has(event: ProjectGerritEvent): boolean {
    const stamps = this.#seen.get(occurrenceKey(event));
    if (!stamps) return false;
    if (!isStamped(event)) return true;
    const from = event.eventCreatedOn;
    return stamps.some((at) => at >= from && at <= from + this.toleranceSeconds);
  }

  /**
   * Whether a streamed event was already forwarded rebuilt — the other direction of `has`. The stream and a
   * recovery overlap for what happens while the recovery queries Gerrit: the rebuilt copy, stamped at or up to
   * `toleranceSeconds` before the streamed one, went first. Kinds without an instant in their identity: whether
   * the occurrence was forwarded at all. Ask it of a log that holds only rebuilt events, or a double click
   * streamed twice would count as one.
   */
  hasRebuiltOf(event: ProjectGerritEvent): boolean {
    const stamps = this.#seen.get(occurrenceKey(event));
    if (!stamps) return false;
    if (!isStamped(event)) return true;
    const to = event.eventCreatedOn;
    return stamps.some((at) => at <= to && at >= to - this.toleranceSeconds);
  }

  get size(): number {
    let n = 0;
    for (const stamps of this.#seen.values()) n += stamps.length;
    return n;
  }

  /** Forgets entries older than the horizon behind the newest noted. */
  prune(): void {
    this.#notesSincePrune = 0;
    const cutoff = this.#newest - this.horizonSeconds;
    for (const [key, stamps] of this.#seen) {
      const kept = stamps.filter((at) => at >= cutoff);
      if (kept.length === 0) this.#seen.delete(key);
      else if (kept.length !== stamps.length) this.#seen.set(key, kept);
    }
  }

  snapshot(): ForwardedLogSnapshot {
    this.prune();
    const seen: Record<string, number[]> = Object.create(null);
    for (const [key, stamps] of this.#seen) seen[key] = [...stamps];
    return { v: 1, seen };
  }

  /** From a snapshot read back from storage; anything malformed in it is ignored, not trusted. */
  static restore(snapshot: unknown, options: ForwardedLogOptions = {}): ForwardedLog {
    const log = new ForwardedLog(options);
    const seen = typeof snapshot === 'object' && snapshot !== null ? own(snapshot as JsonObject, 'seen') : undefined;
    if (typeof seen !== 'object' || seen === null || Array.isArray(seen)) return log;
    for (const key of Object.keys(seen)) {
      const stamps = (seen as JsonObject)[key];
      if (!Array.isArray(stamps) || !/^[a-z0-9._-]+-[0-9a-f]{40}$/i.test(key)) continue;
      for (const at of stamps) if (typeof at === 'number' && Number.isSafeInteger(at) && at >= 0) log.#add(key, at);
    }
    log.prune();
    return log;
  }

  #add(key: string, at: number): void {
    const stamps = this.#seen.get(key);
    if (!stamps) this.#seen.set(key, [at]);
    else if (!stamps.includes(at)) stamps.push(at);
    if (at > this.#newest) this.#newest = at;
  }
}

// --- the query -----------------------------------------------------------------------------------------------

/** `YYYY-MM-DD HH:MM:SS` in UTC, as Gerrit's REST API writes and its query language reads. */
export function formatGerritTimestamp(seconds: number): string {
  return new Date(Math.floor(seconds) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

const GERRIT_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?$/;

/** A REST timestamp (`2024-05-01 12:00:00.000000000`, always UTC) in whole seconds, or undefined. */
export function parseGerritTimestamp(text: string): number | undefined {
  const m = GERRIT_TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/**
 * The query for changes updated at or after `sinceSeconds` (Gerrit's `after:` is inclusive). The zone is
 * explicit so that the server's default cannot shift it. Page through it with `start` until no `_more_changes`.
 */
export function updatedSinceQuery(sinceSeconds: number): string {
  return `after:"${formatGerritTimestamp(sinceSeconds)} +0000"`;
}

// --- the events ----------------------------------------------------------------------------------------------

export interface ChangeMessageInfo {
  id?: string;
  author?: AccountInfo;
  real_author?: AccountInfo;
  date: string;
  message: string;
  tag?: string;
  _revision_number?: number;
  /** The accounts behind `<GERRIT_ACCOUNT_n>` placeholders in the message. */
  accounts_in_message?: AccountInfo[];
}

export interface RecoveryOptions {
  /** Gerrit's canonical web URL, to fill `change.url` as stream-events does. */
  webUrl?: string;
}

export interface RecoveryResult {
  /** In the order they happened (eventCreatedOn, then change number, then Gerrit's order within the change). */
  events: ProjectGerritEvent[];
  /** One line per change, revision or message that could not be read, or event that could not be rebuilt. */
  skipped: string[];
}

const TAG_PREFIX = 'autogenerated:gerrit:';
const UPLOAD_TAGS: ReadonlySet<string> = new Set([`${TAG_PREFIX}newPatchSet`, `${TAG_PREFIX}newWipPatchSet`]);
const REVIEW_LINE = /^Patch Set (\d+):(.*)$/;
const UPLOAD_LINE = /^Uploaded patch set (\d+)(?::\s*(.*?))?\.?$/;
const VOTE_REMOVED_LINE = /^Removed (\S+) by <GERRIT_ACCOUNT_(\d+)>/;
const REVIEWER_REMOVED_LINE = /^Removed reviewer <GERRIT_ACCOUNT_(\d+)>/;
const LABEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const SIGNED = /^[+-]\d{1,6}$/;
const GENERIC_VOTE = /^([A-Za-z0-9][A-Za-z0-9_-]*?)([+-]\d{1,6})$/;

export interface Vote {
  label: string;
  /** Gerrit's string form: "2", "-1", "0" (a removed vote). */
  value: string;
}

/** Votes as a change message lists them: `Code-Review+2 Verified-1 -Code-Review` (the last removes a vote). */
export function parseVotes(text: string, knownLabels: ReadonlySet<string> = new Set()): Vote[] {
  const votes: Vote[] = [];
  for (const token of text.trim().split(/\s+/)) {
    const vote = parseVote(token, knownLabels);
    if (vote) votes.push(vote);
  }
  return votes;
}

function parseVote(token: string, knownLabels: ReadonlySet<string>): Vote | undefined {
  // The change's own labels first: they settle names that end in digits ("Label-1+1", "-Label-1").
  if (token.startsWith('-') && knownLabels.has(token.slice(1))) return { label: token.slice(1), value: '0' };
  let best: Vote | undefined;
  for (const label of knownLabels) {
    if (token.length > label.length && token.startsWith(label) && SIGNED.test(token.slice(label.length))) {
      if (!best || label.length > best.label.length) best = { label, value: String(Number(token.slice(label.length))) };
    }
  }
  if (best) return best;
  const m = GENERIC_VOTE.exec(token);
  if (m) return { label: m[1]!, value: String(Number(m[2])) };
  if (token.startsWith('-') && LABEL_NAME.test(token.slice(1))) return { label: token.slice(1), value: '0' };
  return undefined;
}

export type MessageMeaning =
  /** A review (`Patch Set N: …`), or an upload that voted (then without a comment). */
  | { kind: 'comment-added'; patchSet: number; votes: Vote[]; comment: string | undefined }
  | { kind: 'change-merged' | 'change-abandoned' | 'change-restored'; patchSet: number | undefined; reason: string }
  /** No event is rebuilt from these, but they change the votes later events list. */
  | { kind: 'vote-removed'; patchSet: number | undefined; label: string; accountId: number }
  | { kind: 'reviewer-removed'; patchSet: number | undefined; accountId: number }
  | { kind: 'none' };

/** The body after Gerrit's first line and blank line ("Abandoned\n\nreason" → "reason"). */
function bodyAfterFirstLine(message: string): string {
  const at = message.indexOf('\n\n');
  return at === -1 ? '' : message.slice(at + 2);
}

/** Which event, if any, Gerrit fired along with a change message (Gerrit 3.x tags its own messages). */
export function classifyMessage(
  message: Pick<ChangeMessageInfo, 'message' | 'tag' | '_revision_number'>,
  knownLabels: ReadonlySet<string> = new Set(),
): MessageMeaning {
  const firstLine = message.message.split('\n', 1)[0] ?? '';
  const tag = message.tag ?? '';
  const patchSet = message._revision_number;
  switch (tag) {
    case `${TAG_PREFIX}merged`:
      return { kind: 'change-merged', patchSet, reason: '' };
    case `${TAG_PREFIX}abandon`:
      return { kind: 'change-abandoned', patchSet, reason: bodyAfterFirstLine(message.message) };
    case `${TAG_PREFIX}restore`:
      return { kind: 'change-restored', patchSet, reason: bodyAfterFirstLine(message.message) };
    case `${TAG_PREFIX}deleteVote`: {
      const m = VOTE_REMOVED_LINE.exec(firstLine);
      const vote = m ? parseVote(m[1]!, knownLabels) : undefined;
      return m && vote ? { kind: 'vote-removed', patchSet, label: vote.label, accountId: Number(m[2]) } : { kind: 'none' };
    }
    case `${TAG_PREFIX}deleteReviewer`: {
      const m = REVIEWER_REMOVED_LINE.exec(firstLine);
      return m ? { kind: 'reviewer-removed', patchSet, accountId: Number(m[1]) } : { kind: 'none' };
    }
  }
  if (UPLOAD_TAGS.has(tag)) {
    // A push that voted fires comment-added without a comment; a plain upload, a rebase, an edit fire none.
    const m = UPLOAD_LINE.exec(firstLine);
    const votes = m?.[2] ? parseVotes(m[2], knownLabels) : [];
    if (!m || votes.length === 0) return { kind: 'none' };
    return { kind: 'comment-added', patchSet: patchSet ?? Number(m[1]), votes, comment: undefined };
  }
  if (tag.startsWith(TAG_PREFIX)) return { kind: 'none' }; // topic, hashtags, WIP, private, reviewers, …
  const m = REVIEW_LINE.exec(firstLine);
  if (!m) return { kind: 'none' };
  return { kind: 'comment-added', patchSet: patchSet ?? Number(m[1]), votes: parseVotes(m[2] ?? '', knownLabels), comment: message.message };
}

// --- reading the REST JSON, which is as untrusted as any input ---------------------------------------------

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (object: JsonObject, key: string): string | undefined => {
  const value = own(object, key);
  return typeof value === 'string' ? value : undefined;
};
const positive = (object: JsonObject, key: string): number | undefined => {
  const value = own(object, key);
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
};

/** An AccountInfo as stream-events writes an account: name, email, username. */
function accountAttribute(value: unknown): AccountAttribute | undefined {
  if (!isObject(value)) return undefined;
  const account: AccountAttribute = {};
  const name = str(value, 'name');
  const email = str(value, 'email');
  const username = str(value, 'username');
  if (name !== undefined) account.name = name;
  if (email !== undefined) account.email = email;
  if (username !== undefined) account.username = username;
  return account;
}

interface Revision {
  number: number;
  created: number;
  attribute: Record<string, unknown>;
  commitMessage: string | undefined;
}

interface Message {
  info: ChangeMessageInfo;
  author: AccountAttribute | undefined;
  at: number;
  index: number;
}

interface Rebuilt {
  at: number;
  change: number;
  order: number;
  raw: JsonObject;
}

const STATUS_AFTER: Readonly<Record<string, ChangeStatus>> = {
  'change-merged': 'MERGED',
  'change-abandoned': 'ABANDONED',
  'change-restored': 'NEW',
};
const ACTOR: Readonly<Record<string, string>> = {
  'change-merged': 'submitter',
  'change-abandoned': 'abandoner',
  'change-restored': 'restorer',
};

function readRevisions(change: JsonObject, where: string, skipped: string[]): Revision[] {
  const revisions = own(change, 'revisions');
  if (revisions === undefined) return [];
  if (!isObject(revisions)) {
    skipped.push(`${where}: revisions is not an object`);
    return [];
  }
  const result: Revision[] = [];
  for (const sha of Object.keys(revisions)) {
    const info = revisions[sha];
    const number = isObject(info) ? positive(info, '_number') : undefined;
    const created = isObject(info) ? parseGerritTimestamp(str(info, 'created') ?? '') : undefined;
    if (!isObject(info) || number === undefined || created === undefined) {
      skipped.push(oneLine(`${where}: revision ${sha} has no _number or created`));
      continue;
    }
    const attribute: Record<string, unknown> = { number, revision: sha };
    const commit = own(info, 'commit');
    const parents = isObject(commit) ? own(commit, 'parents') : undefined;
    if (Array.isArray(parents)) {
      attribute.parents = parents.flatMap((p: unknown) => {
        const parent = isObject(p) ? str(p, 'commit') : undefined;
        return parent === undefined ? [] : [parent];
      });
    }
    const ref = str(info, 'ref');
    if (ref !== undefined) attribute.ref = ref;
    const uploader = accountAttribute(own(info, 'uploader'));
    if (uploader !== undefined) attribute.uploader = uploader;
    attribute.createdOn = created;
    const author = isObject(commit) ? accountAttribute(own(commit, 'author')) : undefined;
    if (author !== undefined) attribute.author = author;
    const kind = str(info, 'kind');
    if (kind !== undefined) attribute.kind = kind;
    result.push({ number, created, attribute, commitMessage: isObject(commit) ? str(commit, 'message') : undefined });
  }
  return result.sort((a, b) => a.number - b.number);
}

function readMessages(change: JsonObject, where: string, skipped: string[]): Message[] {
  const messages = own(change, 'messages');
  if (messages === undefined) return [];
  if (!Array.isArray(messages)) {
    skipped.push(`${where}: messages is not a list`);
    return [];
  }
  const result: Message[] = [];
  messages.forEach((item: unknown, index) => {
    const text = isObject(item) ? str(item, 'message') : undefined;
    const date = isObject(item) ? str(item, 'date') : undefined;
    const at = parseGerritTimestamp(date ?? '');
    if (!isObject(item) || text === undefined || date === undefined || at === undefined) {
      skipped.push(`${where}: message ${index} has no message or date`);
      return;
    }
    const info: ChangeMessageInfo = { date, message: text };
    const tag = str(item, 'tag');
    if (tag !== undefined) info.tag = tag;
    const revision = positive(item, '_revision_number');
    if (revision !== undefined) info._revision_number = revision;
    const accounts = own(item, 'accounts_in_message');
    if (Array.isArray(accounts)) info.accounts_in_message = accounts.filter(isObject) as unknown as AccountInfo[];
    result.push({ info, author: accountAttribute(own(item, 'author')), at, index });
  });
  // Gerrit lists them oldest first; sorting (stably) only guards against a reordered answer.
  return result.sort((a, b) => a.at - b.at || a.index - b.index);
}

/** `_account_id` → the key stream-events' accounts have, from every account the change names. */
function accountKeysById(change: JsonObject, messages: readonly Message[]): Map<number, string> {
  const keys = new Map<number, string>();
  const note = (value: unknown) => {
    if (!isObject(value)) return;
    const id = positive(value, '_account_id');
    const key = accountKey(accountAttribute(value));
    if (id !== undefined && key !== '' && !keys.has(id)) keys.set(id, key);
  };
  note(own(change, 'owner'));
  for (const message of messages) {
    note(own(message.info as unknown as JsonObject, 'author'));
    for (const account of message.info.accounts_in_message ?? []) note(account);
  }
  return keys;
}

function recoverChange(change: JsonObject, since: number, options: RecoveryOptions, skipped: string[]): Rebuilt[] {
  const project = str(change, 'project');
  const branch = str(change, 'branch');
  const number = positive(change, '_number');
  if (project === undefined || project === '' || branch === undefined || branch === '' || number === undefined) {
    skipped.push(oneLine(`change ${JSON.stringify(own(change, 'id') ?? '?')}: no project, branch or _number`));
    return [];
  }
  const where = `change ${project}~${number}`;
  const changeId = str(change, 'change_id');
  const labels = own(change, 'labels');
  const labelNames = isObject(labels) ? Object.keys(labels).filter((name) => LABEL_NAME.test(name)) : [];
  const knownLabels = new Set(labelNames);
  const revisions = readRevisions(change, where, skipped);
  const messages = readMessages(change, where, skipped);
  const accountKeys = accountKeysById(change, messages);

  // The fields of `change` that do not depend on when.
  const fixed: Record<string, unknown> = { project, branch };
  if (changeId !== undefined) fixed.id = changeId;
  fixed.number = number;
  const subject = str(change, 'subject');
  if (subject !== undefined) fixed.subject = subject;
  const owner = accountAttribute(own(change, 'owner'));
  if (owner !== undefined) fixed.owner = owner;
  if (options.webUrl !== undefined) fixed.url = changeUrl(options.webUrl, project, number);
  const createdOn = parseGerritTimestamp(str(change, 'created') ?? '');
  if (createdOn !== undefined) fixed.createdOn = createdOn;
  const topic = str(change, 'topic');
  if (topic !== undefined) fixed.topic = topic;
  const hashtags = own(change, 'hashtags');
  if (Array.isArray(hashtags) && hashtags.length > 0 && hashtags.every((h) => typeof h === 'string')) {
    fixed.hashtags = [...(hashtags as string[])].sort();
  }
  if (own(change, 'work_in_progress') === true) fixed.wip = true;
  if (own(change, 'is_private') === true) fixed.private = true;

  const refName = branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
  /** The patch set that was current at `at`: the newest created by then. */
  const currentAt = (at: number) => revisions.filter((r) => r.created <= at).at(-1) ?? revisions[0];
  const patchSetAttribute = (n: number) => revisions.find((r) => r.number === n)?.attribute ?? { number: n };
  const envelope = (type: string, at: number, status: string, fields: Record<string, unknown>): JsonObject => {
    const commitMessage = currentAt(at)?.commitMessage;
    return {
      ...fields,
      change: { ...fixed, ...(commitMessage === undefined ? {} : { commitMessage }), status },
      project,
      refName,
      ...(changeId === undefined ? {} : { changeKey: { id: changeId } }),
      type,
      eventCreatedOn: at,
    };
  };

  const timeline: Omit<Rebuilt, 'change'>[] = [];
  let order = 0;
  for (const revision of revisions) {
    if (revision.created < since) continue;
    const uploader = revision.attribute.uploader;
    timeline.push({
      at: revision.created,
      order: order++,
      raw: envelope('patchset-created', revision.created, 'NEW', { ...(uploader ? { uploader } : {}), patchSet: revision.attribute }),
    });
  }

  // Messages replayed in order, for the status they leave the change in and each author's votes per patch set.
  let status = 'NEW';
  const votes = new Map<string, Map<string, string>>();
  const votesOf = (key: string, patchSet: number) => {
    const id = `${patchSet}\u0000${key}`;
    let current = votes.get(id);
    if (!current) votes.set(id, (current = new Map()));
    return current;
  };
  for (const { info, author, at } of messages) {
    const meaning = classifyMessage(info, knownLabels);
    switch (meaning.kind) {
      case 'none':
        continue;
      case 'vote-removed':
      case 'reviewer-removed': {
        const key = accountKeys.get(meaning.accountId);
        const patchSet = meaning.patchSet ?? currentAt(at)?.number;
        if (key === undefined || patchSet === undefined) continue;
        if (meaning.kind === 'vote-removed') votesOf(key, patchSet).set(meaning.label, '0');
        else votes.delete(`${patchSet}\u0000${key}`);
        continue;
      }
      case 'comment-added': {
        const current = votesOf(accountKey(author), meaning.patchSet);
        const old = new Map<string, string>();
        for (const vote of meaning.votes) {
          if (!old.has(vote.label)) old.set(vote.label, current.get(vote.label) ?? '0');
          current.set(vote.label, vote.value);
        }
        // Like Gerrit: every label of the change with the author's vote, the changed ones with oldValue.
        const names = [...labelNames, ...[...current.keys()].filter((label) => !knownLabels.has(label))];
        const approvals: ApprovalAttribute[] = names.map((label) => {
          const approval: ApprovalAttribute = { type: label, description: label, value: current.get(label) ?? '0' };
          const oldValue = old.get(label);
          if (oldValue !== undefined) approval.oldValue = oldValue;
          return approval;
        });
        if (at < since) continue;
        timeline.push({
          at,
          order: order++,
          raw: envelope('comment-added', at, status, {
            ...(author ? { author } : {}),
            approvals,
            ...(meaning.comment === undefined ? {} : { comment: meaning.comment }),
            patchSet: patchSetAttribute(meaning.patchSet),
          }),
        });
        continue;
      }
      default: {
        status = STATUS_AFTER[meaning.kind] ?? status;
        if (at < since) continue;
        const patchSet = meaning.patchSet ?? currentAt(at)?.number;
        if (patchSet === undefined) {
          skipped.push(`${where}: ${meaning.kind} at ${info.date} names no patch set`);
          continue;
        }
        const fields: Record<string, unknown> = author ? { [ACTOR[meaning.kind]!]: author } : {};
        if (meaning.kind !== 'change-merged') fields.reason = meaning.reason;
        fields.patchSet = patchSetAttribute(patchSet);
        timeline.push({ at, order: order++, raw: envelope(meaning.kind, at, status, fields) });
      }
    }
  }
  return timeline.map((entry) => ({ ...entry, change: number }));
}

/**
 * The events the given changes show happened at or after `sinceSeconds`, rebuilt as stream-events would have
 * sent them and parsed like any other event. Feed it every page of `updatedSinceQuery(since)` fetched with
 * RECOVERY_CHANGE_OPTIONS; a change repeated across pages is read once.
 */
export function eventsFromChanges(changes: readonly unknown[], sinceSeconds: number, options: RecoveryOptions = {}): RecoveryResult {
  const skipped: string[] = [];
  const rebuilt: Rebuilt[] = [];
  const seen = new Set<string>();
  for (const change of changes) {
    if (!isObject(change)) {
      skipped.push('a change that is not an object');
      continue;
    }
    const key = JSON.stringify([str(change, 'project'), positive(change, '_number')]);
    if (seen.has(key)) continue;
    seen.add(key);
    rebuilt.push(...recoverChange(change, sinceSeconds, options, skipped));
  }
  rebuilt.sort((a, b) => a.at - b.at || a.change - b.change || a.order - b.order);
  const events: ProjectGerritEvent[] = [];
  for (const { raw } of rebuilt) {
    const parsed = parseGerritEvent(raw);
    if (!parsed.ok) skipped.push(oneLine(`rebuilt event rejected: ${parsed.reason}`));
    else if (parsed.event.kind !== 'dropped-output') events.push(parsed.event);
  }
  return { events, skipped };
}
