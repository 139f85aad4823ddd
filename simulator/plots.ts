// Plots of a simulation as vega-lite specs, rendered to SVG headless (vega View, renderer 'none').
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { TOKEN } from './demand.js';
import type { CaseResult } from './experiment.js';
import type { FixedPoint } from './search.js';
import type { PolicyRow } from './report.js';
import type { Simulation } from './simulate.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

type Point = { policy: string; pool: string; day: number; price: number | null; utilisation: number };

/** The first seed's series, in about `bins` time bins: the highest price and the mean utilisation of each. */
function binned(sim: Simulation, bins: number, fromDay: number): Point[] {
  const out: Point[] = [];
  for (const run of sim.runs) {
    const s = run.result.series;
    if (!s || s.t.length === 0) continue;
    const first = s.t.findIndex((t) => t >= fromDay * 86400);
    if (first < 0) continue;
    const span = s.t[s.t.length - 1]! - s.t[first]!;
    const width = Math.max(3600, Math.ceil(span / bins / 3600) * 3600);
    sim.pools.forEach((pool, i) => {
      let start = first;
      while (start < s.t.length) {
        const bin = Math.floor(s.t[start]! / width);
        let end = start;
        let used = 0;
        let price: number | null = null;
        while (end < s.t.length && Math.floor(s.t[end]! / width) === bin) {
          used += s.used[i]![end]!;
          const p = s.price[i]![end];
          if (p !== null && p !== undefined) price = Math.max(price ?? 0, p / TOKEN);
          end++;
        }
        out.push({ policy: run.label, pool: pool.name, day: (bin * width) / 86400, price, utilisation: used / (end - start) / pool.units });
        start = end;
      }
    });
  }
  return out;
}

