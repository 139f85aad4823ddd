// GPUs held per node, per pool, kept up to date incrementally: from the lease informer's events (what the API
// server has) and from the lease controller's own status writes (what it has written but the cache may not show
// yet). Placing a lease reads this, so two leases never get the same free GPUs in the moment between a status
// write and its watch event. A written entry wins over the cache until the cache shows the same reservations.
//
// Placement asks for a pool's counts once per lease; keeping them incrementally makes that O(nodes) instead of
// O(leases in the pool), which made a burst of N leases O(N²) (bench/leases-scale.ts).
import { heldReservations, type ComputeLease, type Reservation } from '../api/types.js';
import { lentTerms, type LentTerms } from './lent.js';
import type { Informer } from '../kube/informer.js';
import { objectKey } from '../kube/resources.js';

type Holds = { readonly pool: string; readonly holds: readonly Reservation[]; readonly lent?: LentTerms | undefined };

/** A lease running on lent GPUs, as placement sees it: what it holds and how it ranks for eviction. */
export type LentLease = { readonly key: string; readonly holds: readonly Reservation[]; readonly gpus: number } & LentTerms;

function sameHolds(a: readonly Reservation[], b: readonly Reservation[], la?: LentTerms, lb?: LentTerms): boolean {
  if (a.length !== b.length || la?.limit !== lb?.limit || la?.start !== lb?.start) return false;
  return a.every((r, i) => {
    const s = b[i]!;
    return r.node === s.node && r.gpus === s.gpus && r.lostAt === s.lostAt && r.addedAt === s.addedAt && r.payoutAddress === s.payoutAddress && r.pricePerGpuHour === s.pricePerGpuHour;
  });
}

export class ReservationLedger {
  /** lease key → its reservations as the cache has them. */
  private readonly cached = new Map<string, Holds>();
  /** lease key → reservations written and not yet seen back (an empty list: it released them). */
  private readonly written = new Map<string, Holds>();
  /** pool → node → GPUs held there by the effective reservations (written, else cached) of its leases. */
  private readonly held = new Map<string, Map<string, number>>();
  /** pool → keys of its leases whose effective holds are lent (pre-emptible). */
  private readonly lentKeys = new Map<string, Set<string>>();
  private readonly locks = new Map<string, Promise<void>>();

  /** Follows the lease informer's events (register before it starts, or it replays its cache as adds). */
  follow(leases: Informer<ComputeLease>): () => void {
    return leases.addEventHandler({
      add: (l) => this.observe(objectKey(l), l),
      update: (_old, l) => this.observe(objectKey(l), l),
      delete: (l) => this.forget(objectKey(l)),
    });
  }

  /** A lease as the informer has it now (add or update). */
  observe(key: string, lease: ComputeLease): void {
    const held = heldReservations(lease.status);
    const holds = { pool: lease.spec.pool, holds: held, lent: lentTerms(lease, lease.status) };
    const before = this.effective(key);
    this.cached.set(key, holds);
    const w = this.written.get(key);
    // The cache caught up with what we wrote: forget the entry.
    if (w && w.pool === holds.pool && sameHolds(w.holds, holds.holds, w.lent, holds.lent)) this.written.delete(key);
    this.shift(key, before, this.effective(key));
  }

  /** A lease gone from the API server (its finalizer released): it holds nothing any more. */
  forget(key: string): void {
    const before = this.effective(key);
    this.cached.delete(key);
    this.written.delete(key);
    this.shift(key, before, undefined);
  }

  /** What the controller has just written (or is about to write) for a lease; `lent` if it runs on lent GPUs. */
  record(key: string, pool: string, holds: readonly Reservation[], lent?: LentTerms): void {
    const before = this.effective(key);
    this.written.set(key, { pool, holds: [...holds], lent });
    this.shift(key, before, this.effective(key));
  }

  /** The pool's leases running on lent GPUs, with the GPUs they hold on nodes not lost. */
  lent(pool: string): LentLease[] {
    const out: LentLease[] = [];
    for (const key of this.lentKeys.get(pool) ?? []) {
      const h = this.effective(key);
      if (!h?.lent) continue;
      const holds = h.holds.filter((r) => !r.lostAt);
      out.push({ key, holds, gpus: holds.reduce((s, r) => s + r.gpus, 0), ...h.lent });
    }
    return out;
  }

  /** GPUs held per node in `pool` (nodes with none are absent). Read-only: copy before changing it. */
  heldByNode(pool: string): ReadonlyMap<string, number> {
    return this.held.get(pool) ?? new Map();
  }

  /** Leases whose written reservations the cache has not shown yet (for tests and debugging). */
  unconfirmed(): number {
    return this.written.size;
  }

  /** Runs `fn` with the pool's placement lock held: one placement per pool at a time. */
  async withPool<T>(pool: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(pool) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    this.locks.set(pool, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(pool) === chained) this.locks.delete(pool);
    }
  }

  private effective(key: string): Holds | undefined {
    return this.written.get(key) ?? this.cached.get(key);
  }

  private shift(key: string, before: Holds | undefined, after: Holds | undefined): void {
    if (before === after) return;
    if (before) this.add(before, -1);
    if (after) this.add(after, 1);
    if (before?.lent && before.holds.length > 0) {
      const set = this.lentKeys.get(before.pool);
      set?.delete(key);
      if (set?.size === 0) this.lentKeys.delete(before.pool);
    }
    if (after?.lent && after.holds.length > 0) {
      let set = this.lentKeys.get(after.pool);
      if (!set) this.lentKeys.set(after.pool, (set = new Set()));
      set.add(key);
    }
  }

  private add(h: Holds, sign: 1 | -1): void {
    let byNode = this.held.get(h.pool);
    for (const r of h.holds) {
      if (r.lostAt) continue;
      if (!byNode) this.held.set(h.pool, (byNode = new Map()));
      const n = (byNode.get(r.node) ?? 0) + sign * r.gpus;
      if (n === 0) byNode.delete(r.node);
      else byNode.set(r.node, n);
    }
    if (byNode?.size === 0) this.held.delete(h.pool);
  }
}
