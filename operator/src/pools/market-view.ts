// The operator's in-memory view of every pool's market, refreshed by the pool controller and read
// by the quote endpoint (and the lease controller): parameters, the relaxed state, the inventory.
import type { Inventory } from '../inventory/inventory.js';
import { quote, relax, spotPrice, type PoolParams, type PoolState, type QuoteResult } from '../market/index.js';

export type PoolMarket = {
  readonly name: string;
  readonly params: PoolParams;
  readonly state: PoolState;
  readonly inventory: Inventory;
  readonly token: string;
  readonly treasury: string;
  readonly resourceName: string;
};

export class MarketView {
  private readonly pools = new Map<string, PoolMarket>();

  set(m: PoolMarket): void {
    this.pools.set(m.name, m);
  }

  delete(name: string): void {
    this.pools.delete(name);
  }

  get(name: string): PoolMarket | undefined {
    return this.pools.get(name);
  }

  names(): string[] {
    return [...this.pools.keys()].sort();
  }

  /** The pool's state relaxed to `nowSec` (the stored one is as of its last reconcile). */
  stateAt(name: string, nowSec: number): { market: PoolMarket; state: PoolState } | undefined {
    const m = this.pools.get(name);
    if (!m) return undefined;
    return { market: m, state: relax(m.state, m.params, nowSec) };
  }

  spot(name: string, nowSec: number): bigint | undefined {
    const s = this.stateAt(name, nowSec);
    return s && spotPrice(s.state, s.market.params);
  }

  quote(name: string, gpus: number, seconds: number, nowSec: number): QuoteResult | undefined {
    const s = this.stateAt(name, nowSec);
    return s && quote(s.state, s.market.params, gpus, seconds);
  }
}
