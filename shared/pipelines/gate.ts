// The gate's imperative shell (Zuul's dependent pipeline manager, around the pure core change-queue.ts): each
// event becomes one queue event stored by compare-and-swap (queue-store.ts), and the actions the decision
// owes are carried out afterwards, each idempotent (docs/architecture.md, "ChangeQueues"):
//
//   comment-added with a gate trigger  eligibility (gate-eligibility.ts) → enqueue, with the approved chain
//                                      built on it that waited for it; not eligible and the author can act:
//                                      the reason, once per patch set (change Lease)
//   a gate run finished                 run-finished: succeeded; failed (a step ran and failed); error (the
//                                      infrastructure's: Argo's Error, a pod evicted, preempted, its node lost);
//                                      conflict (the checkout's merge conflict) — gate-plan.ts runOutcomeOf
//   new patch set, abandoned, merged    dequeue (new-patchset, abandoned, merged-elsewhere, approval-removed)
//   elsewhere, an approval removed
//   reconcile                           tick every queue; stop the queue's runs it no longer names
//
// Actions: start-run → the project's gate definition, policy-checked, built as a run named by the queue with
// SEAKEEPER_CHANGES and SEAKEEPER_GIT_URL in its change ConfigMap and the queue's hash as a label, created
// (AlreadyExists = done) with its start message (run-start.ts); stop-run → Terminate; report / message →
// postOnce claimed on a Lease named by the notice, then `posted`; submit → Verified +2 through postOnce
// claimed on a Lease named by the run, Gerrit's submit before the claim is recorded done, then `submitted`. What an update returns is carried out in turn,
// each action once per event.
import { loadAll, pipelinesFromEnv, policyFromEnv, type SharedParts } from '../config/policy-env.js';
import { findPipeline, type Pipeline } from '../config/pipeline-config.js';
import { queueRefusal, type Policy } from '../config/policy.js';
import { formatProblem } from '../config/yaml.js';
import { httpUrl, loadEnv, optional, type Env } from '../env.js';
import { ConflictError, TransientError } from '../errors.js';
import type { CommentAddedEvent, GerritEvent } from '../events/gerrit-event.js';
import type { LogFields } from '../events/handler.js';
import type { GerritApi } from '../gerrit/client.js';
import type { ChangeInfo, RelatedChangeAndCommitInfo } from '../gerrit/types.js';
import { gerritClientFromEnv } from '../gerrit/env.js';
import type { ClusterApi, ClusterObject } from '../k8s/cluster.js';
import { systemNamespaceEnv } from '../k8s/env.js';
import { httpClusterFromEnv } from '../k8s/http-cluster.js';
import { log as processLog, type Logger } from '../log.js';
import { ARGO_API_VERSION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, namespaceFor, WORKFLOW_KIND } from '../names.js';
import { ChangeLeases, GATE_NOTICE_LEASE, GATE_REFUSAL_LEASE, GATE_SUBMIT_LEASE, NOTICE_MARKER, REJECTION_LEASE, refusalMarker, rejectionMarker, SUBMIT_MARKER, type LeaseClaim, type PatchSetIdentity } from '../reporting/leases.js';
import { liveClaim, markerState, START_MARKER } from '../reporting/markers.js';
import { START_PHASE } from '../reporting/report.js';
import { rejectionReview, reviewAlreadyPosted, startReview, type ReviewPlan } from '../reporting/messages.js';
import { postOnce, type PostResult } from '../reporting/post-once.js';
import { argoWorkflowUrl, CHANGES_VARIABLE, fromSafeText, GIT_URL_VARIABLE, runOf, safeText, STOPPED_BECAUSE_ANNOTATION, type LiveWorkflow } from '../runs/workflow.js';
import { listWorkflows, readWorkflow } from '../runs/workflow-store.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, liveRunNames, type EnqueueItem, type QueueAction, type QueueConfig, type QueueEvent, type QueuedChange } from './change-queue.js';
import { EffectiveConfigCache, EventConfigReader, RevisionCache, type ConfigSourceGerrit } from './config-source.js';
import { readDefinition, wantedDefinition } from './definitions.js';
import { MAX_TESTED_WITH, openDependents, resolveDependencies } from './dependencies.js';
import { ELIGIBILITY_OPTIONS, gateEligibility, gateRulesOf, openDescendants, openParents, PARENT_OPTIONS, type GateRules } from './gate-eligibility.js';
import {
  changeIdOfItem,
  changesText,
  dependencyNeeds,
  dequeueOf,
  noticeReview,
  QUEUE_ANNOTATION,
  QUEUE_HASH_LABEL,
  queueConfigOf,
  queueHash,
  queueName,
  refusalReview,
  runChangeOf,
  runOutcomeOf,
  successReview,
} from './gate-plan.js';
import { withSlash } from '../gerrit/refs.js';
import { ChangeQueueStore, type ChangeQueueObject } from './queue-store.js';
import { reviewField, startRun } from './run-start.js';
import { closeOrder, isActive } from './runs.js';
import { carryOutStops } from './stop-runs.js';
import type { Trigger } from './triggers.js';
import { buildWorkflow } from './workflow-builder.js';
import { checkDefinition } from './workflow-policy.js';
import type { ProjectConfig } from '../config/project-config.js';

