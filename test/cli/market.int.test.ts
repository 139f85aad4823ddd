// The CLI against the real local market: control plane, anvil and the real operator. A provider
// joins nodes to a pool; a payer looks at pools and quotes, approves the escrow, creates leases
// and signs their authorisations (key file, encrypted keystore, external wallet); the operator
// funds and runs them; the leases list shows it; cancelled and finished leases settle and
// withdraw pays out. Every command runs as `pinfi …` in a child process, as a user runs it.
import { CoreV1Api, type V1Node } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, encryptKeystoreJson } from 'ethers';
import { parse, stringify } from 'yaml';
import type { ComputeLease, GpuPool } from '../../operator/src/api/types.js';
import { mintTestTokens, readBalances } from '../../operator/src/settlement/index.js';
import { cpuNode, gpuNode, OPENB_MODELS } from '../env/gpu-nodes.js';
import { deployChainMarket, testPoolYaml, type ChainMarket } from '../env/market-fixture.js';
import { createNodes, waitNodesReady } from '../env/nodes-io.js';
import { freePort } from '../env/ports.js';
import { startOperatorProcess, type OperatorProcess } from '../env/operator-process.js';
import { deleteNamespace, eventually, kubectl, leaseReader, newNamespace, removeLeasesAndPool, testKubeConfig, testKubeconfigPath, testRpcUrl } from '../env/testing.js';
import { account, kubectlPinfi, ok, pinfi, tempDir, type CliResult } from './run.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const suite = randomBytes(3).toString('hex');
const POOL = `cli-${suite}`;
const node = (s: string) => `cli-${suite}-${s}`;
const GPU_NODES = [node('0'), node('1')];
const MODEL = OPENB_MODELS.V100M16;
const dir = tempDir('market');
let ns: string;
let chain: ChainMarket;
let op: OperatorProcess;
let payer: Awaited<ReturnType<typeof account>>;
let provider: Awaited<ReturnType<typeof account>>;
let inNs: string[];
let chainEnv: NodeJS.ProcessEnv;

const { getLease, untilLease } = leaseReader(() => ns);

const json = <T>(r: CliResult): T => JSON.parse(r.stdout) as T;

beforeAll(async () => {
  [payer, provider] = await Promise.all([account(dir, 'payer'), account(dir, 'provider')]);
  const settler = await account(dir, 'settler');
  ns = await newNamespace('cli');
  inNs = ['-n', ns];
  chain = await deployChainMarket(testRpcUrl(), settler.key);
  chainEnv = { PINFI_ESCROW_ADDRESS: chain.escrow };
  await mintTestTokens(chain.deployer, chain.token, payer.address, 1_000_000_000n);
  const mig = gpuNode({ name: node('mig'), model: OPENB_MODELS.G2, gpus: 1, sharing: { mode: 'mig', profile: '1g.10gb', perGpu: 7 } });
  await createNodes(kc, [...GPU_NODES.map((name) => gpuNode({ name, model: MODEL, gpus: 4 })), mig, cpuNode(node('cpu'))]);
  await waitNodesReady(kc, [...GPU_NODES, node('mig'), node('cpu')]);
  await kubectl(['apply', '-f', '-'], testPoolYaml(POOL, { matchLabels: { 'pinfi.io/pool': POOL }, token: chain.token }));
  op = await startOperatorProcess({
    kubeconfig: testKubeconfigPath(),
    args: ['--no-leader-elect', '--rpc-url', chain.rpcUrl, '--escrow-address', chain.escrow, '--settle-batch-window', '200', '--grace', '0'],
    name: `operator-cli-${suite}`,
    env: { PINFI_SETTLER_KEY: chain.settlerKey },
  });
});

afterAll(async () => {
  await removeLeasesAndPool(ns, POOL);
  await op?.stop();
  for (const n of [...GPU_NODES, node('mig'), node('cpu')]) await core.deleteNode({ name: n }).catch(() => undefined);
  await deleteNamespace(ns);
  chain?.provider.destroy();
});

