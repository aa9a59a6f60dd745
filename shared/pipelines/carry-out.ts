// The imperative shell of the pipelines (patchset-created, comment-added, wip-state-changed): fetch what the
// pure core asks for, ask it for a plan per triggered pipeline (managers.ts), carry the plan out.
//
//   1. parse the Gerrit event; one that can trigger no pipeline at all (most comments) is acknowledged at once
//   2. resolve the project's effective config (inheritance.ts), read at each project's refs/meta/config commit
//      and kept with those commits (config-source.ts); a project that is not `configured` runs nothing (an
//      invalid config is shown by the config check on refs/meta/config, and provisioning logs it)
//   2½. the facts the project's candidate rules need (triggers.ts, factsNeeded): the sets of accounts the
//      event's account is in (account-membership.ts), the change's current votes; then which pipelines trigger.
//      A patch set that a pipeline would have run for a member of its set, but not for this uploader, earns
//      the uploader one notice per change (uploader-notice.ts)
//   3. per triggered pipeline, fetch what its manager needs — the definition (a file of the project whose
//      seakeeper.yaml applies, named `<source>:<path>` when inherited, or a WorkflowTemplate in the namespace)
//      and the change's runs in that pipeline — and plan
//   4. carry out: start → create the run holding the start message's claim (AlreadyExists = a redelivery),
//      create its change ConfigMap owned by it while posting the start message (once however often the event
//      comes), stop the superseded runs; reject → stop the
//      superseded runs, post the rejection once per patchset (Verified -1, every problem located; claimed on
//      the change's rejection Lease); enqueue → the gate's shell (gate.ts); skip → log; not-implemented →
//      finish the other pipelines, then throw NotImplementedError so the event is not acknowledged. Every post
//      goes through reporting/post-once.ts. Before the triggers, an event that takes a change out of a gate
//      queue (a new patch set, closed, Code-Review +2 taken back) is handed to the gate too.
// Pipelines are carried out side by side; a failure of one is thrown after the others finished, and a
// redelivery redoes only what is missing (deterministic names, stop orders safe to repeat, reviews checked).
import type { EffectiveConfig } from '../config/inheritance.js';
import type { AccountSet, Pipeline } from '../config/pipeline-config.js';
import type { Policy } from '../config/policy.js';
import { loadAll, pipelinesFromEnv, policyFromEnv, type SharedParts } from '../config/policy-env.js';
import { httpUrl, loadEnv, optional, type Env } from '../env.js';
import { formatProblem } from '../config/yaml.js';
import { NotImplementedError, PermanentError, shouldRetry } from '../errors.js';
import { parseGerritEvent, type GerritEvent, type PatchsetCreatedEvent } from '../events/gerrit-event.js';
import type { ChangeInfo } from '../gerrit/types.js';
import { GERRIT_TYPE_PREFIX } from '../events/gerrit-cloudevents.js';
import type { InboundEvent, LogFields } from '../events/handler.js';
import type { GerritApi } from '../gerrit/client.js';
import { gerritClientFromEnv } from '../gerrit/env.js';
import { changeUrl, withSlash } from '../gerrit/refs.js';
import type { ClusterApi } from '../k8s/cluster.js';
import { systemNamespaceEnv } from '../k8s/env.js';
import { httpClusterFromEnv } from '../k8s/http-cluster.js';
import { log as processLog, type Logger } from '../log.js';
import { reviewAlreadyPosted, type ReviewPlan } from '../reporting/messages.js';
import { ChangeLeases, REJECTION_LEASE, rejectionMarker } from '../reporting/leases.js';
import { postOnce, type PostGerrit } from '../reporting/post-once.js';
import { CLOSING_TYPES, stopClosedChange } from './closed-change.js';
import { reviewField, startRefRun, startRun } from './run-start.js';
import { readDefinition } from './definitions.js';
import { DEPENDENCY_OPTIONS, MAX_TESTED_WITH, queuedChangeOf, resolveDependencies, testedWith } from './dependencies.js';
import { Gate, type GateOutcome } from './gate.js';
import { dequeueOf } from './gate-plan.js';
import { EffectiveConfigCache, EventConfigReader, RevisionCache } from './config-source.js';
import { managerFor, planTrigger, type ManagerNeeds, type Plan, type RefPlan, type RunDependencies } from './managers.js';
import { carryOutStops } from './stop-runs.js';
import { changeRefOf, eventAccount, eventCanTrigger, factsNeeded, noticeOwed, triggeredPipelines, triggeredRefPipelines, votesOf, type RefTrigger, type Trigger, type TriggerFacts } from './triggers.js';
import { AccountMembership } from './account-membership.js';
import { postUploaderNotice } from './uploader-notice.js';
import type { DefinitionInput } from './workflow-policy.js';
import type { LiveWorkflow } from '../runs/workflow.js';
import { listWorkflows } from '../runs/workflow-store.js';

