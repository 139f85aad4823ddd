// `simulate`: a trace against pools built from a node list, under several pricing policies and
// seeds, in simulated time. The library function behind `pinfi simulate`.
import { DEFAULT_DEMAND, drawTasks, type DemandModel } from './demand.js';
import { buildPools, type PoolOptions, type PoolSpec } from './pools.js';
import { ammMarket, type AmmOptions } from './policies/amm.js';
import { auctionMarket } from './policies/auction.js';
import { fixedMarket } from './policies/fixed.js';
import { marketContext, POLICY_KINDS, type Market, type MarketContext } from './policies/market.js';
import { run, type RunOptions, type RunResult } from './runner.js';
import { sweepFixed, type FixedSweep } from './search.js';
import type { NodeSpec, TraceTask } from './trace.js';

export type PolicySpec =
  /** PinFi's pool; floor as a multiple of the reference price (default: the providers' cost) */
  | { readonly kind: 'amm'; readonly floor?: number }
  /** one administered price, a multiple of the reference (default 1) */
  | { readonly kind: 'fixed'; readonly price?: number }
  /** providers' asks uniform in [low, high] × reference (default 0.5–1.5) */
  | { readonly kind: 'auction'; readonly low?: number; readonly high?: number }
  /** the fixed price that earns the most, found by search */
  | { readonly kind: 'best-fixed' };

/** `amm`, `amm@0.5`, `fixed`, `fixed@1.5`, `auction`, `auction@0.5-1.5`, `best-fixed`. */
export function parsePolicy(text: string): PolicySpec {
  const [kind = '', arg] = text.trim().split('@');
  const num = (s: string | undefined): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`policy ${text}: ${s} is not a positive number`);
    return n;
  };
  switch (kind as (typeof POLICY_KINDS)[number]) {
    case 'amm':
      return arg === undefined ? { kind: 'amm' } : { kind: 'amm', floor: num(arg)! };
    case 'fixed':
      return arg === undefined ? { kind: 'fixed' } : { kind: 'fixed', price: num(arg)! };
    case 'auction': {
      if (arg === undefined) return { kind: 'auction' };
      const [low, high] = arg.split('-').map(num);
      if (low === undefined || high === undefined || high < low) throw new Error(`policy ${text}: want auction@LOW-HIGH`);
      return { kind: 'auction', low, high };
    }
    case 'best-fixed':
      return { kind: 'best-fixed' };
    default:
      throw new Error(`unknown policy ${text} (known: ${POLICY_KINDS.join(', ')}, with @level)`);
  }
}

/** The policy with its defaults filled in, as text (`amm@0.40`, `fixed@1.00`, `auction@0.50-1.50`). */
export function policyLabel(spec: PolicySpec, demand: DemandModel): string {
  switch (spec.kind) {
    case 'amm':
      return `amm@${(spec.floor ?? demand.costRatio).toFixed(2)}`;
    case 'fixed':
      return `fixed@${(spec.price ?? 1).toFixed(2)}`;
    case 'auction':
      return `auction@${(spec.low ?? 0.5).toFixed(2)}-${(spec.high ?? 1.5).toFixed(2)}`;
    case 'best-fixed':
      return 'best-fixed';
  }
}

export type SimulationOptions = {
  readonly pools?: PoolOptions;
  readonly demand?: DemandModel;
  readonly policies?: readonly PolicySpec[];
  readonly seeds?: readonly number[];
  /** protocol fee, basis points, charged under every policy (default: the engine's, 100) */
  readonly feeBps?: number;
  /** the AMM's engine parameters beyond the floor (defaults: the operator's) */
  readonly amm?: AmmOptions['params'];
  /** time series sampling for the first seed, seconds (default 3600; 0 = none) */
  readonly sampleSeconds?: number;
  /** re-check of waiting buyers when prices drift, seconds (default 600) */
  readonly tickSeconds?: number;
  /** called after each run */
  readonly onProgress?: (done: number, total: number, label: string) => void;
};

export type PolicyRun = {
  readonly seed: number;
  readonly policy: PolicySpec;
  readonly label: string;
  /** price (fixed, best-fixed) or floor (amm) as a multiple of the reference */
  readonly level?: number;
  readonly result: RunResult;
};

export type Simulation = {
  readonly pools: readonly PoolSpec[];
  readonly context: MarketContext;
  readonly runs: readonly PolicyRun[];
  /** the fixed-price sweep of each seed, when best-fixed was asked for */
  readonly sweeps: ReadonlyMap<number, FixedSweep>;
};

export const DEFAULT_POLICIES: readonly PolicySpec[] = [{ kind: 'amm' }, { kind: 'fixed' }, { kind: 'auction' }, { kind: 'best-fixed' }];
export const DEFAULT_SEEDS: readonly number[] = [1, 2, 3, 4, 5];

export function makeMarket(spec: Exclude<PolicySpec, { kind: 'best-fixed' }>, ctx: MarketContext, seed: number, amm?: AmmOptions['params']): Market {
  switch (spec.kind) {
    case 'amm':
      return ammMarket(ctx, amm ? { floor: spec.floor ?? ctx.demand.costRatio, params: amm } : { floor: spec.floor ?? ctx.demand.costRatio });
    case 'fixed':
      return fixedMarket(ctx, spec.price ?? 1);
    case 'auction':
      return auctionMarket(ctx, { low: spec.low ?? 0.5, high: spec.high ?? 1.5, seed });
  }
}

/** Replay `tasks` (sorted by arrival) against pools built from `nodes`, for every policy and seed. */
export function simulate(nodes: readonly NodeSpec[], tasks: readonly TraceTask[], options: SimulationOptions = {}): Simulation {
  const demand = options.demand ?? DEFAULT_DEMAND;
  const pools = buildPools(nodes, options.pools);
  const ctx = marketContext(pools, demand, options.feeBps ?? 100);
  const policies = options.policies ?? DEFAULT_POLICIES;
  const seeds = options.seeds ?? DEFAULT_SEEDS;
  const base: RunOptions = { sampleSeconds: 0, tickSeconds: options.tickSeconds ?? 600 };
  const sampled: RunOptions = { ...base, sampleSeconds: options.sampleSeconds ?? 3600 };
  const runs: PolicyRun[] = [];
  const sweeps = new Map<number, FixedSweep>();
  const total = policies.length * seeds.length;
  seeds.forEach((seed, s) => {
    const simTasks = drawTasks(tasks, pools, demand, seed);
    const opts = s === 0 ? sampled : base;
    for (const policy of policies) {
      const label = policyLabel(policy, demand);
      if (policy.kind === 'best-fixed') {
        const sweep = sweepFixed(ctx, simTasks, base);
        sweeps.set(seed, sweep);
        const level = sweep.bestRevenue.level;
        const result = s === 0 ? run(fixedMarket(ctx, level), simTasks, ctx, opts) : sweep.bestRevenue.result;
        runs.push({ seed, policy, label, level, result });
      } else {
        const level = policy.kind === 'amm' ? (policy.floor ?? demand.costRatio) : policy.kind === 'fixed' ? (policy.price ?? 1) : undefined;
        const result = run(makeMarket(policy, ctx, seed, options.amm), simTasks, ctx, opts);
        runs.push(level === undefined ? { seed, policy, label, result } : { seed, policy, label, level, result });
      }
      options.onProgress?.(runs.length, total, `seed ${seed} ${label}`);
    }
  });
  return { pools, context: ctx, runs, sweeps };
}