test('join refuses nodes that do not report the pool\'s resource, and joins GPU nodes with a payout address and the pool taint', async () => {
  const [cpu, mig] = await Promise.all([
    pinfi(['join', node('cpu'), '--pool', POOL, '--payout-address', provider.address]),
    pinfi(['join', node('mig'), '--pool', POOL, '--payout-address', provider.address]),
  ]);
  expect(cpu.code).toBe(1);
  expect(cpu.stderr).toMatch(/reports no NVIDIA GPUs in status\.allocatable[\s\S]*hint: install the NVIDIA device plugin/);
  expect(mig.stderr).toMatch(/does not report nvidia\.com\/gpu, which pool .* sells; it reports nvidia\.com\/mig-1g\.10gb: 7/);
  const joined = await Promise.all(GPU_NODES.map((n) => ok(['join', n, '--pool', POOL, '--payout-address', provider.address])));
  expect(joined[0]?.stdout).toBe(`node/${GPU_NODES[0]} joined pool ${POOL}: 4 × nvidia.com/gpu (${MODEL.product}), payouts to ${provider.address}, tainted pinfi.io/pool=${POOL}:NoSchedule\n`);
  for (const n of GPU_NODES) {
    const v: V1Node = await core.readNode({ name: n });
    expect(v.metadata?.labels).toMatchObject({ 'pinfi.io/pool': POOL, 'pinfi.io/payout-address': provider.address });
    expect(v.spec?.taints).toContainEqual({ key: 'pinfi.io/pool', value: POOL, effect: 'NoSchedule' });
  }
  const untouched: V1Node = await core.readNode({ name: node('cpu') });
  expect(untouched.metadata?.labels?.['pinfi.io/pool']).toBeUndefined();
});

test('pools shows product, GPUs, free, price, utilisation and the price trend', async () => {
  await eventually('the operator counts the joined nodes', async () => {
    const p = JSON.parse(await kubectl(['get', 'gpupool', POOL, '-o', 'json'])) as GpuPool;
    return p.status?.allocatable === 8 ? p : undefined;
  }, 60_000);
  const [table, data] = await Promise.all([ok(['pools', POOL]), ok(['pools', POOL, '-o', 'json'])]);
  expect(table.stdout).toMatch(/^NAME\s+PRODUCT\s+GPUS\s+FREE\s+PRICE\/GPU-H\s+UTIL\s+TREND\n/);
  expect(table.stdout).toMatch(new RegExp(`\\n${POOL}\\s+${MODEL.product}\\s+8\\s+8\\s+1 tUSD\\s+0%\\s+[▁-█ ]*→\\n$`));
  const [row] = json<{ name: string; gpus: number; free: number; spotPrice: string; utilization: string; trend: { drift: string; history: unknown[] } }[]>(data);
  expect(row).toMatchObject({ name: POOL, gpus: 8, free: 8, spotPrice: '1000000', utilization: '0.0000', trend: { drift: 'flat' } });
  expect(row?.trend.history.length).toBeGreaterThanOrEqual(1);
});

test('quote computes the operator\'s own numbers locally, or asks the operator', async () => {
  const [local, remote, tooMany] = await Promise.all([
    ok(['quote', '--pool', POOL, '--gpus', '3', '--hours', '2', '-o', 'json']),
    ok(['quote', '--pool', POOL, '--gpus', '3', '--duration', '2h', '--operator-url', op.url, '-o', 'json']),
    pinfi(['quote', '--pool', POOL, '--gpus', '9', '--hours', '1']),
  ]);
  const fromOperator = (await (await fetch(`${op.url}/quote?pool=${POOL}&gpus=3&hours=2`)).json()) as Record<string, unknown>;
  const q = json<Record<string, unknown>>(local);
  for (const k of ['total', 'perGpuHour', 'spotBefore', 'spotAfter', 'priceImpactBps', 'free', 'allocatable']) expect(q[k]).toEqual(fromOperator[k]);
  expect(q).toMatchObject({ source: 'local', total: '6000000', seconds: 7200, duration: '2h' });
  expect(json<Record<string, unknown>>(remote)).toMatchObject({ source: 'operator', total: '6000000' });
  expect(tooMany.code).toBe(1);
  expect(tooMany.stderr).toMatch(/has 8 free GPUs, fewer than the 9 asked for\nhint: /);
});