/** The Gerrit event types these functions take (their CloudEvent types are `gerrit.<type>`). */
export const TRIGGERING_TYPES = ['patchset-created', 'comment-added', 'wip-state-changed'] as const;
/** …and patchset-created's, beside its own: a branch or tag that moved (ref pipelines: post, publish). */
const PATCHSET_CREATED_TYPES = ['patchset-created', 'wip-state-changed', 'ref-updated'] as const;

export type CarryOutGerrit = Pick<GerritApi, 'getBranchRevision' | 'getFileContentAt' | 'getProjectParent' | 'queryChanges' | 'getRelatedChanges' | 'listGroupMembers'> & PostGerrit;
export type CarryOutCluster = Pick<ClusterApi, 'create' | 'get' | 'list' | 'patch'>;

export interface CarryOutDeps {
  readonly gerrit: CarryOutGerrit;
  readonly cluster: CarryOutCluster;
  /** Where rejections are claimed (the system namespace's change Leases). */
  readonly leases: ChangeLeases;
  readonly policy: Policy;
  readonly pipelines: readonly Pipeline[];
  /** ARGO_UI_URL. */
  readonly argoUiUrl: string;
  /** GERRIT_URL: Depends-On footers name changes by their URL under it. */
  readonly gerritUrl: string;
  /** SEAKEEPER_GIT_URL of every run that tests dependencies (GERRIT_GIT_URL, else GERRIT_URL). */
  readonly gitUrl: string;
  /** Texts read at refs/meta/config commits, shared by every event of the process. */
  readonly cache: RevisionCache;
  /** Effective configs with the commits they were resolved at (made from `policy` when not given). */
  readonly effectiveConfigs?: EffectiveConfigCache;
  readonly logger?: Logger;
  /** The gate's shell: dependent pipelines' triggers, and the events that take a change out of a queue. */
  readonly gate?: Pick<Gate, 'enqueue' | 'dequeue'>;
  /** Group members kept between events (made from `gerrit` when not given). */
  readonly membership?: AccountMembership;
}

/** What happened to one triggered pipeline, for the event's log line. */
export interface PipelineOutcome {
  readonly pipeline: string;
  readonly action: Plan['action'] | RefPlan['action'];
  readonly workflow?: string;
  /** start: false when the Workflow already existed (a redelivery). */
  readonly created?: boolean;
  readonly stopped?: readonly string[];
  /**
   * The start message or the rejection: posted, not-voted, already-posted, in-progress (a twin delivery posts
   * it), stale (the patchset is no longer current), failed (logged), or why the run's start message is not due
   * (superseded, stopped, reported).
   */
  readonly review?: string;
  readonly reason?: string;
  readonly problems?: readonly string[];
  /** enqueue: what the gate did. */
  readonly gate?: GateOutcome;
}

/** The Gerrit event a CloudEvent carries, checked against the CloudEvent's type. PermanentError when malformed. */
export function gerritEventOf(event: InboundEvent, accepted: readonly string[]): GerritEvent {
  const parsed = parseGerritEvent(event.data);
  if (!parsed.ok) throw new PermanentError(`event data is not a Gerrit event: ${parsed.reason}`);
  const gerrit = parsed.event;
  if (event.type !== `${GERRIT_TYPE_PREFIX}${gerrit.type}`) {
    throw new PermanentError(`a CloudEvent of type ${event.type} carries a Gerrit ${gerrit.type}`);
  }
  if (!accepted.includes(gerrit.kind)) throw new PermanentError(`a Gerrit ${gerrit.type} is not handled here`);
  return gerrit;
}

export class CarryOut {
  readonly #effective: EffectiveConfigCache;
  readonly #membership: AccountMembership;

  constructor(readonly deps: CarryOutDeps) {
    this.#effective = deps.effectiveConfigs ?? new EffectiveConfigCache(deps.policy);
    this.#membership = deps.membership ?? new AccountMembership(deps.gerrit, deps.logger ?? processLog);
  }

