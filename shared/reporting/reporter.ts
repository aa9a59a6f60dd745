// workflow-completed, the shell — Prow's reporter: a pure `shouldReport` decides, one `report` acts, and
// "already reported" lives on the Workflow it is about.
//
//   1. read the Workflow the event names (the event is only a reference: a stale copy is never reported);
//      gone → done
//   2. reportPending (needs only the Workflow): not finished, superseded, stopped, reported → done
//   3. the change's state (one getChange with CURRENT_REVISION; a deleted change is not an error), then
//      shouldReport decides whether and which votes; the pipeline's manager must be able to report
//      (dependent: NotImplementedError, so the event is not acknowledged)
//   4. claim REPORT_MARKER (CAS; a concurrent delivery that loses sees the claim and stops)
//   5. buildReport and post it on the revision that was tested (review.ts: a vote Gerrit refuses with 403 is
//      posted again as the message alone); Gerrit failing → release the claim and throw (retried)
//   6. mark done
// A claim older than CLAIM_TTL_MS means a delivery died between 4 and 6, maybe after posting: before posting
// again, the change's messages are read, and a report of this run on that patchset counts as posted.
//
// The reconcile pass sends completed Workflows whose report is pending through `report` too.
import { httpUrl, loadEnv, optional, type Env } from '../env.js';
import { loadAll } from '../config/policy-env.js';
import { NotFoundError, NotImplementedError, PermanentError } from '../errors.js';
import type { InboundEvent, LogFields } from '../events/handler.js';
import type { GerritApi } from '../gerrit/client.js';
import { gerritClientFromEnv } from '../gerrit/env.js';
import type { ChangeInfo } from '../gerrit/types.js';
import { httpClusterFromEnv } from '../k8s/http-cluster.js';
import { log as processLog, type Logger } from '../log.js';
import { findPipeline, loadPipelines, type Pipeline } from '../config/pipeline-config.js';
import { argoWorkflowUrl, changeIdOf, type LiveWorkflow, type RunInfo } from '../runs/workflow.js';
import { readWorkflow, refOfWorkflow, workflowObject, type WorkflowCluster, type WorkflowRef } from '../runs/workflow-store.js';
import { claimMarker, markDone, releaseClaim } from './claims.js';
import { WORKFLOW_COMPLETED_TYPE, workflowRefOf } from './completed-event.js';
import { REPORT_MARKER } from './markers.js';
import { fill, resultName, RUN_LINE_FORMAT, type PostedMessage } from './messages.js';
import { buildReport, changeStateOf, reportPending, shouldReport, type ChangeState, type Votes } from './report.js';
import { postReviewPlan } from './review.js';

export const reporterEnv = {
  /** The Argo UI, for the links in reports. */
  ARGO_UI_URL: httpUrl(),
  /** Where artifacts are read by their S3 key; without it, artifacts link to the Argo UI. */
  ARTIFACT_BASE_URL: optional(httpUrl()),
};

export type ReporterGerrit = Pick<GerritApi, 'getChange' | 'postReview'>;

