// Checks of a lease against its pool that the API server cannot make (they need the pool). Pure.
import { parseDuration } from '../api/duration.js';
import type { ComputeLease, GpuPool } from '../api/types.js';

export type Refusal = { readonly reason: string; readonly message: string };

/** Why the pool refuses this lease, or undefined when it may lease from it. */
export function refuse(lease: ComputeLease, pool: GpuPool): Refusal | undefined {
  const ns = lease.metadata?.namespace ?? '';
  const allowed = pool.spec.allowedNamespaces ?? [];
  if (allowed.length > 0 && !allowed.includes(ns)) {
    return { reason: 'NamespaceNotAllowed', message: `pool ${pool.metadata?.name} does not lease to namespace ${ns} (allowed: ${allowed.join(', ')})` };
  }
  const maxGpus = pool.spec.leases?.maxGpusPerLease ?? 64;
  if (lease.spec.gpus > maxGpus) {
    return { reason: 'TooManyGpus', message: `pool ${pool.metadata?.name} leases at most ${maxGpus} GPUs at once; asked for ${lease.spec.gpus}` };
  }
  const secs = parseDuration(lease.spec.duration) ?? 0;
  const min = parseDuration(pool.spec.leases?.minDuration ?? '10m') ?? 600;
  const max = parseDuration(pool.spec.leases?.maxDuration ?? '720h') ?? 720 * 3600;
  if (secs < min || secs > max) {
    return { reason: 'DurationOutOfRange', message: `duration ${lease.spec.duration} is outside the pool's range [${pool.spec.leases?.minDuration ?? '10m'}, ${pool.spec.leases?.maxDuration ?? '720h'}]` };
  }
  return undefined;
}

/** The most the payer accepts for the whole lease, in base units. */
export function maxTotal(lease: ComputeLease): bigint {
  const secs = BigInt(parseDuration(lease.spec.duration) ?? 0);
  if (lease.spec.maxPrice.total !== undefined) return BigInt(lease.spec.maxPrice.total);
  // perGpuHour × GPUs × hours, rounded down (the limit never grows by rounding)
  return (BigInt(lease.spec.maxPrice.perGpuHour ?? '0') * BigInt(lease.spec.gpus) * secs) / 3600n;
}

/** Until when the lease may wait for an acceptable price (Unix ms): spec.deadline, or 1 h after creation. */
export function waitDeadlineMs(lease: ComputeLease): number {
  if (lease.spec.deadline) return new Date(lease.spec.deadline).getTime();
  const created = lease.metadata?.creationTimestamp;
  return (created ? new Date(created).getTime() : 0) + 3600_000;
}
