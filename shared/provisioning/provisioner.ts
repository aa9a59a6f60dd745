// The imperative shell of provisioning: read the live state a project's plan needs, call the pure core
// (planProject), carry the plan out through ClusterApi, and say what happened. Used by project-config-changed
// (one project, read precisely) and by reconcile (every project, read from one cluster-wide snapshot).
//
// Carrying out a plan:
// * sync: server-side apply `apply` in waves (applyWaves): the Namespace first, since nothing can be created
//   in a namespace that does not exist yet; then the objects in it together; RoleBindings last, once their
//   Roles exist. Then delete `prune`. Conflicts (objects with our names that are not ours) are reported and
//   never written.
// * retain: apply the orphan-marked Namespace (when it is not marked yet). delete: delete the Namespace.
// * reject, blocked, wait, none: write nothing; the summary says why.
// A RoleBinding's roleRef cannot be changed in place; one of ours whose roleRef differs from the bundle's is
// deleted and created again.
import type { EffectiveConfig } from '../config/inheritance.js';
import type { Policy } from '../config/policy.js';
import { formatProblem, type ConfigProblem } from '../config/yaml.js';
import type { ClusterApi, ClusterObject } from '../k8s/cluster.js';
import { MANAGED_KINDS, MANAGED_SELECTOR } from './bundle.js';
import { namespaceFor, PROJECT_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, ARGO_API_VERSION } from '../names.js';
import { describeRef, objectKey, refOf, type KubeObject, type LiveObject, type ObjectRef } from './objects.js';
import { countUnfinishedWorkflows, planProject, UNFINISHED_WORKFLOWS_SELECTOR, type LiveState, type ProjectPlan } from './plan.js';

/** The cluster calls provisioning makes; nothing else (no patch, watch or status writes). */
export type ProvisionerCluster = Pick<ClusterApi, 'apply' | 'get' | 'list' | 'delete'>;

/**
 * created / updated / unchanged: the namespace matches the config now (unchanged: nothing was written).
 * deprovisioned: orphan-marked (retain) or deleted, per policy. absent: no config and no namespace, nothing to do.
 * rejected: the config is invalid, nothing written. blocked: the namespace is not ours, or is being deleted.
 * waiting: workflows still run in a namespace that is to be deprovisioned.
 */
export type Outcome = 'created' | 'updated' | 'unchanged' | 'deprovisioned' | 'absent' | 'rejected' | 'blocked' | 'waiting';

export interface ProjectSummary {
  readonly project: string;
  readonly namespace: string;
  readonly outcome: Outcome;
  /** API writes made: applies and deletes. */
  readonly writes: number;
  readonly applied: readonly string[];
  readonly deleted: readonly string[];
  /** Objects with our names that are not ours: left alone, for a human to look at. */
  readonly conflicts: readonly string[];
  /** Why nothing (more) was done, for rejected, blocked, waiting and absent. */
  readonly reason?: string;
  /** rejected: every problem, located. */
  readonly problems?: readonly ConfigProblem[];
  /** blocked or waiting: whether the same event later may succeed (a namespace being deleted, workflows finishing). */
  readonly retryable?: boolean;
}

/** What planProject needs, and whether objects without our labels were looked for. */
export interface LiveView extends LiveState {
  /**
   * True when `objects` holds only objects carrying our labels (a cluster-wide snapshot by label): an object
   * with one of our names that someone else made would be missing, so the provisioner looks before creating.
   */
  readonly partial: boolean;
}

/** Where the provisioner reads a project's live state from. */
export interface LiveSource {
  read(effective: EffectiveConfig): Promise<LiveView>;
}

const NOTHING: LiveView = { namespace: undefined, objects: [], runningWorkflows: 0, partial: false };

/** List items come without apiVersion and kind; the planner identifies objects by them. */
function typed(items: readonly ClusterObject[], apiVersion: string, kind: string): LiveObject[] {
  return items.map((item) => ({ ...(item as unknown as LiveObject), apiVersion, kind }));
}

/** Whether `effective` leads to deprovisioning, when only then running workflows matter. */
const deprovisions = (effective: EffectiveConfig) => effective.kind === 'unconfigured' || effective.kind === 'missing-project';

async function runningWorkflows(cluster: ProvisionerCluster, namespace: string): Promise<number> {
  const workflows = await cluster.list(ARGO_API_VERSION, 'Workflow', namespace, UNFINISHED_WORKFLOWS_SELECTOR);
  return countUnfinishedWorkflows(workflows as Parameters<typeof countUnfinishedWorkflows>[0]);
}

