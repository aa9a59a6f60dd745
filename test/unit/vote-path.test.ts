// "Where is Verified posted" is one hop: every message or vote Seakeeper posts on a change goes through
// postOnce (shared/reporting/post-once.ts), the only module that calls Gerrit's review endpoint.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VOTE_PATH = 'shared/reporting/post-once.ts';
/** The Gerrit client defines postReview; it is the transport, not a caller. */
const CLIENT = 'shared/gerrit/client.ts';

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(rel);
    return entry.name.endsWith('.ts') ? [rel] : [];
  });
}

const SHIPPED = ['shared', 'functions', 'sources'].flatMap(sources);

test('only the vote path calls postReview or postReviewPlan', () => {
  const callers = SHIPPED.filter((file) => file !== VOTE_PATH && file !== CLIENT).filter((file) => /\.postReview\(|\bpostReviewPlan\(/.test(readFileSync(path.join(ROOT, file), 'utf8')));
  assert.equal(callers, []);
});

test('the vote path does call it (the check above would pass on a renamed method)', () => {
  const text = readFileSync(path.join(ROOT, VOTE_PATH), 'utf8');
  assert.match(text, /gerrit\.postReview\(/);
  assert.match(readFileSync(path.join(ROOT, CLIENT), 'utf8'), /async postReview\(/);
});

test('every poster goes through postOnce: the start message, the report, the rejection, the config check, the gate and the uploader notice', () => {
  const posters = SHIPPED.filter((file) => /\bpostOnce\(/.test(readFileSync(path.join(ROOT, file), 'utf8')));
  assert.equal(posters.sort(), [
    'shared/pipelines/carry-out.ts',
    'shared/pipelines/config-review.ts',
    // The gate's notices, refusals and Verified +2 before a submit.
    'shared/pipelines/gate.ts',
    // A run's start message (carry-out.ts and gate.ts start runs through it).
    'shared/pipelines/run-start.ts',
    'shared/pipelines/uploader-notice.ts',
    'shared/reporting/reporter.ts',
  ]);
});

test.run();
