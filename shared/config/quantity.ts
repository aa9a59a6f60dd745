// Kubernetes resource quantities ("4", "500m", "8Gi"), compared exactly. Only the plain decimal form with an
// optional suffix is accepted (no signs, no exponents): that is what people write, and it keeps the schema
// pattern and this parser in agreement. Values are exact rationals, so "1024Mi" equals "1Gi" and "1000m"
// equals "1" — which is how the API server canonicalises them, and so how a live object must be compared.

/** The same rule as the `quantity` patterns in config/*.schema.json. */
export const QUANTITY_PATTERN = /^(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** An exact non-negative value `num / den`, `den > 0`. */
export interface Quantity {
  readonly num: bigint;
  readonly den: bigint;
}

const SUFFIX: Readonly<Record<string, Quantity>> = {
  '': { num: 1n, den: 1n },
  m: { num: 1n, den: 1000n },
  k: { num: 10n ** 3n, den: 1n },
  M: { num: 10n ** 6n, den: 1n },
  G: { num: 10n ** 9n, den: 1n },
  T: { num: 10n ** 12n, den: 1n },
  P: { num: 10n ** 15n, den: 1n },
  E: { num: 10n ** 18n, den: 1n },
  Ki: { num: 2n ** 10n, den: 1n },
  Mi: { num: 2n ** 20n, den: 1n },
  Gi: { num: 2n ** 30n, den: 1n },
  Ti: { num: 2n ** 40n, den: 1n },
  Pi: { num: 2n ** 50n, den: 1n },
  Ei: { num: 2n ** 60n, den: 1n },
};

/** The exact value of `text`, or undefined when it is not a quantity of the accepted form. */
export function parseQuantity(text: string): Quantity | undefined {
  if (text.length > 64) return undefined;
  const match = QUANTITY_PATTERN.exec(text);
  if (!match) return undefined;
  const whole = match[1] ?? '';
  const fraction = match[2] ?? match[3] ?? '';
  const suffix = SUFFIX[match[4] ?? ''];
  if (!suffix) return undefined;
  const digits = BigInt(`${whole}${fraction}` || '0');
  return { num: digits * suffix.num, den: 10n ** BigInt(fraction.length) * suffix.den };
}

export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** True when both texts are quantities of the same value ("1Gi" and "1024Mi"). */
export function sameQuantity(a: string, b: string): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  return x !== undefined && y !== undefined && compareQuantities(x, y) === 0;
}

/**
 * A quantity as a project wrote it, as text: YAML `cpu: 4` is the number 4, and Kubernetes wants "4".
 * Undefined when it is not a quantity (a negative or exponent-form number, say).
 */
export function quantityText(value: string | number): string | undefined {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return parseQuantity(text) ? text : undefined;
}

/** The smaller of two quantity texts (the first when equal); both must be valid. */
export function minQuantity(a: string, b: string): string {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (!x || !y) throw new TypeError(`not quantities: ${JSON.stringify(a)}, ${JSON.stringify(b)}`);
  return compareQuantities(y, x) < 0 ? b : a;
}

export const isPositiveQuantity = (q: Quantity): boolean => q.num > 0n;
