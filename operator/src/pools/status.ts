// The desired status of a GpuPool: a pure function of the pool, its inventory and its price.
import type { GpuPool, GpuPoolStatus } from '../api/types.js';
import { setCondition, type Condition } from '../kube/conditions.js';
import type { Inventory } from '../inventory/inventory.js';
import { pricingStatus, utilization, type Priced } from './pricing.js';

/** Conditions of a pool: Ready says whether it can sell anything now, and why not. */
export function poolConditions(pool: GpuPool, inv: Inventory, nowMs: number): Condition[] {
  const gen = pool.metadata?.generation;
  const resource = pool.spec.resourceName ?? 'nvidia.com/gpu';
  let ready: Omit<Condition, 'lastTransitionTime'>;
  if (inv.members.length === 0) {
    const excluded = inv.excluded.length;
    ready = {
      type: 'Ready',
      status: 'False',
      reason: excluded > 0 ? 'NoUsableNodes' : 'NoMatchingNodes',
      message:
        excluded > 0
          ? `${excluded} node(s) match the selector but none contributes: ${inv.excluded.slice(0, 3).map((e) => `${e.name}: ${e.message}`).join('; ')}`
          : `no node matches the selector with ${resource} in status.allocatable`,
    };
  } else if (inv.allocatable === 0) {
    ready = { type: 'Ready', status: 'False', reason: 'NoAllocatableGpus', message: `member nodes report 0 allocatable ${resource}` };
  } else {
    ready = { type: 'Ready', status: 'True', reason: 'Pricing', message: `${inv.allocatable} ${resource} on ${inv.members.length} node(s), ${inv.free} free` };
  }
  const input = gen === undefined ? ready : { ...ready, observedGeneration: gen };
  return setCondition(pool.status?.conditions, input, nowMs);
}

/** The full desired status; `sequence` counts checkpoints of the pricing state. */
export function desiredPoolStatus(pool: GpuPool, inv: Inventory, priced: Priced, sequence: number, nowMs: number, terminatingWith?: number): GpuPoolStatus {
  let conditions = poolConditions(pool, inv, nowMs);
  if (terminatingWith !== undefined) {
    const gen = pool.metadata?.generation;
    const c = { type: 'Terminating', status: 'True' as const, reason: 'WaitingForLeases', message: `deletion waits for ${terminatingWith} lease(s) holding GPUs to end and settle; no new leases are accepted` };
    conditions = setCondition(conditions, gen === undefined ? c : { ...c, observedGeneration: gen }, nowMs);
  }
  const status: GpuPoolStatus = {
    product: inv.product,
    nodeCount: inv.members.length,
    capacity: inv.capacity,
    allocatable: inv.allocatable,
    free: inv.free,
    leased: inv.leased,
    usedByOthers: inv.usedByOthers,
    utilization: utilization(priced.state),
    spotPrice: priced.spot.toString(),
    pricing: pricingStatus(priced.state, priced.params, sequence),
    excludedNodes: inv.excluded.slice(0, 100).map((e) => ({ name: e.name, reason: e.reason })),
    conditions,
  };
  if (pool.metadata?.generation !== undefined) status.observedGeneration = pool.metadata.generation;
  return status;
}

/** The status fields that are not the price's drift over time: a change in any of them is written at once. */
export function structural(s: GpuPoolStatus | undefined): unknown {
  if (!s) return undefined;
  const { spotPrice: _s, pricing, ...rest } = s;
  return { ...rest, depth: pricing?.depth };
}
