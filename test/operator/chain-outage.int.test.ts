// The chain being down never deletes or evicts anything early and loses nothing: a lease that
// ends while its RPC endpoint is gone stays Ending with a ChainAvailable=False condition and
// the alert metric rising, and settles once the chain is back.
import { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { stringify } from 'yaml';
import type { ComputeLease } from '../../operator/src/api/types.js';
import { ANVIL_KEYS, startAnvil, type Anvil } from '../env/anvil.js';
import { OPENB_MODELS } from '../env/gpu-nodes.js';
import { authorizationSecret, deployChainMarket, fundPayer, type ChainMarket } from '../env/market-fixture.js';
import { createNodes, waitNodesReady } from '../env/nodes-io.js';
import { startOperatorProcess, type OperatorProcess } from '../env/operator-process.js';
import { runDir } from '../env/paths.js';
import { deleteNamespace, eventually, kubectl, newNamespace, removeLeasesAndPool, testKubeConfig, testKubeconfigPath } from '../env/testing.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const suite = randomBytes(3).toString('hex');
const POOL = `outage-pool-${suite}`;
const NODE = `outage-${suite}`;
const PAYER_KEY = ANVIL_KEYS[8];
const PAYER = new Wallet(PAYER_KEY).address;
const stateFile = join(runDir, `anvil-outage-${suite}.json`);
let anvil: Anvil;
let chain: ChainMarket;
let op: OperatorProcess;
let ns: string;

const lease = async (): Promise<ComputeLease> => JSON.parse(await kubectl(['get', 'computelease', 'job', '-n', ns, '-o', 'json'])) as ComputeLease;

beforeAll(async () => {
  ns = await newNamespace('outage');
  anvil = await startAnvil({ stateFile });
  chain = await deployChainMarket(anvil.rpcUrl, ANVIL_KEYS[9]);
  await fundPayer(chain, PAYER_KEY, 100_000_000n);
  await createNodes(kc, [{ name: NODE, model: OPENB_MODELS.A10, gpus: 2, labels: { 'pinfi-test/suite': suite, 'pinfi.io/payout-address': new Wallet(ANVIL_KEYS[0]).address } }]);
  await waitNodesReady(kc, [NODE]);
  await kubectl(['apply', '-f', '-'], stringify({
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'GpuPool',
    metadata: { name: POOL },
    spec: { nodeSelector: { matchLabels: { 'pinfi-test/suite': suite } }, pricing: { token: chain.token, treasury: `0x${'e'.repeat(40)}`, floorPrice: '1000', ceilingPrice: '90000' }, leases: { minDuration: '1m' } },
  }));
  op = await startOperatorProcess({
    kubeconfig: testKubeconfigPath(),
    args: ['--no-leader-elect', '--rpc-url', anvil.rpcUrl, '--escrow-address', chain.escrow, '--settle-batch-window', '100', '--grace', '0', '--rpc-retry-budget', '15'],
    name: `operator-outage-${suite}`,
    env: { PINFI_SETTLER_KEY: chain.settlerKey },
  });
});

afterAll(async () => {
  await removeLeasesAndPool(ns, POOL);
  await op?.stop();
  await anvil?.stop();
  await core.deleteNode({ name: NODE }).catch(() => undefined);
  await deleteNamespace(ns);
});

test('a lease that ends while the chain is down waits in Ending, then settles when it is back', async () => {
  await kubectl(['apply', '-n', ns, '-f', '-'], stringify({
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'ComputeLease',
    metadata: { name: 'job' },
    spec: { pool: POOL, gpus: 1, duration: '1m', maxPrice: { total: '1000000' }, payer: { address: PAYER, authorizationSecretRef: { name: 'job-auth' } } },
  }));
  const l = await lease();
  await core.createNamespacedSecret({
    namespace: ns,
    body: await authorizationSecret(chain, PAYER_KEY, 'job-auth', {
      payer: PAYER, namespace: ns, name: 'job', uid: l.metadata?.uid ?? '', pool: POOL, maxAmount: 1_000_000n,
      deadline: BigInt(Math.floor(Date.now() / 1000) + 3600), nonce: 7n,
    }),
  });
  await eventually('Active', async () => ((await lease()).status?.phase === 'Active' ? true : undefined), 60_000);
  await anvil.stop(); // the chain goes away (its state is dumped to the state file)
  const waiting = await eventually('Ending with the chain down', async () => {
    const x = await lease();
    return x.status?.phase === 'Ending' && x.status.conditions?.some((c) => c.type === 'ChainAvailable' && c.status === 'False') ? x : undefined;
    // The lease ends a minute after Active. Its settlement may queue behind another chain read
    // retrying against the stopped node; --rpc-retry-budget 15 bounds each such wait to 15 s.
  }, 150_000, 500);
  expect(waiting.status?.message).toMatch(/cannot settle yet/);
  expect(waiting.metadata?.deletionTimestamp).toBeUndefined();
  const metrics = await (await fetch(`${op.url}/metrics`)).text();
  expect(metrics).toMatch(/pinfi_chain_errors_total\{operation="settle"[^}]*\} [1-9]/);

  anvil = await startAnvil({ port: anvil.port, stateFile }); // back, with its state
  const settled = await eventually('Settled after the chain returned', async () => {
    const x = await lease();
    return x.status?.phase === 'Settled' ? x : undefined;
  }, 180_000, 500);
  expect(settled.status?.chain?.settleTx).toBeDefined();
}, 480_000);
