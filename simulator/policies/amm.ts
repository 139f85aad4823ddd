// `amm`: PinFi's pool, one per GpuPool, with the operator's engine and its default parameters.
// The engine counts milli-GPUs here (the curve is scale-free: K scales with the unit, prices per
// GPU-hour and costs are the same as with whole GPUs).
import {
  defaultParams,
  openPool,
  quote,
  relax,
  release,
  spotPrice,
  take,
  type PoolParams,
  type PoolState,
} from '../../operator/src/market/index.js';
import type { SimTask } from '../demand.js';
import { UNITS_PER_GPU } from '../pools.js';
import { orderValue, type Market, type MarketContext, type Sale } from './market.js';

/** Overrides of the engine's default parameters; depth as a share of the pool. */
export type AmmParams = Partial<Pick<PoolParams, 'targetUtilizationPpm' | 'responseTimeSeconds'>> & {
  /** depth, parts per million of the pool's GPUs (engine default: 100,000) */
  readonly depthPpm?: number;
  /** ceiling as a multiple of the floor (engine default: 20) */
  readonly ceilingMultiple?: number;
};

export type AmmOptions = {
  /** floor as a multiple of each pool's reference price */
  readonly floor: number;
  readonly params?: AmmParams;
};

export function ammMarket(ctx: MarketContext, options: AmmOptions): Market {
  const params = ctx.pools.map((pool, i) => {
    const floor = BigInt(Math.max(1, Math.ceil((options.floor * ctx.reference[i]!) / UNITS_PER_GPU)));
    const { ceilingMultiple, depthPpm, ...rest } = options.params ?? {};
    const ceiling = ceilingMultiple ? { ceiling: floor * BigInt(ceilingMultiple) } : {};
    const depth = depthPpm === undefined ? {} : { depth: Math.max(1, Math.ceil((pool.units * depthPpm) / 1e6)) };
    return defaultParams(floor, pool.units, { feeBps: ctx.feeBps, ...ceiling, ...depth, ...rest });
  });
  const states: PoolState[] = ctx.pools.map((pool, i) => openPool(params[i]!, { allocatable: pool.units, free: pool.units }, 0));
  const at = (i: number, now: number): PoolState => {
    const s = states[i]!;
    return s.at < now ? (states[i] = relax(s, params[i]!, now)) : s;
  };
  const floors = params.map((p) => Number(p.floor) * UNITS_PER_GPU);
  const floorPerUnitHour = params.map((p) => Number(p.floor));
  const order: number[] = [];
  const share = (i: number): number => states[i]!.free / Math.max(1, states[i]!.allocatable);
  /** `pools` by free share, most first (stable), as kube-scheduler's LeastAllocated: a reused array */
  const byFree = (pools: readonly number[]): readonly number[] => {
    if (pools.length < 2) return pools;
    order.length = 0;
    for (const i of pools) {
      let j = order.length;
      while (j > 0 && share(order[j - 1]!) < share(i)) j--;
      order.splice(j, 0, i);
    }
    return order;
  };

  return {
    drifts: true,
    tryServe(task: SimTask, now: number): Sale | undefined {
      let best = -1;
      let bestSurplus = -Infinity;
      let bestPaid = 0n;
      // pools with a larger share free first: ties go to them, and a pool whose floor price
      // already leaves no more surplus than the best so far is not quoted at all
      for (const i of byFree(task.pools)) {
        const s = states[i]!;
        if (s.free < task.units) continue;
        const value = orderValue(ctx, task, i);
        if (value - (floorPerUnitHour[i]! * task.units * task.seconds) / 3600 <= bestSurplus) continue;
        const q = quote(at(i, now), params[i]!, task.units, task.seconds);
        if (!q.ok) continue;
        const surplus = value - Number(q.quote.total);
        if (surplus >= 0 && surplus > bestSurplus) {
          best = i;
          bestSurplus = surplus;
          bestPaid = q.quote.total;
        }
      }
      if (best < 0) return undefined;
      const r = take(states[best]!, params[best]!, task.units, task.seconds);
      if (!r.ok) return undefined;
      states[best] = r.state;
      return { task, pool: best, start: now, paid: bestPaid };
    },
    willWait(task: SimTask): boolean {
      return task.pools.some((i) => task.multiplier * ctx.reference[i]! >= floors[i]!);
    },
    release(sale: Sale, now: number): void {
      states[sale.pool] = release(at(sale.pool, now), params[sale.pool]!, sale.task.units);
    },
    price(pool: number, now: number): number | undefined {
      const s = at(pool, now);
      return s.free > 0 ? Number(spotPrice(s, params[pool]!)) * UNITS_PER_GPU : undefined;
    },
    free: (pool) => states[pool]!.free,
  };
}
