// The market simulator as a library (docs/simulation.md). `pinfi simulate` is cli.ts.
export { OPENB_FIT, fitArrivalModel, synthesise, type ArrivalModel } from './arrivals.js';
export { DEFAULT_DEMAND, TOKEN, drawTasks, poolReference, type DemandModel, type SimTask } from './demand.js';
export { COMPARED_LEVELS, SCENARIOS, busyFromDay, checkGoals, experiment, type CaseResult, type Comparison, type GoalCheck, type Scenario } from './experiment.js';
export { UNITS_PER_GPU, acceptablePools, buildPools, type PoolOptions, type PoolSpec } from './pools.js';
export { POLICY_KINDS, type Market, type MarketContext, type PolicyKind, type Sale } from './policies/market.js';
export { run, type PoolResult, type RunOptions, type RunResult, type Series } from './runner.js';
export { sweepFixed, type FixedPoint, type FixedSweep } from './search.js';
export { DEFAULT_POLICIES, DEFAULT_SEEDS, makeMarket, parsePolicy, policyLabel, simulate, type PolicyRun, type PolicySpec, type Simulation, type SimulationOptions } from './simulate.js';
export { parseNodes, parseTasks, type NodeSpec, type TaskList, type TraceTask } from './trace.js';
export { createSimulateCommand, runSimulate, simulateCommand, type SimulateConfig, type SimulateIo } from './cli.js';
