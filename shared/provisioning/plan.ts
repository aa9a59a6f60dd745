// What to write so that a project's namespace matches its bundle: a pure diff of desired objects against
// what the cluster holds. The shell applies `apply` by server-side apply (one field manager), deletes
// `prune`, and does nothing else; a second pass over an unchanged world yields no writes at all.
//
// * Unchanged: every field we set has the same value in the live object. Fields the server defaulted or
//   other managers own are ignored; quantities compare by value ("1Gi" = "1024Mi", as the server
//   canonicalises them). A field we set before but no longer set (seen in our managedFields entry) makes
//   the object changed, so that re-applying releases it. Anything else — someone edited a field we own —
//   is drift and is re-applied.
// * Ours: an object is Seakeeper's for this project if it carries the managed-by label and the project's
//   hash, or if our field manager applied it (its labels were edited away). Anything else with one of our
//   names is a conflict: never applied over, never deleted.
// * Prune: only objects carrying our managed-by label and this project's hash, of the kinds the bundle
//   makes or an earlier release made (MANAGED_KINDS), that the bundle no longer contains. The Namespace is
//   never pruned here (see planDeprovision).
//
// Deprovisioning (no seakeeper.yaml, own or inherited, or the project was deleted), per policy:
// * retain (default): nothing is deleted. The Namespace is re-applied with label seakeeper.dev/state=orphaned
//   and an annotation saying why, so operators can find (`kubectl get ns -l seakeeper.dev/state=orphaned`)
//   and clean up; everything inside is left as it is. Provisioning again removes the mark.
// * delete: the Namespace is deleted (and with it everything in it).
// Neither happens while workflows are running in the namespace: the plan says `wait`.
import type { Policy } from '../config/policy.js';
import type { EffectiveConfig } from '../config/inheritance.js';
import { sameQuantity } from '../config/quantity.js';
import type { ConfigProblem } from '../config/yaml.js';
import { buildBundle, CONFIG_SOURCE_ANNOTATION, MANAGED_KINDS, namespaceObject } from './bundle.js';
import { ARGO_API_VERSION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, namespaceFor, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, projectHash, WORKFLOW_KIND } from '../names.js';
import { describeRef, objectKey, refOf, type KubeObject, type LiveObject, type ObjectRef } from './objects.js';

/** Must equal FIELD_MANAGER in shared/k8s/cluster.ts (a unit test checks). */
export const SEAKEEPER_FIELD_MANAGER = 'seakeeper';
/** On a retained namespace of a project that has no config any more. */
export const STATE_LABEL = 'seakeeper.dev/state';
export const ORPHANED = 'orphaned';
export const ORPHANED_REASON_ANNOTATION = 'seakeeper.dev/orphaned-reason';
/** Argo marks finished workflows with this label. */
export const WORKFLOW_COMPLETED_LABEL = 'workflows.argoproj.io/completed';
/** Selects workflows that have not finished (to count them before deprovisioning). */
export const UNFINISHED_WORKFLOWS_SELECTOR = `${WORKFLOW_COMPLETED_LABEL}!=true`;

export interface Conflict {
  readonly ref: ObjectRef;
  readonly reason: string;
}

export type ProvisionPlan =
  /** Nothing may be written now: `retryable` says whether waiting can help (a namespace being deleted). */
  | { kind: 'blocked'; reason: string; retryable: boolean }
  | {
      kind: 'sync';
      /** Server-side apply, in this order (the Namespace first). */
      apply: KubeObject[];
      /** Delete. */
      prune: ObjectRef[];
      unchanged: ObjectRef[];
      /** Objects with our names that are not ours: left alone; a human must look. */
      conflicts: Conflict[];
    };

export interface ProvisionInput {
  readonly project: string;
  /** buildBundle's output. */
  readonly desired: readonly KubeObject[];
  /** The live Namespace named namespaceFor(project), if any. */
  readonly liveNamespace: LiveObject | undefined;
  /**
   * Live objects of MANAGED_KINDS in that namespace: at least those matching projectSelector(project) and
   * any with the bundle's names. Objects of other namespaces are ignored.
   */
  readonly live: readonly LiveObject[];
  readonly fieldManager?: string;
}

