import { defaultParams, K_ONE } from './params.js';
import { take, type PoolState } from './pool.js';
import { evictions, idleGpus, lentCost, type Lent } from './preempt.js';
import { randomParams, randomState } from './testing/builders.js';
import { prng } from './testing/prng.js';

const params = defaultParams(1_000_000n, 100);
const pool = (free: number): PoolState => ({ k: 400_000_000n * K_ONE, at: 0, allocatable: 100, free });
const lent = (gpus: number, limit: bigint, start: number): Lent => ({ gpus, limit, start });

describe('pre-emptible leases on idle GPUs', () => {
  test('idle GPUs are the free ones not lent', () => {
    expect(idleGpus(pool(10), [])).toBe(10);
    expect(idleGpus(pool(10), [lent(3, 1n, 0), lent(4, 1n, 0)])).toBe(3);
    expect(idleGpus(pool(5), [lent(8, 1n, 0)])).toBe(0);
  });

  test('nothing is evicted while the lent GPUs fit', () => {
    expect(evictions(pool(7), [lent(3, 1n, 0), lent(4, 1n, 0)])).toEqual([]);
  });

  test('the lowest limit goes first, then the latest start', () => {
    // 6 GPUs lent, 4 free: one 2-GPU lease must go. The 1.2-token one outranks both 1.1-token ones;
    // of those, the one started at 200 goes before the one started at 100.
    const l = [lent(2, 1_100_000n, 100), lent(2, 1_200_000n, 300), lent(2, 1_100_000n, 200)];
    expect(evictions(pool(4), l)).toEqual([2]);
    expect(evictions(pool(2), l)).toEqual([0, 2]);
    expect(evictions(pool(0), l)).toEqual([0, 1, 2]);
  });

  test('a lower-ranked lease is kept when it still fits beside the ones above it', () => {
    // 5 free: the 1.5-token 4-GPU lease stays, the 1.3-token 3-GPU one does not fit beside it,
    // the 1.1-token 1-GPU one does
    expect(evictions(pool(5), [lent(1, 1_100_000n, 0), lent(3, 1_300_000n, 0), lent(4, 1_500_000n, 0)])).toEqual([1]);
  });

  test('a pre-emptible lease pays the floor for the time it runs, rounded up', () => {
    expect(lentCost(params, 2, 3600)).toBe(2_000_000n);
    expect(lentCost(params, 1, 1)).toBe(278n); // 1,000,000 / 3600 = 277.8
    expect(lentCost(params, 0, 3600)).toBe(0n);
  });

  test('after any take, the leases kept fit in the free GPUs and each evicted one does not fit beside those ranked above it', () => {
    const r = prng(41);
    for (let i = 0; i < 2000; i++) {
      const p = randomParams(r);
      const state = randomState(r, p);
      if (state.free === 0) continue;
      const leases: Lent[] = [];
      let left = state.free;
      while (left > 0 && leases.length < 12) {
        const g = r.int(1, left);
        leases.push(lent(g, BigInt(r.int(1, 5)), r.int(0, 10)));
        left -= g;
        if (r.next() < 0.3) break;
      }
      const t = take(state, p, r.int(1, state.free), 3600);
      if (!t.ok) throw new Error('refused');
      const out = evictions(t.state, leases);
      const keptAt = leases.map((_, j) => j).filter((j) => !out.includes(j));
      const kept = keptAt.map((j) => leases[j]!);
      expect(kept.reduce((a, l) => a + l.gpus, 0)).toBeLessThanOrEqual(t.state.free);
      // nothing is evicted that outranks a kept lease and would fit in its place: each evicted lease
      // does not fit beside the kept leases ranked above it
      for (const j of out) {
        const e = leases[j]!;
        const ranksAbove = (k: number): boolean => {
          const l = leases[k]!;
          return l.limit > e.limit || (l.limit === e.limit && (l.start < e.start || (l.start === e.start && k < j)));
        };
        const above = keptAt.filter(ranksAbove).map((k) => leases[k]!);
        expect(above.reduce((a, l) => a + l.gpus, 0) + e.gpus).toBeGreaterThan(t.state.free);
      }
      expect(idleGpus(t.state, kept)).toBe(t.state.free - kept.reduce((a, l) => a + l.gpus, 0));
    }
  });
});
