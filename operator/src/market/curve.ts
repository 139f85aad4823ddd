// The price curve of a pool: P(x) = clamp(K / x², floor, ceiling), x = free GPUs + depth.
//
// The cost of GPUs is the exact area under the clamped curve, as a rational. The clamps switch at
// xc = √(K / ceiling) and xf = √(K / floor), which are irrational in general, so the engine keeps
// them in millionths of a GPU (SUB), rounded so that the integrand stays inside [floor, ceiling]
// and non-increasing:
//   (0, c]   ceiling     c = xc rounded up to 1/SUB
//   [c, f]   K / x²      f = max(c, xf rounded down to 1/SUB)
//   [f, ∞)   floor
// The integrand differs from the real-valued clamp only within 10⁻⁶ GPU of each switch point.
// `k` is K scaled by K_ONE = 2^64 (params.ts).
import { K_ONE, K_SHIFT } from './params.js';

/** Switch points are kept in 1/SUB of a GPU. */
export const SUB = 1_000_000n;
const SUB2 = SUB * SUB;

export type Bounds = {
  /** (0, c/SUB] is priced at the ceiling */
  readonly c: bigint;
  /** [f/SUB, ∞) is priced at the floor; f >= c */
  readonly f: bigint;
};

/** An exact rational `num / den` (den > 0). */
export type Ratio = { readonly num: bigint; readonly den: bigint };

/** Largest integer x >= 0 with x² · m <= t (m > 0). */
function largestWithSquareAtMost(t: bigint, m: bigint): bigint {
  if (t <= 0n) return 0n;
  const guess = Math.floor(Math.sqrt(Number(t) / Number(m)));
  let x = Number.isFinite(guess) ? BigInt(guess) : 0n;
  while (x > 0n && x * x * m > t) x -= 1n;
  while ((x + 1n) * (x + 1n) * m <= t) x += 1n;
  return x;
}

/** Smallest integer x >= 0 with x² · m >= t (m > 0). */
function smallestWithSquareAtLeast(t: bigint, m: bigint): bigint {
  const x = largestWithSquareAtMost(t, m);
  return x * x * m < t ? x + 1n : x;
}

const K_MASK = K_ONE - 1n;

/**
 * The switch points in 1/SUB GPU for k·SUB² = t. With L an integer, L · 2^64 <= t ⟺ L <= ⌊t/2^64⌋
 * and L · 2^64 >= t ⟺ L >= ⌈t/2^64⌉, so the square-root checks run on K-sized numbers:
 *   c = smallest c with c² · ceiling >= ⌈t/2^64⌉,  fl = largest f with f² · floor <= ⌊t/2^64⌋
 */
function ceilingSwitch(t: bigint, ceiling: bigint): bigint {
  return smallestWithSquareAtLeast((t + K_MASK) >> K_SHIFT, ceiling);
}
function floorSwitch(t: bigint, floor: bigint): bigint {
  return largestWithSquareAtMost(t >> K_SHIFT, floor);
}

/** The switch points of the clamped curve for constant `k` (scaled by K_ONE), in 1/SUB GPU. */
export function curveBounds(k: bigint, floor: bigint, ceiling: bigint): Bounds {
  const t = k * SUB2;
  const c = ceilingSwitch(t, ceiling);
  const fl = floorSwitch(t, floor);
  return { c, f: fl > c ? fl : c };
}

/** Division rounding up, for non-negative numerator and positive denominator. */
export function divUp(num: bigint, den: bigint): bigint {
  return (num + den - 1n) / den;
}

/** Spot price at `x` GPUs (base units per GPU-hour): P(x) = clamp(K / x², floor, ceiling), rounded up. */
export function spotAt(k: bigint, floor: bigint, ceiling: bigint, x: bigint): bigint {
  if (x === 0n) return ceiling;
  const x2 = x * x;
  if (x2 * floor * K_ONE >= k) return floor;
  if (x2 * ceiling * K_ONE <= k) return ceiling;
  return divUp(k, K_ONE * x2);
}

/**
 * Exact area under the curve between `lo` and `hi` GPUs (0 <= lo <= hi), in base units · GPU per
 * hour: the price per hour of taking the GPUs between lo and hi. Only an order that straddles a
 * switch point needs the switch points (square roots); the others are a comparison away.
 */
export function areaBetween(k: bigint, floor: bigint, ceiling: bigint, lo: bigint, hi: bigint): Ratio {
  const fw = floor * K_ONE;
  const cw = ceiling * K_ONE;
  const lo2 = lo * lo;
  const hi2 = hi * hi;
  if (lo2 * fw >= k) return { num: floor * (hi - lo), den: 1n }; // lo >= xf: all at the floor
  if (hi2 * cw <= k) return { num: ceiling * (hi - lo), den: 1n }; // hi <= xc: all at the ceiling
  const loPastCeiling = lo2 * cw >= k; // lo >= xc
  const hiBeforeFloor = hi2 * fw <= k; // hi <= xf
  // ∫ K/x² dx from lo to hi = K (hi − lo) / (lo · hi): the constant-product swap
  if (loPastCeiling && hiBeforeFloor) return { num: k * (hi - lo), den: K_ONE * lo * hi };
  const t = k * SUB2;
  const LO = lo * SUB;
  const HI = hi * SUB;
  // a switch point on the far side of the order may stand in for the real one: same area
  const c = loPastCeiling ? LO : ceilingSwitch(t, ceiling);
  const fl = hiBeforeFloor ? HI : floorSwitch(t, floor);
  const f = fl > c ? fl : c;
  let flat = 0n; // base units · GPU per hour, times SUB
  const ceilTop = HI < c ? HI : c;
  if (ceilTop > LO) flat += ceiling * (ceilTop - LO);
  const floorBottom = LO > f ? LO : f;
  if (HI > floorBottom) flat += floor * (HI - floorBottom);
  const a = LO > c ? LO : c;
  const b = HI < f ? HI : f;
  if (a >= b) return { num: flat, den: SUB };
  // the unclamped part, from a/SUB to b/SUB: K · SUB · (b − a) / (a · b)
  const wab = K_ONE * a * b;
  return { num: flat * wab + k * SUB2 * (b - a), den: SUB * wab };
}

