// The extender's decisions: pure functions of the pod, the candidate node names and a read-only
// view of the caches (leases, pools, GPUs in use per lease and node).
//
// Filter. A pod without the pinfi.io/lease label passes through untouched: the pool taint keeps
// it off pool nodes. A lease pod fits only nodes of its own lease's reservation (same
// namespace), only while the lease is Active, and only where the reservation still has room for
// it counting the lease's pods already there. Of the nodes that fit, the extender keeps the one
// with the most reserved-but-unused units and sends the pod there: answering with one node lets
// the extender count the pod against that node at once (usage.ts), so the next pod of the lease,
// scheduled before this one's binding is visible, cannot overfill the reservation; it also
// spares the scheduler its scoring step. When no node fits, every node gets a reason (when one
// does, nodes outside the reservation are left out of the answer: see filterNodes). Lease reasons are
// FailedAndUnresolvable (preempting other pods would not help), and reasons that do not depend
// on the node are worded without it so kube-scheduler's event aggregates them
// ("1210 node is not part of lease team-a/train's reservation"). Lease pods normally arrive
// pinned to their reserved nodes by node affinity (operator/src/enforcement/affinity.ts), so the
// scheduler sends only those; the filter does not rely on it.
//
// Prioritize (optional: the filter already chooses): reserved nodes score by unused units.
import type { ComputeLease, LeasePhase } from '../operator/src/api/types.js';
import { MAX_EXTENDER_PRIORITY, type ExtenderFilterResult, type FailedNodesMap, type FilterInput, type HostPriorityList, type PodFacts } from './protocol.js';

/** Read-only state the decisions are made from (informer caches in production, plain data in tests). */
export interface SchedulingView {
  /** The lease `name` in `namespace`, as cached. */
  lease(namespace: string, name: string): ComputeLease | undefined;
  /** The extended resource pool `pool` sells (its spec.resourceName; nvidia.com/gpu by default). */
  resourceOf(pool: string): string;
  /** Units of `resource` that the pods of lease `leaseKey` (`ns/name`) hold or are about to hold on `node`. */
  used(leaseKey: string, node: string, resource: string): number;
  /** Milliseconds since the epoch. */
  now(): number;
}

export type Placement = { readonly lease: string; readonly node: string; readonly requests: ReadonlyMap<string, number> };

/** Nodes refused for the same reason (most nodes share one: they are not in the reservation). */
export type ReasonGroup = { readonly reason: string; readonly nodes: readonly string[] };

/**
 * A filter answer in grouped form (encoded straight to the protocol's JSON by encodeFilterResult,
 * or to an ExtenderFilterResult object by toFilterResult).
 */
export type FilterDecision = {
  readonly nodeNames: readonly string[];
  /** FailedNodes: fit, but the pod goes elsewhere. */
  readonly failed: readonly ReasonGroup[];
  /** FailedAndUnresolvableNodes: no preemption can change it. */
  readonly unresolvable: readonly ReasonGroup[];
  /** Set when a lease pod was sent to one node (the caller records it in LeaseUsage). */
  readonly placement?: Placement;
};

const NOT_YET: readonly LeasePhase[] = ['Pending', 'Waiting', 'Quoted', 'Reserved', 'Funded'];

/** "GPUs" for whole GPUs, otherwise the resource name (MIG slices, time-sliced replicas). */
function unit(resource: string): string {
  return resource === 'nvidia.com/gpu' ? 'GPUs' : resource;
}

type Reserved = { units: number; lostAt: string | undefined };

type LeaseCheck =
  | { ok: false; reason: string }
  | { ok: true; key: string; resource: string; request: number; reserved: Map<string, Reserved> };

/** Why no node can take the pod (a reason for every node), or what its lease reserved. */
function checkLease(pod: PodFacts, lease: string, view: SchedulingView): LeaseCheck {
  const key = `${pod.namespace}/${lease}`;
  const l = view.lease(pod.namespace, lease);
  if (!l) return { ok: false, reason: `lease ${key} does not exist` };
  const phase = l.status?.phase ?? 'Pending';
  if (NOT_YET.includes(phase)) return { ok: false, reason: `lease ${key} is not active yet (phase ${phase})` };
  if (phase === 'Preempted') return { ok: false, reason: `lease ${key} was pre-empted and waits to resume` };
  if (phase === 'Ending') return { ok: false, reason: `lease ${key} is ending and takes no new pods` };
  if (phase !== 'Active') return { ok: false, reason: `lease ${key} is over (phase ${phase})` };
  const end = l.status?.endTime ? Date.parse(l.status.endTime) : NaN;
  if (Number.isFinite(end) && end <= view.now()) return { ok: false, reason: `lease ${key} ended at ${l.status?.endTime}` };

  const resource = view.resourceOf(l.spec?.pool ?? '');
  if (pod.badQuantities.includes(resource)) return { ok: false, reason: `the pod asks for ${resource} in a quantity that is not a whole number` };
  const request = pod.requests.get(resource) ?? 0;
  const foreign = [...pod.requests].filter(([r, n]) => r !== resource && r.startsWith('nvidia.com/') && n > 0).map(([r]) => r);
  if (foreign.length > 0) return { ok: false, reason: `the pod asks for ${foreign.join(', ')} but lease ${key} holds ${resource}` };

  const reserved = new Map<string, Reserved>();
  for (const r of l.status?.reservation ?? []) {
    if (typeof r?.node !== 'string' || r.releasedAt) continue;
    const prev = reserved.get(r.node);
    const units = (prev?.units ?? 0) + (Number.isInteger(r.gpus) && r.gpus > 0 ? r.gpus : 0);
    reserved.set(r.node, { units, lostAt: prev?.lostAt ?? r.lostAt });
  }
  if (reserved.size === 0) return { ok: false, reason: `lease ${key} has no reservation yet` };
  return { ok: true, key, resource, request, reserved };
}

