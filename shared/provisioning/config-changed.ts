// project.config-changed: a project's refs/meta/config moved (or the project was created), so its namespace
// — and the namespaces of the descendants that inherit its seakeeper.yaml — may need to change.
//
// 1. The event says which project and which revision (configChangeOf). An event whose revision is no longer
//    the head of refs/meta/config is superseded: a later event is on its way or was handled, and applying the
//    older config after it would undo it (Knative does not keep events in order, least of all retried ones).
// 2. The project's effective config is resolved with the project read at the event's revision and its
//    ancestors at their heads, then provisioned.
// 3. Every descendant whose inheritance walk passes through the project (it has no seakeeper.yaml of its own
//    between itself and the project) is resolved and provisioned again: a parent's change is theirs too.
// Outcome for delivery (docs/architecture.md, principle 3): an invalid config, or a namespace that is not
// ours, is permanent — logged and acknowledged; a namespace still being deleted, workflows still running
// before a deprovision, or any failed call is transient — retried. Descendants that wait for workflows are
// left to reconcile rather than holding the event.
import { resolveEffectiveConfig, type EffectiveConfig } from '../config/inheritance.js';
import { CONFIG_REF } from '../config/project-config.js';
import { mapWithConcurrency } from '../concurrency.js';
import { NotFoundError, PermanentError, shouldRetry, TransientError } from '../errors.js';
import type { InboundEvent } from '../events/handler.js';
import { parseGerritEvent } from '../events/gerrit-event.js';
import type { GerritApi } from '../gerrit/client.js';
import { GerritConfigReader, ZERO_REVISION } from './config-reader.js';
import type { Env } from '../env.js';
import { provisionerConfigFromEnv } from './env.js';
import { Provisioner, type ProjectSummary } from './provisioner.js';

export interface ConfigChange {
  readonly project: string;
  /** refs/meta/config's new commit (ZERO_REVISION: deleted); undefined for a new project: read the head. */
  readonly revision?: string;
}

/** The change an event announces: a ref-updated of refs/meta/config or a project-created. PermanentError otherwise. */
export function configChangeOf(event: InboundEvent): ConfigChange {
  const parsed = parseGerritEvent(event.data);
  if (!parsed.ok) throw new PermanentError(`event data is not a Gerrit event: ${parsed.reason}`);
  const gerrit = parsed.event;
  let change: ConfigChange;
  if (gerrit.kind === 'ref-updated' && gerrit.refUpdate.refName === CONFIG_REF) {
    change = { project: gerrit.project, revision: gerrit.refUpdate.newRev };
  } else if (gerrit.kind === 'project-created') {
    change = { project: gerrit.project };
  } else {
    const ref = gerrit.kind === 'ref-updated' ? ` of ${gerrit.refUpdate.refName}` : '';
    throw new PermanentError(`a Gerrit ${gerrit.type}${ref} does not change project configuration`);
  }
  const extension = event.gerritproject;
  if (extension !== undefined && extension !== change.project) {
    throw new PermanentError(`the event's gerritproject ${JSON.stringify(extension)} is not its data's project ${JSON.stringify(change.project)}`);
  }
  return change;
}

export type ConfigChangedGerrit = ConstructorParameters<typeof GerritConfigReader>[0] &
  Pick<GerritApi, 'getBranchRevision' | 'listChildProjects'>;

export interface ConfigChangedDeps {
  readonly gerrit: ConfigChangedGerrit;
  readonly provisioner: Provisioner;
  /** Descendants provisioned at once. */
  readonly concurrency: number;
}

export interface DescendantFailure {
  readonly project: string;
  readonly error: unknown;
}

export type ConfigChangeResult =
  | { readonly kind: 'superseded'; readonly project: string; readonly revision: string; readonly head: string }
  | {
      readonly kind: 'applied';
      readonly own: ProjectSummary;
      /** Descendants that inherit through the project, re-provisioned. */
      readonly descendants: readonly ProjectSummary[];
      readonly failures: readonly DescendantFailure[];
    };