test('approve lets the escrow pull the payer\'s tokens', async () => {
  const r = await ok(['approve', '--amount', '100tUSD', '--key-file', payer.keyFile], chainEnv);
  expect(r.stdout).toMatch(/allowance:\s+100 tUSD/);
  expect((await readBalances(chain.provider, chain.escrow, payer.address)).allowance).toBe(100_000_000n);
});

test('lease creates a lease; sign --key-file authorises it; the operator funds it and it runs', async () => {
  const created = await ok(['lease', 'train', '--pool', POOL, '--gpus', '2', '--duration', '1m', '--payer', payer.address, ...inNs]);
  expect(created.stdout).toBe('computelease.pinfi.io/train created\n');
  expect(created.stderr).toContain(`next: kubectl pinfi sign --lease train -n ${ns}`);
  const signed = await ok(['sign', '--lease', 'train', '--key-file', payer.keyFile, ...inNs], chainEnv);
  expect(signed.stdout).toMatch(new RegExp(`^secret/train-auth created: ${payer.address} authorises lease train \\(pool ${POOL}\\) for up to 0\\.036668 tUSD, until \\d{4}-`));
  const secret = JSON.parse(await kubectl(['get', 'secret', 'train-auth', '-n', ns, '-o', 'json'])) as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
  expect(secret.metadata.labels['pinfi.io/authorization']).toBe('true');
  expect(Object.keys(secret.data).sort()).toEqual(['authorization.json', 'signature']);
  expect(signed.stdout + signed.stderr).not.toContain(payer.key.slice(2));
  const active = await untilLease('train', 'Active', (l) => l.status?.phase === 'Active');
  expect(active.status?.chain?.openTx).toMatch(/^0x[0-9a-f]{64}$/);
});

