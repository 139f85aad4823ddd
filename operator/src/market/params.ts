// Pool parameters and the integer units the engine works in.
//
// Units (see docs/pricing.md):
//   money     bigint, base units of the payment token (no decimals in the engine)
//   price     bigint, base units per GPU-hour
//   GPUs      safe integer (a "GPU" is the pool's unit of sale: a whole GPU, a MIG slice...)
//   time      safe integer seconds (durations and instants; instants are passed in, never read)
//   ratios    utilisation in parts per million (ppm), fees in basis points (bps)

/**
 * Scale of the persisted curve constant: `k = K · 2^64`, with `K` in base units · GPU² per hour.
 * A binary scale so that the hot path divides by it with a shift.
 */
export const K_SHIFT = 64n;
export const K_ONE = 1n << K_SHIFT;
export const PPM = 1_000_000;
export const BPS = 10_000;
export const SECONDS_PER_HOUR = 3600;

export type PoolParams = {
  /** Reserve price, base units per GPU-hour (>= 1). The price never goes below it. */
  readonly floor: bigint;
  /** Highest price, base units per GPU-hour (>= floor). */
  readonly ceiling: bigint;
  /** Spot price at the target utilisation when the pool opens (floor <= initialPrice <= ceiling). */
  readonly initialPrice: bigint;
  /** Virtual GPUs added to the free ones: `X = free + depth` (>= 0). */
  readonly depth: number;
  /** Target utilisation u*, ppm (0 < u* < 1_000_000). */
  readonly targetUtilizationPpm: number;
  /** Time for K to move by a factor e when utilisation is 100% off target, seconds (> 0). */
  readonly responseTimeSeconds: number;
  /** Protocol fee taken from what the payer is charged, basis points (0..10_000). */
  readonly feeBps: number;
};

/** Defaults from the reference simulation on the OpenB trace (docs/pricing.md, docs/simulation.md). */
export const DEFAULTS = {
  targetUtilizationPpm: 900_000,
  responseTimeSeconds: 6 * 3600,
  /** depth as a fraction of allocatable GPUs, ppm (10%), at least one GPU */
  depthPpm: 100_000,
  /** ceiling as a multiple of the floor */
  ceilingMultiple: 20n,
  feeBps: 100,
} as const;

/**
 * Defaults for a pool that lends its idle GPUs pre-emptibly at the floor (preempt.ts). The curve
 * rations earlier (u* 70%, a deeper and slower curve) because the GPUs it keeps free are lent,
 * not lost, to buyers who cannot pay the quote. Measured in docs/simulation.md ("Fourth round");
 * without pre-emptible leases these settings lose sales that a fixed price makes, so DEFAULTS stay
 * the operator's until it lends GPUs.
 */
export const PREEMPTIBLE_DEFAULTS = {
  ...DEFAULTS,
  targetUtilizationPpm: 700_000,
  responseTimeSeconds: 24 * 3600,
  depthPpm: 500_000,
} as const;

/** The defaults a pool's parameters start from: DEFAULTS or PREEMPTIBLE_DEFAULTS. */
export type EngineDefaults = { readonly [K in keyof typeof DEFAULTS]: (typeof DEFAULTS)[K] extends bigint ? bigint : number };

/** The engine's default parameters for a pool of `allocatable` GPUs with reserve price `floor`. */
export function defaultParams(floor: bigint, allocatable: number, overrides: Partial<PoolParams> = {}, defaults: EngineDefaults = DEFAULTS): PoolParams {
  const depth = Math.max(1, Math.ceil((allocatable * defaults.depthPpm) / PPM));
  return validateParams({
    floor,
    ceiling: floor * defaults.ceilingMultiple,
    initialPrice: floor,
    depth,
    targetUtilizationPpm: defaults.targetUtilizationPpm,
    responseTimeSeconds: defaults.responseTimeSeconds,
    feeBps: defaults.feeBps,
    ...overrides,
  });
}

/** Returns the parameters frozen, or throws a RangeError naming the first bad field. */
export function validateParams(p: PoolParams): PoolParams {
  const fail = (msg: string): never => {
    throw new RangeError(`pool params: ${msg}`);
  };
  if (typeof p.floor !== 'bigint' || p.floor < 1n) fail('floor must be a bigint >= 1');
  if (typeof p.ceiling !== 'bigint' || p.ceiling < p.floor) fail('ceiling must be a bigint >= floor');
  if (typeof p.initialPrice !== 'bigint' || p.initialPrice < p.floor || p.initialPrice > p.ceiling) {
    fail('initialPrice must be a bigint within [floor, ceiling]');
  }
  if (!isCount(p.depth)) fail('depth must be a non-negative safe integer');
  if (!Number.isInteger(p.targetUtilizationPpm) || p.targetUtilizationPpm <= 0 || p.targetUtilizationPpm >= PPM) {
    fail('targetUtilizationPpm must be an integer in (0, 1_000_000)');
  }
  if (!Number.isSafeInteger(p.responseTimeSeconds) || p.responseTimeSeconds <= 0) {
    fail('responseTimeSeconds must be a positive safe integer');
  }
  if (!Number.isInteger(p.feeBps) || p.feeBps < 0 || p.feeBps > BPS) fail('feeBps must be an integer in [0, 10_000]');
  return Object.freeze({ ...p });
}

/** A non-negative safe integer: GPU counts, seconds. */
export function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export function assertCount(n: number, what: string): void {
  if (!isCount(n)) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}
