// Releasing a lease's pods: the admission webhook holds pods of a lease that is not Active yet
// behind the scheduling gate pinfi.io/lease-active (so they do not spin in kube-scheduler's
// retry loop); when the lease turns Active the gate comes off and kube-scheduler places them at
// once. In the same update the pod gets the node affinity of the lease's reserved nodes
// (affinity.ts; a gated pod's node affinity may still be narrowed). `makeGateReconciler` does
// this level-triggered per lease: a pod admitted with the gate just as its lease turned Active is
// released by the next pod event, not forgotten.
import type { V1Pod } from '@kubernetes/client-node';
import { PatchStrategy } from '../kube/rest.js';
import type { ComputeLease } from '../api/types.js';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../kube/controller.js';
import { apiCode } from '../kube/errors.js';
import type { EventRecorder } from '../kube/events.js';
import type { Informer } from '../kube/informer.js';
import { objectPath, RESOURCES } from '../kube/resources.js';
import type { RestClient } from '../kube/rest.js';
import { reservationAffinityPatch, reservedNodes, type JsonPatchOp } from './affinity.js';
import { forEachLimited, throwIfAny } from './concurrency.js';
import { LEASE_GATE, PODS_BY_LEASE, hasLeaseGate, leaseRef, podRef } from './names.js';

/** The JSON patch that removes the lease gate from `pod` (guarded by a test of its position), or undefined. */
/**
 * The JSON patch that removes the lease gate from `pod` (guarded by a test of its position) and
 * pins the pod to `nodes`, or undefined when the pod has no lease gate. When pinning rewrites
 * an affinity the pod already has, the patch is also guarded by the resourceVersion it was
 * computed from (a pod without affinity needs no such guard, so a status update in between
 * does not cost a re-read).
 */
export function gateRemovalPatch(pod: V1Pod, nodes: readonly string[] = []): JsonPatchOp[] | undefined {
  const i = (pod.spec?.schedulingGates ?? []).findIndex((g) => g.name === LEASE_GATE);
  if (i < 0) return undefined;
  // A gated pod's own node affinity terms may only gain requirements: no rewrite.
  const affinity = reservationAffinityPatch(pod.spec, nodes, false);
  const rv = pod.metadata?.resourceVersion;
  const rewrites = affinity.length > 0 && pod.spec?.affinity !== undefined;
  return [
    ...(rewrites && rv ? [{ op: 'test' as const, path: '/metadata/resourceVersion', value: rv }] : []),
    { op: 'test', path: `/spec/schedulingGates/${i}/name`, value: LEASE_GATE },
    { op: 'remove', path: `/spec/schedulingGates/${i}` },
    ...affinity,
  ];
}

async function removeGate(rest: RestClient, pod: V1Pod, nodes: readonly string[]): Promise<boolean> {
  let current: V1Pod | undefined = pod;
  for (let attempt = 0; attempt < 4 && current; attempt++) {
    // The last try releases the pod without pinning it: should the API server refuse the
    // affinity (422), the pod must still start; the extender keeps it in the reservation.
    const patch = gateRemovalPatch(current, attempt < 3 ? nodes : []);
    if (!patch) return false;
    try {
      await rest.patch(objectPath(RESOURCES.pods, current), patch, PatchStrategy.JsonPatch);
      return true;
    } catch (err) {
      const code = apiCode(err);
      if (code === 404) return false;
      // The gates moved (another controller changed them): re-read and try again.
      if (code !== 409 && code !== 422 && code !== 500) throw new Error(`remove gate ${LEASE_GATE} from pod ${current.metadata?.namespace}/${current.metadata?.name}`, { cause: err });
      try {
        current = await rest.get<V1Pod>(objectPath(RESOURCES.pods, current));
      } catch (e) {
        if (apiCode(e) === 404) return false;
        throw e;
      }
    }
  }
  throw new Error(`remove gate ${LEASE_GATE} from pod ${pod.metadata?.namespace}/${pod.metadata?.name}: the pod kept changing`);
}

/**
 * Removes the pinfi.io/lease-active gate from each pod that has it (other gates stay) and pins
 * the pods to `reservedNodes` (the lease's, see affinity.ts; none pins nothing). Returns the
 * `namespace/name` of the pods released; throws after trying all of them if any failed.
 */
export async function removeSchedulingGates(
  rest: RestClient,
  pods: readonly V1Pod[],
  opts: { reservedNodes?: readonly string[]; concurrency?: number } = {},
): Promise<string[]> {
  const released: string[] = [];
  const errors = await forEachLimited(pods.filter(hasLeaseGate), opts.concurrency ?? 32, async (p) => {
    if (await removeGate(rest, p, opts.reservedNodes ?? [])) released.push(`${p.metadata?.namespace}/${p.metadata?.name}`);
  });
  throwIfAny(errors, 'removing scheduling gates');
  return released;
}

export type GateReconcilerDeps = {
  rest: RestClient;
  leases: Informer<ComputeLease>;
  /** Indexed by PODS_BY_LEASE (names.ts podsByLease). */
  pods: Informer<V1Pod>;
  recorder?: EventRecorder;
};

/**
 * Why the gated pods of `lease` will never start, or undefined while they still may: a lease that
 * failed or expired before it was Active, or one already over, releases nothing. Pure.
 */
export function strandedPodNotice(lease: ComputeLease): string | undefined {
  const phase = lease.status?.phase;
  const name = `${lease.metadata?.namespace}/${lease.metadata?.name}`;
  if (phase === 'Failed' || phase === 'Expired') {
    return `ComputeLease ${name} is ${phase}${lease.status?.message ? ` (${lease.status.message})` : ''}: it will never be Active, so this pod stays gated; delete it, or label it with an Active lease`;
  }
  if (phase === 'Ending' || phase === 'Settled') return `ComputeLease ${name} is over (${phase}): this pod stays gated; delete it, or label it with an Active lease`;
  return undefined;
}

/** Reconciles a lease key: when the lease is Active, its gated pods are released. */
export function makeGateReconciler(deps: GateReconcilerDeps): Reconciler {
  return async function reconcileGates(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const lease = deps.leases.store.get(key);
    if (!lease) return;
    const stranded = strandedPodNotice(lease);
    if (stranded) {
      // Events only (deduplicated by the recorder): deleting a user's pods is theirs to decide.
      for (const p of deps.pods.store.byIndex(PODS_BY_LEASE, key).filter(hasLeaseGate)) deps.recorder?.warning(podRef(p), 'LeaseNotActive', stranded, 'Schedule');
      return;
    }
    if (lease.status?.phase !== 'Active') return;
    const gated = deps.pods.store.byIndex(PODS_BY_LEASE, key).filter(hasLeaseGate);
    if (gated.length === 0) return;
    const released = await removeSchedulingGates(deps.rest, gated, { reservedNodes: reservedNodes(lease) });
    if (released.length > 0) {
      ctx.logger.info('released pods of an Active lease', { pods: released.length });
      deps.recorder?.normal(leaseRef(lease), 'PodsReleased', `lease is Active: removed scheduling gate ${LEASE_GATE} from ${released.length} pod(s)`, 'ReleasePods');
    }
  };
}
