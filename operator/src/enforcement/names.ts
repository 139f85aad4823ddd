// What the scheduler extension, the admission webhook and the operator agree on: the scheduler
// profile, the scheduling gate, the pool taint and its toleration, and how a pod names its lease.
import type { V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
import { API_VERSION } from '../api/types.js';
import { LEASE_LABEL, POOL_TAINT } from '../inventory/labels.js';
import type { KubeObject } from '../kube/resources.js';

/** The kube-scheduler profile (`schedulerName`) that places lease pods. */
export const SCHEDULER_NAME = 'pinfi';

/** The scheduling gate that holds a lease's pods until the lease is Active. */
export const LEASE_GATE = 'pinfi.io/lease-active';

/** Index name for pods by lease key (`namespace/lease`). */
export const PODS_BY_LEASE = 'byLease';

/** The taint every member node of pool `pool` carries: only that pool's lease pods tolerate it. */
export function poolTaint(pool: string): V1Taint {
  return { key: POOL_TAINT, value: pool, effect: 'NoSchedule' };
}

/** The toleration the admission webhook gives a lease pod of pool `pool`. */
export function poolToleration(pool: string): V1Toleration {
  return { key: POOL_TAINT, operator: 'Equal', value: pool, effect: 'NoSchedule' };
}

/** `namespace/lease` of the lease a pod names with the pinfi.io/lease label, or undefined. */
export function podLeaseKey(pod: { metadata?: { namespace?: string; labels?: Record<string, string> } }): string | undefined {
  const lease = pod.metadata?.labels?.[LEASE_LABEL];
  const ns = pod.metadata?.namespace;
  return lease === undefined || lease === '' || !ns ? undefined : `${ns}/${lease}`;
}

/** Index function: pods by the lease they name. */
export function podsByLease(pod: V1Pod): string[] {
  const k = podLeaseKey(pod);
  return k ? [k] : [];
}

export function hasLeaseGate(pod: V1Pod): boolean {
  return (pod.spec?.schedulingGates ?? []).some((g) => g.name === LEASE_GATE);
}

/**
 * The object with apiVersion and kind set, for event references: list items from the API server
 * (and so informer caches) carry no kind for built-in types, and `kubectl describe` finds events
 * by the kind of the object they regard.
 */
export function podRef(pod: KubeObject): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata ?? {} };
}

export function leaseRef(lease: KubeObject): KubeObject {
  return { apiVersion: API_VERSION, kind: 'ComputeLease', metadata: lease.metadata ?? {} };
}
