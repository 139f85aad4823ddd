// `amm`: PinFi's pool, one per GpuPool, with the operator's engine and its default parameters.
// The engine counts milli-GPUs here (the curve is scale-free: K scales with the unit, prices per
// GPU-hour and costs are the same as with whole GPUs).
//
// Term pricing (`termSeconds`, off by default): a lease locks the price for one term only, then
// renews at the quote a new lease of its GPUs for the next term gets at that moment. Its GPUs are
// released and re-taken in one step, so the renewal pays for the part of the curve it holds (K is
// unchanged by both, and the utilisation up to the renewal counts them as held). The incumbent has
// the first right: no waiting buyer sees the GPUs unless it declines. It keeps them if the
// quote is within its value per GPU-hour (its maxPrice); otherwise the job is cut there.
//
// Pre-emptible leases (`preemptible`, off by default): a buyer whose quote exceeds its value runs
// on GPUs that no priced lease holds, at the floor, while its order keeps waiting. The engine's pool
// does not see these leases (K and the curve follow the priced leases only). A priced lease that
// needs their GPUs evicts them by the engine's rule (`evictions`: the lowest limit first); an
// evicted job waits again. While its order waits, the lease becomes a priced one for the rest of
// its duration as soon as the quote for that is within its value. Such a pool starts from the
// engine's PREEMPTIBLE_DEFAULTS (u* 70%, depth 50%, response 24 h) instead of DEFAULTS.
//
// Both together: a declined renewal is not cut. The lease runs on pre-emptibly at the floor on its
// own GPUs (idle once released) for the rest of its duration, and its order waits again to be
// priced (the runner's `demoted`). docs/simulation.md, fifth round, measures it.
//
// Strategic buyers (`SimTask.understates`, with pre-emptible leases only): the limit they declare
// is the floor, not their value. They take a priced lease only at the floor, otherwise run lent,
// and are evicted first. Their value still counts in full for welfare.
import {
  DEFAULTS,
  PREEMPTIBLE_DEFAULTS,
  defaultParams,
  evictions,
  idleGpus,
  kFloor,
  lentCost,
  openPool,
  quote,
  relax,
  release,
  spotPrice,
  take,
  type Lent,
  type PoolParams,
  type PoolState,
} from '../../operator/src/market/index.js';
import type { SimTask } from '../demand.js';
import { UNITS_PER_GPU } from '../pools.js';
import { type Market, type MarketContext, type Sale } from './market.js';

/** Overrides of the engine's default parameters; depth as a share of the pool. */
export type AmmParams = Partial<Pick<PoolParams, 'targetUtilizationPpm' | 'responseTimeSeconds'>> & {
  /** depth, parts per million of the pool's GPUs (engine default: 100,000) */
  readonly depthPpm?: number;
  /** ceiling as a multiple of the floor (engine default: 20) */
  readonly ceilingMultiple?: number;
  /**
   * lease model, not an engine parameter: a lease locks its price for this many seconds and then
   * renews at the then quote, or is cut (default: the whole duration, no renewal)
   */
  readonly termSeconds?: number;
  /**
   * term pricing: what a renewal pays per GPU-hour. `quote` (default): the quote a new lease of its
   * GPUs gets. `level`: the lower of that quote and the pool's level, the spot price at target
   * utilisation (K / X*², the integral controller's state), so an incumbent pays for sustained
   * demand and not for the last GPUs' spike.
   */
  readonly renewAt?: 'quote' | 'level';
  /**
   * lease model, not a pricing parameter: waiting buyers run pre-emptibly on idle GPUs at the
   * floor; an evicted job waits again for the rest of its duration (`checkpoint`) or for all of
   * it (`restart`). Default: off.
   */
  readonly preemptible?: 'checkpoint' | 'restart';
};

export type AmmOptions = {
  /** floor as a multiple of each pool's reference price */
  readonly floor: number;
  readonly params?: AmmParams;
};

