import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fitArrivalModel, OPENB_FIT, synthesise } from './arrivals.js';
import { OPENB_DIR } from './cli.js';
import { parseCsv } from './csv.js';
import { acceptablePools, buildPools } from './pools.js';
import { stream } from './random.js';
import { parseNodes, parseTasks } from './trace.js';

const OPENB_NODES = `sn,cpu_milli,memory_mib,gpu,model
openb-node-0000,64000,262144,2,P100
openb-node-0001,64000,262144,0,
openb-node-0002,96000,786432,8,G2
openb-node-0003,96000,786432,8,G2
`;

const OPENB_TASKS = `name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
openb-pod-0002,12000,24576,1,1000,,LS,Running,1558381,12902960,1558381
openb-pod-0001,6000,12288,1,460,,LS,Running,427061,12902960,427061
openb-pod-0005,20000,65536,0,0,,LS,Running,2759674,12902960,2759676
openb-pod-0017,88000,327680,8,1000,G2|V100M32,Burstable,Succeeded,9437497,10769854,9437497
openb-pod-0061,11908,47104,1,1000,,BE,Pending,10001278,10001403,
`;

describe('CSV', () => {
  test('quoted fields, CRLF, trailing newline', () => {
    expect(parseCsv('a,"b,c"\r\n"x ""y""",2\r\n')).toEqual({ header: ['a', 'b,c'], rows: [['x "y"', '2']] });
  });
});

describe('node lists', () => {
  test('OpenB shape: one pool per model, CPU-only nodes left out', () => {
    const nodes = parseNodes(OPENB_NODES);
    expect(nodes).toEqual([
      { name: 'openb-node-0000', model: 'P100', gpus: 2 },
      { name: 'openb-node-0002', model: 'G2', gpus: 8 },
      { name: 'openb-node-0003', model: 'G2', gpus: 8 },
    ]);
    expect(buildPools(nodes).map((p) => [p.name, p.gpus, p.units])).toEqual([
      ['G2', 16, 16000],
      ['P100', 2, 2000],
    ]);
  });

  test('(model, GPU count) rows under other column names, with a count column', () => {
    const text = 'kind,per_node,how_many\nA100,8,3\nT4,4,1\n';
    const nodes = parseNodes(text, { model: 'kind', gpus: 'per_node', count: 'how_many' });
    expect(nodes.map((n) => `${n.name}:${n.model}:${n.gpus}`)).toEqual(['node-0-0:A100:8', 'node-0-1:A100:8', 'node-0-2:A100:8', 'node-1:T4:4']);
  });

  test('a missing column is named in the error', () => {
    expect(() => parseNodes('a,b\n1,2\n')).toThrow(/no column named model.*columns: a, b/);
  });

  test('scaling keeps a fraction of the GPUs; a single pool merges models', () => {
    const nodes = Array.from({ length: 100 }, (_, i) => ({ name: `n${i}`, model: i % 2 ? 'X' : 'Y', gpus: 8 }));
    const pools = buildPools(nodes, { capacityScale: 0.05, singlePool: true });
    expect(pools).toHaveLength(1);
    expect(pools[0]!.gpus).toBe(40);
    expect(pools[0]!.models).toEqual(['X', 'Y']);
    expect(() => buildPools(nodes, { capacityScale: 0 })).toThrow(RangeError);
  });
});

describe('task lists', () => {
  test('OpenB shape: by arrival; fractions in milli-GPUs; CPU-only skipped; pending tasks run for as long as they were wanted', () => {
    const list = parseTasks(OPENB_TASKS);
    expect(list.hasArrivals && list.hasDurations).toBe(true);
    expect(list.skipped).toEqual({ cpuOnly: 1, bad: 0 });
    expect(list.tasks.map((t) => [t.id, t.arrival, t.units, t.seconds, t.models])).toEqual([
      ['openb-pod-0001', 427061, 460, 12902960 - 427061, null],
      ['openb-pod-0002', 1558381, 1000, 12902960 - 1558381, null],
      ['openb-pod-0017', 9437497, 8000, 10769854 - 9437497, ['G2', 'V100M32']],
      ['openb-pod-0061', 10001278, 1000, 125, null],
    ]);
  });

  test('fractional: whole rounds shared GPUs up', () => {
    expect(parseTasks(OPENB_TASKS, { fractional: 'whole' }).tasks[0]!.units).toBe(1000);
  });

  test('acceptable models pick pools', () => {
    const pools = buildPools(parseNodes(OPENB_NODES));
    const [, , gpuSpec] = parseTasks(OPENB_TASKS).tasks;
    expect(acceptablePools(gpuSpec!, pools)).toEqual([0]); // G2 only (no V100M32 pool)
  });

  test('a duration column and no end times', () => {
    const list = parseTasks('id,gpus,arrival,duration\na,2,10,300\nb,1,5,0\n');
    expect(list.tasks.map((t) => [t.id, t.arrival, t.units, t.seconds])).toEqual([
      ['b', 5, 1000, 1],
      ['a', 10, 2000, 300],
    ]);
  });

  test('no timestamps: arrivals and durations from the fitted model, seeded', () => {
    const list = parseTasks('num_gpu,gpu_milli\n1,1000\n2,1000\n1,250\n'.repeat(1) + '1,1000\n'.repeat(200));
    expect(list.hasArrivals || list.hasDurations).toBe(false);
    const a = synthesise(list, OPENB_FIT, stream(1, 'arrivals'));
    const b = synthesise(list, OPENB_FIT, stream(1, 'arrivals'));
    expect(a).toEqual(b);
    expect(a.every((t, i) => i === 0 || t.arrival >= a[i - 1]!.arrival)).toBe(true);
    expect(a.every((t) => t.seconds >= 1)).toBe(true);
    // about 8.7 arrivals an hour
    const hours = a[a.length - 1]!.arrival / 3600;
    expect(a.length / hours).toBeGreaterThan(5);
    expect(a.length / hours).toBeLessThan(14);
    expect(synthesise(list, OPENB_FIT, stream(2, 'arrivals'))).not.toEqual(a);
  });
});

const openbTasks = join(OPENB_DIR, 'openb_pod_list_default.csv');
(existsSync(openbTasks) ? test : test.skip)('OPENB_FIT is what fitArrivalModel gives on the OpenB trace', () => {
  expect(fitArrivalModel(parseTasks(readFileSync(openbTasks, 'utf8')).tasks)).toEqual(OPENB_FIT);
});
