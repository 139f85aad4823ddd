// Lease end: once `status.endTime + grace` has passed, the lease's pods are evicted through the
// Eviction API, which honours PodDisruptionBudgets. An eviction a budget keeps refusing (429) is
// retried every few seconds; after `evictionTimeout` more the pod is deleted, because the GPUs
// are sold to someone else from then on. An Event goes on the lease and on every pod.
//
// Only the clock and `status.endTime` decide: nothing here reads the chain, so RPC trouble, a
// failed settlement or a lease stuck in Ending never evicts a pod early. A lease without endTime
// (never Active) is left alone, and so are pods naming a lease that does not exist. Pre-emption
// (docs/leases.md, "Pre-emptible leases") is the one exception to the grace period: a lease
// pre-empted from lent GPUs has its pods evicted at once, since a priced lease holds the GPUs
// from then on, and so are the pods of a lease that resumed elsewhere still bound to a node it
// gave back.
import type { V1Pod } from '@kubernetes/client-node';
import type { ComputeLease } from '../api/types.js';
import type { Clock } from '../kube/clock.js';
import { rfc3339 } from '../kube/clock.js';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../kube/controller.js';
import { apiCode } from '../kube/errors.js';
import type { EventRecorder } from '../kube/events.js';
import type { Informer } from '../kube/informer.js';
import { objectPath, RESOURCES } from '../kube/resources.js';
import type { RestClient } from '../kube/rest.js';
import { reservedNodes } from './affinity.js';
import { forEachLimited, throwIfAny } from './concurrency.js';
import { PODS_BY_LEASE, leaseRef, podRef } from './names.js';

export type LeaseEndOptions = {
  /** Time after endTime before pods are evicted. */
  graceMs: number;
  /** Time eviction may be refused (PodDisruptionBudget) before the pod is deleted instead. */
  evictionTimeoutMs: number;
  /** Retry period while evictions are refused. Default 5 s. */
  retryMs?: number;
};

/** When the lease's pods are due for eviction (ms since the epoch), or undefined (no end yet). */
export function evictionDue(lease: ComputeLease, graceMs: number): number | undefined {
  const end = lease.status?.endTime ? Date.parse(lease.status.endTime) : NaN;
  if (lease.status?.phase === 'Preempted' && Number.isFinite(end)) return end;
  return Number.isFinite(end) ? end + graceMs : undefined;
}

/** The lease's pods bound to nodes it gave back (a pre-emption) and holds no more; none for other leases. */
export function strayPods(lease: ComputeLease, pods: readonly V1Pod[]): V1Pod[] {
  const given = (lease.status?.reservation ?? []).filter((r) => r.releasedAt).map((r) => r.node);
  if (given.length === 0) return [];
  const held = new Set(reservedNodes(lease));
  const back = new Set(given.filter((n) => !held.has(n)));
  return pods.filter((p) => p.spec?.nodeName !== undefined && back.has(p.spec.nodeName));
}

/** Pods that still run or may run: not finished and not already being deleted. */
function live(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

function seconds(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;
}

type Outcome = 'evicted' | 'gone' | 'blocked' | 'deleted';

async function evict(rest: RestClient, pod: V1Pod): Promise<'evicted' | 'gone' | 'blocked'> {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  try {
    await rest.request({
      method: 'POST',
      path: objectPath(RESOURCES.pods, pod, 'eviction'),
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace: ns },
        // Only this pod: a pod recreated under the same name is not evicted by a stale decision.
        deleteOptions: pod.metadata?.uid ? { preconditions: { uid: pod.metadata.uid } } : {},
      },
    });
    return 'evicted';
  } catch (err) {
    const code = apiCode(err);
    if (code === 404 || code === 409) return 'gone'; // 409: the uid precondition failed, a new pod
    // 429: a PodDisruptionBudget refuses now. 500 "more than one PodDisruptionBudget" is a
    // misconfiguration that only deletion gets past: treat it as refused too.
    if (code === 429 || code === 500) return 'blocked';
    throw new Error(`evict pod ${ns}/${name}`, { cause: err });
  }
}

