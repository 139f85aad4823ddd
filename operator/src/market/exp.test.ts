import { fakeExponential, scaleByExp } from './exp.js';

describe('fakeExponential', () => {
  // The vectors of EIP-4844's fake_exponential (consensus-specs / go-ethereum tests).
  test.each([
    [1n, 0n, 1n, 1n],
    [38493n, 0n, 1000n, 38493n],
    [0n, 1234n, 2345n, 0n],
    [1n, 2n, 1n, 6n],
    [1n, 4n, 2n, 6n],
    [1n, 3n, 1n, 16n],
    [1n, 6n, 2n, 18n],
    [1n, 4n, 1n, 49n],
    [1n, 8n, 2n, 50n],
    [10n, 8n, 2n, 542n],
    [11n, 8n, 2n, 596n],
    [1n, 5n, 1n, 136n],
    [1n, 5n, 2n, 11n],
    [2n, 5n, 2n, 23n],
    [1n, 50000000n, 2225652n, 5709098764n],
  ])('fakeExponential(%p, %p, %p) = %p', (factor, num, den, want) => {
    expect(fakeExponential(factor, num, den)).toBe(want);
  });

  // Exact values of 10^18 · e^x (floor), from 30-digit expansions of e, e^0.1 and e^4.
  test.each([
    [1n, 1n, 2718281828459045235n],
    [1n, 10n, 1105170918075647624n],
    [4n, 1n, 54598150033144239078n],
  ])('10^18 · e^(%p/%p) is at most a few tens of units below %p', (num, den, exact) => {
    const got = fakeExponential(10n ** 18n, num, den);
    expect(got).toBeLessThanOrEqual(exact);
    expect(exact - got).toBeLessThan(50n);
  });

  test('refuses negative inputs', () => {
    expect(() => fakeExponential(1n, -1n, 1n)).toThrow(RangeError);
    expect(() => fakeExponential(1n, 1n, 0n)).toThrow(RangeError);
  });
});

describe('scaleByExp', () => {
  test.each([
    [10n ** 24n, 0n, 7n, 1.0],
    [10n ** 24n, 1n, 10n, Math.exp(0.1)],
    [10n ** 24n, -1n, 10n, Math.exp(-0.1)],
    [10n ** 24n, -3n, 1n, Math.exp(-3)],
  ])('scaleByExp(%p, %p, %p) ≈ value · %p', (value, num, den, factor) => {
    const got = Number(scaleByExp(value, num, den)) / Number(value);
    expect(got).toBeCloseTo(factor, 14);
  });

  test('down then up comes back to within 1e-17 relative', () => {
    const v = 123_456_789n * 10n ** 18n;
    const back = scaleByExp(scaleByExp(v, -7n, 3n), 7n, 3n);
    const diff = v > back ? v - back : back - v;
    expect(diff * 10n ** 17n).toBeLessThan(v);
  });
});
