// A yardstick for the scarcity rent: fixed(p) until the busy weeks start, then one price per week,
// each chosen in hindsight to earn the most while keeping at least 99% of fixed(p)'s welfare (the
// goal's own side condition: without it the search finds a monopoly price, not a scarcity rent).
// No operator can know those prices; they show how much of the rent goal is within reach of a
// posted price once the quiet months' leases are signed. The search is coordinate ascent over a
// grid of multiples of p: a local optimum, so the figure is a lower bound of what weekly prices
// chosen with perfect foresight earn.
import type { SimTask } from './demand.js';
import { fixedMarket, type PriceSchedule } from './policies/fixed.js';
import type { MarketContext } from './policies/market.js';
import { run, type RunOptions } from './runner.js';

export type HindsightOptions = {
  /** the administered price before `fromDay` and the lowest price after, × reference */
  readonly floor: number;
  readonly fromDay: number;
  /** length of each price period, days (default 7; Infinity: one price for all of it) */
  readonly periodDays?: number;
  /** highest price tried, × floor (default 3) */
  readonly maxMultiple?: number;
  /** grid step, × floor (default 0.2) */
  readonly step?: number;
  /** passes over the periods (default 2) */
  readonly passes?: number;
  /** least welfare kept, as a share of fixed(floor)'s (default 0.99) */
  readonly minWelfareShare?: number;
};

export type Hindsight = { readonly schedule: PriceSchedule; readonly revenue: bigint; readonly welfare: number };

/** The weekly prices after `fromDay` that earn the most (coordinate ascent), with their revenue. */
export function hindsightSchedule(ctx: MarketContext, tasks: readonly SimTask[], runOptions: RunOptions, options: HindsightOptions): Hindsight {
  const period = (options.periodDays ?? 7) * 86400;
  const from = options.fromDay * 86400;
  const last = tasks.length > 0 ? tasks[tasks.length - 1]!.arrival : 0;
  const periods = Number.isFinite(period) ? Math.max(1, Math.ceil((last + 1 - from) / period)) : 1;
  const multiples: number[] = [];
  const step = options.step ?? 0.2;
  for (let m = 1; m <= (options.maxMultiple ?? 3) + 1e-9; m += step) multiples.push(Math.round(m * 1000) / 1000);
  const levels = Array.from({ length: periods }, () => options.floor);
  const outcome = (ls: readonly number[]): { revenue: bigint; welfare: number } => {
    const t = run(fixedMarket(ctx, { base: options.floor, from, period, levels: ls }), tasks, ctx, runOptions).total;
    return { revenue: t.paid, welfare: t.value - t.cost };
  };
  let best = outcome(levels);
  const minWelfare = (options.minWelfareShare ?? 0.99) * best.welfare;
  for (let pass = 0; pass < (options.passes ?? 2); pass++) {
    for (let i = 0; i < periods; i++) {
      for (const m of multiples) {
        const l = options.floor * m;
        if (l === levels[i]) continue;
        const tried = levels.slice();
        tried[i] = l;
        const r = outcome(tried);
        if (r.revenue > best.revenue && r.welfare >= minWelfare) {
          best = r;
          levels[i] = l;
        }
      }
    }
  }
  return { schedule: { base: options.floor, from, period, levels }, ...best };
}
