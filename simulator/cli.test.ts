import { configFrom, createSimulateCommand, parseSeeds, runSimulate, type SimulateIo } from './cli.js';
import { parseCsv } from './csv.js';

function memoryIo(files: Record<string, string>): SimulateIo & { written: Map<string, string>; printed: string[] } {
  const written = new Map<string, string>();
  const printed: string[] = [];
  return {
    written,
    printed,
    readText: async (p) => {
      const f = files[p];
      if (f === undefined) throw new Error(`no file ${p}`);
      return f;
    },
    writeText: async (p, t) => void written.set(p, t),
    makeDir: async () => {},
    stdout: { write: (s: string) => printed.push(s) },
    stderr: { write: () => true },
  };
}

const NODES = 'model,gpu\nA,2\nA,2\nB,4\n';
const TASKS =
  'name,num_gpu,gpu_milli,gpu_spec,creation_time,scheduled_time,deletion_time\n' +
  Array.from({ length: 60 }, (_, i) => `t${i},${1 + (i % 2)},1000,,${i * 900},${i * 900},${i * 900 + 3600 * (1 + (i % 3))}`).join('\n') +
  '\n';

describe('seeds', () => {
  test.each([
    ['5', [1, 2, 3, 4, 5]],
    ['3-5', [3, 4, 5]],
    ['7,1', [7, 1]],
  ])('%s', (text, seeds) => expect(parseSeeds(text)).toEqual(seeds));

  test('refuses nonsense', () => expect(() => parseSeeds('a')).toThrow());
});

describe('pinfi simulate', () => {
  test('flags become a frozen configuration with the OpenB files by default', async () => {
    const io = memoryIo({});
    let seen: unknown;
    const cmd = createSimulateCommand(io);
    cmd.action((flags) => {
      seen = configFrom(flags);
    });
    await cmd.parseAsync(['--seeds', '2', '--policies', 'amm@0.5,fixed', '--capacity-scale', '0.01', '--single-pool', '--target-utilization', '0.95', '--term-hours', '24', '--renew-at', 'level', '--preemptible', 'restart'], { from: 'user' });
    expect(seen).toMatchObject({
      seeds: [1, 2],
      policies: [{ kind: 'amm', floor: 0.5 }, { kind: 'fixed' }],
      capacityScale: 0.01,
      singlePool: true,
      amm: { targetUtilizationPpm: 950_000, termSeconds: 86_400, renewAt: 'level', preemptible: 'restart' },
      fractional: 'shared',
    });
    expect((seen as { nodes: string }).nodes).toMatch(/shared\/data\/alibaba-openb-2023\/openb_node_list_gpu_node\.csv$/);
    expect(Object.isFrozen(seen)).toBe(true);
  });

  test('runs on a small trace and writes the table and the data (no plots)', async () => {
    const io = memoryIo({ '/in/nodes.csv': NODES, '/in/tasks.csv': TASKS });
    const cmd = createSimulateCommand(io);
    await cmd.parseAsync(['--nodes', '/in/nodes.csv', '--tasks', '/in/tasks.csv', '--out', '/out', '--seeds', '2', '--no-plots'], { from: 'user' });
    expect([...io.written.keys()].sort()).toEqual(['/out/results.csv', '/out/results.json', '/out/series.csv', '/out/summary.md', '/out/sweep.csv']);
    const summary = io.written.get('/out/summary.md')!;
    expect(summary).toMatch(/\| amm@0\.40 \| floor 0\.40 \|/);
    expect(summary).toMatch(/\| best-fixed \| price /);
    expect(io.printed.join('')).toMatch(/pools \(GPUs\): A 4, B 4/);
    expect(io.written.get('/out/results.csv')!.split('\n')[0]).toMatch(/^seed,policy,level,pool,gpus,utilisation/);
  });

  test('a task list without timestamps is accepted and says so', async () => {
    const io = memoryIo({ '/n.csv': 'gpu_type,gpus\nX,8\n', '/t.csv': 'num_gpu,gpu_milli\n1,1000\n1,500\n2,1000\n' });
    const config = configFrom({
      nodes: '/n.csv',
      tasks: '/t.csv',
      out: '/o',
      seeds: [1],
      policies: 'amm,fixed',
      capacityScale: 1,
      nodeModelColumn: 'gpu_type',
      fractional: 'shared',
      defaultReference: 1,
      costRatio: 0.4,
      valueSigma: 0.6,
      patienceHours: 1,
      patienceSigma: 1,
      strategicShare: 0,
      feeBps: 100,
      sampleHours: 1,
      plots: false,
    });
    await runSimulate(config, io);
    expect(io.printed.join('')).toMatch(/no arrival times in the task list: drawn from the model fitted to OpenB/);
    expect(io.written.has('/o/summary.md')).toBe(true);
  });

  test('--goals-capacities runs the goals on one-pool scenarios at those capacities, named with their GPUs', async () => {
    const io = memoryIo({ '/in/nodes.csv': NODES, '/in/tasks.csv': TASKS });
    const cmd = createSimulateCommand(io);
    await cmd.parseAsync(['--nodes', '/in/nodes.csv', '--tasks', '/in/tasks.csv', '--out', '/out', '--seeds', '1', '--no-plots', '--goals', '--goals-capacities', '0.5,0.25'], { from: 'user' });
    const csv = io.written.get('/out/cases.csv')!;
    expect(csv).toMatch(/50% of the GPUs \(4 GPUs, one pool\)/);
    expect(csv).toMatch(/25% of the GPUs \(2 GPUs, one pool\)/);
    expect(csv).not.toMatch(/OpenB/);
    await expect(createSimulateCommand(io).exitOverride().configureOutput({ writeErr: () => {} }).parseAsync(['--goals', '--goals-capacities', '0.5,2'], { from: 'user' })).rejects.toThrow(/each capacity must be a number in \(0, 1\]/);
  });

  test('--strategic-share: the goals also compare what understating buyers get with what they get declaring their value', async () => {
    const io = memoryIo({ '/in/nodes.csv': NODES, '/in/tasks.csv': TASKS });
    const args = ['--nodes', '/in/nodes.csv', '--tasks', '/in/tasks.csv', '--out', '/out', '--seeds', '1', '--no-plots', '--goals', '--goals-capacities', '0.25'];
    await createSimulateCommand(io).parseAsync([...args, '--preemptible', 'checkpoint', '--strategic-share', '0.5'], { from: 'user' });
    const table = parseCsv(io.written.get('/out/cases.csv')!);
    const column = table.header.indexOf('understating_buyers');
    expect(column).toBeGreaterThan(0);
    expect(table.rows.length).toBe(3);
    for (const row of table.rows) expect(Number(row[column])).toBeGreaterThan(0);
    expect(io.written.get('/out/goals.md')).toMatch(/strategic buyers, where fixed\(p\) queues \(\d+ cases\)/);
    const refused = (extra: string[]) => createSimulateCommand(io).exitOverride().configureOutput({ writeErr: () => {} }).parseAsync([...args, ...extra], { from: 'user' });
    await expect(refused(['--preemptible', 'checkpoint', '--strategic-share', '2'])).rejects.toThrow(/strategic share must be a number in \[0, 1\]/);
    await expect(refused(['--strategic-share', '0.5'])).rejects.toThrow(/--strategic-share needs --preemptible/);
    await expect(refused(['--preemptible', 'checkpoint', '--strategic-max-hours', '1'])).rejects.toThrow(/--strategic-max-hours needs --strategic-share/);
  });
});
