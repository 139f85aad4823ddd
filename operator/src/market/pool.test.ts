import { defaultParams, validateParams, K_ONE, type PoolParams } from './params.js';
import { kCeiling, kFloor, openPool, quote, relax, release, setCapacity, spotPrice, take, type PoolState } from './pool.js';

const HOUR = 3600;
/** 100 GPUs at 1.000000 token per GPU-hour: depth 10, u* 90%, 6 h response, ceiling 20× floor. */
const params: PoolParams = defaultParams(1_000_000n, 100);
const pool = (free: number, k = 400_000_000n * K_ONE, at = 0, allocatable = 100): PoolState => ({ k, at, allocatable, free });

describe('defaults and validation', () => {
  test('defaultParams', () => {
    expect(params).toEqual({
      floor: 1_000_000n,
      ceiling: 20_000_000n,
      initialPrice: 1_000_000n,
      depth: 10,
      targetUtilizationPpm: 900_000,
      responseTimeSeconds: 21_600,
      feeBps: 100,
    });
    expect(Object.isFrozen(params)).toBe(true);
    expect(defaultParams(5n, 3).depth).toBe(1);
  });

  test.each([
    ['floor', { floor: 0n }],
    ['ceiling', { ceiling: 999_999n }],
    ['initialPrice', { initialPrice: 20_000_001n }],
    ['depth', { depth: -1 }],
    ['targetUtilizationPpm', { targetUtilizationPpm: 1_000_000 }],
    ['responseTimeSeconds', { responseTimeSeconds: 0 }],
    ['feeBps', { feeBps: 10_001 }],
  ])('rejects a bad %s', (field, patch) => {
    expect(() => validateParams({ ...params, ...patch })).toThrow(new RegExp(field));
  });
});

describe('openPool', () => {
  test('initial price is the spot at target utilisation: K = p0 · (N(1−u*) + depth)²', () => {
    expect(openPool(params, { allocatable: 100, free: 100 }, 5)).toEqual(pool(100, 400_000_000n * K_ONE, 5));
    const p = { ...params, initialPrice: 2_000_000n };
    const s = openPool(p, { allocatable: 100, free: 10 }, 0);
    expect(s.k).toBe(800_000_000n * K_ONE);
    expect(spotPrice(s, p)).toBe(2_000_000n);
  });

  test('refuses free > allocatable', () => {
    expect(() => openPool(params, { allocatable: 1, free: 2 }, 0)).toThrow(RangeError);
  });
});

describe('quote and take', () => {
  test.each([
    // free, gpus, seconds, total, perGpuHour, spotBefore, spotAfter, impact bps
    [100, 1, HOUR, 1_000_000n, 1_000_000n, 1_000_000n, 1_000_000n, 0],
    [100, 95, HOUR, 96_666_667n, 1_017_544n, 1_000_000n, 1_777_778n, 7777],
    [100, 100, HOUR, 110_000_000n, 1_100_000n, 1_000_000n, 4_000_000n, 30000],
    [5, 1, HOUR, 1_904_762n, 1_904_762n, 1_777_778n, 2_040_817n, 1479],
    [5, 5, 2 * HOUR, 26_666_667n, 2_666_667n, 1_777_778n, 4_000_000n, 12499], // 2·4e8·(1/10 − 1/15)
    [0, 0, HOUR, 0n, 4_000_000n, 4_000_000n, 4_000_000n, 0],
  ])('free %p, %p GPUs for %p s', (free, gpus, seconds, total, perGpuHour, spotBefore, spotAfter, priceImpactBps) => {
    const r = quote(pool(free), params, gpus, seconds);
    expect(r).toEqual({ ok: true, quote: { gpus, seconds, total, perGpuHour, spotBefore, spotAfter, priceImpactBps } });
  });

  test('never sells more than is free', () => {
    expect(quote(pool(3), params, 4, HOUR)).toEqual({ ok: false, reason: 'insufficient-capacity', free: 3 });
    expect(take(pool(3), params, 4, HOUR).ok).toBe(false);
  });

  test('take lowers free capacity and leaves K; release restores the state', () => {
    const r = take(pool(50), params, 7, HOUR);
    if (!r.ok) throw new Error('refused');
    expect(r.state).toEqual(pool(43));
    expect(release(r.state, params, 7)).toEqual(pool(50));
  });

  test('refuses bad counts and over-release', () => {
    expect(() => quote(pool(3), params, -1, HOUR)).toThrow(RangeError);
    expect(() => quote(pool(3), params, 1, 1.5)).toThrow(RangeError);
    expect(() => release(pool(99), params, 2)).toThrow(/exceeds allocatable/);
  });

  test('setCapacity moves X along the same curve', () => {
    const s = setCapacity(pool(50), params, { allocatable: 60, free: 8 });
    expect(s).toEqual(pool(8, 400_000_000n * K_ONE, 0, 60));
    expect(spotPrice(s, params)).toBe(1_234_568n); // 4e8 / 18²
  });
});

describe('relax', () => {
  test('clamp bounds: kFloor = floor·(N(1−u*)+d)², kCeiling = ceiling·(F+d)²', () => {
    expect(kFloor(params, 100)).toBe(400_000_000n * K_ONE);
    expect(kFloor(params, 200)).toBe(900_000_000n * K_ONE);
    expect(kCeiling(params, 0)).toBe(2_000_000_000n * K_ONE);
  });

  test('at target utilisation K does not move', () => {
    const s = pool(10, 500_000_000n * K_ONE);
    expect(relax(s, params, 30 * 24 * HOUR)).toEqual({ ...s, at: 30 * 24 * HOUR });
  });

  test.each([
    ['full for one response time: × e^0.1', 0, 6 * HOUR, Math.exp(0.1)],
    ['full for 3 h: × e^0.05', 0, 3 * HOUR, Math.exp(0.05)],
    ['half full for 6 h: × e^−0.4', 50, 6 * HOUR, Math.exp(-0.4)],
  ])('%s', (_name, free, dt, factor) => {
    const k0 = 1_000_000_000n * K_ONE;
    const s = relax(pool(free, k0), params, dt);
    expect(Number(s.k) / Number(k0)).toBeCloseTo(factor, 12);
    expect(s.at).toBe(dt);
  });

  test('long full spell stops at the ceiling bound; long idle spell rests on the kink', () => {
    expect(relax(pool(0), params, 400 * HOUR).k).toBe(kCeiling(params, 0));
    expect(relax(pool(100, 1_900_000_000n * K_ONE), params, 10_000 * HOUR).k).toBe(kFloor(params, 100));
  });

  test('after a pool grows, the next relax lifts K to the new kink', () => {
    const s = setCapacity(pool(100), params, { allocatable: 200, free: 200 });
    expect(relax(s, params, 0).k).toBe(kFloor(params, 200));
  });

  test('a time before the state only re-applies the clamp', () => {
    const s = pool(0, 3_000_000_000n * K_ONE, 1000);
    expect(relax(s, params, 10)).toEqual({ ...s, k: kCeiling(params, 0) });
  });

  test('a pool with no GPUs does not drift', () => {
    const s: PoolState = { k: 200_000_000n * K_ONE, at: 0, allocatable: 0, free: 0 }; // kFloor = floor·depth² = 1e8
    expect(relax(s, params, 1000 * HOUR)).toEqual({ ...s, at: 1000 * HOUR });
  });
});