export type GateGerrit = Pick<GerritApi, 'getChange' | 'getRelatedChanges' | 'postReview' | 'queryChanges' | 'submit'> & ConfigSourceGerrit;
export type GateCluster = Pick<ClusterApi, 'create' | 'get' | 'list' | 'patch' | 'replaceStatus'>;

export const gateEnv = {
  ...systemNamespaceEnv,
  GERRIT_URL: httpUrl(),
  /** Where a gate run's checkout fetches projects from (a project's name is appended); Gerrit's URL when unset. */
  GERRIT_GIT_URL: optional(httpUrl()),
  ARGO_UI_URL: httpUrl(),
};

export interface GateDeps {
  readonly gerrit: GateGerrit;
  readonly cluster: GateCluster;
  readonly store: ChangeQueueStore;
  readonly leases: ChangeLeases;
  readonly policy: Policy;
  readonly pipelines: readonly Pipeline[];
  /** The system namespace, where the ChangeQueues are. */
  readonly namespace: string;
  readonly gerritUrl: string;
  /** SEAKEEPER_GIT_URL of every gate run. */
  readonly gitUrl: string;
  readonly argoUiUrl: string;
  readonly cache: RevisionCache;
  readonly effectiveConfigs?: EffectiveConfigCache;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

/** What an event did to a queue, for its log line. */
export interface GateOutcome {
  readonly pipeline: string;
  readonly action: 'enqueue' | 'not-enqueued' | 'run-finished' | 'dequeue' | 'tick';
  readonly queue?: string;
  readonly reason?: string;
  readonly review?: string;
  /** The actions carried out, one word each (`start-run gate-and-submit-12-1-…`). */
  readonly carried?: readonly string[];
}

const START_IN_PROGRESS = 'start-message-in-progress';

export class Gate {
  readonly #effective: EffectiveConfigCache;

  constructor(readonly deps: GateDeps) {
    this.#effective = deps.effectiveConfigs ?? new EffectiveConfigCache(deps.policy);
  }

  /** GERRIT_* (the account that votes and submits), GERRIT_GIT_URL, KUBECONFIG, SEAKEEPER_POLICY_FILE, ARGO_UI_URL, SEAKEEPER_NAMESPACE. */
  static fromEnv(env: Env = process.env, shared: SharedParts = {}, caches: { cache?: RevisionCache; effectiveConfigs?: EffectiveConfigCache } = {}): Gate {
    const [config, gerrit, cluster, policy, pipelines] = loadAll(
      () => loadEnv(gateEnv, env),
      () => shared.gerrit ?? gerritClientFromEnv(env),
      () => shared.cluster ?? httpClusterFromEnv(env),
      () => shared.policy ?? policyFromEnv(env),
      () => pipelinesFromEnv(env),
    );
    return new Gate({
      gerrit,
      cluster,
      store: new ChangeQueueStore(cluster, config.SEAKEEPER_NAMESPACE),
      leases: new ChangeLeases(cluster, config.SEAKEEPER_NAMESPACE),
      policy,
      pipelines,
      namespace: config.SEAKEEPER_NAMESPACE,
      gerritUrl: config.GERRIT_URL,
      gitUrl: withSlash(config.GERRIT_GIT_URL ?? config.GERRIT_URL),
      argoUiUrl: config.ARGO_UI_URL,
      cache: caches.cache ?? new RevisionCache(),
      ...(caches.effectiveConfigs ? { effectiveConfigs: caches.effectiveConfigs } : {}),
    });
  }

