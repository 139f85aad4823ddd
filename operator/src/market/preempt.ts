// Pre-emptible leases on idle GPUs (off by default; docs/simulation.md, "third round").
//
// A buyer whose quote exceeds its limit (its maxPrice per GPU-hour) may run on GPUs that no priced
// lease holds, at the pool's floor, until a priced lease needs them. The pool's state does not see
// these leases: the curve prices and relaxes on the GPUs held by priced leases only, so lent GPUs
// are free as far as K is concerned. When a take leaves fewer free GPUs than are lent, some
// pre-emptible leases are evicted: the lowest limit first, the latest start first among equal
// limits, and a lease is kept whenever it still fits beside the ones ranked above it.
import { divUp } from './curve.js';
import { assertCount, SECONDS_PER_HOUR, type PoolParams } from './params.js';
import type { PoolState } from './pool.js';

/** A pre-emptible lease as the eviction rule sees it. */
export type Lent = {
  readonly gpus: number;
  /** the buyer's limit, base units per GPU-hour: a higher limit is evicted later */
  readonly limit: bigint;
  /** when it started, seconds: among equal limits the latest goes first */
  readonly start: number;
};

/** GPUs that are free in the pool and not lent: what a new pre-emptible lease may take. */
export function idleGpus(state: PoolState, lent: readonly Lent[]): number {
  let used = 0;
  for (const l of lent) used += l.gpus;
  return Math.max(0, state.free - used);
}

/** Indices into `lent` of the leases to evict so that the others fit in the pool's free GPUs (ascending). */
export function evictions(state: PoolState, lent: readonly Lent[]): number[] {
  let total = 0;
  for (const l of lent) {
    assertCount(l.gpus, 'gpus');
    total += l.gpus;
  }
  if (total <= state.free) return [];
  // highest limit first, then earliest start, then position: a total order, so the rule is deterministic
  const ranked = lent.map((_, i) => i);
  ranked.sort((a, b) => {
    const x = lent[a]!;
    const y = lent[b]!;
    if (x.limit !== y.limit) return x.limit > y.limit ? -1 : 1;
    if (x.start !== y.start) return x.start - y.start;
    return a - b;
  });
  let kept = 0;
  const out: number[] = [];
  for (const i of ranked) {
    const g = lent[i]!.gpus;
    if (kept + g <= state.free) kept += g;
    else out.push(i);
  }
  return out.sort((a, b) => a - b);
}

/** What a pre-emptible lease of `gpus` GPUs pays for `seconds`: the floor, rounded up. */
export function lentCost(params: PoolParams, gpus: number, seconds: number): bigint {
  assertCount(gpus, 'gpus');
  assertCount(seconds, 'seconds');
  return divUp(params.floor * BigInt(gpus) * BigInt(seconds), BigInt(SECONDS_PER_HOUR));
}
