// The whole vertical slice with every part real: a ComputeLease applied by a user, priced, funded
// on anvil and activated by the operator process (which also runs the enforcement controllers:
// pool taints, scheduling gates, lease-end eviction), its pods admitted by the scheduler plugin's
// webhook, placed by kube-scheduler's `pinfi` profile through the extender onto the lease's
// reserved nodes, evicted at the lease's end, and the lease settled on-chain.
import { Wallet } from 'ethers';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import type { ComputeLease } from '../../operator/src/api/types.js';
import { LEASE_GATE } from '../../operator/src/enforcement/names.js';
import { LeaseEscrow__factory } from '../../operator/src/settlement/generated/index.js';
import { OPENB_MODELS, type GpuNodeSpec } from '../env/gpu-nodes.js';
import { authorizationSecret, deployChainMarket, fundPayer, type ChainMarket } from '../env/market-fixture.js';
import { startOperatorProcess, type OperatorProcess } from '../env/operator-process.js';
import { eventually, testProvider, testRpcUrl } from '../env/testing.js';
import { createNamespace, createPod, events, getPod, listPods, podManifest, running, startSchedulingEnv, type SchedulingEnv } from './harness.js';

const MODEL = OPENB_MODELS.G3;
const POOL = 'h100';
const NS = 'team-e2e';
const PROVIDERS = [Wallet.createRandom().address, Wallet.createRandom().address, Wallet.createRandom().address];
const NODES: GpuNodeSpec[] = PROVIDERS.map((address, i) => ({ name: `h100-${i}`, model: MODEL, gpus: 4, labels: { 'pinfi.io/payout-address': address } }));
const PAYER_KEY = Wallet.createRandom().privateKey;
const PAYER = new Wallet(PAYER_KEY).address;
const SETTLER_KEY = Wallet.createRandom().privateKey;

let env: SchedulingEnv;
let chain: ChainMarket;
let operator: OperatorProcess | undefined;
const suite = randomBytes(2).toString('hex');

async function lease(name: string): Promise<ComputeLease> {
  return env.clients.rest.get<ComputeLease>(`/apis/pinfi.io/v1alpha1/namespaces/${NS}/computeleases/${name}`);
}

beforeAll(async () => {
  const rpc = testProvider();
  for (const a of [new Wallet(SETTLER_KEY).address, PAYER]) await rpc.send('anvil_setBalance', [a, '0x3635C9ADC5DEA00000']);
  rpc.destroy();
  [env, chain] = await Promise.all([
    startSchedulingEnv({ name: `pinfi-e2e-${process.pid}-${suite}`, nodes: NODES, pools: {}, enforcement: false }),
    deployChainMarket(testRpcUrl(), SETTLER_KEY),
  ]);
  await fundPayer(chain, PAYER_KEY, 10_000_000_000n);
  await createNamespace(env.clients, NS);
  await env.cluster.kubectl(['apply', '-f', '-'], stringify({
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'GpuPool',
    metadata: { name: POOL },
    spec: {
      nodeSelector: { matchLabels: { 'nvidia.com/gpu.product': MODEL.product } },
      pricing: { token: chain.token, treasury: `0x${'d'.repeat(40)}`, floorPrice: '1000000', ceilingPrice: '40000000', feeBps: 100 },
      leases: { minDuration: '1m' },
    },
  }));
  operator = await startOperatorProcess({
    kubeconfig: env.cluster.kubeconfig,
    args: ['--no-leader-elect', '--rpc-url', chain.rpcUrl, '--escrow-address', chain.escrow, '--grace', '0', '--settle-batch-window', '200'],
    name: `operator-e2e-${suite}`,
    env: { PINFI_SETTLER_KEY: SETTLER_KEY },
  });
  // The operator's taint controller takes the pool's nodes out of general use.
  await eventually('pool taint on every pool node', async () => {
    const nodes = await Promise.all(NODES.map((n) => env.clients.rest.get<{ spec?: { taints?: { key: string; value?: string }[] } }>(`/api/v1/nodes/${n.name}`)));
    return nodes.every((n) => n.spec?.taints?.some((t) => t.key === 'pinfi.io/pool' && t.value === POOL)) || undefined;
  }, 60_000, 250);
}, 300_000);

afterAll(async () => {
  await operator?.stop();
  chain?.provider.destroy();
  await env?.stop();
});

