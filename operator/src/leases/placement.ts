// Where a lease's GPUs go: fewest nodes first, then best fit (the node whose free GPUs match the
// request most closely), so large free blocks stay whole for later large leases. Pure.
import type { Reservation } from '../api/types.js';

export type PlaceableNode = { readonly name: string; readonly free: number; readonly payoutAddress: string };

function byName(a: PlaceableNode, b: PlaceableNode): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Reservations for `gpus` GPUs, or undefined when the nodes do not have that many free. */
export function place(nodes: readonly PlaceableNode[], gpus: number): Reservation[] | undefined {
  const usable = nodes.filter((n) => n.free > 0);
  if (usable.reduce((s, n) => s + n.free, 0) < gpus || gpus <= 0) return undefined;
  const out: Reservation[] = [];
  let left = gpus;
  let pool = [...usable];
  while (left > 0) {
    // One node that holds the rest: the tightest such node.
    const fits = pool.filter((n) => n.free >= left).sort((a, b) => a.free - b.free || byName(a, b));
    const pick = fits[0] ?? [...pool].sort((a, b) => b.free - a.free || byName(a, b))[0];
    if (!pick) return undefined;
    const take = Math.min(left, pick.free);
    out.push({ node: pick.name, gpus: take, payoutAddress: pick.payoutAddress });
    left -= take;
    pool = pool.filter((n) => n.name !== pick.name);
  }
  return out;
}
