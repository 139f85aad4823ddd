// A pool's market computed here from its status, with the operator's own engine: the same
// parameters (paramsFromSpec), the same persisted state relaxed to now (priceNow) and the same
// quote, so `quote` and `pools` give the operator's numbers without a network hop to it.
import type { GpuPool } from '../operator/src/api/types.js';
import { quote, relax, spotPrice, type Capacity, type QuoteResult } from '../operator/src/market/index.js';
import { priceNow, utilization, type Priced } from '../operator/src/pools/pricing.js';
import { CliError } from './errors.js';

export type PoolMarket = {
  readonly pool: GpuPool;
  readonly capacity: Capacity;
  readonly priced: Priced;
  /** Spot price per GPU-hour now, base units. */
  readonly spot: bigint;
  /** Spot price an hour from now if capacity stays as it is. */
  readonly spotIn1h: bigint;
  readonly utilization: string;
};

/** The pool's market now, or undefined when the operator has not observed the pool yet (no status). */
export function poolMarket(pool: GpuPool, nowSec: number): PoolMarket | undefined {
  const st = pool.status;
  if (!st || st.allocatable === undefined || st.free === undefined) return undefined;
  const capacity = { allocatable: st.allocatable, free: Math.min(st.free, st.allocatable) };
  let priced: Priced;
  try {
    priced = priceNow(pool, capacity, nowSec);
  } catch {
    return undefined;
  }
  const later = relax(priced.state, priced.params, nowSec + 3600);
  return { pool, capacity, priced, spot: priced.spot, spotIn1h: spotPrice(later, priced.params), utilization: utilization(capacity) };
}

export function needMarket(pool: GpuPool, nowSec: number): PoolMarket {
  const m = poolMarket(pool, nowSec);
  if (!m) {
    throw new CliError(
      `pool ${pool.metadata?.name} has no capacity in its status yet`,
      'is the PinFi operator running? (kubectl get pods -A -l app.kubernetes.io/name=pinfi) It writes each pool\'s status within seconds',
    );
  }
  return m;
}

export function quoteFrom(m: PoolMarket, gpus: number, seconds: number): QuoteResult {
  return quote(m.priced.state, m.priced.params, gpus, seconds);
}

/** "0.2500" → "25%". */
export function percent(util: string | undefined): string {
  if (util === undefined || util === '') return '-';
  const n = Number(util);
  return Number.isFinite(n) ? `${Math.round(n * 1000) / 10}%` : util;
}
