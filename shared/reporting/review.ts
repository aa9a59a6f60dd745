// Posting a ReviewPlan (a run's report, a start message, a rejected definition) on Gerrit, with what Gerrit
// answers when the vote cannot be cast:
//   403 on the labels   the account may not cast that vote on this change (Gerrit posted nothing): posted again
//                       as the message alone, VOTE_NOT_PERMITTED_FORMAT in front, so the developer still sees
//                       the result. Put in front, the plan's message stays the end of what Gerrit stores, which
//                       is how reviewAlreadyPosted recognises it.
//   200 without a vote  no such label on the change, or a value outside its range (VotesNotAppliedError): the
//                       message was posted already; nothing to repeat.
// Either way the outcome says which votes were not cast, for the log line. Anything else is thrown as it is
// (5xx, network: transient, retried).
import { ForbiddenError } from '../errors.js';
import { VotesNotAppliedError, type GerritApi } from '../gerrit/client.js';
import { fill, VOTE_NOT_PERMITTED_FORMAT, type ReviewPlan } from './messages.js';

export type ReviewGerrit = Pick<GerritApi, 'postReview'>;

export type PostOutcome =
  | { readonly posted: true; readonly voted: boolean }
  /** The message went out; these votes (`Label=value`) did not. */
  | { readonly posted: true; readonly voted: false; readonly notVoted: readonly string[]; readonly why: 'not-permitted' | 'not-applied' };

const votesText = (labels: Readonly<Record<string, number>>): string[] =>
  Object.entries(labels).map(([label, value]) => `${label}${value > 0 ? '+' : ''}${value}`);

export async function postReviewPlan(gerrit: ReviewGerrit, plan: ReviewPlan): Promise<PostOutcome> {
  const labels = plan.review.labels ?? {};
  const voting = Object.keys(labels).length > 0;
  try {
    await gerrit.postReview(plan.changeId, plan.revision, plan.review);
    return { posted: true, voted: voting };
  } catch (err) {
    if (err instanceof VotesNotAppliedError) return { posted: true, voted: false, notVoted: err.dropped, why: 'not-applied' };
    if (!(err instanceof ForbiddenError) || !voting) throw err;
  }
  const votes = votesText(labels);
  const note = fill(VOTE_NOT_PERMITTED_FORMAT, { votes: votes.join(', ') });
  const { labels: _dropped, ...rest } = plan.review;
  // The plan's message keeps under MAX_REPORT_BYTES, 1 KiB below Gerrit's limit: room for the note.
  await gerrit.postReview(plan.changeId, plan.revision, { ...rest, message: plan.review.message ? `${note}\n\n${plan.review.message}` : note });
  return { posted: true, voted: false, notVoted: votes, why: 'not-permitted' };
}
