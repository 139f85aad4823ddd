// The chain client when the node itself misbehaves: anvil restarted in the middle of a flow (state kept through
// its --state dump, the mempool lost), and a reorg (anvil_reorg) that removes the block holding a transaction
// before it has its confirmations. Each lease must end opened once and settled once, and the client must say
// what it is waiting for.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { rpc, startAnvil, type Anvil } from '../env/anvil.js';
import { freePort } from '../env/ports.js';
import { runDir } from '../env/paths.js';
import { ChainClient, createProvider, leaseIdOf, type ChainClientOptions, type SignedAuthorization } from '../../operator/src/settlement/index.js';
import { USDC, deployMarket, expectOpenedAndSettledOnce, newPayer, recordingLogger, signed, waitUntil, type Market } from './fixtures.js';

function clientFor(m: Market, overrides: Partial<ChainClientOptions>): Promise<ChainClient> {
  return ChainClient.connect({
    provider: m.provider,
    signer: m.settler,
    escrowAddress: m.escrowAddress,
    tx: { pollIntervalMs: 20 },
    retry: { budgetMs: 30_000, baseMs: 20, maxMs: 200 },
    batch: { maxSize: 10, windowMs: 50 },
    ...overrides,
  });
}

const settlementOf = (m: Market, leaseId: string) => ({
  leaseId, providers: [{ address: m.treasury.address, amount: USDC('3') }], fee: USDC('1'), refund: 0n, reason: 'Completed' as const,
});

/** Records every distinct waitingFor() sentence while `fn` runs. */
async function watching<T>(c: ChainClient, fn: (seen: Set<string>) => Promise<T>): Promise<{ value: T; seen: Set<string> }> {
  const seen = new Set<string>();
  const t = setInterval(() => c.waitingFor().forEach((w) => seen.add(w)), 5);
  try {
    return { value: await fn(seen), seen };
  } finally {
    clearInterval(t);
  }
}

