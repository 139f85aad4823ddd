// `best-fixed`: the administered price that would have earned the most, found in hindsight by
// search; the same sweep gives the best welfare any fixed price reaches (the efficiency yardstick).
import type { SimTask } from './demand.js';
import { fixedMarket } from './policies/fixed.js';
import type { MarketContext } from './policies/market.js';
import { run, type RunOptions, type RunResult } from './runner.js';

/** One fixed price (a multiple of the reference) and what it did. */
export type FixedPoint = {
  /** price as a multiple of each pool's reference price */
  readonly level: number;
  readonly revenue: bigint;
  readonly welfare: number;
  readonly result: RunResult;
};

export type FixedSweep = {
  readonly points: readonly FixedPoint[];
  readonly bestRevenue: FixedPoint;
  readonly bestWelfare: FixedPoint;
};

/** Coarse grid, in hundredths of the reference price. */
export const SWEEP = { from: 20, to: 300, step: 10, refineStep: 2 } as const;

/**
 * Fixed prices from 0.2 to 3.0 × reference in steps of 0.1, then steps of 0.02 around the best
 * revenue and the best welfare. `extra` levels (hundredths) are always included.
 */
export function sweepFixed(ctx: MarketContext, tasks: readonly SimTask[], options: RunOptions, extra: readonly number[] = []): FixedSweep {
  const done = new Map<number, FixedPoint>();
  const at = (hundredths: number): FixedPoint => {
    let p = done.get(hundredths);
    if (!p) {
      const level = hundredths / 100;
      const result = run(fixedMarket(ctx, level), tasks, ctx, options);
      p = { level, revenue: result.total.paid, welfare: result.total.value - result.total.cost, result };
      done.set(hundredths, p);
    }
    return p;
  };
  const best = (score: (p: FixedPoint) => number): number => {
    let arg: number = SWEEP.from;
    for (const [h, p] of done) if (score(p) > score(done.get(arg)!) || (score(p) === score(done.get(arg)!) && h < arg)) arg = h;
    return arg;
  };
  for (let h = SWEEP.from; h <= SWEEP.to; h += SWEEP.step) at(h);
  for (const h of extra) at(h);
  const revenue = (p: FixedPoint): number => Number(p.revenue);
  const welfare = (p: FixedPoint): number => p.welfare;
  for (const score of [revenue, welfare]) {
    const centre = best(score);
    for (let h = centre - SWEEP.step + SWEEP.refineStep; h < centre + SWEEP.step; h += SWEEP.refineStep) {
      if (h > 0) at(h);
    }
  }
  const points = [...done.values()].sort((a, b) => a.level - b.level);
  return { points, bestRevenue: done.get(best(revenue))!, bestWelfare: done.get(best(welfare))! };
}