  /**
   * GERRIT_* (the account that votes), KUBECONFIG, KUBERNETES_TIMEOUT_MS, SEAKEEPER_POLICY_FILE, ARGO_UI_URL,
   * SEAKEEPER_NAMESPACE (where rejections are claimed).
   */
  static fromEnv(env: Env = process.env, shared: SharedParts = {}): CarryOut {
    const [config, gerrit, cluster, policy, pipelines] = loadAll(
      () => loadEnv({ ARGO_UI_URL: httpUrl(), GERRIT_URL: httpUrl(), GERRIT_GIT_URL: optional(httpUrl()), ...systemNamespaceEnv }, env),
      () => shared.gerrit ?? gerritClientFromEnv(env),
      () => shared.cluster ?? httpClusterFromEnv(env),
      () => shared.policy ?? policyFromEnv(env),
      () => pipelinesFromEnv(env),
    );
    const leases = new ChangeLeases(cluster, config.SEAKEEPER_NAMESPACE);
    const cache = new RevisionCache();
    const effectiveConfigs = new EffectiveConfigCache(policy);
    const gate = Gate.fromEnv(env, { gerrit, cluster, policy }, { cache, effectiveConfigs });
    const gitUrl = withSlash(config.GERRIT_GIT_URL ?? config.GERRIT_URL);
    return new CarryOut({ gerrit, cluster, leases, policy, pipelines, argoUiUrl: config.ARGO_UI_URL, gerritUrl: config.GERRIT_URL, gitUrl, cache, effectiveConfigs, gate });
  }

  /** A gerrit.patchset-created, gerrit.wip-state-changed or gerrit.ref-updated CloudEvent. */
  async handle(event: InboundEvent): Promise<LogFields> {
    const gerrit = gerritEventOf(event, PATCHSET_CREATED_TYPES);
    const fields = await this.run(event.id, gerrit);
    if (gerrit.kind !== 'patchset-created') return fields;
    const dependents = await this.#rerunDependents(event.id, gerrit);
    return dependents.length > 0 ? { ...fields, dependents } : fields;
  }

  /**
   * A new patch set of a change that others depend on: their checks tested the one before, so each open change
   * whose check has it merged in (testedWith: its dependents through Depends-On, transitively, and the changes
   * stacked on those) is checked again on its current patch set, as if just uploaded (Zuul does the same); the
   * run of the old state is stopped as superseded, and so never reported. Past MAX_TESTED_WITH changes the rest
   * are left to the report's guard (a run whose dependencies moved on is not reported) and logged.
   */
  async #rerunDependents(eventId: string, event: PatchsetCreatedEvent): Promise<LogFields[]> {
    const { gerrit, gerritUrl } = this.deps;
    const changed = { project: event.project, _number: event.change.number, change_id: event.change.id ?? '' };
    const dependents = await testedWith(gerrit, changed, gerritUrl);
    const settled = await Promise.allSettled(
      dependents.changes.map(async (dependent) => ({ change: dependent._number, ...(await this.run(`${eventId}~dependent-${dependent._number}`, uploadedAgain(dependent, event, gerritUrl))) })),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const rerun: LogFields[] = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    return dependents.truncated ? [...rerun, { result: 'truncated', limit: MAX_TESTED_WITH }] : rerun;
  }

  /**
   * comment-added's events: a comment (`recheck`), or a change merged or abandoned (its runs are stopped); a merge
   * then starts the ref pipelines it triggers (postmerge), whose runs no closed change stops.
   */
  async handleChangeEvent(event: InboundEvent): Promise<LogFields> {
    const gerrit = gerritEventOf(event, ['comment-added', ...CLOSING_TYPES]);
    if (gerrit.kind === 'change-merged' || gerrit.kind === 'change-abandoned') {
      const stopped = await stopClosedChange(gerrit, this.deps);
      const left = await this.#leaveQueues(gerrit);
      const closed = left.length > 0 ? { ...stopped, gate: left } : stopped;
      if (gerrit.kind !== 'change-merged' || !eventCanTrigger(gerrit, this.deps.pipelines)) return closed;
      return { ...closed, merged: await this.run(event.id, gerrit, { leaveQueues: false }) };
    }
    return this.run(event.id, gerrit);
  }

