// The experiment of issue 10: the AMM against administered prices on OpenB and on scarce,
// scaled-down copies of it, over several seeds, judged by welfare and revenue.
import { DEFAULT_DEMAND, drawTasks, type DemandModel } from './demand.js';
import { buildPools, type PoolOptions } from './pools.js';
import { hindsightSchedule } from './hindsight.js';
import { auctionMarket } from './policies/auction.js';
import { ammMarket, type AmmOptions } from './policies/amm.js';
import { marketContext } from './policies/market.js';
import { run, type RunOptions, type RunResult } from './runner.js';
import { sweepFixed, type FixedPoint } from './search.js';
import type { NodeSpec, TraceTask } from './trace.js';

export type Scenario = { readonly name: string; readonly pools: PoolOptions };

export const SCENARIOS: readonly Scenario[] = [
  { name: 'OpenB (6,212 GPUs, 7 pools)', pools: {} },
  { name: 'OpenB at 1% (62 GPUs, one pool)', pools: { capacityScale: 0.01, singlePool: true } },
  { name: 'OpenB at 0.5% (31 GPUs, one pool)', pools: { capacityScale: 0.005, singlePool: true } },
];

/** One pool with this fraction of the GPUs of `nodes`, as the scarce scenarios above (`--goals-capacities`). */
export function onePoolScenario(nodes: readonly NodeSpec[], capacityScale: number): Scenario {
  const pools: PoolOptions = { capacityScale, singlePool: true };
  const gpus = buildPools(nodes, pools).reduce((s, p) => s + p.gpus, 0);
  return { name: `${+(capacityScale * 100).toPrecision(6)}% of the GPUs (${gpus.toLocaleString('en-US')} GPUs, one pool)`, pools };
}

/** Fixed prices (and AMM floors) of the "never worse" comparison, × reference. */
export const COMPARED_LEVELS = [0.5, 1, 1.5] as const;

export type Comparison = {
  readonly level: number;
  readonly fixed: FixedPoint;
  readonly amm: RunResult;
  readonly revenueRatio: number;
  /** the same, for leases that started in the busy weeks only (from `busyFromDay`) */
  readonly busyRevenueRatio: number;
  readonly welfareRatio: number;
  /** fixed(p) left buyers waiting for GPUs */
  readonly queued: boolean;
  /** at least 5% of fixed(p)'s buyers waited for GPUs */
  readonly heavy: boolean;
  /**
   * with strategic buyers (DemandModel.strategicShare): how many understate, what they get under
   * AMM(p) (value − paid, base units), and what the same buyers get there declaring their value
   */
  readonly understating?: { readonly buyers: number; readonly surplus: number; readonly truthfulSurplus: number };
  /**
   * where heavy: revenue of the hindsight yardstick (fixed(p), then weekly prices chosen in
   * hindsight from the busy weeks on, hindsight.ts) / fixed(p)
   */
  readonly hindsightRatio?: number;
  /** its weekly prices, × reference */
  readonly hindsightLevels?: readonly number[];
  /** the same with one price for all the busy weeks */
  readonly hindsightOneRatio?: number;
  readonly hindsightOneLevel?: number;
  /**
   * where fixed(p) queues at all: the best of three yardsticks chosen in hindsight (the two above,
   * and one price for the whole trace on a finer grid), revenue / fixed(p). What a posted price
   * could earn with perfect foresight, case by case.
   */
  readonly hindsightBestRatio?: number;
};

export type CaseResult = {
  readonly scenario: string;
  readonly seed: number;
  /** first day of the busy weeks: the day by which 5% of the tasks have arrived */
  readonly busyFromDay: number;
  readonly sweep: readonly FixedPoint[];
  readonly bestRevenue: FixedPoint;
  readonly bestWelfare: FixedPoint;
  /** the AMM with its floor at the providers' cost */
  readonly ammAtCost: RunResult;
  readonly auction: RunResult;
  /** welfare of ammAtCost / best welfare of any fixed price */
  readonly efficiency: number;
  readonly comparisons: readonly Comparison[];
};

export type ExperimentOptions = {
  readonly scenarios?: readonly Scenario[];
  readonly seeds?: readonly number[];
  readonly demand?: DemandModel;
  readonly feeBps?: number;
  readonly amm?: AmmOptions['params'];
  readonly tickSeconds?: number;
  /** compute the hindsight yardsticks where fixed(p) queues (default true) */
  readonly hindsight?: boolean;
  readonly onProgress?: (done: number, total: number, label: string) => void;
};

const welfare = (r: RunResult): number => r.total.value - r.total.cost;
const paidFrom = (r: RunResult, day: number): number => r.total.paidByDay.slice(day).reduce((a, b) => a + b, 0);

/** The day by which 5% of the tasks have arrived: before it the trace is quiet (OpenB: day 112). */
export function busyFromDay(tasks: readonly TraceTask[]): number {
  const arrivals = tasks.map((t) => t.arrival).sort((a, b) => a - b);
  return arrivals.length ? Math.floor(arrivals[Math.floor(0.05 * arrivals.length)]! / 86400) : 0;
}

