// Claims for posts that have no Workflow to carry them (post-once.ts, step 1): the config check's vote and a
// refused workflow definition. Each is claimed on a Lease per change in the system namespace, with the same
// claim/done markers a Workflow carries (markers.ts), its phase the patch set's commit so that each patch set is
// claimed anew: the Lease is created holding the claim, or the claim is taken by compare-and-swap; the loser
// stops. reconcile deletes a change's Lease once the change is old (LeasePruner).
import type { ObjectRef } from '../k8s/cas.js';
import type { ClusterApi, ClusterObject } from '../k8s/cluster.js';
import { systemNamespaceEnv } from '../k8s/env.js';
import { httpClusterFromEnv } from '../k8s/http-cluster.js';
import { loadEnv, type Env } from '../env.js';
import { ConflictError } from '../errors.js';
import { loadAll, type SharedParts } from '../config/policy-env.js';
import { COMPONENT_LABEL, LEASE_API_VERSION, LEASE_KIND, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, projectHash } from '../names.js';
import { createdClaim, heldMarker, type ClaimedObject } from './claims.js';
import { claimPatch, liveClaim, markerState, type MarkerKeys } from './markers.js';
import type { ClaimAttempt } from './post-once.js';

export const CHANGE_ANNOTATION = 'seakeeper.dev/change';

/** What a change's Lease is for: its component label, which also begins its name. */
export interface LeasePurpose {
  readonly component: string;
}

export const CONFIG_CHECK_LEASE: LeasePurpose = { component: 'config-check' };
export const REJECTION_LEASE: LeasePurpose = { component: 'rejection' };
/** Why an approved change did not enter its gate queue, once per patch set (gate.ts). */
export const GATE_REFUSAL_LEASE: LeasePurpose = { component: 'gate-refusal' };
/** A report or message a gate queue owes, one Lease per notice, named by its id (gate.ts). */
export const GATE_NOTICE_LEASE: LeasePurpose = { component: 'gate-notice' };
/** The vote that passes a gate queue's head, one Lease per run, named by it (gate.ts). */
export const GATE_SUBMIT_LEASE: LeasePurpose = { component: 'gate-submit' };
/** How an uploader outside a pipeline's set of accounts gets their change tested, once per change (triggers.ts). */
export const UPLOADER_NOTICE_LEASE: LeasePurpose = { component: 'uploader-notice' };
const PURPOSES = [CONFIG_CHECK_LEASE, REJECTION_LEASE, GATE_REFUSAL_LEASE, GATE_NOTICE_LEASE, GATE_SUBMIT_LEASE, UPLOADER_NOTICE_LEASE];

export const CONFIG_CHECK_MARKER: MarkerKeys = { claim: 'seakeeper.dev/config-check-claim', done: 'seakeeper.dev/config-checked' };

/** A pipeline's refused definition, claimed per pipeline on the change's rejection Lease (names: ≤ 40 chars). */
export function rejectionMarker(pipeline: string): MarkerKeys {
  return { claim: `seakeeper.dev/rejected-${pipeline}-claim`, done: `seakeeper.dev/rejected-${pipeline}` };
}

/** A gate queue's notice (its Lease is the notice's own). */
export const NOTICE_MARKER: MarkerKeys = { claim: 'seakeeper.dev/notice-claim', done: 'seakeeper.dev/notice' };
export const SUBMIT_MARKER: MarkerKeys = { claim: 'seakeeper.dev/submit-vote-claim', done: 'seakeeper.dev/submit-vote' };
/** The uploader notice; its phase is ONCE_PER_CHANGE, not a patch set's commit. */
export const UPLOADER_NOTICE_MARKER: MarkerKeys = { claim: 'seakeeper.dev/uploader-notice-claim', done: 'seakeeper.dev/uploader-notice' };
/** The phase of a post made once per change whatever its patch sets (PatchSetIdentity.revision). */
export const ONCE_PER_CHANGE = 'change';

/** Why a change did not enter a pipeline's queue, claimed per pipeline on the change's gate-refusal Lease. */
export function refusalMarker(pipeline: string): MarkerKeys {
  return { claim: `seakeeper.dev/not-enqueued-${pipeline}-claim`, done: `seakeeper.dev/not-enqueued-${pipeline}` };
}

