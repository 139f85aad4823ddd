// Each policy on small traces whose outcome is worked out by hand (1 token = 1,000,000 base
// units; reference price 1 token per GPU-hour; providers' cost 0.4; fee 1%).
import { ammMarket } from './policies/amm.js';
import { auctionMarket } from './policies/auction.js';
import { fixedMarket } from './policies/fixed.js';
import { run } from './runner.js';
import { sweepFixed } from './search.js';
import { context, pool, task } from './testing/builders.js';

const opts = { sampleSeconds: 0, tickSeconds: 600 };

describe('fixed: one price and a FCFS queue with backfilling', () => {
  const ctx = context([pool('a', [2])]);
  const tasks = [
    task({ arrival: 0, gpus: 1, seconds: 3600, multiplier: 2 }), // served at 0: 1 token
    task({ arrival: 10, gpus: 2, seconds: 3600, multiplier: 1.5 }), // 1 GPU free: queues until t1 ends at 3600
    task({ arrival: 20, gpus: 1, seconds: 1800, multiplier: 0.5 }), // below the price: leaves
    task({ arrival: 30, gpus: 1, seconds: 1800, multiplier: 3, patience: 600 }), // backfills the free GPU
  ];
  const r = run(fixedMarket(ctx, 1), tasks, ctx, { ...opts, horizon: 7200 });

  test('who is served, when, for how much', () => {
    expect(r.total).toMatchObject({ served: 3, unserved: 1, waited: 1, waitP50: 0, waitP95: 3590 });
    expect(r.total.paid).toBe(3_500_000n); // 1 + 0.5 + 2 tokens
    expect(r.total.fee).toBe(35_000n);
    expect(r.total.gpuHours).toBeCloseTo(3.5, 12);
    expect(r.total.value).toBeCloseTo(6_500_000, 3); // 2·1 + 3·0.5 + 1.5·2
    expect(r.total.cost).toBeCloseTo(1_400_000, 3); // 0.4 · 3.5 GPU-hours
  });

  test('utilisation is the time average of GPUs in use', () => {
    // 1 GPU on [0,30), 2 on [30,1830), 1 on [1830,3600), 2 on [3600,7200)
    expect(r.total.utilisation).toBeCloseTo((1 * 30 + 2 * 1800 + 1 * 1770 + 2 * 3600) / (2 * 7200), 12);
  });
});

describe('amm: the engine prices the last GPUs up and a limit order waits for the floor', () => {
  // 10 GPUs, floor 1 token: depth 1 GPU, X* = 1 + 1 GPU, K = floor · X*²; the 10th GPU costs
  // K (1/1 − 1/2) = 2 × floor. Sold in milli-GPUs, same prices.
  const ctx = context([pool('a', [10])]);
  const tasks = [
    task({ gpus: 9, multiplier: 2 }), // all at the floor: 9 tokens
    task({ gpus: 1, multiplier: 1.5, patience: 7200 }), // quote 2 tokens > 1.5: waits
    task({ gpus: 1, multiplier: 3 }), // 2 tokens ≤ 3: takes the last GPU
  ];
  const r = run(ammMarket(ctx, { floor: 1 }), tasks, ctx, { ...opts, horizon: 7200 });

  test('9 tokens, then 2, then the waiting buyer gets the floor when the pool empties at 1 h', () => {
    expect(r.total).toMatchObject({ served: 3, unserved: 0, waited: 1, waitP95: 3600 });
    expect(r.total.paid).toBe(12_000_000n);
    expect(r.total.value - r.total.cost).toBeCloseTo(22_500_000 - 4_400_000, 3);
  });

  test('a buyer who cannot wait long enough leaves', () => {
    const impatient = [task({ gpus: 9, multiplier: 2 }), task({ gpus: 1, multiplier: 1.5, patience: 600 }), task({ gpus: 1, multiplier: 3 })];
    const r2 = run(ammMarket(ctx, { floor: 1 }), impatient, ctx, opts);
    expect(r2.total).toMatchObject({ served: 2, unserved: 1, waited: 1 });
    expect(r2.total.paid).toBe(11_000_000n);
  });

  test('below the floor a buyer leaves at once', () => {
    const r3 = run(ammMarket(ctx, { floor: 1 }), [task({ multiplier: 0.9 })], ctx, opts);
    expect(r3.total).toMatchObject({ served: 0, unserved: 1, waited: 0 });
  });
});

