// Pools built from a node list: one per GPU model (architecture.md: a pool is one kind of GPU),
// or all nodes in one pool; optionally scaled down to a fraction of the GPUs.
import type { NodeSpec, TraceTask } from './trace.js';

export const UNITS_PER_GPU = 1000; // pools sell milli-GPUs

export type PoolSpec = {
  readonly name: string;
  /** GPU models of its nodes */
  readonly models: readonly string[];
  readonly gpus: number;
  /** milli-GPUs */
  readonly units: number;
  /** its providers, with their GPU counts after scaling */
  readonly nodes: readonly NodeSpec[];
};

export type PoolOptions = {
  /** keep this fraction of each pool's GPUs (default 1) */
  readonly capacityScale?: number;
  /** one pool of all nodes instead of one per model */
  readonly singlePool?: boolean;
};

/** Nodes spread evenly through the list until `target` GPUs, the last one trimmed. */
function spread(nodes: readonly NodeSpec[], target: number): NodeSpec[] {
  const total = nodes.reduce((a, n) => a + n.gpus, 0);
  if (target >= total) return [...nodes];
  const out: NodeSpec[] = [];
  let have = 0;
  const stride = total / target;
  let next = 0;
  let seen = 0;
  for (const n of nodes) {
    if (have >= target) break;
    if (seen + n.gpus > next) {
      const gpus = Math.min(n.gpus, target - have);
      out.push(gpus === n.gpus ? n : { ...n, gpus });
      have += gpus;
      next += stride * gpus;
    }
    seen += n.gpus;
  }
  return out;
}

/**
 * `target` GPUs out of `nodes`, keeping the mix of models (largest remainder) and, within a
 * model, spreading through its nodes so the mix of node sizes is kept too.
 */
function sample(nodes: readonly NodeSpec[], target: number): NodeSpec[] {
  const byModel = new Map<string, NodeSpec[]>();
  for (const n of nodes) {
    let g = byModel.get(n.model);
    if (!g) byModel.set(n.model, (g = []));
    g.push(n);
  }
  const total = nodes.reduce((a, n) => a + n.gpus, 0);
  const shares = [...byModel].map(([model, group]) => {
    const gpus = group.reduce((a, n) => a + n.gpus, 0);
    const exact = (gpus * target) / total;
    return { model, group, take: Math.floor(exact), rest: exact - Math.floor(exact) };
  });
  let left = target - shares.reduce((a, s) => a + s.take, 0);
  for (const s of [...shares].sort((a, b) => b.rest - a.rest || a.model.localeCompare(b.model))) {
    if (left-- <= 0) break;
    s.take++;
  }
  return shares.flatMap((s) => spread(s.group, s.take));
}

export function buildPools(nodes: readonly NodeSpec[], options: PoolOptions = {}): PoolSpec[] {
  const scale = options.capacityScale ?? 1;
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`capacity scale must be in (0, 1], got ${scale}`);
  const groups = new Map<string, NodeSpec[]>();
  for (const n of nodes) {
    const key = options.singlePool ? 'all' : n.model;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(n);
  }
  const pools: PoolSpec[] = [];
  for (const [name, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const total = group.reduce((a, n) => a + n.gpus, 0);
    const kept = sample(group, Math.max(1, Math.round(total * scale)));
    const gpus = kept.reduce((a, n) => a + n.gpus, 0);
    const models = [...new Set(kept.map((n) => n.model))].sort();
    pools.push({ name, models, gpus, units: gpus * UNITS_PER_GPU, nodes: kept });
  }
  return pools;
}

/** Indices of the pools a task accepts: any pool holding one of its models (all for `null`). */
export function acceptablePools(task: TraceTask, pools: readonly PoolSpec[]): number[] {
  const out: number[] = [];
  pools.forEach((p, i) => {
    if (task.models === null || p.models.some((m) => task.models!.includes(m))) out.push(i);
  });
  return out;
}
