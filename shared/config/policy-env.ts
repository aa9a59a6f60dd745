// The system policy and pipelines as a function loads them at start-up: config/policy.yaml and
// config/pipelines.yaml as shipped, or the files named by SEAKEEPER_POLICY_FILE and SEAKEEPER_PIPELINES_FILE (mounted
// ConfigMaps) so that caps can be tuned, and a converted layout deployed (npm run import-zuul), without a new
// image. Also the one way functions that read several groups of variables report every problem at once.
import { readFileSync } from 'node:fs';
import { ConfigError, loadEnv, optional, text, type Env } from '../env.js';
import { loadPolicy, parsePolicy, type Policy } from './policy.js';
import { loadPipelines, parsePipelines, type Pipeline } from './pipeline-config.js';
import { formatProblem } from './yaml.js';
import type { GerritClient } from '../gerrit/client.js';
import type { HttpCluster } from '../k8s/http-cluster.js';

export const policyEnv = {
  /** A policy file to use instead of config/policy.yaml. */
  SEAKEEPER_POLICY_FILE: optional(text()),
};

export const pipelinesEnv = {
  /** A pipelines file to use instead of config/pipelines.yaml. */
  SEAKEEPER_PIPELINES_FILE: optional(text()),
};

type ReadFile = (path: string) => string;
const readText: ReadFile = (p) => readFileSync(p, 'utf8');

function readNamed(variable: string, file: string, readFile: ReadFile): string {
  try {
    return readFile(file);
  } catch (err) {
    throw new ConfigError([`${variable} names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`]);
  }
}

/** The system policy: SEAKEEPER_POLICY_FILE's when set (an invalid one is a ConfigError naming it), else the shipped one. */
export function policyFromEnv(env: Env = process.env, readFile: ReadFile = readText): Policy {
  const { SEAKEEPER_POLICY_FILE: file } = loadEnv(policyEnv, env);
  if (file === undefined) return loadPolicy();
  const result = parsePolicy(readNamed('SEAKEEPER_POLICY_FILE', file, readFile), file);
  if (!result.ok) throw new ConfigError(result.problems.map((p) => `SEAKEEPER_POLICY_FILE: ${formatProblem(p)}`));
  return result.policy;
}

/** The pipelines: SEAKEEPER_PIPELINES_FILE's when set (an invalid one is a ConfigError naming it), else the shipped ones. */
export function pipelinesFromEnv(env: Env = process.env, readFile: ReadFile = readText): readonly Pipeline[] {
  const { SEAKEEPER_PIPELINES_FILE: file } = loadEnv(pipelinesEnv, env);
  if (file === undefined) return loadPipelines();
  const result = parsePipelines(readNamed('SEAKEEPER_PIPELINES_FILE', file, readFile), file);
  if (!result.ok) throw new ConfigError(result.problems.map((p) => `SEAKEEPER_PIPELINES_FILE: ${formatProblem(p)}`));
  return result.pipelines;
}

/**
 * Runs every loader, collecting the problems of each ConfigError, and throws one ConfigError with all of them;
 * else returns what each loaded. Other errors pass through.
 */
export function loadAll<const L extends readonly (() => unknown)[]>(...loaders: L): { [K in keyof L]: ReturnType<L[K]> } {
  const problems: string[] = [];
  const values = loaders.map((load) => {
    try {
      return load();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  });
  // Loaders that read the same variables (two clients of one Gerrit) name each problem once.
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return values as { [K in keyof L]: ReturnType<L[K]> };
}

/** What `load` makes, or undefined when it finds a configuration problem (left for a loadAll that loads it again to name). */
export function unlessMisconfigured<T>(load: () => T): T | undefined {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) return undefined;
    throw err;
  }
}

/**
 * Clients and policy that the parts of one function share (patchset-created's config check and pipelines,
 * reconcile's passes), made once; a part left undefined is made by each from the environment, which then names
 * its problem.
 */
export interface SharedParts {
  readonly gerrit?: GerritClient | undefined;
  readonly cluster?: HttpCluster | undefined;
  readonly policy?: Policy | undefined;
}
