// Integer exponential, as in EIP-4844's `fake_exponential`: a Taylor series evaluated in bigint
// with a floor division per term. Deterministic on every platform (no floating point).

/**
 * `floor(factor · e^(numerator/denominator))` up to the series' own rounding (each term floored, so
 * the result is at most a few units below the exact value), for factor >= 0, numerator >= 0,
 * denominator > 0.
 */
export function fakeExponential(factor: bigint, numerator: bigint, denominator: bigint): bigint {
  if (factor < 0n || numerator < 0n || denominator <= 0n) {
    throw new RangeError('fakeExponential: need factor >= 0, numerator >= 0, denominator > 0');
  }
  let i = 1n;
  let output = 0n;
  let accum = factor * denominator;
  while (accum > 0n) {
    output += accum;
    accum = (accum * numerator) / (denominator * i);
    i += 1n;
  }
  return output / denominator;
}

/** Precision of the divisor used for negative exponents. */
const ONE = 10n ** 18n;

/**
 * `value · e^(numerator/denominator)` for a signed numerator, rounded down. A negative exponent
 * divides by the positive one: `floor(value · 10^18 / fakeExponential(10^18, -numerator, denominator))`.
 */
export function scaleByExp(value: bigint, numerator: bigint, denominator: bigint): bigint {
  if (numerator === 0n) return value;
  if (numerator > 0n) return fakeExponential(value, numerator, denominator);
  return (value * ONE) / fakeExponential(ONE, -numerator, denominator);
}