describe('amm with term pricing: a long lease renews at the then quote, or is cut', () => {
  // 10 GPUs, floor 1 token, depth 1 GPU: X* = 1 + 1 GPU, K = floor · X*² at the kink; the 10th
  // GPU costs K (1/1 − 1/2) = 2 × floor. Term 1 h. A takes 1 GPU for 3 h; B 8 GPUs for 1 h at
  // t = 1 s (u = 0.9 = u*: K does not move); C the last GPU at 0.5 h for 1 h, 2 tokens. The pool
  // is then full, so K rises by e^{(1 − 0.9) · 1800 / 21600} = e^{1/120} until A's term ends at 1 h.
  // Released and re-taken there, A's GPU is the 10th again: 2 · e^{1/120} = 2.0167 tokens.
  const ctx = context([pool('a', [10])]);
  const trace = (aValue: number) => [
    task({ arrival: 0, gpus: 1, seconds: 3 * 3600, multiplier: aValue }),
    task({ arrival: 1, gpus: 8, seconds: 3600, multiplier: 3 }),
    task({ arrival: 1800, gpus: 1, seconds: 3600, multiplier: 3 }),
  ];
  const termed = ammMarket(ctx, { floor: 1, params: { termSeconds: 3600 } });
  const lockedRun = run(ammMarket(ctx, { floor: 1 }), trace(2.5), ctx, opts);

  test('off by default: A locks the floor for its 3 hours', () => {
    expect(lockedRun.total).toMatchObject({ served: 3, cut: 0, gpuHoursCut: 0 });
    expect(lockedRun.total.paid).toBe(13_000_000n); // A 3 + B 8 + C 2
  });

  test('worth 2.5: A renews at 2.0167 in the peak, then at the floor once B and C are gone', () => {
    const r = run(termed, trace(2.5), ctx, opts);
    expect(r.total).toMatchObject({ served: 3, cut: 0, gpuHoursCut: 0 });
    // A: 1 + 2·e^{1/120} + 1 (the last hour, from 2 h, when K has decayed back to the kink)
    expect(Number(r.total.paid) / 1e6).toBeCloseTo(1 + 2 * Math.exp(1 / 120) + 1 + 8 + 2, 4);
    expect(r.total.gpuHours).toBeCloseTo(12, 12);
  });

  test('renewing at the level, A worth 1.5 keeps its GPU: e^{1/120} = 1.0084 in the peak, the floor after it', () => {
    // The level is the spot price at target utilisation, floor · K / kFloor: K has risen by
    // e^{1/120} while the pool was full; by 2 h it has decayed back to kFloor (clamped there).
    const r = run(ammMarket(ctx, { floor: 1, params: { termSeconds: 3600, renewAt: 'level' } }), trace(1.5), ctx, opts);
    expect(r.total).toMatchObject({ served: 3, cut: 0 });
    expect(Number(r.total.paid) / 1e6).toBeCloseTo(1 + Math.exp(1 / 120) + 1 + 8 + 2, 4);
    expect(r.total.gpuHours).toBeCloseTo(12, 12);
  });

  test('worth 1.5: A declines 2.0167 and is cut after its first hour', () => {
    const r = run(ammMarket(ctx, { floor: 1, params: { termSeconds: 3600 } }), trace(1.5), ctx, { ...opts, horizon: 7200 });
    expect(r.total).toMatchObject({ served: 3, cut: 1 });
    expect(r.total.gpuHoursCut).toBeCloseTo(2, 12);
    expect(r.total.paid).toBe(11_000_000n); // A 1 + B 8 + C 2
    // only served hours count: A 1.5 · 1 h, B 3 · 8 h, C 3 · 1 h; cost 0.4 · 10 GPU-hours
    expect(r.total.value).toBeCloseTo(28_500_000, 3);
    expect(r.total.cost).toBeCloseTo(4_000_000, 3);
    // GPUs in use: 1 on [0,1), 9 on [1,1800), 10 to the cut at 3600, 9 to 3601, 1 to 5400, 0 after
    expect(r.total.utilisation).toBeCloseTo((1 + 9 * 1799 + 10 * 1800 + 9 + 1799) / (10 * 7200), 12);
  });
});

