// A Gerrit event as the CloudEvents Seakeeper's Broker carries (docs/architecture.md, "Event flow" and
// "CloudEvents").
//
// type     `gerrit.<gerrit type>`; a ref-updated on refs/meta/config and a project-created also yield
//          `project.config-changed`.
// source   Gerrit's canonical web URL, given by the caller.
// subject  `<project>/<change>/<patchset>` (`<project>/<change>` when the event has no patch set),
//          `<project>/<ref>` for ref updates, `<project>` otherwise. Project names contain `/`, so read the
//          extensions, not the subject, when a part is needed.
// id       `<gerrit type>-<40 hex of sha256(identity)>`, where the identity is the list of fields that name the
//          occurrence (eventIdentity below). It is the same whichever path delivered the event — stream-events or
//          the webhooks plugin — so a duplicate is recognisable; gap recovery rebuilding an event from REST gets
//          the same id too, exactly for patchset-created and change-merged, and for the kinds whose identity
//          includes the instant whenever Gerrit stamped the event in the second it wrote the change message
//          (see isStamped).
// extensions (strings; lowercase alphanumeric names, so Triggers can filter on them)
//          gerritproject   always
//          gerritchange    the change number, when the event has a change
//          gerritpatchset  the patch set number, when the event has a patch set
//          gerritbranch    Gerrit's short branch name: `master` for refs/heads/master; a branch outside
//                          refs/heads/ keeps its full name, as Gerrit's own `change.branch` does
//                          (`refs/meta/config`). Ref updates of refs that are no branch (tags, refs/changes/…)
//                          carry none.
// time     eventCreatedOn; data the Gerrit event object exactly as received (application/json).
import { createHash } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import {
  accountKey,
  changeOf,
  patchSetOf,
  type GerritEvent,
  type JsonObject,
  type ProjectGerritEvent,
} from './gerrit-event.js';
import { CONFIG_REF } from '../gerrit/refs.js';

export const GERRIT_TYPE_PREFIX = 'gerrit.';
export const CONFIG_CHANGED_TYPE = 'project.config-changed';
const HEADS = 'refs/heads/';
const ID_HEX_LENGTH = 40;

/** The extension attributes this module sets, all strings. */
export interface GerritExtensions {
  gerritproject: string;
  gerritchange?: string;
  gerritpatchset?: string;
  gerritbranch?: string;
}

export interface CloudEventOptions {
  /** Gerrit's canonical web URL. */
  source: string;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** JSON with object keys sorted at every level, so that key order and whitespace cannot change a hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const object = value as JsonObject;
  const parts: string[] = [];
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item === undefined || typeof item === 'function') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Top-level fields that the two serialisations write differently (Gerrit's event Gson writes `project` as a
 * string and `changeKey` through its own adapter; the webhooks plugin's plain Gson writes objects), plus the two
 * already in the identity.
 */
const PATH_DEPENDENT_FIELDS: ReadonlySet<string> = new Set(['project', 'changeKey', 'type', 'eventCreatedOn']);

function withoutPathDependentFields(raw: JsonObject): JsonObject {
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(raw)) if (!PATH_DEPENDENT_FIELDS.has(key)) copy[key] = raw[key];
  return copy;
}

/**
 * The fields that name the occurrence an event reports, apart from when it happened. Chosen to be (a) identical
 * between stream-events and the webhooks plugin, and (b) for the kinds gap recovery rebuilds (patchset-created,
 * comment-added, change-merged, change-abandoned, change-restored), computable from a ChangeInfo with
 * ALL_REVISIONS, MESSAGES and DETAILED_ACCOUNTS. When in doubt a field is included: a spurious difference costs
 * an idempotent redo downstream, a spurious match would lose an event.
 */
export function occurrenceIdentity(event: ProjectGerritEvent): readonly unknown[] {
  const { type, project } = event;
  switch (event.kind) {
    case 'patchset-created':
    case 'change-merged':
      // A patch set is created once, a change merges once: the numbers name them.
      return [type, project, event.change.number, event.patchSet.number];
    case 'comment-added':
      // A ChangeMessageInfo has the same author and text; Gerrit leaves `comment` out for votes cast by a push,
      // and so does recovery.
      return [type, project, event.change.number, event.patchSet.number, accountKey(event.author), event.comment ?? ''];
    case 'change-abandoned':
      return [type, project, event.change.number, accountKey(event.abandoner)];
    case 'change-restored':
      return [type, project, event.change.number, accountKey(event.restorer)];
    case 'wip-state-changed':
      return [type, project, event.change.number, accountKey(event.changer), event.change.wip === true];
    case 'private-state-changed':
      return [type, project, event.change.number, accountKey(event.changer), event.change.private === true];
    case 'ref-updated': {
      // (ref, old, new), and the instant: a ref can be set back and forth between the same two commits.
      const { refName, oldRev, newRev } = event.refUpdate;
      return [type, project, refName, oldRev, newRev];
    }
    case 'project-created':
      return [type, project];
    case 'other':
      // Unknown shape: everything the two serialisations write alike.
      return [
        type,
        project,
        event.change?.number ?? null,
        event.patchSet?.number ?? null,
        canonicalJson(withoutPathDependentFields(event.raw)),
      ];
  }
}

