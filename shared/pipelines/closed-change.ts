// A change that was merged or abandoned has no use for the runs still going: each is stopped (Argo's
// `spec.shutdown: Terminate`) and marked `seakeeper.dev/stopped-because`, so it is never reported
// (shouldReport: stopped). An abandoned change is looked up first: if it was restored meanwhile (Knative
// does not keep events in order), its runs are the restored change's and are left alone.
import { NotFoundError } from '../errors.js';
import type { ChangeAbandonedEvent, ChangeMergedEvent } from '../events/gerrit-event.js';
import type { LogFields } from '../events/handler.js';
import type { GerritApi } from '../gerrit/client.js';
import { namespaceFor } from '../names.js';
import { closedChangeStops } from './runs.js';
import { carryOutStops } from './stop-runs.js';
import { changeRunsSelector } from '../runs/workflow.js';
import { listWorkflows, type WorkflowCluster } from '../runs/workflow-store.js';
import type { ClusterApi } from '../k8s/cluster.js';

export const CLOSING_TYPES = ['change-merged', 'change-abandoned'] as const;

export interface ClosedChangeDeps {
  readonly gerrit: Pick<GerritApi, 'getChange'>;
  readonly cluster: WorkflowCluster & Pick<ClusterApi, 'list'>;
}

export async function stopClosedChange(event: ChangeMergedEvent | ChangeAbandonedEvent, deps: ClosedChangeDeps): Promise<LogFields> {
  const { project } = event;
  const number = event.change.number;
  if (event.kind === 'change-abandoned') {
    const status = await deps.gerrit.getChange(`${project}~${number}`).then(
      (info) => info.status,
      (err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      },
    );
    if (status === 'NEW') return { result: 'restored' };
  }
  const reason = event.kind === 'change-merged' ? 'change merged' : 'change abandoned';
  const runs = await listWorkflows(deps.cluster, namespaceFor(project), changeRunsSelector(project, number));
  const stopped = await carryOutStops(deps.cluster, closedChangeStops(runs, { project, number }, reason));
  return { result: stopped.length > 0 ? 'stopped' : 'nothing-running', stopped };
}