/** Reads one project's namespace exactly: every object of the managed kinds in it, labelled or not. */
export function preciseSource(cluster: ProvisionerCluster): LiveSource {
  return {
    async read(effective) {
      if (effective.kind === 'invalid') return NOTHING;
      const name = namespaceFor(effective.project);
      const namespace = await cluster.get('v1', 'Namespace', undefined, name);
      if (!namespace) return NOTHING;
      if (deprovisions(effective)) {
        return { namespace: namespace as unknown as LiveObject, objects: [], runningWorkflows: await runningWorkflows(cluster, name), partial: false };
      }
      // Without a selector, so that an object with one of our names that we did not make is seen (a conflict).
      const lists = await Promise.all(MANAGED_KINDS.map(async ({ apiVersion, kind }) => typed(await cluster.list(apiVersion, kind, name), apiVersion, kind)));
      return { namespace: namespace as unknown as LiveObject, objects: lists.flat(), runningWorkflows: 0, partial: false };
    },
  };
}

/** Every namespace, and every object of the managed kinds that carries our label, across the cluster. */
export interface ClusterSnapshot {
  readonly namespaces: ReadonlyMap<string, LiveObject>;
  /** By namespace. */
  readonly objects: ReadonlyMap<string, readonly LiveObject[]>;
}

/**
 * One list per kind instead of several per project. Namespaces are listed whole (there are few, and a
 * namespace with a project's name that someone else made must be seen).
 */
export async function takeSnapshot(cluster: ProvisionerCluster): Promise<ClusterSnapshot> {
  const [namespaces, ...lists] = await Promise.all([
    cluster.list('v1', 'Namespace').then((items) => typed(items, 'v1', 'Namespace')),
    ...MANAGED_KINDS.map(async ({ apiVersion, kind }) => typed(await cluster.list(apiVersion, kind, undefined, MANAGED_SELECTOR), apiVersion, kind)),
  ]);
  const objects = new Map<string, LiveObject[]>();
  for (const obj of lists.flat()) {
    const ns = obj.metadata.namespace;
    if (ns === undefined) continue;
    let inNamespace = objects.get(ns);
    if (!inNamespace) objects.set(ns, (inNamespace = []));
    inNamespace.push(obj);
  }
  return { namespaces: new Map(namespaces!.map((ns) => [ns.metadata.name, ns])), objects };
}

/**
 * The projects that have a namespace labelled as Seakeeper's (by the project annotation), sorted; not those
 * whose namespace is already being deleted, which need nothing more.
 */
export function managedProjects(snapshot: ClusterSnapshot): string[] {
  const projects = new Set<string>();
  for (const ns of snapshot.namespaces.values()) {
    const project = ns.metadata.annotations?.[PROJECT_ANNOTATION];
    if (ns.metadata.deletionTimestamp || project === undefined) continue;
    if (ns.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE) projects.add(project);
  }
  return [...projects].sort();
}

/** Reads from a snapshot; only the workflows of a namespace about to be deprovisioned are fetched. */
export function snapshotSource(snapshot: ClusterSnapshot, cluster: ProvisionerCluster): LiveSource {
  return {
    async read(effective) {
      if (effective.kind === 'invalid') return NOTHING;
      const name = namespaceFor(effective.project);
      const namespace = snapshot.namespaces.get(name);
      if (!namespace) return NOTHING;
      if (deprovisions(effective)) return { namespace, objects: [], runningWorkflows: await runningWorkflows(cluster, name), partial: true };
      return { namespace, objects: snapshot.objects.get(name) ?? [], runningWorkflows: 0, partial: true };
    },
  };
}

interface Done {
  writes: number;
  applied: string[];
  deleted: string[];
}

export class Provisioner {
  readonly #cluster: ProvisionerCluster;
  readonly #policy: Policy;
  readonly #fieldManager: string | undefined;
  readonly precise: LiveSource;

  constructor(cluster: ProvisionerCluster, policy: Policy, options: { fieldManager?: string } = {}) {
    this.#cluster = cluster;
    this.#policy = policy;
    this.#fieldManager = options.fieldManager;
    this.precise = preciseSource(cluster);
  }

  get policy(): Policy {
    return this.#policy;
  }

