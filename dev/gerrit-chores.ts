// Chores against Gerrit that the production client has no business doing, done as a developer would: creating
// projects as the administrator, and committing files and pushing them with the `git` CLI over HTTP, for review
// or straight to a ref. `make dev` sets its demo project up with them; the tests and the bench use them too.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GerritClient } from '../shared/gerrit/client.js';
import { basicAuthorization, encodeId, GerritRest, restUrl, type GerritConnection } from '../shared/gerrit/rest.js';
import type { AccountInfo, ChangeInfo } from '../shared/gerrit/types.js';

const run = promisify(execFile);

/** A project (under All-Projects unless `parent` says otherwise) whose master branch has one empty commit. */
export async function createProject(admin: GerritConnection, name: string, parent = 'All-Projects'): Promise<void> {
  await new GerritRest(admin).json('PUT', `projects/${encodeId(name)}`, {
    body: { parent, create_empty_commit: true, branches: ['master'] },
  });
}

export function whoAmI(connection: GerritConnection): Promise<AccountInfo> {
  return new GerritRest(connection).json('GET', 'accounts/self');
}

export const newChangeId = (): string => `I${randomBytes(20).toString('hex')}`;

/**
 * Runs `work` in a fresh clone's work tree checked out at `ref` of `project`, with `git` bound to it and to the
 * administrator's identity and credentials.
 */
async function inWorkTree<T>(
  admin: GerritConnection,
  project: string,
  ref: string,
  work: (git: (...args: string[]) => Promise<unknown>, dir: string, remote: string) => Promise<T>,
): Promise<T> {
  const me = await whoAmI(admin);
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
    await git('fetch', '-q', remote, ref);
    await git('checkout', '-q', 'FETCH_HEAD');
    return await work(git, dir, remote);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Files to commit by path; null removes the file. */
export type FileChanges = Record<string, string | null>;

async function commitFiles(git: (...args: string[]) => Promise<unknown>, dir: string, files: FileChanges, message: string, allowEmpty = false): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    if (content === null) {
      await git('rm', '-q', '--', file);
      continue;
    }
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  await git('add', '-A');
  await git('commit', '-q', ...(allowEmpty ? ['--allow-empty'] : []), '-m', message);
}

/**
 * Commits `files` on top of `branch` (master, or a full ref such as refs/meta/config) and pushes the commit for
 * review; returns the change Gerrit made of it. `base`, another change's refs/changes/… ref, puts the commit on
 * top of that change instead of the branch tip: a stack.
 */
export async function pushChange(
  admin: GerritConnection,
  project: string,
  files: FileChanges,
  subject: string,
  branch = 'master',
  base?: string,
): Promise<ChangeInfo> {
  return pushPatchSet(admin, project, newChangeId(), files, subject, branch, base);
}

/** Like pushChange, with a given Change-Id: a new change, or a new patch set of the open change that has it. */
export async function pushPatchSet(
  admin: GerritConnection,
  project: string,
  changeId: string,
  files: FileChanges,
  subject: string,
  branch = 'master',
  base?: string,
): Promise<ChangeInfo> {
  const ref = branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
  await inWorkTree(admin, project, base ?? ref, async (git, dir, remote) => {
    await commitFiles(git, dir, files, `${subject}\n\nChange-Id: ${changeId}\n`);
    await git('push', '-q', remote, `HEAD:refs/for/${branch}`);
  });
  return new GerritClient(admin).getChange(`${project}~${branch}~${changeId}`, ['CURRENT_REVISION']);
}

/**
 * Commits `files` on top of `ref` and pushes straight to it, bypassing review (refs/meta/config, as an owner
 * does). Files already as given still make a commit, so the push is an event every time.
 */
export async function pushDirect(admin: GerritConnection, project: string, ref: string, files: FileChanges, message: string): Promise<void> {
  await inWorkTree(admin, project, ref, async (git, dir, remote) => {
    await commitFiles(git, dir, files, message, true);
    await git('push', '-q', remote, `HEAD:${ref}`);
  });
}
