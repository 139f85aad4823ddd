// What the live views show, sampled from the operator's own HTTP API (/pools and /leases) with a
// short history per pool for the charts.
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

export class MarketSampler {
  private readonly history = new Map<string, Point[]>();
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
    const settlements = leases.filter((l) => l.settleTx).slice(-20);
    this.latest = { pools: withHistory, leases, settlements, at: now };
    return this.latest;
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