  /** Makes the project's namespace match its effective config (or deprovisions it). Throws on a failed call. */
  async provision(effective: EffectiveConfig, source: LiveSource = this.precise): Promise<ProjectSummary> {
    let live = await source.read(effective);
    let plan = planProject(effective, this.#policy, live, this.#fieldManager);
    const unseen = live.partial ? await this.#unseenObjects(plan, live) : [];
    if (unseen.length > 0) {
      live = { ...live, objects: [...live.objects, ...unseen], partial: false };
      plan = planProject(effective, this.#policy, live, this.#fieldManager);
    }
    return this.#carryOut(effective.project, plan, live);
  }

  /**
   * Objects the plan would create in an existing namespace that a by-label snapshot could not see: looked up
   * by name, so that one somebody else made becomes a conflict instead of being applied over.
   */
  async #unseenObjects(plan: ProjectPlan, live: LiveView): Promise<LiveObject[]> {
    if (!live.namespace || plan.action !== 'provision' || plan.plan.kind !== 'sync') return [];
    const seen = new Set(live.objects.map((o) => objectKey(refOf(o))));
    const unseen = plan.plan.apply.filter((o) => o.kind !== 'Namespace' && !seen.has(objectKey(refOf(o))));
    const found = await Promise.all(unseen.map((o) => this.#cluster.get(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name)));
    return found.filter((o) => o !== undefined) as unknown as LiveObject[];
  }

  async #carryOut(project: string, plan: ProjectPlan, live: LiveView): Promise<ProjectSummary> {
    const base = { project, namespace: namespaceFor(project), writes: 0, applied: [], deleted: [], conflicts: [] };
    switch (plan.action) {
      case 'reject':
        return {
          ...base,
          outcome: 'rejected',
          reason: `invalid configuration: ${plan.problems.map(formatProblem).join('; ')}`,
          problems: plan.problems,
        };
      case 'provision': {
        const sync = plan.plan;
        if (sync.kind === 'blocked') return { ...base, outcome: 'blocked', reason: sync.reason, retryable: sync.retryable };
        const done = await this.#sync(sync.apply, sync.prune, live);
        const outcome = done.writes === 0 ? 'unchanged' : live.namespace ? 'updated' : 'created';
        return { ...base, ...done, outcome, conflicts: sync.conflicts.map((c) => c.reason) };
      }
      case 'deprovision': {
        const step = plan.plan;
        switch (step.kind) {
          case 'none':
            return { ...base, outcome: 'absent', reason: step.reason };
          case 'blocked':
            return { ...base, outcome: 'blocked', reason: step.reason, retryable: false };
          case 'wait':
            return { ...base, outcome: 'waiting', reason: step.reason, retryable: true };
          case 'retain': {
            const done = await this.#sync(step.apply, [], live);
            return { ...base, ...done, outcome: done.writes === 0 ? 'unchanged' : 'deprovisioned' };
          }
          case 'delete': {
            const done = await this.#sync([], step.delete, live);
            return { ...base, ...done, outcome: 'deprovisioned' };
          }
        }
      }
    }
  }

  async #sync(apply: readonly KubeObject[], remove: readonly ObjectRef[], live: LiveView): Promise<Done> {
    const done: Done = { writes: 0, applied: [], deleted: [] };
    const liveByKey = new Map(live.objects.map((o) => [objectKey(refOf(o)), o]));
    const applyOne = async (obj: KubeObject) => {
      const current = liveByKey.get(objectKey(refOf(obj)));
      if (current && roleRefChanged(obj, current)) await this.#delete(refOf(obj), done);
      await this.#cluster.apply(obj as unknown as ClusterObject);
      done.writes += 1;
      done.applied.push(describeRef(refOf(obj)));
    };
    for (const wave of applyWaves(apply)) await Promise.all(wave.map(applyOne));
    await Promise.all(remove.map((ref) => this.#delete(ref, done)));
    return done;
  }

  async #delete(ref: ObjectRef, done: Done): Promise<void> {
    await this.#cluster.delete(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    done.writes += 1;
    done.deleted.push(describeRef(ref));
  }
}

/**
 * The order applies must keep: the Namespace before anything in it; a RoleBinding after the Roles, since the
 * API server checks that the binder holds what a bound Role grants and cannot while the Role is missing.
 * Within a wave, objects are applied together.
 */
export function applyWaves(apply: readonly KubeObject[]): KubeObject[][] {
  const rank = (o: KubeObject) => (o.kind === 'Namespace' ? 0 : o.kind === 'RoleBinding' ? 2 : 1);
  const waves: KubeObject[][] = [[], [], []];
  for (const obj of apply) waves[rank(obj)]!.push(obj);
  return waves.filter((wave) => wave.length > 0);
}

function roleRefChanged(desired: KubeObject, live: LiveObject): boolean {
  if (desired.kind !== 'RoleBinding') return false;
  const a = desired.roleRef as Record<string, unknown> | undefined;
  const b = live.roleRef as Record<string, unknown> | undefined;
  return a?.apiGroup !== b?.apiGroup || a?.kind !== b?.kind || a?.name !== b?.name;
}
