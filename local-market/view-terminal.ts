// The terminal live view: pools and leases, redrawn in place.
import Table from 'cli-table3';
import { usdc, type MarketState } from './state.js';

const PHASE_ORDER = ['Active', 'Preempted', 'Ending', 'Reserved', 'Funded', 'Waiting', 'Pending', 'Settled', 'Expired', 'Failed'];

export function renderTerminal(s: MarketState, header: string): string {
  const pools = new Table({ head: ['pool', 'product', 'GPUs', 'free', 'util', 'price/GPU-h', 'trend'], style: { head: [], compact: true } });
  for (const p of s.pools) {
    const prices = p.history.slice(-20).map((h) => h.price);
    const lo = Math.min(...prices);
    const hi = Math.max(...prices);
    const bars = '▁▂▃▄▅▆▇█';
    const trend = prices.map((x) => bars[hi === lo ? 0 : Math.round(((x - lo) / (hi - lo)) * 7)]).join('');
    pools.push([p.name, p.product ?? '', p.allocatable ?? 0, p.free ?? 0, `${(p.utilization * 100).toFixed(0)}%`, usdc(p.spotPrice), trend]);
  }
  const leases = new Table({ head: ['lease', 'pool', 'GPUs', 'state', 'price/GPU-h', 'total', 'tx'], style: { head: [], compact: true } });
  const sorted = [...s.leases].sort((a, b) => PHASE_ORDER.indexOf(a.phase) - PHASE_ORDER.indexOf(b.phase)).slice(0, 18);
  for (const l of sorted) {
    leases.push([`${l.namespace}/${l.name}`, l.pool, l.gpus, l.phase, usdc(l.pricePerGpuHour), usdc(l.total), (l.settleTx ?? l.openTx ?? '').slice(0, 12)]);
  }
  const counts = new Map<string, number>();
  for (const l of s.leases) counts.set(l.phase, (counts.get(l.phase) ?? 0) + 1);
  const summary = [...counts].map(([k, v]) => `${k} ${v}`).join(' · ');
  return `${header}\n${pools.toString()}\nleases: ${summary || 'none yet'}\n${leases.toString()}\n`;
}
