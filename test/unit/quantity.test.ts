import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareQuantities, minQuantity, parseQuantity, quantityText, sameQuantity } from '../../shared/config/quantity.js';

test('equal values in different spellings compare equal, as the API server canonicalises them', () => {
  for (const [a, b] of [
    ['1Gi', '1024Mi'],
    ['1000m', '1'],
    ['0.5', '500m'],
    ['.5', '500m'],
    ['1.5Gi', '1536Mi'],
    ['1k', '1000'],
    ['1Ki', '1024'],
    ['2.', '2'],
    ['0', '0m'],
  ] as const) {
    assert.ok(sameQuantity(a, b), `${a} = ${b}`);
  }
  assert.not.ok(sameQuantity('1G', '1Gi'));
  assert.not.ok(sameQuantity('1m', '1M'));
});

test('only plain decimals with a known suffix are quantities', () => {
  for (const bad of ['', '-1', '+1', '1e3', '1E3', '1 Gi', 'Gi', '1gi', '1.2.3', '1Gb', 'one', ' 1', '1\n', '0x10', '1_000']) {
    assert.is(parseQuantity(bad), undefined, JSON.stringify(bad));
  }
  assert.is(parseQuantity('9'.repeat(65)), undefined);
});

test('ordering is exact', () => {
  const q = (t: string) => parseQuantity(t)!;
  assert.is(compareQuantities(q('16'), q('15999m')), 1);
  assert.is(compareQuantities(q('32Gi'), q('32769Mi')), -1);
  assert.is(compareQuantities(q('1Ei'), q('1E')), 1);
  assert.is(minQuantity('1Gi', '512Mi'), '512Mi');
  assert.is(minQuantity('1Gi', '1024Mi'), '1Gi');
  assert.throws(() => minQuantity('x', '1'));
});

test('quantityText turns YAML numbers into quantity text and refuses what is not one', () => {
  assert.is(quantityText(4), '4');
  assert.is(quantityText(0.5), '0.5');
  assert.is(quantityText('8Gi'), '8Gi');
  assert.is(quantityText(-1), undefined);
  assert.is(quantityText(1e21), undefined);
  assert.is(quantityText(Number.NaN), undefined);
  assert.is(quantityText(Number.POSITIVE_INFINITY), undefined);
});

test('property: scaling by a suffix orders like the numbers do', () => {
  const suffix = fc.constantFrom('', 'm', 'k', 'M', 'G', 'Ki', 'Mi', 'Gi');
  const scale: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  fc.assert(
    fc.property(fc.nat(100000), suffix, fc.nat(100000), suffix, (a, sa, b, sb) => {
      const x = a * scale[sa]!;
      const y = b * scale[sb]!;
      fc.pre(Math.abs(x - y) > 1e-6 * Math.max(x, y) || x === y);
      const expected = x < y ? -1 : x > y ? 1 : 0;
      assert.is(compareQuantities(parseQuantity(`${a}${sa}`)!, parseQuantity(`${b}${sb}`)!), expected);
    }),
    { numRuns: 2000 },
  );
});

test.run();
