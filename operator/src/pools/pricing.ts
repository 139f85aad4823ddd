// From a GpuPool's spec and persisted status to the engine's parameters and state, and back.
// Pure: the controller passes in the inventory and the time.
import type { GpuPool, GpuPoolSpec, PricingStatus } from '../api/types.js';
import { parseDuration } from '../api/duration.js';
import {
  DEFAULTS,
  PPM,
  PREEMPTIBLE_DEFAULTS,
  openPool,
  relax,
  setCapacity,
  spotPrice,
  validateParams,
  type Capacity,
  type PoolParams,
  type PoolState,
} from '../market/index.js';

/** Engine parameters for a pool spec at the given allocatable GPUs (depth defaults to a share of them). */
export function paramsFromSpec(spec: GpuPoolSpec, allocatable: number): PoolParams {
  const p = spec.pricing;
  const defaults = spec.leases?.lendIdleGpus ? PREEMPTIBLE_DEFAULTS : DEFAULTS;
  const floor = BigInt(p.floorPrice);
  const depth = p.depth ?? Math.max(1, Math.ceil((allocatable * defaults.depthPpm) / PPM));
  return validateParams({
    floor,
    ceiling: BigInt(p.ceilingPrice),
    initialPrice: p.initialPrice !== undefined ? BigInt(p.initialPrice) : floor,
    depth,
    targetUtilizationPpm: Math.round((p.targetUtilization ?? defaults.targetUtilizationPpm / PPM) * PPM),
    responseTimeSeconds: parseDuration(p.responseTime) ?? defaults.responseTimeSeconds,
    feeBps: p.feeBps ?? 0,
  });
}

/** The engine state persisted in status.pricing, or undefined when there is none (a new pool). */
export function stateFromStatus(s: PricingStatus | undefined): PoolState | undefined {
  if (!s || !/^[0-9]+$/.test(s.k ?? '') || !Number.isSafeInteger(s.at)) return undefined;
  const allocatable = Number.isSafeInteger(s.allocatable) ? s.allocatable : 0;
  const free = Number.isSafeInteger(s.free) ? Math.min(s.free, allocatable) : 0;
  return { k: BigInt(s.k), at: s.at, allocatable, free };
}

export type Priced = {
  readonly params: PoolParams;
  readonly state: PoolState;
  readonly spot: bigint;
  /** True when capacity differs from what the persisted state was relaxed under. */
  readonly capacityChanged: boolean;
};

/**
 * Brings the pool's price to `nowSec`: relaxes K from the persisted instant under the capacity
 * held since then, then moves along the curve to the capacity observed now (K unchanged, clamped
 * for the new capacity). A pool with no persisted state opens at its initial price.
 */
export function priceNow(pool: GpuPool, capacity: Capacity, nowSec: number): Priced {
  const params = paramsFromSpec(pool.spec, capacity.allocatable);
  const stored = stateFromStatus(pool.status?.pricing);
  if (!stored) {
    const state = openPool(params, capacity, nowSec);
    return { params, state, spot: spotPrice(state, params), capacityChanged: true };
  }
  const relaxed = relax(stored, params, nowSec);
  const moved = relax(setCapacity(relaxed, params, capacity), params, relaxed.at);
  const capacityChanged = stored.allocatable !== capacity.allocatable || stored.free !== capacity.free;
  return { params, state: moved, spot: spotPrice(moved, params), capacityChanged };
}

export function pricingStatus(state: PoolState, params: PoolParams, sequence: number): PricingStatus {
  return {
    k: state.k.toString(),
    at: state.at,
    updatedAt: new Date(state.at * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    allocatable: state.allocatable,
    free: state.free,
    depth: params.depth,
    sequence,
  };
}

/** Utilisation (N − F) / N as a decimal string with 4 places; "0.0000" for an empty pool. */
export function utilization(c: Capacity): string {
  if (c.allocatable === 0) return '0.0000';
  const bp = Math.floor(((c.allocatable - c.free) * 10_000) / c.allocatable);
  return (bp / 10_000).toFixed(4);
}
