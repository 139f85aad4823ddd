import { DEFAULT_DEMAND } from './demand.js';
import { parsePolicy, policyLabel, simulate } from './simulate.js';
import { stream } from './random.js';
import type { NodeSpec, TraceTask } from './trace.js';

/** A small random trace: 300 tasks over two days on 3 pools of 4 GPUs, busy enough to queue. */
function smallTrace(): { nodes: NodeSpec[]; tasks: TraceTask[] } {
  const r = stream(99, 'fixture');
  const nodes = ['A', 'B', 'C'].flatMap((model) => [0, 1].map((i) => ({ name: `${model}${i}`, model, gpus: 2 })));
  let t = 0;
  const tasks = Array.from({ length: 300 }, (_, i): TraceTask => {
    t += Math.round(r.exponential(600));
    const whole = r.next() < 0.7;
    return {
      id: `t${i}`,
      arrival: t,
      units: whole ? 1000 * (1 + Math.floor(r.next() * 2)) : 250,
      seconds: Math.max(1, Math.round(r.logNormal(3600, 1))),
      models: r.next() < 0.2 ? ['A'] : null,
    };
  });
  return { nodes, tasks };
}

describe('simulate', () => {
  const { nodes, tasks } = smallTrace();
  const options = { seeds: [1, 2], sampleSeconds: 3600 };

  test('a seeded run is deterministic', () => {
    const a = simulate(nodes, tasks, options);
    const b = simulate(nodes, tasks, options);
    expect(b.runs).toEqual(a.runs);
    expect(a.runs.map((r) => r.label)).toEqual(['amm@0.40', 'fixed@1.00', 'auction@0.50-1.50', 'best-fixed', 'amm@0.40', 'fixed@1.00', 'auction@0.50-1.50', 'best-fixed']);
  });

  test('different seeds draw different buyers', () => {
    const a = simulate(nodes, tasks, { ...options, seeds: [1] });
    const b = simulate(nodes, tasks, { ...options, seeds: [2] });
    expect(b.runs[0]!.result.total.paid).not.toBe(a.runs[0]!.result.total.paid);
  });

  test('the books balance: every task is served or not, paid includes the fee, series cover every pool', () => {
    const sim = simulate(nodes, tasks, { ...options, seeds: [3] });
    for (const run of sim.runs) {
      const t = run.result.total;
      expect(t.served + t.unserved).toBe(tasks.length);
      expect(t.fee * 100n).toBeLessThanOrEqual(t.paid);
      expect(run.result.series!.used).toHaveLength(3);
    }
    const amm = sim.runs.find((r) => r.policy.kind === 'amm')!.result;
    const fixed = sim.runs.find((r) => r.policy.kind === 'fixed')!.result;
    // the AMM's floor (0.4) is below the fixed price (1): it serves more
    expect(amm.total.served).toBeGreaterThan(fixed.total.served);
  });
});

describe('policies as text', () => {
  test.each([
    ['amm', { kind: 'amm' }, 'amm@0.40'],
    ['amm@1.5', { kind: 'amm', floor: 1.5 }, 'amm@1.50'],
    ['fixed', { kind: 'fixed' }, 'fixed@1.00'],
    ['fixed@0.5', { kind: 'fixed', price: 0.5 }, 'fixed@0.50'],
    ['auction@0.4-1.6', { kind: 'auction', low: 0.4, high: 1.6 }, 'auction@0.40-1.60'],
    ['best-fixed', { kind: 'best-fixed' }, 'best-fixed'],
  ])('%s', (text, spec, label) => {
    expect(parsePolicy(text)).toEqual(spec);
    expect(policyLabel(parsePolicy(text), DEFAULT_DEMAND)).toBe(label);
  });

  test.each(['lottery', 'amm@-1', 'auction@2-1', 'fixed@x'])('refuses %s', (text) => {
    expect(() => parsePolicy(text)).toThrow();
  });
});