describe('amm with pre-emptible leases: a waiting buyer runs on idle GPUs at the floor', () => {
  // 10 GPUs, floor 1 token, depth 1 GPU: the 10th GPU costs K (1/1 − 1/2) = 2 × floor at the kink.
  // The cases are worked out with the engine's DEFAULTS (u* 90%, depth 10%, response 6 h), given
  // explicitly because a pre-emptible pool starts from PREEMPTIBLE_DEFAULTS (the last test).
  const ctx = context([pool('a', [10])]);
  const engineDefaults = { targetUtilizationPpm: 900_000, depthPpm: 100_000, responseTimeSeconds: 21_600 };
  const amm = (preemptible?: 'checkpoint' | 'restart') => ammMarket(ctx, preemptible ? { floor: 1, params: { preemptible, ...engineDefaults } } : { floor: 1 });

  describe('it becomes a priced lease when the quote comes within its value', () => {
    // A takes 9 GPUs for 1 h at the floor. B (1 GPU for 2 h, worth 1.5) is quoted 2 for the 10th
    // GPU and waits. Pre-emptibly it runs at once on the idle GPU; at 1 h A leaves, the quote for
    // B's last hour is the floor, and B's lease becomes a priced one for that hour.
    const trace = () => [task({ gpus: 9, multiplier: 2 }), task({ gpus: 1, seconds: 7200, multiplier: 1.5, patience: 7200 })];
    const off = run(amm(), trace(), ctx, { ...opts, horizon: 7200 });
    const on = run(amm('checkpoint'), trace(), ctx, { ...opts, horizon: 7200 });

    test('off: B waits an hour, then pays the floor for its 2 hours', () => {
      expect(off.total).toMatchObject({ served: 2, unserved: 0, waited: 1, waitP95: 3600, evicted: 0 });
      expect(off.total.paid).toBe(11_000_000n);
    });

    test('on: B runs from t = 0, 1 token for the hour pre-emptible and 1 for the priced hour', () => {
      expect(on.total).toMatchObject({ served: 2, unserved: 0, waited: 1, waitP95: 0, evicted: 0 });
      expect(on.total.paid).toBe(11_000_000n); // A 9, B 2 − 1 refunded + 1
      expect(on.total.gpuHours).toBeCloseTo(11, 12);
      // 10 GPUs in use on [0, 1 h), B's 1 on [1 h, 2 h)
      expect(on.total.utilisation).toBeCloseTo((10 * 3600 + 3600) / (10 * 7200), 12);
    });
  });

  describe('a priced lease that needs the GPU evicts it; the job waits again', () => {
    // A: 9 GPUs for 2 h at the floor, 18 tokens. B: 1 GPU for 2 h, worth 1.5, patience 1 h: quoted
    // 2, it runs pre-emptibly on the 10th GPU and pays 2 tokens. C at 0.5 h: the 10th GPU for 0.5 h
    // at 2 (u = u* until then, K unchanged): 1 token, within its value 3 · 0.5. B is evicted and
    // refunded 1.5. Its order waits again from 0.5 h. The pool is full until C leaves at 1 h, so K
    // rises by e^{(1 − 0.9) · 1800 / 21600} = e^{1/120}: the quote for the 10th GPU, 2.0167, is still
    // above 1.5, and B runs pre-emptibly again at the floor, its patience then over.
    const trace = () => [
      task({ gpus: 9, seconds: 7200, multiplier: 2 }),
      task({ gpus: 1, seconds: 7200, multiplier: 1.5, patience: 3600 }),
      task({ arrival: 1800, gpus: 1, seconds: 1800, multiplier: 3 }),
    ];

    test('checkpoint: B resumes for its last 1.5 h', () => {
      const r = run(amm('checkpoint'), trace(), ctx, opts);
      expect(r.total).toMatchObject({ served: 3, unserved: 0, evicted: 1 });
      expect(r.total.gpuHoursEvicted).toBeCloseTo(1.5, 12);
      expect(r.total.paid).toBe(21_000_000n); // A 18, B 0.5 + 1.5, C 1
      expect(r.total.gpuHours).toBeCloseTo(18 + 2 + 0.5, 12);
      expect(r.total.value).toBeCloseTo(36_000_000 + 3_000_000 + 1_500_000, 3);
      expect(r.total.cost).toBeCloseTo(0.4 * 20.5 * 1e6, 3);
    });

    test('restart: B starts over for 2 h, and its first half-hour is worth nothing', () => {
      const r = run(amm('restart'), trace(), ctx, opts);
      expect(r.total).toMatchObject({ served: 3, unserved: 0, evicted: 1 });
      expect(r.total.paid).toBe(21_500_000n); // A 18, B 0.5 + 2, C 1
      expect(r.total.gpuHours).toBeCloseTo(18 + 0.5 + 2 + 0.5, 12);
      expect(r.total.value).toBeCloseTo(36_000_000 + 3_000_000 + 1_500_000, 3);
      expect(r.total.cost).toBeCloseTo(0.4 * 21 * 1e6, 3);
    });

    test('off: B waits its hour for the 10th GPU and leaves', () => {
      const r = run(amm(), trace(), ctx, opts);
      expect(r.total).toMatchObject({ served: 2, unserved: 1, evicted: 0 });
      expect(r.total.paid).toBe(19_000_000n);
    });
  });

  describe('a strategic buyer declares the floor as its limit: it runs lent, and a priced buyer evicts it', () => {
    // A: 9 GPUs for 2 h at the floor, 18 tokens. B: 1 GPU for 2 h, worth 3, patience 1 h. Declaring
    // its value, B pays the 10th GPU's quote, 2 × 2 h = 4 tokens, and C (1 GPU for 0.5 h at 0.5 h,
    // worth 3) finds the pool full, waits its hour and leaves. Declaring the floor, B runs lent at
    // 1 token per hour: the case above. C evicts it at 0.5 h and pays 1 token; B is refunded 1.5,
    // runs lent again when C leaves at 1 h and pays 1.5 for its last 1.5 h.
    const trace = (understates: boolean) => [
      task({ gpus: 9, seconds: 7200, multiplier: 2 }),
      task({ gpus: 1, seconds: 7200, multiplier: 3, patience: 3600, ...(understates ? { understates: true as const } : {}) }),
      task({ arrival: 1800, gpus: 1, seconds: 1800, multiplier: 3 }),
    ];
    const tracking = (tasks: ReturnType<typeof trace>) => ({ ...opts, track: new Set([tasks[1]!.index]) });

    test('declaring its value, B pays the quote and C is turned away', () => {
      const tasks = trace(false);
      const r = run(amm('checkpoint'), tasks, ctx, tracking(tasks));
      expect(r.total).toMatchObject({ served: 2, unserved: 1, evicted: 0 });
      expect(r.total.paid).toBe(22_000_000n);
      expect(r.total.tracked?.value).toBeCloseTo(6_000_000, 3);
      expect(r.total.tracked?.paid).toBe(4_000_000);
    });

    test('declaring the floor, B pays 2 for its 2 hours, is evicted once, and C is served', () => {
      const tasks = trace(true);
      const r = run(amm('checkpoint'), tasks, ctx, tracking(tasks));
      expect(r.total).toMatchObject({ served: 3, unserved: 0, evicted: 1 });
      expect(r.total.paid).toBe(21_000_000n); // A 18, B 0.5 + 1.5, C 1
      expect(r.total.tracked?.value).toBeCloseTo(6_000_000, 3);
      expect(r.total.tracked?.paid).toBe(2_000_000);
    });

    test('where no GPUs are lent, understating is ignored: B pays the quote', () => {
      const r = run(amm(), trace(true), ctx, opts);
      expect(r.total).toMatchObject({ served: 2, unserved: 1 });
      expect(r.total.paid).toBe(22_000_000n);
      expect(r.total.tracked).toBeUndefined();
    });
  });

  describe('with term pricing, a declined renewal runs on pre-emptibly instead of being cut', () => {
    // The term-pricing trace above, A worth 1.5: A 1 GPU for 3 h (1-hour terms), B 8 GPUs for 1 h
    // from 1 s, C the 10th GPU for 1 h from 0.5 h at 2 tokens. At 1 h A declines the renewal at
    // 2.0167 and runs on at the floor on its own (now idle) GPU, 2 tokens for its last 2 h. B
    // leaves at 1 h + 1 s; the quote for A's rest is then the floor, and A becomes a priced lease
    // again (refunded what it had paid for the rest, charged the same at the floor).
    const trace = () => [
      task({ arrival: 0, gpus: 1, seconds: 3 * 3600, multiplier: 1.5 }),
      task({ arrival: 1, gpus: 8, seconds: 3600, multiplier: 3 }),
      task({ arrival: 1800, gpus: 1, seconds: 3600, multiplier: 3 }),
    ];
    const params = { preemptible: 'checkpoint' as const, termSeconds: 3600, ...engineDefaults };

    test('A keeps its 3 hours, pays the floor for all of them, and nothing is cut', () => {
      const r = run(ammMarket(ctx, { floor: 1, params }), trace(), ctx, opts);
      expect(r.total).toMatchObject({ served: 3, unserved: 0, cut: 0, gpuHoursCut: 0, demoted: 1, evicted: 0 });
      expect(Number(r.total.paid) / 1e6).toBeCloseTo(3 + 8 + 2, 4); // A 3, B 8, C 2
      expect(r.total.gpuHours).toBeCloseTo(12, 12);
      expect(r.total.value).toBeCloseTo(1.5 * 3e6 + 3 * 8e6 + 3 * 1e6, 3);
    });

    test('demoted, evicted and lent again, A still counts as one buyer served', () => {
      // B holds its 8 GPUs for 2 h, so at 1 h + 100 s D (worth 3, 0.5 h) takes the 10th GPU at
      // the quote and evicts A; A waits again and runs pre-emptibly once C leaves at 1.5 h.
      const t = trace();
      const longB = [t[0]!, { ...t[1]!, seconds: 7200 }, t[2]!, task({ arrival: 3700, gpus: 1, seconds: 1800, multiplier: 3 })];
      const r = run(ammMarket(ctx, { floor: 1, params }), longB, ctx, opts);
      expect(r.total).toMatchObject({ demoted: 1, evicted: 1, served: 4, unserved: 0 });
    });

    test('without lending the same renewal cuts A (the term-pricing case above)', () => {
      const r = run(ammMarket(ctx, { floor: 1, params: { termSeconds: 3600, ...engineDefaults } }), trace(), ctx, opts);
      expect(r.total).toMatchObject({ served: 3, cut: 1, demoted: 0 });
      expect(r.total.gpuHoursCut).toBeCloseTo(2, 12);
    });
  });
});

