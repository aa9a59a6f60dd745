// "Already done" markers stored on the object they are about — the Workflow of a run (Prow keeps its last
// reported state on the ProwJob), the Lease of a change (leases.ts). Two steps, each a compare-and-swap (merge patch
// at the read resourceVersion):
//   claim  `<key>-claim: <phase> <time>`  — taken before acting; a concurrent delivery that lost the race gets
//          a 409, re-reads, and sees the claim
//   done   `<key>: <phase>`               — set after acting, clearing the claim
// When the action fails, the holder releases the claim before throwing, so Knative's retry acts at once; a
// claim older than CLAIM_TTL_MS is abandoned (its holder crashed): the next delivery or the reconcile pass
// acts again. A marker names the phase it was for, so a Workflow retried to another phase is handled anew.

export interface MarkerKeys {
  readonly claim: string;
  readonly done: string;
}

/** workflow-completed: the report was posted. */
export const REPORT_MARKER: MarkerKeys = { claim: 'seakeeper.dev/reported-claim', done: 'seakeeper.dev/reported' };
/** patchset-created, comment-added: the run's start message was posted. */
export const START_MARKER: MarkerKeys = { claim: 'seakeeper.dev/started-claim', done: 'seakeeper.dev/started' };
/** workflow-watch: the workflow.completed event was emitted. */
export const COMPLETED_EVENT_MARKER: MarkerKeys = { claim: 'seakeeper.dev/completed-event-claim', done: 'seakeeper.dev/completed-event' };

export const CLAIM_TTL_MS = 5 * 60_000;

export type MarkerState = 'done' | 'claimed' | 'free';

type Annotated = { metadata: { annotations?: Record<string, string> } };

/** The phase the marker is claimed for by a claim younger than `ttlMs`, if any: a delivery at work on it now. */
export function liveClaim(object: Annotated, keys: MarkerKeys, now: Date, ttlMs = CLAIM_TTL_MS): string | undefined {
  const claim = object.metadata.annotations?.[keys.claim];
  const match = claim === undefined ? null : /^(\S+) (\S+)$/.exec(claim);
  if (!match) return undefined;
  const at = Date.parse(match[2]!);
  const age = now.getTime() - at;
  return Number.isFinite(at) && age >= 0 && age < ttlMs ? match[1] : undefined;
}

/** Where an object stands for one marker and phase. */
export function markerState(object: Annotated, keys: MarkerKeys, phase: string, now: Date, ttlMs = CLAIM_TTL_MS): MarkerState {
  if (object.metadata.annotations?.[keys.done] === phase) return 'done';
  return liveClaim(object, keys, now, ttlMs) === phase ? 'claimed' : 'free';
}

export interface AnnotationPatch {
  readonly metadata: { readonly annotations: Readonly<Record<string, string | null>> };
}

/** The merge patch that claims the marker (apply at the read resourceVersion). */
export function claimPatch(keys: MarkerKeys, phase: string, now: Date): AnnotationPatch {
  return { metadata: { annotations: { [keys.claim]: `${phase} ${now.toISOString()}` } } };
}

/** The merge patch that records the marker as done and drops the claim. */
export function donePatch(keys: MarkerKeys, phase: string): AnnotationPatch {
  return { metadata: { annotations: { [keys.done]: phase, [keys.claim]: null } } };
}

/** The merge patch that gives a claim back (the action failed and will be retried): the retry may act at once. */
export function releasePatch(keys: MarkerKeys): AnnotationPatch {
  return { metadata: { annotations: { [keys.claim]: null } } };
}
