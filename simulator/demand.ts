// The demand model: what each task of the trace is willing to pay and how long it waits.
//   value per GPU-hour on pool p = multiplier · reference(p),  multiplier ~ valueMedian · e^(σ N(0,1))
//   patience ~ patienceMedian · e^(σ N(0,1)) seconds
// A served task runs its trace duration. Providers' cost per GPU-hour is costRatio · reference.
// Strategic buyers (a share, default none; optionally only those whose job is short): where idle
// GPUs are lent pre-emptibly at the floor, they declare the floor as their limit (maxPrice)
// instead of their value, to run lent rather than pay a quote above the floor.
// Prices are in tokens; money in the markets is in base units (TOKEN per token).
import { acceptablePools, type PoolSpec } from './pools.js';
import { stream } from './random.js';
import type { TraceTask } from './trace.js';

/** Base units per token (a token with 6 decimals). */
export const TOKEN = 1_000_000;

export type DemandModel = {
  /** reference price per GPU-hour by GPU model, tokens */
  readonly reference: Readonly<Record<string, number>>;
  /** reference for models not listed, tokens per GPU-hour */
  readonly defaultReference: number;
  readonly valueMedian: number;
  readonly valueSigma: number;
  readonly patienceMedianSeconds: number;
  readonly patienceSigma: number;
  /** providers' cost per GPU-hour, as a fraction of the reference */
  readonly costRatio: number;
  /**
   * share of buyers (0..1) who, in a pool that lends idle GPUs at the floor, declare the floor as
   * their limit to run pre-emptibly rather than pay a quote (default 0: every buyer declares its value)
   */
  readonly strategicShare?: number;
  /** strategic buyers understate only if their job is at most this long, seconds (default: any length) */
  readonly strategicMaxSeconds?: number;
};

export const DEFAULT_DEMAND: DemandModel = {
  reference: {},
  defaultReference: 1,
  valueMedian: 1,
  valueSigma: 0.6,
  patienceMedianSeconds: 3600,
  patienceSigma: 1,
  costRatio: 0.4,
};

/** A task of the simulation: the trace task, its buyer's draws, the pools it accepts. */
export type SimTask = TraceTask & {
  readonly index: number;
  /** value per GPU-hour as a multiple of the pool's reference price */
  readonly multiplier: number;
  /** seconds it waits for a price or capacity before leaving */
  readonly patience: number;
  readonly pools: readonly number[];
  /** a strategic buyer: declares the floor as its limit where idle GPUs are lent (DemandModel.strategicShare) */
  readonly understates?: true;
};

/** Reference price of a pool, tokens per GPU-hour: the GPU-weighted mean over its nodes. */
export function poolReference(pool: PoolSpec, demand: DemandModel): number {
  let sum = 0;
  for (const n of pool.nodes) sum += n.gpus * (demand.reference[n.model] ?? demand.defaultReference);
  return pool.gpus > 0 ? sum / pool.gpus : demand.defaultReference;
}

/**
 * The buyers of a seed: value multipliers, patience and (with a strategic share) who understates,
 * each from its own stream, so a share of 0 draws the same buyers as before it existed.
 */
export function drawTasks(tasks: readonly TraceTask[], pools: readonly PoolSpec[], demand: DemandModel, seed: number): SimTask[] {
  const values = stream(seed, 'value');
  const patience = stream(seed, 'patience');
  const share = demand.strategicShare ?? 0;
  if (!(share >= 0 && share <= 1)) throw new RangeError(`strategic share must be within [0, 1] (got ${share})`);
  const strategy = stream(seed, 'strategy');
  const longest = demand.strategicMaxSeconds ?? Infinity;
  return tasks.map((t, index) => ({
    ...t,
    index,
    multiplier: values.logNormal(demand.valueMedian, demand.valueSigma),
    patience: patience.logNormal(demand.patienceMedianSeconds, demand.patienceSigma),
    pools: acceptablePools(t, pools),
    ...(share > 0 && strategy.next() < share && t.seconds <= longest ? { understates: true as const } : {}),
  }));
}