export interface ReporterDeps {
  readonly gerrit: ReporterGerrit;
  readonly cluster: WorkflowCluster;
  readonly pipelines: readonly Pipeline[];
  readonly argoUiUrl: string;
  readonly artifactBaseUrl?: string | undefined;
  readonly now?: () => Date;
  readonly logger?: Logger;
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
   * `cluster` when the caller has made one from the same environment already.
   */
  static fromEnv(env: Env = process.env, cluster?: WorkflowCluster): Reporter {
    const [config, gerrit, workflows, pipelines] = loadAll(
      () => loadEnv(reporterEnv, env),
      () => gerritClientFromEnv(env),
      () => cluster ?? httpClusterFromEnv(env),
      () => loadPipelines(),
    );
    return new Reporter({ gerrit, cluster: workflows, pipelines, argoUiUrl: config.ARGO_UI_URL, artifactBaseUrl: config.ARTIFACT_BASE_URL });
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
    const pending = reportPending(read, now());
    if (!pending.report) return { result: pending.reason, workflow };
    const { run } = pending;

    const change = await changeState(gerrit, changeIdOf(run));
    const decision = shouldReport(read, change, now());
    if (!decision.report) return { result: decision.reason, workflow };
    const pipeline = findPipeline(this.deps.pipelines, run.pipeline);
    if (!pipeline) throw new PermanentError(`${workflow}: pipeline ${JSON.stringify(run.pipeline)} is not in config/pipelines.yaml; its run cannot be reported`);
    if (pipeline.manager !== 'independent') throw new NotImplementedError(`reporting a run of pipeline ${pipeline.name} (manager ${pipeline.manager})`);

    const claim = await claimMarker(cluster, workflowObject(ref), read, REPORT_MARKER, (latest: LiveWorkflow) => {
      const again = shouldReport(latest, change, now());
      return again.report ? { act: true, phase: again.run.phase, value: { votes: again.votes, note: again.note } } : { act: false, reason: again.reason };
    }, now);
    if (!claim.claimed) return { result: claim.reason, workflow };
    const { votes, note } = claim.value;

    const url = argoWorkflowUrl(this.deps.argoUiUrl, run.namespace, run.name);
    if (this.#staleClaim(claim.decidedOn, claim.phase) && reportOnChange(await messagesOf(gerrit, changeIdOf(run)), run, pipeline.tag, url)) {
      await this.#done(claim.object, claim.phase, workflow);
      return { result: 'already-reported', workflow, phase: claim.phase };
    }

    const plan = buildReport(claim.object, pipeline, { argoUiUrl: this.deps.argoUiUrl, artifactBaseUrl: this.deps.artifactBaseUrl, votes, note });
    let posted;
    try {
      posted = await postReviewPlan(gerrit, plan);
    } catch (err) {
      await releaseClaim(cluster, workflowObject(ref), claim.object, REPORT_MARKER, claim.token, this.#logger);
      throw err;
    }
    const fields: LogFields = {
      result: 'reported',
      workflow,
      phase: claim.phase,
      votes: posted.voted ? plan.review.labels : describeNoVote(votes, 'notVoted' in posted ? posted.why : undefined),
      ...('notVoted' in posted ? { notVoted: posted.notVoted } : {}),
    };
    if ('notVoted' in posted) this.#logger.warn({ fn: 'workflow-completed', workflow, notVoted: posted.notVoted, why: posted.why }, 'reported without the vote');
    return { ...fields, ...(await this.#done(claim.object, claim.phase, workflow)) };
  }

  /** Whether the Workflow, before this delivery claimed it, held a claim for this phase that had expired. */
  #staleClaim(decidedOn: LiveWorkflow, phase: string): boolean {
    return decidedOn.metadata.annotations?.[REPORT_MARKER.claim]?.startsWith(`${phase} `) === true;
  }

  async #done(claimed: LiveWorkflow, phase: string, workflow: string): Promise<LogFields> {
    try {
      await markDone(this.deps.cluster, workflowObject(refOfWorkflow(claimed)), claimed, REPORT_MARKER, phase);
      return {};
    } catch (err) {
      // Posted: a retry would find the claim and stop. Once it expires, the next delivery (or reconcile) reads
      // the change's messages, finds this report and records the marker instead of posting again.
      this.#logger.error({ fn: 'workflow-completed', workflow, err }, 'reported, but the done marker was not recorded');
      return { marker: 'not-recorded' };
    }
  }

  get #logger(): Logger {
    return this.deps.logger ?? processLog;
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

async function messagesOf(gerrit: ReporterGerrit, changeId: string): Promise<PostedMessage[]> {
  return (await gerrit.getChange(changeId, ['MESSAGES'])).messages ?? [];
}

const describeNoVote = (votes: Votes, why: string | undefined): string => why ?? (votes === 'none' ? 'withheld' : 'none');
