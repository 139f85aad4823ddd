// `fixed`: one administered price per pool (a multiple of its reference price) and a FCFS queue.
// A buyer who values the GPUs at the price or more and finds none free waits in the queue; the
// queue is served in arrival order with backfilling (a waiting task that does not fit does not
// block smaller ones behind it, as kube-scheduler does). A buyer below the price leaves at once.
// The level may follow a schedule (`PriceSchedule`): the hindsight yardstick of hindsight.ts.
import type { SimTask } from '../demand.js';
import { costAt, orderValue, type Market, type MarketContext, type Sale } from './market.js';

/** `base` until `from` seconds, then `levels[i]` for the i-th period of `period` seconds (the last one holds on). */
export type PriceSchedule = {
  readonly base: number;
  readonly from: number;
  readonly period: number;
  readonly levels: readonly number[];
};

/** The level of `schedule` at `now`. */
export function levelAt(schedule: PriceSchedule, now: number): number {
  if (now < schedule.from || schedule.levels.length === 0) return schedule.base;
  return schedule.levels[Math.min(schedule.levels.length - 1, Math.floor((now - schedule.from) / schedule.period))]!;
}

export function fixedMarket(ctx: MarketContext, level: number | PriceSchedule): Market {
  const priceOf = (l: number): bigint[] => ctx.reference.map((r) => BigInt(Math.round(l * r)));
  const schedule = typeof level === 'number' ? undefined : level;
  let current = schedule ? schedule.base : (level as number);
  let prices = priceOf(current);
  let priceN = prices.map(Number);
  /** follows the schedule; a no-op for one price */
  const at = (now: number): void => {
    if (!schedule) return;
    const l = levelAt(schedule, now);
    if (l !== current) {
      current = l;
      prices = priceOf(l);
      priceN = prices.map(Number);
    }
  };
  const free = ctx.pools.map((p) => p.units);
  /** ties go to the pool with the largest share free, as kube-scheduler's LeastAllocated */
  const share = (i: number): number => free[i]! / Math.max(1, ctx.pools[i]!.units);
  return {
    drifts: false,
    tryServe(task: SimTask, now: number): Sale | undefined {
      at(now);
      let best = -1;
      let bestSurplus = -Infinity;
      let bestPaid = 0n;
      for (const i of task.pools) {
        if (free[i]! < task.units || task.multiplier * ctx.reference[i]! < priceN[i]!) continue;
        const paid = costAt(prices[i]!, task.units, task.seconds);
        const surplus = orderValue(ctx, task, i) - Number(paid);
        if (surplus > bestSurplus || (surplus === bestSurplus && share(i) > share(best))) {
          best = i;
          bestSurplus = surplus;
          bestPaid = paid;
        }
      }
      if (best < 0) return undefined;
      free[best]! -= task.units;
      return { task, pool: best, start: now, paid: bestPaid };
    },
    willWait: (task) => {
      at(task.arrival);
      return task.pools.some((i) => task.multiplier * ctx.reference[i]! >= priceN[i]!);
    },
    release(sale: Sale): void {
      free[sale.pool]! += sale.task.units;
    },
    price: (pool, now) => {
      at(now);
      return free[pool]! > 0 ? priceN[pool] : undefined;
    },
    free: (pool) => free[pool]!,
  };
}
