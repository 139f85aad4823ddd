// The pool controller against the real control plane: a GpuPool applied with kubectl shows its
// nodes' GPUs and a price; cordoning, adding and removing nodes and other pods' GPU use move free
// capacity and the price; the quote endpoint answers; a restarted operator keeps its prices.
import { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import type { GpuPool } from '../../operator/src/api/types.js';
import { GPU_POOLS } from '../../operator/src/api/resources.js';
import { OPENB_MODELS } from '../env/gpu-nodes.js';
import { createNodes, waitNodesReady } from '../env/nodes-io.js';
import { startOperatorProcess, type OperatorProcess } from '../env/operator-process.js';
import { deleteNamespace, eventually, kubectl, newNamespace, removeLeasesAndPool, testKubeConfig, testKubeconfigPath } from '../env/testing.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const suite = randomBytes(3).toString('hex');
const POOL = `pool-${suite}`;
const node = (i: number) => `pooltest-${suite}-${i}`;
const label = { 'pinfi-test/suite': suite };
let op: OperatorProcess;
let ns: string;

async function getPool(): Promise<GpuPool> {
  return JSON.parse(await kubectl(['get', 'gpupool', POOL, '-o', 'json'])) as GpuPool;
}

function until(what: string, pred: (p: GpuPool) => boolean, timeoutMs = 30_000): Promise<GpuPool> {
  return eventually(what, async () => {
    const p = await getPool();
    return pred(p) ? p : undefined;
  }, timeoutMs);
}

const manifest = {
  apiVersion: `${GPU_POOLS.group}/${GPU_POOLS.version}`,
  kind: 'GpuPool',
  metadata: { name: POOL },
  spec: {
    nodeSelector: { matchLabels: { ...label, 'nvidia.com/gpu.product': OPENB_MODELS.G2.product } },
    pricing: {
      token: `0x${'a'.repeat(40)}`,
      treasury: `0x${'b'.repeat(40)}`,
      floorPrice: '1000000',
      ceilingPrice: '40000000',
      initialPrice: '3000000',
      depth: 2,
      responseTime: '1m',
    },
  },
};

beforeAll(async () => {
  ns = await newNamespace('pools');
  await createNodes(kc, [0, 1, 2].map((i) => ({ name: node(i), model: OPENB_MODELS.G2, gpus: i === 2 ? 4 : 8, labels: label })));
  await waitNodesReady(kc, [node(0), node(1), node(2)]);
  op = await startOperatorProcess({ kubeconfig: testKubeconfigPath(), args: ['--price-refresh', '1', '--no-leader-elect'], name: `operator-pools-${suite}` });
  await kubectl(['apply', '-f', '-'], stringify(manifest));
});

afterAll(async () => {
  await removeLeasesAndPool(ns, POOL);
  await op?.stop();
  for (const i of [0, 1, 2, 3]) await core.deleteNode({ name: node(i) }).catch(() => undefined);
  await deleteNamespace(ns);
});

test('kubectl get gpupools shows product, GPUs, free, price and utilisation', async () => {
  const p = await until('pool Ready with 20 GPUs', (x) => x.status?.allocatable === 20 && x.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true);
  expect(p.status).toMatchObject({ product: OPENB_MODELS.G2.product, nodeCount: 3, free: 20, leased: 0, utilization: '0.0000' });
  expect(BigInt(p.status?.spotPrice ?? '0')).toBeGreaterThanOrEqual(1_000_000n);
  expect(p.status?.observedGeneration).toBe(p.metadata?.generation);
  const table = await kubectl(['get', 'gpupools', POOL]);
  expect(table).toMatch(/NAME\s+PRODUCT\s+GPUS\s+FREE\s+PRICE\s+UTIL\s+READY\s+AGE/);
  expect(table).toContain(`${POOL}   ${OPENB_MODELS.G2.product}   20     20`);
});

async function occupy(gpusPerNode: readonly number[]): Promise<void> {
  for (const [i, gpus] of gpusPerNode.entries()) {
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: `squatter-${i}` },
        spec: { nodeName: node(i), containers: [{ name: 'c', image: 'x', resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }] },
      },
    });
  }
}

async function vacate(): Promise<void> {
  await core.deleteCollectionNamespacedPod({ namespace: ns, gracePeriodSeconds: 0 });
  await until('free 20 again', (x) => x.status?.free === 20 && x.status.usedByOthers === 0);
}