async function remove(rest: RestClient, pod: V1Pod): Promise<'deleted' | 'gone'> {
  try {
    await rest.request({
      method: 'DELETE',
      path: objectPath(RESOURCES.pods, pod),
      body: pod.metadata?.uid ? { preconditions: { uid: pod.metadata.uid } } : {},
    });
    return 'deleted';
  } catch (err) {
    const code = apiCode(err);
    if (code === 404 || code === 409) return 'gone';
    throw new Error(`delete pod ${pod.metadata?.namespace}/${pod.metadata?.name}`, { cause: err });
  }
}

export type LeaseEndDeps = LeaseEndOptions & {
  rest: RestClient;
  leases: Informer<ComputeLease>;
  /** Indexed by PODS_BY_LEASE. */
  pods: Informer<V1Pod>;
  recorder: EventRecorder;
  clock: Clock;
  concurrency?: number;
};

/** Reconciles a lease key: waits for endTime + grace, then evicts (or finally deletes) the lease's pods. */
export function makeLeaseEndReconciler(deps: LeaseEndDeps): Reconciler {
  const retryMs = deps.retryMs ?? 5_000;
  return async function reconcileLeaseEnd(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const lease = deps.leases.store.get(key);
    if (!lease) return;
    const due = evictionDue(lease, deps.graceMs);
    if (due === undefined) return;
    const now = deps.clock.now();
    const preempted = lease.status?.phase === 'Preempted';
    let pods = deps.pods.store.byIndex(PODS_BY_LEASE, key).filter(live);
    let at = due;
    if (now < due) {
      // Still running: only pods left on GPUs it gave back go, at once.
      pods = strayPods(lease, pods);
      if (pods.length === 0) return { requeueAfterMs: due - now };
      at = now;
    }
    if (pods.length === 0) return;

    const end = lease.status?.endTime ?? '';
    const deleteAt = at + deps.evictionTimeoutMs;
    // Pre-empted now, or pods left on GPUs it gave back: no grace period, and the events say why.
    const byPreemption = preempted || at !== due;
    const why = byPreemption ? `lease was pre-empted from lent GPUs at ${lease.status?.preemptedAt ?? end}` : `lease ended at ${end}`;
    deps.recorder.normal(
      leaseRef(lease),
      'EvictingPods',
      byPreemption ? `${why}: its ${pods.length} pod(s) on the GPUs it gave back are evicted now` : `${why}; after the ${seconds(deps.graceMs)} grace period its ${pods.length} remaining pod(s) are evicted`,
      'Evict',
    );
    const outcomes: Outcome[] = [];
    const errors = await forEachLimited(pods, deps.concurrency ?? 16, async (pod) => {
      let o: Outcome = await evict(deps.rest, pod);
      if (o === 'blocked' && now >= deleteAt) o = await remove(deps.rest, pod);
      outcomes.push(o);
      const ref = podRef(pod);
      if (o === 'evicted') {
        if (byPreemption) deps.recorder.normal(ref, 'LeasePreempted', `ComputeLease ${key}: ${why}; pod evicted (its job resumes when the lease does)`, 'Evict');
        else deps.recorder.normal(ref, 'LeaseEnded', `ComputeLease ${key} ended at ${end}: pod evicted after the ${seconds(deps.graceMs)} grace period`, 'Evict');
      } else if (o === 'deleted') {
        deps.recorder.warning(
          ref,
          'LeaseEnded',
          `ComputeLease ${key} ended at ${end}: eviction was refused (PodDisruptionBudget) for ${seconds(deps.evictionTimeoutMs)}, so the pod was deleted`,
          'Delete',
        );
      } else if (o === 'blocked') {
        deps.recorder.warning(
          ref,
          'EvictionBlocked',
          `ComputeLease ${key} ended at ${end}: a PodDisruptionBudget refuses eviction; the pod is deleted at ${rfc3339(deleteAt)} if still refused`,
          'Evict',
        );
      }
    });
    const blocked = outcomes.filter((o) => o === 'blocked').length;
    ctx.logger.info('lease end: pods processed', {
      evicted: outcomes.filter((o) => o === 'evicted').length,
      deleted: outcomes.filter((o) => o === 'deleted').length,
      blocked,
      errors: errors.length,
    });
    throwIfAny(errors, `evicting the pods of lease ${key}`);
    if (blocked > 0) return { requeueAfterMs: Math.max(1, Math.min(retryMs, deleteAt - deps.clock.now())) };
  };
}
