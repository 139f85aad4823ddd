// The reservation as a node affinity: lease pods carry required node affinity terms
// `matchFields: metadata.name In [node]`, one per reserved node (the API server takes one value
// per node field requirement; terms are ORed), ANDed with the terms the pod already has.
// kube-scheduler's NodeAffinity PreFilter turns such terms into the exact set of nodes to
// evaluate, so the scheduler looks at the reserved nodes only, instead of sampling a
// share of the cluster (percentageOfNodesToScore) that may not include them, and the extender
// gets a handful of node names rather than hundreds. The extender still decides (lease phase,
// room left in the reservation); the affinity only narrows the search.
//
// Set by the admission webhook when the lease is Active at pod creation, and by the gate
// controller when it releases the pods of a lease that turned Active (a gated pod's node
// affinity may still be narrowed, in the same update that removes the gate).
import type { ComputeLease } from '../api/types.js';

export type JsonPatchOp = { op: 'add' | 'replace' | 'remove' | 'test'; path: string; value?: unknown };

type Requirement = { key: string; operator: string; values?: string[] };
type Term = { matchExpressions?: Requirement[]; matchFields?: Requirement[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nodes of the reservation that were neither lost nor given back (pre-emption), sorted, without duplicates. */
export function reservedNodes(lease: ComputeLease): string[] {
  const names = (lease.status?.reservation ?? []).filter((r) => typeof r?.node === 'string' && r.node !== '' && !r.lostAt && !r.releasedAt).map((r) => r.node);
  return [...new Set(names)].sort();
}

/** `metadata.name In [node]`: the API server allows one value per node field requirement. */
export function reservationRequirement(node: string): Requirement {
  return { key: 'metadata.name', operator: 'In', values: [node] };
}

/** The node a term is pinned to (a `metadata.name In [one node]` field requirement), if any. */
function pinnedNode(t: unknown): string | undefined {
  if (!isObject(t) || !Array.isArray(t.matchFields)) return undefined;
  for (const f of t.matchFields) {
    if (isObject(f) && f.key === 'metadata.name' && f.operator === 'In' && Array.isArray(f.values) && f.values.length === 1 && typeof f.values[0] === 'string') return f.values[0];
  }
  return undefined;
}

/** Most node selector terms a pod gets (user terms x reserved nodes); beyond it the pod is not pinned. */
export const MAX_PINNED_TERMS = 256;

/**
 * JSON patch operations that pin the pod to the reserved nodes: required node affinity terms
 * `metadata.name In [node]`, one per node (terms are ORed), each ANDed with each term the pod
 * already had (the cross product). None when the pod is already pinned to nodes of the
 * reservation, when `nodes` is empty, or when the pod has terms of its own and `mayRewrite` is
 * false: a gated pod's existing terms may only gain requirements, and a node field requirement
 * takes one value, so a reservation of several nodes cannot be expressed there; the extender
 * still keeps such a pod inside the reservation.
 */
export function reservationAffinityPatch(spec: unknown, nodes: readonly string[], mayRewrite = true): JsonPatchOp[] {
  if (nodes.length === 0) return [];
  const s = isObject(spec) ? spec : {};
  const pinned = (user: Term[]): { nodeSelectorTerms: Term[] } => ({
    nodeSelectorTerms: (user.length === 0 ? [{}] : user).flatMap((t) => nodes.map((n) => ({ ...t, matchFields: [...(t.matchFields ?? []), reservationRequirement(n)] }))),
  });
  if (!isObject(s.affinity)) return [{ op: 'add', path: '/spec/affinity', value: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: pinned([]) } } }];
  const na = s.affinity.nodeAffinity;
  if (!isObject(na)) return [{ op: 'add', path: '/spec/affinity/nodeAffinity', value: { requiredDuringSchedulingIgnoredDuringExecution: pinned([]) } }];
  const required = na.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = isObject(required) && Array.isArray(required.nodeSelectorTerms) ? (required.nodeSelectorTerms as unknown[]) : [];
  const path = '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution';
  if (terms.length === 0) return [{ op: 'add', path, value: { ...(isObject(required) ? required : {}), ...pinned([]) } }];
  const reserved = new Set(nodes);
  if (terms.every((t) => reserved.has(pinnedNode(t) ?? ''))) return [];
  if (!mayRewrite || terms.length * nodes.length > MAX_PINNED_TERMS) return [];
  return [{ op: 'add', path, value: { ...(required as object), ...pinned(terms.map((t) => (isObject(t) ? (t as Term) : {}))) } }];
}
