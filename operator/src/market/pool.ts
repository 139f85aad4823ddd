// A pool's state and the pure operations on it: open, quote, take, release, capacity change and
// time relaxation. Time is passed in (seconds); nothing here reads a clock or does I/O.
import { divUp, priceOrder, spotAt } from './curve.js';
import { scaleByExp } from './exp.js';
import { assertCount, BPS, PPM, SECONDS_PER_HOUR, K_ONE, type PoolParams } from './params.js';

/** GPUs of the pool as the operator observes them. */
export type Capacity = {
  /** allocatable GPUs on Ready, schedulable member nodes */
  readonly allocatable: number;
  /** allocatable minus GPUs held by leases and by other pods */
  readonly free: number;
};

/** Everything the pool persists: the curve constant, when it was last relaxed, and the capacity since then. */
export type PoolState = Capacity & {
  /** K · K_ONE, K in base units · GPU² per hour */
  readonly k: bigint;
  /** seconds (same clock as every `now` passed in) */
  readonly at: number;
};

export type Quote = {
  readonly gpus: number;
  readonly seconds: number;
  /** what the lease costs, base units, rounded up */
  readonly total: bigint;
  /** total per GPU-hour, base units, rounded up */
  readonly perGpuHour: bigint;
  /** spot price per GPU-hour before and after the GPUs are taken */
  readonly spotBefore: bigint;
  readonly spotAfter: bigint;
  /** (spotAfter - spotBefore) / spotBefore, basis points, rounded down */
  readonly priceImpactBps: number;
};

export type Refusal = { readonly ok: false; readonly reason: 'insufficient-capacity'; readonly free: number };
export type QuoteResult = { readonly ok: true; readonly quote: Quote } | Refusal;
export type TakeResult = { readonly ok: true; readonly quote: Quote; readonly state: PoolState } | Refusal;

const HOUR = BigInt(SECONDS_PER_HOUR);
const PPM_N = BigInt(PPM);
const BPS_N = BigInt(BPS);
const SAFE_TOTAL = BigInt(Math.floor(Number.MAX_SAFE_INTEGER / SECONDS_PER_HOUR));

function assertCapacity(c: Capacity): void {
  assertCount(c.allocatable, 'allocatable');
  assertCount(c.free, 'free');
  if (c.free > c.allocatable) throw new RangeError(`free (${c.free}) exceeds allocatable (${c.allocatable})`);
}

/** Lowest K allowed: the spot price at target utilisation is at least the floor (the "kink"). */
export function kFloor(params: PoolParams, allocatable: number): bigint {
  const xStarPpm = BigInt(allocatable) * BigInt(PPM - params.targetUtilizationPpm) + BigInt(params.depth) * PPM_N;
  return divUp(params.floor * K_ONE * xStarPpm * xStarPpm, PPM_N * PPM_N);
}

/** Highest K allowed: the spot price at the current X stays at or under the ceiling. */
export function kCeiling(params: PoolParams, free: number): bigint {
  const x = BigInt(free + params.depth);
  return params.ceiling * K_ONE * x * x;
}

/** K clamped into [kFloor, kCeiling]; when the two cross, the floor bound wins. */
export function clampK(k: bigint, params: PoolParams, capacity: Capacity): bigint {
  return between(k, kFloor(params, capacity.allocatable), kCeiling(params, capacity.free));
}

function between(k: bigint, lo: bigint, hi: bigint): bigint {
  const capped = k > hi ? hi : k;
  return capped < lo ? lo : capped;
}

/** A new pool whose spot price at target utilisation is `params.initialPrice`. */
export function openPool(params: PoolParams, capacity: Capacity, at: number): PoolState {
  assertCapacity(capacity);
  assertCount(at, 'at');
  const xStarPpm =
    BigInt(capacity.allocatable) * BigInt(PPM - params.targetUtilizationPpm) + BigInt(params.depth) * PPM_N;
  const k0 = divUp(params.initialPrice * K_ONE * xStarPpm * xStarPpm, PPM_N * PPM_N);
  return { k: clampK(k0, params, capacity), at, allocatable: capacity.allocatable, free: capacity.free };
}

/** Spot price per GPU-hour at the pool's current free capacity. */
export function spotPrice(state: PoolState, params: PoolParams): bigint {
  const x = BigInt(state.free + params.depth);
  return spotAt(state.k, params.floor, params.ceiling, x);
}

