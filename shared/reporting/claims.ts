// The "already done" markers of markers.ts carried out on the object they are about (a Workflow; a config
// check's Lease), each step a compare-and-swap at the resourceVersion it was decided on (k8s/cas.ts: on a
// conflict, read again and decide again). The claim is what makes concurrent deliveries act once: the one whose
// patch lands holds it; the others re-read, see the claim, and stop.
import { casPatch, type ObjectRef, type VersionedObject } from '../k8s/cas.js';
import type { ClusterApi } from '../k8s/cluster.js';
import type { Logger } from '../log.js';
import { claimPatch, donePatch, releasePatch, type MarkerKeys } from './markers.js';
import type { ClaimAttempt, HeldClaim } from './post-once.js';

export type MarkerCluster = Pick<ClusterApi, 'get' | 'patch'>;

/** What the caller decides on the object as read: act (for its phase, carrying `value`), or not and why. */
export type ClaimDecision<V> = { readonly act: true; readonly phase: string; readonly value: V } | { readonly act: false; readonly reason: string };

export type Claim<T, V> =
  | {
      readonly claimed: true;
      /** The object as the claim left it (its resourceVersion is the claim's). */
      readonly object: T;
      /** The object as read when the decision was taken, before the claim. */
      readonly decidedOn: T;
      readonly phase: string;
      readonly value: V;
      /** The claim annotation's value: releasing gives back only a claim that is still this one. */
      readonly token: string;
    }
  | { readonly claimed: false; readonly reason: string };

/** Claims the marker on `ref` (as read: `current`, or read now) when `decide` says act. */
export async function claimMarker<T extends VersionedObject, V>(
  cluster: MarkerCluster,
  ref: ObjectRef,
  current: T | undefined,
  keys: MarkerKeys,
  decide: (object: T) => ClaimDecision<V>,
  now: () => Date,
): Promise<Claim<T, V>> {
  type Claimed = { decision: Extract<ClaimDecision<V>, { act: true }>; decidedOn: T; token: string };
  const outcome = await casPatch<T, Claimed>(cluster, ref, current, (object) => {
    const decision = decide(object);
    if (!decision.act) return { skip: decision.reason };
    const patch = claimPatch(keys, decision.phase, now());
    return { patch, result: { decision, decidedOn: object, token: patch.metadata.annotations[keys.claim]! } };
  });
  if (!outcome.done) return { claimed: false, reason: outcome.reason };
  const { decision, decidedOn, token } = outcome.result;
  return { claimed: true, object: outcome.object, decidedOn, phase: decision.phase, value: decision.value, token };
}

/** Records the marker as done for `phase` and drops the claim. Throws when it cannot (after the CAS retries). */
export async function markDone<T extends VersionedObject>(cluster: MarkerCluster, ref: ObjectRef, object: T, keys: MarkerKeys, phase: string): Promise<void> {
  await casPatch(cluster, ref, object, () => ({ patch: donePatch(keys, phase), result: true }));
}

/**
 * Gives the claim back after the action failed, so that the retry may act at once — only while the claim is
 * still `token` (a claim that outlived CLAIM_TTL_MS may have been taken by another delivery). Never throws:
 * a claim that stays is abandoned after CLAIM_TTL_MS anyway; the failure is logged.
 */
export async function releaseClaim<T extends VersionedObject>(cluster: MarkerCluster, ref: ObjectRef, object: T, keys: MarkerKeys, token: string, logger: Logger): Promise<void> {
  try {
    await casPatch(cluster, ref, object, (current) =>
      current.metadata.annotations?.[keys.claim] === token ? { patch: releasePatch(keys), result: true } : { skip: 'not our claim' },
    );
  } catch (err) {
    logger.warn({ object: `${ref.kind} ${ref.namespace ?? ''}/${ref.name}`, marker: keys.claim, err }, 'the claim was not released; it expires by itself');
  }
}

/** A claim as postOnce holds it: the object as claimed and the phase, with the decision's value. */
export interface ClaimedObject<T, V> {
  readonly object: T;
  readonly phase: string;
  readonly value: V;
}

/** claimMarker as postOnce takes it: the claim on `ref`, and its done and release steps. */
export async function heldMarker<T extends VersionedObject, V>(
  cluster: MarkerCluster,
  ref: ObjectRef,
  current: T | undefined,
  keys: MarkerKeys,
  decide: (object: T) => ClaimDecision<V>,
  now: () => Date,
): Promise<ClaimAttempt<ClaimedObject<T, V>>> {
  const claim = await claimMarker(cluster, ref, current, keys, decide, now);
  if (!claim.claimed) return claim;
  return heldClaim(cluster, ref, keys, claim);
}

/**
 * postOnce's view of a claim an object was created holding (`token`, its claim annotation): nothing was there
 * before it, so nothing can have been posted.
 */
export function createdClaim<T extends VersionedObject>(cluster: MarkerCluster, ref: ObjectRef, keys: MarkerKeys, object: T, phase: string, token: string): HeldClaim<ClaimedObject<T, undefined>> {
  return { ...heldClaim(cluster, ref, keys, { claimed: true, object, decidedOn: object, phase, value: undefined, token }), tookOver: false };
}

/** postOnce's view of a claim taken on `ref`. */
export function heldClaim<T extends VersionedObject, V>(
  cluster: MarkerCluster,
  ref: ObjectRef,
  keys: MarkerKeys,
  claim: Extract<Claim<T, V>, { claimed: true }>,
): HeldClaim<ClaimedObject<T, V>> {
  return {
    claimed: true,
    value: { object: claim.object, phase: claim.phase, value: claim.value },
    // decide let the claim through, so a claim for the same phase that was there had expired.
    tookOver: claim.decidedOn.metadata.annotations?.[keys.claim]?.startsWith(`${claim.phase} `) === true,
    done: () => markDone(cluster, ref, claim.object, keys, claim.phase),
    release: (logger) => releaseClaim(cluster, ref, claim.object, keys, claim.token, logger),
  };
}
