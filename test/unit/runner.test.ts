import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileOutcome, longestFirst, parseUvuSummary } from '../run.js';

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

test('marked files run longest first by the last run\'s times; a file never timed (new) before all, ties by name', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const at = (name: string) => path.join(root, 'integration', name);
  const files = ['a.test.ts', 'b.test.ts', 'c.test.ts', 'd.test.ts', 'new.test.ts'].map(at);
  const took = { 'integration/a.test.ts': 5, 'integration/b.test.ts': 90, 'integration/c.test.ts': 30, 'integration/d.test.ts': 30 };
  assert.equal(longestFirst(files, took).map((f) => path.basename(f)), ['new.test.ts', 'b.test.ts', 'c.test.ts', 'd.test.ts', 'a.test.ts']);
  assert.equal(longestFirst(files, {}).map((f) => path.basename(f)), ['a.test.ts', 'b.test.ts', 'c.test.ts', 'd.test.ts', 'new.test.ts']);
});

test.run();

