import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileOutcome, parseUvuSummary } from '../run.js';

test('reads the totals uvu prints, colour codes and all', () => {
  const out = 'x\n\n  Total:     \x1b[1m12\x1b[22m\n  Passed:    \x1b[32m10\x1b[39m\n  Skipped:   \x1b[33m1\x1b[39m\n  Duration:  3.2ms\n';
  assert.equal(parseUvuSummary(out), { total: 12, passed: 10, skipped: 1 });
});

test('no summary (a file that crashed on import) is undefined, not zero', () => {
  assert.is(parseUvuSummary('TypeError: boom\n    at file.ts:1:1\n'), undefined);
});

test('a skipped test is neither passed nor failed: uvu leaves it out of Total', () => {
  assert.equal(fileOutcome({ total: 5, passed: 5, skipped: 1 }, 0), { total: 5, passed: 5, skipped: 1, crashed: false });
  assert.equal(fileOutcome({ total: 5, passed: 4, skipped: 1 }, 1), { total: 5, passed: 4, skipped: 1, crashed: false });
  // Every test passed, yet the process failed: it died after them.
  assert.equal(fileOutcome({ total: 5, passed: 5, skipped: 0 }, 1), { total: 6, passed: 5, skipped: 0, crashed: true });
});

test.run();
