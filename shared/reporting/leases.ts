// The config check votes once per patch set even when the same event arrives twice at once — gerrit-webhook and
// gerrit-stream both send every Gerrit event, with the same id, and the Broker does not deduplicate. Reading the
// change's messages first (config-review.ts) catches a redelivery, not a twin running alongside; so before
// posting, a delivery claims the patch set on a Lease in the system namespace (one per change, kept by reconcile
// until the change is old), with the claim/done markers the reporters use on Workflows (reporting/markers.ts):
// the Lease is created with the claim, or the claim is taken by compare-and-swap; the loser stops.
import type { ObjectRef } from '../k8s/cas.js';
import type { ClusterApi, ClusterObject } from '../k8s/cluster.js';
import { httpClusterFromEnv, systemNamespaceEnv } from '../k8s/http-cluster.js';
import { loadEnv, type Env } from '../env.js';
import { loadAll, type SharedParts } from '../config/policy-env.js';
import type { Logger } from '../log.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, projectHash, COMPONENT_LABEL, LEASE_API_VERSION, LEASE_KIND } from '../names.js';
import { claimMarker, markDone, releaseClaim, type Claim } from './claims.js';
import { claimPatch, liveClaim, markerState, type MarkerKeys } from './markers.js';

export const CONFIG_CHECK_MARKER: MarkerKeys = { claim: 'seakeeper.dev/config-check-claim', done: 'seakeeper.dev/config-checked' };
export const CONFIG_CHECK_COMPONENT = 'config-check';
export const CHANGE_ANNOTATION = 'seakeeper.dev/change';
/** Selects the config check's Leases. */
export const CONFIG_CHECK_LEASES = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${COMPONENT_LABEL}=${CONFIG_CHECK_COMPONENT}`;

export interface PatchSetIdentity {
  readonly project: string;
  readonly change: number;
  /** The patch set's commit: the marker's phase, so each patch set is claimed anew. */
  readonly revision: string;
}

export type ConfigCheckLease = ClusterObject & { spec?: Record<string, unknown> };

export type ConfigCheckClaim = Claim<ConfigCheckLease, undefined>;

/** The Lease of a change: a DNS subdomain whatever the project's name. */
export function configCheckLeaseName(project: string, change: number): string {
  return `config-check-${projectHash(project)}-${change}`;
}

/** The Lease that holds `target`'s claim from `now` on, as created. */
export function claimedLease(target: PatchSetIdentity, namespace: string, now: Date): ConfigCheckLease {
  return {
    apiVersion: LEASE_API_VERSION,
    kind: LEASE_KIND,
    metadata: {
      name: configCheckLeaseName(target.project, target.change),
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [COMPONENT_LABEL]: CONFIG_CHECK_COMPONENT, [PROJECT_HASH_LABEL]: projectHash(target.project) },
      annotations: { [PROJECT_ANNOTATION]: target.project, [CHANGE_ANNOTATION]: String(target.change), ...claimPatch(CONFIG_CHECK_MARKER, target.revision, now).metadata.annotations } as Record<string, string>,
    },
    spec: {},
  };
}

/** Whether a delivery may claim the patch set on the Lease as read, and if not why. */
export function claimDecision(lease: ConfigCheckLease, revision: string, now: Date) {
  const state = markerState(lease, CONFIG_CHECK_MARKER, revision, now);
  if (state === 'free') return { act: true as const, phase: revision, value: undefined };
  return { act: false as const, reason: state === 'done' ? 'already-reported' : 'in-progress' };
}

export class ConfigCheckClaims {
  constructor(
    readonly cluster: Pick<ClusterApi, 'create' | 'get' | 'patch'>,
    /** The system namespace, where the Leases live. */
    readonly namespace: string,
  ) {}

  #ref(target: PatchSetIdentity): ObjectRef {
    return { apiVersion: LEASE_API_VERSION, kind: LEASE_KIND, namespace: this.namespace, name: configCheckLeaseName(target.project, target.change) };
  }

  /** The claim on `target`, or why another delivery has it (in-progress) or had it (already-reported). */
  async claim(target: PatchSetIdentity, now: () => Date = () => new Date()): Promise<ConfigCheckClaim> {
    // Created, or found and claimed; a Lease deleted in between (reconcile pruning it) is created again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const lease = claimedLease(target, this.namespace, now());
      const created = await this.cluster.create(lease);
      if (created.created) {
        const token = lease.metadata.annotations![CONFIG_CHECK_MARKER.claim]!;
        return { claimed: true, object: created.object, decidedOn: created.object, phase: target.revision, value: undefined, token };
      }
      const claim = await claimMarker(this.cluster, this.#ref(target), undefined, CONFIG_CHECK_MARKER, (found: ConfigCheckLease) => claimDecision(found, target.revision, now()), now);
      if (claim.claimed || claim.reason !== 'gone') return claim;
    }
    return { claimed: false, reason: 'in-progress' };
  }

  /** The vote was posted: later deliveries for this patch set stop at the Lease. */
  async done(target: PatchSetIdentity, claim: Extract<ConfigCheckClaim, { claimed: true }>): Promise<void> {
    await markDone(this.cluster, this.#ref(target), claim.object, CONFIG_CHECK_MARKER, claim.phase);
  }

  /** Posting failed: the redelivery may claim at once. Never throws. */
  async release(target: PatchSetIdentity, claim: Extract<ConfigCheckClaim, { claimed: true }>, logger: Logger): Promise<void> {
    await releaseClaim(this.cluster, this.#ref(target), claim.object, CONFIG_CHECK_MARKER, claim.token, logger);
  }
}

/** A config check's Lease is kept this long after it was created: changes to refs/meta/config are short-lived. */
export const LEASE_KEEP_MS = 30 * 24 * 3600_000;

/** The Leases to delete: older than `keepMs`, and not claimed by a delivery at work right now. */
export function staleLeases(leases: readonly ConfigCheckLease[], now: Date, keepMs = LEASE_KEEP_MS): ConfigCheckLease[] {
  return leases.filter((lease) => {
    const created = Date.parse(String(lease.metadata.creationTimestamp ?? ''));
    if (!Number.isFinite(created) || now.getTime() - created < keepMs) return false;
    return liveClaim(lease, CONFIG_CHECK_MARKER, now) === undefined;
  });
}

/**
 * reconcile's pass over the config check's Leases: deletes the stale ones. A patch set checked before its Lease
 * went is still recognised by its tagged message; a later one gets a new Lease.
 */
export class ConfigCheckLeasePruner {
  constructor(
    readonly cluster: Pick<ClusterApi, 'list' | 'delete'>,
    readonly namespace: string,
  ) {}

  /** The cluster (KUBECONFIG, else the pod's ServiceAccount; `shared.cluster` as it is) and SEAKEEPER_NAMESPACE. */
  static fromEnv(env: Env = process.env, shared: SharedParts = {}): ConfigCheckLeasePruner {
    const [cluster, config] = loadAll(
      () => shared.cluster ?? httpClusterFromEnv(env),
      () => loadEnv(systemNamespaceEnv, env),
    );
    return new ConfigCheckLeasePruner(cluster, config.SEAKEEPER_NAMESPACE);
  }

  async run(now = new Date()): Promise<{ leases: number; deleted: number }> {
    const leases = await this.cluster.list<ConfigCheckLease>(LEASE_API_VERSION, LEASE_KIND, this.namespace, CONFIG_CHECK_LEASES);
    const stale = staleLeases(leases, now);
    for (const lease of stale) await this.cluster.delete(LEASE_API_VERSION, LEASE_KIND, this.namespace, lease.metadata.name);
    return { leases: leases.length, deleted: stale.length };
  }
}
