// Pre-emptible leases against the real control plane and a real chain (anvil): a lease whose
// limit is below the price waits in a pool that does not lend; once the pool lends idle GPUs it
// runs on them at the floor; a priced lease pre-empts it (its pod is evicted at once, the time it
// ran is kept), it resumes when GPUs are free again, and its settlement charges the floor for the
// GPU-seconds it ran and refunds the rest, on-chain.
import { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { stringify } from 'yaml';
import type { ComputeLease, GpuPool } from '../../operator/src/api/types.js';
import { LeaseEscrow__factory } from '../../operator/src/settlement/generated/index.js';
import { leaseIdOf } from '../../operator/src/settlement/index.js';
import { ANVIL_KEYS } from '../env/anvil.js';
import { OPENB_MODELS } from '../env/gpu-nodes.js';
import { deployChainMarket, fundPayer, leaseAuthorizationSecret, testPoolYaml, type ChainMarket } from '../env/market-fixture.js';
import { createNodes, waitNodesReady } from '../env/nodes-io.js';
import { startOperatorProcess, type OperatorProcess } from '../env/operator-process.js';
import { deleteNamespace, eventually, kubectl, leaseReader, newNamespace, removeLeasesAndPool, testKubeConfig, testKubeconfigPath, testRpcUrl } from '../env/testing.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const suite = randomBytes(3).toString('hex');
const POOL = `lend-pool-${suite}`;
const NODE = `lendtest-${suite}`;
const PAYER_KEY = ANVIL_KEYS[5];
const PAYER = new Wallet(PAYER_KEY).address;
const PROVIDER = new Wallet(ANVIL_KEYS[6]).address;
const FLOOR = 1_000_000n;
let chain: ChainMarket;
let op: OperatorProcess;
let ns: string;

const { getLease, untilLease } = leaseReader(() => ns);
const escrow = () => LeaseEscrow__factory.connect(chain.escrow, chain.provider);
/** The value of the operator's series `name` for this test's pool (and `event`, if given), or undefined. */
const metric = async (name: string, event?: string): Promise<number | undefined> => {
  const text = await (await fetch(`${op.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`pool="${POOL}"`) && (event === undefined || l.includes(`event="${event}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};
const events = (name: string) => kubectl(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);

async function applyPool(lendIdleGpus: boolean, more: { maxLent?: number | string } = {}): Promise<void> {
  await kubectl(['apply', '-f', '-'], testPoolYaml(POOL, { suite, token: chain.token, pricing: { floorPrice: FLOOR.toString() }, leases: { lendIdleGpus, ...more } }));
}

/** Applies a lease and signs its authorisation for exactly its limit. */
async function leaseSigned(name: string, spec: Partial<ComputeLease['spec']>, maxAmount: bigint): Promise<ComputeLease> {
  await kubectl(['apply', '-n', ns, '-f', '-'], stringify({
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'ComputeLease',
    metadata: { name },
    spec: { pool: POOL, payer: { address: PAYER, authorizationSecretRef: { name: `${name}-auth` } }, ...spec },
  }));
  const lease = await getLease(name);
  await core.createNamespacedSecret({ namespace: ns, body: await leaseAuthorizationSecret(chain, PAYER_KEY, lease, maxAmount) });
  return lease;
}

const startOp = () =>
  startOperatorProcess({
    kubeconfig: testKubeconfigPath(),
    args: ['--no-leader-elect', '--rpc-url', chain.rpcUrl, '--escrow-address', chain.escrow, '--settle-batch-window', '200', '--grace', '0'],
    name: `operator-lend-${suite}`,
    env: { PINFI_SETTLER_KEY: chain.settlerKey },
  });

beforeAll(async () => {
  ns = await newNamespace('lend');
  chain = await deployChainMarket(testRpcUrl(), ANVIL_KEYS[1]);
  await fundPayer(chain, PAYER_KEY, 1_000_000_000n);
  await createNodes(kc, [{ name: NODE, model: OPENB_MODELS.V100M32, gpus: 4, labels: { 'pinfi-test/suite': suite, 'pinfi.io/payout-address': PROVIDER } }]);
  await waitNodesReady(kc, [NODE]);
  await applyPool(false);
  op = await startOp();
  await eventually('pool priced', async () => ((await fetch(`${op.url}/pools`)).json() as Promise<{ name: string; allocatable: number }[]>).then((ps) => ps.find((p) => p.name === POOL && p.allocatable === 4)));
});

afterAll(async () => {
  await removeLeasesAndPool(ns, POOL);
  await op?.stop();
  for (const n of [NODE, `${NODE}-b`]) await core.deleteNode({ name: n }).catch(() => undefined);
  await deleteNamespace(ns);
});

// All 4 GPUs for 10 min at no more than the floor: past the target utilisation a curve this steep
// (depth 1) quotes far above it.
const CHEAP = { gpus: 4, duration: '10m', maxPrice: { perGpuHour: FLOOR.toString() }, preemptible: true };
const CHEAP_LIMIT = (FLOOR * 4n * 600n) / 3600n; // 666,666

test('a pre-emptible lease in a pool that does not lend waits for the price like any other', async () => {
  await leaseSigned('cheap', CHEAP, CHEAP_LIMIT);
  const waiting = await untilLease('cheap', 'Waiting', (l) => l.status?.phase === 'Waiting');
  expect(waiting.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('PriceAboveLimit');
});

let lentAt: ComputeLease;

test('once the pool lends idle GPUs it runs on them at the floor, locking its whole limit', async () => {
  await applyPool(true);
  const lent = await untilLease('cheap', 'Active on lent GPUs', (l) => l.status?.phase === 'Active');
  expect(lent.status?.preemptible).toBe(true);
  expect(lent.status?.conditions?.find((c) => c.type === 'Quoted')?.reason).toBe('LentAtFloor');
  expect(lent.status?.reservation).toEqual([{ node: NODE, gpus: 4, payoutAddress: PROVIDER, pricePerGpuHour: FLOOR.toString() }]);
  expect(lent.status?.chain?.locked).toBe(CHEAP_LIMIT.toString());
  expect((await escrow().leaseStates([lent.status?.chain?.leaseId ?? '']))[0]?.locked).toBe(CHEAP_LIMIT);
  // The curve counts lent GPUs as free: the price stays where it was, and the pool says what is lent.
  const pool = await eventually('pool shows lent GPUs', async () => {
    const p = JSON.parse(await kubectl(['get', 'gpupool', POOL, '-o', 'json'])) as GpuPool;
    return p.status?.lent === 4 ? p : undefined;
  });
  expect(pool.status).toMatchObject({ free: 4, leased: 0, lent: 4, spotPrice: FLOOR.toString() });
  expect(await kubectl(['get', 'gpupool', POOL, '-o', 'wide'])).toMatch(/LENT/);
  expect(await kubectl(['get', 'computelease', 'cheap', '-n', ns, '-o', 'wide'])).toMatch(/LENT[\s\S]*true/);
  expect(await events('cheap')).toContain('Lent');
  expect(await eventually('lent GPUs metric', async () => ((await metric('pinfi_pool_lent_gpus')) === 4 ? 4 : undefined))).toBe(4);
  expect(await metric('pinfi_preemptible_events_total', 'lent')).toBe(1);
  expect(await metric('pinfi_preemptible_events_total', 'preempted')).toBeUndefined();
  lentAt = lent;
});

test('a priced lease pre-empts it: the pod goes at once, the time it ran is kept, its GPUs change hands', async () => {
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'cheap-worker', labels: { 'pinfi.io/lease': 'cheap' } },
      spec: { nodeName: NODE, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'c', image: 'x', resources: { limits: { 'nvidia.com/gpu': '4' } } }] },
    },
  });
  await leaseSigned('urgent', { gpus: 2, duration: '1m', maxPrice: { total: '10000000' } }, 10_000_000n);
  const urgent = await untilLease('urgent', 'Active', (l) => l.status?.phase === 'Active');
  expect(urgent.status?.preemptible).toBeFalsy();
  expect(urgent.status?.reservation).toEqual([{ node: NODE, gpus: 2, payoutAddress: PROVIDER }]);
  const pre = await untilLease('cheap', 'Preempted', (l) => l.status?.phase === 'Preempted');
  expect(pre.status?.preemptions).toBe(1);
  expect(pre.status?.reservation?.[0]?.releasedAt).toBe(pre.status?.preemptedAt);
  const ran = pre.status?.secondsRun ?? -1;
  const expectedRun = (Date.parse(pre.status?.preemptedAt ?? '') - Date.parse(lentAt.status?.startTime ?? '')) / 1000;
  expect(ran).toBe(expectedRun);
  expect(pre.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('Preempted');
  await eventually('the pre-empted pod is evicted', async () => ((await core.listNamespacedPod({ namespace: ns })).items.some((p) => p.metadata?.name === 'cheap-worker' && !p.metadata.deletionTimestamp) ? undefined : true));
  expect(await events('cheap')).toContain('Preempted');
  expect(await events('cheap-worker')).toContain('LeasePreempted');
  expect(await metric('pinfi_preemptible_events_total', 'preempted')).toBe(1);
});

