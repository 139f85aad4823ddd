// The GpuPool reconciler: keeps each pool's status true to its nodes and its price durable.
//
// Level-triggered: every call re-reads the pool, the nodes, the pods and the leases from the
// informer caches and converges. Status-write policy (a write per pool per price tick would be
// a storm at 1,000 nodes): a change in capacity, membership, conditions or spec is written at
// once together with a checkpoint of the pricing state; the price's slow drift between events
// is written at most once per `priceRefreshMs`. The pricing state (K and its instant) is
// persisted in status.pricing, so a restart continues from it instead of resetting prices.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { GPU_POOLS } from '../api/resources.js';
import { HOLDING_PHASES, heldReservations, type ComputeLease, type GpuPool } from '../api/types.js';
import type { Clock } from '../kube/clock.js';
import type { ReconcileContext, ReconcileResult } from '../kube/controller.js';
import type { EventRecorder } from '../kube/events.js';
import type { Informer } from '../kube/informer.js';
import type { RestClient } from '../kube/rest.js';
import { statusEqual, updateStatus } from '../kube/status.js';
import { addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { assignNodes, poolInventory, type PoolRef } from '../inventory/inventory.js';
import type { MarketView } from './market-view.js';
import { forgetPool, type PoolMetrics } from './metrics.js';
import { priceNow, utilization } from './pricing.js';
import { desiredPoolStatus, structural } from './status.js';

/** Keeps a pool while leases hold its GPUs: deleting a pool lets its leases run out and settle. */
export const POOL_FINALIZER = 'pinfi.io/active-leases';
export const PODS_BY_NODE = 'byNode';
export const LEASES_BY_POOL = 'byPool';

export type PoolReconcilerDeps = {
  rest: RestClient;
  pools: Informer<GpuPool>;
  nodes: Informer<V1Node>;
  /** Indexed by PODS_BY_NODE (spec.nodeName). */
  pods: Informer<V1Pod>;
  /** Indexed by LEASES_BY_POOL (spec.pool). */
  leases: Informer<ComputeLease>;
  market: MarketView;
  recorder: EventRecorder;
  metrics: PoolMetrics;
  clock: Clock;
  /** Longest time the price's drift goes unwritten. Default 60 s. */
  priceRefreshMs?: number;
  /**
   * Shortest time between two status writes of one pool. A burst of leases changes a pool's free
   * GPUs with every reservation; the in-memory market (what quotes and placements read) follows
   * each one at once, while status (and the CapacityChanged event) catches up at most this often.
   * Default 1 s.
   */
  minWriteIntervalMs?: number;
};

export function poolRef(p: GpuPool): PoolRef {
  const created = p.metadata?.creationTimestamp;
  return {
    name: p.metadata?.name ?? '',
    selector: p.spec.nodeSelector,
    resourceName: p.spec.resourceName ?? 'nvidia.com/gpu',
    createdAt: created ? new Date(created).getTime() : 0,
  };
}

/**
 * GPUs per node held by the pool's priced leases (a lost node's share is not held). GPUs lent to
 * pre-emptible leases are not: the curve sees them as free, since a priced lease may take them.
 */
export function reservedByNode(leases: readonly ComputeLease[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of leases) {
    if (l.status?.preemptible) continue;
    for (const r of heldReservations(l.status)) {
      if (r.lostAt) continue;
      out.set(r.node, (out.get(r.node) ?? 0) + r.gpus);
    }
  }
  return out;
}

/** GPUs the pool's pre-emptible leases hold on lent GPUs (nodes not lost). */
export function lentGpus(leases: readonly ComputeLease[]): number {
  let n = 0;
  for (const l of leases) if (l.status?.preemptible) for (const r of heldReservations(l.status)) if (!r.lostAt) n += r.gpus;
  return n;
}

export function makePoolReconciler(deps: PoolReconcilerDeps) {
  const refreshMs = deps.priceRefreshMs ?? 60_000;
  const minWriteMs = deps.minWriteIntervalMs ?? 1_000;
  const lastWrite = new Map<string, number>();
  return async function reconcilePool(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const pool = deps.pools.store.get(key);
    if (!pool) {
      lastWrite.delete(key);
      deps.market.delete(key);
      forgetPool(deps.metrics, key);
      return;
    }
    // Pre-empted leases hold no GPUs but have escrow to settle: the pool waits for them too.
    const holding = deps.leases.store.byIndex(LEASES_BY_POOL, key).filter((l) => l.status?.phase && (HOLDING_PHASES.includes(l.status.phase) || l.status.phase === 'Preempted'));
    if (isDeleting(pool)) {
      if (holding.length === 0) {
        if (hasFinalizer(pool, POOL_FINALIZER)) await removeFinalizer(deps.rest, GPU_POOLS, pool, POOL_FINALIZER);
        deps.market.delete(key);
        forgetPool(deps.metrics, key);
        return;
      }
      // Keep pricing and serving the leases it has until they settle; it takes no new ones.
    } else if (!hasFinalizer(pool, POOL_FINALIZER)) {
      await addFinalizer(deps.rest, GPU_POOLS, pool, POOL_FINALIZER);
      return; // the update event brings us back with the new resourceVersion
    }
    const nowMs = deps.clock.now();
    const nowSec = Math.floor(nowMs / 1000);
    const nodes = deps.nodes.store.list();
    const owners = assignNodes(deps.pools.store.list().map(poolRef), nodes);
    const ref = poolRef(pool);
    const podsByNode = new Map<string, V1Pod[]>();
    for (const n of nodes) {
      const name = n.metadata?.name ?? '';
      if (owners.get(name) === ref.name) podsByNode.set(name, deps.pods.store.byIndex(PODS_BY_NODE, name));
    }
    const poolLeases = deps.leases.store.byIndex(LEASES_BY_POOL, ref.name);
    const inv = poolInventory(ref, nodes, owners, podsByNode, reservedByNode(poolLeases));
    const priced = priceNow(pool, { allocatable: inv.allocatable, free: inv.free }, nowSec);

    const old = pool.status;
    const sequence = (old?.pricing?.sequence ?? 0) + (priced.capacityChanged ? 1 : 0);
    const desired = desiredPoolStatus(pool, inv, priced, sequence, nowMs, isDeleting(pool) ? holding.length : undefined);
    const lent = lentGpus(poolLeases);
    if (lent > 0 || pool.spec.leases?.lendIdleGpus) desired.lent = lent;
    const structuralChange = !statusEqual(structural(old), structural(desired)) || priced.capacityChanged;
    const lastPricedMs = (old?.pricing?.at ?? 0) * 1000;
    const drifted = old?.spotPrice !== desired.spotPrice && nowMs - lastPricedMs >= refreshMs;

    deps.market.set({
      name: ref.name,
      params: priced.params,
      state: priced.state,
      inventory: inv,
      token: pool.spec.pricing.token,
      treasury: pool.spec.pricing.treasury,
      resourceName: ref.resourceName,
    });
    const m = deps.metrics;
    m.spotPrice.set({ pool: ref.name }, Number(priced.spot));
    m.utilization.set({ pool: ref.name }, Number(utilization(priced.state)));
    m.free.set({ pool: ref.name }, inv.free);
    m.allocatable.set({ pool: ref.name }, inv.allocatable);
    m.leased.set({ pool: ref.name }, inv.leased);
    m.lent.set({ pool: ref.name }, lent);

    if (structuralChange || drifted) {
      const since = nowMs - (lastWrite.get(key) ?? Number.NEGATIVE_INFINITY);
      if (since < minWriteMs) return { requeueAfterMs: minWriteMs - since };
      lastWrite.set(key, nowMs);
      await updateStatus(deps.rest, GPU_POOLS, pool, desired, { fieldManager: 'pinfi-operator' });
      m.statusWrites.inc({ kind: 'GpuPool' });
      if (priced.capacityChanged && old?.pricing) {
        deps.recorder.normal(
          pool,
          'CapacityChanged',
          `allocatable ${old.allocatable ?? 0}→${inv.allocatable}, free ${old.free ?? 0}→${inv.free}; spot price ${old.spotPrice ?? '?'}→${desired.spotPrice}`,
        );
      }
      const wasReady = old?.conditions?.find((c) => c.type === 'Ready');
      const ready = desired.conditions?.find((c) => c.type === 'Ready');
      if (ready && wasReady?.status !== ready.status) {
        if (ready.status === 'True') deps.recorder.normal(pool, 'Ready', ready.message);
        else deps.recorder.warning(pool, ready.reason, ready.message);
      }
      ctx.logger.debug('pool status written', { allocatable: inv.allocatable, free: inv.free, spot: desired.spotPrice, structural: structuralChange });
    }
    return { requeueAfterMs: refreshMs };
  };
}
