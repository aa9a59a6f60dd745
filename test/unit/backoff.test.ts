import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffDelay, RECONNECT_BACKOFF } from '../../shared/events/backoff.js';

const policy = { baseMs: 1_000, capMs: 60_000 };

test('the bound doubles per attempt from the base, up to the cap', () => {
  const bound = (attempt: number) => backoffDelay(attempt, policy, () => 0.999999) + 1;
  assert.equal([0, 1, 2, 3, 4, 5, 6, 7, 50, 5_000].map(bound), [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
});

test('full jitter: anywhere from zero to the bound, as random says', () => {
  assert.is(backoffDelay(3, policy, () => 0), 0);
  assert.is(backoffDelay(3, policy, () => 0.5), 4_000);
  fc.assert(
    fc.property(fc.nat(100), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
      const delay = backoffDelay(attempt, RECONNECT_BACKOFF, () => r);
      assert.ok(Number.isInteger(delay) && delay >= 0 && delay < RECONNECT_BACKOFF.capMs);
    }),
  );
});

test('a negative attempt counts as the first', () => {
  assert.is(backoffDelay(-3, policy, () => 0.5), 500);
});

test.run();