type NodeVerdict = { fits: true; free: number } | { fits: false; reason: string };

/** One reserved node: room for the pod, or why not. */
function judge(check: Extract<LeaseCheck, { ok: true }>, node: string, r: Reserved, view: SchedulingView): NodeVerdict {
  if (r.lostAt) return { fits: false, reason: `the reservation of lease ${check.key} on ${node} was lost at ${r.lostAt}` };
  const used = view.used(check.key, node, check.resource);
  const free = r.units - used;
  if (free >= check.request) return { fits: true, free };
  const u = unit(check.resource);
  if (free <= 0) return { fits: false, reason: `reservation on ${node} is full: ${used}/${r.units} ${u} in use` };
  return { fits: false, reason: `reservation on ${node} has ${free} of ${r.units} ${u} free, the pod needs ${check.request}` };
}

const NONE: readonly ReasonGroup[] = [];

export function filterNodes(input: FilterInput, view: SchedulingView): FilterDecision {
  const { pod, nodeNames } = input;
  if (pod.lease === undefined) return { nodeNames, failed: NONE, unresolvable: NONE };
  if (nodeNames.length === 0) return { nodeNames: [], failed: NONE, unresolvable: NONE };
  const check = checkLease(pod, pod.lease, view);
  if (!check.ok) return { nodeNames: [], failed: NONE, unresolvable: [{ reason: check.reason, nodes: nodeNames }] };

  // Only reserved nodes need work; the rest share one reason, which matters only when the pod
  // cannot be placed (kube-scheduler shows reasons in the pod's event then, and drops them when a
  // node is found). So when a node fits they are left out of the answer: kube-scheduler treats a
  // node missing from both NodeNames and the failure maps as unschedulable and unresolvable,
  // and a large answer is the extender's main cost.
  const unresolvable: ReasonGroup[] = [];
  const fits: string[] = [];
  const seen = new Set<string>();
  let outside = 0;
  let best: string | undefined;
  let bestFree = -1;
  for (const node of nodeNames) {
    const r = check.reserved.get(node);
    if (!r) {
      outside++;
      continue;
    }
    if (seen.has(node)) continue;
    seen.add(node);
    const v = judge(check, node, r, view);
    if (!v.fits) {
      unresolvable.push({ reason: v.reason, nodes: [node] });
      continue;
    }
    fits.push(node);
    if (v.free > bestFree || (v.free === bestFree && best !== undefined && node < best)) {
      best = node;
      bestFree = v.free;
    }
  }
  if (best === undefined) {
    if (outside > 0) unresolvable.unshift({ reason: `node is not part of lease ${check.key}'s reservation`, nodes: nodeNames.filter((n) => !check.reserved.has(n)) });
    return { nodeNames: [], failed: NONE, unresolvable };
  }
  const others = fits.filter((n) => n !== best);
  const failed = others.length === 0 ? NONE : [{ reason: `lease ${check.key} places this pod on ${best}, which has the most reserved ${unit(check.resource)} free`, nodes: others }];
  return { nodeNames: [best], failed, unresolvable, placement: { lease: check.key, node: best, requests: pod.requests } };
}

function toMap(groups: readonly ReasonGroup[]): FailedNodesMap {
  const out: FailedNodesMap = {};
  for (const g of groups) for (const n of g.nodes) out[n] = g.reason;
  return out;
}

/** The decision as an ExtenderFilterResult object. */
export function toFilterResult(d: FilterDecision): ExtenderFilterResult {
  return { NodeNames: [...d.nodeNames], FailedNodes: toMap(d.failed), FailedAndUnresolvableNodes: toMap(d.unresolvable), Error: '' };
}

/** Scores 0..10: for a lease pod, reserved nodes with room score by their unused units; everything else 0. */
export function prioritizeNodes(input: FilterInput, view: SchedulingView): HostPriorityList {
  const { pod, nodeNames } = input;
  const zero = (): HostPriorityList => nodeNames.map((Host) => ({ Host, Score: 0 }));
  if (pod.lease === undefined) return zero();
  const check = checkLease(pod, pod.lease, view);
  if (!check.ok) return zero();
  const free = nodeNames.map((n) => {
    const r = check.reserved.get(n);
    if (!r) return -1;
    const v = judge(check, n, r, view);
    return v.fits ? v.free : -1;
  });
  const max = Math.max(0, ...free);
  return nodeNames.map((Host, i) => {
    const f = free[i] ?? -1;
    return { Host, Score: f < 0 ? 0 : max === 0 ? MAX_EXTENDER_PRIORITY : Math.round((MAX_EXTENDER_PRIORITY * f) / max) };
  });
}
