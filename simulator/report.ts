// Tables and data files of a simulation: markdown for docs, CSV and JSON for analysis, and a
// terminal table. Pure: every function returns text; the CLI writes it.
import Table from 'cli-table3';
import { TOKEN } from './demand.js';
import { checkGoals, median, type CaseResult } from './experiment.js';
import type { RunResult } from './runner.js';
import type { Simulation } from './simulate.js';

/** One policy's figures, the median over seeds (money in tokens). */
export type PolicyRow = {
  readonly policy: string;
  readonly level: string;
  readonly utilisation: number;
  readonly gpuHours: number;
  readonly buyersPaid: number;
  readonly providerRevenue: number;
  readonly buyerSurplus: number;
  readonly welfare: number;
  readonly waitP50: number;
  readonly waitP95: number;
  readonly unserved: number;
  readonly seeds: number;
};

const tokens = (x: bigint | number): number => Number(x) / TOKEN;

export function summarise(r: RunResult['total']): Omit<PolicyRow, 'policy' | 'level' | 'seeds'> {
  return {
    utilisation: r.utilisation,
    gpuHours: r.gpuHours,
    buyersPaid: tokens(r.paid),
    providerRevenue: tokens(r.paid - r.fee),
    buyerSurplus: tokens(r.value - Number(r.paid)),
    welfare: tokens(r.value - r.cost),
    waitP50: r.waitP50,
    waitP95: r.waitP95,
    unserved: r.unserved,
  };
}

/** Median over seeds of each policy, in the order the policies were given. */
export function policyRows(sim: Simulation): PolicyRow[] {
  const labels = [...new Set(sim.runs.map((r) => r.label))];
  return labels.map((policy) => {
    const runs = sim.runs.filter((r) => r.label === policy);
    const rows = runs.map((r) => summarise(r.result.total));
    const med = (f: (x: (typeof rows)[number]) => number): number => median(rows.map(f));
    const levels = runs.map((r) => r.level).filter((l): l is number => l !== undefined);
    const kind = runs[0]!.policy.kind;
    const level =
      kind === 'best-fixed'
        ? `price ${levels.map((l) => l.toFixed(2)).join(', ')}`
        : kind === 'amm'
          ? `floor ${levels[0]!.toFixed(2)}`
          : kind === 'fixed'
            ? `price ${levels[0]!.toFixed(2)}`
            : `asks ${policy.split('@')[1] ?? ''}`;
    return {
      policy,
      level,
      utilisation: med((x) => x.utilisation),
      gpuHours: med((x) => x.gpuHours),
      buyersPaid: med((x) => x.buyersPaid),
      providerRevenue: med((x) => x.providerRevenue),
      buyerSurplus: med((x) => x.buyerSurplus),
      welfare: med((x) => x.welfare),
      waitP50: med((x) => x.waitP50),
      waitP95: med((x) => x.waitP95),
      unserved: med((x) => x.unserved),
      seeds: runs.length,
    };
  });
}

const HEADER = [
  'policy',
  'level (× reference)',
  'utilisation',
  'GPU-hours',
  'buyers paid',
  'provider revenue',
  'buyer surplus',
  'welfare',
  'wait p50',
  'wait p95',
  'unserved',
] as const;

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const pct = (x: number, digits = 2): string => `${(100 * x).toFixed(digits)}%`;

