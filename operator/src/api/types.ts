// TypeScript shapes of the pinfi.io/v1alpha1 resources, matching crds/*.yaml.
import type { Condition } from '../kube/conditions.js';
import type { KubeObject } from '../kube/resources.js';
import type { LabelSelector } from '../inventory/selector.js';

export const GROUP = 'pinfi.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export type GpuPoolSpec = {
  nodeSelector: LabelSelector;
  resourceName?: string;
  pricing: {
    token: string;
    floorPrice: string;
    ceilingPrice: string;
    initialPrice?: string;
    depth?: number;
    targetUtilization?: number;
    responseTime?: string;
    feeBps?: number;
    treasury: string;
  };
  leases?: {
    minDuration?: string;
    maxDuration?: string;
    maxGpusPerLease?: number;
    /**
     * Lend idle GPUs, at the floor, to leases with spec.preemptible whose quote is above their
     * limit, until a priced lease needs them (docs/leases.md, "Pre-emptible leases"). The pool's
     * curve then starts from the engine's PREEMPTIBLE_DEFAULTS.
     */
    lendIdleGpus?: boolean;
    /** With lendIdleGpus: the most GPUs lent at one time, a count or a percentage of allocatable ("50%"). */
    maxLent?: number | string;
  };
  allowedNamespaces?: string[];
};

export type PricingStatus = {
  /** The curve constant K·1e18 (the engine's `k`), integer string. */
  k: string;
  /** When K was last relaxed (the engine's `at`), Unix seconds; updatedAt is the same instant. */
  at: number;
  updatedAt: string;
  /** Capacity K has been relaxed under since `at`. */
  allocatable: number;
  free: number;
  depth: number;
  sequence: number;
};

export type GpuPoolStatus = {
  observedGeneration?: number;
  product?: string;
  nodeCount?: number;
  capacity?: number;
  allocatable?: number;
  free?: number;
  leased?: number;
  /** GPUs lent to pre-emptible leases at the floor (counted in free: a priced lease may take them). */
  lent?: number;
  usedByOthers?: number;
  utilization?: string;
  spotPrice?: string;
  pricing?: PricingStatus;
  excludedNodes?: { name: string; reason: string }[];
  conditions?: Condition[];
};

export type GpuPool = KubeObject & { apiVersion?: string; kind?: string; spec: GpuPoolSpec; status?: GpuPoolStatus };

export const LEASE_PHASES = ['Pending', 'Waiting', 'Quoted', 'Reserved', 'Funded', 'Active', 'Preempted', 'Ending', 'Settled', 'Expired', 'Failed'] as const;
export type LeasePhase = (typeof LEASE_PHASES)[number];

export const CLOSE_REASONS = ['Completed', 'Cancelled', 'ProviderFailure', 'FundingFailed', 'Expired'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export type Reservation = {
  node: string;
  gpus: number;
  payoutAddress?: string;
  /** When GPUs were re-placed here after a node loss (absent: from the start). */
  addedAt?: string;
  /** When the node was lost; hours after it are not charged. */
  lostAt?: string;
  /** When these GPUs were given back (the lease was pre-empted, or became a priced lease); hours after it are not charged. */
  releasedAt?: string;
  /** What this entry's GPU-hours cost, base units (a lease that ran on lent GPUs); absent: the lease's locked price. */
  pricePerGpuHour?: string;
};

export type ComputeLeaseSpec = {
  pool: string;
  gpus: number;
  duration: string;
  maxPrice: { total?: string; perGpuHour?: string };
  deadline?: string;
  /** If the price is above the limit, run on idle GPUs at the pool's floor until a priced lease needs them. */
  preemptible?: boolean;
  payer: { address: string; authorizationSecretRef: { name: string } };
};

export type ComputeLeaseStatus = {
  observedGeneration?: number;
  phase?: LeasePhase;
  quote?: { pricePerGpuHour: string; total: string; spotPrice: string; spotPriceAfter?: string; feeBps?: number; poolSequence?: number; quotedAt: string };
  reservation?: Reservation[];
  startTime?: string;
  endTime?: string;
  chain?: { leaseId?: string; openTx?: string; settleTx?: string; locked?: string };
  gpuSecondsDelivered?: number;
  /** Runs on lent GPUs at the floor (it may be pre-empted); false or absent once priced. */
  preemptible?: boolean;
  /** Seconds of the lease's duration run in segments that ended (pre-emptible leases). */
  secondsRun?: number;
  /** Times the lease was pre-empted. */
  preemptions?: number;
  /** When it was last pre-empted. */
  preemptedAt?: string;
  settlement?: { providers: { address: string; amount: string }[]; fee: string; refund: string };
  closeReason?: CloseReason;
  message?: string;
  conditions?: Condition[];
};

export type ComputeLease = KubeObject & { apiVersion?: string; kind?: string; spec: ComputeLeaseSpec; status?: ComputeLeaseStatus };

/** Phases in which a lease holds GPUs of its pool. */
export const HOLDING_PHASES: readonly LeasePhase[] = ['Reserved', 'Funded', 'Active', 'Ending'];

const NO_RESERVATIONS: readonly Reservation[] = [];

/**
 * The reservations a lease with this status holds: its reservation entries not given back
 * (`releasedAt`) while in a holding phase, else none.
 */
export function heldReservations(status: ComputeLeaseStatus | undefined): readonly Reservation[] {
  if (status?.phase === undefined || !HOLDING_PHASES.includes(status.phase)) return NO_RESERVATIONS;
  const all = status.reservation ?? NO_RESERVATIONS;
  return all.some((r) => r.releasedAt) ? all.filter((r) => !r.releasedAt) : all;
}