export type Priced = {
  /** base units, rounded up */
  readonly total: bigint;
  readonly spotBefore: bigint;
  readonly spotAfter: bigint;
};

const HOUR = 3600n;

/**
 * The cost of taking the GPUs between `lo` and `hi` for `seconds`, rounded up,
 * with the spot prices at both ends. Equal to `divUp(area · seconds, 3600)` of `areaBetween` and
 * to `spotAt` at hi and lo, with fewer bigint operations on the common paths (the hot path of
 * every quote).
 */
export function priceOrder(k: bigint, floor: bigint, ceiling: bigint, lo: number, hi: number, seconds: number): Priced {
  // K = k / 2^64 rounded both ways; for an integer L: L >= K ⟺ L >= kUp, L <= K ⟺ L <= kDown,
  // and ceil(k / (2^64·d)) = ceil(kUp / d). Comparisons then run on K-sized numbers, and GPU counts
  // are multiplied as safe integers before they become bigints.
  const kDown = k >> K_SHIFT;
  const kUp = (k + K_MASK) >> K_SHIFT;
  const lo2 = safeProduct(lo, lo);
  const gs = safeProduct(hi - lo, seconds);
  if (lo2 * floor >= kUp) return { total: divUp(floor * gs, HOUR), spotBefore: floor, spotAfter: floor };
  const hi2 = safeProduct(hi, hi);
  if (hi2 * ceiling <= kDown) return { total: divUp(ceiling * gs, HOUR), spotBefore: ceiling, spotAfter: ceiling };
  const hiBeforeFloor = hi2 * floor <= kDown; // hi <= xf
  const loPastCeiling = lo2 * ceiling > kDown; // lo > xc
  const spotBefore = hiBeforeFloor ? divUp(kUp, hi2) : floor;
  const spotAfter = loPastCeiling ? divUp(kUp, lo2) : ceiling;
  if (loPastCeiling && hiBeforeFloor) {
    // K·gpus/(lo·hi) per hour, rounded up in two steps: ceil(ceil(a/b)/c) = ceil(a/(b·c))
    return { total: divUp((k * gs + K_MASK) >> K_SHIFT, safeProduct(lo * hi, 3600)), spotBefore, spotAfter };
  }
  return { total: straddleTotal(k, floor, ceiling, lo, hi, seconds, loPastCeiling, hiBeforeFloor), spotBefore, spotAfter };
}

/**
 * An order across a switch point: the same area as `areaBetween`, with the final division split in
 * two (a shift by 2^64, then a division by SUB · a · b · 3600) so the numbers stay smaller.
 */
function straddleTotal(
  k: bigint,
  floor: bigint,
  ceiling: bigint,
  lo: number,
  hi: number,
  seconds: number,
  loPastCeiling: boolean,
  hiBeforeFloor: boolean,
): bigint {
  const LO = BigInt(lo) * SUB;
  const HI = BigInt(hi) * SUB;
  const t = k * SUB2;
  const c = loPastCeiling ? LO : ceilingSwitch(t, ceiling);
  const fl = hiBeforeFloor ? HI : floorSwitch(t, floor);
  const f = fl > c ? fl : c;
  let flat = 0n; // base units · GPU per hour, times SUB
  const ceilTop = HI < c ? HI : c;
  if (ceilTop > LO) flat += ceiling * (ceilTop - LO);
  const floorBottom = LO > f ? LO : f;
  if (HI > floorBottom) flat += floor * (HI - floorBottom);
  const a = LO > c ? LO : c;
  const b = HI < f ? HI : f;
  const s = BigInt(seconds);
  if (a >= b) return divUp(flat * s, SUB * HOUR);
  // s · (flat/SUB + K·SUB·(b − a)/(a·b)) / 3600, with K = k / 2^64:
  // ceil((X + Y/2^64) / D) = ceil((X + ceil(Y/2^64)) / D) for an integer X
  const ab = a * b;
  const curved = (s * t * (b - a) + K_MASK) >> K_SHIFT;
  return divUp(s * flat * ab + curved, SUB * ab * HOUR);
}

/** a · b as a bigint, multiplied as numbers when the product is a safe integer. */
function safeProduct(a: number, b: number): bigint {
  const p = a * b;
  return p <= Number.MAX_SAFE_INTEGER ? BigInt(p) : BigInt(a) * BigInt(b);
}
