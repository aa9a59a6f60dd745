// Gerrit's events as they arrive, from `gerrit stream-events` (one JSON object per line) or from the webhooks
// plugin (one JSON object per POST), checked and typed. Both serialise the same Java event objects, but the
// webhooks plugin uses a plain Gson: a top-level `project` there is an object (`{"name": "p"}`) where the
// stream has a string, and `changeKey` may differ too. So the project is always read from inside the event
// (`change.project`, `refUpdate.project`, `projectName`) and the top-level one is only a last resort.
//
// Nothing here trusts a field's type: every field the typed view exposes is checked, and anything that does not
// fit is a one-line reason, never an exception. The object as received stays untouched in `raw`: it is what
// goes on as the CloudEvent's data.

/** A JSON object as parsed; read it through `own` so that inherited names (`constructor`, `__proto__`) stay out. */
export type JsonObject = { readonly [key: string]: unknown };

export interface AccountAttribute {
  name?: string;
  email?: string;
  username?: string;
}

export interface ChangeAttribute {
  project: string;
  /** The short branch name (`master`); a change on a ref outside refs/heads/ has its full name (`refs/meta/config`). */
  branch: string;
  /** The Change-Id (`I…`). */
  id?: string;
  number: number;
  subject?: string;
  owner?: AccountAttribute;
  url?: string;
  commitMessage?: string;
  createdOn?: number;
  status?: string;
  topic?: string;
  hashtags?: string[];
  /** Present (true) only while the change is work in progress. */
  wip?: boolean;
  /** Present (true) only while the change is private. */
  private?: boolean;
}

export interface PatchSetAttribute {
  number: number;
  revision?: string;
  parents?: string[];
  ref?: string;
  uploader?: AccountAttribute;
  author?: AccountAttribute;
  createdOn?: number;
  /** REWORK, TRIVIAL_REBASE, MERGE_FIRST_PARENT_UPDATE, NO_CODE_CHANGE, NO_CHANGE. */
  kind?: string;
}

export interface ApprovalAttribute {
  /** The label name, e.g. `Code-Review`. */
  type: string;
  description?: string;
  /** The vote as Gerrit writes it: a string, `"2"`, `"-1"`, `"0"`. */
  value: string;
  /** Present only when this event changed the vote. */
  oldValue?: string;
}

export interface RefUpdateAttribute {
  oldRev: string;
  newRev: string;
  refName: string;
  project: string;
}

export const CHANGE_EVENT_TYPES = [
  'patchset-created',
  'comment-added',
  'change-merged',
  'change-abandoned',
  'change-restored',
  'wip-state-changed',
  'private-state-changed',
] as const;
export type ChangeEventType = (typeof CHANGE_EVENT_TYPES)[number];
export type KnownEventType = ChangeEventType | 'ref-updated' | 'project-created' | 'dropped-output';

interface EventBase<K extends KnownEventType | 'other'> {
  /** What the event is: the Gerrit type for the types modelled here, `other` for anything else. */
  readonly kind: K;
  /** Gerrit's `type`, exactly as received. */
  readonly type: string;
  /** Seconds since the epoch, Gerrit's clock. */
  readonly eventCreatedOn: number;
  readonly project: string;
  /** The event object as received, unmodified. Treat it as read-only: it is shared with the CloudEvent. */
  readonly raw: JsonObject;
}

interface ChangeEventBase<K extends ChangeEventType> extends EventBase<K> {
  readonly change: ChangeAttribute;
}

export interface PatchsetCreatedEvent extends ChangeEventBase<'patchset-created'> {
  readonly patchSet: PatchSetAttribute;
  readonly uploader?: AccountAttribute;
}

export interface CommentAddedEvent extends ChangeEventBase<'comment-added'> {
  readonly patchSet: PatchSetAttribute;
  readonly author?: AccountAttribute;
  /** The change message; Gerrit leaves it out when votes were cast by a push (`%l=Code-Review+2`). */
  readonly comment?: string;
  /** The author's votes on the patch set; those this event changed carry `oldValue`. Empty when none. */
  readonly approvals: readonly ApprovalAttribute[];
}

