// Where a project's Workflow definition for a pipeline comes from: a file on refs/meta/config of the project
// whose seakeeper.yaml applies (named `<source>:<path>` when inherited), or a WorkflowTemplate in the project's
// namespace. Read at the commit the event's reader saw, so the config and the definition agree.
import type { EffectiveConfig } from '../config/inheritance.js';
import type { PipelineConfig } from '../config/project-config.js';
import type { ClusterApi, ClusterObject } from '../k8s/cluster.js';
import { namespaceFor, ARGO_API_VERSION, WORKFLOW_TEMPLATE_KIND } from '../names.js';
import type { EventConfigReader } from './config-source.js';
import type { DefinitionInput } from './workflow-policy.js';

export type Wanted = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'template'; readonly name: string };

/** What a project's pipeline entry names. */
export function wantedDefinition(entry: Pick<PipelineConfig, 'workflow' | 'workflowTemplate'>): Wanted {
  return entry.workflow !== undefined ? { kind: 'file', path: entry.workflow } : { kind: 'template', name: entry.workflowTemplate ?? '' };
}

export async function readDefinition(
  cluster: Pick<ClusterApi, 'get'>,
  project: string,
  wanted: Wanted,
  effective: Extract<EffectiveConfig, { kind: 'configured' }>,
  reader: EventConfigReader,
): Promise<DefinitionInput> {
  if (wanted.kind === 'file') {
    const file = effective.inherited ? `${effective.source}:${wanted.path}` : wanted.path;
    return { kind: 'file', file, text: await reader.readFile(effective.source, wanted.path) };
  }
  const object = await cluster.get<ClusterObject>(ARGO_API_VERSION, WORKFLOW_TEMPLATE_KIND, namespaceFor(project), wanted.name);
  return { kind: 'template', name: wanted.name, object };
}
