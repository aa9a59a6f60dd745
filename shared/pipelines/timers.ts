// Periodic runs (Zuul's timer trigger; the periodic jobs Jenkins ran): a pipeline with `event: timer` and a cron
// `schedule` runs, each time the schedule comes due, for every project whose seakeeper.yaml names it: on the
// project's default branch (HEAD), as Zuul v2 ran a timer once per project, or on each branch its `branches`
// include list names (MediaWiki core has a hundred wmf/ branches: every branch by default would be a hundred
// runs a night). The reconcile pass's PingSource is the clock: at each tick, the schedules that
// came due since the tick before (the window, TIMER_WINDOW_MINUTES, the PingSource's period) start their runs.
//
// Each run is a ref run (runs/ref-run.ts) of the branch's head at that moment, named from the pipeline, the time
// the schedule came due, the project and the branch: a tick delivered twice, or two reconcile passes at once,
// create each run once. A tick that never came (the function down) runs nothing for its window; the next due
// time runs as usual.
//
// Pure: dueTimers, timerTriggers, timerEventId. The shell, TimerPass, lists the projects, resolves their
// configurations as events do (config-source.ts), reads the branches of those that use a due pipeline, and starts
// the runs with the ref pipelines' plan (managers.ts planRefTrigger).
import { CronExpressionParser } from 'cron-parser';
import { createHash } from 'node:crypto';
import type { EffectiveConfig } from '../config/inheritance.js';
import type { Pipeline } from '../config/pipeline-config.js';
import type { Policy } from '../config/policy.js';
import type { ProjectConfig } from '../config/project-config.js';
import { mapWithConcurrency, reconcileConcurrencyEnv } from '../concurrency.js';
import type { GerritApi } from '../gerrit/client.js';
import type { BranchInfo } from '../gerrit/types.js';
import type { ClusterApi } from '../k8s/cluster.js';
import { log as processLog, type Logger } from '../log.js';
import { integer, loadEnv, withDefault, type Env } from '../env.js';
import { loadAll, pipelinesFromEnv, policyFromEnv, type SharedParts } from '../config/policy-env.js';
import { gerritClientFromEnv } from '../gerrit/env.js';
import { httpClusterFromEnv } from '../k8s/http-cluster.js';
import { EffectiveConfigCache, EventConfigReader, RevisionCache } from './config-source.js';
import { startRefRun } from './run-start.js';
import { COMMIT_SHA, namePasses, type RefTrigger } from './triggers.js';

/** The reconcile PingSource's period (knative/sources/gerrit-stream.yaml): a schedule due within it runs at its tick. */
export const DEFAULT_TIMER_WINDOW_MINUTES = 15;

/** A timer trigger of a pipeline that came due at `at`. */
export interface DueTimer {
  readonly pipeline: Pipeline;
  /** Index of the timer rule in pipeline.triggers. */
  readonly rule: number;
  readonly at: Date;
}

/** The timer triggers whose schedule came due in (tick − window, tick], the latest time of each. */
export function dueTimers(pipelines: readonly Pipeline[], tick: Date, windowMs: number): DueTimer[] {
  const due: DueTimer[] = [];
  for (const pipeline of pipelines) {
    pipeline.triggers.forEach((rule, index) => {
      if (rule.event !== 'timer' || rule.schedule === undefined) return;
      // prev() from just after the tick: the tick itself counts, the window's start does not.
      const last = CronExpressionParser.parse(rule.schedule, { tz: 'UTC', currentDate: new Date(tick.getTime() + 1) }).prev().toDate();
      if (last.getTime() > tick.getTime() - windowMs) due.push({ pipeline, rule: index, at: last });
    });
  }
  return due;
}

/**
 * The branches of the project a due timer runs on, at their heads: those its rule's `branches` let through, or,
 * with no include list, the default branch (Gerrit lists HEAD with the branch it points at as its revision).
 */
export function timerTriggers(due: DueTimer, project: string, config: ProjectConfig, branches: readonly BranchInfo[]): RefTrigger[] {
  const projectPipeline = config.pipelines.find((p) => p.name === due.pipeline.name);
  const rule = due.pipeline.triggers[due.rule];
  if (!projectPipeline || !rule) return [];
  const head = branches.find((b) => b.ref === 'HEAD')?.revision;
  // No include list means the default branch here, not namePasses' "any branch".
  const isDefault = (branch: string): boolean => branch === head || `refs/heads/${branch}` === head;
  const wanted = (branch: string): boolean => (rule.includeBranches.length > 0 || isDefault(branch)) && namePasses(branch, rule.includeBranches, rule.excludeBranches);
  return branches
    .filter((b) => b.ref.startsWith('refs/heads/') && COMMIT_SHA.test(b.revision))
    .map((b) => ({ ref: b.ref, branch: b.ref.slice('refs/heads/'.length), revision: b.revision }))
    .filter(({ branch }) => wanted(branch))
    .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0))
    .map(({ ref, branch, revision }) => ({
      pipeline: due.pipeline,
      projectPipeline,
      rule: due.rule,
      event: 'timer' as const,
      subject: { project, ref, branch, oldRevision: '', newRevision: revision },
      resources: config.resources,
    }));
}