export function experiment(nodes: readonly NodeSpec[], tasks: readonly TraceTask[], options: ExperimentOptions = {}): CaseResult[] {
  const demand = options.demand ?? DEFAULT_DEMAND;
  const scenarios = options.scenarios ?? SCENARIOS;
  const seeds = options.seeds ?? [1, 2, 3, 4, 5];
  const runOptions: RunOptions = { sampleSeconds: 0, tickSeconds: options.tickSeconds ?? 600 };
  const out: CaseResult[] = [];
  const total = scenarios.length * seeds.length;
  const busyFrom = busyFromDay(tasks);
  for (const scenario of scenarios) {
    const pools = buildPools(nodes, scenario.pools);
    const ctx = marketContext(pools, demand, options.feeBps ?? 100);
    for (const seed of seeds) {
      const simTasks = drawTasks(tasks, pools, demand, seed);
      const amm = (floor: number, buyers = simTasks, opts = runOptions): RunResult =>
        run(ammMarket(ctx, options.amm ? { floor, params: options.amm } : { floor }), buyers, ctx, opts);
      // strategic buyers: the same AMM run again with every buyer declaring its value, to see
      // whether understating paid off for those who did
      const understating = new Set(simTasks.flatMap((t) => (t.understates ? [t.index] : [])));
      const truthful = understating.size > 0 ? simTasks.map(({ understates: _, ...t }) => t) : simTasks;
      const tracking = understating.size > 0 ? { ...runOptions, track: understating } : runOptions;
      const surplusOf = (r: RunResult): number => (r.total.tracked ? r.total.tracked.value - r.total.tracked.paid : 0);
      const levels = COMPARED_LEVELS.map((l) => Math.round(l * 100));
      const sweep = sweepFixed(ctx, simTasks, runOptions, [...levels, Math.round(demand.costRatio * 100)]);
      const ammAtCost = amm(demand.costRatio);
      const comparisons = COMPARED_LEVELS.map((level): Comparison => {
        const fixed = sweep.points.find((p) => Math.round(p.level * 100) === Math.round(level * 100))!;
        const a = amm(level, simTasks, tracking);
        const strategic =
          understating.size > 0 ? { understating: { buyers: understating.size, surplus: surplusOf(a), truthfulSurplus: surplusOf(amm(level, truthful, tracking)) } } : {};
        const heavy = fixed.result.total.waited >= 0.05 * fixed.result.total.served;
        const base = {
          level,
          fixed,
          amm: a,
          revenueRatio: Number(a.total.paid) / Math.max(1, Number(fixed.revenue)),
          busyRevenueRatio: paidFrom(a, busyFrom) / Math.max(1, paidFrom(fixed.result, busyFrom)),
          welfareRatio: welfare(a) / fixed.welfare,
          queued: fixed.result.total.waited > 0,
          heavy,
          ...strategic,
        };
        if (!base.queued || options.hindsight === false) return base;
        const weekly = hindsightSchedule(ctx, simTasks, runOptions, { floor: level, fromDay: busyFrom });
        const one = hindsightSchedule(ctx, simTasks, runOptions, { floor: level, fromDay: busyFrom, periodDays: Infinity, step: 0.1 });
        const whole = hindsightSchedule(ctx, simTasks, runOptions, { floor: level, fromDay: 0, periodDays: Infinity, step: 0.02 });
        const ratioOf = (revenue: bigint): number => Number(revenue) / Math.max(1, Number(fixed.revenue));
        const hindsightBestRatio = Math.max(ratioOf(weekly.revenue), ratioOf(one.revenue), ratioOf(whole.revenue));
        if (!heavy) return { ...base, hindsightBestRatio };
        return {
          ...base,
          hindsightBestRatio,
          hindsightRatio: ratioOf(weekly.revenue),
          hindsightLevels: weekly.schedule.levels,
          hindsightOneRatio: ratioOf(one.revenue),
          hindsightOneLevel: one.schedule.levels[0]!,
        };
      });
      out.push({
        scenario: scenario.name,
        seed,
        busyFromDay: busyFrom,
        sweep: sweep.points,
        bestRevenue: sweep.bestRevenue,
        bestWelfare: sweep.bestWelfare,
        ammAtCost,
        auction: run(auctionMarket(ctx, { low: 0.5, high: 1.5, seed }), simTasks, ctx, runOptions),
        efficiency: welfare(ammAtCost) / sweep.bestWelfare.welfare,
        comparisons,
      });
      options.onProgress?.(out.length, total, `${scenario.name} seed ${seed}`);
    }
  }
  return out;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export type GoalCheck = { readonly goal: string; readonly target: string; readonly measured: string; readonly met: boolean };

/** The goals, measured. */
export function checkGoals(cases: readonly CaseResult[]): GoalCheck[] {
  const eff = cases.map((c) => c.efficiency);
  const comps = cases.flatMap((c) => c.comparisons);
  const worstRevenue = Math.min(...comps.map((c) => c.revenueRatio));
  const worstWelfare = Math.min(...comps.map((c) => c.welfareRatio));
  const rent = comps.filter((c) => c.queued).map((c) => c.revenueRatio);
  const heavy = comps.filter((c) => c.heavy);
  const busy = heavy.map((c) => c.busyRevenueRatio);
  const yardstick = heavy.flatMap((c) => (c.hindsightRatio === undefined ? [] : [c.hindsightRatio]));
  const yardstickOne = heavy.flatMap((c) => (c.hindsightOneRatio === undefined ? [] : [c.hindsightOneRatio]));
  const yardstickBest = comps.flatMap((c) => (c.queued && c.hindsightBestRatio !== undefined ? [c.hindsightBestRatio] : []));
  const summary = (xs: readonly number[]): string =>
    xs.length ? `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}; ${xs.filter((x) => x >= 1.1).length} of ${xs.length})` : 'not computed';
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const day = cases[0]?.busyFromDay ?? 0;
  const understating = comps.flatMap((c) => (c.understating && c.queued ? [c.understating] : []));
  const ratios = understating.map((u) => u.surplus / Math.max(1, u.truthfulSurplus));
  const gained = understating.reduce((a, u) => a + u.surplus, 0);
  const gainedTruthful = understating.reduce((a, u) => a + u.truthfulSurplus, 0);
  const strategic: GoalCheck[] = understating.length
    ? [
        {
          goal: `  strategic buyers, where fixed(p) queues (${understating.length} cases): surplus of those who declare the floor / their surplus declaring their value under the same AMM(p), all cases together (median; min; cases > 1)`,
          target: '(understating pays if > 1)',
          measured: `${(gained / Math.max(1, gainedTruthful)).toFixed(3)} (${median(ratios).toFixed(3)}; ${Math.min(...ratios).toFixed(3)}; ${ratios.filter((x) => x > 1).length} of ${ratios.length})`,
          met: gained <= gainedTruthful,
        },
      ]
    : [];
  return [
    { goal: 'efficiency (AMM floor = cost), median', target: '>= 98%', measured: pct(median(eff)), met: median(eff) >= 0.98 },
    { goal: 'efficiency, every seed and case', target: '>= 95%', measured: `min ${pct(Math.min(...eff))}`, met: Math.min(...eff) >= 0.95 },
    { goal: 'revenue AMM(floor p) / fixed(p), every seed, case, p', target: '>= 1', measured: `min ${worstRevenue.toFixed(3)}`, met: worstRevenue >= 1 },
    { goal: 'welfare AMM(floor p) / fixed(p), every seed, case, p', target: '>= 99%', measured: `min ${pct(worstWelfare)}`, met: worstWelfare >= 0.99 },
    {
      goal: `scarcity rent: revenue AMM(p) / fixed(p) where fixed(p) queues at all (${rent.length} cases), median`,
      target: '>= 1.1 (1.2 stretch)',
      measured: rent.length ? median(rent).toFixed(3) : 'no queueing case',
      met: rent.length > 0 && median(rent) >= 1.1,
    },
    {
      goal: `  yardstick: the best of one price from day ${day}, weekly prices from day ${day} and one price for the whole trace, chosen in hindsight per case (welfare >= 99% of fixed(p)), same cases, median (min; cases >= 1.1)`,
      target: '(no operator knows them)',
      measured: summary(yardstickBest),
      met: yardstickBest.length > 0 && median(yardstickBest) >= 1.1,
    },
    {
      goal: `  the same where >= 5% of fixed(p)'s buyers queue (${heavy.length} cases), median`,
      target: '>= 1.1 (1.2 stretch)',
      measured: heavy.length ? median(heavy.map((c) => c.revenueRatio)).toFixed(3) : 'no such case',
      met: heavy.length > 0 && median(heavy.map((c) => c.revenueRatio)) >= 1.1,
    },
    {
      goal: `  the same, leases started from day ${day} (the busy weeks) only, median (min)`,
      target: '(for explanation)',
      measured: heavy.length ? `${median(busy).toFixed(3)} (${Math.min(...busy).toFixed(3)})` : 'no such case',
      met: heavy.length > 0 && median(busy) >= 1.1,
    },
    {
      goal: `  yardstick: fixed(p), then one price chosen in hindsight from day ${day} (welfare >= 99% of fixed(p)), same cases, median (min; cases >= 1.1)`,
      target: '(no operator knows it)',
      measured: summary(yardstickOne),
      met: yardstickOne.length > 0 && median(yardstickOne) >= 1.1,
    },
    {
      goal: `  yardstick: the same with one price per week`,
      target: '(no operator knows them)',
      measured: summary(yardstick),
      met: yardstick.length > 0 && median(yardstick) >= 1.1,
    },
    ...strategic,
  ];
}
