// Pre-emptible leases on lent GPUs (docs/leases.md, "Pre-emptible leases"): a lease with
// spec.preemptible whose quote is above its limit runs on idle GPUs of a pool that lends them
// (spec.leases.lendIdleGpus), at the pool's floor, until a priced lease needs them. Pure helpers:
// the terms a lent lease is ranked by, how much of its duration is left, and which lent leases a
// priced lease evicts (the engine's rule, market/preempt.ts, at node level).
import { parseDuration } from '../api/duration.js';
import { HOLDING_PHASES, type ComputeLease, type ComputeLeaseStatus, type Reservation } from '../api/types.js';
import { place, type PlaceableNode } from './placement.js';

/** How a lent lease ranks for eviction: a lower limit (base units per GPU-hour) goes first, then the later start. */
export type LentTerms = { readonly limit: bigint; readonly start: number };

const sec = (iso: string | undefined): number | undefined => (iso ? Math.floor(Date.parse(iso) / 1000) : undefined);

/** The lease's limit per GPU-hour, base units (maxPrice.perGpuHour, or its total spread over GPUs × hours, rounded down). */
export function limitPerGpuHour(lease: ComputeLease): bigint {
  if (lease.spec.maxPrice.perGpuHour !== undefined) return BigInt(lease.spec.maxPrice.perGpuHour);
  const gpuSeconds = BigInt(lease.spec.gpus * (parseDuration(lease.spec.duration) ?? 0));
  return gpuSeconds === 0n ? 0n : (BigInt(lease.spec.maxPrice.total ?? '0') * 3600n) / gpuSeconds;
}

/**
 * The most GPUs a pool lends at one time (spec.leases.maxLent): a count, or a percentage of its
 * allocatable GPUs rounded down. Infinity when it sets none.
 */
export function lendingCap(maxLent: number | string | undefined, allocatable: number): number {
  if (maxLent === undefined) return Infinity;
  if (typeof maxLent === 'number') return Math.max(0, Math.floor(maxLent));
  const m = /^(\d{1,3})%$/.exec(maxLent);
  if (!m) throw new RangeError(`maxLent must be a number or a percentage, not ${JSON.stringify(maxLent)}`);
  return Math.floor((allocatable * Math.min(100, Number(m[1]))) / 100);
}

/** Seconds of the lease's duration not yet run (all of it before its first segment). */
export function remainingSeconds(lease: ComputeLease, status: ComputeLeaseStatus | undefined = lease.status): number {
  return Math.max(0, (parseDuration(lease.spec.duration) ?? 0) - (status?.secondsRun ?? 0));
}

/** Seconds run so far at `nowSec` by a lease whose current segment ends at status.endTime. */
export function secondsRunAt(lease: ComputeLease, nowSec: number): number {
  const duration = parseDuration(lease.spec.duration) ?? 0;
  const end = sec(lease.status?.endTime);
  if (end === undefined) return lease.status?.secondsRun ?? 0;
  return Math.min(duration, Math.max(lease.status?.secondsRun ?? 0, duration - Math.max(0, end - nowSec)));
}

/** The eviction terms of a lease that holds lent GPUs in this status, or undefined. */
export function lentTerms(lease: ComputeLease, status: ComputeLeaseStatus | undefined): LentTerms | undefined {
  if (!status?.preemptible || !status.phase || !HOLDING_PHASES.includes(status.phase)) return undefined;
  // The current segment started when its end minus what was left of the duration; not Active yet: latest.
  const end = sec(status.endTime);
  const start = end === undefined ? Number.MAX_SAFE_INTEGER : end - remainingSeconds(lease, status);
  return { limit: limitPerGpuHour(lease), start };
}

/** A lent lease as the eviction choice sees it. */
export type Evictable = LentTerms & { readonly key: string; readonly holds: readonly Reservation[] };

/** `nodes` with the GPUs of `freed` added back to the nodes they hold. */
function withFreed(nodes: readonly PlaceableNode[], freed: readonly Evictable[]): PlaceableNode[] {
  const add = new Map<string, number>();
  for (const l of freed) for (const r of l.holds) add.set(r.node, (add.get(r.node) ?? 0) + r.gpus);
  return nodes.map((n) => (add.has(n.name) ? { ...n, free: n.free + add.get(n.name)! } : n));
}

/**
 * The lent leases to evict so that `gpus` GPUs can be placed on `nodes` (their free GPUs, lent
 * ones not counted), or undefined when evicting all of them would not make room. The lowest limit
 * goes first, the latest start first among equal limits (the engine's `evictions`); then every
 * lease whose eviction turns out not to be needed, highest rank first, is kept.
 */
export function chooseEvictions(nodes: readonly PlaceableNode[], lent: readonly Evictable[], gpus: number): { evict: Evictable[]; reservation: Reservation[] } | undefined {
  const direct = place(nodes, gpus);
  if (direct) return { evict: [], reservation: direct };
  const ranked = [...lent].sort((a, b) => (a.limit !== b.limit ? (a.limit < b.limit ? -1 : 1) : b.start - a.start || (a.key < b.key ? -1 : 1)));
  const evict: Evictable[] = [];
  let found: Reservation[] | undefined;
  for (const l of ranked) {
    evict.push(l);
    found = place(withFreed(nodes, evict), gpus);
    if (found) break;
  }
  if (!found) return undefined;
  for (let i = evict.length - 2; i >= 0; i--) {
    const without = evict.filter((_, j) => j !== i);
    const r = place(withFreed(nodes, without), gpus);
    if (r) {
      evict.splice(i, 1);
      found = r;
    }
  }
  return { evict, reservation: found };
}
