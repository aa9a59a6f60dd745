// workflow-completed, the shell — Prow's reporter: a pure `shouldReport` decides, the vote path posts, and
// "already reported" lives on the Workflow it is about.
//
//   1. read the Workflow the event names (the event is only a reference: a stale copy is never reported);
//      gone → done; a run of a dependent pipeline goes to its gate queue instead (deps.gate: pipelines/gate.ts)
//   2. reportPending (needs only the Workflow): not finished, superseded, stopped, reported → done
//   3. the change's state (one getChange with CURRENT_REVISION; a deleted change is not an error), then
//      shouldReport decides whether and which votes
//   4. postOnce (post-once.ts) with REPORT_MARKER on the Workflow: claim, check the change when the claim took
//      over an expired one, post buildReport's review on the revision that was tested, mark done. While the
//      run's start message is being posted (its claim is live) the report waits: a TransientError, retried.
//
// The reconcile pass sends completed Workflows whose report is pending through `report` too.
import { httpUrl, loadEnv, optional, type Env } from '../env.js';
import { loadAll, pipelinesFromEnv } from '../config/policy-env.js';
import { NotFoundError, NotImplementedError, PermanentError, TransientError } from '../errors.js';
import type { InboundEvent, LogFields } from '../events/handler.js';
import type { GerritApi } from '../gerrit/client.js';
import { gerritClientFromEnv } from '../gerrit/env.js';
import type { ChangeInfo } from '../gerrit/types.js';
import { httpClusterFromEnv } from '../k8s/http-cluster.js';
import { log as processLog, type Logger } from '../log.js';
import { findPipeline, type Pipeline } from '../config/pipeline-config.js';
import { argoWorkflowUrl, changeIdOf, runOf, safeText, STALE_BECAUSE_ANNOTATION, testedDependencies, type LiveWorkflow, type RunInfo } from '../runs/workflow.js';
import { patchWorkflow, readWorkflow, refOfWorkflow, workflowObject, type WorkflowCluster, type WorkflowRef } from '../runs/workflow-store.js';
import { heldMarker } from './claims.js';
import { WORKFLOW_COMPLETED_TYPE, workflowRefOf } from './completed-event.js';
import { liveClaim, REPORT_MARKER, START_MARKER } from './markers.js';
import { fill, resultName, RUN_LINE_FORMAT, type PostedMessage } from './messages.js';
import { postOnce, type PostGerrit } from './post-once.js';
import { buildReport, changeStateOf, movedDependencies, reportPending, shouldReport, type ChangeState, type Votes } from './report.js';

export const reporterEnv = {
  /** The Argo UI, for the links in reports. */
  ARGO_UI_URL: httpUrl(),
  /** Where artifacts are read by their S3 key; without it, artifacts link to the Argo UI. */
  ARTIFACT_BASE_URL: optional(httpUrl()),
};

export type ReporterGerrit = PostGerrit & Pick<GerritApi, 'queryChanges'>;

const START_IN_PROGRESS = 'start-message-in-progress';

export interface ReporterDeps {
  readonly gerrit: ReporterGerrit;
  readonly cluster: WorkflowCluster;
  readonly pipelines: readonly Pipeline[];
  readonly argoUiUrl: string;
  readonly artifactBaseUrl?: string | undefined;
  readonly now?: () => Date;
  readonly logger?: Logger;
  /** Where a finished run of a dependent pipeline goes instead of a report: its gate queue (pipelines/gate.ts). */
  readonly gate?: { finished(workflow: LiveWorkflow): Promise<LogFields> };
}

/**
 * Whether the change's messages hold this run's report on its patchset: its run line (RUN_LINE_FORMAT: the Argo
 * link and the result) under the pipeline's tag. The start message links the run too, but has no run line.
 */
export function reportOnChange(messages: readonly PostedMessage[], run: RunInfo, tag: string, url: string): boolean {
  const runLine = fill(RUN_LINE_FORMAT, { url, result: resultName(run.phase) }).split('{duration}')[0]!;
  return messages.some((m) => m.tag === tag && m._revision_number === run.patchset && m.message.includes(runLine));
}

export class Reporter {
  constructor(readonly deps: ReporterDeps) {}

  /**
   * GERRIT_* (the account that votes), KUBECONFIG, KUBERNETES_TIMEOUT_MS, ARGO_UI_URL, ARTIFACT_BASE_URL;
   * `cluster` when the caller has made one from the same environment already; `gate`, the gate queues'
   * shell, for runs of dependent pipelines.
   */
  static fromEnv(env: Env = process.env, cluster?: WorkflowCluster, gate?: ReporterDeps['gate']): Reporter {
    const [config, gerrit, workflows, pipelines] = loadAll(
      () => loadEnv(reporterEnv, env),
      () => gerritClientFromEnv(env),
      () => cluster ?? httpClusterFromEnv(env),
      () => pipelinesFromEnv(env),
    );
    return new Reporter({ gerrit, cluster: workflows, pipelines, argoUiUrl: config.ARGO_UI_URL, artifactBaseUrl: config.ARTIFACT_BASE_URL, ...(gate ? { gate } : {}) });
  }

