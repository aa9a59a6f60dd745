// Where the rig's real servers are. `make rig-up` writes .rig/env; integration suites load it here and fail —
// never skip — when it is missing, so a green run always means the servers were really exercised.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpUrl, loadEnv, secret, text, type Env } from '../../../shared/env.js';

export const RIG_ENV_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../.rig/env');

const ASSIGNMENT = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** Expands `$NAME` and `${NAME}` the way the shell would when the file is sourced. */
function expand(value: string, vars: Env): string {
  return value.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, braced, bare) => vars[braced ?? bare] ?? '');
}

/**
 * Parses the rig's env file: `export NAME=value` or `NAME=value` lines, `#` comments, values bare,
 * 'single-quoted' (literal) or "double-quoted" (expanded, like bare ones). `base` supplies variables the
 * file refers to but does not set, e.g. `$PATH`.
 */
export function parseEnvFile(content: string, base: Env = {}): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [index, rawLine] of content.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = ASSIGNMENT.exec(line);
    if (!match) throw new Error(`${RIG_ENV_FILE}:${index + 1}: not a NAME=value line`);
    const [, name, value] = match as unknown as [string, string, string];
    const scope = { ...base, ...vars };
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) vars[name] = value.slice(1, -1);
    else if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) vars[name] = expand(value.slice(1, -1), scope);
    else vars[name] = expand(value, scope);
  }
  return vars;
}

const rigSpec = {
  KUBECONFIG: text(),
  GERRIT_URL: httpUrl(),
  GERRIT_USER: text(),
  GERRIT_PASSWORD: secret(),
  GERRIT_ADMIN_USER: text(),
  GERRIT_ADMIN_PASSWORD: secret(),
};

export type Rig = ReturnType<typeof loadEnv<typeof rigSpec>>;

/**
 * Reads .rig/env, checks it names everything the suites need, and exports it into process.env so that
 * child processes (git, kubectl) see the rig's PATH.
 */
export function loadRig(): Rig {
  if (!existsSync(RIG_ENV_FILE)) {
    throw new Error(`rig is not up: run make rig-up (${RIG_ENV_FILE} does not exist)`);
  }
  const vars = parseEnvFile(readFileSync(RIG_ENV_FILE, 'utf8'), process.env);
  Object.assign(process.env, vars);
  try {
    return loadEnv(rigSpec, vars);
  } catch (err) {
    throw new Error(`rig is not up properly: ${RIG_ENV_FILE}: ${(err as Error).message}`, { cause: err });
  }
}

/** A name no earlier run used: lowercase alphanumerics, safe for namespaces and Gerrit projects alike. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0')}`;
}
