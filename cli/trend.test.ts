import { driftOf, pricePoints, renderTrend, sparkline, trendOf, type PoolEvent } from './trend.js';

const ev = (pool: string, at: string, note: string, reason = 'CapacityChanged'): PoolEvent => ({ involvedObject: { name: pool }, reason, message: note, eventTime: at });

test('price points come from the pool\'s CapacityChanged events, oldest first, old and new price', () => {
  const events = [
    ev('a100', '2026-01-01T00:05:00Z', 'allocatable 16→16, free 14→10; spot price 1200000→2000000'),
    ev('a100', '2026-01-01T00:01:00Z', 'allocatable 16→16, free 16→14; spot price 1000000→1200000'),
    ev('t4', '2026-01-01T00:02:00Z', 'allocatable 4→4, free 4→2; spot price 5→9'),
    ev('a100', '2026-01-01T00:03:00Z', 'something else', 'Ready'),
    ev('a100', '2025-12-01T00:00:00Z', 'allocatable 0→16, free 0→16; spot price ?→1000000'),
  ];
  const pts = pricePoints(events, 'a100', Date.parse('2026-01-01T00:00:00Z'));
  expect(pts.map((p) => p.price)).toEqual([1_000_000n, 1_200_000n, 1_200_000n, 2_000_000n]);
  expect(pricePoints(events, 'a100', 0).map((p) => p.price)[0]).toBe(1_000_000n);
});

test.each([
  [100n, 100n, 'flat'], [1000n, 1004n, 'flat'], [1000n, 1010n, 'up'], [1000n, 990n, 'down'],
])('drift from %s to %s is %s', (now, later, want) => expect(driftOf(now, later)).toBe(want));

test('a sparkline scales between the lowest and highest price', () => {
  expect(sparkline([1n, 8n])).toBe('▁█');
  expect(sparkline([5n, 5n, 5n])).toBe('▁▁▁');
  expect(sparkline([0n, 4n, 8n])).toBe('▁▅█');
  expect(sparkline([])).toBe('');
});

test('the trend ends at the price now and keeps the last points', () => {
  const pts = Array.from({ length: 12 }, (_, i) => ({ at: i * 1000, price: BigInt(i) }));
  const t = trendOf(pts, 20_000, 99n, 200n, 4);
  expect(t.history.map((p) => p.price)).toEqual([9n, 10n, 11n, 99n]);
  expect(t.drift).toBe('up');
  expect(renderTrend(t)).toMatch(/^[▁-█]{4} ↗$/);
  expect(renderTrend(trendOf([], 0, 5n, 5n))).toBe('→');
});