/** Price (highest in each bin) and utilisation (mean) over time, one row per pool, one colour per policy. */
export function poolsSpec(sim: Simulation, title: string, bins = 300, fromDay = 0): TopLevelSpec {
  const data = binned(sim, bins, fromDay);
  const x = { field: 'day', type: 'quantitative', title: 'day of the trace' } as const;
  const color = { field: 'policy', type: 'nominal', title: 'policy', scale: { scheme: 'category10' } } as const;
  const row = (pool: string) => ({
    hconcat: [
      {
        width: 360,
        height: 110,
        title: `${pool}: price per GPU-hour (tokens, bin max)`,
        transform: [{ filter: { field: 'pool', equal: pool } }, { filter: 'datum.price !== null' }],
        mark: { type: 'line', strokeWidth: 1, interpolate: 'step-after' },
        encoding: { x, y: { field: 'price', type: 'quantitative', title: null }, color },
      },
      {
        width: 360,
        height: 110,
        title: `${pool}: utilisation (bin mean)`,
        transform: [{ filter: { field: 'pool', equal: pool } }],
        mark: { type: 'line', strokeWidth: 1 },
        encoding: { x, y: { field: 'utilisation', type: 'quantitative', title: null, axis: { format: '%' } }, color },
      },
    ],
  });
  return {
    $schema: SCHEMA,
    title,
    data: { values: data },
    vconcat: sim.pools.map((p) => row(p.name)),
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

/** Provider revenue, welfare and utilisation by policy (median over seeds). */
export function policiesSpec(rows: readonly PolicyRow[], title: string): TopLevelSpec {
  const bar = (field: string, label: string, format?: string) => ({
    width: 220,
    height: 160,
    title: label,
    mark: 'bar',
    encoding: {
      x: { field: 'policy', type: 'nominal', title: null, sort: null, axis: { labelAngle: -30 } },
      y: { field, type: 'quantitative', title: null, ...(format ? { axis: { format } } : {}) },
      color: { field: 'policy', type: 'nominal', legend: null, scale: { scheme: 'category10' } },
    },
  });
  return {
    $schema: SCHEMA,
    title,
    data: { values: rows.map((r) => ({ ...r })) },
    hconcat: [bar('providerRevenue', 'provider revenue (tokens)'), bar('welfare', 'welfare (tokens)'), bar('utilisation', 'utilisation', '%')],
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

type TradePoint = { scenario: string; what: string; price: number | null; revenue: number; welfare: number };

function sweepPoints(scenario: string, points: readonly FixedPoint[]): TradePoint[] {
  return points.map((p) => ({ scenario, what: 'fixed price (sweep)', price: p.level, revenue: Number(p.revenue) / TOKEN, welfare: p.welfare / TOKEN }));
}

const total = (scenario: string, what: string, r: { total: { paid: bigint; value: number; cost: number } }, price: number | null = null): TradePoint => ({
  scenario,
  what,
  price,
  revenue: Number(r.total.paid) / TOKEN,
  welfare: (r.total.value - r.total.cost) / TOKEN,
});

/** Revenue against welfare: every fixed price of the sweep (a curve), and the other policies. */
function tradeoff(values: TradePoint[], title: string, facet: boolean): TopLevelSpec {
  const order = [...new Set(values.map((v) => v.scenario))];
  const layer = [
    {
      transform: [{ filter: "datum.what === 'fixed price (sweep)'" }],
      mark: { type: 'line', point: true, color: '#999' },
      encoding: {
        x: { field: 'welfare', type: 'quantitative', title: 'welfare (tokens)', scale: { zero: false } },
        y: { field: 'revenue', type: 'quantitative', title: 'buyers paid (tokens)', scale: { zero: false } },
        order: { field: 'price' },
        tooltip: [{ field: 'price' }],
      },
    },
    {
      transform: [{ filter: "datum.what === 'fixed price (sweep)' && (datum.price * 10) % 5 === 0" }],
      mark: { type: 'text', dx: 14, dy: -6, fontSize: 9, color: '#666' },
      encoding: { x: { field: 'welfare', type: 'quantitative' }, y: { field: 'revenue', type: 'quantitative' }, text: { field: 'price', format: '.1f' } },
    },
    {
      transform: [{ filter: "datum.what !== 'fixed price (sweep)'" }],
      mark: { type: 'point', filled: true, size: 90 },
      encoding: {
        x: { field: 'welfare', type: 'quantitative' },
        y: { field: 'revenue', type: 'quantitative' },
        color: { field: 'what', type: 'nominal', title: null, scale: { scheme: 'category10' } },
        shape: { field: 'what', type: 'nominal', title: null },
      },
    },
  ];
  const base = { $schema: SCHEMA, title, data: { values } };
  if (!facet) return { ...base, width: 520, height: 320, layer, config: { font: 'sans-serif' } } as TopLevelSpec;
  return {
    ...base,
    facet: { row: { field: 'scenario', type: 'nominal', title: null, sort: order } },
    spec: { width: 520, height: 240, layer },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

/** Trade-off of a simulation's first seed: the fixed-price sweep and each policy run. */
export function tradeoffSpec(sim: Simulation, title: string): TopLevelSpec | undefined {
  const seed = sim.runs[0]?.seed;
  const sweep = seed === undefined ? undefined : sim.sweeps.get(seed);
  if (!sweep) return undefined;
  const values = [...sweepPoints('', sweep.points), ...sim.runs.filter((r) => r.seed === seed).map((r) => total('', r.label, r.result, r.level ?? null))];
  return tradeoff(values, title, false);
}

/** Trade-off per scenario of the goals experiment (first seed of each). */
export function casesTradeoffSpec(cases: readonly CaseResult[], title: string): TopLevelSpec {
  const firstSeed = cases[0]?.seed;
  const values: TradePoint[] = [];
  for (const c of cases.filter((x) => x.seed === firstSeed)) {
    values.push(...sweepPoints(c.scenario, c.sweep));
    values.push(total(c.scenario, 'amm, floor = cost', c.ammAtCost));
    for (const x of c.comparisons) values.push(total(c.scenario, `amm, floor ${x.level}× ref`, x.amm));
    values.push(total(c.scenario, 'auction', c.auction));
  }
  return tradeoff(values, title, true);
}
