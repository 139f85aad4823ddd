import { MarketView } from '../../operator/src/pools/market-view.js';
import { priceNow } from '../../operator/src/pools/pricing.js';
import { answerQuote } from '../../operator/src/server/quote.js';
import type { Inventory } from '../../operator/src/inventory/inventory.js';
import { pool } from '../testing/fixtures.js';
import { localQuote, poolRefusal } from './quote.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');

/** What the operator's /quote answers for the same pool status at the same instant. */
function operatorAnswer(p: ReturnType<typeof pool>, gpus: number, hours: number): Record<string, unknown> {
  const view = new MarketView();
  const st = p.status ?? {};
  const priced = priceNow(p, { allocatable: st.allocatable ?? 0, free: st.free ?? 0 }, NOW / 1000);
  view.set({ name: p.metadata?.name ?? '', params: priced.params, state: priced.state, inventory: { product: '' } as Inventory, token: p.spec.pricing.token, treasury: '', resourceName: 'nvidia.com/gpu' });
  return answerQuote(view, { pool: p.metadata?.name, gpus: String(gpus), hours: String(hours) }, NOW / 1000).body;
}

test.each([
  ['an idle pool at its floor', pool('a100', { allocatable: 16, free: 16 }), 4, 6],
  ['a nearly full pool above its floor', pool('a100', { allocatable: 16, free: 3 }), 2, 1],
  ['a small deep pool', pool('t4', { allocatable: 4, free: 4, pricing: { depth: 2, initialPrice: '5000000' } }), 4, 0.5],
])('the local quote of %s is the operator\'s', (_what, p, gpus, hours) => {
  const q = localQuote(p, gpus, hours * 3600, NOW);
  const op = operatorAnswer(p, gpus, hours);
  expect({ total: q.total.toString(), perGpuHour: q.perGpuHour.toString(), spotBefore: q.spotBefore.toString(), spotAfter: q.spotAfter.toString(), priceImpactBps: q.priceImpactBps })
    .toEqual({ total: op.total, perGpuHour: op.perGpuHour, spotBefore: op.spotBefore, spotAfter: op.spotAfter, priceImpactBps: op.priceImpactBps });
});

test('an idle pool sells at its floor: 4 GPUs × 6 h × 1 token', () => {
  expect(localQuote(pool('a100', { allocatable: 16, free: 16 }), 4, 6 * 3600, NOW).total).toBe(24_000_000n);
});

test('a quote says what to do when the pool has too few GPUs or no status yet', () => {
  expect(() => localQuote(pool('a100', { allocatable: 16, free: 2 }), 4, 3600, NOW)).toThrow(/has 2 free GPUs, fewer than the 4 asked for/);
  expect(() => localQuote(pool('a100'), 1, 3600, NOW)).toThrow(/no capacity in its status yet/);
});

test('the pool\'s own limits are named before a lease is made', () => {
  const p = pool('a100', { leases: { minDuration: '1h', maxGpusPerLease: 4 } });
  expect(poolRefusal(p, 'ml', 8, 7200)).toMatch(/at most 4 GPUs/);
  expect(poolRefusal(p, 'ml', 2, 600)).toMatch(/duration 10m is outside the pool's range \[1h, 720h\]/);
  expect(poolRefusal(p, 'ml', 2, 7200)).toBeUndefined();
  expect(poolRefusal(pool('x', { }), 'ml', 1, 3600)).toBeUndefined();
});
