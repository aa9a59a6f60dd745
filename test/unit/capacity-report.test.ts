// The weekly tick's data, read as `npm run capacity` reads its options: the same bounds, the same defaults, and
// data that can never be right refused as permanent (acknowledged, so a bad PingSource is not retried forever).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { capacityOptionsOf } from '../../functions/capacity-report/index.js';
import { DEFAULT_DAYS, DEFAULT_HORIZON_WEEKS } from '../../shared/capacity/capacity.js';
import { PermanentError, shouldRetry } from '../../shared/errors.js';

test("the PingSource's data sets the window and the horizon", () => {
  assert.equal(capacityOptionsOf({ data: { reason: 'weekly', days: 30, horizonWeeks: 4 } }), { days: 30, horizonWeeks: 4 });
  assert.equal(capacityOptionsOf({ data: { days: 1, horizonWeeks: 0 } }), { days: 1, horizonWeeks: 0 });
  assert.equal(capacityOptionsOf({ data: { days: 366, horizonWeeks: 104 } }), { days: 366, horizonWeeks: 104 });
});

test('absent data or fields: the CLI defaults', () => {
  const defaults = { days: DEFAULT_DAYS, horizonWeeks: DEFAULT_HORIZON_WEEKS };
  assert.equal(capacityOptionsOf({}), defaults);
  assert.equal(capacityOptionsOf({ data: null }), defaults);
  assert.equal(capacityOptionsOf({ data: { reason: 'weekly' } }), defaults);
  assert.equal(capacityOptionsOf({ data: { days: 7 } }), { days: 7, horizonWeeks: DEFAULT_HORIZON_WEEKS });
});

test('out of bounds, not whole, not a number, or not an object: a PermanentError naming the field', () => {
  const cases: [unknown, RegExp][] = [
    [{ days: 'x' }, /days must be a whole number from 1 to 366, not "x"/],
    [{ days: '30' }, /days must be/],
    [{ days: 0 }, /days must be/],
    [{ days: 367 }, /days must be/],
    [{ days: 1.5 }, /days must be/],
    [{ horizonWeeks: -1 }, /horizonWeeks must be a whole number from 0 to 104/],
    [{ horizonWeeks: 105 }, /horizonWeeks must be/],
    ['weekly', /must be a JSON object/],
    [[30, 4], /must be a JSON object/],
  ];
  for (const [data, message] of cases) {
    try {
      capacityOptionsOf({ data });
      assert.unreachable(JSON.stringify(data));
    } catch (err) {
      assert.instance(err, PermanentError, JSON.stringify(data));
      assert.not.ok(shouldRetry(err));
      assert.match((err as Error).message, message);
    }
  }
});

test.run();
