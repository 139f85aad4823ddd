import { decodeEvent, decodeParams, decodeState, encodeEvent, encodeParams, encodeState } from './codec.js';
import { applyEvent, audit, replay, ReplayError, type PoolEvent } from './events.js';
import { defaultParams, K_ONE } from './params.js';
import type { PoolState } from './pool.js';
import { randomLog, randomParams } from './testing/builders.js';
import { prng } from './testing/prng.js';

const params = defaultParams(1_000_000n, 100);
const HOUR = 3600;
const log: PoolEvent[] = [
  { kind: 'capacity', at: 0, allocatable: 100, free: 100 },
  { kind: 'take', at: HOUR, gpus: 95, seconds: HOUR, lease: 'a' },
  { kind: 'tick', at: 7 * HOUR },
  { kind: 'take', at: 7 * HOUR, gpus: 5, seconds: 2 * HOUR, lease: 'b' },
  { kind: 'release', at: 8 * HOUR, gpus: 95, lease: 'a' },
];

describe('replay', () => {
  test('a hand-checked log', () => {
    const steps = replay(params, log);
    expect(steps.map((s) => s.state.free)).toEqual([100, 5, 5, 0, 95]);
    expect(steps[1]!.quote!.total).toBe(96_666_667n); // see pool.test.ts
    // 6 h at 95% used: K = 4e8 · e^0.05 = 420,508,438.55; 5 GPUs from X=15 to 10 for 2 h: K/15
    expect(Number(steps[2]!.state.k) / 2 ** 64 / 1e8).toBeCloseTo(4 * Math.exp(0.05), 12);
    expect(steps[3]!.quote!.total).toBe(28_033_896n);
    expect(steps[4]!.spot).toBe(1_000_000n);
  });

  test('the first event must open the pool; time must not go backwards; takes must fit', () => {
    expect(() => replay(params, [{ kind: 'tick', at: 0 }])).toThrow(ReplayError);
    expect(() => replay(params, [log[0]!, { kind: 'tick', at: 10 }, { kind: 'tick', at: 5 }])).toThrow(/backwards/);
    expect(() => replay(params, [log[0]!, { kind: 'take', at: 1, gpus: 101, seconds: 1 }])).toThrow(/event 1/);
  });

  test('audit finds a tampered price and nothing else', () => {
    const recorded = replay(params, log).map((s) => (s.quote ? { ...s.event, total: s.quote.total } : s.event));
    expect(audit(params, recorded)).toEqual([]);
    const tampered = recorded.map((e, i) => (i === 3 && e.kind === 'take' ? { ...e, total: 1n } : e));
    expect(audit(params, tampered)).toEqual([{ index: 3, recorded: 1n, replayed: 28_033_896n }]);
  });
});

describe('codec', () => {
  test('state, params and events survive JSON', () => {
    const state: PoolState = { k: 123n * K_ONE + 7n, at: 42, allocatable: 8, free: 3 };
    expect(decodeState(JSON.parse(JSON.stringify(encodeState(state))))).toEqual(state);
    expect(encodeState(state)).toEqual({ k: '2268949521066274848775', at: 42, allocatable: 8, free: 3 });
    expect(decodeParams(JSON.parse(JSON.stringify(encodeParams(params))))).toEqual(params);
    const take: PoolEvent = { kind: 'take', at: 1, gpus: 2, seconds: 3, lease: 'x', total: 10n ** 30n };
    expect(decodeEvent(JSON.parse(JSON.stringify(encodeEvent(take))))).toEqual(take);
  });

  test.each([
    ['k not a string', { k: 5, at: 0, allocatable: 1, free: 1 }],
    ['negative k', { k: '-5', at: 0, allocatable: 1, free: 1 }],
    ['k with decimals', { k: '1.5', at: 0, allocatable: 1, free: 1 }],
    ['free above allocatable', { k: '5', at: 0, allocatable: 1, free: 2 }],
    ['missing field', { k: '5', at: 0, allocatable: 1 }],
  ])('decodeState refuses %s', (_name, json) => {
    expect(() => decodeState(json)).toThrow(TypeError);
  });

  test('decodeEvent refuses unknown kinds and bad params are refused', () => {
    expect(() => decodeEvent({ kind: 'mint', at: 0 })).toThrow(/unknown/);
    expect(() => decodeParams({ ...encodeParams(params), floor: '0' })).toThrow(RangeError);
  });
});

describe('replaying gives identical prices (seeded, 300 logs)', () => {
  test('fold of applyEvent = replay = replay of the JSON round trip', () => {
    const r = prng(20240501);
    for (let i = 0; i < 300; i++) {
      const p = randomParams(r);
      const events = randomLog(r, r.int(1, 60));
      let state: PoolState | undefined;
      const totals: bigint[] = [];
      for (const e of events) {
        const a = applyEvent(state, p, e);
        state = a.state;
        if (a.quote) totals.push(a.quote.total);
      }
      const first = replay(p, events);
      expect(first.at(-1)!.state).toEqual(state);
      expect(first.flatMap((s) => (s.quote ? [s.quote.total] : []))).toEqual(totals);
      const wire = JSON.parse(JSON.stringify(events.map(encodeEvent))) as unknown[];
      const second = replay(decodeParams(encodeParams(p)), wire.map(decodeEvent));
      expect(second).toEqual(first);
    }
  });
});