test('lease --dry-run prints the manifest and creates nothing; a lease the pool would refuse is refused', async () => {
  const [client, server, short] = await Promise.all([
    ok(['lease', 'dry', '--pool', POOL, '--gpus', '2', '--duration', '1m', '--payer', payer.address, '--dry-run', ...inNs]),
    ok(['lease', 'dry', '--pool', POOL, '--gpus', '2', '--duration', '1m', '--payer', payer.address, '--max-total', '1tUSD', '--dry-run=server', '-o', 'json', ...inNs]),
    pinfi(['lease', 'tiny', '--pool', POOL, '--gpus', '1', '--duration', '30s', '--payer', payer.address, ...inNs]),
  ]);
  const manifest = parse(client.stdout) as ComputeLease;
  expect(manifest).toEqual({
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'ComputeLease',
    metadata: { name: 'dry', namespace: ns },
    // 2 GPUs × 1 min at the floor (1 tUSD per GPU-hour; 6 of 8 GPUs still free) = 33334 base units, plus 10 %.
    spec: { pool: POOL, gpus: 2, duration: '1m', maxPrice: { total: '36668' }, payer: { address: payer.address, authorizationSecretRef: { name: 'dry-auth' } } },
  });
  expect(client.stderr).toMatch(/maxPrice\.total 0\.036668 tUSD: the quote now \(0\.033334 tUSD\) plus 10%/);
  const checked = json<ComputeLease & { metadata: Record<string, unknown> }>(server);
  expect(checked.spec.maxPrice).toEqual({ total: '1000000' });
  expect(checked.metadata.managedFields).toBeUndefined();
  await expect(getLease('dry')).rejects.toThrow(/NotFound|not found/);
  expect(short.code).toBe(1);
  expect(short.stderr).toMatch(/would refuse this lease: duration 30s is outside the pool's range \[1m, 720h\]/);
});

test('lease with the payer\'s encrypted keystore creates and signs in one go', async () => {
  const ks = join(dir, 'payer.json');
  writeFileSync(ks, await encryptKeystoreJson({ address: payer.address, privateKey: payer.key }, 'hunter2', { scrypt: { N: 1 << 10 } }));
  const r = await ok(['lease', 'ks', '--pool', POOL, '--gpus', '2', '--duration', '10m', '--keystore', ks, ...inNs], { ...chainEnv, PINFI_KEYSTORE_PASSWORD: 'hunter2' });
  expect(r.stdout).toMatch(/^computelease\.pinfi\.io\/ks created\nsecret\/ks-auth created: /);
  expect((await getLease('ks')).spec.payer.address).toBe(payer.address);
  await untilLease('ks', 'Active', (l) => l.status?.phase === 'Active');
});

test('sign for an external wallet: typed data out, the wallet\'s signature back in', async () => {
  await ok(['lease', 'ext', '--pool', POOL, '--gpus', '2', '--duration', '10m', '--payer', payer.address, '--max-total', '1tUSD', ...inNs]);
  const file = join(dir, 'ext.json');
  // Offline: no chain URL, the chain id given.
  const out = await ok(['sign', '--lease', 'ext', '--external', '--chain-id', '31337', '--typed-data-out', file, ...inNs], { ...chainEnv, PINFI_RPC_URL: '' });
  expect(out.stderr).toMatch(/Sign this with the payer's wallet .* as eth_signTypedData_v4/);
  const typed = JSON.parse(readFileSync(file, 'utf8')) as { domain: Record<string, string>; types: Record<string, { name: string; type: string }[]>; message: Record<string, string>; primaryType: string };
  expect(typed.primaryType).toBe('LeaseAuthorization');
  expect(typed.message).toMatchObject({ name: 'ext', namespace: ns, pool: POOL, maxAmount: '1000000', uid: (await getLease('ext')).metadata?.uid });
  const { EIP712Domain: _domain, ...types } = typed.types;
  // The wrong wallet's signature is refused before any Secret exists…
  const wrong = await new Wallet(provider.key).signTypedData(typed.domain, types, typed.message);
  const refused = await pinfi(['sign', '--lease', 'ext', '--typed-data', file, '--signature', wrong, ...inNs], chainEnv);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/the operator would refuse this authorisation: the authorisation was signed by 0x[0-9a-fA-F]{40}, not the payer/);
  await expect(kubectl(['get', 'secret', 'ext-auth', '-n', ns])).rejects.toThrow(/NotFound|not found/);
  // …the payer's is taken (from a file, as a wallet export would be).
  const sigFile = join(dir, 'ext.sig');
  writeFileSync(sigFile, await new Wallet(payer.key).signTypedData(typed.domain, types, typed.message));
  const taken = await ok(['sign', '--lease', 'ext', '--typed-data', file, '--signature', `@${sigFile}`, ...inNs], chainEnv);
  expect(taken.stdout).toMatch(/^secret\/ext-auth created: .* authorises lease ext .* for up to 1 tUSD/);
  await untilLease('ext', 'Active', (l) => l.status?.phase === 'Active');
});

test('leases shows state, price, time left and the transaction (also as a kubectl plugin)', async () => {
  const [table, data, plugin] = await Promise.all([
    ok(['leases', ...inNs]),
    ok(['leases', 'ks', '-o', 'json', ...inNs]),
    kubectlPinfi(['leases', '-n', ns, '-o', 'wide']),
  ]);
  expect(table.stdout).toMatch(/^NAME\s+POOL\s+GPUS\s+STATE\s+PRICE\/GPU-H\s+TIME LEFT\s+TX\n/);
  expect(table.stdout).toMatch(new RegExp(`\\nks\\s+${POOL}\\s+2\\s+Active\\s+1(\\.\\d+)? tUSD\\s+\\d+m(\\d+s)?\\s+0x[0-9a-f]{6}…[0-9a-f]{4}\\n`));
  expect(table.stdout).toMatch(/\next\s+.*Active/);
  const [ks] = json<{ name: string; phase: string; secondsLeft: number; openTx: string; total: string }[]>(data);
  expect(ks).toMatchObject({ name: 'ks', phase: 'Active' });
  expect(ks?.secondsLeft).toBeGreaterThan(0);
  expect(ks?.openTx).toMatch(/^0x[0-9a-f]{64}$/);
  expect(plugin.code).toBe(0);
  expect(plugin.stdout).toMatch(/^NAME\s+POOL\s+GPUS\s+DURATION\s+STATE\s+PRICE\/GPU-H\s+TOTAL\s+TIME LEFT\s+TX\s+REASON\s+PAYER\s+OPEN TX\s+SETTLE TX\n/);
});

test('finished and cancelled leases settle; withdraw pays the provider and refunds the payer', async () => {
  const settled = await untilLease('train', 'Settled', (l) => l.status?.phase === 'Settled', 120_000);
  const wide = await ok(['leases', 'train', '-o', 'wide', ...inNs]);
  expect(wide.stdout).toContain(settled.status?.chain?.settleTx ?? 'no settle tx');
  expect(wide.stdout).toMatch(/train\s+.*Settled\s/);
  await kubectl(['delete', 'computelease', 'ks', 'ext', '-n', ns, '--wait=false']);
  await eventually('cancelled leases settled and gone', async () => {
    const left = JSON.parse(await kubectl(['get', 'computeleases', '-n', ns, '-o', 'json'])) as { items: ComputeLease[] };
    return left.items.some((l) => ['ks', 'ext'].includes(l.metadata?.name ?? '')) ? undefined : true;
  }, 60_000);
  const [prov, pay] = await Promise.all([
    ok(['withdraw', '--key-file', provider.keyFile, '-o', 'json'], chainEnv),
    ok(['withdraw', '--key-file', payer.keyFile], chainEnv),
  ]);
  const p = json<{ amount: string; txHash: string; balance: string }>(prov);
  expect(BigInt(p.amount)).toBeGreaterThan(0n);
  expect(p.txHash).toMatch(/^0x[0-9a-f]{64}$/);
  expect(BigInt(p.balance)).toBe(BigInt(p.amount));
  expect(pay.stdout).toMatch(/^account:\s+0x[0-9a-fA-F]{40}\nwithdrawn:\s+0\.\d+ tUSD\n/);
  const again = await ok(['withdraw', '--key-file', provider.keyFile], chainEnv);
  expect(again.stdout).toMatch(/^nothing to withdraw/);
});

test('errors name what is wrong and what to do', async () => {
  const closed = await freePort(); // nothing listens there
  const dead = join(dir, 'dead.kubeconfig');
  writeFileSync(dead, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'dead',
    clusters: [{ name: 'dead', cluster: { server: `https://127.0.0.1:${closed}` } }], users: [{ name: 'dead', user: { token: 'x' } }],
    contexts: [{ name: 'dead', context: { cluster: 'dead', user: 'dead' } }],
  }));
  const [noPool, noLease, noCluster, signed] = await Promise.all([
    pinfi(['quote', '--pool', 'nope', '--gpus', '1', '--hours', '1']),
    pinfi(['sign', '--lease', 'nope', '--key-file', payer.keyFile, ...inNs], chainEnv),
    pinfi(['pools', '--kubeconfig', dead]),
    pinfi(['sign', '--lease', 'train', '--key-file', payer.keyFile, ...inNs], chainEnv),
  ]);
  expect(noPool.stderr).toBe('error: GpuPool "nope" not found\nhint: list the pools with: kubectl pinfi pools\n');
  expect(noLease.stderr).toBe(`error: ComputeLease "nope" not found in namespace ${ns}\nhint: list the leases with: kubectl pinfi leases -n ${ns}\n`);
  expect(noCluster.stderr).toMatch(new RegExp(`^error: list gpupools: cannot reach the API server at https://127\\.0\\.0\\.1:${closed} \\(context dead\\) \\(ECONNREFUSED\\)\\nhint: is the cluster running\\?`));
  expect(signed.stderr).toMatch(/ComputeLease train is Settled: it has ended, there is nothing to sign\nhint: create a new lease/);
  for (const r of [noPool, noLease, noCluster, signed]) expect(r.code).toBe(1);
});
