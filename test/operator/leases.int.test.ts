// The ComputeLease lifecycle against the real control plane and a real chain (anvil): a user
// applies a pool and a lease with a signed authorisation and watches it go Reserved → Funded →
// Active → Settled, with escrow, provider balances and refund visible on-chain; early deletion
// settles pro rata; misuse is refused with a condition and nothing is charged.
import { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { stringify } from 'yaml';
import type { ComputeLease } from '../../operator/src/api/types.js';
import { LeaseEscrow__factory } from '../../operator/src/settlement/generated/index.js';
import { leaseIdOf } from '../../operator/src/settlement/index.js';
import { ANVIL_KEYS } from '../env/anvil.js';
import { OPENB_MODELS } from '../env/gpu-nodes.js';
import { authorizationSecret, deployChainMarket, fundPayer, testPoolYaml, type ChainMarket } from '../env/market-fixture.js';
import { createNodes, waitNodesReady } from '../env/nodes-io.js';
import { startOperatorProcess, type OperatorProcess } from '../env/operator-process.js';
import { deleteNamespace, eventually, kubectl, leaseReader, newNamespace, removeLeasesAndPool, testKubeConfig, testKubeconfigPath, testRpcUrl } from '../env/testing.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const suite = randomBytes(3).toString('hex');
const POOL = `lease-pool-${suite}`;
const PAYER_KEY = ANVIL_KEYS[2];
const PAYER = new Wallet(PAYER_KEY).address;
const PROVIDERS = [new Wallet(ANVIL_KEYS[3]).address, new Wallet(ANVIL_KEYS[4]).address];
const node = (i: number) => `leasetest-${suite}-${i}`;
let chain: ChainMarket;
let op: OperatorProcess;
let ns: string;

const { getLease, untilLease } = leaseReader(() => ns);

async function applyLease(name: string, spec: Partial<ComputeLease['spec']> = {}): Promise<ComputeLease> {
  await kubectl(['apply', '-n', ns, '-f', '-'], stringify({
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'ComputeLease',
    metadata: { name },
    spec: { pool: POOL, gpus: 2, duration: '1m', maxPrice: { total: '10000000' }, payer: { address: PAYER, authorizationSecretRef: { name: `${name}-auth` } }, ...spec },
  }));
  return getLease(name);
}

/** The payer signs for exactly this lease (or, with `forUid`, for another lease's uid). */
async function sign(lease: ComputeLease, opts: { maxAmount?: bigint; secretName?: string; forName?: string; forUid?: string } = {}): Promise<void> {
  const secret = await authorizationSecret(chain, PAYER_KEY, opts.secretName ?? `${lease.metadata?.name}-auth`, {
    payer: PAYER,
    namespace: ns,
    name: opts.forName ?? lease.metadata?.name ?? '',
    uid: opts.forUid ?? lease.metadata?.uid ?? '',
    pool: POOL,
    maxAmount: opts.maxAmount ?? 10_000_000n,
    deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
    nonce: BigInt(`0x${randomBytes(8).toString('hex')}`),
  });
  await core.createNamespacedSecret({ namespace: ns, body: secret });
}

const escrow = () => LeaseEscrow__factory.connect(chain.escrow, chain.provider);

beforeAll(async () => {
  ns = await newNamespace('leases');
  chain = await deployChainMarket(testRpcUrl(), ANVIL_KEYS[1]);
  await fundPayer(chain, PAYER_KEY, 1_000_000_000n);
  await createNodes(kc, [0, 1].map((i) => ({
    name: node(i),
    model: OPENB_MODELS.V100M32,
    gpus: 4,
    labels: { 'pinfi-test/suite': suite, 'pinfi.io/payout-address': PROVIDERS[i] as string },
  })));
  await waitNodesReady(kc, [node(0), node(1)]);
  await kubectl(['apply', '-f', '-'], testPoolYaml(POOL, { suite, token: chain.token }));
  op = await startOperatorProcess({
    kubeconfig: testKubeconfigPath(),
    args: ['--no-leader-elect', '--rpc-url', chain.rpcUrl, '--escrow-address', chain.escrow, '--settle-batch-window', '200', '--grace', '0'],
    name: `operator-leases-${suite}`,
    env: { PINFI_SETTLER_KEY: chain.settlerKey },
  });
  await eventually('pool priced', async () => ((await fetch(`${op.url}/pools`)).json() as Promise<{ name: string; allocatable: number }[]>).then((ps) => ps.find((p) => p.name === POOL && p.allocatable === 8)));
});

afterAll(async () => {
  await removeLeasesAndPool(ns, POOL);
  await op?.stop();
  for (const i of [0, 1]) await core.deleteNode({ name: node(i) }).catch(() => undefined);
  await deleteNamespace(ns);
});

let trainActive: ComputeLease;
let trainId: string;

test('a lease goes Reserved → Funded → Active, and the escrow holds its price', async () => {
  const lease = await applyLease('train');
  await untilLease('train', 'waits for its authorisation', (l) => l.status?.conditions?.some((c) => c.reason === 'AuthorizationMissing') === true);
  await sign(lease);
  const active = await untilLease('train', 'Active', (l) => l.status?.phase === 'Active');
  expect(active.status?.reservation?.reduce((s, r) => s + r.gpus, 0)).toBe(2);
  expect(active.status?.reservation?.every((r) => PROVIDERS.includes(r.payoutAddress ?? ''))).toBe(true);
  expect(active.metadata?.finalizers).toContain('pinfi.io/settlement');
  const leaseId = leaseIdOf({ namespace: ns, name: 'train', uid: lease.metadata?.uid ?? '' });
  expect(active.status?.chain?.leaseId).toBe(leaseId);
  const onChain = await escrow().leaseStates([leaseId]);
  expect(onChain[0]?.locked.toString()).toBe(active.status?.quote?.total);
  const table = await kubectl(['get', 'computeleases', '-n', ns, 'train']);
  expect(table).toMatch(/NAME\s+POOL\s+GPUS\s+DURATION\s+PRICE\s+STATE\s+AGE/);
  expect(table).toContain('Active');
  trainActive = active;
  trainId = leaseId;
});

test('deleting an Active lease settles it pro rata as Cancelled and releases it', async () => {
  const lease = await applyLease('short', { duration: '10m', maxPrice: { perGpuHour: '5000000' } });
  await sign(lease);
  const active = await untilLease('short', 'Active', (l) => l.status?.phase === 'Active');
  const refundBefore = await escrow().owed(PAYER);
  await kubectl(['delete', 'computelease', 'short', '-n', ns, '--wait=false']);
  const gone = await eventually('lease gone', async () => {
    try {
      await getLease('short');
      return undefined;
    } catch {
      return true;
    }
  }, 60_000);
  expect(gone).toBe(true);
  const leaseId = active.status?.chain?.leaseId ?? '';
  expect((await escrow().leaseStates([leaseId]))[0]?.status).toBe(2n);
  // Most of a 10-minute lease cancelled within seconds is refunded.
  const refund = (await escrow().owed(PAYER)) - refundBefore;
  expect(refund).toBeGreaterThan((BigInt(active.status?.quote?.total ?? '0') * 9n) / 10n);
});

test('an authorisation signed for another lease is refused and nothing is locked', async () => {
  const other = await applyLease('victim');
  const thief = await applyLease('thief');
  // The payer's authorisation for "victim", copied into thief's Secret.
  await sign(thief, { forName: 'victim', forUid: other.metadata?.uid ?? '' });
  const refused = await untilLease('thief', 'refused', (l) => l.status?.conditions?.some((c) => c.reason === 'AuthorizationMismatch') === true);
  expect(refused.status?.phase).toBe('Pending');
  expect(refused.status?.message).toMatch(/authorisation is for lease victim/);
  const id = leaseIdOf({ namespace: ns, name: 'thief', uid: thief.metadata?.uid ?? '' });
  expect((await escrow().leaseStates([id]))[0]?.status).toBe(0n); // None
  await kubectl(['delete', 'computelease', 'victim', 'thief', '-n', ns, '--wait=false']);
});

test('an authorisation below the lease limit is refused with its reason', async () => {
  const l = await applyLease('cheap');
  await sign(l, { maxAmount: 5n });
  const refused = await untilLease('cheap', 'refused', (x) => x.status?.conditions?.some((c) => c.reason === 'AuthorizationTooLow') === true);
  expect(refused.status?.message).toMatch(/allows at most 5/);
  await kubectl(['delete', 'computelease', 'cheap', '-n', ns, '--wait=false']);
});

test('a lease whose price is above its limit waits, then expires at its deadline with nothing charged', async () => {
  const deadline = new Date(Date.now() + 8_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const l = await applyLease('lowball', { maxPrice: { perGpuHour: '1' }, deadline });
  await sign(l);
  const waiting = await untilLease('lowball', 'Waiting', (x) => x.status?.phase === 'Waiting');
  expect(waiting.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('PriceAboveLimit');
  const expired = await untilLease('lowball', 'Expired', (x) => x.status?.phase === 'Expired', 60_000);
  expect(expired.status?.closeReason).toBe('Expired');
  const id = leaseIdOf({ namespace: ns, name: 'lowball', uid: l.metadata?.uid ?? '' });
  expect((await escrow().leaseStates([id]))[0]?.status).toBe(0n);
});

test('a lease asking for more GPUs than the pool allows per lease fails with the reason', async () => {
  await applyLease('greedy', { gpus: 100 });
  const failed = await untilLease('greedy', 'Failed', (x) => x.status?.phase === 'Failed');
  expect(failed.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('TooManyGpus');
});

test('a node lost while the lease is Active: its hours stop being charged and the GPUs are re-placed', async () => {
  const before = await getLease('train');
  const lostNode = before.status?.reservation?.[0]?.node ?? '';
  await core.deleteNode({ name: lostNode });
  const after = await untilLease('train', 're-placed', (l) => (l.status?.reservation ?? []).some((r) => r.lostAt) && (l.status?.reservation ?? []).some((r) => r.addedAt));
  const lost = after.status?.reservation?.find((r) => r.node === lostNode);
  const added = after.status?.reservation?.find((r) => r.addedAt);
  expect(lost?.lostAt).toBeDefined();
  expect(added?.node).not.toBe(lostNode);
  expect(added?.gpus).toBe(lost?.gpus);
  const events = await kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=train', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
  expect(events).toContain('NodeLost');
});

test('deleting a pool with an active lease: the pool waits for the lease instead of orphaning it', async () => {
  await kubectl(['delete', 'gpupool', POOL, '--wait=false']);
  const pool = await eventually('pool Terminating', async () => {
    const p = JSON.parse(await kubectl(['get', 'gpupool', POOL, '-o', 'json'])) as { metadata: { deletionTimestamp?: string }; status?: { conditions?: { type: string; status: string; message: string }[] } };
    return p.status?.conditions?.find((c) => c.type === 'Terminating' && c.status === 'True') ? p : undefined;
  });
  expect(pool.metadata.deletionTimestamp).toBeDefined();
  expect((await getLease('train')).status?.phase).toBe('Active');
});

test('at its end the lease settles on-chain: providers paid, fee taken, the rest refunded', async () => {
  const active = trainActive;
  const leaseId = trainId;
  const settled = await untilLease('train', 'Settled', (l) => l.status?.phase === 'Settled', 120_000);
  expect(settled.status?.closeReason).toBe('Completed');
  expect(settled.status?.chain?.settleTx).toMatch(/^0x[0-9a-f]{64}$/);
  const s = settled.status?.settlement;
  const paid = (s?.providers ?? []).reduce((a, p) => a + BigInt(p.amount), 0n);
  // Conservation: providers + fee + refund = locked, in status and on-chain.
  expect(paid + BigInt(s?.fee ?? '0') + BigInt(s?.refund ?? '0')).toBe(BigInt(active.status?.quote?.total ?? '-1'));
  for (const p of s?.providers ?? []) expect(await escrow().owed(p.address)).toBeGreaterThanOrEqual(BigInt(p.amount));
  expect((await escrow().leaseStates([leaseId]))[0]?.status).toBe(2n); // Settled
  // Two providers shared the lease (one until its node was lost, one after), both paid.
  expect(s?.providers.length).toBe(2);
  // Its last lease settled, the deleted pool goes.
  await eventually('pool gone', async () => ((await kubectl(['get', 'gpupools', '-o', 'name'])).includes(POOL) ? undefined : true), 60_000);
});