export function ammMarket(ctx: MarketContext, options: AmmOptions): Market {
  const params = ctx.pools.map((pool, i) => {
    const floor = BigInt(Math.max(1, Math.ceil((options.floor * ctx.reference[i]!) / UNITS_PER_GPU)));
    const { ceilingMultiple, depthPpm, termSeconds: _, preemptible: _p, renewAt: _r, ...rest } = options.params ?? {};
    const ceiling = ceilingMultiple ? { ceiling: floor * BigInt(ceilingMultiple) } : {};
    const depth = depthPpm === undefined ? {} : { depth: Math.max(1, Math.ceil((pool.units * depthPpm) / 1e6)) };
    return defaultParams(floor, pool.units, { feeBps: ctx.feeBps, ...ceiling, ...depth, ...rest }, options.params?.preemptible ? PREEMPTIBLE_DEFAULTS : DEFAULTS);
  });
  const states: PoolState[] = ctx.pools.map((pool, i) => openPool(params[i]!, { allocatable: pool.units, free: pool.units }, 0));
  const at = (i: number, now: number): PoolState => {
    const s = states[i]!;
    return s.at < now ? (states[i] = relax(s, params[i]!, now)) : s;
  };
  const term = options.params?.termSeconds ?? Infinity;
  if (!(term > 0) || (Number.isFinite(term) && !Number.isSafeInteger(term))) throw new RangeError(`term must be a positive whole number of seconds (got ${term})`);
  /** seconds of the lease's next term from `now`, and the end of it if that is before the task's end */
  const termFrom = (sale: { task: SimTask; start: number }, now: number): { seconds: number; until?: number } => {
    const left = sale.start + sale.task.seconds - now;
    return left > term ? { seconds: term, until: now + term } : { seconds: left };
  };
  /** what `seconds` of the task are worth on pool `i`: `orderValue` for a term */
  const termValue = (task: SimTask, i: number, seconds: number): number =>
    (task.multiplier * ctx.reference[i]! * task.units * seconds) / (UNITS_PER_GPU * 3600);
  const renewAt = options.params?.renewAt ?? 'quote';
  const preemption = options.params?.preemptible;
  const floorPerUnitHour = params.map((p) => Number(p.floor));
  const floors = floorPerUnitHour.map((f) => f * UNITS_PER_GPU);
  /** per pool: the pre-emptible leases running on its idle GPUs, in the order they started */
  const lent: Sale[][] = ctx.pools.map(() => []);
  /** a buyer's limit per GPU-hour on pool `i`: its value, or the floor if it understates where GPUs are lent */
  const limitOf = (task: SimTask, i: number): number => (preemption && task.understates ? floors[i]! : task.multiplier * ctx.reference[i]!);
  /** the most the buyer pays for `seconds` of the task: its value, or no more than the floor if it understates */
  const declaredValue = (task: SimTask, i: number, seconds: number): number => {
    const value = termValue(task, i, seconds);
    return preemption && task.understates ? Math.min(value, Math.ceil((floorPerUnitHour[i]! * task.units * seconds) / 3600)) : value;
  };
  const lentView = (i: number): Lent[] =>
    lent[i]!.map((sale) => ({ gpus: sale.task.units, limit: BigInt(Math.floor(limitOf(sale.task, i))), start: sale.start }));
  /** the pre-emptible leases of pool `i` that no longer fit beside the priced ones: removed and returned */
  const evictFor = (i: number): Sale[] => {
    if (lent[i]!.length === 0) return [];
    const out = evictions(states[i]!, lentView(i));
    if (out.length === 0) return [];
    const gone = out.map((j) => lent[i]![j]!);
    lent[i] = lent[i]!.filter((_, j) => !out.includes(j));
    return gone;
  };
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

  const market: Market = {
    drifts: true,
    tryServe(task: SimTask, now: number): Sale | undefined {
      const { seconds, until } = termFrom({ task, start: now }, now);
      let best = -1;
      let bestSurplus = -Infinity;
      let bestPaid = 0n;
      // pools with a larger share free first: ties go to them, and a pool whose floor price
      // already leaves no more surplus than the best so far is not quoted at all
      for (const i of byFree(task.pools)) {
        const s = states[i]!;
        if (s.free < task.units) continue;
        const value = termValue(task, i, seconds);
        if (value - (floorPerUnitHour[i]! * task.units * seconds) / 3600 <= bestSurplus) continue;
        const q = quote(at(i, now), params[i]!, task.units, seconds);
        if (!q.ok) continue;
        const surplus = value - Number(q.quote.total);
        if (declaredValue(task, i, seconds) >= Number(q.quote.total) && surplus > bestSurplus) {
          best = i;
          bestSurplus = surplus;
          bestPaid = q.quote.total;
        }
      }
      if (best < 0) return undefined;
      const r = take(states[best]!, params[best]!, task.units, seconds);
      if (!r.ok) return undefined;
      states[best] = r.state;
      const evicted = evictFor(best);
      const evicts = evicted.length > 0 ? { evicts: evicted } : {};
      return until === undefined ? { task, pool: best, start: now, paid: bestPaid, ...evicts } : { task, pool: best, start: now, paid: bestPaid, until, ...evicts };
    },
    willWait(task: SimTask): boolean {
      return task.pools.some((i) => task.multiplier * ctx.reference[i]! >= floors[i]!);
    },
    release(sale: Sale, now: number): void {
      if (sale.preemptible) {
        lent[sale.pool] = lent[sale.pool]!.filter((l) => l !== sale);
        return;
      }
      states[sale.pool] = release(at(sale.pool, now), params[sale.pool]!, sale.task.units);
    },
    renew(sale: Sale, now: number): Sale | undefined {
      const i = sale.pool;
      const { seconds, until } = termFrom(sale, now);
      // released and re-taken at once: the quote of a new lease of these GPUs for the next term
      const freed = release(at(i, now), params[i]!, sale.task.units);
      const r = take(freed, params[i]!, sale.task.units, seconds);
      const paid = r.ok && renewAt === 'level' ? minBig(r.quote.total, costAtLevel(freed, params[i]!, sale.task.units, seconds)) : r.ok ? r.quote.total : 0n;
      if (!r.ok || declaredValue(sale.task, i, seconds) < Number(paid)) {
        states[i] = freed;
        return undefined;
      }
      states[i] = r.state;
      const { until: _, ...rest } = sale;
      return until === undefined ? { ...rest, paid } : { ...rest, paid, until };
    },
    price(pool: number, now: number): number | undefined {
      const s = at(pool, now);
      return s.free > 0 ? Number(spotPrice(s, params[pool]!)) * UNITS_PER_GPU : undefined;
    },
    free: (pool) => (preemption ? idleGpus(states[pool]!, lentView(pool)) : states[pool]!.free),
  };
  if (!preemption) return market;
  return {
    ...market,
    preemption,
    lend(task: SimTask, now: number): Sale | undefined {
      let best = -1;
      let bestSurplus = -Infinity;
      let bestPaid = 0n;
      for (const i of byFree(task.pools)) {
        if (task.multiplier * ctx.reference[i]! < floors[i]! || idleGpus(states[i]!, lentView(i)) < task.units) continue;
        const paid = lentCost(params[i]!, task.units, task.seconds);
        const surplus = termValue(task, i, task.seconds) - Number(paid);
        if (surplus > bestSurplus) {
          best = i;
          bestSurplus = surplus;
          bestPaid = paid;
        }
      }
      if (best < 0) return undefined;
      const sale: Sale = { task, pool: best, start: now, paid: bestPaid, preemptible: true };
      lent[best]!.push(sale);
      return sale;
    },
    convert(sale: Sale, now: number): Sale | undefined {
      const left = sale.start + sale.task.seconds - now;
      if (left < 1) return undefined;
      const i = sale.pool;
      const before = lent[i]!;
      // its own GPUs are not lent while it is quoted: they are the ones it takes
      lent[i] = before.filter((l) => l !== sale);
      const priced = market.tryServe({ ...sale.task, seconds: Math.floor(left), pools: [i] }, now);
      if (!priced) lent[i] = before;
      return priced;
    },
  };
}

const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * `units` for `seconds` at the pool's level, the spot price at target utilisation: floor · K /
 * kFloor (kFloor is the K at which that price is the floor), capped at the ceiling; rounded up.
 */
function costAtLevel(state: PoolState, params: PoolParams, units: number, seconds: number): bigint {
  const unitSeconds = BigInt(units) * BigInt(seconds);
  const den = kFloor(params, state.allocatable) * 3600n;
  const atLevel = (params.floor * state.k * unitSeconds + den - 1n) / den;
  return minBig(atLevel, (params.ceiling * unitSeconds + 3599n) / 3600n);
}
