// Random but valid parameters, states and event logs for property tests.
import type { PoolEvent } from '../events.js';
import { validateParams, K_ONE, type PoolParams } from '../params.js';
import { kCeiling, kFloor, type PoolState } from '../pool.js';
import type { Prng } from './prng.js';

export function randomParams(r: Prng): PoolParams {
  const floor = BigInt(r.int(1, 1_000_000_000));
  const ceiling = floor * BigInt(r.int(1, 100)) + BigInt(r.int(0, 1000));
  return validateParams({
    floor,
    ceiling,
    initialPrice: floor + ((ceiling - floor) * BigInt(r.int(0, 100))) / 100n,
    depth: r.pick([0, 1, 2, 5, r.int(0, 200)]),
    targetUtilizationPpm: r.int(500_000, 990_000),
    responseTimeSeconds: r.int(60, 7 * 24 * 3600),
    feeBps: r.int(0, 1000),
  });
}

/** A state anywhere in the K range the clamps allow. */
export function randomState(r: Prng, params: PoolParams): PoolState {
  const allocatable = r.pick([1, 2, 8, r.int(1, 64), r.int(1, 5000)]);
  const free = r.int(0, allocatable);
  const lo = kFloor(params, allocatable);
  const hi = kCeiling(params, free);
  const k = hi > lo ? lo + ((hi - lo) * BigInt(r.int(0, 1_000_000))) / 1_000_000n : lo;
  return { k: k + BigInt(r.int(0, 1000)) * ((K_ONE >> 10n)), at: r.int(0, 1e9), allocatable, free };
}

/** A valid log: opens the pool, then takes, releases, capacity changes and ticks in time order. */
export function randomLog(r: Prng, length: number): PoolEvent[] {
  let allocatable = r.int(1, 500);
  let free = r.int(0, allocatable);
  let at = r.int(0, 1e6);
  const events: PoolEvent[] = [{ kind: 'capacity', at, allocatable, free }];
  for (let i = 1; i < length; i++) {
    at += r.pick([0, r.int(1, 60), r.int(60, 3600), r.int(3600, 3 * 86400)]);
    const roll = r.next();
    if (roll < 0.4 && free > 0) {
      const gpus = r.int(1, free);
      free -= gpus;
      events.push({ kind: 'take', at, gpus, seconds: r.int(1, 7 * 86400), lease: `lease-${i}` });
    } else if (roll < 0.75 && free < allocatable) {
      const gpus = r.int(1, allocatable - free);
      free += gpus;
      events.push({ kind: 'release', at, gpus, lease: `lease-${i}` });
    } else if (roll < 0.85) {
      allocatable = Math.max(0, allocatable + r.int(-20, 20));
      free = r.int(0, allocatable);
      events.push({ kind: 'capacity', at, allocatable, free });
    } else {
      events.push({ kind: 'tick', at });
    }
  }
  return events;
}
