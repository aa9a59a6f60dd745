// A project's seakeeper.yaml (on refs/meta/config): untrusted text in, a typed and normalised
// ProjectConfig — or every problem, located — out. Pure: the caller fetches the text and the policy.
//
//   pipelines:
//     check: { workflow: check.yaml }            # an Argo Workflow manifest beside it on refs/meta/config
//     gate-and-submit: { workflow: gate.yaml, queue: mediawiki }
//   resources: { cpu: "4", memory: 8Gi, pods: 10 }
//   owners: [MediaWiki-owners]                   # Gerrit group names
//   viewers: [Trusted-Contributors]
//
// Policy decision: system policy *caps* requests. A request above a cap is an error naming the cap (rule
// `policy-cap`); it is never silently lowered, because a project that silently gets less than it asked for
// fails later in a way nobody can explain. Resources a project does not ask for take the policy defaults.
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { readConfigJson } from './files.js';
import type { Policy, ResourceAmounts } from './policy.js';
import { POLICY_FILE } from './policy.js';
import { compareQuantities, parseQuantity, quantityText } from './quantity.js';
import {
  byPosition,
  compileSchema,
  DEFAULT_YAML_LIMITS,
  parseYaml,
  schemaProblems,
  type ConfigProblem,
  type ParsedYaml,
  type YamlLimits,
} from './yaml.js';

/** The file's name on refs/meta/config. */
export const CONFIG_FILE = 'seakeeper.yaml';
export { CONFIG_REF } from '../gerrit/refs.js';
const SCHEMA_FILE = 'seakeeper.schema.json';

export interface PipelineConfig {
  readonly name: string;
  /** A Workflow manifest beside seakeeper.yaml on refs/meta/config (a safe relative path)… */
  readonly workflow?: string | undefined;
  /** …or a WorkflowTemplate in the project's namespace. Exactly one of the two is set. */
  readonly workflowTemplate?: string | undefined;
  /** The shared gate queue, for dependent pipelines. */
  readonly queue?: string | undefined;
}

export interface ProjectConfig {
  /** Sorted by name. */
  readonly pipelines: readonly PipelineConfig[];
  /** What the namespace gets: the request, or the policy default for what was not asked; within the caps. */
  readonly resources: ResourceAmounts;
  /** Gerrit group names, sorted. */
  readonly owners: readonly string[];
  readonly viewers: readonly string[];
}

export type ProjectConfigResult = { ok: true; config: ProjectConfig } | { ok: false; problems: ConfigProblem[] };

export interface ParseOptions {
  /** How the file is named in problems; default `seakeeper.yaml`. */
  readonly file?: string;
  readonly limits?: YamlLimits;
}

interface RawConfig {
  pipelines?: Record<string, { workflow?: string; workflowTemplate?: string; queue?: string }>;
  resources?: { cpu?: string | number; memory?: string | number; pods?: number };
  owners?: string[];
  viewers?: string[];
}

let validator: ValidateFunction | undefined;

/** The JSON Schema of seakeeper.yaml (config/seakeeper.schema.json), for tools and tests. */
export function projectConfigSchema(): unknown {
  return readConfigJson(SCHEMA_FILE);
}

/** Parses, validates and normalises a seakeeper.yaml. Pure; never throws on bad input. */
export function parseProjectConfig(text: string, policy: Policy, options: ParseOptions = {}): ProjectConfigResult {
  const file = options.file ?? CONFIG_FILE;
  const parsed = parseYaml(text, file, options.limits ?? DEFAULT_YAML_LIMITS);
  if (!parsed.ok) return parsed;
  validator ??= compileSchema(projectConfigSchema());
  const problems = schemaProblems(validator, parsed.document);
  if (problems.length > 0) return { ok: false, problems };

  const raw = parsed.document.value as RawConfig;
  const resources = resolveResources(raw.resources ?? {}, policy, parsed.document);
  if (!resources.ok) return resources;

  const pipelines = Object.entries(raw.pipelines ?? {})
    .map(([name, p]): PipelineConfig => ({
      name,
      ...(p.workflow !== undefined ? { workflow: p.workflow } : {}),
      ...(p.workflowTemplate !== undefined ? { workflowTemplate: p.workflowTemplate } : {}),
      ...(p.queue !== undefined ? { queue: p.queue } : {}),
    }))
    .sort((a, b) => compare(a.name, b.name));

  return {
    ok: true,
    config: {
      pipelines,
      resources: resources.value,
      owners: [...(raw.owners ?? [])].sort(compare),
      viewers: [...(raw.viewers ?? [])].sort(compare),
    },
  };
}

/** The config a project gets from an empty request: no pipelines, no groups, policy defaults. */
export function defaultProjectConfig(policy: Policy): ProjectConfig {
  return { pipelines: [], resources: policy.defaults, owners: [], viewers: [] };
}

/** Every workflow file the config refers to, sorted and unique. */
export function workflowFiles(config: ProjectConfig): string[] {
  return [...new Set(config.pipelines.flatMap((p) => (p.workflow ? [p.workflow] : [])))].sort(compare);
}

type Resolved<T> = { ok: true; value: T } | { ok: false; problems: ConfigProblem[] };

function resolveResources(requested: NonNullable<RawConfig['resources']>, policy: Policy, document: ParsedYaml): Resolved<ResourceAmounts> {
  const problems: ConfigProblem[] = [];
  const problem = (resource: string, rule: string, message: string) => {
    const path = `/resources/${resource}`;
    problems.push({ file: document.file, path, ...document.locate(path), rule, message });
  };

  const quantity = (resource: 'cpu' | 'memory'): string => {
    const asked = requested[resource];
    if (asked === undefined) return policy.defaults[resource];
    const text = quantityText(asked);
    if (text === undefined) {
      problem(resource, 'pattern', `${JSON.stringify(String(asked))} is not a Kubernetes quantity such as 4, 500m or 8Gi`);
      return policy.defaults[resource];
    }
    const value = parseQuantity(text)!;
    if (value.num === 0n) {
      problem(resource, 'exclusiveMinimum', `${resource} must be more than 0`);
    } else if (compareQuantities(value, parseQuantity(policy.caps[resource])!) > 0) {
      problem(resource, 'policy-cap', capMessage(resource, text, policy.caps[resource]));
    }
    return text;
  };

  const cpu = quantity('cpu');
  const memory = quantity('memory');
  const pods = requested.pods ?? policy.defaults.pods;
  if (pods > policy.caps.pods) problem('pods', 'policy-cap', capMessage('pods', String(pods), String(policy.caps.pods)));

  return problems.length > 0 ? { ok: false, problems: problems.sort(byPosition) } : { ok: true, value: { cpu, memory, pods } };
}

const capMessage = (resource: string, asked: string, cap: string) =>
  `${resource} ${JSON.stringify(asked)} is above the cap of ${JSON.stringify(cap)} set by system policy (${POLICY_FILE}, caps.${resource}); ask for at most the cap`;

/** Code-point order, independent of locale: stable across machines and releases. */
export const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
