// Pool nodes are off-limits to everything but lease pods: every member node of a GpuPool carries
// the taint pinfi.io/pool=<pool>:NoSchedule, which only the admission webhook's toleration (on
// pods of that pool's leases) tolerates. Pods of any scheduler, the default one included, then
// cannot take GPUs that are sold through leases. Membership is the pools' node selectors (the
// oldest matching pool owns a node, as in inventory/); the taint comes when a node joins a pool
// and goes when it leaves. NoSchedule, not NoExecute: pods already running when a node joins
// keep running (the pool counts their GPUs as used by others).
//
// The reconciler is keyed by node name. Node taints are an atomic list, so the write is a merge
// patch guarded by the resourceVersion read: a taint another controller added meanwhile (the
// node lifecycle controller's not-ready taints) is never overwritten; the write fails with 409
// and the reconcile retries from the fresh cache.
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { PatchStrategy } from '../kube/rest.js';
import type { ChangeEvent, ReconcileContext, ReconcileResult, Reconciler } from '../kube/controller.js';
import type { GpuPool } from '../api/types.js';
import type { EventRecorder } from '../kube/events.js';
import type { Informer } from '../kube/informer.js';
import { objectPath, RESOURCES } from '../kube/resources.js';
import type { RestClient } from '../kube/rest.js';
import { assignNodes } from '../inventory/inventory.js';
import { POOL_TAINT } from '../inventory/labels.js';
import { poolRef } from '../pools/reconciler.js';
import { poolTaint } from './names.js';

const sameTaint = (a: V1Taint, b: V1Taint): boolean => a.key === b.key && (a.value ?? '') === (b.value ?? '') && a.effect === b.effect;

/**
 * The node's taints with exactly one pool taint for `pool` (none when `pool` is undefined), other
 * taints kept in order; undefined when the node already has exactly that.
 */
export function desiredNodeTaints(node: V1Node, pool: string | undefined): V1Taint[] | undefined {
  const current = node.spec?.taints ?? [];
  const others = current.filter((t) => t.key !== POOL_TAINT);
  const ours = current.filter((t) => t.key === POOL_TAINT);
  const want = pool === undefined ? undefined : poolTaint(pool);
  if (want ? ours.length === 1 && sameTaint(ours[0] as V1Taint, want) : ours.length === 0) return undefined;
  return want ? [...others, want] : others;
}

/** Node events that can change pool membership or the taints (heartbeats and status do not). */
export function nodeMembershipChanged(ev: ChangeEvent<V1Node>): boolean {
  if (ev.type !== 'update' || ev.old === ev.obj) return true;
  const labels = (n: V1Node) => JSON.stringify(n.metadata?.labels ?? {});
  const taints = (n: V1Node) => JSON.stringify(n.spec?.taints ?? []);
  return labels(ev.old) !== labels(ev.obj) || taints(ev.old) !== taints(ev.obj);
}

export type PoolTaintDeps = {
  rest: RestClient;
  nodes: Informer<V1Node>;
  pools: Informer<GpuPool>;
  recorder?: EventRecorder;
};

/** Reconciles a node name: its pinfi.io/pool taint matches the pool that owns it. */
export function makePoolTaintReconciler(deps: PoolTaintDeps): Reconciler {
  return async function reconcilePoolTaint(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const node = deps.nodes.store.get(key);
    if (!node) return;
    const owner = assignNodes(deps.pools.store.list().map(poolRef), [node]).get(key);
    const taints = desiredNodeTaints(node, owner);
    if (!taints) return;
    try {
      await deps.rest.patch(
        objectPath(RESOURCES.nodes, node),
        { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints } },
        PatchStrategy.MergePatch,
      );
    } catch (err) {
      throw new Error(`set the ${POOL_TAINT} taint of node ${key}`, { cause: err });
    }
    ctx.logger.info(owner ? 'tainted pool node' : 'removed pool taint', { node: key, pool: owner });
    const ref = { apiVersion: 'v1', kind: 'Node', metadata: { ...node.metadata, namespace: undefined } };
    if (owner) deps.recorder?.normal(ref, 'PoolTainted', `node belongs to GpuPool ${owner}: tainted ${POOL_TAINT}=${owner}:NoSchedule, only that pool's lease pods may run here`, 'Taint');
    else deps.recorder?.normal(ref, 'PoolTaintRemoved', `node left its GpuPool: removed the ${POOL_TAINT} taint`, 'Taint');
  };
}