test('a lease from manifest to settlement: pods gated until Active, run only on the reservation, evicted at the end, paid on-chain', async () => {
  const spec = { pool: POOL, gpus: 6, duration: '1m', maxPrice: { perGpuHour: '40000000' }, payer: { address: PAYER, authorizationSecretRef: { name: 'train-auth' } } };
  await env.cluster.kubectl(['apply', '-f', '-'], stringify({ apiVersion: 'pinfi.io/v1alpha1', kind: 'ComputeLease', metadata: { name: 'train', namespace: NS }, spec }));
  // No authorisation yet: the lease waits, and so do its pods (gated, not retried by the scheduler).
  await eventually('lease waiting for its authorisation', async () => ((await lease('train')).status?.conditions?.some((c) => c.reason === 'AuthorizationMissing') ? true : undefined), 60_000, 250);
  for (const i of [0, 1, 2]) await createPod(env.clients, podManifest(NS, `worker-${i}`, { lease: 'train', gpus: 2 }));
  for (const i of [0, 1, 2]) {
    const p = await getPod(env.clients, NS, `worker-${i}`);
    expect(p?.spec?.schedulerName).toBe('pinfi');
    expect(p?.spec?.schedulingGates?.map((g) => g.name)).toContain(LEASE_GATE);
  }
  await new Promise((r) => setTimeout(r, 3_000));
  expect((await listPods(env.clients, NS)).filter((p) => p.spec?.nodeName)).toEqual([]);

  // The payer signs: the operator funds the escrow on anvil and the lease turns Active.
  const uid = (await lease('train')).metadata?.uid ?? '';
  const secret = await authorizationSecret(chain, PAYER_KEY, 'train-auth', {
    payer: PAYER, namespace: NS, name: 'train', uid, pool: POOL, maxAmount: 10_000_000_000n, deadline: BigInt(Math.floor(Date.now() / 1000) + 3_600), nonce: 1n,
  });
  await env.clients.rest.request({ method: 'POST', path: `/api/v1/namespaces/${NS}/secrets`, body: secret });
  const active = await eventually('lease Active', async () => {
    const l = await lease('train');
    return l.status?.phase === 'Active' ? l : undefined;
  }, 60_000, 100);
  const activeAt = Date.now();
  const reserved = new Set((active.status?.reservation ?? []).map((r) => r.node));
  expect([...reserved].length).toBeGreaterThan(0);
  expect((active.status?.reservation ?? []).reduce((s, r) => s + r.gpus, 0)).toBe(6);

  const pods = await eventually('the lease\'s 3 pods Running', async () => {
    const list = await listPods(env.clients, NS, 'pinfi.io/lease=train');
    return list.length === 3 && list.every(running) ? list : undefined;
  }, 60_000, 100);
  process.stderr.write(`[e2e] lease Active → its 3 pods Running in ${((Date.now() - activeAt) / 1000).toFixed(1)} s\n`);
  for (const p of pods) {
    expect(reserved.has(p.spec?.nodeName ?? '')).toBe(true);
    expect(p.spec?.schedulingGates ?? []).toEqual([]);
  }
  // GPUs placed within the reservation: no node holds more of the lease's GPUs than reserved there.
  for (const r of active.status?.reservation ?? []) {
    const used = pods.filter((p) => p.spec?.nodeName === r.node).length * 2;
    expect(used).toBeLessThanOrEqual(r.gpus);
  }

  // At the end (1 minute, grace 0): pods evicted, lease settled on-chain, providers paid.
  const settled = await eventually('lease Settled', async () => {
    const l = await lease('train');
    return l.status?.phase === 'Settled' ? l : undefined;
  }, 150_000, 500);
  await eventually('the lease\'s pods gone', async () => ((await listPods(env.clients, NS, 'pinfi.io/lease=train')).length === 0 ? true : undefined), 60_000, 500);
  const ended = await events(env.clients, NS);
  expect(ended.some((e) => e.reason === 'LeaseEnded' && e.kind === 'Pod')).toBe(true);
  expect(settled.status?.closeReason).toBe('Completed');
  expect(settled.status?.chain?.settleTx).toMatch(/^0x[0-9a-f]{64}$/);

  const escrow = LeaseEscrow__factory.connect(chain.escrow, chain.provider);
  const paid = settled.status?.settlement?.providers ?? [];
  expect(paid.length).toBe(reserved.size);
  for (const p of paid) {
    expect(PROVIDERS).toContain(p.address);
    expect(await escrow.owed(p.address)).toBe(BigInt(p.amount));
  }
  const total = paid.reduce((s, p) => s + BigInt(p.amount), 0n) + BigInt(settled.status?.settlement?.fee ?? '0') + BigInt(settled.status?.settlement?.refund ?? '0');
  expect(total).toBe(BigInt(settled.status?.chain?.locked ?? '-1'));
}, 400_000);
