// Gerrit set-up only tests need: the rig's two accounts as connections, and new accounts. Projects and pushes
// are dev/gerrit-chores.ts's.
import { encodeId, GerritRest, type GerritConnection } from '../../../shared/gerrit/rest.js';
import type { AccountInfo } from '../../../shared/gerrit/types.js';
import type { Rig } from './rig.js';

export function rigConnections(rig: Rig): { bot: GerritConnection; admin: GerritConnection } {
  return {
    bot: { baseUrl: rig.GERRIT_URL, username: rig.GERRIT_USER, password: rig.GERRIT_PASSWORD },
    admin: { baseUrl: rig.GERRIT_URL, username: rig.GERRIT_ADMIN_USER, password: rig.GERRIT_ADMIN_PASSWORD },
  };
}

export interface NewAccount {
  username: string;
  groups?: string[];
  /** An OpenSSH public key line. */
  sshKey?: string;
  httpPassword?: string;
}

/** Creates an account as the administrator (`PUT /accounts/{username}`). */
export async function createAccount(admin: GerritConnection, account: NewAccount): Promise<AccountInfo> {
  return new GerritRest(admin).json('PUT', `accounts/${encodeId(account.username)}`, {
    body: {
      name: account.username,
      email: `${account.username}@example.com`,
      ...(account.groups ? { groups: account.groups } : {}),
      ...(account.sshKey ? { ssh_key: account.sshKey } : {}),
      ...(account.httpPassword ? { http_password: account.httpPassword } : {}),
    },
  });
}
