// The pricing engine: a dissipative constant-product pool per GpuPool (docs/pricing.md).
// Pure functions over plain data; money in bigint base units, time in seconds passed in.
export { BPS, DEFAULTS, PREEMPTIBLE_DEFAULTS, PPM, SECONDS_PER_HOUR, K_ONE, K_SHIFT, defaultParams, validateParams, type EngineDefaults, type PoolParams } from './params.js';
export { fakeExponential, scaleByExp } from './exp.js';
export { SUB, areaBetween, curveBounds, spotAt, type Bounds, type Ratio } from './curve.js';
export {
  clampK,
  kCeiling,
  kFloor,
  openPool,
  quote,
  relax,
  release,
  setCapacity,
  spotPrice,
  take,
  type Capacity,
  type PoolState,
  type Quote,
  type QuoteResult,
  type Refusal,
  type TakeResult,
} from './pool.js';
export { payout, refundFor, splitFee, type Payout } from './payout.js';
export { evictions, idleGpus, lentCost, type Lent } from './preempt.js';
export {
  POOL_EVENT_KINDS,
  ReplayError,
  applyEvent,
  audit,
  replay,
  type Applied,
  type Discrepancy,
  type PoolEvent,
  type ReplayStep,
} from './events.js';
export {
  decodeEvent,
  decodeParams,
  decodeState,
  encodeEvent,
  encodeParams,
  encodeState,
  type PoolEventJson,
  type PoolParamsJson,
  type PoolStateJson,
} from './codec.js';
