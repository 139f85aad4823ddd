// Small builders for the simulator's tests: pools, tasks and contexts by hand.
import { DEFAULT_DEMAND, type DemandModel, type SimTask } from '../demand.js';
import { UNITS_PER_GPU, type PoolSpec } from '../pools.js';
import { marketContext, type MarketContext } from '../policies/market.js';

/** A pool of nodes with the given GPU counts. */
export function pool(name: string, nodeGpus: readonly number[], model = name): PoolSpec {
  const gpus = nodeGpus.reduce((a, b) => a + b, 0);
  return {
    name,
    models: [model],
    gpus,
    units: gpus * UNITS_PER_GPU,
    nodes: nodeGpus.map((g, i) => ({ name: `${name}-${i}`, model, gpus: g })),
  };
}

let next = 0;

/** A task: 1 GPU for 1 h at t = 0, worth 1 × reference, waiting 1 h, any pool 0 — unless told. */
export function task(t: Partial<SimTask> & { gpus?: number } = {}): SimTask {
  const { gpus, ...rest } = t;
  const index = next++;
  return {
    id: `t${index}`,
    index,
    arrival: 0,
    units: (gpus ?? 1) * UNITS_PER_GPU,
    seconds: 3600,
    models: null,
    multiplier: 1,
    patience: 3600,
    pools: [0],
    ...rest,
  };
}

export function context(pools: readonly PoolSpec[], demand: Partial<DemandModel> = {}, feeBps = 100): MarketContext {
  return marketContext(pools, { ...DEFAULT_DEMAND, ...demand }, feeBps);
}

export const TOKEN_UNITS = 1_000_000n;
