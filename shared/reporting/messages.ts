// Every text Seakeeper writes on a change, as named formats (Prow's reporter keeps its formats as constants
// too), and the reviews that are not a run's result: the start message and a rejected definition. Pure.
//
// Texts are kept under Gerrit's change.commentSizeLimit (16 KiB by default; like Prow we keep to 15 KiB).
import type { ConfigProblem } from '../config/yaml.js';
import { formatProblem } from '../config/yaml.js';
import type { ReviewInput } from '../gerrit/types.js';
import type { MessagePlaceholder, Pipeline, ReportAction } from '../config/pipeline-config.js';
import { type ChangeRef } from '../runs/workflow.js';

/** Gerrit's default change.commentSizeLimit is 16 KiB; stay under it like Prow does. */
export const MAX_REPORT_BYTES = 15 * 1024;
/** A step's name or message from the run is cut to this many characters, on one line. */
export const MAX_STEP_TEXT = 300;

/** The run's own line: `<Argo UI link> : <RESULT> in <duration>`. */
export const RUN_LINE_FORMAT = '{url} : {result} in {duration}';
/** One line per step (Zuul's job line); ` — <Argo's message>` follows for a step that did not succeed. */
export const STEP_LINE_FORMAT = '- {name} : {result} in {duration}';
export const STEP_MESSAGE_FORMAT = ' — {message}';
/** One line per artifact, under its step. */
export const ARTIFACT_LINE_FORMAT = '  - {name}: {url}';
export const RUN_MESSAGE_FORMAT = 'Argo: {message}';
export const RUN_DEPENDENCIES_FORMAT = 'Tested with the changes it depends on: {dependencies}';
export const OMITTED_STEPS_FORMAT = '- … {count} more steps that succeeded or were skipped: see the Argo UI';
export const OMITTED_FAILURES_FORMAT = '- … {count} more failed steps: see the Argo UI';
export const NO_VOTE_SUPERSEDED_FORMAT = 'Patchset {newer} has replaced patchset {patchset}: this result does not vote.';
export const NO_VOTE_CLOSED_FORMAT = 'The change is {status}: this result does not vote.';
export const NO_VOTE_MERGED_FORMAT = 'The change is merged: this result does not vote against it.';
/** Put before a review's message when Gerrit refused its vote (403): the message is posted without it. */
export const VOTE_NOT_PERMITTED_FORMAT = 'Seakeeper may not vote {votes} on this change; the result follows without the vote.';
export const POLICY_NOTES_HEADER = 'Seakeeper adjusted the workflow definition:';
export const DEPENDENCIES_HEADER = 'Tested with the changes it depends on, merged first:';
export const DEPENDENCY_PROBLEMS_HEADER = 'Depends-On footers that were not followed:';
export const DEPENDENCY_CYCLE_FORMAT = 'Seakeeper cannot run the {pipeline} pipeline: its dependencies form a cycle ({cycle}). Remove a Depends-On footer from one of these changes, then upload a new patch set.';
export const REJECTION_HEADER_FORMAT = 'Seakeeper cannot run the {pipeline} pipeline: {source} breaks the workflow policy ({count}).';
export const REJECTION_FOOTER =
  "An owner of the project can fix the definition on refs/meta/config (the config check lists the same problems); then trigger the pipeline again.";

/** Argo's phases as Zuul writes results. */
export const RESULT_NAMES: Readonly<Record<string, string>> = {
  Succeeded: 'SUCCESS',
  Failed: 'FAILURE',
  Error: 'ERROR',
  Skipped: 'SKIPPED',
  Omitted: 'OMITTED',
  Running: 'RUNNING',
  Pending: 'PENDING',
};

export const resultName = (phase: string | undefined): string => (phase ? (RESULT_NAMES[phase] ?? phase.toUpperCase()) : 'UNKNOWN');

/** Fills `{name}` from `values`; braces naming nothing given are left as written. */
export function fill(format: string, values: Readonly<Record<string, string | number | undefined>>): string {
  return format.replace(/\{([A-Za-z_][A-Za-z0-9_-]*)\}/g, (whole, key: string) => {
    const value = Object.hasOwn(values, key) ? values[key] : undefined;
    return value === undefined ? whole : String(value);
  });
}

/** A pipeline's message template with its placeholders filled. */
export function renderTemplate(template: string, values: Partial<Record<MessagePlaceholder, string | number>>): string {
  return fill(template, values);
}

