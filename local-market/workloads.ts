// The demo leases' workloads, kept the way a Job controller keeps its pods: every lease that is
// not over has one pod. A pre-empted lease's pod is evicted by the operator; it comes back here
// at once, gated by the admission webhook, and runs again when the lease resumes.
import type { ComputeLease, LeasePhase } from '../operator/src/api/types.js';

/** Phases in which a lease's workload should exist (the others are ending or over). */
const WANTS_A_POD: ReadonlySet<LeasePhase> = new Set(['Pending', 'Waiting', 'Quoted', 'Reserved', 'Funded', 'Active', 'Preempted']);

/** The leases that want a pod and have none: `podsOf` gives the lease names of the pods that exist in each namespace. */
export function leasesMissingPods(leases: readonly ComputeLease[], podsOf: (namespace: string) => ReadonlySet<string>): ComputeLease[] {
  return leases.filter((l) => {
    if (l.metadata?.deletionTimestamp || !l.metadata?.uid) return false;
    if (!WANTS_A_POD.has(l.status?.phase ?? 'Pending')) return false;
    return !podsOf(l.metadata.namespace ?? '').has(l.metadata.name ?? '');
  });
}
