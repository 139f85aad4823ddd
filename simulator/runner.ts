// The event loop: arrivals from the trace, departures when leases end, waiting buyers re-checked
// when GPUs free up (and on a timer when prices drift), all in simulated seconds. No clock, no
// cluster: a run is a pure function of the tasks, the market and the options. Under term pricing
// (a sale with `until`) the lease is renewed at the end of each term, or cut there: a cut job
// counts only the hours it was served. Pre-emptible leases (a sale with `preemptible`, when the
// market lends idle GPUs) count the hours they ran; an evicted job waits again as a new order
// for the rest of its duration, or for all of it if it restarts (then the hours it ran are worth
// nothing to its buyer); a buyer counts as served once. With both, a declined renewal runs on as a
// pre-emptible lease instead of being cut.
import { UNITS_PER_GPU } from './pools.js';
import { MinHeap } from './heap.js';
import type { SimTask } from './demand.js';
import type { Market, MarketContext, Sale } from './policies/market.js';

export type RunOptions = {
  /** seconds between samples of the price and utilisation time series; 0 = none */
  readonly sampleSeconds: number;
  /** seconds between re-checks of waiting buyers when prices drift */
  readonly tickSeconds: number;
  /** end of the utilisation window, seconds (default: the last arrival) */
  readonly horizon?: number;
  /** task indices whose buyers' value and payments are also summed apart (`total.tracked`) */
  readonly track?: ReadonlySet<number>;
};

export type Totals = {
  served: number;
  gpuHours: number;
  /** what buyers paid, base units */
  paid: bigint;
  /** protocol fee out of it, base units */
  fee: bigint;
  /** value to buyers and cost to providers of what was served, base units */
  value: number;
  cost: number;
};

export type PoolResult = Totals & {
  /** time-averaged share of the pool's GPUs in use over the window */
  utilisation: number;
  /** waits of the tasks served here, seconds (a task left unserved belongs to no pool) */
  waitP50: number;
  waitP95: number;
};

export type Series = {
  /** sample times, seconds */
  readonly t: number[];
  /** per pool: milli-GPUs in use at each sample */
  readonly used: number[][];
  /** per pool: price per GPU-hour for one GPU at each sample, base units (null: none free) */
  readonly price: (number | null)[][];
};

export type RunResult = {
  readonly pools: PoolResult[];
  readonly total: Totals & {
    readonly tasks: number;
    /** left without being served (price too high or patience ran out) */
    readonly unserved: number;
    /** had to wait at least once */
    readonly waited: number;
    /** term pricing: served jobs cut at a renewal they declined, and the GPU-hours they lost */
    readonly cut: number;
    readonly gpuHoursCut: number;
    /** term pricing with lending: declined renewals that ran on as pre-emptible leases */
    readonly demoted: number;
    /** pre-emptible leases evicted, and the GPU-hours they had left */
    readonly evicted: number;
    readonly gpuHoursEvicted: number;
    /** what buyers paid for leases that started on each day of the trace, base units */
    readonly paidByDay: readonly number[];
    /** with `options.track`: the value those buyers got and what they paid, base units */
    readonly tracked?: { readonly value: number; readonly paid: number };
    /** waits of served tasks, seconds */
    readonly waitP50: number;
    readonly waitP95: number;
    readonly utilisation: number;
  };
  readonly series?: Series;
};

