// System policy (config/policy.yaml, schema config/policy.schema.json): the caps and defaults of project
// resources, what deprovisioning does, how Gerrit groups become Kubernetes groups, and where Argo keeps
// artifacts. Parsed with the same located errors as a project's seakeeper.yaml; an invalid policy is a
// deployment fault, so `loadPolicy` throws and the function does not start.
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { readConfigFile, readConfigJson } from './files.js';
import { compareQuantities, parseQuantity } from './quantity.js';
import { byPosition, compileSchema, ConfigInvalidError, parseYaml, schemaProblems, type ConfigProblem, type ParsedYaml } from './yaml.js';

export const POLICY_FILE = 'config/policy.yaml';
const POLICY_SCHEMA_FILE = 'policy.schema.json';

export interface ResourceAmounts {
  /** Kubernetes quantity text, e.g. "4" or "500m". */
  readonly cpu: string;
  /** Kubernetes quantity text, e.g. "8Gi". */
  readonly memory: string;
  readonly pods: number;
}

export interface CpuMemory {
  readonly cpu: string;
  readonly memory: string;
}

export type DeprovisionPolicy = 'retain' | 'delete';
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export interface ArtifactRepositoryPolicy {
  /** host:port, no scheme. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region?: string | undefined;
  readonly insecure: boolean;
  /** A Secret with keys `accesskey` and `secretkey`, expected in each project namespace. */
  readonly secretName: string;
}

export interface Policy {
  readonly caps: ResourceAmounts;
  readonly defaults: ResourceAmounts;
  readonly container: { readonly defaultRequest: CpuMemory; readonly defaultLimit: CpuMemory };
  readonly deprovision: DeprovisionPolicy;
  readonly groupPrefix: string;
  readonly podSecurity: PodSecurityLevel;
  /** What every project namespace may claim in all, and the StorageClasses its claims may name. */
  readonly storage: { readonly requests: string; readonly claims: number; readonly classes: readonly string[] };
  /** CIDRs project pods may not connect to. */
  readonly egress: { readonly deny: readonly string[] };
  readonly artifactRepository?: ArtifactRepositoryPolicy | undefined;
  /** Gate queues several projects may share, each with the projects that may name it (`name` or `prefix/*`). */
  readonly sharedQueues: Readonly<Record<string, readonly string[]>>;
}

/** policy.schema.json's default for `storage`. */
const DEFAULT_STORAGE: Policy['storage'] = { requests: '20Gi', claims: 10, classes: [] };
/** policy.schema.json's default for `egress`: the cloud metadata addresses. */
const DEFAULT_EGRESS: Policy['egress'] = { deny: ['169.254.169.254/32', 'fd00:ec2::254/128'] };

let validator: ValidateFunction | undefined;

export type PolicyResult = { ok: true; policy: Policy } | { ok: false; problems: ConfigProblem[] };

/** Parses and checks a policy document. Pure. */
export function parsePolicy(text: string, file: string = POLICY_FILE): PolicyResult {
  const parsed = parseYaml(text, file);
  if (!parsed.ok) return parsed;
  validator ??= compileSchema(readConfigJson(POLICY_SCHEMA_FILE));
  const problems = schemaProblems(validator, parsed.document);
  if (problems.length > 0) return { ok: false, problems };
  const raw = parsed.document.value as RawPolicy;
  const policy: Policy = {
    caps: raw.caps,
    defaults: raw.defaults,
    container: raw.container,
    deprovision: raw.deprovision ?? 'retain',
    groupPrefix: raw.groupPrefix,
    podSecurity: raw.podSecurity ?? 'baseline',
    storage: raw.storage ? { ...raw.storage, classes: raw.storage.classes ?? [] } : DEFAULT_STORAGE,
    egress: raw.egress ?? DEFAULT_EGRESS,
    artifactRepository: raw.artifactRepository && { ...raw.artifactRepository, insecure: raw.artifactRepository.insecure ?? false },
    sharedQueues: raw.sharedQueues ?? {},
  };
  const semantic = policyProblems(policy, parsed.document);
  return semantic.length > 0 ? { ok: false, problems: semantic } : { ok: true, policy };
}

