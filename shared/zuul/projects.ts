// Each Zuul project as a seakeeper.yaml (config/seakeeper.schema.json): the pipelines it takes part in, the
// WorkflowTemplate each runs, and its shared gate queue. Seakeeper runs one Workflow per pipeline per project,
// where Zuul ran every job a project's templates and own list named; so the Workflow is named after the
// project-template that contributes first (or after the first job, when only the project's own list does), and
// the other contributors are listed in a comment above it: whoever writes that WorkflowTemplate runs them all.
import { Document, isScalar, type YAMLMap } from 'yaml';
import type { JobSource, ZuulLayout, ZuulProject } from './layout.js';
import { workflowTemplateName } from './names.js';
import type { Note } from './notes.js';

export interface ProjectPipeline {
  /** Seakeeper's name. */
  readonly name: string;
  readonly zuulName: string;
  readonly workflowTemplate: string;
  readonly queue?: string | undefined;
  /** What Zuul ran there, for the comment. */
  readonly sources: readonly JobSource[];
  /** The pipeline is written commented out in pipelines.yaml (pipelines.ts, reserved). */
  readonly reserved: boolean;
}

export interface ConvertedProject {
  readonly name: string;
  /** In the layout's pipeline order. */
  readonly pipelines: readonly ProjectPipeline[];
}

export interface ProjectsInput {
  /** Zuul pipeline name → Seakeeper name, for the layout's pipelines. */
  readonly names: ReadonlyMap<string, string>;
  /** Zuul pipelines written commented out. */
  readonly reserved: ReadonlySet<string>;
  /** Zuul pipeline → project → shared queue. */
  readonly queueOf: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/** Converts every project. Pure. */
export function convertProjects(layout: ZuulLayout, input: ProjectsInput): { projects: ConvertedProject[]; notes: Note[] } {
  const notes: Note[] = [];
  const order = layout.pipelines.map((p) => p.name);
  const projects = layout.projects.map((project) => convertProject(project, order, input, notes));
  return { projects, notes };
}

function convertProject(project: ZuulProject, order: readonly string[], input: ProjectsInput, notes: Note[]): ConvertedProject {
  const where = `project ${project.name}`;
  for (const template of project.unknownTemplates) {
    notes.push({ kind: 'project: unknown template', where, detail: `template ${template} is not among the layout's project-templates; its jobs are unknown` });
  }
  for (const zuulName of project.pipelines.keys()) {
    if (!input.names.has(zuulName)) notes.push({ kind: 'project: unknown pipeline', where, detail: `pipeline ${zuulName} is not defined in the layout; its jobs are left out` });
  }
  const pipelines = order.flatMap((zuulName): ProjectPipeline[] => {
    const sources = project.pipelines.get(zuulName);
    if (!sources || sources.length === 0) return [];
    const template = sources.find((s) => s.kind === 'template');
    const chosen = template ? template.name : sources[0]!.jobs[0]!;
    const queue = input.queueOf.get(zuulName)?.get(project.name);
    return [
      {
        name: input.names.get(zuulName)!,
        zuulName,
        workflowTemplate: workflowTemplateName(chosen),
        ...(queue !== undefined ? { queue } : {}),
        sources,
        reserved: input.reserved.has(zuulName),
      },
    ];
  });
  return { name: project.name, pipelines };
}

const describe = (source: JobSource): string => (source.kind === 'template' ? `template ${source.name}` : `jobs ${source.jobs.join(', ')}`);

/**
 * The project's seakeeper.yaml. A reserved pipeline's entry is written commented out at the end, as the pipeline
 * is in pipelines.yaml: naming a pipeline the system does not have would be a config error waiting to happen.
 */
export function projectYaml(project: ConvertedProject, header: string): string {
  const live = project.pipelines.filter((p) => !p.reserved);
  const entry = (p: ProjectPipeline) => ({ workflowTemplate: p.workflowTemplate, ...(p.queue !== undefined ? { queue: p.queue } : {}) });
  const doc = new Document({ pipelines: Object.fromEntries(live.map((p) => [p.name, entry(p)])) });
  doc.commentBefore = ` ${project.name}: ${header}`;
  const map = doc.get('pipelines', true) as YAMLMap;
  if (project.pipelines.length === 0) map.comment = ' Zuul ran no jobs for this project';
  for (const item of map.items) {
    const pipeline = live.find((p) => isScalar(item.key) && item.key.value === p.name)!;
    if (isScalar(item.key)) item.key.commentBefore = sourceLines(pipeline).map((line) => ` ${line}`).join('\n');
  }
  let text = doc.toString({ lineWidth: 0 });
  for (const pipeline of project.pipelines.filter((p) => p.reserved)) {
    const lines = [
      ...sourceLines(pipeline),
      `${pipeline.name} is reserved (commented out in pipelines.yaml, which says why): uncomment it with the pipeline`,
      ...new Document({ [pipeline.name]: entry(pipeline) }).toString({ lineWidth: 0 }).trimEnd().split('\n'),
    ];
    text += lines.map((line) => `  # ${line}\n`).join('');
  }
  return text;
}

function sourceLines(pipeline: ProjectPipeline): string[] {
  const lines = [`Zuul ${pipeline.zuulName}: ${pipeline.sources.map(describe).join('; ')}`];
  if (pipeline.sources.length > 1) lines.push(`one Workflow per pipeline: ${pipeline.workflowTemplate} runs what all of them ran`);
  return lines;
}
