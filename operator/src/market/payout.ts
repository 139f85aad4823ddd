// How a lease's locked total is divided at settlement: refund for GPU-hours not delivered, protocol
// fee, providers' shares. Rounding favours the pool: refunds round down, and the dust of integer
// division goes to the pool treasury (the fee), never to the payer. Conservation is exact:
// refund + fee + Σ providers = total.
import { assertCount, BPS } from './params.js';

export type Payout = {
  /** back to the payer: the undelivered share of the total, rounded down */
  readonly refund: bigint;
  /** to the pool treasury: feeBps of what was charged, rounded down, plus the providers' dust */
  readonly fee: bigint;
  /** to each provider, in the order given, pro rata to the GPU-seconds each delivered */
  readonly providers: readonly bigint[];
};

/** Refund for a lease of `leasedGpuSeconds` that delivered `deliveredGpuSeconds`, rounded down. */
export function refundFor(total: bigint, leasedGpuSeconds: number, deliveredGpuSeconds: number): bigint {
  assertCount(leasedGpuSeconds, 'leasedGpuSeconds');
  assertCount(deliveredGpuSeconds, 'deliveredGpuSeconds');
  if (total < 0n) throw new RangeError('total must be >= 0');
  if (deliveredGpuSeconds > leasedGpuSeconds) throw new RangeError('delivered exceeds leased GPU-seconds');
  if (leasedGpuSeconds === 0) return 0n;
  return (total * BigInt(leasedGpuSeconds - deliveredGpuSeconds)) / BigInt(leasedGpuSeconds);
}

/** `charged` split into the protocol fee (rounded down) and the providers' part. */
export function splitFee(charged: bigint, feeBps: number): { readonly fee: bigint; readonly providers: bigint } {
  if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > BPS) throw new RangeError('feeBps must be in [0, 10000]');
  if (charged < 0n) throw new RangeError('charged must be >= 0');
  const fee = (charged * BigInt(feeBps)) / BigInt(BPS);
  return { fee, providers: charged - fee };
}

/**
 * Settle a lease: `delivered[i]` GPU-seconds delivered by provider i (their sum at most
 * `leasedGpuSeconds`). The payer is refunded the undelivered share, the fee is taken from the
 * rest and the providers share what remains in proportion to what they delivered.
 */
export function payout(total: bigint, leasedGpuSeconds: number, delivered: readonly number[], feeBps: number): Payout {
  let sum = 0;
  for (const d of delivered) {
    assertCount(d, 'delivered GPU-seconds');
    sum += d;
  }
  const refund = refundFor(total, leasedGpuSeconds, sum);
  const split = splitFee(total - refund, feeBps);
  if (sum === 0) return { refund, fee: split.fee + split.providers, providers: delivered.map(() => 0n) };
  const pot = split.providers;
  const providers = delivered.map((d) => (pot * BigInt(d)) / BigInt(sum));
  const paid = providers.reduce((a, b) => a + b, 0n);
  return { refund, fee: split.fee + (pot - paid), providers };
}
