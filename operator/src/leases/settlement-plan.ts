// What a lease owes at its close, from its status alone (so a restart computes the same numbers):
// each reservation delivered GPU-seconds from the start until the close or until its node was
// lost; providers are paid pro rata, the fee goes to the treasury, the rest is refunded. Pure.
import type { ComputeLease, ComputeLeaseStatus } from '../api/types.js';
import { parseDuration } from '../api/duration.js';
import { payout } from '../market/index.js';

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
  const perAddress = new Map<string, number>();
  const order: string[] = [];
  let delivered = 0;
  for (const r of st.reservation ?? []) {
    const from = r.addedAt ? Math.max(start, sec(r.addedAt)) : start;
    const until = r.lostAt ? Math.min(end, sec(r.lostAt)) : end;
    const gpuSeconds = Math.max(0, until - from) * r.gpus;
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
