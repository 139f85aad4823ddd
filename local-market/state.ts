// What the live views show, sampled from the operator's own HTTP API (/pools and /leases) with a
// short history per pool for the charts, and the settlements seen so far (a cancelled lease
// leaves the API once it has settled; its settlement stays on the page).
import type { LeaseSummary } from '../operator/src/server/http.js';

export type PoolSample = { name: string; product?: string; allocatable?: number; free?: number; spotPrice?: string };
export type Point = { t: number; price: number; utilization: number };

export type MarketState = {
  pools: (PoolSample & { utilization: number; history: Point[] })[];
  leases: LeaseSummary[];
  settlements: LeaseSummary[];
  at: number;
};

const HISTORY = 600;
const SETTLEMENTS = 20;

export class MarketSampler {
  private readonly history = new Map<string, Point[]>();
  private readonly settled = new Map<string, LeaseSummary>();
  private latest: MarketState = { pools: [], leases: [], settlements: [], at: 0 };

  constructor(private readonly operatorUrl: string) {}

  async sample(now = Date.now()): Promise<MarketState> {
    const [pools, leases] = await Promise.all([
      fetch(`${this.operatorUrl}/pools`).then((r) => r.json() as Promise<PoolSample[]>),
      fetch(`${this.operatorUrl}/leases`).then((r) => r.json() as Promise<LeaseSummary[]>),
    ]);
    const withHistory = pools.map((p) => {
      const utilization = p.allocatable ? 1 - (p.free ?? 0) / p.allocatable : 0;
      const h = this.history.get(p.name) ?? [];
      h.push({ t: now, price: Number(p.spotPrice ?? 0), utilization });
      if (h.length > HISTORY) h.splice(0, h.length - HISTORY);
      this.history.set(p.name, h);
      return { ...p, utilization, history: h };
    });
    for (const l of leases) {
      const key = `${l.namespace}/${l.name}`;
      if (!l.settleTx || this.settled.has(key)) continue;
      this.settled.set(key, l);
      if (this.settled.size > SETTLEMENTS) this.settled.delete(this.settled.keys().next().value as string);
    }
    this.latest = { pools: withHistory, leases, settlements: [...this.settled.values()], at: now };
    return this.latest;
  }

  /**
   * Samples every intervalMs until `signal` aborts, handing each sample to onSample. A failed
   * sample (the operator busy or restarting) keeps the previous state and is retried next time.
   */
  run(intervalMs: number, signal: AbortSignal, onSample: (s: MarketState) => void = () => undefined): void {
    const tick = () => {
      this.sample()
        .then(onSample)
        .catch(() => undefined);
    };
    tick();
    const timer = setInterval(tick, intervalMs);
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  get state(): MarketState {
    return this.latest;
  }
}

/** Base units of a 6-decimal stablecoin as a short decimal ("2.50"). */
export function usdc(v: string | number | undefined): string {
  if (v === undefined) return '-';
  return (Number(v) / 1e6).toFixed(2);
}
