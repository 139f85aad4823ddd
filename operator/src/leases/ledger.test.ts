import type { ComputeLease, LeasePhase, Reservation } from '../api/types.js';
import { ReservationLedger } from './ledger.js';

const lease = (name: string, phase: LeasePhase | undefined, reservation: Reservation[], pool = 'a100'): ComputeLease =>
  ({
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'ComputeLease',
    metadata: { name, namespace: 'team-a' },
    spec: { pool, gpus: reservation.reduce((s, r) => s + r.gpus, 0), duration: '1h', payer: { address: '0x', authorizationSecretRef: { name: 'x' } } },
    ...(phase ? { status: { phase, reservation } } : {}),
  }) as unknown as ComputeLease;
const on = (node: string, gpus: number, extra: Partial<Reservation> = {}): Reservation => ({ node, gpus, ...extra });
const counts = (l: ReservationLedger, pool = 'a100') => Object.fromEntries([...l.heldByNode(pool)].sort());

test.each([
  { what: 'a cached Active lease holds its GPUs', steps: (l: ReservationLedger) => l.observe('team-a/x', lease('x', 'Active', [on('n1', 2), on('n2', 1)])), want: { n1: 2, n2: 1 } },
  { what: 'a Pending lease holds nothing', steps: (l: ReservationLedger) => l.observe('team-a/x', lease('x', 'Pending', [])), want: {} },
  { what: 'a settled lease holds nothing', steps: (l: ReservationLedger) => l.observe('team-a/x', lease('x', 'Settled', [on('n1', 2)])), want: {} },
  { what: 'GPUs on a lost node are not counted', steps: (l: ReservationLedger) => l.observe('team-a/x', lease('x', 'Active', [on('n1', 2, { lostAt: '2026-01-01T00:00:00Z' }), on('n2', 2)])), want: { n2: 2 } },
  {
    what: 'a written reservation counts before the cache shows it',
    steps: (l: ReservationLedger) => {
      l.observe('team-a/x', lease('x', 'Pending', []));
      l.record('team-a/x', 'a100', [on('n1', 4)]);
    },
    want: { n1: 4 },
  },
  {
    what: 'a stale cache event does not undo a write; the agreeing one confirms it',
    steps: (l: ReservationLedger) => {
      l.record('team-a/x', 'a100', [on('n1', 4)]);
      l.observe('team-a/x', lease('x', 'Pending', []));
      expect(l.unconfirmed()).toBe(1);
      l.observe('team-a/x', lease('x', 'Reserved', [on('n1', 4)]));
      expect(l.unconfirmed()).toBe(0);
    },
    want: { n1: 4 },
  },
  {
    what: 'a release is written as an empty list and wins over the cached reservation',
    steps: (l: ReservationLedger) => {
      l.observe('team-a/x', lease('x', 'Active', [on('n1', 4)]));
      l.record('team-a/x', 'a100', []);
    },
    want: {},
  },
  {
    what: 'a lease removed from the API server holds nothing, written or not',
    steps: (l: ReservationLedger) => {
      l.observe('team-a/x', lease('x', 'Active', [on('n1', 4)]));
      l.record('team-a/y', 'a100', [on('n1', 2)]);
      l.forget('team-a/x');
      l.forget('team-a/y');
      expect(l.unconfirmed()).toBe(0);
    },
    want: {},
  },
  {
    what: 're-placement after a node loss moves the count',
    steps: (l: ReservationLedger) => {
      l.observe('team-a/x', lease('x', 'Active', [on('n1', 2)]));
      l.record('team-a/x', 'a100', [on('n1', 2, { lostAt: 't' }), on('n3', 2, { addedAt: 't' })]);
    },
    want: { n3: 2 },
  },
  {
    what: 'leases of other pools do not count here',
    steps: (l: ReservationLedger) => {
      l.observe('team-a/x', lease('x', 'Active', [on('n1', 2)], 'h100'));
      l.observe('team-a/y', lease('y', 'Active', [on('n2', 1)]));
    },
    want: { n2: 1 },
  },
])('$what', ({ steps, want }) => {
  const l = new ReservationLedger();
  steps(l);
  expect(counts(l)).toEqual(want);
});

test('counts match a full recount after a long random sequence of writes, events and removals', () => {
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const l = new ReservationLedger();
  const truth = new Map<string, { cached?: Reservation[]; written?: Reservation[] }>();
  const phases: LeasePhase[] = ['Pending', 'Reserved', 'Active', 'Ending', 'Settled'];
  for (let i = 0; i < 5_000; i++) {
    const key = `team-a/l${rand(40)}`;
    const t = truth.get(key) ?? {};
    const holds = Array.from({ length: rand(3) }, () => on(`n${rand(6)}`, 1 + rand(4), rand(5) === 0 ? { lostAt: 't' } : {}));
    const op = rand(10);
    if (op < 4) {
      const phase = phases[rand(phases.length)]!;
      l.observe(key, lease(key, phase, holds));
      t.cached = ['Reserved', 'Active', 'Ending'].includes(phase) ? holds : [];
      if (t.written && JSON.stringify(t.written) === JSON.stringify(t.cached)) delete t.written;
      truth.set(key, t);
    } else if (op < 8) {
      l.record(key, 'a100', holds);
      truth.set(key, { ...t, written: holds });
    } else if (op === 8 && t.written) {
      // the cache catches up with exactly what was written
      l.observe(key, lease(key, 'Active', t.written));
      truth.set(key, { cached: t.written });
    } else {
      l.forget(key);
      truth.delete(key);
    }
  }
  const recount = new Map<string, number>();
  for (const t of truth.values()) for (const r of t.written ?? t.cached ?? []) if (!r.lostAt) recount.set(r.node, (recount.get(r.node) ?? 0) + r.gpus);
  expect(counts(l)).toEqual(Object.fromEntries([...recount].sort()));
});
