// The quote endpoint's pure core: parse and check the parameters, price from the market view.
import { parseDuration } from '../api/duration.js';
import type { MarketView } from '../pools/market-view.js';

export type QuoteAnswer =
  | { status: 200; body: Record<string, unknown> }
  | { status: 400 | 404 | 409; body: { error: string } };

const MAX_HOURS = 8760;

function seconds(q: Record<string, unknown>): number | string {
  if (q.duration !== undefined) {
    const s = parseDuration(String(q.duration));
    return s === undefined || s <= 0 ? 'duration must look like 6h, 90m or 1h30m' : s;
  }
  const raw = q.hours;
  if (raw === undefined) return 'give hours (e.g. hours=6) or duration (e.g. duration=1h30m)';
  const h = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(h) || h <= 0 || h > MAX_HOURS) {
    return `hours must be a number in (0, ${MAX_HOURS}]`;
  }
  return Math.round(h * 3600);
}

export function answerQuote(view: MarketView, q: Record<string, unknown>, nowSec: number): QuoteAnswer {
  const pool = q.pool;
  if (typeof pool !== 'string' || pool === '') return { status: 400, body: { error: 'pool is required, e.g. ?pool=a100&gpus=4&hours=6' } };
  const gpusRaw = q.gpus;
  const gpus = Number(gpusRaw);
  if (typeof gpusRaw !== 'string' || !/^[1-9][0-9]{0,4}$/.test(gpusRaw)) return { status: 400, body: { error: 'gpus must be a whole number from 1 to 99999' } };
  const secs = seconds(q);
  if (typeof secs === 'string') return { status: 400, body: { error: secs } };
  const at = view.stateAt(pool, nowSec);
  if (!at) return { status: 404, body: { error: `no GpuPool named ${pool} (known: ${view.names().join(', ') || 'none'})` } };
  const r = view.quote(pool, gpus, secs, nowSec);
  if (!r || !r.ok) return { status: 409, body: { error: `pool ${pool} has ${at.state.free} free GPUs, fewer than the ${gpus} asked for` } };
  const qt = r.quote;
  return {
    status: 200,
    body: {
      pool,
      gpus,
      seconds: secs,
      total: qt.total.toString(),
      perGpuHour: qt.perGpuHour.toString(),
      spotBefore: qt.spotBefore.toString(),
      spotAfter: qt.spotAfter.toString(),
      priceImpactBps: qt.priceImpactBps,
      token: at.market.token,
      free: at.state.free,
      allocatable: at.state.allocatable,
      at: new Date(nowSec * 1000).toISOString(),
    },
  };
}