test('when the priced lease ends, the pre-empted one resumes for the rest of its time, still lent', async () => {
  await untilLease('urgent', 'Settled', (l) => l.status?.phase === 'Settled', 120_000);
  const back = await untilLease('cheap', 'resumed', (l) => l.status?.phase === 'Active' && (l.status.reservation ?? []).length === 2, 60_000);
  expect(back.status?.preemptible).toBe(true);
  const [first, second] = back.status?.reservation ?? [];
  expect(first?.releasedAt).toBeDefined();
  expect(second).toMatchObject({ node: NODE, gpus: 4, pricePerGpuHour: FLOOR.toString() });
  // The second segment ends when the rest of the 10 minutes has run.
  const left = 600 - (back.status?.secondsRun ?? 0);
  expect(Date.parse(back.status?.endTime ?? '') - Date.parse(second?.addedAt ?? '')).toBe(left * 1000);
  expect(await events('cheap')).toContain('Resumed');
  expect(await metric('pinfi_preemptible_events_total', 'resumed')).toBe(1);
});

test('deleted, it settles at the floor for the GPU-seconds it ran, and the rest of its limit is refunded', async () => {
  const before = await getLease('cheap');
  const resumedAt = Date.parse(before.status?.reservation?.[1]?.addedAt ?? '');
  const firstRun = before.status?.secondsRun ?? 0;
  const [refundBefore, paidBefore] = [await escrow().owed(PAYER), await escrow().owed(PROVIDER)];
  const t0 = Math.floor(Date.now() / 1000) * 1000;
  await kubectl(['delete', 'computelease', 'cheap', '-n', ns, '--wait=false']);
  const leaseId = lentAt.status?.chain?.leaseId ?? '';
  await eventually('settled on-chain', async () => ((await escrow().leaseStates([leaseId]))[0]?.status === 2n ? true : undefined), 60_000);
  const t1 = Math.ceil(Date.now() / 1000) * 1000;
  const refund = (await escrow().owed(PAYER)) - refundBefore;
  const toProvider = (await escrow().owed(PROVIDER)) - paidBefore;
  const charged = CHEAP_LIMIT - refund;
  // 4 GPUs at the floor for the first segment and for the second until the deletion (between t0 and t1).
  const lo = (FLOOR * 4n * BigInt(firstRun + Math.max(0, (t0 - resumedAt) / 1000))) / 3600n;
  const hi = (FLOOR * 4n * BigInt(firstRun + (t1 - resumedAt) / 1000)) / 3600n + 2n;
  expect(charged).toBeGreaterThanOrEqual(lo);
  expect(charged).toBeLessThanOrEqual(hi);
  // The provider gets it less the pool's 1% fee (rounded in the treasury's favour).
  expect(toProvider).toBeLessThanOrEqual(charged - (charged * 100n) / 10_000n);
  expect(toProvider).toBeGreaterThanOrEqual(charged - (charged * 100n) / 10_000n - 1n);
  await eventually('lease gone', async () => ((await kubectl(['get', 'computeleases', '-n', ns, '-o', 'name'])).includes('/cheap') ? undefined : true), 30_000);
});