  /** A gate trigger (Code-Review +2): the change enters its queue if Gerrit says it may. */
  async enqueue(trigger: Trigger, eventId: string, event: CommentAddedEvent): Promise<GateOutcome> {
    const { pipeline, change } = trigger;
    const config = queueConfigOf(pipeline, queueName(change.project, change.branch, trigger.projectPipeline));
    const approvedAt = new Date(event.eventCreatedOn * 1000).toISOString();
    const rules = gateRulesOf(pipeline, trigger.rule);
    const closed = queueRefusal(change.project, trigger.projectPipeline.queue, this.deps.policy);
    if (closed !== undefined) {
      const reason = `Not added to the ${pipeline.name} queue: ${closed}.`;
      return { pipeline: pipeline.name, action: 'not-enqueued', queue: config.queue, reason, review: await this.#postRefusal(pipeline, change, reason) };
    }
    const admitted = await this.#admit(pipeline, rules, config.queue, change.project, change.number, change.patchset, approvedAt);
    if (!admitted.ok) {
      const review = admitted.tellAuthor ? await this.#postRefusal(pipeline, change, admitted.reason) : undefined;
      // Kept in the queue's state for a day, so that the status page can say why the change is not in it.
      await this.deps.store.update(config, { type: 'refused', item: { change: change.number, patchset: change.patchset, project: change.project, why: admitted.reason } });
      return { pipeline: pipeline.name, action: 'not-enqueued', queue: config.queue, reason: admitted.reason, ...(review ? { review } : {}) };
    }
    const behind = await this.#chainBehind(pipeline, config.queue, admitted.info, admitted.related, approvedAt, rules);
    const dependents = await this.#dependentsBehind(pipeline, rules, config.queue, [admitted.info, ...behind.map((b) => b.info)], approvedAt);
    const items = [admitted.item, ...behind.map((b) => b.item), ...dependents];
    const carried = await this.#update(config, pipeline, { type: 'enqueue', eventId, items });
    return { pipeline: pipeline.name, action: 'enqueue', queue: config.queue, carried };
  }

  /**
   * Whether a change may enter `queue` as Gerrit has it now (gate-eligibility.ts, then its Depends-On:
   * dependencyNeeds): the item, with what was read for it, or why not. `patchset`: the one the approval named,
   * or `current` for a change that enters behind another.
   */
  async #admit(
    pipeline: Pipeline,
    rules: GateRules,
    queue: string,
    project: string,
    number: number,
    patchset: number | 'current',
    approvedAt: string,
  ): Promise<{ ok: true; item: EnqueueItem; info: ChangeInfo; related: RelatedChangeAndCommitInfo[] } | { ok: false; reason: string; tellAuthor: boolean }> {
    const { gerrit } = this.deps;
    const id = `${project}~${number}`;
    const [info, related] = await Promise.all([gerrit.getChange(id, ELIGIBILITY_OPTIONS), gerrit.getRelatedChanges(id)]);
    const parents = await Promise.all(openParents(info, related).map((parent) => gerrit.getChange(`${project}~${parent}`, PARENT_OPTIONS)));
    const current = info.current_revision === undefined ? undefined : info.revisions?.[info.current_revision]?._number;
    const eligibility = gateEligibility({ change: info, patchset: patchset === 'current' ? (current ?? 0) : patchset, approvedAt, related, parents }, rules);
    if (!eligibility.eligible) return { ok: false, reason: eligibility.reason, tellAuthor: eligibility.tellAuthor };
    const dependencies = await this.#dependencies(pipeline, queue, info);
    if (!dependencies.ok) return { ok: false, reason: dependencies.reason, tellAuthor: true };
    const item = { ...eligibility.item, needs: [...new Set([...eligibility.item.needs, ...dependencies.needs])] };
    return { ok: true, item, info, related };
  }

