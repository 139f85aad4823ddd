import { policiesSpec, poolsSpec, toSvg, tradeoffSpec } from './plots.js';
import { policyRows } from './report.js';
import { simulate } from './simulate.js';
import type { TraceTask } from './trace.js';

const nodes = [
  { name: 'a0', model: 'A', gpus: 2 },
  { name: 'b0', model: 'B', gpus: 2 },
];
const tasks: TraceTask[] = Array.from({ length: 40 }, (_, i) => ({ id: `t${i}`, arrival: i * 1800, units: 1000, seconds: 5400, models: null }));

test('the plots render to SVG headless', async () => {
  const sim = simulate(nodes, tasks, { seeds: [1], sampleSeconds: 1800 });
  for (const spec of [poolsSpec(sim, 'pools'), policiesSpec(policyRows(sim), 'policies'), tradeoffSpec(sim, 'trade-off')!]) {
    const svg = await toSvg(spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.length).toBeGreaterThan(1000);
  }
});