  /** A workflow.completed CloudEvent. */
  async handle(event: InboundEvent): Promise<LogFields> {
    if (event.type !== WORKFLOW_COMPLETED_TYPE) throw new PermanentError(`workflow-completed does not take ${event.type} events`);
    const ref = workflowRefOf(event.data);
    if (!ref) throw new PermanentError('event data is not a reference to an argoproj.io/v1alpha1 Workflow');
    return this.report(ref);
  }

  /** Steps 1–6 for one Workflow; `current` saves the read when the caller has just listed it. */
  async report(ref: WorkflowRef, current?: LiveWorkflow): Promise<LogFields> {
    const { cluster, gerrit } = this.deps;
    const now = this.deps.now ?? (() => new Date());
    const workflow = `${ref.namespace}/${ref.name}`;

    const read = current ?? (await readWorkflow(cluster, ref));
    if (!read) return { result: 'gone', workflow };
    // A gate run is not reported on its own: its result goes into its queue, which decides the votes.
    const gateRun = runOf(read);
    if (gateRun && findPipeline(this.deps.pipelines, gateRun.pipeline)?.manager === 'dependent') {
      if (!this.deps.gate) throw new NotImplementedError(`reporting a run of pipeline ${gateRun.pipeline} (manager dependent) without its gate`);
      return this.deps.gate.finished(read);
    }
    const pending = reportPending(read, now());
    if (!pending.report) return { result: pending.reason, workflow };
    const { run } = pending;
    const stale = await this.#stale(read, run);
    if (stale) return { result: 'dependencies-moved', workflow, detail: stale };

    const change = await changeState(gerrit, changeIdOf(run));
    const decision = shouldReport(read, change, now());
    if (!decision.report) return { result: decision.reason, workflow };
    const pipeline = findPipeline(this.deps.pipelines, run.pipeline);
    if (!pipeline) throw new PermanentError(`${workflow}: pipeline ${JSON.stringify(run.pipeline)} is not in config/pipelines.yaml; its run cannot be reported`);
    if (pipeline.manager !== 'independent') throw new NotImplementedError(`reporting a run of pipeline ${pipeline.name} (manager ${pipeline.manager})`);

    const url = argoWorkflowUrl(this.deps.argoUiUrl, run.namespace, run.name);
    const posted = await postOnce(
      gerrit,
      {
        claim: () =>
          heldMarker(cluster, workflowObject(ref), read, REPORT_MARKER, (latest: LiveWorkflow) => {
            // The start message resets the vote: the report must come after it, never before.
            if (liveClaim(latest, START_MARKER, now()) !== undefined) return { act: false, reason: START_IN_PROGRESS };
            const again = shouldReport(latest, change, now());
            return again.report ? { act: true, phase: again.run.phase, value: { votes: again.votes, note: again.note } } : { act: false, reason: again.reason };
          }, now),
        plan: (claimed) =>
          buildReport(claimed.object, pipeline, { argoUiUrl: this.deps.argoUiUrl, artifactBaseUrl: this.deps.artifactBaseUrl, votes: claimed.value.votes, note: claimed.value.note }),
        onChange: (messages) => reportOnChange(messages, run, pipeline.tag, url),
      },
      this.#logger,
    );
    if (posted.result === 'not-claimed') {
      if (posted.reason === START_IN_PROGRESS) throw new TransientError(`${workflow}: its start message is being posted; the report follows it`);
      return { result: posted.reason, workflow };
    }
    const phase = posted.value.phase;
    const marker = posted.marker ? { marker: posted.marker } : {};
    if (posted.result === 'already-posted') return { result: 'already-reported', workflow, phase, ...marker };
    const { votes } = posted.value.value;
    return {
      result: 'reported',
      workflow,
      phase,
      votes: posted.voted ? posted.plan.review.labels : describeNoVote(votes, posted.why),
      ...(posted.notVoted ? { notVoted: posted.notVoted } : {}),
      ...marker,
    };
  }

  get #logger(): Logger {
    return this.deps.logger ?? processLog;
  }

  /**
   * Why the run's result speaks for a state that is gone (movedDependencies: a dependency it was tested with has
   * a newer patch set), recorded on the Workflow so that no later delivery asks again; undefined when it has
   * no dependencies or none moved on. One query for all of them.
   */
  async #stale(workflow: LiveWorkflow, run: RunInfo): Promise<string | undefined> {
    const tested = testedDependencies(run.dependencies);
    if (tested.length === 0) return undefined;
    const query = tested.map((d) => `change:${d.change}`).join(' OR ');
    const { changes } = await this.deps.gerrit.queryChanges(query, { options: ['CURRENT_REVISION'] });
    const moved = movedDependencies(tested, changes);
    if (moved.length === 0) return undefined;
    const why = `${moved.join('; ')}: the new patch set checks this change again`;
    await patchWorkflow(this.deps.cluster, refOfWorkflow(workflow), { metadata: { annotations: { [STALE_BECAUSE_ANNOTATION]: safeText(why) } } }, workflow.metadata.resourceVersion ?? '');
    return why;
  }
}

/** The change's state for shouldReport; undefined when Gerrit no longer has it. */
async function changeState(gerrit: ReporterGerrit, changeId: string): Promise<ChangeState | undefined> {
  let info: ChangeInfo;
  try {
    info = await gerrit.getChange(changeId, ['CURRENT_REVISION']);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  return changeStateOf(info);
}


const describeNoVote = (votes: Votes, why: string | undefined): string => why ?? (votes === 'none' ? 'withheld' : 'none');
