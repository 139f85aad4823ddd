// What a lease owes at its close, from its status alone (so a restart computes the same numbers):
// each reservation delivered GPU-seconds from the start (or its addedAt) until the close, until its
// node was lost or until it was given back (releasedAt); providers are paid pro rata, the fee goes
// to the treasury, the rest is refunded. A lease that ran on lent GPUs is metered instead: each
// entry costs its own price per GPU-hour (the floor while lent, the quote once priced), and the
// payer gets back what the entries did not cost out of what was locked. Pure.
import type { ComputeLease, ComputeLeaseStatus, Reservation } from '../api/types.js';
import { parseDuration } from '../api/duration.js';
import { payout, splitFee } from '../market/index.js';

export type Plan = {
  readonly deliveredGpuSeconds: number;
  /** Per payout address, in first-seen order. */
  readonly providers: readonly { readonly address: string; readonly amount: bigint }[];
  readonly fee: bigint;
  readonly refund: bigint;
  readonly locked: bigint;
};

const sec = (iso: string | undefined): number => (iso ? Math.floor(new Date(iso).getTime() / 1000) : 0);

/** Requires status.startTime, status.endTime (the actual close), status.quote.total and status.chain.locked. */
export function settlementPlan(lease: ComputeLease, feeBps: number): Plan {
  const st = lease.status as ComputeLeaseStatus;
  const start = sec(st.startTime);
  const end = Math.max(start, sec(st.endTime));
  const leasedSeconds = parseDuration(lease.spec.duration) ?? 0;
  const leasedGpuSeconds = lease.spec.gpus * leasedSeconds;
  const locked = BigInt(st.chain?.locked ?? st.quote?.total ?? '0');
  if ((st.reservation ?? []).some((r) => r.pricePerGpuHour !== undefined)) return meteredPlan(st, start, end, locked, feeBps);
  const perAddress = new Map<string, number>();
  const order: string[] = [];
  let delivered = 0;
  for (const r of st.reservation ?? []) {
    const gpuSeconds = entrySeconds(r, start, end) * r.gpus;
    const addr = r.payoutAddress ?? '';
    if (!perAddress.has(addr)) order.push(addr);
    perAddress.set(addr, (perAddress.get(addr) ?? 0) + gpuSeconds);
    delivered += gpuSeconds;
  }
  delivered = Math.min(delivered, leasedGpuSeconds);
  const amounts = order.map((a) => Math.min(perAddress.get(a) ?? 0, leasedGpuSeconds));
  // Scale down if re-placements pushed the sum over what was leased (never charge more than bought).
  const sum = amounts.reduce((s, x) => s + x, 0);
  const scaled = sum > delivered ? amounts.map((x) => Math.floor((x * delivered) / sum)) : amounts;
  const p = payout(locked, leasedGpuSeconds, scaled, feeBps);
  const providers = order.map((address, i) => ({ address, amount: p.providers[i] ?? 0n })).filter((x) => x.amount > 0n);
  return { deliveredGpuSeconds: scaled.reduce((s, x) => s + x, 0), providers, fee: p.fee, refund: p.refund, locked };
}

/** Seconds an entry delivered within [start, end]: from its addedAt, until its node was lost or it was given back. */
function entrySeconds(r: Reservation, start: number, end: number): number {
  const from = r.addedAt ? Math.max(start, sec(r.addedAt)) : start;
  let until = end;
  if (r.lostAt) until = Math.min(until, sec(r.lostAt));
  if (r.releasedAt) until = Math.min(until, sec(r.releasedAt));
  return Math.max(0, until - from);
}

/** What `gpuSeconds` of an entry cost at its own price per GPU-hour, or else `lockedPrice`: rounded up, as the pool rounds costs. */
function entryCost(r: Reservation, gpuSeconds: number, lockedPrice: bigint): bigint {
  const price = r.pricePerGpuHour !== undefined ? BigInt(r.pricePerGpuHour) : lockedPrice;
  return (price * BigInt(gpuSeconds) + 3599n) / 3600n;
}

/** Each entry at its own price per GPU-hour (rounded up, as the pool rounds costs), at most what was locked. */
function meteredPlan(st: ComputeLeaseStatus, start: number, end: number, locked: bigint, feeBps: number): Plan {
  const lockedPrice = BigInt(st.quote?.pricePerGpuHour ?? '0');
  const cost = new Map<string, bigint>();
  const order: string[] = [];
  let delivered = 0;
  let charged = 0n;
  for (const r of st.reservation ?? []) {
    const gpuSeconds = entrySeconds(r, start, end) * r.gpus;
    const c = entryCost(r, gpuSeconds, lockedPrice);
    const addr = r.payoutAddress ?? '';
    if (!cost.has(addr)) order.push(addr);
    cost.set(addr, (cost.get(addr) ?? 0n) + c);
    delivered += gpuSeconds;
    charged += c;
  }
  const scaleDown = charged > locked; // never charge more than was locked
  const total = scaleDown ? locked : charged;
  const split = splitFee(total, feeBps);
  const providers = order.map((address) => {
    const c = cost.get(address) ?? 0n;
    return { address, amount: charged === 0n ? 0n : (split.providers * c) / charged };
  });
  const paid = providers.reduce((s, p) => s + p.amount, 0n);
  return {
    deliveredGpuSeconds: delivered,
    providers: providers.filter((p) => p.amount > 0n),
    fee: split.fee + (split.providers - paid),
    refund: locked - total,
    locked,
  };
}

/** What a metered lease (one that ran on lent GPUs) has cost up to `nowSec`: its entries at their prices, rounded up. */
export function chargedUntil(lease: ComputeLease, nowSec: number): bigint {
  const st = lease.status ?? {};
  const start = sec(st.startTime);
  const end = Math.max(start, Math.min(nowSec, st.endTime ? sec(st.endTime) : nowSec));
  const lockedPrice = BigInt(st.quote?.pricePerGpuHour ?? '0');
  let charged = 0n;
  for (const r of st.reservation ?? []) charged += entryCost(r, entrySeconds(r, start, end) * r.gpus, lockedPrice);
  return charged;
}
