// Administrator chores the production client has no business doing: creating projects and pushing changes
// with the `git` CLI over HTTP, as a developer would.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GerritClient } from '../../../shared/gerrit/client.js';
import { basicAuthorization, encodeId, GerritRest, restUrl, type GerritConnection } from '../../../shared/gerrit/rest.js';
import type { AccountInfo, ChangeInfo } from '../../../shared/gerrit/types.js';
import type { Rig } from './rig.js';

const run = promisify(execFile);

export function rigConnections(rig: Rig): { bot: GerritConnection; admin: GerritConnection } {
  return {
    bot: { baseUrl: rig.GERRIT_URL, username: rig.GERRIT_USER, password: rig.GERRIT_PASSWORD },
    admin: { baseUrl: rig.GERRIT_URL, username: rig.GERRIT_ADMIN_USER, password: rig.GERRIT_ADMIN_PASSWORD },
  };
}

/** A project under All-Projects whose master branch has one empty commit. */
export async function createProject(admin: GerritConnection, name: string): Promise<void> {
  await new GerritRest(admin).json('PUT', `projects/${encodeId(name)}`, {
    body: { parent: 'All-Projects', create_empty_commit: true, branches: ['master'] },
  });
}

export function whoAmI(connection: GerritConnection): Promise<AccountInfo> {
  return new GerritRest(connection).json('GET', 'accounts/self');
}

export const newChangeId = (): string => `I${randomBytes(20).toString('hex')}`;

/** Commits `files` on top of master and pushes the commit for review; returns the change Gerrit made of it. */
export async function pushChange(
  admin: GerritConnection,
  project: string,
  files: Record<string, string>,
  subject: string,
): Promise<ChangeInfo> {
  const me = await whoAmI(admin);
  const changeId = newChangeId();
  const remote = restUrl(admin.baseUrl, project).href;
  const dir = await mkdtemp(path.join(tmpdir(), 'seakeeper-push-'));
  // Credentials go in an environment-only git config, never on a command line or in a URL git might print.
  const env = {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: ${basicAuthorization(admin.username, admin.password)}`,
    GIT_AUTHOR_NAME: me.name ?? admin.username,
    GIT_AUTHOR_EMAIL: me.email ?? `${admin.username}@example.com`,
    GIT_COMMITTER_NAME: me.name ?? admin.username,
    GIT_COMMITTER_EMAIL: me.email ?? `${admin.username}@example.com`,
  };
  const git = (...args: string[]) => run('git', ['-C', dir, ...args], { env });
  try {
    await git('init', '-q');
    await git('fetch', '-q', remote, 'refs/heads/master');
    await git('checkout', '-q', 'FETCH_HEAD');
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    }
    await git('add', '-A');
    await git('commit', '-q', '-m', `${subject}\n\nChange-Id: ${changeId}\n`);
    await git('push', '-q', remote, 'HEAD:refs/for/master');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return new GerritClient(admin).getChange(`${project}~master~${changeId}`, ['CURRENT_REVISION']);
}
