// Which sets of accounts (config/pipelines.yaml `accounts`) the account behind an event is in: the facts a
// trigger's `by` needs (triggers.ts). E-mail patterns are tested on the event's account as Gerrit sent it;
// groups are read through Gerrit's REST API (members of included groups too) and kept for a minute, so that a
// busy hour costs one read per group and minute, and someone removed from a group stops counting soon after.
//
// An account is a group's member when Gerrit's username or e-mail of the member is the event's: Gerrit keeps both
// unique to one account (an e-mail is an external id), and events carry no account id. A group Gerrit does not
// show us (none of that name, or not visible to Seakeeper's account) has no members here, and is logged: trust
// is never granted on a guess. A Gerrit that fails is a TransientError, and the event is retried.
import type { AccountSet } from '../config/pipeline-config.js';
import { NotFoundError } from '../errors.js';
import type { AccountAttribute } from '../events/gerrit-event.js';
import type { GerritApi } from '../gerrit/client.js';
import type { AccountInfo } from '../gerrit/types.js';
import type { Logger } from '../log.js';

/** How long a group's members are kept. */
export const GROUP_MEMBERS_TTL_MS = 60_000;

const sameEmail = (a: string | undefined, b: string | undefined): boolean => a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** Whether the event's account is one of the members (by username, else e-mail). */
export function isMember(account: AccountAttribute, members: readonly AccountInfo[]): boolean {
  return members.some((m) => (account.username !== undefined && m.username === account.username) || sameEmail(m.email, account.email));
}

/** Whether the account's e-mail matches one of the set's patterns. */
export function emailInSet(account: AccountAttribute, set: AccountSet): boolean {
  const { email } = account;
  return email !== undefined && set.emails.some((pattern) => pattern.test(email));
}

interface Cached {
  readonly until: number;
  readonly members: Promise<AccountInfo[]>;
}

export class AccountMembership {
  readonly #groups = new Map<string, Cached>();

  constructor(
    readonly gerrit: Pick<GerritApi, 'listGroupMembers'>,
    readonly logger: Pick<Logger, 'warn'>,
    readonly now: () => number = Date.now,
    readonly ttlMs = GROUP_MEMBERS_TTL_MS,
  ) {}

  /** The names of the sets the account is in; none for an event that names no account. */
  async setsOf(account: AccountAttribute | undefined, sets: readonly AccountSet[]): Promise<Set<string>> {
    const names = new Set<string>();
    if (!account || sets.length === 0) return names;
    await Promise.all(
      sets.map(async (set) => {
        if (emailInSet(account, set)) names.add(set.name);
        else if (set.groups.length > 0) {
          const groups = await Promise.all(set.groups.map((group) => this.members(group)));
          if (groups.some((members) => isMember(account, members))) names.add(set.name);
        }
      }),
    );
    return names;
  }

  /** A group's members, from the cache while fresh; events at once share one read. */
  async members(group: string): Promise<AccountInfo[]> {
    const now = this.now();
    const cached = this.#groups.get(group);
    if (cached && cached.until > now) return cached.members;
    const members = this.#read(group);
    this.#groups.set(group, { until: now + this.ttlMs, members });
    // A failed read is not kept: the retry of the event reads again.
    members.catch(() => {
      if (this.#groups.get(group)?.members === members) this.#groups.delete(group);
    });
    return members;
  }

  async #read(group: string): Promise<AccountInfo[]> {
    try {
      return await this.gerrit.listGroupMembers(group);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      this.logger.warn({ group }, 'Gerrit shows no such group: it trusts nobody (check the group name and that Seakeeper may see it)');
      return [];
    }
  }
}