test('a lent lease becomes a priced one on the same GPUs once the price for the rest fits its budget', async () => {
  // 1.2 × the floor: all 4 of 4 GPUs quote 1.36 × the floor per GPU-hour, 4 of 8 the floor itself
  // (utilisation 0.5, below the kink at 0.7).
  const limit = (FLOOR * 12n) / 10n;
  await leaseSigned('patient', { gpus: 4, duration: '10m', maxPrice: { perGpuHour: limit.toString() }, preemptible: true }, (limit * 4n * 600n) / 3600n);
  const lent = await untilLease('patient', 'Active on lent GPUs', (l) => l.status?.phase === 'Active' && l.status.preemptible === true);
  expect(lent.status?.reservation?.[0]?.node).toBe(NODE);
  await createNodes(kc, [{ name: `${NODE}-b`, model: OPENB_MODELS.V100M32, gpus: 4, labels: { 'pinfi-test/suite': suite, 'pinfi.io/payout-address': PROVIDER } }]);
  await waitNodesReady(kc, [`${NODE}-b`]);
  const priced = await untilLease('patient', 'priced', (l) => l.status?.phase === 'Active' && l.status.preemptible === false, 90_000);
  const [was, now] = priced.status?.reservation ?? [];
  expect(was).toMatchObject({ node: NODE, gpus: 4, pricePerGpuHour: FLOOR.toString() });
  expect(was?.releasedAt).toBe(now?.addedAt);
  expect(now).toMatchObject({ node: NODE, gpus: 4, pricePerGpuHour: priced.status?.quote?.pricePerGpuHour });
  expect(BigInt(now?.pricePerGpuHour ?? '0')).toBeLessThanOrEqual(limit);
  expect(priced.status?.endTime).toBe(lent.status?.endTime); // same lease, same end
  expect(priced.status?.conditions?.find((c) => c.type === 'Quoted')?.reason).toBe('WithinLimit');
  expect(await events('patient')).toContain('Priced');
  expect(await metric('pinfi_preemptible_events_total', 'priced')).toBe(1);
  const pool = await eventually('pool counts it leased', async () => {
    const p = JSON.parse(await kubectl(['get', 'gpupool', POOL, '-o', 'json'])) as GpuPool;
    return p.status?.leased === 4 && p.status.lent === 0 ? p : undefined;
  });
  expect(pool.status?.allocatable).toBe(8);
  await kubectl(['delete', 'computelease', 'patient', '-n', ns, '--wait=false']);
  await eventually('patient gone', async () => ((await kubectl(['get', 'computeleases', '-n', ns, '-o', 'name'])).includes('/patient') ? undefined : true), 60_000);
  await core.deleteNode({ name: `${NODE}-b` });
}, 180_000);

