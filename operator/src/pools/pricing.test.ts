import type { GpuPool } from '../api/types.js';
import { paramsFromSpec, priceNow, pricingStatus, stateFromStatus, utilization } from './pricing.js';

const T0 = 1_800_000_000;

function pool(over: Partial<GpuPool['spec']['pricing']> = {}, status?: GpuPool['status']): GpuPool {
  return {
    metadata: { name: 'a100', generation: 1 },
    spec: {
      nodeSelector: { matchLabels: { x: 'y' } },
      pricing: { token: `0x${'1'.repeat(40)}`, treasury: `0x${'2'.repeat(40)}`, floorPrice: '1000000', ceilingPrice: '50000000', ...over },
    },
    ...(status ? { status } : {}),
  };
}

test('spec maps onto engine parameters with documented defaults', () => {
  const p = paramsFromSpec(pool({ responseTime: '1h30m', targetUtilization: 0.8, feeBps: 250 }).spec, 100);
  expect(p).toMatchObject({ floor: 1_000_000n, ceiling: 50_000_000n, initialPrice: 1_000_000n, depth: 10, targetUtilizationPpm: 800_000, responseTimeSeconds: 5400, feeBps: 250 });
  expect(paramsFromSpec(pool({ depth: 3 }).spec, 100).depth).toBe(3);
  expect(paramsFromSpec(pool().spec, 0).depth).toBe(1);
});

test('a new pool opens at its initial price and a restart continues from the persisted state', () => {
  const fresh = priceNow(pool({ initialPrice: '2000000' }), { allocatable: 32, free: 32 }, T0);
  expect(fresh.capacityChanged).toBe(true);
  expect(fresh.spot).toBeGreaterThanOrEqual(1_000_000n);
  const persisted = pricingStatus(fresh.state, fresh.params, 1);
  // the same capacity, read back from status a minute later: no capacity change, K relaxed only
  const again = priceNow(pool({ initialPrice: '2000000' }, { pricing: persisted }), { allocatable: 32, free: 32 }, T0 + 60);
  expect(again.capacityChanged).toBe(false);
  expect(stateFromStatus(persisted)).toEqual(fresh.state);
  expect(again.state.k).toBeLessThanOrEqual(fresh.state.k); // idle: the price can only relax down
});

test('taking capacity moves the price up the curve; giving it back moves it down', () => {
  const base = priceNow(pool({ initialPrice: '5000000' }), { allocatable: 32, free: 32 }, T0);
  const st = { pricing: pricingStatus(base.state, base.params, 1) };
  const busy = priceNow(pool({ initialPrice: '5000000' }, st), { allocatable: 32, free: 2 }, T0);
  const idle = priceNow(pool({ initialPrice: '5000000' }, st), { allocatable: 32, free: 32 }, T0);
  expect(busy.capacityChanged).toBe(true);
  expect(busy.spot).toBeGreaterThan(idle.spot);
  expect(busy.state.k).toBe(idle.state.k);
});

test('a corrupted persisted state is treated as absent, not priced', () => {
  expect(stateFromStatus({ k: 'abc', at: 1, updatedAt: '', allocatable: 1, free: 1, depth: 1, sequence: 0 })).toBeUndefined();
  expect(stateFromStatus(undefined)).toBeUndefined();
});

test.each([
  [{ allocatable: 0, free: 0 }, '0.0000'],
  [{ allocatable: 8, free: 8 }, '0.0000'],
  [{ allocatable: 8, free: 2 }, '0.7500'],
  [{ allocatable: 3, free: 1 }, '0.6666'],
])('utilization(%j) = %s', (c, want) => {
  expect(utilization(c)).toBe(want);
});