const zero = (): Totals => ({ served: 0, gpuHours: 0, paid: 0n, fee: 0n, value: 0, cost: 0 });

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Replay `tasks` (sorted by arrival) against `market`. */
export function run(market: Market, tasks: readonly SimTask[], ctx: MarketContext, options: RunOptions): RunResult {
  const n = ctx.pools.length;
  const horizon = options.horizon ?? (tasks.length > 0 ? tasks[tasks.length - 1]!.arrival : 0);
  const pools = ctx.pools.map(() => ({ ...zero(), used: 0, area: 0, last: 0, waits: [] as number[] }));
  const departures = new MinHeap<Sale>();
  const waits: number[] = [];
  const feeBps = BigInt(ctx.feeBps);
  const series: Series | undefined = options.sampleSeconds > 0 ? { t: [], used: pools.map(() => []), price: pools.map(() => []) } : undefined;
  let waiting: SimTask[] = [];
  const paidByDay: number[] = [];
  let unserved = 0;
  let waited = 0;
  let cut = 0;
  let demoted = 0;
  let gpuHoursCut = 0;
  // pre-emptible leases, by task index: the one running now, the original order (for a
  // restart), the order it waits again with after an eviction; tasks already counted as served;
  // orders that no longer wait; evicted orders to put back on the waiting list
  const lentNow = new Map<number, Sale>();
  const original = new Map<number, SimTask>();
  const again = new Map<number, SimTask>();
  const counted = new Set<number>();
  const settled = new Set<number>();
  /** sales whose departure no longer happens: evicted, or replaced by a priced lease */
  const ended = new Set<Sale>();
  let rejoin: number[] = [];
  let evicted = 0;
  let gpuHoursEvicted = 0;
  const track = options.track;
  const tracked = { value: 0, paid: 0 };
  /** `value` more (or less) for the buyer of `task` on pool `p`, and apart if it is tracked */
  const addValue = (p: (typeof pools)[number], task: SimTask, value: number): void => {
    p.value += value;
    if (track?.has(task.index)) tracked.value += value;
  };

  const advance = (p: (typeof pools)[number], now: number): void => {
    const t = Math.min(now, horizon);
    if (t > p.last) {
      p.area += p.used * (t - p.last);
      p.last = t;
    }
  };
  /** the part of `paid` for the `left` seconds of a lease of `seconds`, rounded down */
  const partOf = (paid: bigint, left: number, seconds: number): bigint => (paid * BigInt(Math.round(left))) / BigInt(Math.max(1, seconds));
  const feeOf = (paid: bigint): bigint => (paid * feeBps) / 10_000n;
  /** a pre-emptible lease is evicted at `now`: refunded for the time it had left; its order waits again */
  const evict = (sale: Sale, now: number): void => {
    const p = pools[sale.pool]!;
    const { task } = sale;
    const end = sale.start + task.seconds;
    advance(p, now);
    p.used -= task.units;
    const lost = (task.units / UNITS_PER_GPU) * ((end - now) / 3600);
    const ran = (task.units / UNITS_PER_GPU) * ((now - sale.start) / 3600);
    const perHour = task.multiplier * ctx.reference[sale.pool]!;
    p.gpuHours -= lost;
    addValue(p, task, -perHour * (market.preemption === 'restart' ? lost + ran : lost));
    p.cost -= ctx.demand.costRatio * ctx.reference[sale.pool]! * lost;
    const refund = partOf(sale.paid, end - now, task.seconds);
    charge(sale, -refund);
    ended.add(sale);
    lentNow.delete(task.index);
    evicted++;
    gpuHoursEvicted += lost;
    const base = market.preemption === 'restart' ? original.get(task.index)! : task;
    const seconds = market.preemption === 'restart' ? base.seconds : Math.floor(end - now);
    if (seconds >= 1) {
      again.set(task.index, { ...base, seconds, arrival: now });
      rejoin.push(task.index);
    }
  };
  /** the pre-emptible lease `spot` becomes the priced lease `priced` (for the rest of its duration) at `now` */
  const convert = (spot: Sale, priced: Sale, now: number): void => {
    for (const e of priced.evicts ?? []) evict(e, now);
    const end = spot.start + spot.task.seconds;
    const refund = partOf(spot.paid, end - now, spot.task.seconds);
    charge(spot, priced.paid);
    charge(spot, -refund);
    ended.add(spot);
    lentNow.delete(spot.task.index);
    settled.add(spot.task.index);
    departures.push(priced.until ?? end, priced);
  };
  /** `spot` runs on lent GPUs for (the rest of) `whole`, a buyer counted as served from now on. */
  const runsLent = (spot: Sale, whole: SimTask): void => {
    counted.add(whole.index);
    lentNow.set(whole.index, spot);
    if (!original.has(whole.index)) original.set(whole.index, whole);
  };
  const start = (sale: Sale, now: number): void => {
    for (const e of sale.evicts ?? []) evict(e, now);
    const { task } = sale;
    const p = pools[sale.pool]!;
    advance(p, now);
    p.used += task.units;
    const gpuHours = (task.units / UNITS_PER_GPU) * (task.seconds / 3600);
    const first = !counted.has(task.index);
    if (first) p.served++;
    p.gpuHours += gpuHours;
    addValue(p, task, task.multiplier * ctx.reference[sale.pool]! * gpuHours);
    p.cost += ctx.demand.costRatio * ctx.reference[sale.pool]! * gpuHours;
    if (first) {
      waits.push(now - task.arrival);
      p.waits.push(now - task.arrival);
    }
    charge(sale, sale.paid);
    if (sale.preemptible) runsLent(sale, task);
    departures.push(sale.until !== undefined && market.renew ? sale.until : now + task.seconds, sale);
  };
  /** a payment (a refund if negative) for the lease `sale`: its pool's revenue and fee, on the day the lease started */
  const charge = (sale: Sale, paid: bigint): void => {
    const p = pools[sale.pool]!;
    p.paid += paid;
    p.fee += feeOf(paid);
    const day = Math.floor(sale.start / 86400);
    while (paidByDay.length <= day) paidByDay.push(0);
    paidByDay[day]! += Number(paid);
    if (track?.has(sale.task.index)) tracked.paid += Number(paid);
  };
  /** the lease's term ends at `now`: renew it, or cut the job (true: its GPUs are free) */
  const renew = (sale: Sale, now: number): boolean => {
    const p = pools[sale.pool]!;
    const { task } = sale;
    const end = sale.start + task.seconds;
    const next = market.renew!(sale, now);
    if (next) {
      charge(sale, next.paid);
      departures.push(next.until ?? end, next);
      return false;
    }
    // with lending, a declined renewal runs on as a pre-emptible lease for the rest (its GPUs
    // are idle now); its order waits again, to be priced when the quote is within its value
    const left = Math.floor(end - now);
    if (market.lend && left >= 1) {
      const rest: SimTask = { ...task, seconds: left, arrival: now, pools: [sale.pool] };
      const spot = market.lend(rest, now);
      if (spot) {
        charge(sale, spot.paid);
        runsLent(spot, task);
        again.set(task.index, rest);
        settled.delete(task.index);
        rejoin.push(task.index);
        departures.push(now + left, spot);
        demoted++;
        return true;
      }
    }
    advance(p, now);
    p.used -= task.units;
    const lost = (task.units / UNITS_PER_GPU) * ((end - now) / 3600);
    p.gpuHours -= lost;
    addValue(p, task, -task.multiplier * ctx.reference[sale.pool]! * lost);
    p.cost -= ctx.demand.costRatio * ctx.reference[sale.pool]! * lost;
    cut++;
    gpuHoursCut += lost;
    return true;
  };
  /** orders of evicted jobs join the waiting list again (unless still on it) */
  const rejoinWaiting = (): void => {
    if (rejoin.length === 0) return;
    const on = new Set(waiting.map((t) => t.index));
    for (const i of rejoin) if (!on.has(i)) waiting.push(again.get(i)!);
    rejoin = [];
  };
  const scan = (now: number): void => {
    const kept: SimTask[] = [];
    for (const queued of waiting) {
      if (settled.has(queued.index)) continue;
      const task = again.get(queued.index) ?? queued;
      if (now > task.arrival + task.patience) {
        if (!counted.has(task.index)) unserved++;
        continue;
      }
      const spot = lentNow.get(task.index);
      if (spot) {
        const priced = market.convert?.(spot, now);
        if (priced) convert(spot, priced, now);
        else kept.push(task);
        continue;
      }
      const sale = market.tryServe(task, now) ?? market.lend?.(task, now);
      if (sale) start(sale, now);
      if (!sale || sale.preemptible) kept.push(task);
    }
    waiting = kept;
    rejoinWaiting();
  };

  let next = 0;
  let tick = Infinity;
  let sample = series ? 0 : Infinity;
  for (;;) {
    const now = Math.min(next < tasks.length ? tasks[next]!.arrival : Infinity, departures.peekKey(), tick, sample);
    if (now === Infinity) break;
    let freed = false;
    while (departures.peekKey() <= now) {
      const sale = departures.pop()!;
      if (ended.has(sale)) {
        ended.delete(sale);
        continue;
      }
      if (sale.preemptible) {
        lentNow.delete(sale.task.index);
        settled.add(sale.task.index);
      }
      if (sale.until !== undefined && market.renew) {
        if (renew(sale, now)) freed = true;
        continue;
      }
      const p = pools[sale.pool]!;
      advance(p, now);
      p.used -= sale.task.units;
      market.release(sale, now);
      freed = true;
    }
    if (series && now === sample) {
      series.t.push(now);
      for (let i = 0; i < n; i++) {
        series.used[i]!.push(pools[i]!.used);
        series.price[i]!.push(market.price(i, now) ?? null);
      }
      sample = now + options.sampleSeconds <= horizon ? now + options.sampleSeconds : Infinity;
    }
    if (waiting.length > 0 && (freed || now === tick)) scan(now);
    while (next < tasks.length && tasks[next]!.arrival <= now) {
      const task = tasks[next++]!;
      const sale = market.tryServe(task, now);
      if (sale) start(sale, now);
      else if (market.willWait(task)) {
        waiting.push(task);
        waited++;
        const lent = market.lend?.(task, now);
        if (lent) start(lent, now);
      } else unserved++;
    }
    rejoinWaiting();
    if (waiting.length === 0 || !market.drifts) tick = Infinity;
    else if (tick <= now) tick = now + options.tickSeconds;
    if (waiting.length === 0 && next >= tasks.length && departures.size === 0 && sample === Infinity) break;
  }
  unserved += waiting.filter((t) => !counted.has(t.index) && !settled.has(t.index)).length;

  const total = { ...zero(), area: 0 };
  for (const p of pools) {
    advance(p, horizon);
    total.served += p.served;
    total.gpuHours += p.gpuHours;
    total.paid += p.paid;
    total.fee += p.fee;
    total.value += p.value;
    total.cost += p.cost;
    total.area += p.area;
  }
  const units = ctx.pools.reduce((a, p) => a + p.units, 0);
  waits.sort((a, b) => a - b);
  const result: RunResult = {
    pools: pools.map((p, i) => ({
      waitP50: percentile(p.waits.sort((a, b) => a - b), 0.5),
      waitP95: percentile(p.waits, 0.95),
      served: p.served,
      gpuHours: p.gpuHours,
      paid: p.paid,
      fee: p.fee,
      value: p.value,
      cost: p.cost,
      utilisation: horizon > 0 && ctx.pools[i]!.units > 0 ? p.area / (horizon * ctx.pools[i]!.units) : 0,
    })),
    total: {
      served: total.served,
      gpuHours: total.gpuHours,
      paid: total.paid,
      fee: total.fee,
      value: total.value,
      cost: total.cost,
      tasks: tasks.length,
      unserved,
      waited,
      cut,
      gpuHoursCut,
      demoted,
      evicted,
      gpuHoursEvicted,
      paidByDay,
      ...(track ? { tracked } : {}),
      waitP50: percentile(waits, 0.5),
      waitP95: percentile(waits, 0.95),
      utilisation: horizon > 0 && units > 0 ? total.area / (horizon * units) : 0,
    },
  };
  return series ? { ...result, series } : result;
}
