// Reservations the lease controller has written but the informer cache may not show yet. Placing
// a lease reads the cache plus this ledger, so two leases never get the same free GPUs in the
// moment between a status write and its watch event. Entries are dropped once the cache agrees.
import type { ComputeLease, Reservation } from '../api/types.js';
import { HOLDING_PHASES } from '../api/types.js';

export class ReservationLedger {
  /** lease key → reservations it holds (an empty list: it released them). */
  private readonly written = new Map<string, { pool: string; holds: Reservation[] }>();
  private readonly locks = new Map<string, Promise<void>>();

  record(key: string, pool: string, holds: readonly Reservation[]): void {
    this.written.set(key, { pool, holds: [...holds] });
  }

  /** GPUs held per node in `pool`: the cache's holding leases, overridden by what was written since. */
  heldByNode(pool: string, cached: readonly ComputeLease[], keyOf: (l: ComputeLease) => string): Map<string, number> {
    const byLease = new Map<string, Reservation[]>();
    for (const l of cached) {
      const k = keyOf(l);
      const w = this.written.get(k);
      if (w) {
        // The cache caught up with what we wrote: forget the entry.
        const holding = l.status?.phase !== undefined && HOLDING_PHASES.includes(l.status.phase);
        if (JSON.stringify(holding ? l.status?.reservation ?? [] : []) === JSON.stringify(w.holds)) this.written.delete(k);
        continue;
      }
      if (l.status?.phase && HOLDING_PHASES.includes(l.status.phase)) byLease.set(k, l.status.reservation ?? []);
    }
    for (const [k, w] of this.written) if (w.pool === pool) byLease.set(k, w.holds);
    const out = new Map<string, number>();
    for (const rs of byLease.values()) for (const r of rs) if (!r.lostAt) out.set(r.node, (out.get(r.node) ?? 0) + r.gpus);
    return out;
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
}
