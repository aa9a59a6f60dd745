// A Zuul v2 layout (zuul/layout.yaml) read into plain types: its pipelines as written, the queue names its `jobs:`
// section assigns, its project-templates, and each project's jobs per pipeline. Pure: text in, a layout or the
// reasons it is not one out. The layout is an operator's file, not a project owner's, so it is read with YAML 1.1
// merge keys (`<<: *anchor`, `!!merge : *anchor`), which Wikimedia's layout relies on, and with every alias it
// uses; it is never a Seakeeper configuration itself (docs/architecture.md, principle 4 is about those).
import { parse } from 'yaml';

/** A pipeline as the layout writes it; the converter reads its fields (pipelines.ts). */
export type ZuulPipeline = Readonly<Record<string, unknown>> & { readonly name: string };

export interface ZuulJobSettings {
  readonly name: string;
  /** Zuul v2's `queue-name`: the name of any shared gate queue the job is in. */
  readonly queueName?: string | undefined;
}

/** A `jobs:` entry's settings other than its name, for the report: the converter carries none but queue-name. */
export interface ZuulJobEntry {
  readonly name: string;
  readonly settings: readonly string[];
}

/** Where a project's jobs in one pipeline come from: a project-template, or the project's own list. */
export type JobSource =
  | { readonly kind: 'template'; readonly name: string; readonly jobs: readonly string[] }
  | { readonly kind: 'jobs'; readonly jobs: readonly string[] };

export interface ZuulProject {
  readonly name: string;
  /** Zuul pipeline name → the sources of its jobs, templates first in the order listed, then its own jobs. */
  readonly pipelines: ReadonlyMap<string, readonly JobSource[]>;
  /** Templates the project names that the layout does not define. */
  readonly unknownTemplates: readonly string[];
}

export interface ZuulLayout {
  readonly pipelines: readonly ZuulPipeline[];
  /** Exact job names (not `^` patterns) with their settings. */
  readonly jobs: ReadonlyMap<string, ZuulJobSettings>;
  /** How many `jobs:` entries are regular expressions (`^…`): they tune jobs, they add none. */
  readonly jobPatterns: number;
  /** Every `jobs:` entry, patterns included, in order. */
  readonly jobEntries: readonly ZuulJobEntry[];
  /** Template name → Zuul pipeline name → job names. */
  readonly templates: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
  readonly projects: readonly ZuulProject[];
}

export type LayoutResult = { ok: true; layout: ZuulLayout } | { ok: false; problems: string[] };

/** The most alias expansions a layout may cause; Wikimedia's uses a few thousand (its e-mail allowlist, 40 times). */
const MAX_ALIASES = 100_000;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Job names in a project's or template's pipeline list. Zuul v2 lists a job either by name or as a tree, `parent:
 * [children]`, the children running after the parent; every job in the tree is one of the pipeline's jobs.
 */
export function flattenJobs(tree: unknown): string[] {
  if (typeof tree === 'string') return [tree];
  if (Array.isArray(tree)) return tree.flatMap(flattenJobs);
  if (isRecord(tree)) return Object.entries(tree).flatMap(([parent, children]) => [parent, ...flattenJobs(children)]);
  return [];
}

/** Parses a Zuul v2 layout. Pure; never throws on bad input. */
export function parseLayout(text: string): LayoutResult {
  let document: unknown;
  try {
    document = parse(text, { merge: true, maxAliasCount: MAX_ALIASES, uniqueKeys: false });
  } catch (err) {
    return { ok: false, problems: [`not YAML: ${err instanceof Error ? err.message : String(err)}`] };
  }
  if (!isRecord(document)) return { ok: false, problems: ['a layout is a mapping with pipelines and projects'] };
  const problems: string[] = [];
  const list = (key: string): Record<string, unknown>[] => {
    const value = document[key] ?? [];
    if (!Array.isArray(value)) {
      problems.push(`${key}: a list is expected`);
      return [];
    }
    return value.filter((entry, i) => {
      const named = isRecord(entry) && typeof entry.name === 'string' && entry.name !== '';
      if (!named) problems.push(`${key}[${i}]: an entry with a name is expected`);
      return named;
    }) as Record<string, unknown>[];
  };

  const pipelines = list('pipelines') as ZuulPipeline[];
  if (pipelines.length === 0) problems.push('pipelines: the layout defines none');

  const jobs = new Map<string, ZuulJobSettings>();
  let jobPatterns = 0;
  const jobEntries: ZuulJobEntry[] = [];
  for (const job of list('jobs')) {
    const name = job.name as string;
    jobEntries.push({ name, settings: Object.keys(job).filter((key) => key !== 'name') });
    // Zuul v2 reads a name starting with '^' as a pattern over job names, and applies no queue-name through one.
    if (name.startsWith('^')) {
      jobPatterns += 1;
      continue;
    }
    const queueName = typeof job['queue-name'] === 'string' ? job['queue-name'] : undefined;
    jobs.set(name, { name, queueName });
  }

  const templates = new Map<string, Map<string, string[]>>();
  for (const template of list('project-templates')) {
    const byPipeline = new Map<string, string[]>();
    for (const [key, value] of Object.entries(template)) if (key !== 'name') byPipeline.set(key, flattenJobs(value));
    templates.set(template.name as string, byPipeline);
  }

  const projects = list('projects').map((project): ZuulProject => {
    const name = project.name as string;
    const sources = new Map<string, JobSource[]>();
    const add = (pipeline: string, source: JobSource) => sources.set(pipeline, [...(sources.get(pipeline) ?? []), source]);
    const unknownTemplates: string[] = [];
    const uses = Array.isArray(project.template) ? project.template : [];
    for (const use of uses) {
      const templateName = isRecord(use) ? use.name : use;
      if (typeof templateName !== 'string') continue;
      const template = templates.get(templateName);
      if (!template) {
        unknownTemplates.push(templateName);
        continue;
      }
      for (const [pipeline, jobNames] of template) if (jobNames.length > 0) add(pipeline, { kind: 'template', name: templateName, jobs: jobNames });
    }
    for (const [key, value] of Object.entries(project)) {
      if (key === 'name' || key === 'template') continue;
      const jobNames = flattenJobs(value);
      if (jobNames.length > 0) add(key, { kind: 'jobs', jobs: jobNames });
    }
    return { name, pipelines: sources, unknownTemplates };
  });

  const seen = new Set<string>();
  for (const project of projects) {
    if (seen.has(project.name)) problems.push(`projects: ${project.name} is listed twice`);
    seen.add(project.name);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, layout: { pipelines, jobs, jobPatterns, jobEntries, templates, projects } };
}

/** Every job name a project runs in a pipeline, from its templates and its own list, once each. */
export function jobsIn(project: ZuulProject, pipeline: string): string[] {
  return [...new Set((project.pipelines.get(pipeline) ?? []).flatMap((source) => source.jobs))];
}
