// Zuul v2's trigger `email` filters as Seakeeper's sets of accounts (`accounts:` of config/pipelines.yaml, a
// trigger's `by:`). Pure. Wikimedia's layout repeats one allowlist of trusted uploaders through a YAML alias on
// some thirty triggers; Seakeeper names it once, so each distinct list becomes one set, and every trigger that
// carried it names the set. A set whose members' patch sets start a pipeline gets a notice: Zuul left a
// newcomer's change silent, and Seakeeper can at least say how it gets tested.
import { Document } from 'yaml';
import type { ZuulLayout } from './layout.js';
import type { Note } from './notes.js';
import { emailPattern } from './regex.js';
import { pipelineName } from './names.js';

/** The schema's limit on `accounts:`. */
export const MAX_ACCOUNT_SETS = 16;

/** The name of the list used by the most pipelines: an allowlist that wide is the layout's trusted contributors. */
export const TRUSTED = 'trusted';

export interface AccountSetUse {
  /** Zuul's pipeline name. */
  readonly pipeline: string;
  readonly event: string;
}

export interface ConvertedAccountSet {
  readonly name: string;
  /** The patterns as written to `emails:`; those that did not translate are left out (and noted). */
  readonly emails: readonly string[];
  /** Every trigger that carried the list, in the layout's order. */
  readonly uses: readonly AccountSetUse[];
  readonly description: string;
  readonly notice?: string | undefined;
}