function cells(r: PolicyRow): string[] {
  return [
    r.policy,
    r.level,
    pct(r.utilisation),
    int(r.gpuHours),
    int(r.buyersPaid),
    int(r.providerRevenue),
    int(r.buyerSurplus),
    int(r.welfare),
    duration(r.waitP50),
    duration(r.waitP95),
    int(r.unserved),
  ];
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (xs: readonly string[]): string => `| ${xs.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** The summary table (median over seeds) as markdown. */
export function summaryMarkdown(sim: Simulation): string {
  return markdownTable(HEADER, policyRows(sim).map(cells));
}

/** The same table for a terminal. */
export function summaryTerminal(sim: Simulation): string {
  const t = new Table({ head: [...HEADER], style: { head: [], border: [] } });
  for (const r of policyRows(sim)) t.push(cells(r));
  return t.toString();
}

/** Per pool, for the first seed. */
export function poolMarkdown(sim: Simulation): string {
  const seed = sim.runs[0]?.seed;
  const rows: string[][] = [];
  for (const run of sim.runs.filter((r) => r.seed === seed)) {
    run.result.pools.forEach((p, i) => {
      const pool = sim.pools[i]!;
      rows.push([
        run.label,
        `${pool.name} (${pool.gpus.toLocaleString('en-US')} GPUs)`,
        pct(p.utilisation),
        int(p.gpuHours),
        int(tokens(p.paid)),
        int(tokens(p.paid - p.fee)),
        int(tokens(p.value - Number(p.paid))),
        int(tokens(p.value - p.cost)),
        duration(p.waitP50),
        duration(p.waitP95),
      ]);
    });
  }
  return markdownTable(
    ['policy', 'pool', 'utilisation', 'GPU-hours', 'buyers paid', 'provider revenue', 'buyer surplus', 'welfare', 'wait p50', 'wait p95'],
    rows,
  );
}

const csv = (rows: readonly (readonly (string | number)[])[]): string =>
  rows.map((r) => r.map((x) => (typeof x === 'string' && /[",\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : String(x))).join(',')).join('\n') + '\n';

/** One row per seed, policy and pool (pool `all` for the totals). Money in tokens. */
export function resultsCsv(sim: Simulation): string {
  const rows: (string | number)[][] = [
    ['seed', 'policy', 'level', 'pool', 'gpus', 'utilisation', 'gpu_hours', 'served', 'buyers_paid', 'fee', 'provider_revenue', 'buyer_surplus', 'welfare', 'wait_p50_s', 'wait_p95_s', 'unserved'],
    // unserved is only known in total: a task that accepts any pool and leaves belongs to none
  ];
  for (const r of sim.runs) {
    const level = r.level ?? '';
    r.result.pools.forEach((p, i) => {
      rows.push([r.seed, r.label, level, sim.pools[i]!.name, sim.pools[i]!.gpus, p.utilisation, p.gpuHours, p.served, tokens(p.paid), tokens(p.fee), tokens(p.paid - p.fee), tokens(p.value - Number(p.paid)), tokens(p.value - p.cost), p.waitP50, p.waitP95, '']);
    });
    const t = r.result.total;
    const gpus = sim.pools.reduce((a, p) => a + p.gpus, 0);
    rows.push([r.seed, r.label, level, 'all', gpus, t.utilisation, t.gpuHours, t.served, tokens(t.paid), tokens(t.fee), tokens(t.paid - t.fee), tokens(t.value - Number(t.paid)), tokens(t.value - t.cost), t.waitP50, t.waitP95, t.unserved]);
  }
  return csv(rows);
}

/** Price and utilisation over time (first seed), one row per policy, pool and sample. */
export function seriesCsv(sim: Simulation): string {
  const rows: (string | number)[][] = [['policy', 'pool', 'hours', 'utilisation', 'price']];
  for (const r of sim.runs) {
    const s = r.result.series;
    if (!s) continue;
    sim.pools.forEach((pool, i) => {
      s.t.forEach((t, k) => {
        const price = s.price[i]![k];
        rows.push([r.label, pool.name, t / 3600, s.used[i]![k]! / pool.units, price === null || price === undefined ? '' : price / TOKEN]);
      });
    });
  }
  return csv(rows);
}

/** The fixed-price sweep behind best-fixed: revenue and welfare of every price tried. */
export function sweepCsv(sim: Simulation): string {
  const rows: (string | number)[][] = [['seed', 'price_x_reference', 'buyers_paid', 'welfare', 'utilisation', 'unserved']];
  for (const [seed, sweep] of sim.sweeps) {
    for (const p of sweep.points) rows.push([seed, p.level, tokens(p.revenue), tokens(p.welfare), p.result.total.utilisation, p.result.total.unserved]);
  }
  return csv(rows);
}

/** Everything, as JSON (bigints as decimal strings of base units). */
export function resultsJson(sim: Simulation, config: unknown): string {
  const runs = sim.runs.map((r) => ({ seed: r.seed, policy: r.label, level: r.level, total: r.result.total, pools: r.result.pools }));
  return JSON.stringify(
    { config, pools: sim.pools.map((p) => ({ name: p.name, models: p.models, gpus: p.gpus, nodes: p.nodes.length })), runs },
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    1,
  );
}

// ---- the goals experiment -------------------------------------------------------------------

export function goalsMarkdown(cases: readonly CaseResult[]): string {
  const goals = checkGoals(cases);
  const table = markdownTable(
    ['goal', 'target', 'measured', 'met'],
    goals.map((g) => [g.goal, g.target, g.measured, g.met ? 'yes' : '**no**']),
  );
  // term pricing (--term-hours): jobs cut at a renewal they declined, over every AMM run
  const runs = cases.flatMap((c) => [c.ammAtCost, ...c.comparisons.map((x) => x.amm)]);
  const cut = runs.reduce((a, r) => a + r.total.cut, 0);
  if (cut === 0) return table;
  const lost = runs.reduce((a, r) => a + r.total.gpuHoursCut, 0);
  return `${table}\n\nTerm pricing cut ${cut} jobs at renewal over ${runs.length} AMM runs, losing ${int(lost)} GPU-hours.`;
}

/** Per scenario: efficiency, and the AMM/fixed ratios at each compared price (min / median over seeds). */
export function casesMarkdown(cases: readonly CaseResult[]): string {
  const scenarios = [...new Set(cases.map((c) => c.scenario))];
  const mm = (xs: number[], f: (x: number) => string): string => `${f(Math.min(...xs))} / ${f(median(xs))}`;
  const ratio = (x: number): string => x.toFixed(3);
  const yardstick = (xs: number[]): string => (xs.length ? `${mm(xs, ratio)} (${xs.length})` : '—');
  const eff = markdownTable(
    ['scenario', 'efficiency min / median', 'welfare-best fixed price, per seed', 'revenue-best fixed price, per seed'],
    scenarios.map((s) => {
      const cs = cases.filter((c) => c.scenario === s);
      return [
        s,
        mm(cs.map((c) => c.efficiency), (x) => pct(x, 1)),
        cs.map((c) => c.bestWelfare.level.toFixed(2)).join(' '),
        cs.map((c) => c.bestRevenue.level.toFixed(2)).join(' '),
      ];
    }),
  );
  const rows: string[][] = [];
  for (const s of scenarios) {
    const cs = cases.filter((c) => c.scenario === s);
    for (const level of cs[0]!.comparisons.map((c) => c.level)) {
      const comps = cs.map((c) => c.comparisons.find((x) => x.level === level)!);
      rows.push([
        s,
        `${level}`,
        mm(comps.map((c) => c.revenueRatio), ratio),
        mm(comps.map((c) => c.welfareRatio), ratio),
        mm(comps.map((c) => c.busyRevenueRatio), ratio),
        `${comps.filter((c) => c.queued).length} of ${comps.length}`,
        yardstick(comps.flatMap((c) => (c.hindsightOneRatio === undefined ? [] : [c.hindsightOneRatio]))),
        yardstick(comps.flatMap((c) => (c.hindsightRatio === undefined ? [] : [c.hindsightRatio]))),
      ]);
    }
  }
  const vs = markdownTable(
    ['scenario', 'p (× ref)', 'revenue AMM(p) / fixed(p)', 'welfare AMM(p) / fixed(p)', 'revenue, busy-week leases', 'seeds where fixed(p) queues', 'hindsight, one price / fixed(p), where >= 5% queue (seeds)', 'hindsight, weekly prices'],
    rows,
  );
  return `${eff}\n\nAMM with floor p against fixed(p), min / median over seeds:\n\n${vs}`;
}

/** One row per scenario, seed and compared price. */
export function casesCsv(cases: readonly CaseResult[]): string {
  const rows: (string | number)[][] = [
    ['scenario', 'seed', 'efficiency', 'best_welfare_price', 'best_revenue_price', 'level', 'fixed_paid', 'amm_paid', 'revenue_ratio', 'fixed_welfare', 'amm_welfare', 'welfare_ratio', 'fixed_waited', 'fixed_served', 'hindsight_one_ratio', 'hindsight_one_level', 'hindsight_weekly_ratio', 'hindsight_weekly_levels', 'hindsight_best_ratio', 'understating_buyers', 'understating_surplus', 'understating_truthful_surplus'],
  ];
  for (const c of cases) {
    for (const x of c.comparisons) {
      rows.push([
        c.scenario,
        c.seed,
        c.efficiency,
        c.bestWelfare.level,
        c.bestRevenue.level,
        x.level,
        tokens(x.fixed.revenue),
        tokens(x.amm.total.paid),
        x.revenueRatio,
        tokens(x.fixed.welfare),
        tokens(x.amm.total.value - x.amm.total.cost),
        x.welfareRatio,
        x.fixed.result.total.waited,
        x.fixed.result.total.served,
        x.hindsightOneRatio ?? '',
        x.hindsightOneLevel ?? '',
        x.hindsightRatio ?? '',
        x.hindsightLevels?.join(' ') ?? '',
        x.hindsightBestRatio ?? '',
        x.understating?.buyers ?? '',
        x.understating ? tokens(x.understating.surplus) : '',
        x.understating ? tokens(x.understating.truthfulSurplus) : '',
      ]);
    }
  }
  return csv(rows);
}