test('a pool that caps lending (maxLent) lends up to its cap, and a lease that would pass it waits, saying why', async () => {
  await applyPool(true, { maxLent: '50%' }); // 2 of the 4 GPUs
  const small = { ...CHEAP, gpus: 2 };
  await leaseSigned('half', small, (FLOOR * 2n * 600n) / 3600n);
  await untilLease('half', 'Active on lent GPUs', (l) => l.status?.phase === 'Active' && l.status.preemptible === true);
  await leaseSigned('over', CHEAP, CHEAP_LIMIT);
  const over = await untilLease('over', 'waiting at the cap', (l) => l.status?.conditions?.some((c) => c.type === 'Ready' && c.reason === 'LendingLimit') === true);
  expect(over.status?.phase).toBe('Waiting');
  expect(over.status?.message).toMatch(/lends at most 2 GPUs \(spec.leases.maxLent\) and 2 are lent/);
  expect(over.status?.chain?.openTx).toBeUndefined(); // nothing locked for it
  expect(await events('over')).toContain('LendingLimit');
  const pool = JSON.parse(await kubectl(['get', 'gpupool', POOL, '-o', 'json'])) as GpuPool;
  expect(pool.status).toMatchObject({ lent: 2, leased: 0 });
  await kubectl(['delete', 'computelease', 'half', 'over', '-n', ns, '--wait=false']);
  await eventually('both gone', async () => ((await kubectl(['get', 'computeleases', '-n', ns, '-o', 'name'])).match(/\/(half|over)$/m) ? undefined : true), 60_000);
  await applyPool(true);
}, 120_000);