export interface ChangeMergedEvent extends ChangeEventBase<'change-merged'> {
  readonly patchSet: PatchSetAttribute;
  readonly submitter?: AccountAttribute;
  readonly newRev?: string;
}

export interface ChangeAbandonedEvent extends ChangeEventBase<'change-abandoned'> {
  readonly patchSet?: PatchSetAttribute;
  readonly abandoner?: AccountAttribute;
  readonly reason?: string;
}

export interface ChangeRestoredEvent extends ChangeEventBase<'change-restored'> {
  readonly patchSet?: PatchSetAttribute;
  readonly restorer?: AccountAttribute;
  readonly reason?: string;
}

export interface WipStateChangedEvent extends ChangeEventBase<'wip-state-changed'> {
  readonly patchSet?: PatchSetAttribute;
  readonly changer?: AccountAttribute;
}

export interface PrivateStateChangedEvent extends ChangeEventBase<'private-state-changed'> {
  readonly patchSet?: PatchSetAttribute;
  readonly changer?: AccountAttribute;
}

export interface RefUpdatedEvent extends EventBase<'ref-updated'> {
  readonly refUpdate: RefUpdateAttribute;
  readonly submitter?: AccountAttribute;
}

export interface ProjectCreatedEvent extends EventBase<'project-created'> {
  readonly headName?: string;
}

/**
 * stream-events' own notice that it dropped events because this client read too slowly. It names no project
 * and maps to no CloudEvent: the stream adapter answers it by running gap recovery.
 */
export interface DroppedOutputEvent extends Omit<EventBase<'dropped-output'>, 'project' | 'eventCreatedOn'> {
  readonly eventCreatedOn?: number;
}

/** Any other type (topic-changed, hashtags-changed, reviewer-added, vote-deleted, a plugin's …), passed through. */
export interface OtherGerritEvent extends EventBase<'other'> {
  readonly change?: ChangeAttribute;
  readonly patchSet?: PatchSetAttribute;
  readonly refUpdate?: RefUpdateAttribute;
}

export type ChangeEvent =
  | PatchsetCreatedEvent
  | CommentAddedEvent
  | ChangeMergedEvent
  | ChangeAbandonedEvent
  | ChangeRestoredEvent
  | WipStateChangedEvent
  | PrivateStateChangedEvent;

/** An event that belongs to a project, which is every event that becomes a CloudEvent. */
export type ProjectGerritEvent = ChangeEvent | RefUpdatedEvent | ProjectCreatedEvent | OtherGerritEvent;

export type GerritEvent = ProjectGerritEvent | DroppedOutputEvent;

export type ParseResult =
  | { readonly ok: true; readonly event: GerritEvent }
  | { readonly ok: false; readonly reason: string };

/** Gerrit's event type names are lowercase words with dashes; plugins add dots. Anything else is not a type. */
const TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Events of unknown types are hashed whole for their id; real ones nest a few levels, so this only stops abuse. */
export const MAX_OTHER_EVENT_DEPTH = 32;
const REASON_MAX = 300;

