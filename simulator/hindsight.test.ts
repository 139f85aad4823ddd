// The hindsight yardstick and the fixed-price schedule behind it, on traces worked out by hand
// (1 token = 1,000,000 base units; reference 1 token per GPU-hour; providers' cost 0.4).
import { hindsightSchedule } from './hindsight.js';
import { fixedMarket, levelAt } from './policies/fixed.js';
import { run } from './runner.js';
import { context, pool, task } from './testing/builders.js';

const DAY = 86400;
const opts = { sampleSeconds: 0, tickSeconds: 600 };

test('a schedule holds its base price until `from`, then one level per period, the last one holding on', () => {
  const s = { base: 1, from: DAY, period: 7 * DAY, levels: [2, 3] };
  expect([0, DAY - 1, DAY, 8 * DAY - 1, 8 * DAY, 100 * DAY].map((t) => levelAt(s, t))).toEqual([1, 1, 2, 2, 3, 3]);
  const one = { ...s, period: Infinity, levels: [2] };
  expect([0, DAY, 100 * DAY].map((t) => levelAt(one, t))).toEqual([1, 2, 2]);
});

describe('hindsight: one GPU, fixed(1) until day 1, then the best weekly price', () => {
  const ctx = context([pool('a', [1])]);
  const tasks = [
    task({ arrival: 0, multiplier: 5 }), // before day 1: pays 1
    task({ arrival: 1.5 * DAY, multiplier: 2 }),
    task({ arrival: 1.6 * DAY, multiplier: 1.5 }),
  ];

  test('the scheduled fixed market charges each buyer the level of its week', () => {
    const r = run(fixedMarket(ctx, { base: 1, from: DAY, period: 7 * DAY, levels: [1.4] }), tasks, ctx, opts);
    expect(r.total.paid).toBe(3_800_000n); // 1 + 1.4 + 1.4
  });

  test('on a grid of 1, 1.2, … 3 × the floor, 1.4 earns the most: both later buyers stay (1.6 keeps one)', () => {
    const h = hindsightSchedule(ctx, tasks, opts, { floor: 1, fromDay: 1 });
    expect(h.schedule.levels).toEqual([1.4]);
    expect(h.revenue).toBe(3_800_000n);
    expect(h.welfare).toBeCloseTo(8_500_000 - 1_200_000, 3); // values 5 + 2 + 1.5, cost 0.4 · 3
    // one price for all of it, on a grid of 0.1: 1.5 keeps both
    const one = hindsightSchedule(ctx, tasks, opts, { floor: 1, fromDay: 1, periodDays: Infinity, step: 0.1 });
    expect(one.schedule.levels).toEqual([1.5]);
    expect(one.revenue).toBe(4_000_000n);
  });
});

test('hindsight: a price that keeps less than the allowed share of welfare is not taken', () => {
  const ctx = context([pool('a', [1])]);
  const tasks = [
    task({ arrival: 0, multiplier: 5 }),
    task({ arrival: 1.5 * DAY, multiplier: 3 }),
    task({ arrival: 1.6 * DAY, multiplier: 1.05 }),
  ];
  // at 1: 1 + 1 + 1 tokens, welfare 9.05 − 1.2; at 3: 1 + 3 tokens, welfare 8 − 0.8 (92% of it)
  const kept = hindsightSchedule(ctx, tasks, opts, { floor: 1, fromDay: 1 });
  expect(kept.schedule.levels).toEqual([1]);
  expect(kept.revenue).toBe(3_000_000n);
  const monopoly = hindsightSchedule(ctx, tasks, opts, { floor: 1, fromDay: 1, minWelfareShare: 0.9 });
  expect(monopoly.schedule.levels).toEqual([3]);
  expect(monopoly.revenue).toBe(4_000_000n);
});