test('other pods taking GPUs lower free capacity; past the target utilisation the price rises', async () => {
  const before = await until('idle', (x) => x.status?.free === 20);
  // Below u* = 0.9 the kink keeps the price at the floor.
  await occupy([6]);
  const some = await until('free 14', (x) => x.status?.free === 14);
  expect(some.status).toMatchObject({ usedByOthers: 6, utilization: '0.3000', spotPrice: '1000000' });
  await vacate();
  // 19 of 20 taken: X = 1 + depth 2 = 3 < X* = 20·0.1 + 2 = 4, so the price leaves the floor.
  await occupy([8, 8, 3]);
  const busy = await until('free 1', (x) => x.status?.free === 1);
  expect(busy.status?.utilization).toBe('0.9500');
  expect(BigInt(busy.status?.spotPrice ?? '0')).toBeGreaterThan(BigInt(before.status?.spotPrice ?? '0'));
  await vacate();
});

test('cordoning a node removes its GPUs; uncordoning brings them back', async () => {
  await kubectl(['cordon', node(1)]);
  const p = await until('allocatable 12', (x) => x.status?.allocatable === 12);
  expect(p.status?.excludedNodes).toEqual(expect.arrayContaining([{ name: node(1), reason: 'Cordoned' }]));
  await kubectl(['uncordon', node(1)]);
  await until('allocatable 20', (x) => x.status?.allocatable === 20);
});

test('a node joining and leaving moves capacity, with an event', async () => {
  await createNodes(kc, [{ name: node(3), model: OPENB_MODELS.G2, gpus: 8, labels: label }]);
  await until('allocatable 28', (x) => x.status?.allocatable === 28);
  await core.deleteNode({ name: node(3) });
  await until('allocatable 20', (x) => x.status?.allocatable === 20);
  const events = await kubectl(['get', 'events', '-A', '--field-selector', `involvedObject.name=${POOL}`, '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
  expect(events).toContain('CapacityChanged');
});

test.each([
  ['?pool=%P&gpus=2&hours=3', 200, /"perGpuHour":"\d+"/],
  ['?pool=%P&gpus=2&duration=1h30m', 200, /"seconds":5400/],
  ['?pool=%P&gpus=0&hours=3', 400, /gpus must be/],
  ['?pool=%P&gpus=2&hours=-1', 400, /hours must be/],
  ['?pool=%P&gpus=2', 400, /give hours/],
  ['?gpus=2&hours=1', 400, /pool is required/],
  ['?pool=nope&gpus=2&hours=1', 404, /no GpuPool named nope/],
  ['?pool=%P&gpus=999&hours=1', 409, /free GPUs/],
])('GET /quote%s → %i', async (query, status, body) => {
  await until('Ready', (x) => x.status?.allocatable === 20);
  const res = await fetch(`${op.url}/quote${query.replace('%P', POOL)}`);
  expect(res.status).toBe(status);
  expect(await res.text()).toMatch(body);
});

test('a quote for more GPUs costs more per GPU-hour (price impact) and changes nothing', async () => {
  const q = async (gpus: number) => {
    const res = await fetch(`${op.url}/quote?pool=${POOL}&gpus=${gpus}&hours=1`);
    const body = (await res.json()) as { perGpuHour: string; priceImpactBps: number; free: number; error?: string };
    if (res.status !== 200) throw new Error(`quote ${gpus}: ${res.status} ${body.error}`);
    return body;
  };
  const small = await q(1);
  const big = await q(18);
  expect(BigInt(big.perGpuHour)).toBeGreaterThan(BigInt(small.perGpuHour));
  expect(big.priceImpactBps).toBeGreaterThan(small.priceImpactBps);
  expect((await q(1)).free).toBe(20);
});

test('a restarted operator continues from the persisted price instead of resetting it', async () => {
  // A full pool (u = 1 > u*) pushes K up over time; a reset would reopen at the initial K.
  await occupy([8, 8, 4]);
  await until('full', (x) => x.status?.free === 0);
  await new Promise((r) => setTimeout(r, 3000));
  await op.kill();
  const frozen = await getPool();
  op = await startOperatorProcess({ kubeconfig: testKubeconfigPath(), args: ['--price-refresh', '1', '--no-leader-elect'], name: `operator-pools-${suite}-2` });
  const after = await until('re-priced after restart', (x) => (x.status?.pricing?.at ?? 0) > (frozen.status?.pricing?.at ?? 0));
  expect(after.status?.pricing?.sequence).toBe(frozen.status?.pricing?.sequence);
  expect(BigInt(after.status?.pricing?.k ?? '0')).toBeGreaterThanOrEqual(BigInt(frozen.status?.pricing?.k ?? '0'));
  expect(BigInt(after.status?.spotPrice ?? '0')).toBeGreaterThanOrEqual(BigInt(frozen.status?.spotPrice ?? '0'));
  await vacate();
});
