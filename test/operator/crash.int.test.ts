// Crash safety: the real operator is killed with SIGKILL at seeded random moments while many
// leases go through reservation, funding, activation, early cancellation and settlement, and is
// restarted each time. At the end, on the real chain: every lease opened once and settled once,
// conservation exact for each (providers + fee + refund = locked), and the status of every
// lease that still exists agrees with the chain.
import { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { stringify } from 'yaml';
import type { ComputeLease } from '../../operator/src/api/types.js';
import { LeaseEscrow__factory } from '../../operator/src/settlement/generated/index.js';
import { leaseIdOf } from '../../operator/src/settlement/index.js';
import { ANVIL_KEYS } from '../env/anvil.js';
import { OPENB_MODELS } from '../env/gpu-nodes.js';
import { authorizationSecret, deployChainMarket, fundPayer, type ChainMarket } from '../env/market-fixture.js';
import { createNodes, waitNodesReady } from '../env/nodes-io.js';
import { startOperatorProcess, type OperatorProcess } from '../env/operator-process.js';
import { deleteNamespace, eventually, kubectl, newNamespace, removeLeasesAndPool, testKubeConfig, testKubeconfigPath, testRpcUrl } from '../env/testing.js';
import { uniform as rng } from '../../operator/src/market/testing/prng.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const suite = randomBytes(3).toString('hex');
const POOL = `crash-pool-${suite}`;
const PAYER_KEY = ANVIL_KEYS[5];
const PAYER = new Wallet(PAYER_KEY).address;
const PROVIDER = new Wallet(ANVIL_KEYS[6]).address;
const LEASES = 8;
const MIN_KILLS = 5;
let chain: ChainMarket;
let op: OperatorProcess | undefined;
let ns: string;


const startOp = () =>
  startOperatorProcess({
    kubeconfig: testKubeconfigPath(),
    args: ['--no-leader-elect', '--rpc-url', chain.rpcUrl, '--escrow-address', chain.escrow, '--settle-batch-window', '300', '--grace', '0', '--log-level', 'warn'],
    name: `operator-crash-${suite}`,
    env: { PINFI_SETTLER_KEY: chain.settlerKey },
  });

async function leases(): Promise<ComputeLease[]> {
  return (JSON.parse(await kubectl(['get', 'computeleases', '-n', ns, '-o', 'json'])) as { items: ComputeLease[] }).items;
}

beforeAll(async () => {
  ns = await newNamespace('crash');
  chain = await deployChainMarket(testRpcUrl(), ANVIL_KEYS[7]);
  await fundPayer(chain, PAYER_KEY, 10_000_000_000n);
  const names = [0, 1, 2].map((i) => `crashtest-${suite}-${i}`);
  await createNodes(kc, names.map((name) => ({ name, model: OPENB_MODELS.P100, gpus: 8, labels: { 'pinfi-test/suite': suite, 'pinfi.io/payout-address': PROVIDER } })));
  await waitNodesReady(kc, names);
  await kubectl(['apply', '-f', '-'], stringify({
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'GpuPool',
    metadata: { name: POOL },
    spec: {
      nodeSelector: { matchLabels: { 'pinfi-test/suite': suite } },
      pricing: { token: chain.token, treasury: `0x${'d'.repeat(40)}`, floorPrice: '1000000', ceilingPrice: '40000000', feeBps: 250 },
      leases: { minDuration: '1m' },
    },
  }));
});

afterAll(async () => {
  await removeLeasesAndPool(ns, POOL);
  await op?.stop();
  for (const i of [0, 1, 2]) await core.deleteNode({ name: `crashtest-${suite}-${i}` }).catch(() => undefined);
  await deleteNamespace(ns);
});

test('kill -9 at random moments of many leases: each opened once, settled once, conserved, status = chain', async () => {
  const random = rng(0x5eed);
  op = await startOp();
  // Leases arrive; each is signed by the payer as soon as it has a uid.
  const uids = new Map<string, string>();
  for (let i = 0; i < LEASES; i++) {
    const name = `job-${i}`;
    await kubectl(['apply', '-n', ns, '-f', '-'], stringify({
      apiVersion: 'pinfi.io/v1alpha1',
      kind: 'ComputeLease',
      metadata: { name },
      spec: { pool: POOL, gpus: 1 + (i % 3), duration: '1m', maxPrice: { perGpuHour: '9000000' }, payer: { address: PAYER, authorizationSecretRef: { name: `${name}-auth` } } },
    }));
    const uid = (await kubectl(['get', 'computelease', name, '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).trim();
    uids.set(name, uid);
    await core.createNamespacedSecret({
      namespace: ns,
      body: await authorizationSecret(chain, PAYER_KEY, `${name}-auth`, {
        payer: PAYER, namespace: ns, name, uid, pool: POOL, maxAmount: 10n ** 12n,
        deadline: BigInt(Math.floor(Date.now() / 1000) + 3600), nonce: BigInt(1000 + i),
      }),
    });
  }
  // Chaos: kill and restart the operator every 0.5–2 s (plus its start-up time); cancel half the leases once they are Active.
  const cancelled = new Set<string>();
  const deadline = Date.now() + 240_000;
  let kills = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 500 + random() * 1500));
    const now = await leases();
    for (const l of now) {
      const name = l.metadata?.name ?? '';
      if (l.status?.phase === 'Active' && Number(name.split('-')[1]) % 2 === 0 && !cancelled.has(name)) {
        cancelled.add(name);
        await kubectl(['delete', 'computelease', name, '-n', ns, '--wait=false']);
      }
    }
    const done = now.every((l) => l.status?.phase === 'Settled' || (cancelled.has(l.metadata?.name ?? '') && l.metadata?.deletionTimestamp));
    // At least MIN_KILLS kills whatever the machine's pace: kills after every lease is done
    // check that a restart settles nothing twice.
    if ((done && now.length === LEASES / 2 && kills >= MIN_KILLS) || Date.now() > deadline) break;
    await op.kill();
    kills++;
    op = await startOp();
  }
  // Let the last operator finish whatever is in flight.
  const final = await eventually('every lease settled or gone', async () => {
    const ls = await leases();
    return ls.length === LEASES / 2 && ls.every((l) => l.status?.phase === 'Settled') ? ls : undefined;
  }, 120_000, 500);
  expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);

  const escrow = LeaseEscrow__factory.connect(chain.escrow, chain.provider);
  const opened = await escrow.queryFilter(escrow.filters.LeaseOpened(), 0);
  const settled = await escrow.queryFilter(escrow.filters.LeaseSettled(), 0);
  for (const [name, uid] of uids) {
    const id = leaseIdOf({ namespace: ns, name, uid });
    const o = opened.filter((e) => e.args.leaseId === id);
    const s = settled.filter((e) => e.args.leaseId === id);
    expect([name, o.length, s.length]).toEqual([name, 1, 1]);
    const ev = s[0]!.args;
    expect(ev.providersTotal + ev.fee + ev.refund).toBe(ev.locked);
    expect(ev.locked).toBe(o[0]!.args.amount);
    expect(Number(ev.reason)).toBe(cancelled.has(name) ? 1 : 0); // Cancelled : Completed
    const lease = final.find((l) => l.metadata?.name === name);
    if (lease) {
      const st = lease.status?.settlement;
      const providers = (st?.providers ?? []).reduce((a, p) => a + BigInt(p.amount), 0n);
      expect([providers, BigInt(st?.fee ?? -1), BigInt(st?.refund ?? -1)]).toEqual([ev.providersTotal, ev.fee, ev.refund]);
      expect(lease.status?.chain?.locked).toBe(ev.locked.toString());
    }
  }
  // The escrow holds exactly what it still owes: nothing locked remains, every credit is withdrawable.
  const tokenBalance = await escrow.runner!.provider!.call({ to: chain.token, data: `0x70a08231${chain.escrow.slice(2).toLowerCase().padStart(64, '0')}` });
  const credited = settled.reduce((a, e) => a + e.args.locked, 0n);
  expect(BigInt(tokenBalance)).toBe(credited);
});