export interface AccountSets {
  readonly sets: readonly ConvertedAccountSet[];
  /**
   * The set a trigger's `email` list (emailList) becomes, or why there is none (no pattern of it translates, or the
   * layout has more distinct lists than `accounts:` may hold): such a trigger is not carried over, since without
   * its filter it would fire for everyone.
   */
  readonly setOf: (patterns: readonly string[]) => { readonly name: string } | { readonly refused: string };
  readonly notes: readonly Note[];
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Zuul v2 reads `email:` (and its older spelling `email_filter:`) as one pattern or a list of them. */
export function emailList(entry: Record<string, unknown>): string[] | undefined {
  const value = entry.email ?? entry.email_filter;
  if (value === undefined || value === null) return undefined;
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Two lists with the same patterns are the same set of accounts, whatever their order or repeats. */
const keyOf = (patterns: readonly string[]): string => JSON.stringify([...new Set(patterns)].sort());

/**
 * Every distinct e-mail list of the layout's Gerrit triggers, named: the one used by the most pipelines (more than
 * one) is `trusted`, each other after the Seakeeper name of the pipeline that uses it first (`-2`, `-3`, … when
 * that is taken). `pipelineNames`: Zuul pipeline → Seakeeper name.
 */
export function collectAccountSets(layout: ZuulLayout, pipelineNames: ReadonlyMap<string, string>): AccountSets {
  const lists = new Map<string, { patterns: string[]; uses: AccountSetUse[] }>();
  for (const pipeline of layout.pipelines) {
    const gerrit = isRecord(pipeline.trigger) ? pipeline.trigger.gerrit : undefined;
    for (const entry of Array.isArray(gerrit) ? gerrit : []) {
      const patterns = isRecord(entry) ? emailList(entry) : undefined;
      if (!patterns) continue;
      const key = keyOf(patterns);
      const list = lists.get(key) ?? { patterns: [...new Set(patterns)], uses: [] };
      list.uses.push({ pipeline: pipeline.name, event: String(entry.event) });
      lists.set(key, list);
    }
  }

  const breadth = (uses: readonly AccountSetUse[]) => new Set(uses.map((u) => u.pipeline)).size;
  let widest: { patterns: string[]; uses: AccountSetUse[] } | undefined;
  for (const list of lists.values()) if (breadth(list.uses) > (widest ? breadth(widest.uses) : 1)) widest = list;

  const notes: Note[] = [];
  const taken = new Set<string>();
  const names = new Map<string, string>();
  const refused = new Map<string, string>();
  const sets: ConvertedAccountSet[] = [];
  for (const [key, list] of lists) {
    const first = list.uses[0]!.pipeline;
    if (sets.length === MAX_ACCOUNT_SETS) {
      refused.set(key, `accounts: holds ${MAX_ACCOUNT_SETS} sets at most, and the layout has more distinct lists`);
      continue;
    }
    const emails: string[] = [];
    for (const pattern of list.patterns) {
      const converted = emailPattern(pattern);
      if (converted === undefined) {
        notes.push({
          kind: 'trigger: email pattern',
          where: `pipeline ${first}`,
          detail: `email pattern ${JSON.stringify(pattern)} does not compile as a JavaScript pattern: left out of its set, so the addresses only it matched are not members`,
        });
      } else if (!emails.includes(converted)) emails.push(converted);
    }
    if (emails.length === 0) {
      refused.set(key, 'none of its patterns compiles as a JavaScript pattern');
      continue;
    }
    const base = list === widest && !taken.has(TRUSTED) ? TRUSTED : (addressName(list.patterns) ?? pipelineNames.get(first) ?? TRUSTED);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base.slice(0, 36)}-${n}`;
    taken.add(name);
    names.set(key, name);
    sets.push({ name, emails, uses: list.uses, description: describe(list.patterns.length, list.uses) });
  }

  return {
    sets,
    setOf: (patterns) => {
      const key = keyOf(patterns);
      const name = names.get(key);
      return name !== undefined ? { name } : { refused: refused.get(key) ?? 'the layout has no such list' };
    },
    notes,
  };
}

/** "Zuul's email filter (534 patterns) on the patchset-created and comment-added triggers of test, test-prio, …". */
/**
 * A list of one exact address (`^libup@example\\.org$`) stands for one account, mostly a bot: its set is named
 * after the address's user part, so that a trigger reads `by: libup`, not `by: test`.
 */
function addressName(patterns: readonly string[]): string | undefined {
  if (patterns.length !== 1) return undefined;
  const user = /^\^([A-Za-z0-9._+-]+)@[^$]*\$$/.exec(patterns[0]!)?.[1];
  const name = user === undefined ? '' : pipelineName(user.replace(/\\/g, ''));
  return name === '' || name.startsWith('p-') ? undefined : name;
}

function describe(patterns: number, uses: readonly AccountSetUse[]): string {
  const events = [...new Set(uses.map((u) => u.event))];
  const pipelines = [...new Set(uses.map((u) => u.pipeline))];
  const head = `Zuul's email filter (${patterns} ${patterns === 1 ? 'pattern' : 'patterns'}) on the ${events.join(' and ')} ${uses.length === 1 ? 'trigger' : 'triggers'} of `;
  let listed = pipelines.length;
  const text = (n: number) => `${head}${pipelines.slice(0, n).join(', ')}${n < pipelines.length ? `, and ${pipelines.length - n} more` : ''}`;
  while (listed > 1 && text(listed).length > 500) listed -= 1;
  return text(listed).slice(0, 500);
}

/** A notice is one or two sentences a newcomer reads at a glance. */
const MAX_NOTICE = 300;

/** How a converted trigger reads for the notice; the fields pipelines.ts writes. */
interface WrittenTrigger {
  readonly event?: unknown;
  readonly comment?: unknown;
  readonly approvals?: unknown;
  readonly by?: unknown;
}

/** `^recheck\b`, `^check php\.?\s*$` → `recheck`, `check php`: a command a person types; undefined for anything else. */
export function commandOf(pattern: string): string | undefined {
  const command = pattern.replace(/^\^/, '').replace(/(?:\\b|\\\.\?|\\s\*|\$)+$/, '');
  return /^[a-z0-9][a-z0-9 -]{0,39}$/i.test(command) ? command : undefined;
}

/**
 * The notice of a set whose members' patch sets start a pipeline: for the first such pipeline, what else starts it
 * for a change from someone outside the set (a member's comment or vote, from the same pipeline's triggers).
 */
export function noticeFor(set: string, pipelines: readonly { readonly trigger: readonly WrittenTrigger[] }[]): string | undefined {
  const pipeline = pipelines.find((p) => p.trigger.some((t) => t.event === 'patchset-created' && t.by === set));
  if (!pipeline) return undefined;
  const ways: string[] = [];
  for (const trigger of pipeline.trigger) {
    if (trigger.event !== 'comment-added' || trigger.by !== set) continue;
    const command = typeof trigger.comment === 'string' ? commandOf(trigger.comment) : undefined;
    const votes = Array.isArray(trigger.approvals) ? (trigger.approvals as { label: string; value: number }[]) : [];
    const way = [
      ...(command ? [`comments "${command}"`] : []),
      ...votes.map((v) => `votes ${v.label} ${v.value > 0 ? '+' : ''}${v.value}`),
    ].join(' and ');
    if (way !== '' && !ways.includes(way)) ways.push(way);
  }
  const text = (n: number) =>
    'Thanks for the patch. Seakeeper runs the tests of changes from trusted contributors at once; a change from a newcomer ' +
    (n > 0 ? `is tested once a trusted reviewer ${ways.slice(0, n).join(' or ')}.` : 'is tested once a trusted contributor uploads a patch set of it.');
  let n = ways.length;
  while (n > 0 && text(n).length > MAX_NOTICE) n -= 1;
  return text(n);
}

/** The `accounts:` block of pipelines.yaml; each set's description names the Zuul pipelines it came from. */
export function accountsYaml(sets: readonly ConvertedAccountSet[]): string {
  if (sets.length === 0) return '';
  const doc = new Document(
    {
      accounts: Object.fromEntries(
        sets.map((s) => [s.name, { description: s.description, ...(s.notice !== undefined ? { notice: s.notice } : {}), emails: s.emails }]),
      ),
    },
    { aliasDuplicateObjects: false },
  );
  doc.commentBefore = [
    " The sets of accounts the triggers name in by: Zuul's email filters, each distinct list once. A pattern is",
    " tested anywhere in the address, as Zuul's re.search did, but case-insensitively, where Zuul's were not.",
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
