// `fixed`: one administered price per pool (a multiple of its reference price) and a FCFS queue.
// A buyer who values the GPUs at the price or more and finds none free waits in the queue; the
// queue is served in arrival order with backfilling (a waiting task that does not fit does not
// block smaller ones behind it, as kube-scheduler does). A buyer below the price leaves at once.
import type { SimTask } from '../demand.js';
import { costAt, orderValue, type Market, type MarketContext, type Sale } from './market.js';

export function fixedMarket(ctx: MarketContext, level: number): Market {
  const prices = ctx.reference.map((r) => BigInt(Math.round(level * r)));
  const priceN = prices.map(Number);
  const free = ctx.pools.map((p) => p.units);
  /** ties go to the pool with the largest share free, as kube-scheduler's LeastAllocated */
  const share = (i: number): number => free[i]! / Math.max(1, ctx.pools[i]!.units);
  return {
    drifts: false,
    tryServe(task: SimTask, now: number): Sale | undefined {
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
    willWait: (task) => task.pools.some((i) => task.multiplier * ctx.reference[i]! >= priceN[i]!),
    release(sale: Sale): void {
      free[sale.pool]! += sale.task.units;
    },
    price: (pool) => (free[pool]! > 0 ? priceN[pool] : undefined),
    free: (pool) => free[pool]!,
  };
}
