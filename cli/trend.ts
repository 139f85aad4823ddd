// A pool's price trend for `pools`: where the spot price has been (the operator's CapacityChanged
// events carry "spot price OLD→NEW"; every change of free capacity moves the price along the
// curve) and where it is drifting now (the engine relaxes K by utilisation against its target:
// the spot price an hour from now if nothing changes). Pure: the caller lists the events.
export type PricePoint = { readonly at: number; readonly price: bigint };
export type Drift = 'up' | 'down' | 'flat';
export type Trend = { readonly history: readonly PricePoint[]; readonly drift: Drift; readonly priceIn1h: bigint };

/** The fields of a core/v1 (or events.k8s.io/v1 read through core/v1) Event the trend needs. */
export type PoolEvent = {
  involvedObject?: { name?: string };
  reason?: string;
  message?: string;
  eventTime?: string | null;
  lastTimestamp?: string | null;
  series?: { lastObservedTime?: string } | null;
  metadata?: { creationTimestamp?: string };
};

const SPOT = /spot price (\d+|\?)→(\d+)/;

/** Price points of one pool from its events, oldest first: each change contributes its old and new price. */
export function pricePoints(events: readonly PoolEvent[], pool: string, sinceMs: number): PricePoint[] {
  const pts: PricePoint[] = [];
  for (const e of events) {
    if (e.involvedObject?.name !== pool || e.reason !== 'CapacityChanged') continue;
    const m = SPOT.exec(e.message ?? '');
    const when = e.series?.lastObservedTime ?? e.eventTime ?? e.lastTimestamp ?? e.metadata?.creationTimestamp;
    const at = when ? Date.parse(when) : NaN;
    if (!m || !Number.isFinite(at) || at < sinceMs) continue;
    if (m[1] !== '?') pts.push({ at: at - 1, price: BigInt(m[1] as string) });
    pts.push({ at, price: BigInt(m[2] as string) });
  }
  return pts.sort((a, b) => a.at - b.at);
}

export function driftOf(now: bigint, later: bigint): Drift {
  // Within 0.5 % counts as flat: the price at rest on the floor does not move at all.
  const tol = now / 200n;
  if (later > now + tol) return 'up';
  if (later + tol < now) return 'down';
  return 'flat';
}

export function trendOf(points: readonly PricePoint[], nowMs: number, spotNow: bigint, spotIn1h: bigint, maxPoints = 8): Trend {
  const history = [...points.filter((p) => p.at < nowMs), { at: nowMs, price: spotNow }].slice(-maxPoints);
  return { history, drift: driftOf(spotNow, spotIn1h), priceIn1h: spotIn1h };
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
const ARROWS: Record<Drift, string> = { up: '↗', down: '↘', flat: '→' };

/** Bars scaled between the lowest and highest price shown (flat prices: all low). */
export function sparkline(prices: readonly bigint[]): string {
  if (prices.length === 0) return '';
  const lo = prices.reduce((a, b) => (b < a ? b : a));
  const hi = prices.reduce((a, b) => (b > a ? b : a));
  const span = hi - lo;
  return prices.map((p) => BARS[span === 0n ? 0 : Number(((p - lo) * 7n + span / 2n) / span)]).join('');
}

/** "▁▁▃▇ ↗": the recent prices, then the drift. */
export function renderTrend(t: Trend): string {
  const bars = t.history.length > 1 ? `${sparkline(t.history.map((p) => p.price))} ` : '';
  return `${bars}${ARROWS[t.drift]}`;
}