/** `42s`, `3m 07s`, `1h 02m 03s`; `0s` below a second; `?` when unknown. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '?';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h ${two(m)}m ${two(s)}s`;
  if (m > 0) return `${m}m ${two(s)}s`;
  return `${s}s`;
}

/** Milliseconds between two RFC 3339 times, or undefined. */
export function durationMs(startedAt: unknown, finishedAt: unknown): number | undefined {
  if (typeof startedAt !== 'string' || typeof finishedAt !== 'string') return undefined;
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** Text from the run (step names, Argo messages) on one line, cut short. */
export function oneLineText(text: string, max = MAX_STEP_TEXT): string {
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** UTF-8 size: what Gerrit's limit is measured against, conservatively. */
export const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/** The review to post: where, what, and whether to submit afterwards. */
export interface ReviewPlan {
  /** Gerrit's REST id, `project~number` (the client encodes it). */
  readonly changeId: string;
  /** The commit the review is about: the revision that was tested. */
  readonly revision: string;
  readonly review: ReviewInput;
  /** Submit the change after the review (gate pipelines, on success). */
  readonly submit: boolean;
}

function reviewOf(action: ReportAction, message: string, tag: string, vote: boolean): ReviewInput {
  const labels = vote && Object.keys(action.labels).length > 0 ? { labels: { ...action.labels } } : {};
  return { message, ...labels, tag, notify: action.notify };
}

/** What a run's start message says about the change's dependencies: those it is tested with, and the footers not followed. */
export interface StartDependencies {
  readonly tested: readonly string[];
  readonly problems: readonly string[];
}

/** A check the change's dependencies make impossible: the pipeline's failure vote, and the cycle named. */
export function dependencyCycleReview(pipeline: Pipeline, change: ChangeRef, cycle: readonly number[]): ReviewPlan {
  const message = fill(DEPENDENCY_CYCLE_FORMAT, { pipeline: pipeline.name, cycle: cycle.join(' → ') });
  return { changeId: `${change.project}~${change.number}`, revision: change.revision, review: reviewOf(pipeline.failure, message, pipeline.tag, true), submit: false };
}

/** The review posted when a run starts (once per run: the vote path claims it on the run), or undefined. */
export function startReview(pipeline: Pipeline, change: ChangeRef, url: string, notes: readonly string[] = [], dependencies: StartDependencies = { tested: [], problems: [] }): ReviewPlan | undefined {
  if (!pipeline.start) return undefined;
  let message = renderTemplate(pipeline.start.message, { pipeline: pipeline.name, change: change.number, patchset: change.patchset, url });
  const section = (header: string, lines: readonly string[]) => (lines.length > 0 ? `\n\n${header}\n${lines.map((n) => `- ${oneLineText(n, 500)}`).join('\n')}` : '');
  message += section(DEPENDENCIES_HEADER, dependencies.tested) + section(DEPENDENCY_PROBLEMS_HEADER, dependencies.problems) + section(POLICY_NOTES_HEADER, notes);
  return {
    changeId: `${change.project}~${change.number}`,
    revision: change.revision,
    review: reviewOf(pipeline.start, cut(message), pipeline.tag, true),
    submit: false,
  };
}

/** The review for a definition the policy refused: the pipeline's failure vote, and every problem located. */
export function rejectionReview(pipeline: Pipeline, change: ChangeRef, source: string, problems: readonly ConfigProblem[]): ReviewPlan {
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  const header = fill(REJECTION_HEADER_FORMAT, { pipeline: pipeline.name, source, count });
  const reserve = byteLength(header) + byteLength(REJECTION_FOOTER) + 200;
  const lines: string[] = [];
  let bytes = reserve;
  for (const [i, problem] of problems.entries()) {
    const line = `- ${oneLineText(formatProblem(problem), 500)}`;
    if (bytes + byteLength(line) + 1 > MAX_REPORT_BYTES) {
      lines.push(`- … and ${problems.length - i} more`);
      break;
    }
    lines.push(line);
    bytes += byteLength(line) + 1;
  }
  const message = `${header}\n\n${lines.join('\n')}\n\n${REJECTION_FOOTER}`;
  return {
    changeId: `${change.project}~${change.number}`,
    revision: change.revision,
    review: reviewOf(pipeline.failure, message, pipeline.tag, true),
    submit: false,
  };
}

/** A change message as Gerrit lists it (ChangeInfo.messages with o=MESSAGES). */
export interface PostedMessage {
  readonly message: string;
  readonly tag?: string;
  readonly _revision_number?: number;
}

/**
 * Whether this review was already posted on that patchset (Gerrit stores it behind a "Patch Set N: <votes>"
 * header): a redelivered event that led to a review without a Workflow to mark it (a rejected definition) asks
 * this before posting again.
 */
export function reviewAlreadyPosted(messages: readonly PostedMessage[], plan: ReviewPlan, patchset: number): boolean {
  const text = plan.review.message ?? '';
  return messages.some((m) => m.tag === plan.review.tag && m._revision_number === patchset && text !== '' && m.message.endsWith(text));
}

/** Cuts a text to the size limit, on a code-point boundary, marking the cut. */
export function cut(text: string, max = MAX_REPORT_BYTES): string {
  if (byteLength(text) <= max) return text;
  const marker = '\n…';
  const chars = Array.from(text);
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (byteLength(chars.slice(0, mid).join('')) + byteLength(marker) <= max) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('') + marker;
}
