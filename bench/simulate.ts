// Time of the whole OpenB replay under all four policies (goal: <= 2 s), one seed, from reading
// the CSV files to the last policy; the baseline measured alongside is a single fixed-price
// replay (what any replay costs). Best and median of a few repetitions: the machine is shared.
//   npx tsx bench/simulate.ts [--repeat 5]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENB_DIR } from '../simulator/cli.js';
import { DEFAULT_DEMAND, drawTasks } from '../simulator/demand.js';
import { buildPools } from '../simulator/pools.js';
import { fixedMarket } from '../simulator/policies/fixed.js';
import { marketContext } from '../simulator/policies/market.js';
import { run } from '../simulator/runner.js';
import { simulate } from '../simulator/simulate.js';
import { parseNodes, parseTasks } from '../simulator/trace.js';

const flag = process.argv.indexOf('--repeat');
const repeat = flag > 0 ? Number(process.argv[flag + 1]) : 5;

type Timing = { load: number; policies: Record<string, number>; total: number; baseline: number };

function once(): Timing {
  const t0 = performance.now();
  const nodes = parseNodes(readFileSync(join(OPENB_DIR, 'openb_node_list_gpu_node.csv'), 'utf8'));
  const tasks = parseTasks(readFileSync(join(OPENB_DIR, 'openb_pod_list_default.csv'), 'utf8')).tasks;
  const t1 = performance.now();
  const policies: Record<string, number> = {};
  let last = t1;
  simulate(nodes, tasks, {
    seeds: [1],
    sampleSeconds: 3600,
    onProgress: (_done, _total, label) => {
      const now = performance.now();
      policies[label.replace(/^seed 1 /, '')] = now - last;
      last = now;
    },
  });
  const total = performance.now() - t0;
  // baseline: one fixed-price replay of the same tasks
  const pools = buildPools(nodes);
  const ctx = marketContext(pools, DEFAULT_DEMAND, 100);
  const sim = drawTasks(tasks, pools, DEFAULT_DEMAND, 1);
  const b0 = performance.now();
  run(fixedMarket(ctx, 1), sim, ctx, { sampleSeconds: 0, tickSeconds: 600 });
  return { load: t1 - t0, policies, total, baseline: performance.now() - b0 };
}

const runs = Array.from({ length: repeat }, once);
const stat = (f: (t: Timing) => number): string => {
  const xs = runs.map(f).sort((a, b) => a - b);
  return `${xs[0]!.toFixed(0).padStart(6)} / ${xs[Math.floor(xs.length / 2)]!.toFixed(0).padStart(6)} ms`;
};
console.log(`node ${process.version}; OpenB: 1,213 nodes, 7,064 GPU tasks, 7 pools; seed 1; best / median of ${repeat}`);
console.log(`${'read and parse the CSV files'.padEnd(44)} ${stat((t) => t.load)}`);
for (const label of Object.keys(runs[0]!.policies)) {
  console.log(`${label.padEnd(44)} ${stat((t) => t.policies[label]!)}`);
}
console.log(`${'whole replay, all four policies'.padEnd(44)} ${stat((t) => t.total)}`);
console.log(`${'baseline: one fixed-price replay'.padEnd(44)} ${stat((t) => t.baseline)}`);
const best = Math.min(...runs.map((t) => t.total));
console.log(`goal <= 2 s: ${best <= 2000 ? 'met' : 'NOT met'} (best ${(best / 1000).toFixed(2)} s)`);
