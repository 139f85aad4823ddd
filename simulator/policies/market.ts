// What every pricing policy provides to the runner, and the context they share.
import { poolReference, TOKEN, type DemandModel, type SimTask } from '../demand.js';
import { UNITS_PER_GPU, type PoolSpec } from '../pools.js';

export const POLICY_KINDS = ['amm', 'fixed', 'auction', 'best-fixed'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** A purchase: who bought what where, and what they paid. */
export type Sale = {
  readonly task: SimTask;
  readonly pool: number;
  readonly start: number;
  /** base units */
  readonly paid: bigint;
  /** auction only: milli-GPUs taken from each node (node index within the pool) */
  readonly parts?: readonly (readonly [node: number, units: number])[];
  /**
   * term pricing only: end of the term paid for, seconds, when it is before the task's end. The
   * runner then asks the market to `renew` the lease there.
   */
  readonly until?: number;
  /** a pre-emptible lease on idle GPUs (`Market.lend`): pays the floor for the time it runs */
  readonly preemptible?: boolean;
  /** pre-emptible leases evicted to make room for this sale */
  readonly evicts?: readonly Sale[];
};

export interface Market {
  /** prices move with time alone: waiting buyers are re-checked on a timer, not only when GPUs free up */
  readonly drifts: boolean;
  /**
   * Sell to `task` now if some pool has the GPUs at a price it accepts: the best surplus wins, ties
   * go to the pool with the largest share of its GPUs free.
   */
  tryServe(task: SimTask, now: number): Sale | undefined;
  /**
   * Pre-emptible leases (the AMM with `preemptible`; absent: none). What an evicted job does: waits
   * again for the rest of its duration (`checkpoint`) or for all of it, the hours it ran worth
   * nothing (`restart`).
   */
  readonly preemption?: 'checkpoint' | 'restart';
  /**
   * A waiting buyer that `tryServe` declined runs on idle GPUs, pre-emptibly, at the floor: a sale
   * with `preemptible`, or undefined if no pool has the GPUs idle at a floor it accepts. Its order
   * keeps waiting for a priced lease (`convert`) until its patience ends.
   */
  lend?(task: SimTask, now: number): Sale | undefined;
  /**
   * The pre-emptible lease becomes a priced one for the rest of its duration, in its pool, if its
   * buyer accepts the quote for that now: the priced sale (for the remaining seconds), or undefined.
   */
  convert?(sale: Sale, now: number): Sale | undefined;
  /** Would the buyer wait (a queue, a limit order) rather than leave at once? */
  willWait(task: SimTask): boolean;
  release(sale: Sale, now: number): void;
  /**
   * Term pricing: the lease's term ends at `now` (its `until`). Returns the lease for its next
   * term, with what that term costs in `paid`, or undefined if the buyer declines the renewal
   * price; its GPUs are then back in the pool (no `release` follows).
   */
  renew?(sale: Sale, now: number): Sale | undefined;
  /** price per GPU-hour a one-GPU buyer faces in `pool` now, base units; undefined if none is free */
  price(pool: number, now: number): number | undefined;
  /** milli-GPUs free in `pool` */
  free(pool: number): number;
}

export type MarketContext = {
  readonly pools: readonly PoolSpec[];
  readonly demand: DemandModel;
  /** reference price per GPU-hour of each pool, base units */
  readonly reference: readonly number[];
  /** protocol fee, basis points, the same for every policy */
  readonly feeBps: number;
};

export function marketContext(pools: readonly PoolSpec[], demand: DemandModel, feeBps: number): MarketContext {
  return { pools, demand, feeBps, reference: pools.map((p) => poolReference(p, demand) * TOKEN) };
}

/** What the task's whole order is worth on `pool`, base units (a float: values are not money). */
export function orderValue(ctx: MarketContext, task: SimTask, pool: number): number {
  return (task.multiplier * ctx.reference[pool]! * task.units * task.seconds) / (UNITS_PER_GPU * 3600);
}

/** Cost of `units` milli-GPUs for `seconds` at `pricePerGpuHour` base units, rounded up. */
export function costAt(pricePerGpuHour: bigint, units: number, seconds: number): bigint {
  const num = pricePerGpuHour * BigInt(units) * BigInt(seconds);
  const den = BigInt(UNITS_PER_GPU * 3600);
  return (num + den - 1n) / den;
}
