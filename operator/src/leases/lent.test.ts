// Pre-emptible leases on lent GPUs: which lent leases a priced lease evicts, how much of a lease
// is left, what a metered lease owes, and what the ledger says is lent. Hand-checked numbers.
import type { ComputeLease, ComputeLeaseStatus, Reservation } from '../api/types.js';
import { ReservationLedger } from './ledger.js';
import { chooseEvictions, lendingCap, lentTerms, limitPerGpuHour, remainingSeconds, secondsRunAt, type Evictable } from './lent.js';
import { chargedUntil, settlementPlan } from './settlement-plan.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sec = (s: number) => Math.floor(T0 / 1000) + s;

const lease = (spec: Partial<ComputeLease['spec']>, status?: ComputeLeaseStatus): ComputeLease =>
  ({
    metadata: { name: 'l', namespace: 'team-a' },
    spec: { pool: 'a100', gpus: 2, duration: '2h', maxPrice: { perGpuHour: '3000000' }, payer: { address: '0x', authorizationSecretRef: { name: 'x' } }, preemptible: true, ...spec },
    ...(status ? { status } : {}),
  }) as ComputeLease;
const on = (node: string, gpus: number, extra: Partial<Reservation> = {}): Reservation => ({ node, gpus, payoutAddress: `0x${node}`, ...extra });
const node = (name: string, free: number) => ({ name, free, payoutAddress: `0x${name}` });
const ev = (key: string, limit: bigint, start: number, holds: Reservation[]): Evictable => ({ key, limit, start, holds });

describe('limits and time left', () => {
  test('the limit per GPU-hour is maxPrice.perGpuHour, or the total spread over GPUs × hours, rounded down', () => {
    expect(limitPerGpuHour(lease({}))).toBe(3_000_000n);
    expect(limitPerGpuHour(lease({ maxPrice: { total: '10000001' } }))).toBe(2_500_000n); // 10,000,001 / (2 GPUs × 2 h)
  });

  test('time run and time left follow the segment end and what earlier segments ran', () => {
    // Second segment: 30 min ran before the pre-emption; it resumed and ends at +5400 s.
    const l = lease({}, { phase: 'Active', preemptible: true, secondsRun: 1800, endTime: at(5400) });
    expect(remainingSeconds(l)).toBe(5400);
    expect(secondsRunAt(l, sec(0))).toBe(1800);
    expect(secondsRunAt(l, sec(3600))).toBe(5400); // 7200 − (5400 − 3600)
    expect(secondsRunAt(l, sec(9999))).toBe(7200);
  });

  test('eviction terms: only for a lease holding lent GPUs; its start is its segment end minus what was left', () => {
    expect(lentTerms(lease({}), { phase: 'Active', preemptible: false, endTime: at(7200) })).toBeUndefined();
    expect(lentTerms(lease({}), { phase: 'Preempted', preemptible: true, endTime: at(7200) })).toBeUndefined();
    expect(lentTerms(lease({}), { phase: 'Active', preemptible: true, endTime: at(7200) })).toEqual({ limit: 3_000_000n, start: sec(0) });
    expect(lentTerms(lease({}), { phase: 'Reserved', preemptible: true })).toEqual({ limit: 3_000_000n, start: Number.MAX_SAFE_INTEGER });
  });
});

describe('chooseEvictions', () => {
  test('free GPUs first: nothing is evicted when the request fits', () => {
    expect(chooseEvictions([node('n1', 2)], [ev('a', 1n, 0, [on('n1', 2)])], 2)).toEqual({ evict: [], reservation: [on('n1', 2)] });
  });

  test('the lowest limit goes first, and the later start among equal limits', () => {
    const lent = [ev('high', 5n, 0, [on('n1', 2)]), ev('early', 1n, 0, [on('n2', 2)]), ev('late', 1n, 10, [on('n3', 2)])];
    const r = chooseEvictions([node('n1', 0), node('n2', 0), node('n3', 0)], lent, 2);
    expect(r?.evict.map((e) => e.key)).toEqual(['late']);
    expect(r?.reservation).toEqual([on('n3', 2)]);
  });

  test('a lease whose eviction turned out not to be needed is kept', () => {
    // 4 GPUs: 'a' (lowest) frees 1 on n1, 'b' frees 3 on n2 — 'b' with n2's 1 free GPU suffices.
    const lent = [ev('a', 1n, 0, [on('n1', 1)]), ev('b', 2n, 0, [on('n2', 3)])];
    const r = chooseEvictions([node('n1', 0), node('n2', 1)], lent, 4);
    expect(r?.evict.map((e) => e.key)).toEqual(['b']);
    expect(r?.reservation).toEqual([on('n2', 4)]);
  });

  test('undefined when evicting every lent lease is not enough', () => {
    expect(chooseEvictions([node('n1', 1)], [ev('a', 1n, 0, [on('n1', 2)])], 4)).toBeUndefined();
  });
});