  /**
   * The approved open changes that name one of `entering` in a Depends-On footer and gate in the same queue,
   * then those that name them, and so on, each with the approved chain stacked on it: they waited (their
   * approval found what they need outside the queue) and enter behind it with the same event, as Zuul enqueues
   * the changes behind an approved one. One that may not enter is left out silently: its own approval told its
   * author why when it came. One query per level, then each dependent's own reads (#admit).
   */
  async #dependentsBehind(pipeline: Pipeline, rules: GateRules, queue: string, entering: readonly ChangeInfo[], approvedAt: string): Promise<EnqueueItem[]> {
    const { gerrit, gerritUrl } = this.deps;
    const reader = new EventConfigReader(gerrit, this.deps.cache);
    const taken = new Set(entering.map((c) => c._number));
    const items: EnqueueItem[] = [];
    for (let level: readonly ChangeInfo[] = entering; level.length > 0 && items.length < MAX_TESTED_WITH; ) {
      const dependents = (await openDependents(gerrit, level, gerritUrl)).filter((c) => !taken.has(c._number)).sort((a, b) => a._number - b._number);
      const next: ChangeInfo[] = [];
      for (const dependent of dependents) {
        if (taken.has(dependent._number) || (await this.#queueOf(pipeline, dependent, reader)) !== queue) continue;
        const admitted = await this.#admit(pipeline, rules, queue, dependent.project, dependent._number, 'current', approvedAt);
        if (!admitted.ok) continue;
        const chain = (await this.#chainBehind(pipeline, queue, admitted.info, admitted.related, approvedAt, rules)).filter((c) => !taken.has(c.item.change));
        for (const entered of [admitted, ...chain]) {
          taken.add(entered.item.change);
          items.push(entered.item);
          next.push(entered.info);
        }
      }
      level = next;
    }
    return items;
  }

  /**
   * The change's open dependencies (Depends-On, transitively; dependencies.ts), each in the queue its project
   * gates it in, judged by dependencyNeeds. `change` was read with ELIGIBILITY_OPTIONS, which holds its commit.
   */
  async #dependencies(pipeline: Pipeline, queue: string, change: ChangeInfo): Promise<ReturnType<typeof dependencyNeeds>> {
    const resolved = await resolveDependencies(this.deps.gerrit, change, this.deps.gerritUrl);
    const ahead = (resolved.order ?? []).filter((c) => c._number !== change._number);
    const reader = new EventConfigReader(this.deps.gerrit, this.deps.cache);
    const dependencies = await Promise.all(
      ahead.map(async (dependency) => ({ change: dependency._number, project: dependency.project, queue: await this.#queueOf(pipeline, dependency, reader) })),
    );
    return dependencyNeeds(pipeline.name, queue, dependencies, resolved.cycle);
  }

  /** The queue `change`'s project gates it in, in `pipeline`; undefined when the project does not run it or may not join it. */
  async #queueOf(pipeline: Pipeline, change: Pick<ChangeInfo, 'project' | 'branch'>, reader: EventConfigReader): Promise<string | undefined> {
    const effective = await this.#effective.resolve(change.project, reader);
    const entry = effective.kind === 'configured' ? effective.config.pipelines.find((p) => p.name === pipeline.name) : undefined;
    // A project the policy keeps out of the queue it names gates in none.
    return entry && queueRefusal(change.project, entry.queue, this.deps.policy) === undefined ? queueName(change.project, change.branch, entry) : undefined;
  }

  /**
   * The approved changes built on `root` that waited for it (their open parents were not all approved): they
   * enter behind it, in order, with the same event. One whose open parents are not all entering, or whose own
   * Depends-On keeps it out of `queue`, is left out silently; its own approval told its author why when it came.
   */
  async #chainBehind(
    pipeline: Pipeline,
    queue: string,
    root: ChangeInfo,
    related: readonly RelatedChangeAndCommitInfo[],
    approvedAt: string,
    rules: GateRules,
  ): Promise<{ item: EnqueueItem; info: ChangeInfo }[]> {
    const entering = new Map<number, ChangeInfo>([[root._number, root]]);
    const behind: { item: EnqueueItem; info: ChangeInfo }[] = [];
    for (const number of openDescendants(root, related)) {
      const info = await this.deps.gerrit.getChange(`${root.project}~${number}`, ELIGIBILITY_OPTIONS);
      const parents = openParents(info, related).map((parent) => entering.get(parent));
      if (parents.some((parent) => parent === undefined)) continue;
      const current = info.current_revision === undefined ? undefined : info.revisions?.[info.current_revision]?._number;
      if (current === undefined) continue;
      const eligibility = gateEligibility({ change: info, patchset: current, approvedAt, related, parents: parents as ChangeInfo[] }, rules);
      if (!eligibility.eligible) continue;
      const dependencies = await this.#dependencies(pipeline, queue, info);
      if (!dependencies.ok) continue;
      entering.set(number, info);
      behind.push({ item: { ...eligibility.item, needs: [...new Set([...eligibility.item.needs, ...dependencies.needs])] }, info });
    }
    return behind;
  }

  /** A finished run of a dependent pipeline: its result into its queue. */
  async finished(workflow: LiveWorkflow): Promise<LogFields> {
    const run = runOf(workflow);
    const name = `${workflow.metadata.namespace ?? ''}/${workflow.metadata.name}`;
    if (!run) return { result: 'not-seakeeper', workflow: name };
    const pipeline = findPipeline(this.deps.pipelines, run.pipeline);
    const queueText = workflow.metadata.annotations?.[QUEUE_ANNOTATION];
    if (!pipeline || queueText === undefined) return { result: 'no-queue', workflow: name };
    const queue = fromSafeText(queueText);
    const config = queueConfigOf(pipeline, queue);
    // The label ties the annotation to the queue the run was started for.
    if (workflow.metadata.labels?.[QUEUE_HASH_LABEL] !== queueHash(config)) return { result: 'no-queue', workflow: name };
    // The queue stopped it: it no longer counts.
    if (workflow.metadata.annotations?.[STOPPED_BECAUSE_ANNOTATION] !== undefined) return { result: 'stopped', workflow: name };
    const outcome = runOutcomeOf(workflow);
    if (!outcome) return { result: 'not-finished', workflow: name };
    const carried = await this.#update(config, pipeline, { type: 'run-finished', name: run.name, ...outcome }, carrying(workflow));
    return { result: `gate-${outcome.result}`, workflow: name, queue, carried };
  }

  /**
   * A Gerrit event that may take a change out of its queues (a new patch set, abandoned, merged by someone
   * else, Code-Review +2 removed), for a project configured as `config`.
   */
  async dequeue(event: GerritEvent, config: ProjectConfig): Promise<GateOutcome[]> {
    const outcomes: GateOutcome[] = [];
    const branch = event.kind !== 'dropped-output' && 'change' in event ? event.change?.branch : undefined;
    if (branch === undefined) return outcomes;
    for (const pipeline of this.deps.pipelines.filter((p) => p.manager === 'dependent')) {
      const entry = config.pipelines.find((p) => p.name === pipeline.name);
      const queueEvent = entry ? dequeueOf(event, pipeline) : undefined;
      if (!entry || !queueEvent || event.kind === 'dropped-output') continue;
      const queue = queueConfigOf(pipeline, queueName(event.project, branch, entry));
      const carried = await this.#update(queue, pipeline, queueEvent);
      outcomes.push({ pipeline: pipeline.name, action: 'dequeue', queue: queue.queue, reason: queueEvent.type === 'dequeue' ? queueEvent.reason : '', carried });
    }
    return outcomes;
  }

  /**
   * The reconcile pass: every queue ticked (what a crash left undone is done), and the runs it no longer names
   * stopped. `which` picks queues by name (reconcile takes them all).
   */
  async tick(which: (queue: string) => boolean = () => true): Promise<LogFields> {
    const all = await this.deps.cluster.list<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, this.deps.namespace);
    const queues = all.filter((object) => typeof object.spec?.queue === 'string' && which(object.spec.queue));
    let failed = 0;
    let stopped = 0;
    for (const object of queues) {
      const pipeline = findPipeline(this.deps.pipelines, object.spec?.pipeline ?? '');
      if (!pipeline || typeof object.spec?.queue !== 'string') continue;
      const config = queueConfigOf(pipeline, object.spec.queue);
      try {
        const update = await this.deps.store.update(config, { type: 'tick' });
        await this.#carryOut(config, pipeline, update.decision.actions, carrying());
        const live = new Set(liveRunNames(update.decision.state));
        stopped += (await this.#stop(config, (name) => !live.has(name), `not in the ${pipeline.name} queue any more`)).length;
      } catch (err) {
        failed += 1;
        this.#logger.warn({ fn: 'gate', queue: config.queue, err }, 'the queue was not ticked');
      }
    }
    return { queues: queues.length, failed, stopped };
  }

  /** Stores `event`'s decision and carries out its actions. */
  async #update(config: QueueConfig, pipeline: Pipeline, event: QueueEvent, work: Carrying = carrying()): Promise<string[]> {
    const update = await this.deps.store.update(config, event, work.queues.get(config.queue));
    if (update.stored) work.queues.set(config.queue, update.stored);
    return this.#carryOut(config, pipeline, update.decision.actions, work);
  }

  /** Each action once per event (`work.seen`); every failure is thrown after the others were tried. */
  async #carryOut(config: QueueConfig, pipeline: Pipeline, actions: readonly QueueAction[], work: Carrying): Promise<string[]> {
    const todo = actions.filter((action) => !work.seen.has(actionKey(action)));
    for (const action of todo) work.seen.add(actionKey(action));
    const settled = await Promise.allSettled(todo.map((action) => this.#act(config, pipeline, action, work)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
  }

  async #act(config: QueueConfig, pipeline: Pipeline, action: QueueAction, work: Carrying): Promise<string[]> {
    switch (action.type) {
      case 'start-run':
        return this.#startRun(config, pipeline, action, work);
      case 'stop-run': {
        const stopped = await this.#stop(config, (name) => name === action.name, action.reason);
        return stopped.map((name) => `stop-run ${name}`);
      }
      case 'report':
      case 'message': {
        const posted = await this.#postNotice(pipeline, action);
        if (posted === 'in-progress') return [`${action.type} ${action.id} in-progress`];
        return [`${action.type} ${action.id} ${posted}`, ...(await this.#update(config, pipeline, { type: 'posted', id: action.id }, work))];
      }
      case 'submit':
        return this.#submit(config, pipeline, action, work);
    }
  }

  async #startRun(config: QueueConfig, pipeline: Pipeline, action: Extract<QueueAction, { type: 'start-run' }>, work: Carrying): Promise<string[]> {
    const { deps } = this;
    const { item } = action;
    const refused = async (why: string) => [
      `start-run ${action.name} refused`,
      ...(await this.#update(config, pipeline, { type: 'run-finished', name: action.name, result: 'failed', message: why }, work)),
    ];
    // Every decision names every running run. One whose start message was posted is made, its ConfigMap too
    // (startRun makes that first): done, without reading its definition again.
    const existing = await deps.cluster.get<LiveWorkflow & ClusterObject>(ARGO_API_VERSION, WORKFLOW_KIND, namespaceFor(item.project), action.name);
    if (existing && markerState(existing, START_MARKER, START_PHASE, this.#now()) === 'done') return [`start-run ${action.name} exists`];

    const reader = new EventConfigReader(deps.gerrit, deps.cache);
    const effective = await this.#effective.resolve(item.project, reader);
    if (effective.kind !== 'configured') return refused(`the configuration of ${item.project} is ${effective.kind}`);
    const entry = effective.config.pipelines.find((p) => p.name === pipeline.name);
    if (!entry) return refused(`${item.project} does not run ${pipeline.name} any more`);
    const definition = await readDefinition(deps.cluster, item.project, wantedDefinition(entry), effective, reader);
    const checked = checkDefinition(definition, { resources: effective.config.resources });
    if (!checked.ok) {
      // The owners learn what to fix as in the check pipeline (every problem located), once per patch set.
      const source = definition.kind === 'file' ? definition.file : `WorkflowTemplate/${definition.name}`;
      const review = rejectionReview(pipeline, runChangeOf(item, deps.gerritUrl), source, checked.problems);
      const posted = await this.#postOnLease(review, item, (target) => deps.leases.claim(REJECTION_LEASE, rejectionMarker(pipeline.name), target, this.#now));
      return [
        `rejected ${posted}`,
        ...(await refused(`the workflow definition breaks the policy: ${checked.problems.slice(0, 3).map(formatProblem).join('; ')}`)),
      ];
    }

    // The subject, for the run's exact text: its ConfigMap may still be to make even when the run exists.
    const { subject } = await deps.gerrit.getChange(changeIdOfItem(item));
    const change = { ...runChangeOf(item, deps.gerritUrl), subject };
    const trigger: Trigger = { pipeline, projectPipeline: entry, rule: 0, event: 'comment-added', change, resources: effective.config.resources };
    const built = buildWorkflow({
      trigger,
      eventId: action.name,
      definition: checked.definition,
      name: action.name,
      environment: { [CHANGES_VARIABLE]: changesText(action.includes), [GIT_URL_VARIABLE]: deps.gitUrl },
      labels: { [QUEUE_HASH_LABEL]: queueHash(config) },
      annotations: { [QUEUE_ANNOTATION]: safeText(config.queue) },
    });
    const url = argoWorkflowUrl(deps.argoUiUrl, built.workflow.metadata.namespace, built.workflow.metadata.name);
    const started = await startRun(
      { gerrit: deps.gerrit, cluster: deps.cluster, logger: this.#logger },
      { workflow: built.workflow, environment: built.environment, start: startReview(pipeline, change, url, built.notes), patchset: item.patchset },
    );
    return [`start-run ${action.name} ${started.created ? 'created' : 'exists'}${started.review ? ` ${started.review}` : ''}`];
  }

  /** Terminates the queue's active runs whose name `which` picks; returns their names. */
  async #stop(config: QueueConfig, which: (name: string) => boolean, reason: string): Promise<string[]> {
    const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${QUEUE_HASH_LABEL}=${queueHash(config)}`;
    const runs = await listWorkflows(this.deps.cluster, undefined, selector);
    const orders = runs.filter((workflow) => {
      const run = runOf(workflow);
      return run !== undefined && which(run.name) && isActive(run);
    });
    return carryOutStops(this.deps.cluster, orders.map((workflow) => closeOrder(workflow, reason)));
  }

  /**
   * A report or message the queue owes, once: claimed on a Lease named by the notice. A change that closed
   * meanwhile may refuse it (Gerrit's 409 on a vote): it is dropped then, so the queue does not owe it forever.
   */
  async #postNotice(pipeline: Pipeline, action: Extract<QueueAction, { type: 'report' | 'message' }>): Promise<string> {
    try {
      return await this.#postNoticeOnce(pipeline, action);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      const info = await this.deps.gerrit.getChange(changeIdOfItem(action.item));
      if (info.status === 'NEW') throw err;
      this.#logger.warn({ fn: 'gate', notice: action.id, change: changeIdOfItem(action.item), status: info.status, err }, 'a notice the closed change refused was dropped');
      return 'dropped';
    }
  }

  async #postNoticeOnce(pipeline: Pipeline, action: Extract<QueueAction, { type: 'report' | 'message' }>): Promise<string> {
    return this.#postOnLease(noticeReview(pipeline, action), action.item, (target) => this.deps.leases.claim(GATE_NOTICE_LEASE, NOTICE_MARKER, target, this.#now, action.id));
  }

  /** Why an approved change did not enter the queue, told to its author once per patch set. */
  async #postRefusal(pipeline: Pipeline, change: Trigger['change'], reason: string): Promise<string> {
    const on = { project: change.project, branch: change.branch, change: change.number, patchset: change.patchset, ref: change.ref, revision: change.revision };
    return this.#postOnLease(refusalReview(pipeline, on, reason), on, (target) => this.deps.leases.claim(GATE_REFUSAL_LEASE, refusalMarker(pipeline.name), target, this.#now));
  }

  /** A post about a patch set that has no Workflow to carry its claim: claimed on a Lease (`claim`), once. */
  async #postOnLease(plan: ReviewPlan, on: QueuedChange, claim: (target: PatchSetIdentity) => Promise<LeaseClaim>): Promise<string> {
    const posted = await postOnce(
      this.deps.gerrit,
      {
        claim: () => claim({ project: on.project, change: on.change, revision: on.revision }),
        plan: () => plan,
        onChange: (messages) => reviewAlreadyPosted(messages, plan, on.patchset),
      },
      this.#logger,
    );
    return reviewField(posted);
  }

  /**
   * The head passed: Verified +2 (claimed on its run, after its start message), then Gerrit submits it; the
   * answer goes back into the queue (merged, or refused with Gerrit's reason).
   */
  async #submit(config: QueueConfig, pipeline: Pipeline, action: Extract<QueueAction, { type: 'submit' }>, work: Carrying): Promise<string[]> {
    const { gerrit, cluster } = this.deps;
    const { item } = action;
    const ref = { namespace: namespaceFor(item.project), name: action.run };
    const plan: ReviewPlan = successReview(pipeline, item, argoWorkflowUrl(this.deps.argoUiUrl, ref.namespace, ref.name));
    let submitting: Promise<{ result: 'merged' | 'refused'; message: string }> | undefined;
    let recording: Promise<void> | undefined;
    const submit = () => {
      submitting ??= this.#gerritSubmit(changeIdOfItem(item));
      return submitting;
    };
    const posted: PostResult<unknown> = await postOnce(
      gerrit,
      {
        claim: async () => {
          // The start message comes first: a run whose start is still being posted waits for it.
          const run = work.read.get(action.run) ?? (await readWorkflow(cluster, ref));
          if (run && liveClaim(run, START_MARKER, this.#now()) !== undefined) return { claimed: false, reason: START_IN_PROGRESS };
          // Claimed on a Lease named by the run (a create, where the run's own marker is a read and a patch).
          const target = { project: item.project, change: item.change, revision: item.revision };
          const attempt = await this.deps.leases.claim(GATE_SUBMIT_LEASE, SUBMIT_MARKER, target, this.#now, action.run);
          // The vote is posted when the vote path records it done: the submit goes first, so that a twin finds
          // the claim held until Gerrit has answered it, and never submits beside it.
          if (!attempt.claimed) return attempt;
          return {
            ...attempt,
            done: async () => {
              await submit().then(
                () => undefined,
                () => undefined,
              );
              // Recorded beside the queue's own update below, and awaited before this delivery answers.
              recording = attempt.done();
              recording.catch(() => undefined);
            },
          };
        },
        plan: () => plan,
        onChange: (messages) => reviewAlreadyPosted(messages, plan, item.patchset),
      },
      this.#logger,
    );
    const vote = reviewField(posted);
    // A twin delivery holds the vote: it submits next (and should it die, the claim expires and a later event
    // or the reconcile tick submits). The start message still being posted: the vote must come after it.
    if (vote === 'in-progress') return [`submit ${item.change},${item.patchset} in-progress`];
    if (vote === START_IN_PROGRESS) throw new TransientError(`${ref.namespace}/${ref.name}: its start message is being posted; the vote and the submit follow it`);
    const submitted = await submit();
    const [carried] = await Promise.all([
      this.#update(config, pipeline, { type: 'submitted', change: item.change, ...submitted }, work),
      // Posted: a twin finds the claim until it expires, then the tagged message on the change.
      recording?.catch((err: unknown) => this.#logger.error({ fn: 'gate', change: changeIdOfItem(item), err }, 'voted, but the vote was not recorded done')),
    ]);
    return [`submit ${item.change},${item.patchset} ${vote} ${submitted.result}`, ...carried];
  }

  async #gerritSubmit(changeId: string): Promise<{ result: 'merged' | 'refused'; message: string }> {
    try {
      const info = await this.deps.gerrit.submit(changeId);
      return info.status === 'MERGED' ? { result: 'merged', message: 'merged' } : { result: 'refused', message: `Gerrit left it ${info.status}` };
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // 409: not submittable, or merged already (a redelivery, a twin): Gerrit's state says which.
      const info = await this.deps.gerrit.getChange(changeId);
      if (info.status === 'MERGED') return { result: 'merged', message: 'merged' };
      return { result: 'refused', message: err.message };
    }
  }

  get #now(): () => Date {
    return this.deps.now ?? (() => new Date());
  }

  get #logger(): Logger {
    return this.deps.logger ?? processLog;
  }
}

/** What carrying out one event's actions shares: the actions done (each once per event), the runs it read. */
interface Carrying {
  readonly seen: Set<string>;
  /** By name: a run this event read already (its claims start from it instead of reading it again). */
  readonly read: ReadonlyMap<string, LiveWorkflow>;
  /** By queue: the ChangeQueue as this event's last update left it (the next update starts from it). */
  readonly queues: Map<string, ChangeQueueObject>;
}

function carrying(...read: LiveWorkflow[]): Carrying {
  return { seen: new Set(), read: new Map(read.map((run) => [run.metadata.name, run])), queues: new Map() };
}

function actionKey(action: QueueAction): string {
  switch (action.type) {
    case 'start-run':
    case 'stop-run':
      return `${action.type} ${action.name}`;
    case 'report':
    case 'message':
      return `notice ${action.id}`;
    case 'submit':
      return `submit ${action.item.change},${action.item.patchset}`;
  }
}

