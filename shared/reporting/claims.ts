// The "already done" markers of markers.ts carried out on a Workflow, each step a compare-and-swap at the
// resourceVersion it was decided on (workflow-store.ts's casUpdate: on a conflict, read again and decide
// again). The claim is what makes concurrent deliveries act once: the one whose patch lands holds it; the
// others re-read, see the claim, and stop.
import { claimPatch, donePatch, releasePatch, type MarkerKeys } from './markers.js';
import { casUpdate, refOfWorkflow, type WorkflowCluster, type WorkflowRef } from '../pipelines/workflow-store.js';
import type { LiveWorkflow } from '../pipelines/workflow.js';
import type { Logger } from '../log.js';

/** What the caller decides on a Workflow as read: act (for its phase, carrying `value`), or not and why. */
export type ClaimDecision<V> = { readonly act: true; readonly phase: string; readonly value: V } | { readonly act: false; readonly reason: string };

export type Claim<V> =
  | {
      readonly claimed: true;
      /** The Workflow as the claim left it (its resourceVersion is the claim's). */
      readonly workflow: LiveWorkflow;
      /** The Workflow as read when the decision was taken, before the claim. */
      readonly decidedOn: LiveWorkflow;
      readonly phase: string;
      readonly value: V;
      /** The claim annotation's value: releasing gives back only a claim that is still this one. */
      readonly token: string;
    }
  | { readonly claimed: false; readonly reason: string };

export async function claimMarker<V>(
  cluster: WorkflowCluster,
  workflow: LiveWorkflow,
  keys: MarkerKeys,
  decide: (workflow: LiveWorkflow) => ClaimDecision<V>,
  now: () => Date,
): Promise<Claim<V>> {
  type Claimed = { decision: Extract<ClaimDecision<V>, { act: true }>; decidedOn: LiveWorkflow; token: string };
  const outcome = await casUpdate<Claimed>(cluster, refOfWorkflow(workflow), workflow, (current) => {
    const decision = decide(current);
    if (!decision.act) return { skip: decision.reason };
    const patch = claimPatch(keys, decision.phase, now());
    return { patch, result: { decision, decidedOn: current, token: patch.metadata.annotations[keys.claim]! } };
  });
  if (!outcome.done) return { claimed: false, reason: outcome.reason };
  const { decision, decidedOn, token } = outcome.result;
  return { claimed: true, workflow: outcome.workflow, decidedOn, phase: decision.phase, value: decision.value, token };
}

/** Records the marker as done for `phase` and drops the claim. Throws when it cannot (after the CAS retries). */
export async function markDone(cluster: WorkflowCluster, workflow: LiveWorkflow, keys: MarkerKeys, phase: string): Promise<void> {
  await casUpdate(cluster, refOfWorkflow(workflow), workflow, () => ({ patch: donePatch(keys, phase), result: true }));
}

/**
 * Gives the claim back after the action failed, so that the retry may act at once — only while the claim is
 * still `token` (a claim that outlived CLAIM_TTL_MS may have been taken by another delivery). Never throws:
 * a claim that stays is abandoned after CLAIM_TTL_MS anyway; the failure is logged.
 */
export async function releaseClaim(cluster: WorkflowCluster, workflow: LiveWorkflow, keys: MarkerKeys, token: string, logger: Logger): Promise<void> {
  const ref: WorkflowRef = refOfWorkflow(workflow);
  try {
    await casUpdate(cluster, ref, workflow, (current) =>
      current.metadata.annotations?.[keys.claim] === token ? { patch: releasePatch(keys), result: true } : { skip: 'not our claim' },
    );
  } catch (err) {
    logger.warn({ workflow: `${ref.namespace}/${ref.name}`, marker: keys.claim, err }, 'the claim was not released; it expires by itself');
  }
}
