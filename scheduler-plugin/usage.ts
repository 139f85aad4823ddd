// GPUs in use per (lease, node): what the lease's pods hold there, kept up to date from pod
// informer events in O(1) per event so a filter call costs a map lookup, not a scan of the
// lease's pods.
//
// Two sources, like kube-scheduler's own cache:
//   - bound pods: a pod of the lease with spec.nodeName that still holds resources (not
//     Succeeded or Failed; a terminating pod still holds its GPUs until it is gone);
//   - placed pods: pods the extender has just sent to one node but whose binding has not reached
//     the informer yet. kube-scheduler binds asynchronously and starts the next pod's cycle at
//     once, so without this the next pod of the same lease would see the old count and a
//     reservation could be overfilled. A placement ends when the informer shows the pod bound
//     or deleted, when the same pod is filtered again (its attempt failed later), or after
//     `ttlMs` (kube-scheduler's binding timeout is 10 minutes; bindings take milliseconds).
import type { V1Pod } from '@kubernetes/client-node';
import { podLeaseKey } from '../operator/src/enforcement/names.js';
import { readPod } from './protocol.js';

type Contribution = { readonly lease: string; readonly node: string; readonly requests: ReadonlyMap<string, number> };
type Placement = Contribution & { readonly uid: string; readonly expiresAt: number };

/** Per-lease, per-node, per-resource totals. */
type Totals = Map<string, Map<string, Map<string, number>>>;

function add(totals: Totals, c: Contribution, sign: 1 | -1): void {
  let nodes = totals.get(c.lease);
  if (!nodes) totals.set(c.lease, (nodes = new Map()));
  let res = nodes.get(c.node);
  if (!res) nodes.set(c.node, (res = new Map()));
  for (const [r, n] of c.requests) {
    const v = (res.get(r) ?? 0) + sign * n;
    if (v === 0) res.delete(r);
    else res.set(r, v);
  }
  if (res.size === 0) nodes.delete(c.node);
  if (nodes.size === 0) totals.delete(c.lease);
}

/** What a pod contributes to its lease's use of a node, or undefined when it holds nothing. */
export function podContribution(pod: V1Pod): Contribution | undefined {
  const lease = podLeaseKey(pod);
  const node = pod.spec?.nodeName;
  const phase = pod.status?.phase;
  if (!lease || !node || phase === 'Succeeded' || phase === 'Failed') return undefined;
  const facts = readPod(pod);
  if (!facts.ok || facts.value.requests.size === 0) return undefined;
  return { lease, node, requests: facts.value.requests };
}

export class LeaseUsage {
  private readonly bound = new Map<string, Contribution>(); // pod uid (or ns/name) → contribution
  private readonly boundTotals: Totals = new Map();
  private readonly placed = new Map<string, Placement>(); // pod uid → placement
  private readonly placedByLease = new Map<string, Map<string, Placement>>();

  constructor(private readonly opts: { now: () => number; ttlMs?: number }) {}

  /** Informer add/update. */
  upsert(pod: V1Pod): void {
    const id = podId(pod);
    const old = this.bound.get(id);
    if (old) add(this.boundTotals, old, -1);
    const c = podContribution(pod);
    if (c) {
      this.bound.set(id, c);
      add(this.boundTotals, c, 1);
    } else {
      this.bound.delete(id);
    }
    // Bound (or finished): the binding is visible, the placement is no longer needed.
    if (pod.metadata?.uid && pod.spec?.nodeName) this.unplace(pod.metadata.uid);
  }

  /** Informer delete. */
  remove(pod: V1Pod): void {
    const id = podId(pod);
    const old = this.bound.get(id);
    if (old) add(this.boundTotals, old, -1);
    this.bound.delete(id);
    if (pod.metadata?.uid) this.unplace(pod.metadata.uid);
  }

  /** Records that pod `uid` of `lease` was sent to `node` (replacing an earlier placement of it). */
  place(uid: string, lease: string, node: string, requests: ReadonlyMap<string, number>): void {
    this.unplace(uid);
    const p: Placement = { uid, lease, node, requests, expiresAt: this.opts.now() + (this.opts.ttlMs ?? 120_000) };
    this.placed.set(uid, p);
    let m = this.placedByLease.get(lease);
    if (!m) this.placedByLease.set(lease, (m = new Map()));
    m.set(uid, p);
  }

  /** Forgets a placement (the pod is filtered again, bound or gone). */
  unplace(uid: string): void {
    const p = this.placed.get(uid);
    if (!p) return;
    this.placed.delete(uid);
    const m = this.placedByLease.get(p.lease);
    m?.delete(uid);
    if (m?.size === 0) this.placedByLease.delete(p.lease);
  }

  /** Units of `resource` that `lease`'s pods hold or are about to hold on `node`. */
  used(lease: string, node: string, resource: string): number {
    let n = this.boundTotals.get(lease)?.get(node)?.get(resource) ?? 0;
    const placed = this.placedByLease.get(lease);
    if (placed) {
      const now = this.opts.now();
      for (const p of placed.values()) {
        if (p.expiresAt <= now) this.unplace(p.uid);
        else if (p.node === node) n += p.requests.get(resource) ?? 0;
      }
    }
    return n;
  }

  /** Placements not yet seen bound (metrics, tests). */
  pendingPlacements(): number {
    return this.placed.size;
  }
}

function podId(pod: V1Pod): string {
  return pod.metadata?.uid || `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}
