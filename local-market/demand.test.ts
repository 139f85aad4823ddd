import { DemandStream } from './demand.js';
import { uniform } from '../operator/src/market/testing/prng.js';

const pools = [
  { name: 'a100', floor: 2_000_000n, weight: 3 },
  { name: 't4', floor: 400_000n, weight: 1 },
];

test('the same seed gives the same demand', () => {
  const a = new DemandStream(pools, uniform(7), 6);
  const b = new DemandStream(pools, uniform(7), 6);
  const take = (s: DemandStream) => Array.from({ length: 20 }, () => ({ ...s.next(), delay: s.nextDelayMs() }));
  expect(take(a)).toEqual(take(b));
});

test('demand is spread by weight and priced between 1x and 4x the floor', () => {
  const s = new DemandStream(pools, uniform(1), 6);
  const leases = Array.from({ length: 2000 }, () => s.next());
  const a100 = leases.filter((l) => l.pool === 'a100').length / leases.length;
  expect(a100).toBeGreaterThan(0.7);
  expect(a100).toBeLessThan(0.8);
  for (const l of leases) {
    const floor = pools.find((p) => p.name === l.pool)?.floor ?? 0n;
    expect(l.maxPerGpuHour).toBeGreaterThanOrEqual(floor);
    expect(l.maxPerGpuHour).toBeLessThan(floor * 4n);
  }
});

test('in a pool that lends, every third lease is pre-emptible; elsewhere none', () => {
  const s = new DemandStream([{ name: 't4', floor: 400_000n, weight: 1, lends: true }], uniform(5), 6);
  const six = Array.from({ length: 6 }, () => s.next());
  expect(six.map((l) => l.preemptible)).toEqual([false, false, true, false, false, true]);
  for (const l of six.filter((x) => x.preemptible)) expect(l.maxPerGpuHour).toBe(400_000n); // batch jobs bid the floor
  const t = new DemandStream(pools, uniform(5), 6);
  expect(Array.from({ length: 30 }, () => t.next()).some((l) => l.preemptible)).toBe(false);
});

test('arrivals average the configured rate', () => {
  const s = new DemandStream(pools, uniform(3), 6);
  const mean = Array.from({ length: 5000 }, () => s.nextDelayMs()).reduce((a, b) => a + b, 0) / 5000;
  expect(mean).toBeGreaterThan(9_000);
  expect(mean).toBeLessThan(11_000);
});
