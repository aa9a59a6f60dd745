// SSH chores for tests: key pairs from ssh-keygen, and Gerrit's SSH commands through the ssh client, as an
// administrator would run them.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  privateKeyPath: string;
  /** The OpenSSH public key line. */
  publicKey: string;
}

/** A new ed25519 key pair without a passphrase, written into `dir`. */
export async function sshKeyPair(dir: string, name: string): Promise<KeyPair> {
  const privateKeyPath = path.join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', privateKeyPath]);
  return { privateKeyPath, publicKey: (await readFile(`${privateKeyPath}.pub`, 'utf8')).trim() };
}

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKeyPath: string;
}

/** Runs a Gerrit SSH command (`gerrit show-connections …`) and returns what it printed. */
export async function gerritSsh(target: SshTarget, ...command: string[]): Promise<string> {
  const { stdout } = await run('ssh', [
    '-p', String(target.port),
    '-i', target.privateKeyPath,
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    `${target.user}@${target.host}`,
    ...command,
  ]);
  return stdout;
}

/** Closes every SSH session of the account (Gerrit's `close-connection`); returns how many there were. */
export async function closeConnectionsOf(admin: SshTarget, accountId: number): Promise<number> {
  const listing = await gerritSsh(admin, 'gerrit', 'show-connections', '-n', '-w');
  // Rows: session id, account ("a/1000003" with -n), remote host.
  const sessions = listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[1] === `a/${accountId}` && /^[0-9a-f]+$/.test(cols[0] ?? ''))
    .map((cols) => cols[0]!);
  if (sessions.length > 0) await gerritSsh(admin, 'gerrit', 'close-connection', ...sessions);
  return sessions.length;
}