class Invalid extends Error {}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An own property only: `{}` has no `constructor` here, and a JSON `__proto__` key is read as the data it is. */
export function own(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Makes untrusted text safe for a one-line log reason: control characters escaped, length capped. */
export function oneLine(text: string, max = REASON_MAX): string {
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${oneLine(JSON.stringify(value), 40)}`;
  return `${typeof value === 'object' ? 'an' : 'a'} ${typeof value}`;
}

function fail(path: string, expected: string, value: unknown): never {
  throw new Invalid(`${path} is ${value === undefined ? 'missing' : `${describeValue(value)}, not ${expected}`}`);
}

function optionalString(object: JsonObject, key: string, path: string): string | undefined {
  const value = own(object, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(`${path}.${key}`, 'a string', value);
  return value;
}

function requiredString(object: JsonObject, key: string, path: string, nonEmpty = true): string {
  const value = own(object, key);
  if (typeof value !== 'string' || (nonEmpty && value === '')) fail(`${path}.${key}`, 'a non-empty string', value);
  return value;
}

function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function optionalInteger(object: JsonObject, key: string, path: string, min = 0): number | undefined {
  const value = own(object, key);
  if (value === undefined || value === null) return undefined;
  if (!isCount(value, min)) fail(`${path}.${key}`, `an integer ≥ ${min}`, value);
  return value;
}

function requiredInteger(object: JsonObject, key: string, path: string, min: number): number {
  const value = own(object, key);
  if (!isCount(value, min)) fail(`${path}.${key}`, `an integer ≥ ${min}`, value);
  return value;
}

function optionalBoolean(object: JsonObject, key: string, path: string): boolean | undefined {
  const value = own(object, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') fail(`${path}.${key}`, 'a boolean', value);
  return value;
}

function optionalStrings(object: JsonObject, key: string, path: string): string[] | undefined {
  const value = own(object, key);
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    fail(`${path}.${key}`, 'a list of strings', value);
  }
  return [...(value as string[])];
}

function optionalObject(object: JsonObject, key: string, path: string): JsonObject | undefined {
  const value = own(object, key);
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) fail(`${path}.${key}`, 'an object', value);
  return value;
}

/** Copies the fields that are set, so the typed view never holds `key: undefined`. */
function defined<T extends object>(fields: T): T {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) result[key] = value;
  return result as T;
}

export function parseAccount(value: unknown, path: string): AccountAttribute | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) fail(path, 'an account object', value);
  return defined({
    name: optionalString(value, 'name', path),
    email: optionalString(value, 'email', path),
    username: optionalString(value, 'username', path),
  });
}

function parseChange(value: unknown, path: string): ChangeAttribute {
  if (!isObject(value)) fail(path, 'an object', value);
  return defined({
    project: requiredString(value, 'project', path),
    branch: requiredString(value, 'branch', path),
    id: optionalString(value, 'id', path),
    number: requiredInteger(value, 'number', path, 1),
    subject: optionalString(value, 'subject', path),
    owner: parseAccount(own(value, 'owner'), `${path}.owner`),
    url: optionalString(value, 'url', path),
    commitMessage: optionalString(value, 'commitMessage', path),
    createdOn: optionalInteger(value, 'createdOn', path),
    status: optionalString(value, 'status', path),
    topic: optionalString(value, 'topic', path),
    hashtags: optionalStrings(value, 'hashtags', path),
    wip: optionalBoolean(value, 'wip', path),
    private: optionalBoolean(value, 'private', path),
  });
}

function parsePatchSet(value: unknown, path: string): PatchSetAttribute {
  if (!isObject(value)) fail(path, 'an object', value);
  return defined({
    number: requiredInteger(value, 'number', path, 1),
    revision: optionalString(value, 'revision', path),
    parents: optionalStrings(value, 'parents', path),
    ref: optionalString(value, 'ref', path),
    uploader: parseAccount(own(value, 'uploader'), `${path}.uploader`),
    author: parseAccount(own(value, 'author'), `${path}.author`),
    createdOn: optionalInteger(value, 'createdOn', path),
    kind: optionalString(value, 'kind', path),
  });
}

function parseApprovals(value: unknown, path: string): ApprovalAttribute[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(path, 'a list', value);
  return value.map((item: unknown, index) => {
    const at = `${path}[${index}]`;
    if (!isObject(item)) fail(at, 'an object', item);
    // Gerrit writes votes as strings; a number is accepted and normalised, since it means the same.
    const vote = (key: string): string | undefined => {
      const raw = own(item, key);
      if (raw === undefined || raw === null) return undefined;
      if (typeof raw === 'number' && Number.isSafeInteger(raw)) return String(raw);
      if (typeof raw === 'string' && /^[+-]?\d{1,6}$/.test(raw)) return String(Number(raw));
      return fail(`${at}.${key}`, 'a vote such as "2" or "-1"', raw);
    };
    const voted = vote('value');
    if (voted === undefined) fail(`${at}.value`, 'a vote', undefined);
    return defined({
      type: requiredString(item, 'type', at),
      description: optionalString(item, 'description', at),
      value: voted,
      oldValue: vote('oldValue'),
    });
  });
}

function parseRefUpdate(value: unknown, path: string): RefUpdateAttribute {
  if (!isObject(value)) fail(path, 'an object', value);
  return {
    oldRev: requiredString(value, 'oldRev', path),
    newRev: requiredString(value, 'newRev', path),
    refName: requiredString(value, 'refName', path),
    project: requiredString(value, 'project', path),
  };
}

/** The webhooks plugin's top-level `project`: a string from Gerrit's event Gson, `{name}` from a plain Gson. */
function topLevelProject(raw: JsonObject): string | undefined {
  const value = own(raw, 'project');
  if (typeof value === 'string') return value;
  if (isObject(value)) {
    const name = own(value, 'name');
    if (typeof name === 'string') return name;
  }
  if (value === undefined || value === null) return undefined;
  return fail('project', 'a project name or {name}', value);
}

function nonEmptyProject(project: string | undefined, where: string): string {
  if (project === undefined || project === '') throw new Invalid(`missing project (${where})`);
  return project;
}

function depthExceeds(value: unknown, limit: number): boolean {
  // Iterative, so that a hostile nesting cannot exhaust the stack here either.
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

const CHANGE_TYPES: ReadonlySet<string> = new Set(CHANGE_EVENT_TYPES);

function parseChecked(input: unknown): GerritEvent {
  if (!isObject(input)) fail('event', 'a JSON object', input);
  const raw = input;
  const type = own(raw, 'type');
  if (typeof type !== 'string') fail('type', 'a string', type);
  if (!TYPE_NAME.test(type)) throw new Invalid(`type ${oneLine(JSON.stringify(type), 60)} is not a Gerrit event type name`);

  if (type === 'dropped-output') {
    return defined<DroppedOutputEvent>({ kind: 'dropped-output', type, raw, eventCreatedOn: optionalInteger(raw, 'eventCreatedOn', 'event') });
  }
  const eventCreatedOn = requiredInteger(raw, 'eventCreatedOn', 'event', 0);

  if (CHANGE_TYPES.has(type)) {
    const kind = type as ChangeEventType;
    if (own(raw, 'change') === undefined || own(raw, 'change') === null) {
      throw new Invalid(`${type} event without a change`);
    }
    const change = parseChange(own(raw, 'change'), 'change');
    const project = nonEmptyProject(change.project, 'change.project');
    const patchSetRaw = own(raw, 'patchSet');
    const needsPatchSet = kind === 'patchset-created' || kind === 'comment-added' || kind === 'change-merged';
    if (needsPatchSet && (patchSetRaw === undefined || patchSetRaw === null)) {
      throw new Invalid(`${type} event without a patchSet`);
    }
    const patchSet = patchSetRaw === undefined || patchSetRaw === null ? undefined : parsePatchSet(patchSetRaw, 'patchSet');
    const base = { kind, type, eventCreatedOn, project, raw, change, patchSet };
    switch (kind) {
      case 'patchset-created':
        return defined<PatchsetCreatedEvent>({ ...base, kind, patchSet: patchSet!, uploader: parseAccount(own(raw, 'uploader'), 'uploader') });
      case 'comment-added':
        return defined<CommentAddedEvent>({
          ...base,
          kind,
          patchSet: patchSet!,
          author: parseAccount(own(raw, 'author'), 'author'),
          comment: optionalString(raw, 'comment', 'event'),
          approvals: parseApprovals(own(raw, 'approvals'), 'approvals'),
        });
      case 'change-merged':
        return defined<ChangeMergedEvent>({
          ...base,
          kind,
          patchSet: patchSet!,
          submitter: parseAccount(own(raw, 'submitter'), 'submitter'),
          newRev: optionalString(raw, 'newRev', 'event'),
        });
      case 'change-abandoned':
        return defined<ChangeAbandonedEvent>({
          ...base,
          kind,
          abandoner: parseAccount(own(raw, 'abandoner'), 'abandoner'),
          reason: optionalString(raw, 'reason', 'event'),
        });
      case 'change-restored':
        return defined<ChangeRestoredEvent>({
          ...base,
          kind,
          restorer: parseAccount(own(raw, 'restorer'), 'restorer'),
          reason: optionalString(raw, 'reason', 'event'),
        });
      case 'wip-state-changed':
      case 'private-state-changed':
        return defined<WipStateChangedEvent | PrivateStateChangedEvent>({ ...base, kind, changer: parseAccount(own(raw, 'changer'), 'changer') });
    }
  }

  if (type === 'ref-updated') {
    if (own(raw, 'refUpdate') === undefined || own(raw, 'refUpdate') === null) {
      throw new Invalid('ref-updated event without a refUpdate');
    }
    const refUpdate = parseRefUpdate(own(raw, 'refUpdate'), 'refUpdate');
    return defined<RefUpdatedEvent>({
      kind: 'ref-updated',
      type,
      eventCreatedOn,
      project: refUpdate.project,
      raw,
      refUpdate,
      submitter: parseAccount(own(raw, 'submitter'), 'submitter'),
    });
  }

  if (type === 'project-created') {
    const project = nonEmptyProject(optionalString(raw, 'projectName', 'event') ?? topLevelProject(raw), 'projectName');
    return defined<ProjectCreatedEvent>({ kind: 'project-created', type, eventCreatedOn, project, raw, headName: optionalString(raw, 'headName', 'event') });
  }

  // Any other type: read the project from wherever this event keeps it, and what else it shares with the above.
  const changeRaw = own(raw, 'change');
  const change = changeRaw === undefined || changeRaw === null ? undefined : parseChange(changeRaw, 'change');
  const patchSetRaw = own(raw, 'patchSet');
  const patchSet = patchSetRaw === undefined || patchSetRaw === null ? undefined : parsePatchSet(patchSetRaw, 'patchSet');
  const refUpdateRaw = own(raw, 'refUpdate');
  const refUpdate = refUpdateRaw === undefined || refUpdateRaw === null ? undefined : parseRefUpdate(refUpdateRaw, 'refUpdate');
  const project = nonEmptyProject(
    change?.project ?? refUpdate?.project ?? optionalString(raw, 'projectName', 'event') ?? topLevelProject(raw),
    'no change.project, refUpdate.project, projectName or project',
  );
  if (depthExceeds(raw, MAX_OTHER_EVENT_DEPTH)) throw new Invalid(`${type} event nests deeper than ${MAX_OTHER_EVENT_DEPTH} levels`);
  return defined<OtherGerritEvent>({ kind: 'other', type, eventCreatedOn, project, raw, change, patchSet, refUpdate });
}

/**
 * Checks a Gerrit event (stream-events or webhooks serialisation) and returns its typed view, or a one-line
 * reason it cannot be mapped. Never throws.
 */
export function parseGerritEvent(input: unknown): ParseResult {
  try {
    return { ok: true, event: parseChecked(input) };
  } catch (err) {
    if (err instanceof Invalid) {
      const type = isObject(input) && typeof own(input, 'type') === 'string' ? (own(input, 'type') as string) : undefined;
      const prefix = type !== undefined && TYPE_NAME.test(type) && !err.message.startsWith(type) ? `${type}: ` : '';
      return { ok: false, reason: oneLine(`${prefix}${err.message}`) };
    }
    // Not expected; still an answer, not an exception, so one bad event cannot stop a stream.
    return { ok: false, reason: oneLine(`unparseable event: ${err instanceof Error ? err.message : String(err)}`) };
  }
}

/** Parses JSON text (a stream line, a webhook body) and then the event. Never throws. */
export function parseGerritEventJson(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: oneLine(`malformed JSON: ${err instanceof Error ? err.message : String(err)}`) };
  }
  return parseGerritEvent(value);
}

/** The event's change, for every kind that has one. */
export function changeOf(event: GerritEvent): ChangeAttribute | undefined {
  return 'change' in event ? event.change : undefined;
}

/** The event's patch set, for every kind that has one. */
export function patchSetOf(event: GerritEvent): PatchSetAttribute | undefined {
  return 'patchSet' in event ? event.patchSet : undefined;
}

/** The identifying name of an account across serialisations: username, else e-mail, else display name. */
export function accountKey(account: AccountAttribute | undefined): string {
  if (account?.username) return `username:${account.username}`;
  if (account?.email) return `email:${account.email}`;
  if (account?.name) return `name:${account.name}`;
  return '';
}
