// `pinfi simulate`: the command (commander) and what it does, with file and terminal I/O passed in.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { OPENB_FIT, synthesise } from './arrivals.js';
import { DEFAULT_DEMAND, type DemandModel } from './demand.js';
import { experiment, onePoolScenario } from './experiment.js';
import { casesTradeoffSpec, policiesSpec, poolsSpec, toSvg, tradeoffSpec } from './plots.js';
import type { AmmParams } from './policies/amm.js';
import { progressBar } from './progress.js';
import { stream } from './random.js';
import {
  casesCsv,
  casesMarkdown,
  goalsMarkdown,
  policyRows,
  poolMarkdown,
  resultsCsv,
  resultsJson,
  seriesCsv,
  summaryMarkdown,
  summaryTerminal,
  sweepCsv,
} from './report.js';
import { DEFAULT_POLICIES, parsePolicy, simulate, type PolicySpec } from './simulate.js';
import { parseNodes, parseTasks, type NodeColumns, type TraceTask } from './trace.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The default trace, referred to relative to the repository root. */
export const OPENB_DIR = resolve(REPO_ROOT, '../shared/data/alibaba-openb-2023/');

export type SimulateConfig = {
  readonly nodes: string;
  readonly tasks: string;
  readonly out: string;
  readonly seeds: readonly number[];
  readonly policies: readonly PolicySpec[];
  readonly capacityScale: number;
  readonly singlePool: boolean;
  readonly nodeColumns: NodeColumns;
  readonly fractional: 'shared' | 'whole';
  readonly demand: DemandModel;
  readonly feeBps: number;
  readonly amm: AmmParams;
  readonly sampleHours: number;
  readonly goals: boolean;
  /** with goals: one-pool scenarios at these fractions of the GPUs instead of experiment.ts's SCENARIOS */
  readonly goalsCapacities?: readonly number[];
  readonly plots: boolean;
  /** the time series plot starts on this day of the trace */
  readonly plotFromDay: number;
};

export type SimulateIo = {
  readonly readText: (path: string) => Promise<string>;
  readonly writeText: (path: string, text: string) => Promise<void>;
  readonly makeDir: (path: string) => Promise<void>;
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { isTTY?: boolean; write(s: string): unknown };
};

export const nodeIo: SimulateIo = {
  readText: (p) => readFile(p, 'utf8'),
  writeText: (p, t) => writeFile(p, t),
  makeDir: async (p) => void (await mkdir(p, { recursive: true })),
  stdout: process.stdout,
  stderr: process.stderr,
};

/** `5` (seeds 1..5), `1-5`, or `1,2,7`. */
export function parseSeeds(text: string): number[] {
  const t = text.trim();
  let seeds: number[];
  if (/^\d+$/.test(t)) seeds = Array.from({ length: Number(t) }, (_, i) => i + 1);
  else if (/^\d+-\d+$/.test(t)) {
    const [a, b] = t.split('-').map(Number) as [number, number];
    seeds = Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);
  } else seeds = t.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isSafeInteger(s) || s < 0)) {
    throw new InvalidArgumentError(`seeds: want N, A-B or a,b,c (got ${text})`);
  }
  return seeds;
}

function positive(what: string, max = Infinity): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!(n > 0 && n <= max)) throw new InvalidArgumentError(`${what} must be a number in (0, ${max}]`);
    return n;
  };
}