describe('auction: cheapest acceptable asks, pay-as-ask', () => {
  // node 0: 1 GPU asking 0.8; node 1: 2 GPUs asking 1.2
  const ctx = context([pool('a', [1, 2])]);
  const tasks = [
    task({ gpus: 2, multiplier: 1.5 }), // 0.8 + 1.2 = 2 tokens
    task({ gpus: 1, multiplier: 1, patience: 7200 }), // only the 1.2 ask is left: waits
    task({ gpus: 1, multiplier: 2 }), // takes the 1.2 ask
  ];
  const r = run(auctionMarket(ctx, { low: 0, high: 0, seed: 1, asks: [[0.8, 1.2]] }), tasks, ctx, opts);

  test('the waiting buyer gets the 0.8 ask when it frees up', () => {
    expect(r.total).toMatchObject({ served: 3, unserved: 0, waited: 1, waitP95: 3600 });
    expect(r.total.paid).toBe(4_000_000n); // 2 + 1.2 + 0.8
  });

  test('asks are drawn per node, reproducibly, within the range', () => {
    const big = context([pool('b', [1, 1, 1, 1, 1, 1, 1, 1])]);
    const price = (seed: number): number => auctionMarket(big, { low: 0.5, high: 1.5, seed }).price(0, 0)!;
    expect(price(3)).toBe(price(3));
    expect(price(3)).toBeGreaterThanOrEqual(500_000);
    expect(price(3)).toBeLessThanOrEqual(1_500_000);
  });
});