test('killed again and again around a pre-emption, the operator converges: one open, one pre-emption, one settlement each', async () => {
  const lent = await leaseSigned('batch', CHEAP, CHEAP_LIMIT);
  await untilLease('batch', 'Active on lent GPUs', (l) => l.status?.phase === 'Active' && l.status.preemptible === true);
  const urgent = await leaseSigned('rush', { gpus: 2, duration: '10m', maxPrice: { total: '10000000' } }, 10_000_000n);
  // SIGKILL at 0.3 s, 0.9 s, 1.5 s, …: through the pre-emption's two status writes and the open.
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 300 + 600 * i));
    await op.kill();
    op = await startOp();
  }
  const rush = await untilLease('rush', 'Active', (l) => l.status?.phase === 'Active');
  const batch = await untilLease('batch', 'Preempted', (l) => l.status?.phase === 'Preempted');
  expect(batch.status?.preemptions).toBe(1);
  expect(rush.status?.reservation).toEqual([{ node: NODE, gpus: 2, payoutAddress: PROVIDER }]);
  const pool = await eventually('pool agrees', async () => {
    const p = JSON.parse(await kubectl(['get', 'gpupool', POOL, '-o', 'json'])) as GpuPool;
    return p.status?.leased === 2 && p.status.lent === 0 ? p : undefined;
  });
  expect(pool.status?.free).toBe(2);
  await kubectl(['delete', 'computelease', 'batch', 'rush', '-n', ns, '--wait=false']);
  await eventually('both gone', async () => ((await kubectl(['get', 'computeleases', '-n', ns, '-o', 'name'])).match(/\/(batch|rush)$/m) ? undefined : true), 60_000);

  const escrowNow = escrow();
  const opened = await escrowNow.queryFilter(escrowNow.filters.LeaseOpened(), 0);
  const settled = await escrowNow.queryFilter(escrowNow.filters.LeaseSettled(), 0);
  for (const [l, limit] of [[lent, CHEAP_LIMIT], [urgent, undefined]] as const) {
    const id = leaseIdOf({ namespace: ns, name: l.metadata?.name ?? '', uid: l.metadata?.uid ?? '' });
    const o = opened.filter((e) => e.args.leaseId === id);
    const st = settled.filter((e) => e.args.leaseId === id);
    expect([l.metadata?.name, o.length, st.length]).toEqual([l.metadata?.name, 1, 1]);
    expect(st[0]!.args.providersTotal + st[0]!.args.fee + st[0]!.args.refund).toBe(o[0]!.args.amount);
    if (limit !== undefined) expect(o[0]!.args.amount).toBe(limit);
  }
  // Every lease of this suite settled: the escrow holds exactly what it owes, nothing locked.
  const tokenBalance = await chain.provider.call({ to: chain.token, data: `0x70a08231${chain.escrow.slice(2).toLowerCase().padStart(64, '0')}` });
  expect(BigInt(tokenBalance)).toBe(settled.reduce((a, e) => a + e.args.locked, 0n));
}, 180_000);