function share(what: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${what} must be a number in [0, 1]`);
    return n;
  };
}

function capacities(text: string): number[] {
  const scale = positive('each capacity', 1);
  return text.split(',').map((t) => scale(t.trim()));
}

function references(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of text.split(',')) {
    const [model, price] = pair.split('=');
    const n = Number(price);
    if (!model || !(n > 0)) throw new InvalidArgumentError(`reference: want MODEL=PRICE,... (got ${pair})`);
    out[model.trim()] = n;
  }
  return out;
}

type Flags = {
  nodes?: string;
  tasks?: string;
  out: string;
  seeds: number[];
  policies: string;
  capacityScale: number;
  singlePool?: boolean;
  nodeModelColumn?: string;
  nodeGpusColumn?: string;
  nodeCountColumn?: string;
  fractional: 'shared' | 'whole';
  reference?: Record<string, number>;
  defaultReference: number;
  costRatio: number;
  valueSigma: number;
  patienceHours: number;
  patienceSigma: number;
  strategicShare: number;
  strategicMaxHours?: number;
  feeBps: number;
  depth?: number;
  targetUtilization?: number;
  responseHours?: number;
  termHours?: number;
  renewAt?: 'quote' | 'level';
  preemptible?: 'checkpoint' | 'restart';
  sampleHours: number;
  goals?: boolean;
  goalsCapacities?: number[];
  plots: boolean;
  plotFromDay?: number;
};

/** Flags to a typed, frozen configuration. */
export function configFrom(flags: Flags): SimulateConfig {
  if (flags.strategicShare > 0 && !flags.preemptible) {
    throw new Error('--strategic-share needs --preemptible: buyers understate their limit only where idle GPUs are lent');
  }
  if (flags.strategicMaxHours !== undefined && !(flags.strategicShare > 0)) {
    throw new Error('--strategic-max-hours needs --strategic-share: it says which of the strategic buyers understate');
  }
  const amm: AmmParams = {
    ...(flags.depth !== undefined ? { depthPpm: Math.round(flags.depth * 1e6) } : {}),
    ...(flags.targetUtilization !== undefined ? { targetUtilizationPpm: Math.round(flags.targetUtilization * 1e6) } : {}),
    ...(flags.responseHours !== undefined ? { responseTimeSeconds: Math.round(flags.responseHours * 3600) } : {}),
    ...(flags.termHours !== undefined ? { termSeconds: Math.round(flags.termHours * 3600) } : {}),
    ...(flags.renewAt !== undefined ? { renewAt: flags.renewAt } : {}),
    ...(flags.preemptible !== undefined ? { preemptible: flags.preemptible } : {}),
  };
  const nodeColumns: NodeColumns = {
    ...(flags.nodeModelColumn ? { model: flags.nodeModelColumn } : {}),
    ...(flags.nodeGpusColumn ? { gpus: flags.nodeGpusColumn } : {}),
    ...(flags.nodeCountColumn ? { count: flags.nodeCountColumn } : {}),
  };
  return Object.freeze({
    nodes: flags.nodes ?? join(OPENB_DIR, 'openb_node_list_gpu_node.csv'),
    tasks: flags.tasks ?? join(OPENB_DIR, 'openb_pod_list_default.csv'),
    out: flags.out,
    seeds: flags.seeds,
    policies: flags.policies.split(',').map(parsePolicy),
    capacityScale: flags.capacityScale,
    singlePool: flags.singlePool ?? false,
    nodeColumns,
    fractional: flags.fractional,
    demand: {
      ...DEFAULT_DEMAND,
      reference: flags.reference ?? {},
      defaultReference: flags.defaultReference,
      costRatio: flags.costRatio,
      valueSigma: flags.valueSigma,
      patienceMedianSeconds: flags.patienceHours * 3600,
      patienceSigma: flags.patienceSigma,
      ...(flags.strategicShare > 0 ? { strategicShare: flags.strategicShare } : {}),
      ...(flags.strategicMaxHours !== undefined ? { strategicMaxSeconds: Math.round(flags.strategicMaxHours * 3600) } : {}),
    },
    feeBps: flags.feeBps,
    amm,
    sampleHours: flags.sampleHours,
    goals: flags.goals ?? false,
    ...(flags.goalsCapacities ? { goalsCapacities: flags.goalsCapacities } : {}),
    plots: flags.plots,
    plotFromDay: flags.plotFromDay ?? 0,
  });
}

/** Load the trace: nodes, and tasks with arrivals/durations synthesised where the file has none. */
export async function loadTrace(config: SimulateConfig, io: SimulateIo): Promise<{ nodes: ReturnType<typeof parseNodes>; tasks: TraceTask[]; notes: string[] }> {
  const nodes = parseNodes(await io.readText(config.nodes), config.nodeColumns);
  const list = parseTasks(await io.readText(config.tasks), { fractional: config.fractional });
  const notes = [`${nodes.length} GPU nodes, ${list.tasks.length} GPU tasks (${list.skipped.cpuOnly} CPU-only and ${list.skipped.bad} malformed rows skipped)`];
  let tasks = [...list.tasks];
  if (!list.hasArrivals || !list.hasDurations) {
    tasks = synthesise(list, OPENB_FIT, stream(config.seeds[0] ?? 1, 'arrivals'));
    tasks.sort((a, b) => a.arrival - b.arrival);
    notes.push(`no ${list.hasArrivals ? 'durations' : 'arrival times'} in the task list: drawn from the model fitted to OpenB (arrivals.ts)`);
  }
  return { nodes, tasks, notes };
}

/** Everything `pinfi simulate` does after parsing its flags. */
export async function runSimulate(config: SimulateConfig, io: SimulateIo): Promise<void> {
  const started = performance.now();
  const { nodes, tasks, notes } = await loadTrace(config, io);
  await io.makeDir(config.out);
  const out = (name: string): string => join(config.out, name);
  for (const n of notes) io.stdout.write(`${n}\n`);

  if (config.goals) {
    const cases = experiment(nodes, tasks, {
      ...(config.goalsCapacities ? { scenarios: config.goalsCapacities.map((c) => onePoolScenario(nodes, c)) } : {}),
      seeds: config.seeds,
      demand: config.demand,
      feeBps: config.feeBps,
      amm: config.amm,
      onProgress: progressBar(io.stderr, 'goals'),
    });
    const goals = goalsMarkdown(cases);
    const table = casesMarkdown(cases);
    io.stdout.write(`\n${goals}\n\n${table}\n`);
    await io.writeText(out('goals.md'), `# Goals\n\n${goals}\n\n## By scenario\n\n${table}\n`);
    await io.writeText(out('cases.csv'), casesCsv(cases));
    if (config.plots) await io.writeText(out('tradeoff-scenarios.svg'), await toSvg(casesTradeoffSpec(cases, 'Revenue against welfare, by scenario (seed 1)')));
  } else {
    const sim = simulate(nodes, tasks, {
      pools: { capacityScale: config.capacityScale, singlePool: config.singlePool },
      demand: config.demand,
      policies: config.policies,
      seeds: config.seeds,
      feeBps: config.feeBps,
      amm: config.amm,
      sampleSeconds: Math.round(config.sampleHours * 3600),
      onProgress: progressBar(io.stderr, 'simulate'),
    });
    const pools = sim.pools.map((p) => `${p.name} ${p.gpus}`).join(', ');
    io.stdout.write(`pools (GPUs): ${pools}\nmedian over seeds ${config.seeds.join(', ')}; money in tokens\n${summaryTerminal(sim)}\n`);
    const summary = summaryMarkdown(sim);
    await io.writeText(out('summary.md'), `# Simulation\n\n${notes.join('\n\n')}\n\nPools (GPUs): ${pools}. Median over seeds ${config.seeds.join(', ')}; money in tokens.\n\n${summary}\n\n## By pool (seed ${config.seeds[0]})\n\n${poolMarkdown(sim)}\n`);
    await io.writeText(out('results.csv'), resultsCsv(sim));
    await io.writeText(out('series.csv'), seriesCsv(sim));
    if (sim.sweeps.size > 0) await io.writeText(out('sweep.csv'), sweepCsv(sim));
    await io.writeText(out('results.json'), resultsJson(sim, { ...config, policies: config.policies }));
    if (config.plots) {
      const from = config.plotFromDay > 0 ? `, from day ${config.plotFromDay}` : '';
      const title = `Price and utilisation over time, by pool (seed ${config.seeds[0]}${from})`;
      await io.writeText(out('pools.svg'), await toSvg(poolsSpec(sim, title, 300, config.plotFromDay)));
      await io.writeText(out('policies.svg'), await toSvg(policiesSpec(policyRows(sim), 'By policy (median over seeds)')));
      const trade = tradeoffSpec(sim, 'Revenue against welfare (seed 1)');
      if (trade) await io.writeText(out('tradeoff.svg'), await toSvg(trade));
    }
  }
  io.stdout.write(`wrote ${config.out} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

/** The `simulate` command; the project's CLI mounts it as `pinfi simulate`. */
export function createSimulateCommand(io: SimulateIo = nodeIo): Command {
  return new Command('simulate')
    .description(
      'Replay a GPU demand trace against pools built from a node list, under several pricing policies, in simulated time ' +
        '(no cluster, no clock). With no flags: the Alibaba OpenB trace, policies amm, fixed, auction, best-fixed, seeds 1-5.',
    )
    .option('--nodes <file>', 'node list CSV (one row per node: model, GPU count)', undefined)
    .option('--tasks <file>', 'task list CSV (num_gpu, gpu_milli, gpu_spec, creation/scheduled/deletion times)', undefined)
    .option('--out <dir>', 'where tables, data and plots go', 'simulation-out')
    .option('--seeds <seeds>', 'seeds: N (1..N), A-B or a,b,c', parseSeeds, [1, 2, 3, 4, 5])
    .option('--policies <list>', `comma-separated, each optionally @level: amm[@floor×ref], fixed[@price×ref], auction[@low-high], best-fixed`, DEFAULT_POLICIES.map((p) => p.kind).join(','))
    .option('--capacity-scale <x>', 'keep this fraction of each pool\'s GPUs', positive('capacity scale', 1), 1)
    .option('--single-pool', 'put all nodes in one pool instead of one per GPU model')
    .option('--node-model-column <name>', 'node list column with the GPU model (default: model)')
    .option('--node-gpus-column <name>', 'node list column with the GPU count (default: gpu)')
    .option('--node-count-column <name>', 'node list column: how many such nodes the row stands for')
    .addOption(new Option('--fractional <mode>', 'shared: fractions of a GPU are sold as milli-GPUs; whole: rounded up').choices(['shared', 'whole']).default('shared'))
    .option('--reference <pairs>', 'reference price per GPU-hour by model, tokens: MODEL=PRICE,...', references)
    .option('--default-reference <price>', 'reference price for other models, tokens per GPU-hour', positive('reference'), DEFAULT_DEMAND.defaultReference)
    .option('--cost-ratio <x>', "providers' cost as a fraction of the reference (the AMM's default floor)", positive('cost ratio'), DEFAULT_DEMAND.costRatio)
    .option('--value-sigma <x>', 'spread of willingness to pay (log-normal sigma)', positive('value sigma'), DEFAULT_DEMAND.valueSigma)
    .option('--patience-hours <h>', 'median patience of a buyer, hours', positive('patience'), DEFAULT_DEMAND.patienceMedianSeconds / 3600)
    .option('--patience-sigma <x>', 'spread of patience (log-normal sigma)', positive('patience sigma'), DEFAULT_DEMAND.patienceSigma)
    .option('--strategic-share <x>', 'share of buyers who, where idle GPUs are lent (--preemptible), declare the floor as their limit to run lent (0..1)', share('strategic share'), 0)
    .option('--strategic-max-hours <h>', 'with --strategic-share: only buyers whose job is at most this long understate (default: any length)', positive('strategic max hours'))
    .option('--fee-bps <n>', 'protocol fee, basis points, under every policy', (t) => Number(t), 100)
    .option('--depth <share>', "AMM depth as a share of the pool (engine default 0.1)", positive('depth'))
    .option('--target-utilization <u>', 'AMM target utilisation (engine default 0.9; 0.7 with --preemptible)', positive('target utilisation', 0.999999))
    .option('--response-hours <h>', 'AMM response time, hours (engine default 6; 24 with --preemptible)', positive('response time'))
    .option('--term-hours <h>', 'AMM term pricing: leases lock their price for this long, then renew at the then quote or are cut (with --preemptible: run on pre-emptibly) (default: off)', positive('term'))
    .addOption(new Option('--renew-at <price>', 'with --term-hours: a renewal pays the quote, or the lower of the quote and the pool\'s level (the price at target utilisation) (default: quote)').choices(['quote', 'level']))
    .addOption(
      new Option('--preemptible <resume>', 'AMM: waiting buyers run pre-emptibly on idle GPUs at the floor; an evicted job resumes (checkpoint) or starts over (restart); the pool starts from the engine\'s pre-emptible defaults (default: off)').choices([
        'checkpoint',
        'restart',
      ]),
    )
    .option('--sample-hours <h>', 'time series resolution, hours', positive('sample hours'), 1)
    .option('--goals', 'run the experiment of issue 10 instead: OpenB, 1% and 0.5% of its GPUs; AMM floors at cost and 0.5/1/1.5× ref')
    .option('--goals-capacities <list>', 'with --goals: one-pool scenarios at these fractions of the GPUs (comma-separated, e.g. 0.0035,0.007) instead of OpenB, 1% and 0.5%', capacities)
    .option('--no-plots', 'skip the SVG plots')
    .option('--plot-from-day <d>', 'start the time series plot on this day of the trace', (t) => Number(t))
    .action(async (flags: Flags) => {
      await runSimulate(configFrom(flags), io);
    });
}

export const simulateCommand: Command = createSimulateCommand();
