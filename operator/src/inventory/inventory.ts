// A pool's GPU capacity from Node and Pod objects as the NVIDIA device plugin and GPU Feature
// Discovery publish them. Pure: the controller passes in what its informers hold.
//
//   N (allocatable) = Σ allocatable[resource] over Ready, schedulable member nodes
//   F (free)        = Σ max(0, allocatable − reserved by leases − requested by other pods)
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { LEASE_LABEL, PRODUCT_LABEL, REPLICAS_LABEL } from './labels.js';
import { podHoldsResources, podRequest, parseCount } from './quantity.js';
import { matchesSelector, type LabelSelector } from './selector.js';

export type PoolRef = {
  readonly name: string;
  readonly selector: LabelSelector;
  readonly resourceName: string;
  /** creationTimestamp in ms; the oldest pool matching a node owns it. */
  readonly createdAt: number;
};

export const EXCLUSION_REASONS = ['NotReady', 'Cordoned', 'NoResource', 'BadQuantity', 'SharedGpus', 'ClaimedByPool'] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

export type Exclusion = { readonly name: string; readonly reason: ExclusionReason; readonly message: string };

export type NodeCapacity = {
  readonly name: string;
  readonly capacity: number;
  readonly allocatable: number;
  readonly leased: number;
  readonly usedByOthers: number;
  readonly free: number;
  readonly product: string | undefined;
};

export type Inventory = {
  readonly members: readonly NodeCapacity[];
  readonly excluded: readonly Exclusion[];
  readonly capacity: number;
  readonly allocatable: number;
  readonly leased: number;
  readonly usedByOthers: number;
  readonly free: number;
  /** The members' GPU product, 'Mixed' when they differ, '' with no members. */
  readonly product: string;
};

export function nodeReady(node: V1Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Sorts pools oldest first (name breaks ties), the order in which they claim nodes. */
function byAge(a: PoolRef, b: PoolRef): number {
  return a.createdAt - b.createdAt || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** Which pool owns each node: the oldest pool whose selector matches it. A node is sold by one pool only. */
export function assignNodes(pools: readonly PoolRef[], nodes: readonly V1Node[]): Map<string, string> {
  const ordered = [...pools].sort(byAge);
  const owner = new Map<string, string>();
  for (const n of nodes) {
    const name = n.metadata?.name;
    if (!name) continue;
    const p = ordered.find((pool) => matchesSelector(pool.selector, n.metadata?.labels));
    if (p) owner.set(name, p.name);
  }
  return owner;
}

/** Why a matching node contributes nothing to `pool`, or undefined when it contributes. */
function exclusion(pool: PoolRef, node: V1Node, owner: string | undefined): Exclusion | undefined {
  const name = node.metadata?.name ?? '';
  if (owner !== undefined && owner !== pool.name) {
    return { name, reason: 'ClaimedByPool', message: `node also matches the older pool ${owner}, which sells its GPUs` };
  }
  if (!nodeReady(node)) return { name, reason: 'NotReady', message: 'node is not Ready' };
  if (node.spec?.unschedulable) return { name, reason: 'Cordoned', message: 'node is cordoned (unschedulable)' };
  const raw = node.status?.allocatable?.[pool.resourceName];
  if (raw === undefined) return { name, reason: 'NoResource', message: `node does not report ${pool.resourceName} in status.allocatable` };
  if (parseCount(raw) === undefined) {
    return { name, reason: 'BadQuantity', message: `allocatable ${pool.resourceName} is "${raw}", not a whole number of devices` };
  }
  const replicas = parseCount(node.metadata?.labels?.[REPLICAS_LABEL]);
  if (pool.resourceName === 'nvidia.com/gpu' && replicas !== undefined && replicas > 1) {
    return {
      name,
      reason: 'SharedGpus',
      message: `nvidia.com/gpu here is time-sliced (${replicas} replicas per GPU), not whole GPUs; sell it from a pool of nvidia.com/gpu.shared`,
    };
  }
  return undefined;
}

/**
 * The pool's inventory. `reserved` maps node name → GPUs held there by this pool's active leases;
 * `podsByNode` lists the pods bound to each node.
 */
export function poolInventory(
  pool: PoolRef,
  nodes: readonly V1Node[],
  owners: ReadonlyMap<string, string>,
  podsByNode: ReadonlyMap<string, readonly V1Pod[]>,
  reserved: ReadonlyMap<string, number>,
): Inventory {
  const members: NodeCapacity[] = [];
  const excluded: Exclusion[] = [];
  for (const node of nodes) {
    if (!matchesSelector(pool.selector, node.metadata?.labels)) continue;
    const name = node.metadata?.name ?? '';
    const why = exclusion(pool, node, owners.get(name));
    if (why) {
      excluded.push(why);
      continue;
    }
    const allocatable = parseCount(node.status?.allocatable?.[pool.resourceName]) ?? 0;
    const capacity = parseCount(node.status?.capacity?.[pool.resourceName]) ?? allocatable;
    const leased = reserved.get(name) ?? 0;
    const usedByOthers = (podsByNode.get(name) ?? [])
      .filter((p) => podHoldsResources(p) && p.metadata?.labels?.[LEASE_LABEL] === undefined)
      .reduce((s, p) => s + podRequest(p, pool.resourceName), 0);
    members.push({
      name,
      capacity,
      allocatable,
      leased,
      usedByOthers,
      free: Math.max(0, allocatable - leased - usedByOthers),
      product: node.metadata?.labels?.[PRODUCT_LABEL],
    });
  }
  members.sort((a, b) => (a.name < b.name ? -1 : 1));
  excluded.sort((a, b) => (a.name < b.name ? -1 : 1));
  const sum = (f: (n: NodeCapacity) => number) => members.reduce((s, n) => s + f(n), 0);
  const products = new Set(members.map((m) => m.product ?? ''));
  return {
    members,
    excluded,
    capacity: sum((n) => n.capacity),
    allocatable: sum((n) => n.allocatable),
    leased: sum((n) => n.leased),
    usedByOthers: sum((n) => n.usedByOthers),
    free: sum((n) => n.free),
    product: products.size === 0 ? '' : products.size === 1 ? [...products][0] ?? '' : 'Mixed',
  };
}