interface RawPolicy {
  caps: ResourceAmounts;
  defaults: ResourceAmounts;
  container: Policy['container'];
  deprovision?: DeprovisionPolicy;
  groupPrefix: string;
  podSecurity?: PodSecurityLevel;
  storage?: Omit<Policy['storage'], 'classes'> & { classes?: string[] };
  egress?: Policy['egress'];
  artifactRepository?: Omit<ArtifactRepositoryPolicy, 'insecure'> & { insecure?: boolean };
  sharedQueues?: Policy['sharedQueues'];
}

/** What the schema cannot say: caps are positive, defaults are within caps, requests within limits. */
function policyProblems(policy: Policy, document: ParsedYaml): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const problem = (path: string, rule: string, message: string) =>
    problems.push({ file: document.file, path, ...document.locate(path), rule, message });
  const q = (text: string) => parseQuantity(text)!;

  for (const resource of ['cpu', 'memory'] as const) {
    if (q(policy.caps[resource]).num === 0n) problem(`/caps/${resource}`, 'exclusiveMinimum', `the ${resource} cap must be above 0`);
    if (q(policy.defaults[resource]).num === 0n) problem(`/defaults/${resource}`, 'exclusiveMinimum', `the ${resource} default must be above 0`);
    if (compareQuantities(q(policy.defaults[resource]), q(policy.caps[resource])) > 0) {
      problem(`/defaults/${resource}`, 'default-above-cap', `the default ${resource} ${policy.defaults[resource]} is above its cap ${policy.caps[resource]}`);
    }
    const { defaultRequest, defaultLimit } = policy.container;
    if (compareQuantities(q(defaultRequest[resource]), q(defaultLimit[resource])) > 0) {
      problem(
        `/container/defaultRequest/${resource}`,
        'request-above-limit',
        `the default ${resource} request ${defaultRequest[resource]} is above the default limit ${defaultLimit[resource]}`,
      );
    }
  }
  if (policy.defaults.pods > policy.caps.pods) {
    problem('/defaults/pods', 'default-above-cap', `the default pods ${policy.defaults.pods} is above its cap ${policy.caps.pods}`);
  }
  return problems.sort(byPosition);
}

/** Whether `project` is one of `patterns` (sharedQueues): named exactly, or under a `prefix/*`. */
export function projectMatches(project: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => (pattern.endsWith('/*') ? project.startsWith(pattern.slice(0, -1)) : project === pattern));
}

/**
 * Why `project` may not gate in the queue its config names (`queue`, or none: its own), one sentence for its
 * owners; undefined when it may. A shared queue is the release engineers' to open (sharedQueues): a project
 * owner must not be able to put changes ahead of another project's in its queue, where each failure resets the
 * runs behind it. A project without `queue:` gates alone, unless its name is a shared queue's that it is not
 * among (the two would be one queue).
 */
export function queueRefusal(project: string, queue: string | undefined, policy: Pick<Policy, 'sharedQueues'>): string | undefined {
  const named = queue ?? project;
  const members = Object.hasOwn(policy.sharedQueues, named) ? policy.sharedQueues[named] : undefined;
  if (members) {
    return projectMatches(project, members)
      ? undefined
      : `the gate queue "${named}" is shared by ${members.join(', ')} (sharedQueues in the system policy), and ${project} is not among them; ask the release engineers to add it`;
  }
  if (queue === undefined || queue === project) return undefined;
  return `"queue: ${queue}" names no shared gate queue of the system policy (sharedQueues); ask the release engineers to open it to ${project}, or remove queue: to gate in a queue of its own`;
}

let loaded: Policy | undefined;

/** config/policy.yaml, parsed once; throws ConfigInvalidError (every problem located) when it is invalid. */
export function loadPolicy(): Policy {
  if (loaded) return loaded;
  const result = parsePolicy(readConfigFile('policy.yaml'));
  if (!result.ok) throw new ConfigInvalidError(`invalid system policy ${POLICY_FILE}`, result.problems);
  loaded = result.policy;
  return loaded;
}
