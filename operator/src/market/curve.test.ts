import { areaBetween, curveBounds, divUp, priceOrder, spotAt } from './curve.js';
import { K_ONE } from './params.js';

const FLOOR = 1_000_000n; // 1.000000 token per GPU-hour
const CEILING = 20_000_000n;
const A = 400_000_000n * K_ONE; // K = 4e8: the floor holds down to x = 20, the ceiling from x = √20 ≈ 4.47
const B = 10_000_000_000n * K_ONE; // K = 1e10: ceiling up to x = √500 ≈ 22.36, floor from x = 100

/** What `seconds` of the GPUs between lo and hi cost, rounded up (both ways of computing it). */
function cost(k: bigint, lo: number, hi: number, seconds = 3600, floor = FLOOR, ceiling = CEILING): bigint {
  const r = areaBetween(k, floor, ceiling, BigInt(lo), BigInt(hi));
  const total = divUp(r.num * BigInt(seconds), r.den * 3600n);
  const fast = priceOrder(k, floor, ceiling, lo, hi, seconds);
  expect(fast.total).toBe(total);
  return total;
}

describe('curveBounds (millionths of a GPU; c rounded up, f rounded down)', () => {
  test.each([
    ['A', A, FLOOR, CEILING, 4_472_136n, 20_000_000n], // √20 = 4.4721359…
    ['B', B, FLOOR, CEILING, 22_360_680n, 100_000_000n], // √500 = 22.3606797…
    ['fixed price (floor = ceiling)', A, FLOOR, FLOOR, 20_000_000n, 20_000_000n],
    ['narrow band', A, 30_000_000n, 40_000_000n, 3_162_278n, 3_651_483n], // √10, √13.33
    ['K = 0', 0n, FLOOR, CEILING, 0n, 0n],
  ])('%s', (_name, k, floor, ceiling, c, f) => {
    expect(curveBounds(k, floor, ceiling)).toEqual({ c, f });
  });
});

describe('area under the curve, one hour, rounded up', () => {
  test.each([
    // hand-computed: floor·(GPUs in [f,∞)) + K·(1/a − 1/b) + ceiling·(GPUs in (0,c])
    ['A: whole pool from x=110 to 10', A, 10, 110, 110_000_000n], // 90·1e6 + 4e8·(1/10 − 1/20)
    ['A: 95 GPUs, 110 to 15', A, 15, 110, 96_666_667n], // 90e6 + 4e8/60 = 96,666,666.67
    ['A: one GPU at the floor', A, 109, 110, 1_000_000n],
    ['A: one GPU from 15 to 14', A, 14, 15, 1_904_762n], // 4e8/210 = 1,904,761.9
    // across the ceiling switch xc = √(K/ceiling): ceiling·(xc − lo) + K/xc − K/hi = 2√(K·ceiling) − ceiling·lo − K/hi
    ['A: into the ceiling, 8 to 3', A, 3, 8, 68_885_439n], // 2√8e15 − 6e7 − 5e7 = 68,885,438.2
    ['B: 25 to 20 straddles the ceiling switch', B, 20, 25, 94_427_191n], // 2√2e17 − 4e8 − 4e8 = 94,427,191.0
    ['B: 110 to 90 straddles the floor switch', B, 90, 110, 21_111_112n], // 1e7 + 1e10·10/9000
    ['B: 150 to 100, all floor', B, 100, 150, 50_000_000n],
    ['empty order', A, 50, 50, 0n],
  ])('%s', (_name, k, lo, hi, want) => {
    expect(cost(k, lo, hi)).toBe(want);
  });

  test.each([
    [1800, 55_000_000n],
    [1, 30_556n], // 110e6 / 3600 = 30,555.6
    [7 * 24 * 3600, 18_480_000_000n],
  ])('A: whole pool for %p s', (seconds, want) => {
    expect(cost(A, 10, 110, seconds)).toBe(want);
  });

  test('a fixed-price curve charges exactly the price', () => {
    expect(cost(A, 0, 37, 3600, FLOOR, FLOOR)).toBe(37_000_000n);
  });
});

describe('spotAt: clamp(K/x², floor, ceiling), rounded up', () => {
  test.each([
    [A, 110, 1_000_000n],
    [A, 21, 1_000_000n],
    [A, 20, 1_000_000n], // K/400 exactly
    [A, 15, 1_777_778n], // 4e8/225
    [A, 6, 11_111_112n], // 4e8/36
    [A, 5, 16_000_000n], // 4e8/25
    [A, 4, 20_000_000n], // 4e8/16 = 2.5e7, clamped
    [A, 0, 20_000_000n],
    [B, 22, 20_000_000n],
    [B, 23, 18_903_592n], // 1e10/529
  ])('k=%p x=%p → %p', (k, x, want) => {
    expect(spotAt(k, FLOOR, CEILING, BigInt(x))).toBe(want);
  });
});