/** Price of `gpus` GPUs for `seconds`, taken now from this state (relax it to now first). */
export function quote(state: PoolState, params: PoolParams, gpus: number, seconds: number): QuoteResult {
  assertCount(gpus, 'gpus');
  assertCount(seconds, 'seconds');
  if (gpus > state.free) return { ok: false, reason: 'insufficient-capacity', free: state.free };
  const hi = state.free + params.depth;
  const { total, spotBefore, spotAfter } = priceOrder(state.k, params.floor, params.ceiling, hi - gpus, hi, seconds);
  const perGpuHour = perGpuHourOf(total, gpus, seconds, spotBefore);
  const priceImpactBps = spotAfter === spotBefore ? 0 : Number(((spotAfter - spotBefore) * BPS_N) / spotBefore);
  return { ok: true, quote: { gpus, seconds, total, perGpuHour, spotBefore, spotAfter, priceImpactBps } };
}

/** total per GPU-hour rounded up; exact in doubles when total·3600 and GPU-seconds are safe integers. */
function perGpuHourOf(total: bigint, gpus: number, seconds: number, spot: bigint): bigint {
  const gpuSeconds = gpus * seconds;
  if (gpuSeconds === 0) return spot;
  if (total <= SAFE_TOTAL && gpuSeconds <= Number.MAX_SAFE_INTEGER) {
    // for integers a, b < 2^53, the correctly rounded a / b never crosses an integer: ceil is exact
    return BigInt(Math.ceil((Number(total) * SECONDS_PER_HOUR) / gpuSeconds));
  }
  return divUp(total * HOUR, BigInt(gpus) * BigInt(seconds));
}

/** Quote and, if the GPUs are free, take them: free capacity drops by `gpus`, K is unchanged. */
export function take(state: PoolState, params: PoolParams, gpus: number, seconds: number): TakeResult {
  const r = quote(state, params, gpus, seconds);
  if (!r.ok) return r;
  return { ok: true, quote: r.quote, state: { ...state, free: state.free - gpus } };
}

/**
 * GPUs come back (a lease ended, early or on time): free capacity rises by `gpus` and the price
 * moves down along the same curve; K is unchanged. Refunds are `refundFor` in payout.ts.
 */
export function release(state: PoolState, _params: PoolParams, gpus: number): PoolState {
  assertCount(gpus, 'gpus');
  const free = state.free + gpus;
  if (free > state.allocatable) {
    throw new RangeError(`release of ${gpus} GPUs exceeds allocatable (${state.free} free of ${state.allocatable})`);
  }
  return { ...state, free };
}

/** Nodes joined, failed or left, or other pods took GPUs: K unchanged, X moves. */
export function setCapacity(state: PoolState, _params: PoolParams, capacity: Capacity): PoolState {
  assertCapacity(capacity);
  return { ...state, allocatable: capacity.allocatable, free: capacity.free };
}

/** Largest exponent applied in one step of `relax` (e^4): keeps the series short. */
const MAX_STEP = 4n;

/**
 * Relax K from `state.at` to `now` by the utilisation held since then:
 * `K ← clamp(K · exp((u - u*) · Δt / responseTime))`, u = (allocatable - free) / allocatable.
 * A `now` at or before `state.at` only re-applies the clamp. A pool with no GPUs does not drift.
 */
export function relax(state: PoolState, params: PoolParams, now: number): PoolState {
  assertCount(now, 'now');
  const dt = now > state.at ? now - state.at : 0;
  const n = BigInt(state.allocatable);
  // the capacity is constant over the interval, so are the bounds
  const lo = kFloor(params, state.allocatable);
  const hi = kCeiling(params, state.free);
  let k = between(state.k, lo, hi);
  if (dt > 0 && n > 0n) {
    const used = n - BigInt(state.free);
    let num = (used * PPM_N - BigInt(params.targetUtilizationPpm) * n) * BigInt(dt);
    const den = n * PPM_N * BigInt(params.responseTimeSeconds);
    const maxStep = MAX_STEP * den;
    // pinned at the bound it is moving towards (an idle pool at rest on the kink): nothing to do
    const pinned = (num < 0n && k <= lo) || (num > 0n && (k >= hi || k <= lo && hi < lo));
    while (num !== 0n && !pinned) {
      const step = num > maxStep ? maxStep : num < -maxStep ? -maxStep : num;
      const next = between(scaleByExp(k, step, den), lo, hi);
      num -= step;
      if (next === k) break; // at a bound: further steps in the same direction change nothing
      k = next;
    }
  }
  return { ...state, k, at: Math.max(now, state.at) };
}
