// Which seakeeper.yaml applies to a project: its own, or else the nearest ancestor's, walking Gerrit's parent
// chain (All-Projects → mediawiki → mediawiki/extensions/X). The walk is written once, as a generator that
// asks for one project at a time, and driven either synchronously over links the caller already has (e.g.
// the whole project tree fetched once by a reconcile pass) or asynchronously through a narrow reader.
//
// A cycle, a parent that does not exist, or a chain deeper than the limit is an error that names the
// projects involved. (Gerrit itself quietly falls back to All-Projects in those cases; for CI we prefer
// to say so and change nothing, since guessing could hand a project the wrong owners.)
import { NotFoundError } from '../errors.js';
import type { Policy } from './policy.js';
import { CONFIG_FILE, parseProjectConfig, type ProjectConfig } from './project-config.js';
import type { ConfigProblem, YamlLimits } from './yaml.js';

/** Gerrit's root project: it has no parent. */
export const ROOT_PROJECT = 'All-Projects';
export const MAX_INHERITANCE_DEPTH = 32;
/** Where Gerrit keeps a project's parent (`[access] inheritFrom`), for locating inheritance problems. */
const PROJECT_CONFIG_FILE = 'project.config';

/** What the shell fetches from Gerrit, per project. */
export interface ProjectConfigReader {
  /** The text of seakeeper.yaml on refs/meta/config, or undefined when there is none. NotFoundError: no such project. */
  readConfig(project: string): Promise<string | undefined>;
  /** The parent project, or undefined for the root. NotFoundError: no such project. */
  parentOf(project: string): Promise<string | undefined>;
}

/** One project as the walk sees it. */
export interface ChainLink {
  readonly project: string;
  /** seakeeper.yaml text; undefined when the project has none. */
  readonly config: string | undefined;
  readonly parent: string | undefined;
}

export type EffectiveConfig =
  /** A config applies; `source` is the project whose seakeeper.yaml it is (the project itself unless inherited). */
  | { kind: 'configured'; project: string; source: string; inherited: boolean; chain: readonly string[]; config: ProjectConfig }
  /** No seakeeper.yaml anywhere up to the root: the project has no namespace (deprovision per policy). */
  | { kind: 'unconfigured'; project: string; chain: readonly string[] }
  /** The project does not exist (deleted): deprovision per policy. */
  | { kind: 'missing-project'; project: string }
  /** The applicable config is broken, or the chain is: change nothing, show the problems to a human. */
  | { kind: 'invalid'; project: string; source: string | undefined; chain: readonly string[]; problems: readonly ConfigProblem[] };

export interface ResolveOptions {
  readonly maxDepth?: number;
  readonly limits?: YamlLimits;
}

type WalkEnd =
  | { end: 'found'; links: ChainLink[] }
  | { end: 'root'; links: ChainLink[] }
  | { end: 'missing-project' }
  | { end: 'missing-parent'; links: ChainLink[]; parent: string }
  | { end: 'cycle'; links: ChainLink[]; parent: string }
  | { end: 'too-deep'; links: ChainLink[] };

/** Yields the project it needs next; is sent its link, or undefined when the project does not exist. */
function* walk(project: string, maxDepth: number): Generator<string, WalkEnd, ChainLink | undefined> {
  const links: ChainLink[] = [];
  const seen = new Set<string>();
  let current = project;
  for (;;) {
    const link = yield current;
    if (!link) return links.length === 0 ? { end: 'missing-project' } : { end: 'missing-parent', links, parent: current };
    links.push(link);
    seen.add(current);
    if (link.config !== undefined) return { end: 'found', links };
    if (link.parent === undefined) return { end: 'root', links };
    if (seen.has(link.parent)) return { end: 'cycle', links, parent: link.parent };
    if (links.length >= maxDepth) return { end: 'too-deep', links };
    current = link.parent;
  }
}

/** Pure: resolves from links already fetched; `lookup` answers undefined for a project that does not exist. */
export function resolveFromLinks(
  project: string,
  lookup: (project: string) => ChainLink | undefined,
  policy: Policy,
  options: ResolveOptions = {},
): EffectiveConfig {
  const gen = walk(project, options.maxDepth ?? MAX_INHERITANCE_DEPTH);
  let step = gen.next();
  while (!step.done) step = gen.next(lookup(step.value));
  return decide(project, step.value, policy, options);
}

/** Resolves through the reader, one project at a time, reading no further than needed. */
export async function resolveEffectiveConfig(
  project: string,
  reader: ProjectConfigReader,
  policy: Policy,
  options: ResolveOptions = {},
): Promise<EffectiveConfig> {
  const gen = walk(project, options.maxDepth ?? MAX_INHERITANCE_DEPTH);
  let step = gen.next();
  while (!step.done) step = gen.next(await readLink(reader, step.value));
  return decide(project, step.value, policy, options);
}

async function readLink(reader: ProjectConfigReader, project: string): Promise<ChainLink | undefined> {
  try {
    const config = await reader.readConfig(project);
    const parent = config === undefined ? await reader.parentOf(project) : undefined;
    return { project, config, parent };
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

function decide(project: string, walked: WalkEnd, policy: Policy, options: ResolveOptions): EffectiveConfig {
  if (walked.end === 'missing-project') return { kind: 'missing-project', project };
  const chain = walked.links.map((l) => l.project);
  const chainText = chain.map((p) => JSON.stringify(p)).join(' → ');
  const chainProblem = (rule: string, message: string): EffectiveConfig => ({
    kind: 'invalid',
    project,
    source: undefined,
    chain,
    problems: [{ file: PROJECT_CONFIG_FILE, path: '', line: 1, column: 1, rule, message }],
  });

  switch (walked.end) {
    case 'root':
      return { kind: 'unconfigured', project, chain };
    case 'missing-parent':
      return chainProblem(
        'inheritance-missing-parent',
        `the parent project ${JSON.stringify(walked.parent)} does not exist (chain ${chainText}); set an existing parent`,
      );
    case 'cycle':
      return chainProblem('inheritance-cycle', `the parent chain loops back to ${JSON.stringify(walked.parent)} (${chainText})`);
    case 'too-deep':
      return chainProblem(
        'inheritance-too-deep',
        `no seakeeper.yaml within ${chain.length} generations of parents (${chainText} → …); the limit is ${options.maxDepth ?? MAX_INHERITANCE_DEPTH}`,
      );
    case 'found': {
      const link = walked.links[walked.links.length - 1]!;
      const inherited = link.project !== project;
      const file = inherited ? `${link.project}:${CONFIG_FILE}` : CONFIG_FILE;
      const result = parseProjectConfig(link.config!, policy, { file, ...(options.limits ? { limits: options.limits } : {}) });
      if (!result.ok) return { kind: 'invalid', project, source: link.project, chain, problems: result.problems };
      return { kind: 'configured', project, source: link.project, inherited, chain, config: result.config };
    }
  }
}