export async function applyConfigChange(change: ConfigChange, deps: ConfigChangedDeps): Promise<ConfigChangeResult> {
  const { project, revision } = change;
  if (revision !== undefined && revision !== ZERO_REVISION) {
    const head = await deps.gerrit.getBranchRevision(project, CONFIG_REF);
    // No head: the project (or its refs/meta/config) is gone; provisioning will find that out and deprovision.
    if (head !== undefined && head !== revision) return { kind: 'superseded', project, revision, head };
  }
  const reader = new GerritConfigReader(deps.gerrit, revision === undefined ? {} : { pin: { project, revision } });
  const policy = deps.provisioner.policy;
  const own = await deps.provisioner.provision(await resolveEffectiveConfig(project, reader, policy));

  const children = revision === undefined ? [] : await descendantsOf(deps.gerrit, project);
  const results = await mapWithConcurrency(children, deps.concurrency, async (child) => {
    try {
      const effective = await resolveEffectiveConfig(child, reader, policy);
      return inheritsThrough(effective, project) ? await deps.provisioner.provision(effective) : undefined;
    } catch (error) {
      return { project: child, error } satisfies DescendantFailure;
    }
  });
  const descendants = results.filter((r): r is ProjectSummary => r !== undefined && 'outcome' in r);
  const failures = results.filter((r): r is DescendantFailure => r !== undefined && 'error' in r);
  return { kind: 'applied', own, descendants, failures };
}

/** Whether the project's config came through `ancestor` (its walk reached it), so that a change there is its change. */
function inheritsThrough(effective: EffectiveConfig, ancestor: string): boolean {
  return effective.kind !== 'missing-project' && effective.chain.includes(ancestor);
}

async function descendantsOf(gerrit: Pick<GerritApi, 'listChildProjects'>, project: string): Promise<string[]> {
  try {
    return (await gerrit.listChildProjects(project, { recursive: true })).map((p) => p.name).sort();
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    throw err;
  }
}

/**
 * The delivery outcome (docs/architecture.md, principle 3): throws what the handler's wrapper maps to ack or
 * retry, else returns the fields of the event's log line.
 */
export function settle(result: ConfigChangeResult): Record<string, unknown> {
  if (result.kind === 'superseded') return { result: 'superseded', revision: result.revision, head: result.head };
  const { own, descendants, failures } = result;
  const retryable = failures.filter((f) => shouldRetry(f.error));
  const fields = {
    namespace: own.namespace,
    result: own.outcome,
    writes: own.writes + descendants.reduce((n, d) => n + d.writes, 0),
    ...(own.conflicts.length > 0 ? { conflicts: own.conflicts } : {}),
    ...(descendants.length > 0 ? { descendants: countOutcomes(descendants) } : {}),
    // A permanent failure of a descendant (the API server refusing an object) is not retried: a human must look.
    ...(failures.length > retryable.length ? { failed: failures.filter((f) => !shouldRetry(f.error)).map(describeFailure) } : {}),
  };
  if (own.outcome === 'rejected' || (own.outcome === 'blocked' && !own.retryable)) {
    throw new PermanentError(`${own.project}: ${own.reason}`);
  }
  if (own.outcome === 'waiting' || own.outcome === 'blocked') throw new TransientError(`${own.project}: ${own.reason}`);
  if (retryable.length > 0) {
    throw new TransientError(`${retryable.length} inheriting project(s) failed, e.g. ${describeFailure(retryable[0]!)}`, { cause: retryable[0]!.error });
  }
  return fields;
}

export const describeFailure = (f: DescendantFailure): string => `${f.project}: ${f.error instanceof Error ? f.error.message : String(f.error)}`;

export function countOutcomes(summaries: readonly ProjectSummary[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of summaries) counts[s.outcome] = (counts[s.outcome] ?? 0) + 1;
  return counts;
}

/** The function's work, built once from the environment: parse the event, apply the change, settle the outcome. */
export class ProjectConfigChanged {
  constructor(readonly deps: ConfigChangedDeps) {}

  static fromEnv(env: Env = process.env): ProjectConfigChanged {
    const config = provisionerConfigFromEnv(env);
    return new ProjectConfigChanged({
      gerrit: config.gerrit,
      provisioner: new Provisioner(config.cluster, config.policy),
      concurrency: config.provisionConcurrency,
    });
  }

  async handle(event: InboundEvent): Promise<Record<string, unknown>> {
    return settle(await applyConfigChange(configChangeOf(event), this.deps));
  }
}
