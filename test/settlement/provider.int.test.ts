// ethers' wait() looks for the receipt once and then waits for a new block. A transaction mined between that look
// and the block poller's first reading sits in a block the poller has already counted, so wait() waits for the
// next block, which an automining anvil never makes on its own. The proxy reproduces the moment exactly: the node
// has mined the transaction, but the first receipt looks answer null. The project's provider looks again on a timer.
import { JsonRpcProvider, Network, Wallet } from 'ethers';
import { ANVIL_KEYS } from '../env/anvil.js';
import { createProvider } from '../../operator/src/settlement/index.js';
import { FaultMode, startRpcProxy, type RpcProxy } from './rpc-proxy.js';
import { startChain } from './fixtures.js';

let proxy: RpcProxy;
let stop: () => Promise<void>;
let chainId: number;

beforeAll(async () => {
  const { anvil } = await startChain();
  chainId = anvil.chainId;
  proxy = await startRpcProxy(anvil.rpcUrl);
  stop = async () => {
    await proxy.close();
    await anvil.stop();
  };
});
afterAll(() => stop());

/** Sends 1 wei from anvil's key 5 to itself through `provider`, with the first two receipt looks answered null. */
async function sendWithLateReceipts(provider: JsonRpcProvider) {
  const wallet = new Wallet(ANVIL_KEYS[5], provider);
  const tx = await wallet.sendTransaction({ to: wallet.address, value: 1n });
  proxy.set(FaultMode.NullResult, 1, ['eth_getTransactionReceipt'], 2);
  return tx;
}

test('plain ethers: wait() misses a transaction mined before its block poller started (the bug)', async () => {
  const plain = new JsonRpcProvider(proxy.url, Network.from(chainId), { staticNetwork: true, cacheTimeout: -1, batchMaxCount: 1, pollingInterval: 20 });
  const tx = await sendWithLateReceipts(plain);
  await expect(tx.wait(1, 1_500)).rejects.toMatchObject({ code: 'TIMEOUT' });
  plain.destroy();
});

test('createProvider: wait() finds the receipt on its next timed look', async () => {
  const provider = createProvider(proxy.url, chainId, { pollingIntervalMs: 20 });
  const tx = await sendWithLateReceipts(provider);
  const receipt = await tx.wait(1, 10_000);
  expect(receipt?.hash).toBe(tx.hash);
  expect(receipt?.status).toBe(1);
  expect(proxy.stats.faults).toBeGreaterThanOrEqual(2);
  provider.destroy();
});
