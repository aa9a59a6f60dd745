// A whole Zuul v2 layout converted: pipelines, projects, shared queues and the system policy's entries for them,
// and the files `npm run import-zuul` writes. Pure: the CLI (import-cli.ts) reads and writes.
import { Document } from 'yaml';
import { compare } from '../config/project-config.js';
import type { Conversion } from './conversion.js';
import { parseLayout, type ZuulLayout } from './layout.js';
import type { Note } from './notes.js';
import { convertPipelines, pipelinesYaml } from './pipelines.js';
import { convertProjects, projectYaml } from './projects.js';
import { sharedQueues, sharedQueuesPolicy } from './queues.js';
import { reportText } from './report.js';

export type { Conversion };

export type ConversionResult = { ok: true; conversion: Conversion } | { ok: false; problems: string[] };

/** Converts a layout's text. Pure. */
export function convertLayoutText(text: string): ConversionResult {
  const parsed = parseLayout(text);
  return parsed.ok ? { ok: true, conversion: convertLayout(parsed.layout) } : parsed;
}

export function convertLayout(layout: ZuulLayout): Conversion {
  const converted = convertPipelines(layout);
  const dependent = converted.pipelines.filter((p) => p.zuulDependent).map((p) => p.zuulName);
  const queues = sharedQueues(layout, dependent);
  const projects = convertProjects(layout, {
    names: converted.names,
    reserved: new Set(converted.pipelines.filter((p) => p.reserved).map((p) => p.zuulName)),
    queueOf: queues.queueOf,
  });
  const policy = sharedQueuesPolicy(
    queues.queues,
    layout.projects.map((p) => p.name),
  );
  return {
    layout,
    pipelines: converted.pipelines,
    accounts: converted.accounts,
    projects: projects.projects,
    queues: queues.queues,
    policy,
    notes: [...converted.notes, ...queues.notes, ...projects.notes, ...jobNotes(layout)],
  };
}

/**
 * `jobs:` tunes Jenkins jobs (voting, files, branches, mutexes, messages): none of it is a pipeline's or a
 * project's setting in Seakeeper, where the WorkflowTemplate decides what runs. Only queue-name is used (queues.ts).
 */
function jobNotes(layout: ZuulLayout): Note[] {
  return layout.jobEntries.flatMap((job) =>
    job.settings
      .filter((key) => key !== 'queue-name' || job.name.startsWith('^'))
      .map((key) => ({
        kind: `job: ${key}`,
        where: `job ${job.name}`,
        detail: `${key} not carried over: in Seakeeper the project's WorkflowTemplate decides what runs and how`,
      })),
  );
}

/** Where a project's seakeeper.yaml goes under OUTDIR; undefined for a name that is no safe relative path. */
export function projectPath(project: string): string | undefined {
  const segments = project.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0'))) return undefined;
  return `projects/${project}/seakeeper.yaml`;
}

const SOURCE = 'converted by npm run import-zuul from a Zuul v2 layout';

/** Every file `npm run import-zuul` writes, by path under OUTDIR, in a stable order. */
export function outputFiles(conversion: Conversion, layoutName: string): Map<string, string> {
  const files = new Map<string, string>();
  const reserved = conversion.pipelines.some((p) => p.reserved);
  files.set('pipelines.yaml', pipelinesYaml(conversion.pipelines, pipelinesHeader(layoutName, reserved), conversion.accounts));
  for (const project of conversion.projects) {
    const path = projectPath(project.name);
    if (path) files.set(path, projectYaml(project, `${SOURCE} (${layoutName})`));
  }
  files.set('policy-shared-queues.yaml', policySnippet(conversion));
  files.set('report.txt', reportText(conversion, layoutName));
  return files;
}

function pipelinesHeader(layoutName: string, reserved: boolean): string {
  return [
    ` Seakeeper's pipelines, ${SOURCE} (${layoutName}); replaces config/pipelines.yaml.`,
    ' Every Zuul pipeline is here under its Seakeeper name; a comment says what of it was not carried over and why.',
    ...(reserved ? [' Pipelines whose triggers Seakeeper does not have yet follow, commented out: their names are reserved.'] : []),
    " Last, accounts: the sets of accounts triggers name in by: (Zuul's email filters).",
    ' Zuul precedence → priorityClass (knative/cluster/priorityclasses.yaml): high → seakeeper-gate,',
    ' normal → seakeeper-check, low → seakeeper-periodic.',
  ].join('\n');
}

/** `sharedQueues:` for config/policy.yaml, each queue with a comment naming its pipelines and size. */
export function policySnippet(conversion: Conversion): string {
  const doc = new Document({ sharedQueues: conversion.policy });
  doc.commentBefore = [
    ` The system policy's sharedQueues for the gate queues Zuul v2 shared (${SOURCE}).`,
    ' Merge into config/policy.yaml: each queue, with the projects that may name it in queue:.',
  ].join('\n');
  const map = doc.get('sharedQueues', true) as { items: { key: { value: unknown; commentBefore?: string } }[] };
  for (const item of map.items) {
    const of = conversion.queues.filter((q) => q.name === item.key.value);
    item.key.commentBefore = ` ${of.map((q) => `${q.pipeline}: ${q.projects.length} projects`).sort(compare).join(', ')}`;
  }
  return doc.toString({ lineWidth: 0 });
}