describe('best-fixed: the price that earns most, in hindsight', () => {
  // three 1-GPU-hour buyers worth 0.5, 1 and 2.1: revenue p · #(worth >= p) peaks at p = 2.1
  const ctx = context([pool('a', [10])]);
  const tasks = [task({ arrival: 0, multiplier: 0.5 }), task({ arrival: 100, multiplier: 1 }), task({ arrival: 200, multiplier: 2.1 })];
  const sweep = sweepFixed(ctx, tasks, opts);

  test('revenue-best and welfare-best prices', () => {
    expect(sweep.bestRevenue.level).toBe(2.1);
    expect(sweep.bestRevenue.revenue).toBe(2_100_000n);
    // every price up to 0.5 serves all three: welfare (0.5 + 1 + 2.1) − 3 · 0.4; ties go to the lowest
    expect(sweep.bestWelfare.welfare).toBeCloseTo(2_400_000, 3);
    expect(sweep.bestWelfare.level).toBeLessThanOrEqual(0.5);
    const one = sweep.points.find((p) => p.level === 1)!;
    expect(one.revenue).toBe(2_000_000n);
  });
});

describe('a pre-emptible pool starts from the engine\'s PREEMPTIBLE_DEFAULTS: u* 70%, depth 50%, response 24 h', () => {
  // 10 GPUs, floor 1 token. Depth 5 GPUs; at 70% use X* = 3 + 5 = 8 GPUs and K = floor · 8².
  // A takes 8 GPUs for 2 h: 7 of them below the kink at the floor, the 8th from X = 8 to 7 at
  // K (1/7 − 1/8) = 8/7 token per hour: 2 · (7 + 8/7) = 16.2857 tokens (costs round up). With the
  // engine's DEFAULTS (kink at 90%) all 8 GPUs cost the floor: 16 tokens.
  const ctx = context([pool('a', [10])]);
  const trace = () => [task({ gpus: 8, seconds: 7200, multiplier: 2 })];

  test('the 8th GPU is priced on the curve', () => {
    const r = run(ammMarket(ctx, { floor: 1, params: { preemptible: 'checkpoint' } }), trace(), ctx, { ...opts, horizon: 7200 });
    expect(r.total.served).toBe(1);
    expect(Number(r.total.paid)).toBeGreaterThanOrEqual(16_285_714);
    expect(Number(r.total.paid)).toBeLessThanOrEqual(16_285_716);
  });

  test('explicit parameters still win', () => {
    const params = { preemptible: 'checkpoint' as const, targetUtilizationPpm: 900_000, depthPpm: 100_000, responseTimeSeconds: 21_600 };
    const r = run(ammMarket(ctx, { floor: 1, params }), trace(), ctx, { ...opts, horizon: 7200 });
    expect(r.total.paid).toBe(16_000_000n);
  });
});
