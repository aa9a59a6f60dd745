// The one way Seakeeper posts on a change. Every message and vote — a run's start message and its report, a
// refused workflow definition, the config check, and the gate's votes — goes through postOnce, so that an event
// delivered twice at once (both ingress paths send every Gerrit event, and the Broker does not deduplicate)
// posts once, and a delivery that died half-way is finished by the next one (docs/architecture.md, "The vote
// path"):
//
//   1. claim    on the object the post is about: a marker on its Workflow, or on a Lease of the change when
//               there is no Workflow (claims.ts, leases.ts). A delivery that loses the claim stops.
//   2. check    what is already on the change, when the claim took over one that expired (its holder may have
//               posted before dying) or the caller read the change's messages anyway: found → only mark done.
//   3. post     the ReviewPlan; a vote Gerrit refuses (403) is posted again as the message alone.
//   4. done     mark the claim done. A failed post releases the claim and throws (the retry may claim at once).
import { ForbiddenError } from '../errors.js';
import { VotesNotAppliedError, type GerritApi } from '../gerrit/client.js';
import type { Logger } from '../log.js';
import { fill, VOTE_NOT_PERMITTED_FORMAT, type PostedMessage, type ReviewPlan } from './messages.js';

export type PostGerrit = Pick<GerritApi, 'getChange' | 'postReview'>;

/** A claim held on the object a post is about, with what its holder decided when it claimed. */
export interface HeldClaim<V> {
  readonly claimed: true;
  readonly value: V;
  /** The claim replaced one that had expired: its holder may have posted before it died. */
  readonly tookOver: boolean;
  /** Records the post as done; throws when it cannot. */
  done(): Promise<void>;
  /** Gives the claim back after a failed post; never throws. */
  release(logger: Logger): Promise<void>;
}

export type ClaimAttempt<V> = HeldClaim<V> | { readonly claimed: false; readonly reason: string };

export interface Post<V> {
  /** Takes the claim (step 1). */
  readonly claim: () => Promise<ClaimAttempt<V>>;
  /** The review, from what the claim decided. */
  readonly plan: (value: V) => ReviewPlan;
  /** Whether this post is among the change's messages (step 2). */
  readonly onChange: (messages: readonly PostedMessage[], plan: ReviewPlan) => boolean;
  /** The change's messages, when the caller read them before claiming. */
  readonly messages?: readonly PostedMessage[] | undefined;
}

export type PostResult<V> =
  | {
      readonly result: 'posted';
      readonly value: V;
      readonly plan: ReviewPlan;
      /** Whether the plan's votes were cast. */
      readonly voted: boolean;
      /** The votes (`Label=value`) that were not cast, and why. */
      readonly notVoted?: readonly string[];
      readonly why?: 'not-permitted' | 'not-applied';
      /** Posted, but the done marker could not be recorded (logged; the tagged message stops a later post). */
      readonly marker?: 'not-recorded';
    }
  | { readonly result: 'already-posted'; readonly value: V; readonly marker?: 'not-recorded' }
  /** Another delivery holds or held the claim, or the claim's decision was not to post: `reason` says which. */
  | { readonly result: 'not-claimed'; readonly reason: string };

/** Steps 1–4. Throws what posting threw (after releasing the claim); everything else is in the result. */
export async function postOnce<V>(gerrit: PostGerrit, post: Post<V>, logger: Logger): Promise<PostResult<V>> {
  const claim = await post.claim();
  if (!claim.claimed) return { result: 'not-claimed', reason: claim.reason };
  const plan = post.plan(claim.value);

  const messages = claim.tookOver ? await messagesOf(gerrit, plan.changeId) : post.messages;
  if (messages && post.onChange(messages, plan)) {
    return { result: 'already-posted', value: claim.value, ...(await markDone(claim, plan, logger)) };
  }

  let outcome: PostOutcome;
  try {
    outcome = await postReviewPlan(gerrit, plan);
  } catch (err) {
    await claim.release(logger);
    throw err;
  }
  if ('notVoted' in outcome) logger.warn({ change: plan.changeId, notVoted: outcome.notVoted, why: outcome.why }, 'posted without the vote');
  return { result: 'posted', value: claim.value, plan, ...outcome, ...(await markDone(claim, plan, logger)) };
}

async function markDone(claim: HeldClaim<unknown>, plan: ReviewPlan, logger: Logger): Promise<{ marker?: 'not-recorded' }> {
  try {
    await claim.done();
    return {};
  } catch (err) {
    // Posted: a twin finds the claim and stops; once the claim expires, the next delivery (or reconcile) reads
    // the change's messages, finds the post and records the marker instead of posting again.
    logger.error({ change: plan.changeId, err }, 'posted, but the done marker was not recorded');
    return { marker: 'not-recorded' };
  }
}

async function messagesOf(gerrit: PostGerrit, changeId: string): Promise<readonly PostedMessage[]> {
  return (await gerrit.getChange(changeId, ['MESSAGES'])).messages ?? [];
}

export type PostOutcome =
  | { readonly voted: boolean }
  | { readonly voted: false; readonly notVoted: readonly string[]; readonly why: 'not-permitted' | 'not-applied' };

const votesText = (labels: Readonly<Record<string, number>>): string[] =>
  Object.entries(labels).map(([label, value]) => `${label}${value > 0 ? '+' : ''}${value}`);

/**
 * Step 3, with what Gerrit answers when the vote cannot be cast:
 *   403 on the labels   the account may not cast that vote on this change (Gerrit posted nothing): posted again
 *                       as the message alone, VOTE_NOT_PERMITTED_FORMAT in front, so the developer still sees
 *                       the result. In front, the plan's message stays the end of what Gerrit stores, which is
 *                       how reviewAlreadyPosted recognises it.
 *   200 without a vote  no such label on the change, or a value outside its range (VotesNotAppliedError): the
 *                       message was posted already; nothing to repeat.
 * Anything else is thrown as it is (5xx, network: transient, retried).
 */
export async function postReviewPlan(gerrit: Pick<GerritApi, 'postReview'>, plan: ReviewPlan): Promise<PostOutcome> {
  const labels = plan.review.labels ?? {};
  const voting = Object.keys(labels).length > 0;
  try {
    await gerrit.postReview(plan.changeId, plan.revision, plan.review);
    return { voted: voting };
  } catch (err) {
    if (err instanceof VotesNotAppliedError) return { voted: false, notVoted: err.dropped, why: 'not-applied' };
    if (!(err instanceof ForbiddenError) || !voting) throw err;
  }
  const votes = votesText(labels);
  const note = fill(VOTE_NOT_PERMITTED_FORMAT, { votes: votes.join(', ') });
  const { labels: _dropped, ...rest } = plan.review;
  // The plan's message keeps under MAX_REPORT_BYTES, 1 KiB below Gerrit's limit: room for the note.
  await gerrit.postReview(plan.changeId, plan.revision, { ...rest, message: plan.review.message ? `${note}\n\n${plan.review.message}` : note });
  return { voted: false, notVoted: votes, why: 'not-permitted' };
}