export function planProvision(input: ProvisionInput): ProvisionPlan {
  const { project, desired, liveNamespace } = input;
  const manager = input.fieldManager ?? SEAKEEPER_FIELD_MANAGER;
  const namespace = namespaceFor(project);
  const hash = projectHash(project);

  if (liveNamespace) {
    if (liveNamespace.metadata.deletionTimestamp) {
      return { kind: 'blocked', reason: `namespace ${namespace} is being deleted; provision it again once it is gone`, retryable: true };
    }
    const owner = ownership(liveNamespace, hash, manager);
    if (owner !== 'ours') return { kind: 'blocked', reason: `namespace ${namespace} ${owner}`, retryable: false };
  }

  const liveByKey = new Map<string, LiveObject>();
  for (const obj of input.live) {
    if (obj.metadata.namespace === namespace) liveByKey.set(objectKey(refOf(obj)), obj);
  }
  if (liveNamespace) liveByKey.set(objectKey(refOf(liveNamespace)), liveNamespace);

  const apply: KubeObject[] = [];
  const unchanged: ObjectRef[] = [];
  const conflicts: Conflict[] = [];
  const desiredKeys = new Set<string>();
  for (const obj of desired) {
    const ref = refOf(obj);
    const key = objectKey(ref);
    desiredKeys.add(key);
    const live = liveByKey.get(key);
    if (!live) {
      apply.push(obj);
      continue;
    }
    const owner = ownership(live, hash, manager);
    if (owner !== 'ours') {
      conflicts.push({ ref, reason: `${describeRef(ref)} ${owner}` });
      continue;
    }
    if (isUpToDate(obj, live, manager)) unchanged.push(ref);
    else apply.push(obj);
  }

  const managedKinds = new Set(MANAGED_KINDS.map((k) => k.kind));
  const prune: ObjectRef[] = [];
  for (const [key, live] of liveByKey) {
    if (desiredKeys.has(key) || live.kind === 'Namespace' || !managedKinds.has(live.kind)) continue;
    if (!carriesOurLabels(live, hash) || ownedByRun(live)) continue;
    prune.push(refOf(live));
  }
  prune.sort((a, b) => (objectKey(a) < objectKey(b) ? -1 : 1));
  return { kind: 'sync', apply, prune, unchanged, conflicts };
}

/** True when carrying out the plan writes nothing. */
export function isNoop(plan: ProvisionPlan | DeprovisionPlan): boolean {
  switch (plan.kind) {
    case 'sync':
      return plan.apply.length === 0 && plan.prune.length === 0;
    case 'retain':
      return plan.apply.length === 0;
    case 'delete':
      return plan.delete.length === 0;
    default:
      return true;
  }
}

// ---- ownership and comparison ----

/** A run's own object (its change ConfigMap): it goes with the run, whatever the bundle holds. */
function ownedByRun(obj: LiveObject): boolean {
  const owners = (obj.metadata.ownerReferences ?? []) as ReadonlyArray<{ apiVersion?: string; kind?: string }>;
  return owners.some((owner) => owner.apiVersion === ARGO_API_VERSION && owner.kind === WORKFLOW_KIND);
}

function carriesOurLabels(obj: LiveObject, hash: string): boolean {
  const labels = obj.metadata.labels ?? {};
  return labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && labels[PROJECT_HASH_LABEL] === hash;
}

function appliedBy(obj: LiveObject, manager: string): boolean {
  return (obj.metadata.managedFields ?? []).some((e) => e.manager === manager && e.operation === 'Apply' && !e.subresource);
}

/** 'ours', or why not (completing "<object> …"). */
function ownership(obj: LiveObject, hash: string, manager: string): 'ours' | string {
  const labels = obj.metadata.labels ?? {};
  if (labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE) {
    if (labels[PROJECT_HASH_LABEL] === hash) return 'ours';
    const other = obj.metadata.annotations?.[PROJECT_ANNOTATION];
    return `belongs to another Seakeeper project${other ? ` (${JSON.stringify(other)})` : ''}`;
  }
  if (appliedBy(obj, manager)) return 'ours';
  return 'exists but was not created by Seakeeper; it is left alone';
}