/**
 * Whether the instant is part of the identity: it is for every kind whose occurrence can repeat (a second
 * "recheck", abandon again after a restore, a ref set back and forth, a project re-created), which is all but
 * patchset-created and change-merged. It is Gerrit's `eventCreatedOn`, which the stream and the webhooks plugin
 * share. Recovery can only use the change message's `date`: Gerrit stamps the event when it builds it, after
 * the update that wrote the message, so the two are the same second unless that took longer (seen on the rig:
 * 23 of 24 comment-added matched, one was a second later). ForwardedLog (gap-recovery.ts) recognises those.
 */
export function isStamped(event: ProjectGerritEvent): boolean {
  return event.kind !== 'patchset-created' && event.kind !== 'change-merged';
}

/** The fields hashed into the id: the occurrence, and for stamped kinds the second it happened. */
export function eventIdentity(event: ProjectGerritEvent): readonly unknown[] {
  const occurrence = occurrenceIdentity(event);
  return isStamped(event) ? [...occurrence, event.eventCreatedOn] : occurrence;
}

const hashed = (prefix: string, parts: readonly unknown[]) => `${prefix}-${sha256Hex(JSON.stringify(parts)).slice(0, ID_HEX_LENGTH)}`;

/** The deterministic CloudEvent id of a Gerrit event. */
export function gerritEventId(event: ProjectGerritEvent): string {
  return hashed(event.type, eventIdentity(event));
}

/** A key for the occurrence without its instant: equal keys at nearby instants are likely one occurrence. */
export function occurrenceKey(event: ProjectGerritEvent): string {
  return hashed(event.type, occurrenceIdentity(event));
}

/** The id of the `project.config-changed` derived from the event whose id is `sourceId`. */
export function configChangedId(sourceId: string): string {
  return hashed(CONFIG_CHANGED_TYPE, [CONFIG_CHANGED_TYPE, sourceId]);
}

/**
 * Gerrit's short branch name for a ref, or undefined when the ref is no branch: refs/heads/X is X,
 * refs/meta/config keeps its name (Gerrit treats it as a branch and names it in full).
 */
export function branchOfRef(ref: string): string | undefined {
  if (ref.startsWith(HEADS) && ref.length > HEADS.length) return ref.slice(HEADS.length);
  if (ref === CONFIG_REF) return ref;
  return undefined;
}

/** A change's branch as Gerrit's short name (it already is, from Gerrit; a full refs/heads/ name is shortened). */
function shortBranch(branch: string): string {
  return branch.startsWith(HEADS) && branch.length > HEADS.length ? branch.slice(HEADS.length) : branch;
}

function refOf(event: ProjectGerritEvent): string | undefined {
  if (event.kind === 'ref-updated') return event.refUpdate.refName;
  if (event.kind === 'other') return event.refUpdate?.refName;
  return undefined;
}

export function gerritSubject(event: ProjectGerritEvent): string {
  const change = changeOf(event);
  if (change) {
    const patchSet = patchSetOf(event);
    return patchSet ? `${event.project}/${change.number}/${patchSet.number}` : `${event.project}/${change.number}`;
  }
  const ref = refOf(event);
  return ref === undefined ? event.project : `${event.project}/${ref}`;
}

export function gerritExtensions(event: ProjectGerritEvent): GerritExtensions {
  const extensions: GerritExtensions = { gerritproject: event.project };
  const change = changeOf(event);
  const patchSet = patchSetOf(event);
  if (change) {
    extensions.gerritchange = String(change.number);
    extensions.gerritbranch = shortBranch(change.branch);
  }
  if (patchSet) extensions.gerritpatchset = String(patchSet.number);
  const ref = refOf(event);
  if (!change && ref !== undefined) {
    const branch = branchOfRef(ref);
    if (branch !== undefined) extensions.gerritbranch = branch;
  }
  return extensions;
}

/** A ref-updated on refs/meta/config, or a project-created: the project's CI configuration may have changed. */
export function changesProjectConfig(event: GerritEvent): boolean {
  return (event.kind === 'ref-updated' && event.refUpdate.refName === CONFIG_REF) || event.kind === 'project-created';
}

/**
 * The CloudEvents for one Gerrit event: `gerrit.<type>`, then `project.config-changed` where it applies.
 * dropped-output yields none (the stream adapter recovers instead). Throws only if `source` is not a URI
 * reference, which is configuration, checked once at start-up by building any event.
 */
export function toCloudEvents(event: GerritEvent, options: CloudEventOptions): CloudEvent<JsonObject>[] {
  if (event.kind === 'dropped-output') return [];
  const id = gerritEventId(event);
  const time = new Date(event.eventCreatedOn * 1000).toISOString();
  const common = { specversion: '1.0' as const, source: options.source, time, datacontenttype: 'application/json', data: event.raw };
  const events = [
    new CloudEvent<JsonObject>({
      ...common,
      id,
      type: `${GERRIT_TYPE_PREFIX}${event.type}`,
      subject: gerritSubject(event),
      ...gerritExtensions(event),
    }),
  ];
  if (changesProjectConfig(event)) {
    events.push(
      new CloudEvent<JsonObject>({
        ...common,
        id: configChangedId(id),
        type: CONFIG_CHANGED_TYPE,
        subject: event.project,
        gerritproject: event.project,
        gerritbranch: CONFIG_REF,
      }),
    );
  }
  return events;
}

/**
 * Builds one CloudEvent with `source`, so that a source the CloudEvents SDK refuses (not a URI reference) stops
 * a process at start-up instead of failing every event. Throws the SDK's validation error.
 */
export function checkEventSource(source: string): void {
  toCloudEvents({ kind: 'project-created', type: 'project-created', eventCreatedOn: 0, project: 'start-up-check', raw: {} }, { source });
}