/** Selects every change Lease Seakeeper keeps. */
export const CHANGE_LEASES = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${COMPONENT_LABEL} in (${PURPOSES.map((p) => p.component).join(',')})`;

export interface PatchSetIdentity {
  readonly project: string;
  readonly change: number;
  /** The patch set's commit: the marker's phase, so each patch set is claimed anew. */
  readonly revision: string;
}

export type ChangeLease = ClusterObject & { spec?: Record<string, unknown> };

/** The Lease of a change for `purpose`: a DNS label whatever the project's name. */
export function changeLeaseName(purpose: LeasePurpose, project: string, change: number): string {
  return `${purpose.component}-${projectHash(project)}-${change}`;
}

/** The Lease that holds `keys`' claim on `target` from `now` on, as created. */
export function claimedLease(purpose: LeasePurpose, keys: MarkerKeys, target: PatchSetIdentity, namespace: string, now: Date, name?: string): ChangeLease {
  return {
    apiVersion: LEASE_API_VERSION,
    kind: LEASE_KIND,
    metadata: {
      name: name ?? changeLeaseName(purpose, target.project, target.change),
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [COMPONENT_LABEL]: purpose.component, [PROJECT_HASH_LABEL]: projectHash(target.project) },
      annotations: { [PROJECT_ANNOTATION]: target.project, [CHANGE_ANNOTATION]: String(target.change), ...claimPatch(keys, target.revision, now).metadata.annotations } as Record<string, string>,
    },
    spec: {},
  };
}

/** Whether a delivery may claim the patch set on the Lease as read, and if not why. */
export function claimDecision(lease: ChangeLease, keys: MarkerKeys, revision: string, now: Date) {
  const state = markerState(lease, keys, revision, now);
  if (state === 'free') return { act: true as const, phase: revision, value: undefined };
  return { act: false as const, reason: state === 'done' ? 'already-posted' : 'in-progress' };
}

export type LeaseClaim = ClaimAttempt<ClaimedObject<ChangeLease, undefined>>;

export class ChangeLeases {
  constructor(
    readonly cluster: Pick<ClusterApi, 'create' | 'get' | 'patch'>,
    /** The system namespace, where the Leases live. */
    readonly namespace: string,
  ) {}

  /**
   * The claim on `target` for postOnce, or why another delivery has it (in-progress) or had it (already-posted).
   * `name`: a Lease of the post's own (a gate notice) instead of the change's for `purpose`.
   */
  async claim(purpose: LeasePurpose, keys: MarkerKeys, target: PatchSetIdentity, now: () => Date = () => new Date(), name?: string): Promise<LeaseClaim> {
    const ref: ObjectRef = { apiVersion: LEASE_API_VERSION, kind: LEASE_KIND, namespace: this.namespace, name: name ?? changeLeaseName(purpose, target.project, target.change) };
    // Created, or found and claimed; a Lease deleted in between (reconcile pruning it) is created again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const lease = claimedLease(purpose, keys, target, this.namespace, now(), name);
      const created = await this.cluster.create(lease);
      if (created.created) {
        const token = lease.metadata.annotations![keys.claim]!;
        return createdClaim(this.cluster, ref, keys, created.object, target.revision, token);
      }
      const claim = await heldMarker(this.cluster, ref, undefined, keys, (found: ChangeLease) => claimDecision(found, keys, target.revision, now()), now);
      if (claim.claimed || claim.reason !== 'gone') return claim;
    }
    return { claimed: false, reason: 'in-progress' };
  }
}

/** A change's Lease is kept this long after it was created: changes are short-lived. */
export const LEASE_KEEP_MS = 30 * 24 * 3600_000;

/** Whether any post is claimed on the Lease by a delivery at work right now. */
function claimedNow(lease: ChangeLease, now: Date): boolean {
  return Object.keys(lease.metadata.annotations ?? {}).some(
    (key) => key.endsWith('-claim') && liveClaim(lease, { claim: key, done: key.slice(0, -'-claim'.length) }, now) !== undefined,
  );
}

/** The Leases to delete: older than `keepMs`, and not claimed by a delivery at work right now. */
export function staleLeases(leases: readonly ChangeLease[], now: Date, keepMs = LEASE_KEEP_MS): ChangeLease[] {
  return leases.filter((lease) => {
    const created = Date.parse(String(lease.metadata.creationTimestamp ?? ''));
    if (!Number.isFinite(created) || now.getTime() - created < keepMs) return false;
    return !claimedNow(lease, now);
  });
}

/**
 * reconcile's pass over the change Leases: deletes the stale ones, each only at the resourceVersion it was
 * judged at, so that a claim taken since the list keeps its Lease. A patch set posted on before its Lease went
 * is still recognised by its tagged message; a later one gets a new Lease.
 */
export class LeasePruner {
  constructor(
    readonly cluster: Pick<ClusterApi, 'list' | 'delete'>,
    readonly namespace: string,
  ) {}

  /** The cluster (KUBECONFIG, else the pod's ServiceAccount; `shared.cluster` as it is) and SEAKEEPER_NAMESPACE. */
  static fromEnv(env: Env = process.env, shared: SharedParts = {}): LeasePruner {
    const [cluster, config] = loadAll(
      () => shared.cluster ?? httpClusterFromEnv(env),
      () => loadEnv(systemNamespaceEnv, env),
    );
    return new LeasePruner(cluster, config.SEAKEEPER_NAMESPACE);
  }

  async run(now = new Date()): Promise<{ leases: number; deleted: number }> {
    const leases = await this.cluster.list<ChangeLease>(LEASE_API_VERSION, LEASE_KIND, this.namespace, CHANGE_LEASES);
    let deleted = 0;
    for (const lease of staleLeases(leases, now)) {
      try {
        const resourceVersion = lease.metadata.resourceVersion;
        if (await this.cluster.delete(LEASE_API_VERSION, LEASE_KIND, this.namespace, lease.metadata.name, resourceVersion ? { resourceVersion } : {})) deleted++;
      } catch (err) {
        // Claimed (or otherwise changed) since the list: a delivery is at work on it; the next pass judges again.
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return { leases: leases.length, deleted };
  }
}