/** Every field of `desired` holds in `live`, and we own no field that `desired` no longer sets. */
export function isUpToDate(desired: KubeObject, live: LiveObject, manager: string = SEAKEEPER_FIELD_MANAGER): boolean {
  const { apiVersion: _v, kind, ...desiredRest } = desired;
  if (!satisfies(desiredRest, live, [], kind)) return false;
  const ours = (live.metadata.managedFields ?? []).find((e) => e.manager === manager && e.operation === 'Apply' && !e.subresource);
  return !ours || !ownsMore(ours.fieldsV1, desired);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function satisfies(desired: unknown, live: unknown, path: readonly (string | number)[], kind: string): boolean {
  if (isPlainObject(desired)) {
    // `{}` (podSelector: {}, egress: [{}]) may come back omitted.
    if (Object.keys(desired).length === 0) return live === undefined || live === null || isPlainObject(live);
    if (!isPlainObject(live)) return false;
    return Object.entries(desired).every(([k, v]) => satisfies(v, live[k], [...path, k], kind));
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((v, i) => satisfies(v, live[i], [...path, i], kind));
  }
  if (typeof desired === 'string' && typeof live === 'string' && isQuantityPath(kind, path)) return sameQuantity(desired, live);
  return desired === live;
}

const LIMIT_FIELDS = new Set(['default', 'defaultRequest', 'max', 'min', 'maxLimitRequestRatio']);

/** Where the API server canonicalises quantities (so "0.5" comes back as "500m"). */
function isQuantityPath(kind: string, path: readonly (string | number)[]): boolean {
  if (kind === 'ResourceQuota') return path.length === 3 && path[0] === 'spec' && path[1] === 'hard';
  if (kind === 'LimitRange') return path.length === 5 && path[0] === 'spec' && path[1] === 'limits' && LIMIT_FIELDS.has(String(path[3]));
  return false;
}

/**
 * Whether a managedFields `fieldsV1` tree (`{"f:metadata": {"f:labels": {"f:x": {}}}}`) names a field that
 * `desired` does not set. List items (`k:`, `v:`, `i:`) are not descended into: our lists are atomic.
 */
function ownsMore(fields: unknown, desired: unknown): boolean {
  if (!isPlainObject(fields) || !isPlainObject(desired)) return false;
  for (const [key, sub] of Object.entries(fields)) {
    if (!key.startsWith('f:')) continue;
    const name = key.slice(2);
    if (!(name in desired)) return true;
    if (ownsMore(sub, desired[name])) return true;
  }
  return false;
}

// ---- deprovisioning ----

export type DeprovisionReason = 'unconfigured' | 'missing-project';

export interface DeprovisionInput {
  readonly project: string;
  readonly policy: Policy;
  readonly reason: DeprovisionReason;
  readonly liveNamespace: LiveObject | undefined;
  /** Unfinished workflows in the namespace (see countUnfinishedWorkflows). */
  readonly runningWorkflows: number;
  readonly fieldManager?: string;
}

export type DeprovisionPlan =
  /** Nothing to do: no namespace, or it is already going. */
  | { kind: 'none'; reason: string }
  /** The namespace exists but is not Seakeeper's for this project: never touched. */
  | { kind: 'blocked'; reason: string }
  /** Workflows are still running: try again later. */
  | { kind: 'wait'; reason: string; runningWorkflows: number }
  /** Apply these (the Namespace with its orphan mark; empty when already marked). */
  | { kind: 'retain'; apply: KubeObject[] }
  | { kind: 'delete'; delete: ObjectRef[] };

const ORPHAN_REASONS: Readonly<Record<DeprovisionReason, string>> = {
  unconfigured: 'the project has no seakeeper.yaml, of its own or inherited',
  'missing-project': 'the Gerrit project no longer exists',
};

export function planDeprovision(input: DeprovisionInput): DeprovisionPlan {
  const { project, policy, liveNamespace } = input;
  const manager = input.fieldManager ?? SEAKEEPER_FIELD_MANAGER;
  const name = namespaceFor(project);
  if (!liveNamespace) return { kind: 'none', reason: `namespace ${name} does not exist` };
  if (liveNamespace.metadata.deletionTimestamp) return { kind: 'none', reason: `namespace ${name} is already being deleted` };
  const owner = ownership(liveNamespace, projectHash(project), manager);
  if (owner !== 'ours') return { kind: 'blocked', reason: `namespace ${name} ${owner}` };
  if (input.runningWorkflows > 0) {
    return {
      kind: 'wait',
      reason: `${input.runningWorkflows} workflow(s) still running in namespace ${name}; deprovisioning (${policy.deprovision}) waits for them`,
      runningWorkflows: input.runningWorkflows,
    };
  }
  if (policy.deprovision === 'delete') return { kind: 'delete', delete: [refOf(liveNamespace)] };

  // Re-apply the whole Namespace as we own it (one field manager: what we leave out, we would drop), plus the mark.
  const source = liveNamespace.metadata.annotations?.[CONFIG_SOURCE_ANNOTATION];
  const base = namespaceObject({ project, policy, source });
  const marked: KubeObject = {
    ...base,
    metadata: {
      ...base.metadata,
      labels: { ...base.metadata.labels, [STATE_LABEL]: ORPHANED },
      annotations: { ...base.metadata.annotations, [ORPHANED_REASON_ANNOTATION]: ORPHAN_REASONS[input.reason] },
    },
  };
  return { kind: 'retain', apply: isUpToDate(marked, liveNamespace, manager) ? [] : [marked] };
}

/** A workflow counts as running until Argo labels it completed or gives it a final phase. */
export function isUnfinishedWorkflow(workflow: { metadata?: { labels?: Record<string, string> }; status?: { phase?: string } }): boolean {
  if (workflow.metadata?.labels?.[WORKFLOW_COMPLETED_LABEL] === 'true') return false;
  const phase = workflow.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && phase !== 'Error';
}

export function countUnfinishedWorkflows(workflows: readonly Parameters<typeof isUnfinishedWorkflow>[0][]): number {
  return workflows.filter(isUnfinishedWorkflow).length;
}

// ---- one entry point for the handler and reconcile ----

export interface LiveState {
  readonly namespace: LiveObject | undefined;
  /** As ProvisionInput.live. */
  readonly objects: readonly LiveObject[];
  /** Unfinished workflows in the namespace; only consulted when deprovisioning. */
  readonly runningWorkflows: number;
}

export type ProjectPlan =
  | { action: 'provision'; source: string; plan: ProvisionPlan }
  | { action: 'deprovision'; plan: DeprovisionPlan }
  /** The config (or its inheritance chain) is invalid: change nothing; show the problems to a human. */
  | { action: 'reject'; problems: readonly ConfigProblem[] };

/** From the resolved config and the live state to what to write. */
export function planProject(effective: EffectiveConfig, policy: Policy, live: LiveState, fieldManager?: string): ProjectPlan {
  const manager = fieldManager ?? SEAKEEPER_FIELD_MANAGER;
  switch (effective.kind) {
    case 'invalid':
      return { action: 'reject', problems: effective.problems };
    case 'configured': {
      const desired = buildBundle({ project: effective.project, config: effective.config, policy, source: effective.source });
      return {
        action: 'provision',
        source: effective.source,
        plan: planProvision({ project: effective.project, desired, liveNamespace: live.namespace, live: live.objects, fieldManager: manager }),
      };
    }
    case 'unconfigured':
    case 'missing-project':
      return {
        action: 'deprovision',
        plan: planDeprovision({
          project: effective.project,
          policy,
          reason: effective.kind,
          liveNamespace: live.namespace,
          runningWorkflows: live.runningWorkflows,
          fieldManager: manager,
        }),
      };
  }
}
