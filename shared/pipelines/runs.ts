// Superseded runs. A new run of a change in a pipeline replaces the runs of that change in that pipeline
// that are still going: those of older patchsets, and an older run of the same patchset (a `recheck` while it
// runs: Prow's "a job superseded by a newer run of itself"). They are stopped with Argo's
// `spec.shutdown: Terminate`, and marked `seakeeper.dev/superseded-by: <new run>` in the same patch, which is
// what keeps them from ever being reported (shouldReport). Pure.
//
// The other way round: an event for a patchset older than one that already has runs is stale (a late
// redelivery, a `recheck` on an old patchset) and starts nothing (newerRun).
//
// A change that is merged or abandoned stops all its runs that are still going, in every pipeline
// (closedChangeStops), marked `seakeeper.dev/stopped-because`: they are never reported either.
//
// The stop orders may be carried out whether the create created the run or found it (AlreadyExists): a
// redelivery then finishes stops an earlier delivery could not, and never stops a run newer than its own.
import { isCompletedPhase, runOf, STOPPED_BECAUSE_ANNOTATION, SUPERSEDED_BY_ANNOTATION, type LiveWorkflow, type RunInfo } from '../runs/workflow.js';

/** The run about to be started. */
export interface NewRun {
  readonly pipeline: string;
  readonly change: number;
  readonly patchset: number;
  /** Its deterministic name: a run of that name is the new run itself (a redelivery), never stopped. */
  readonly name: string;
}

/** A JSON merge patch for one Workflow; apply it at `resourceVersion` (ClusterApi.patch). */
export interface StopOrder {
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: string | undefined;
  readonly patch: {
    readonly metadata: { readonly annotations: Readonly<Record<string, string>> };
    readonly spec: { readonly shutdown: 'Terminate' };
  };
}

function sameSeries(run: RunInfo, next: NewRun): boolean {
  return run.pipeline === next.pipeline && run.change === next.change;
}

/** Whether the run is still going and nobody has stopped it yet. */
export function isActive(run: RunInfo): boolean {
  return !isCompletedPhase(run.phase) && run.shutdown === undefined;
}

export interface StopOptions {
  /** Also stop other active runs of the same patchset (default true: the new run replaces them). */
  readonly samePatchset?: boolean;
}

const createdAt = (workflow: LiveWorkflow | undefined): number | undefined => {
  const at = workflow?.metadata.creationTimestamp;
  const ms = at === undefined ? NaN : new Date(at).getTime();
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * The runs the new one supersedes, oldest patchset first, each with its stop patch. Safe to carry out again
 * when the new run already exists (a redelivery, or a retry after a failed stop): a run of the same patchset
 * created after it (a later recheck) is left alone.
 */
export function runsToStop(existing: readonly LiveWorkflow[], next: NewRun, options: StopOptions = {}): StopOrder[] {
  const samePatchset = options.samePatchset ?? true;
  const self = createdAt(existing.find((w) => w.metadata.name === next.name));
  const orders: Array<{ run: RunInfo; order: StopOrder }> = [];
  for (const workflow of existing) {
    const run = runOf(workflow);
    if (!run || !sameSeries(run, next) || !isActive(run) || run.name === next.name) continue;
    if (run.patchset > next.patchset) continue;
    if (run.patchset === next.patchset) {
      if (!samePatchset) continue;
      const created = createdAt(workflow);
      // The new run exists already: only runs created before it are older (within a second: leave it).
      if (self !== undefined && (created === undefined || created >= self)) continue;
    }
    orders.push({ run, order: stopOrder(workflow, next.name) });
  }
  return orders.sort((a, b) => a.run.patchset - b.run.patchset || (a.run.name < b.run.name ? -1 : 1)).map((o) => o.order);
}

/** The patch that stops a run for `supersededBy`. */
export function stopOrder(workflow: LiveWorkflow, supersededBy: string): StopOrder {
  return terminate(workflow, SUPERSEDED_BY_ANNOTATION, supersededBy);
}

/** The patch that stops a run because its change closed (`reason`: e.g. `change merged`). */
export function closeOrder(workflow: LiveWorkflow, reason: string): StopOrder {
  return terminate(workflow, STOPPED_BECAUSE_ANNOTATION, reason);
}

function terminate(workflow: LiveWorkflow, annotation: string, value: string): StopOrder {
  return {
    namespace: workflow.metadata.namespace ?? '',
    name: workflow.metadata.name,
    resourceVersion: workflow.metadata.resourceVersion,
    patch: { metadata: { annotations: { [annotation]: value } }, spec: { shutdown: 'Terminate' } },
  };
}

/** The runs of `change` (any pipeline) still going, each with the patch that stops it for `reason`; by name. */
export function closedChangeStops(existing: readonly LiveWorkflow[], change: { readonly project: string; readonly number: number }, reason: string): StopOrder[] {
  return existing
    .filter((workflow) => {
      const run = runOf(workflow);
      return run !== undefined && run.project === change.project && run.change === change.number && isActive(run);
    })
    .map((workflow) => closeOrder(workflow, reason))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The newest patchset with a run in the same pipeline, when it is newer than the event's: the event is stale. */
export function newerRun(existing: readonly LiveWorkflow[], next: Omit<NewRun, 'name'>): number | undefined {
  let newest: number | undefined;
  for (const workflow of existing) {
    const run = runOf(workflow);
    if (!run || run.pipeline !== next.pipeline || run.change !== next.change) continue;
    if (run.patchset > next.patchset && (newest === undefined || run.patchset > newest)) newest = run.patchset;
  }
  return newest;
}