  /** Whether the event takes a change out of a gate queue (a new patch set, closed, an approval removed). */
  #leaves(gerrit: GerritEvent): boolean {
    return this.deps.gate !== undefined && this.deps.pipelines.some((p) => p.manager === 'dependent' && dequeueOf(gerrit, p) !== undefined);
  }

  /** The event's dequeues, for the project's configuration (resolved now when not given). */
  async #leaveQueues(gerrit: GerritEvent, effective?: EffectiveConfig): Promise<GateOutcome[]> {
    const { gate } = this.deps;
    if (!gate || !this.#leaves(gerrit) || gerrit.kind === 'dropped-output') return [];
    const resolved = effective ?? (await this.#effective.resolve(gerrit.project, new EventConfigReader(this.deps.gerrit, this.deps.cache)));
    return resolved.kind === 'configured' ? gate.dequeue(gerrit, resolved.config) : [];
  }

  /** Steps 1–4 for a parsed event; `eventId` is the CloudEvent's (deterministic) id. `leaveQueues`: false when the caller took the change out of its queues already. */
  async run(eventId: string, gerrit: GerritEvent, { leaveQueues = true }: { leaveQueues?: boolean } = {}): Promise<LogFields> {
    const { deps } = this;
    const leaves = leaveQueues && this.#leaves(gerrit);
    if (!eventCanTrigger(gerrit, deps.pipelines) && !leaves) return { result: 'no-pipeline' };
    if (gerrit.kind === 'dropped-output') return { result: 'no-pipeline' };
    const reader = new EventConfigReader(deps.gerrit, deps.cache);
    const effective = await this.#effective.resolve(gerrit.project, reader);
    if (effective.kind !== 'configured') return { result: effective.kind, ...invalidFields(effective) };
    // First out of the queues: a new patch set's item leaves before anything about the new one is decided.
    const left = leaveQueues ? await this.#leaveQueues(gerrit, effective) : [];
    const gateFields = left.length > 0 ? { gate: left } : {};

    const facts = await this.#facts(gerrit, effective.config);
    const owed = noticeOwed(gerrit, deps.pipelines, effective.config, facts);
    const triggers = triggeredPipelines(gerrit, deps.pipelines, effective.config, facts);
    const refTriggers = triggeredRefPipelines(gerrit, deps.pipelines, effective.config, facts);
    const notice = owed ? { notice: await this.#notice(owed, gerrit) } : {};
    if (triggers.length === 0 && refTriggers.length === 0) return { result: left.length > 0 ? 'dequeued' : 'no-pipeline', config: effective.source, ...gateFields, ...notice };
    const settled = await Promise.allSettled([
      ...triggers.map((trigger) => this.#carryOut(trigger, eventId, effective, reader, gerrit)),
      ...refTriggers.map((trigger) => this.#carryOutRef(trigger, eventId, effective, reader)),
    ]);

    const outcomes = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    const fields: LogFields = { result: summary(outcomes, failures), pipelines: outcomes, ...gateFields, ...notice };
    // Retryable failures first: a redelivery may fix them, and not-implemented is retried anyway.
    const failure = failures.find((f) => shouldRetry(f) && !(f instanceof NotImplementedError)) ?? failures[0];
    if (failure !== undefined) {
      if (outcomes.length > 0) this.#logger.info({ fn: 'pipelines', eventId, ...fields }, 'pipelines carried out before a failure');
      throw failure;
    }
    const notImplemented = outcomes.find((o) => o.action === 'not-implemented');
    if (notImplemented) {
      this.#logger.info({ fn: 'pipelines', eventId, ...fields }, 'pipelines carried out before refusing');
      throw new NotImplementedError(notImplemented.reason ?? `pipeline ${notImplemented.pipeline}`);
    }
    return fields;
  }

  /** What the rules the event meets on its face need to be decided: set memberships, the change's votes. */
  async #facts(event: GerritEvent, config: Extract<EffectiveConfig, { kind: 'configured' }>['config']): Promise<TriggerFacts> {
    const needed = factsNeeded(event, this.deps.pipelines, config);
    const changeId = event.kind !== 'dropped-output' && 'change' in event && event.change ? `${event.project}~${event.change.number}` : undefined;
    const [memberOf, votes] = await Promise.all([
      needed.sets.length > 0 ? this.#membership.setsOf(eventAccount(event), needed.sets) : undefined,
      needed.votes && changeId ? this.deps.gerrit.getChange(changeId, ['DETAILED_LABELS']).then(votesOf) : undefined,
    ]);
    return { ...(memberOf ? { memberOf } : {}), ...(votes ? { votes } : {}) };
  }

  /** The notice owed to the uploader (noticeOwed), posted once per change. */
  async #notice(set: AccountSet, event: GerritEvent): Promise<string> {
    const change = event.kind === 'patchset-created' ? changeRefOf(event) : undefined;
    if (!change) return 'no-patchset';
    return postUploaderNotice({ gerrit: this.deps.gerrit, leases: this.deps.leases, logger: this.#logger }, set, change);
  }

  /** A ref pipeline's run (runs/ref-run.ts): created under its deterministic name, with its ConfigMap; nothing posted. */
  async #carryOutRef(trigger: RefTrigger, eventId: string, effective: Extract<EffectiveConfig, { kind: 'configured' }>, reader: EventConfigReader): Promise<PipelineOutcome> {
    const { deps } = this;
    const pipeline = trigger.pipeline.name;
    const outcome = await startRefRun({ gerrit: deps.gerrit, cluster: deps.cluster, logger: this.#logger }, trigger, eventId, effective, reader);
    if ('refused' in outcome) return { pipeline, action: 'refused', problems: outcome.refused.map(formatProblem) };
    const { ref, created } = outcome.started;
    return { pipeline, action: 'start', workflow: `${ref.namespace}/${ref.name}`, created };
  }


  async #carryOut(trigger: Trigger, eventId: string, effective: Extract<EffectiveConfig, { kind: 'configured' }>, reader: EventConfigReader, eventOf: GerritEvent): Promise<PipelineOutcome> {
    const { deps } = this;
    const needs = managerFor(trigger.pipeline).needs(trigger);
    const [definition, existing, dependencies] = await Promise.all([this.#definition(trigger, needs, effective, reader), this.#runs(needs), this.#dependencies(trigger, needs)]);
    const plan = planTrigger({ trigger, eventId, definition, existing, argoUiUrl: deps.argoUiUrl, ...(dependencies ? { dependencies } : {}) });
    const pipeline = plan.pipeline;

    switch (plan.action) {
      case 'start': {
        const started = await startRun(
          { gerrit: deps.gerrit, cluster: deps.cluster, logger: this.#logger },
          { workflow: plan.workflow, environment: plan.environment, start: plan.start, patchset: trigger.change.patchset },
        );
        const stopped = await carryOutStops(deps.cluster, plan.stop);
        const { ref } = started;
        return { pipeline, action: 'start', workflow: `${ref.namespace}/${ref.name}`, created: started.created, stopped, ...(started.review ? { review: started.review } : {}) };
      }
      case 'reject': {
        const stopped = await carryOutStops(deps.cluster, plan.stop);
        const review = await this.#postRejection(plan.review, trigger);
        return { pipeline, action: 'reject', stopped, review, problems: plan.problems.map(formatProblem) };
      }
      case 'enqueue': {
        if (!deps.gate || trigger.event !== 'comment-added' || eventOf.kind !== 'comment-added') {
          return { pipeline, action: 'not-implemented', reason: `pipeline ${pipeline} (manager dependent) takes Code-Review approvals only, through the gate` };
        }
        const outcome = await deps.gate.enqueue(trigger, eventId, eventOf);
        return { pipeline, action: 'enqueue', ...(outcome.reason ? { reason: outcome.reason } : {}), ...(outcome.review ? { review: outcome.review } : {}), gate: outcome };
      }
      case 'skip':
        return { pipeline, action: 'skip', reason: plan.reason };
      case 'not-implemented':
        return { pipeline, action: 'not-implemented', reason: plan.reason };
    }
  }

  async #definition(
    trigger: Trigger,
    needs: ManagerNeeds,
    effective: Extract<EffectiveConfig, { kind: 'configured' }>,
    reader: EventConfigReader,
  ): Promise<DefinitionInput | undefined> {
    const wanted = needs.definition;
    if (!wanted) return undefined;
    return readDefinition(this.deps.cluster, trigger.change.project, wanted, effective, reader);
  }

  /**
   * The change's open dependencies (Depends-On footers of its current patch set, open git parents), one Gerrit
   * query per level; the change itself last, at the trigger's patch set.
   */
  async #dependencies(trigger: Trigger, needs: ManagerNeeds): Promise<RunDependencies | undefined> {
    if (!needs.dependencies) return undefined;
    const { change } = trigger;
    const root = await this.deps.gerrit.getChange(`${change.project}~${change.number}`, DEPENDENCY_OPTIONS);
    const resolved = await resolveDependencies(this.deps.gerrit, root, this.deps.gerritUrl);
    const problems = resolved.problems.map((p) => p.reason);
    const self = { project: change.project, branch: change.branch, change: change.number, patchset: change.patchset, ref: change.ref, revision: change.revision };
    const ahead = (resolved.order ?? []).filter((c) => c._number !== change.number).map(queuedChangeOf);
    return { changes: [...ahead, self], ...(resolved.cycle ? { cycle: resolved.cycle } : {}), problems, gitUrl: this.deps.gitUrl };
  }

  /**
   * From the API server's watch cache: a consistent list waits for the cache whenever anything in the cluster
   * was just written (Argo writes all the time), and a run created a moment ago by a concurrent event is a race
   * a consistent list does not close either (the create's AlreadyExists and the stop orders' CAS do).
   */
  async #runs(needs: ManagerNeeds): Promise<LiveWorkflow[] | undefined> {
    return needs.runs ? listWorkflows(this.deps.cluster, needs.runs.namespace, needs.runs.selector, { fromCache: true }) : undefined;
  }

  /**
   * Once per patchset and pipeline, claimed on the change's rejection Lease; the change's messages, read first
   * anyway, show a rejection an earlier delivery posted. A patchset that is no longer current, or a change that
   * is closed, gets none (Gerrit refuses votes on them; a newer patchset has its own event).
   */
  async #postRejection(plan: ReviewPlan, trigger: Trigger): Promise<PipelineOutcome['review']> {
    const info = await this.deps.gerrit.getChange(plan.changeId, ['CURRENT_REVISION', 'MESSAGES']);
    if (info.status !== 'NEW' || info.current_revision !== trigger.change.revision) return 'stale';
    const messages = info.messages ?? [];
    if (reviewAlreadyPosted(messages, plan, trigger.change.patchset)) return 'already-posted';
    const { change } = trigger;
    const target = { project: change.project, change: change.number, revision: change.revision };
    const posted = await postOnce(
      this.deps.gerrit,
      {
        claim: () => this.deps.leases.claim(REJECTION_LEASE, rejectionMarker(trigger.pipeline.name), target),
        plan: () => plan,
        onChange: (found) => reviewAlreadyPosted(found, plan, change.patchset),
        messages,
      },
      this.#logger,
    );
    return reviewField(posted);
  }

  get #logger(): Logger {
    return this.deps.logger ?? processLog;
  }
}

function invalidFields(effective: EffectiveConfig): LogFields {
  if (effective.kind !== 'invalid') return {};
  return { config: effective.source, problems: effective.problems.slice(0, 5).map(formatProblem) };
}

function summary(outcomes: readonly PipelineOutcome[], failures: readonly unknown[]): string {
  if (failures.length > 0) return 'failed';
  const actions = new Set(outcomes.map((o) => o.action));
  if (actions.has('reject')) return 'rejected';
  if (actions.has('refused')) return 'refused';
  if (outcomes.some((o) => o.action === 'start' && o.created)) return 'started';
  if (actions.has('start')) return 'already-started';
  if (actions.has('not-implemented')) return 'not-implemented';
  if (actions.has('enqueue')) return 'gate';
  return 'skipped';
}

/** The patchset-created Gerrit would send for `change`'s current patch set, dated as the event that caused it. */
function uploadedAgain(change: ChangeInfo, cause: PatchsetCreatedEvent, gerritUrl: string): PatchsetCreatedEvent {
  const { patchset, ref, revision } = queuedChangeOf(change);
  return {
    kind: 'patchset-created',
    type: 'patchset-created',
    eventCreatedOn: cause.eventCreatedOn,
    project: change.project,
    raw: {},
    change: {
      project: change.project,
      branch: change.branch,
      id: change.change_id,
      number: change._number,
      subject: change.subject,
      url: changeUrl(gerritUrl, change.project, change._number),
      status: change.status,
      ...(change.work_in_progress ? { wip: true } : {}),
      ...(change.is_private ? { private: true } : {}),
    },
    patchSet: { number: patchset, revision, ref },
    // Who caused it: a pipeline that runs only for some uploaders runs the dependent again only for them.
    ...(cause.uploader ? { uploader: cause.uploader } : {}),
  };
}