/** The id a timer's run is named from: the same for the same due time, project and branch, however often it is asked. */
export function timerEventId(due: DueTimer, project: string, ref: string): string {
  const hash = createHash('sha256').update(JSON.stringify([due.pipeline.name, due.rule, due.at.toISOString(), project, ref]), 'utf8').digest('hex').slice(0, 40);
  return `timer-${hash}`;
}

export type TimerGerrit = Pick<GerritApi, 'listProjects' | 'listBranches' | 'getBranchRevision' | 'getFileContentAt' | 'getProjectParent' | 'getChange' | 'postReview'>;

export interface TimerPassDeps {
  readonly gerrit: TimerGerrit;
  readonly cluster: Pick<ClusterApi, 'create' | 'get' | 'patch'>;
  readonly policy: Policy;
  readonly pipelines: readonly Pipeline[];
  readonly logger: Logger;
  readonly windowMs: number;
  readonly concurrency: number;
}

export interface TimerSummary {
  /** `<pipeline> <due time>` of each timer that came due. */
  readonly due: readonly string[];
  readonly projects: number;
  readonly started: number;
  readonly existing: number;
  readonly refused: number;
  readonly failed: number;
}

export const timerEnv = {
  /** The reconcile PingSource's period, in minutes: a schedule due within it runs at its tick. */
  TIMER_WINDOW_MINUTES: withDefault(integer({ min: 1, max: 1440 }), DEFAULT_TIMER_WINDOW_MINUTES),
};

export class TimerPass {
  readonly #cache = new RevisionCache();
  readonly #effective: EffectiveConfigCache;

  constructor(readonly deps: TimerPassDeps) {
    this.#effective = new EffectiveConfigCache(deps.policy);
  }

  /** GERRIT_*, KUBECONFIG, SEAKEEPER_POLICY_FILE, SEAKEEPER_PIPELINES_FILE, TIMER_WINDOW_MINUTES, RECONCILE_CONCURRENCY. */
  static fromEnv(env: Env = process.env, shared: SharedParts = {}, logger: Logger = processLog): TimerPass {
    const [config, gerrit, cluster, policy, pipelines] = loadAll(
      () => loadEnv({ ...timerEnv, ...reconcileConcurrencyEnv }, env),
      () => shared.gerrit ?? gerritClientFromEnv(env),
      () => shared.cluster ?? httpClusterFromEnv(env),
      () => shared.policy ?? policyFromEnv(env),
      () => pipelinesFromEnv(env),
    );
    return new TimerPass({ gerrit, cluster, policy, pipelines, logger, windowMs: config.TIMER_WINDOW_MINUTES * 60_000, concurrency: config.RECONCILE_CONCURRENCY });
  }

  async run(tick: Date): Promise<TimerSummary> {
    const due = dueTimers(this.deps.pipelines, tick, this.deps.windowMs);
    const counts = { projects: 0, started: 0, existing: 0, refused: 0, failed: 0 };
    const summary = () => ({ due: due.map((d) => `${d.pipeline.name} ${d.at.toISOString()}`), ...counts });
    if (due.length === 0) return summary();
    const projects = (await this.deps.gerrit.listProjects('CODE')).map((p) => p.name);
    await mapWithConcurrency(projects, this.deps.concurrency, async (project) => {
      try {
        const reader = new EventConfigReader(this.deps.gerrit, this.#cache);
        const effective = await this.#effective.resolve(project, reader);
        if (effective.kind !== 'configured') return;
        const ours = due.filter((d) => effective.config.pipelines.some((p) => p.name === d.pipeline.name));
        if (ours.length === 0) return;
        counts.projects++;
        const branches = await this.deps.gerrit.listBranches(project);
        for (const timer of ours) {
          for (const trigger of timerTriggers(timer, project, effective.config, branches)) {
            const outcome = await this.#start(trigger, timerEventId(timer, project, trigger.subject.ref), effective, reader);
            counts[outcome]++;
          }
        }
      } catch (err) {
        counts.failed++;
        this.deps.logger.warn({ fn: 'timers', project, err: err instanceof Error ? err.message : String(err) }, 'periodic runs of the project failed; the next due time tries again');
      }
    });
    return summary();
  }

  async #start(trigger: RefTrigger, eventId: string, effective: Extract<EffectiveConfig, { kind: 'configured' }>, reader: EventConfigReader): Promise<'started' | 'existing' | 'refused'> {
    const { deps } = this;
    const outcome = await startRefRun({ gerrit: deps.gerrit, cluster: deps.cluster, logger: deps.logger }, trigger, eventId, effective, reader);
    if ('refused' in outcome) {
      deps.logger.warn({ fn: 'timers', project: trigger.subject.project, pipeline: trigger.pipeline.name, problems: outcome.refused.length }, 'a periodic run is refused by the workflow policy');
      return 'refused';
    }
    return outcome.started.created ? 'started' : 'existing';
  }

}
