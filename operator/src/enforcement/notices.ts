// Telling users why a GPU pod stays Pending: kube-scheduler's own message for a pool node is
// "node(s) had untolerated taint(s)", which does not say that the GPUs are sold through leases.
// For a pod without a pinfi.io/lease label that asks for a resource some GpuPool sells and that
// the scheduler found unschedulable because of taints, this records a Warning event on the pod
// naming the pools and what to do. Events only: the pod is not changed.
import type { V1Pod } from '@kubernetes/client-node';
import type { GpuPool } from '../api/types.js';
import type { ChangeEvent, ReconcileResult, Reconciler } from '../kube/controller.js';
import type { EventRecorder } from '../kube/events.js';
import type { Informer } from '../kube/informer.js';
import { LEASE_LABEL, POOL_TAINT } from '../inventory/labels.js';
import { podRequest } from '../inventory/quantity.js';
import { podRef } from './names.js';

/** The scheduler gave up on the pod for now because of taints (among other reasons). */
function unschedulableByTaints(pod: V1Pod): boolean {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c?.status === 'False' && c.reason === 'Unschedulable' && /untolerated taint/.test(c.message ?? '');
}

/** Cheap pre-check for the controller's predicate: unbound, no lease label, unschedulable by taints. */
export function mayNeedPoolNotice(ev: ChangeEvent<V1Pod>): boolean {
  const p = ev.obj;
  return ev.type !== 'delete' && !p.spec?.nodeName && p.metadata?.labels?.[LEASE_LABEL] === undefined && unschedulableByTaints(p);
}

/** The notice for `pod`, or undefined when it needs none. Pure. */
export function poolNotice(pod: V1Pod, pools: readonly GpuPool[]): string | undefined {
  if (pod.spec?.nodeName || pod.metadata?.labels?.[LEASE_LABEL] !== undefined || !unschedulableByTaints(pod)) return undefined;
  const selling = pools.filter((p) => podRequest(pod, p.spec.resourceName ?? 'nvidia.com/gpu') > 0).map((p) => p.metadata?.name ?? '');
  if (selling.length === 0) return undefined;
  const names = selling.sort().join(', ');
  return (
    `the GPUs of GpuPool ${names} are sold through ComputeLeases and their nodes carry the ${POOL_TAINT} taint; ` +
    `this pod has no ${LEASE_LABEL} label, so it can only use GPUs outside the pools. ` +
    `To use pool GPUs, create a ComputeLease in namespace ${pod.metadata?.namespace} and label the pod ${LEASE_LABEL}=<lease name>`
  );
}

export function makePoolNoticeReconciler(deps: { pods: Informer<V1Pod>; pools: Informer<GpuPool>; recorder: EventRecorder }): Reconciler {
  return async function reconcilePoolNotice(key: string): Promise<ReconcileResult> {
    const pod = deps.pods.store.get(key);
    if (!pod) return;
    const note = poolNotice(pod, deps.pools.store.list());
    if (note) deps.recorder.warning(podRef(pod), 'PoolNodesNeedLease', note, 'Schedule');
  };
}
