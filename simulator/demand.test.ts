// The demand model's draws: seeded, one stream per purpose, strategic buyers drawn apart.
import { DEFAULT_DEMAND, drawTasks } from './demand.js';
import { pool } from './testing/builders.js';
import type { TraceTask } from './trace.js';

const pools = [pool('a', [8])];
const tasks: TraceTask[] = Array.from({ length: 2000 }, (_, i) => ({ id: `t${i}`, arrival: i * 60, units: 1000, seconds: 3600, models: null }));

describe('drawTasks', () => {
  const honest = drawTasks(tasks, pools, DEFAULT_DEMAND, 7);

  test('by default every buyer declares its value', () => {
    expect(honest.some((t) => 'understates' in t)).toBe(false);
  });

  test('a strategic share flags that share of the buyers and leaves their values and patience as they were', () => {
    const strategic = drawTasks(tasks, pools, { ...DEFAULT_DEMAND, strategicShare: 0.3 }, 7);
    expect(strategic.map((t) => [t.multiplier, t.patience])).toEqual(honest.map((t) => [t.multiplier, t.patience]));
    const flagged = strategic.filter((t) => t.understates).length;
    expect(flagged / tasks.length).toBeGreaterThan(0.27);
    expect(flagged / tasks.length).toBeLessThan(0.33);
    expect(drawTasks(tasks, pools, { ...DEFAULT_DEMAND, strategicShare: 0.3 }, 7)).toEqual(strategic);
    expect(drawTasks(tasks, pools, { ...DEFAULT_DEMAND, strategicShare: 1 }, 7).every((t) => t.understates)).toBe(true);
  });

  test('with a longest job, only buyers of jobs that short understate', () => {
    const mixed = tasks.map((t, i) => ({ ...t, seconds: i % 2 ? 7200 : 1800 }));
    const strategic = drawTasks(mixed, pools, { ...DEFAULT_DEMAND, strategicShare: 1, strategicMaxSeconds: 3600 }, 7);
    expect(strategic.filter((t) => t.understates).map((t) => t.seconds)).toEqual(mixed.filter((t) => t.seconds <= 3600).map((t) => t.seconds));
  });

  test('a share outside [0, 1] is refused', () => {
    expect(() => drawTasks(tasks, pools, { ...DEFAULT_DEMAND, strategicShare: 1.5 }, 7)).toThrow(RangeError);
    expect(() => drawTasks(tasks, pools, { ...DEFAULT_DEMAND, strategicShare: -0.1 }, 7)).toThrow(RangeError);
  });
});
