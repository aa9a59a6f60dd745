// What a conversion did, as text for an operator: what was converted, the sets of accounts, the shared queues
// largest first, and every construct not carried over, grouped by kind with counts (the details follow the summary).
import { compare } from '../config/project-config.js';
import type { Conversion } from './conversion.js';
import { jobsIn } from './layout.js';

export interface Summary {
  readonly pipelines: number;
  readonly reserved: readonly string[];
  readonly projects: number;
  /** Distinct job names the projects run, through templates or their own lists. */
  readonly jobs: number;
  readonly templates: number;
  readonly templatesUsed: number;
  readonly queues: number;
  readonly notGrouped: readonly { readonly kind: string; readonly count: number }[];
}

export function summary(conversion: Conversion): Summary {
  const { layout } = conversion;
  const jobs = new Set<string>();
  const used = new Set<string>();
  for (const project of layout.projects) {
    for (const [pipeline, sources] of project.pipelines) {
      for (const job of jobsIn(project, pipeline)) jobs.add(job);
      for (const source of sources) if (source.kind === 'template') used.add(source.name);
    }
  }
  const counts = new Map<string, number>();
  for (const note of conversion.notes) counts.set(note.kind, (counts.get(note.kind) ?? 0) + 1);
  return {
    pipelines: conversion.pipelines.length,
    reserved: conversion.pipelines.filter((p) => p.reserved).map((p) => p.name),
    projects: conversion.projects.length,
    jobs: jobs.size,
    templates: layout.templates.size,
    templatesUsed: used.size,
    queues: conversion.queues.length,
    notGrouped: [...counts].map(([kind, count]) => ({ kind, count })).sort((a, b) => b.count - a.count || compare(a.kind, b.kind)),
  };
}

/** The summary alone: what the CLI prints. */
export function summaryText(conversion: Conversion): string {
  const s = summary(conversion);
  const lines = [
    `pipelines: ${s.pipelines} converted (${s.pipelines - s.reserved.length} live${s.reserved.length > 0 ? `; reserved, commented out: ${s.reserved.join(', ')}` : ''})`,
    `projects: ${s.projects}, each with a seakeeper.yaml`,
    `jobs: ${s.jobs} distinct, run by the projects (jobs: tunes ${conversion.layout.jobs.size} by name and more through ${conversion.layout.jobPatterns} patterns)`,
    `templates: ${s.templatesUsed} of ${s.templates} project-templates in use, each a WorkflowTemplate name`,
    `account sets: ${conversion.accounts.length}${conversion.accounts.length > 0 ? " (Zuul's email filters; a trigger names one in by:)" : ''}`,
    ...conversion.accounts.map((a) => `  ${a.name}: ${a.emails.length} ${a.emails.length === 1 ? 'pattern' : 'patterns'}, ${a.uses.length} ${a.uses.length === 1 ? 'trigger' : 'triggers'}${a.notice !== undefined ? ', with a notice' : ''}`),
    `shared queues: ${s.queues}${s.queues > 0 ? ' (largest first)' : ''}`,
    ...conversion.queues.map((q) => `  ${q.name} (${q.pipeline}): ${q.projects.length} projects, ${q.jobs} ${q.jobs === 1 ? 'job' : 'jobs'}`),
    `not carried over: ${conversion.notes.length}`,
    ...s.notGrouped.map((g) => `  ${g.count} × ${g.kind}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** report.txt: the summary, then every note. */
export function reportText(conversion: Conversion, layoutName: string): string {
  const details = [...conversion.notes]
    .sort((a, b) => compare(a.kind, b.kind) || compare(a.where, b.where))
    .map((note) => `[${note.kind}] ${note.where}: ${note.detail}`);
  return [`Zuul layout ${layoutName} converted for Seakeeper.`, '', summaryText(conversion), 'Details:', ...details, ''].join('\n');
}