test('anvil restarted mid-flow (state kept, mempool lost): leases open once and settle once', async () => {
  const port = await freePort();
  const stateFile = join(runDir, `anvil-restart-${port}.json`);
  rmSync(stateFile, { force: true });
  let anvil: Anvil = await startAnvil({ port, stateFile });
  try {
    const m = await deployMarket(anvil, createProvider(anvil.rpcUrl, anvil.chainId, { pollingIntervalMs: 20, timeoutMs: 1_000 }));
    const auths: SignedAuthorization[] = [];
    for (let i = 0; i < 3; i++) auths.push(await signed(await newPayer(m, USDC('4')), m));
    const log = recordingLogger(Boolean(process.env.PINFI_TEST_ECHO));
    const c = await clientFor(m, { logger: log });
    // Two leases are open before the restart; the third opens, and the first two settle, across it.
    await c.openLease(auths[0]!, USDC('4'));
    await c.openLease(auths[1]!, USDC('4'));
    await rpc(anvil.rpcUrl, 'evm_setAutomine', [false]);

    const { seen } = await watching(c, async (seenSoFar) => {
      const work = Promise.all([
        c.openLease(auths[2]!, USDC('4')),
        c.settleLease(settlementOf(m, leaseIdOf(auths[0]!.terms))),
        c.settleLease(settlementOf(m, leaseIdOf(auths[1]!.terms))),
      ]);
      await waitUntil('both transactions in the mempool', () => c.waitingFor().filter((w) => /to be mined/.test(w)).length === 2);
      await anvil.stop(); // dumps state on exit; pending transactions are not kept
      await waitUntil('the client to notice the node is gone', () => [...seenSoFar].some((w) => /waiting for the RPC endpoint/.test(w)));
      anvil = await startAnvil({ port, stateFile });
      const [opened, ...settled] = await work;
      expect(opened.status).toBe('opened');
      expect(settled.map((s) => s.status)).toEqual(['settled', 'settled']);
    });
    expect([...seen].some((w) => /waiting for the RPC endpoint \(.*ECONNREFUSED/.test(w))).toBe(true);
    expect(log.lines.some((l) => /unknown to the node \(dropped by a restart or a reorg\): re-broadcasting/.test(l))).toBe(true);

    // The third lease settles after the restart, and a restarted client finds everything done.
    await c.settleLease(settlementOf(m, leaseIdOf(auths[2]!.terms)));
    const fresh = await clientFor(m, {});
    expect((await fresh.openLease(auths[2]!, USDC('4'))).status).toBe('already-open');
    expect((await fresh.settleLease(settlementOf(m, leaseIdOf(auths[2]!.terms)))).status).toBe('already-settled');
    await expectOpenedAndSettledOnce(m, auths.map((a) => leaseIdOf(a.terms)));
  } finally {
    await anvil.stop();
    rmSync(stateFile, { force: true });
  }
});

test('a reorg removes the block of a transaction before its confirmations: it is mined again, once', async () => {
  const anvil = await startAnvil();
  let miner: NodeJS.Timeout | undefined;
  const startMining = () => (miner = setInterval(() => void rpc(anvil.rpcUrl, 'evm_mine', []).catch(() => undefined), 40));
  const stopMining = () => clearInterval(miner);
  try {
    const m = await deployMarket(anvil, createProvider(anvil.rpcUrl, anvil.chainId, { pollingIntervalMs: 20 }));
    const auth = await signed(await newPayer(m, USDC('4')), m);
    const log = recordingLogger(Boolean(process.env.PINFI_TEST_ECHO));
    const c = await clientFor(m, { confirmations: 3, logger: log });

    // open: mined in block b (automine), waiting for 2 more blocks; the reorg replaces block b.
    const { seen: openSeen } = await watching(c, async () => {
      const opening = c.openLease(auth, USDC('4'));
      await waitUntil('the open to wait for confirmations', () => c.waitingFor().some((w) => /more confirmation/.test(w)));
      await rpc(anvil.rpcUrl, 'anvil_reorg', [1, []]);
      startMining();
      expect((await opening).status).toBe('opened');
      stopMining();
    });
    expect([...openSeen].some((w) => /waiting for 2 more confirmation\(s\)/.test(w))).toBe(true);

    // settle: the same, two blocks deep.
    const { seen: settleSeen } = await watching(c, async () => {
      const settling = c.settleLease(settlementOf(m, leaseIdOf(auth.terms)));
      await waitUntil('the settle to wait for confirmations', () => c.waitingFor().some((w) => /more confirmation/.test(w)));
      await rpc(anvil.rpcUrl, 'evm_mine', []);
      await rpc(anvil.rpcUrl, 'anvil_reorg', [2, []]);
      startMining();
      expect((await settling).status).toBe('settled');
      stopMining();
    });
    expect([...settleSeen].some((w) => /more confirmation/.test(w))).toBe(true);
    const reorgNotices = log.lines.filter((l) => /re-broadcasting|left the canonical chain/.test(l));
    expect(reorgNotices.length).toBeGreaterThanOrEqual(2);
    await expectOpenedAndSettledOnce(m, [leaseIdOf(auth.terms)]);
  } finally {
    stopMining();
    await anvil.stop();
  }
});

test('a transaction pending too long is replaced with the same nonce and higher EIP-1559 fees', async () => {
  const anvil = await startAnvil();
  try {
    const m = await deployMarket(anvil, createProvider(anvil.rpcUrl, anvil.chainId, { pollingIntervalMs: 20 }));
    const auth = await signed(await newPayer(m, USDC('4')), m);
    const log = recordingLogger(Boolean(process.env.PINFI_TEST_ECHO));
    const c = await clientFor(m, { logger: log, tx: { pollIntervalMs: 20, replaceAfterMs: 200 } });
    await rpc(anvil.rpcUrl, 'evm_setAutomine', [false]);
    const opening = c.openLease(auth, USDC('4'));
    await waitUntil('a replacement', () => log.lines.some((l) => /pending for [\d.]+ s: replacing it with/.test(l)));
    const replacement = /replacing it with (0x[0-9a-f]{64})/.exec(log.lines.find((l) => /replacing it with/.test(l))!)![1]!;
    await waitUntil('the replacement to be in the mempool', () => c.waitingFor().some((w) => w.includes(`waiting for ${replacement}`)));
    await rpc(anvil.rpcUrl, 'evm_setAutomine', [true]);
    await rpc(anvil.rpcUrl, 'evm_mine', []);
    const opened = await opening;
    expect(opened.status).toBe('opened');
    const tx = (await m.provider.getTransaction(opened.txHash!))!;
    expect(tx.type).toBe(2);
    expect(opened.txHash).toBe(replacement); // the replacement is what got mined
    expect(tx.nonce).toBe(0);
    await (await m.asSettler.settle(opened.leaseId, [], [], 0n, USDC('4'), 1)).wait();
    await expectOpenedAndSettledOnce(m, [opened.leaseId]);
  } finally {
    await anvil.stop();
  }
});

test('a lease an earlier run opened is reported only once it has its confirmations', async () => {
  const anvil = await startAnvil();
  let miner: NodeJS.Timeout | undefined;
  try {
    const m = await deployMarket(anvil, createProvider(anvil.rpcUrl, anvil.chainId, { pollingIntervalMs: 20 }));
    const auth = await signed(await newPayer(m, USDC('4')), m);
    // An earlier run's transaction, mined in the latest block (1 confirmation of the 3 required).
    await (await m.asSettler.open((await import('../../operator/src/settlement/authorization.js')).termsStruct(auth.terms), USDC('4'), auth.signature)).wait();
    const c = await clientFor(m, { confirmations: 3 });
    const reopening = c.openLease(auth, USDC('4'));
    await waitUntil('the client to wait for depth', () => c.waitingFor().some((w) => /found on-chain in block \d+; waiting for 2 more confirmation\(s\)/.test(w)));
    miner = setInterval(() => void rpc(anvil.rpcUrl, 'evm_mine', []).catch(() => undefined), 40);
    expect((await reopening).status).toBe('already-open');
  } finally {
    clearInterval(miner);
    await anvil.stop();
  }
});