describe('a metered settlement', () => {
  // 2 GPUs × 2 h at 3,000,000 locked 12,000,000. Lent at the floor 1,000,000 for 30 min, pre-empted,
  // resumed 30 min later priced at 2,000,000 on n2 for the remaining 90 min.
  const status: ComputeLeaseStatus = {
    phase: 'Ending',
    startTime: at(0),
    endTime: at(3600 + 5400),
    secondsRun: 1800,
    chain: { locked: '12000000' },
    quote: { pricePerGpuHour: '2000000', total: '6000000', spotPrice: '2000000', feeBps: 500, quotedAt: at(3600) },
    reservation: [on('n1', 2, { pricePerGpuHour: '1000000', releasedAt: at(1800) }), on('n2', 2, { addedAt: at(3600), pricePerGpuHour: '2000000' })],
  };

  test('each entry costs its own price; the payer gets back what was locked and not used', () => {
    const plan = settlementPlan(lease({}, status), 500);
    // n1: 2 GPUs × 0.5 h × 1,000,000 = 1,000,000; n2: 2 × 1.5 h × 2,000,000 = 6,000,000.
    expect(plan.deliveredGpuSeconds).toBe(2 * 1800 + 2 * 5400);
    expect(plan.fee).toBe(350_000n); // 5% of 7,000,000
    expect(plan.providers).toEqual([
      { address: '0xn1', amount: 950_000n },
      { address: '0xn2', amount: 5_700_000n },
    ]);
    expect(plan.refund).toBe(5_000_000n);
    expect(plan.providers.reduce((s, p) => s + p.amount, 0n) + plan.fee + plan.refund).toBe(12_000_000n);
  });

  test('what it has cost so far counts time, not the whole lease', () => {
    const running = { ...status, phase: 'Active' as const };
    expect(chargedUntil(lease({}, running), sec(1800))).toBe(1_000_000n);
    expect(chargedUntil(lease({}, running), sec(3600 + 1800))).toBe(1_000_000n + 2_000_000n);
  });

  test('never more than was locked', () => {
    const plan = settlementPlan(lease({}, { ...status, chain: { locked: '3000000' } }), 0);
    expect(plan.refund).toBe(0n);
    expect(plan.providers.reduce((s, p) => s + p.amount, 0n) + plan.fee).toBe(3_000_000n);
  });
});

describe('the ledger and lent leases', () => {
  const lentLease = (name: string, status: ComputeLeaseStatus) => ({ ...lease({}, status), metadata: { name, namespace: 'team-a' } }) as ComputeLease;

  test('lent leases are listed with their GPUs and terms; a priced one and a pre-empted one are not', () => {
    const l = new ReservationLedger();
    l.observe('team-a/lent', lentLease('lent', { phase: 'Active', preemptible: true, endTime: at(7200), reservation: [on('n1', 2)] }));
    l.observe('team-a/priced', lentLease('priced', { phase: 'Active', preemptible: false, endTime: at(7200), reservation: [on('n2', 2)] }));
    l.observe('team-a/gone', lentLease('gone', { phase: 'Preempted', preemptible: true, endTime: at(100), reservation: [on('n3', 2, { releasedAt: at(100) })] }));
    expect(l.lent('a100')).toEqual([{ key: 'team-a/lent', holds: [on('n1', 2)], gpus: 2, limit: 3_000_000n, start: sec(0) }]);
    expect(Object.fromEntries(l.heldByNode('a100'))).toEqual({ n1: 2, n2: 2 });
  });

  test('a pre-emption recorded before its write lands takes the lease off the list at once', () => {
    const l = new ReservationLedger();
    l.observe('team-a/lent', lentLease('lent', { phase: 'Active', preemptible: true, endTime: at(7200), reservation: [on('n1', 2)] }));
    l.record('team-a/lent', 'a100', []);
    expect(l.lent('a100')).toEqual([]);
    expect(Object.fromEntries(l.heldByNode('a100'))).toEqual({});
  });
});

describe('lendingCap: spec.leases.maxLent as a count or a share of the pool', () => {
  test.each([
    [undefined, 10, Infinity],
    [4, 10, 4],
    [0, 10, 0],
    ['50%', 10, 5],
    ['33%', 10, 3], // rounded down
    ['100%', 7, 7],
    ['0%', 7, 0],
  ] as const)('%p of %i GPUs lends at most %p', (maxLent, allocatable, cap) => {
    expect(lendingCap(maxLent, allocatable)).toBe(cap);
  });

  test('anything else is refused (the CRD rejects it first)', () => {
    expect(() => lendingCap('half', 10)).toThrow(/maxLent must be a number or a percentage/);
  });
});
