// The operator's ChainClient against a real anvil: one lease from the payer's signature to the provider's
// withdrawal, idempotency after a crash (nothing is sent twice), typed errors a user can act on, and batching.
import { Wallet } from 'ethers';
import { rpc, ANVIL_KEYS } from '../env/anvil.js';
import {
  AllowanceTooLowError, AuthorizationError, BalanceTooLowError, ChainClient, EscrowPausedError, LeaseConflictError, NotPermittedError,
  SettlementInvalidError, authorizationTypedData, leaseIdOf, readBalances, signAuthorization, signPermit, withdraw,
  type ChainClientOptions, type SettlementInstruction, type SignedAuthorization,
} from '../../operator/src/settlement/index.js';
import { USDC, deployMarket, newPayer, recordingLogger, signed, startChain, termsFor, waitUntil, type Market } from './fixtures.js';

let m: Market;
let stop: () => Promise<void>;

beforeAll(async () => {
  const { anvil, provider } = await startChain();
  stop = () => anvil.stop();
  m = await deployMarket(anvil, provider);
});
afterAll(() => stop());

function client(overrides: Partial<ChainClientOptions> = {}): Promise<ChainClient> {
  return ChainClient.connect({
    provider: m.provider,
    signer: m.settler,
    escrowAddress: m.escrowAddress,
    tx: { pollIntervalMs: 20 },
    batch: { maxSize: 50, windowMs: 50 },
    ...overrides,
  });
}

const settlerNonce = () => m.provider.getTransactionCount(m.settler.address, 'latest');

const c0State = async (id: string) => (await client()).leaseState(id);

const completed = (leaseId: string, provider: string, amount: bigint, fee: bigint): SettlementInstruction => ({
  leaseId, providers: [{ address: provider, amount: amount - fee }], fee, refund: 0n, reason: 'Completed',
});

test('one lease, from the payer signature to the provider withdrawal', async () => {
  const c = await client();
  // 1. The payer approves the escrow and signs the authorisation (any EIP-712 wallet can).
  const payer = await newPayer(m, USDC('20'));
  const auth = await signAuthorization(payer, c.domain, await termsFor(m, payer.address, { maxAmount: USDC('15') }));
  // 2. The operator opens the lease for the quoted price.
  const opened = await c.openLease(auth, USDC('12.5'));
  expect(opened.status).toBe('opened');
  expect(await c.leaseState(opened.leaseId)).toMatchObject({ status: 'Open', locked: USDC('12.5'), payer: payer.address });
  // 3. The lease completes: provider paid, fee to the treasury, nothing refunded.
  const gpuProvider = await newPayer(m, 0n, 0n);
  const settled = await c.settleLease(completed(opened.leaseId, gpuProvider.address, USDC('12.5'), USDC('0.25')));
  expect(settled).toMatchObject({ status: 'settled', batchSize: 1 });
  expect(await c.leaseState(opened.leaseId)).toMatchObject({ status: 'Settled', reason: 'Completed' });
  // 4. The provider withdraws.
  expect((await readBalances(m.provider, m.escrowAddress, gpuProvider.address)).owed).toBe(USDC('12.25'));
  const w = await withdraw(gpuProvider, m.escrowAddress);
  expect(w.amount).toBe(USDC('12.25'));
  expect(await m.token.balanceOf(gpuProvider.address)).toBe(USDC('12.25'));
});

test('an authorisation signed through eth_signTypedData_v4 (any wallet) opens a lease', async () => {
  const c = await client();
  const walletAccount = new Wallet(ANVIL_KEYS[5], m.provider); // unlocked in anvil: it signs like a browser wallet
  await (await m.token.mint(walletAccount.address, USDC('3'))).wait();
  const { approveEscrow } = await import('../../operator/src/settlement/index.js');
  await approveEscrow(walletAccount, m.escrowAddress, USDC('3'));
  const terms = await termsFor(m, walletAccount.address, { maxAmount: USDC('3') });
  const typedData = authorizationTypedData(c.domain, terms);
  const json = JSON.stringify(typedData, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const signature = await rpc<string>(m.anvil.rpcUrl, 'eth_signTypedData_v4', [walletAccount.address, json]);
  expect((await c.openLease({ terms, signature }, USDC('3'))).status).toBe('opened');
});

test('with a permit, the payer needs no approve transaction', async () => {
  const c = await client();
  const payer = await newPayer(m, USDC('5'), 0n);
  const auth = await signed(payer, m, { maxAmount: USDC('5') });
  const permit = await signPermit(payer, m.escrowAddress, USDC('5'), auth.terms.deadline);
  expect((await c.openLease(auth, USDC('5'), { permit })).status).toBe('opened');
});

describe('idempotency after a crash: a restarted client finds what happened on-chain and sends nothing', () => {
  test('open', async () => {
    const payer = await newPayer(m, USDC('5'));
    const auth = await signed(payer, m);
    const first = await (await client()).openLease(auth, USDC('5'));
    const nonce = await settlerNonce();
    const log = recordingLogger();
    const again = await (await client({ logger: log })).openLease(auth, USDC('5'));
    expect(again).toEqual({ ...first, status: 'already-open' });
    expect(await settlerNonce()).toBe(nonce);
    expect(log.lines.some((l) => /already open on-chain; nothing sent/.test(l))).toBe(true);
  });

  test('settle', async () => {
    const payer = await newPayer(m, USDC('5'));
    const auth = await signed(payer, m);
    const { leaseId } = await (await client()).openLease(auth, USDC('5'));
    const s = completed(leaseId, Wallet.createRandom().address, USDC('5'), 0n);
    const first = await (await client()).settleLease(s);
    const nonce = await settlerNonce();
    const again = await (await client()).settleLease(s);
    expect(again).toMatchObject({ status: 'already-settled', txHash: first.txHash, batchSize: 0 });
    expect(await settlerNonce()).toBe(nonce);
  });

  test('open broadcast but not mined when the operator crashed: the lease still opens exactly once', async () => {
    const payer = await newPayer(m, USDC('5'));
    const auth = await signed(payer, m);
    await rpc(m.anvil.rpcUrl, 'evm_setAutomine', [false]);
    let crashed: ChainClient | undefined;
    try {
      // The first operator broadcasts its open, then "crashes": it stops waiting after 500 ms.
      crashed = await client({ tx: { pollIntervalMs: 20, maxWaitMs: 500 } });
      const lost = crashed.openLease(auth, USDC('5')).catch((e: unknown) => e);
      await waitUntil('the first open to be broadcast', () => crashed!.waitingFor().some((w) => /to be mined/.test(w)));
      expect(await lost).toBeInstanceOf(Error);
      // The restarted operator sees no open lease yet (the first transaction is still in the mempool) and sends
      // its own; both are mined, the second reverts with LeaseExists, which the client reads as "already open".
      const restarted = await client();
      const again = restarted.openLease(auth, USDC('5'));
      await waitUntil('the second open to be broadcast', () => restarted.waitingFor().some((w) => /to be mined/.test(w)));
      await rpc(m.anvil.rpcUrl, 'evm_mine', []);
      expect((await again).status).toBe('already-open');
    } finally {
      await rpc(m.anvil.rpcUrl, 'evm_setAutomine', [true]);
    }
    expect(await c0State(leaseIdOf(auth.terms))).toMatchObject({ status: 'Open', locked: USDC('5') });
    expect(await m.token.balanceOf(payer.address)).toBe(0n);
    const opened = await m.escrow.queryFilter(m.escrow.filters.LeaseOpened(leaseIdOf(auth.terms)));
    expect(opened).toHaveLength(1);
  });
});

/** `prepare` sets the scene and returns the one call that must fail, without sending a transaction. */
type ErrorCase = { name: string; prepare: (c: ChainClient) => Promise<() => Promise<unknown>>; error: new (...a: never[]) => Error; message: RegExp };

const errorCases: ErrorCase[] = [
  {
    name: 'allowance too low',
    prepare: async (c) => { const p = await newPayer(m, USDC('20'), USDC('2')); const a = await signed(p, m); return () => c.openLease(a, USDC('12.5')); },
    error: AllowanceTooLowError,
    message: /^allowance too low: approve 12\.5 tUSD to 0x[0-9a-fA-F]{40} \(payer 0x[0-9a-fA-F]{40} has approved 2 tUSD\)$/,
  },
  {
    name: 'balance too low',
    prepare: async (c) => { const p = await newPayer(m, USDC('3'), USDC('20')); const a = await signed(p, m); return () => c.openLease(a, USDC('12.5')); },
    error: BalanceTooLowError,
    message: /^balance too low: payer 0x[0-9a-fA-F]{40} holds 3 tUSD, the lease needs 12\.5 tUSD$/,
  },
  {
    name: 'authorisation expired',
    prepare: async (c) => {
      const p = await newPayer(m, USDC('1'));
      const { timestamp } = (await m.provider.getBlock('latest'))!;
      const a = await signed(p, m, { deadline: BigInt(timestamp) - 1n });
      return () => c.openLease(a, USDC('1'));
    },
    error: AuthorizationError,
    message: /^authorisation expired at .*: the payer must sign a new one$/,
  },
  {
    name: 'amount above the authorised maximum',
    prepare: async (c) => { const p = await newPayer(m, USDC('20')); const a = await signed(p, m, { maxAmount: USDC('10') }); return () => c.openLease(a, USDC('12.5')); },
    error: AuthorizationError,
    message: /costs 12\.5 tUSD but the payer authorised at most 10 tUSD/,
  },
  {
    name: 'wrong signer',
    prepare: async (c) => {
      const p = await newPayer(m, USDC('1'));
      const a = await signAuthorization(Wallet.createRandom(), c.domain, await termsFor(m, p.address));
      return () => c.openLease(a, USDC('1'));
    },
    error: AuthorizationError,
    message: /was not signed by payer 0x[0-9a-fA-F]{40}/,
  },
  {
    name: 'a key without the settler role',
    prepare: async () => {
      const c = await client({ signer: new Wallet(ANVIL_KEYS[6], m.provider) });
      const p = await newPayer(m, USDC('1'));
      const a = await signed(p, m);
      return () => c.openLease(a, USDC('1'));
    },
    error: NotPermittedError,
    message: /lacks role 0x[0-9a-f]{64} on escrow .*grant/,
  },
  {
    name: 'settling a lease never opened',
    prepare: async (c) => () => c.settleLease(completed(`0x${'cd'.repeat(32)}`, Wallet.createRandom().address, 1n, 0n)),
    error: LeaseConflictError,
    message: /was never opened on-chain/,
  },
  {
    name: 'credits that do not add up',
    prepare: async (c) => {
      const p = await newPayer(m, USDC('5'));
      const { leaseId } = await c.openLease(await signed(p, m), USDC('5'));
      return () => c.settleLease(completed(leaseId, Wallet.createRandom().address, USDC('6'), 0n));
    },
    error: SettlementInvalidError,
    message: /credits 6 tUSD but 5 tUSD is locked/,
  },
];

describe('typed errors a user can act on (and nothing sent)', () => {
  test.each(errorCases)('$name', async ({ prepare, error, message }) => {
    const call = await prepare(await client());
    const nonce = await settlerNonce();
    const err = await call().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(error);
    expect((err as Error).message).toMatch(message);
    for (const key of ANVIL_KEYS) expect((err as Error).message.toLowerCase()).not.toContain(key.slice(2));
    expect(await settlerNonce()).toBe(nonce);
  });

  test('paused escrow', async () => {
    const c = await client();
    const p = await newPayer(m, USDC('1'));
    const auth = await signed(p, m);
    await (await m.asAdmin.pause()).wait();
    try {
      await expect(c.openLease(auth, USDC('1'))).rejects.toBeInstanceOf(EscrowPausedError);
    } finally {
      await (await m.asAdmin.unpause()).wait();
    }
  });
});

describe('batching', () => {
  async function openMany(c: ChainClient, n: number): Promise<SignedAuthorization[]> {
    const out: SignedAuthorization[] = [];
    for (let i = 0; i < n; i++) {
      const p = await newPayer(m, USDC('2'));
      const auth = await signed(p, m);
      await c.openLease(auth, USDC('2'));
      out.push(auth);
    }
    return out;
  }

  test('opens arriving together go out as one openMany; a bad one is opened alone and fails with its own error', async () => {
    const c = await client();
    const payers = [];
    for (let i = 0; i < 4; i++) payers.push(await newPayer(m, USDC('2'))); // the minter's nonces: one at a time
    const auths = await Promise.all(payers.map((p) => signed(p, m)));
    const before = await settlerNonce();
    const opened = await Promise.all(auths.map((a) => c.openLease(a, USDC('2'))));
    expect(opened.map((o) => o.status)).toEqual(['opened', 'opened', 'opened', 'opened']);
    expect(new Set(opened.map((o) => o.txHash)).size).toBe(1); // one transaction for the four
    expect((await settlerNonce()) - before).toBe(1);
    for (const o of opened) expect(await c.leaseState(o.leaseId)).toMatchObject({ status: 'Open', locked: USDC('2') });

    // One payer without allowance in a batch of three: the batch would revert, so each goes alone.
    const good = [await newPayer(m, USDC('2')), await newPayer(m, USDC('2'))];
    const broke = await newPayer(m, USDC('2'), 0n);
    const batch = await Promise.all([...good, broke].map((p) => signed(p, m)));
    const results = await Promise.allSettled(batch.map((a) => c.openLease(a, USDC('2'))));
    expect(results.slice(0, 2).map((r) => r.status === 'fulfilled' && r.value.status)).toEqual(['opened', 'opened']);
    expect(results[2]?.status).toBe('rejected');
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(AllowanceTooLowError);
    expect((await c.leaseState(leaseIdOf(batch[2]!.terms))).status).toBe('None');
  });

  test('settlements due within the window go out as one settleMany; more than maxSize split', async () => {
    const c = await client({ batch: { maxSize: 3, windowMs: 100 } });
    const auths = await openMany(c, 5);
    const provider = Wallet.createRandom().address;
    const results = await Promise.all(auths.map((a) => c.settleLease(completed(leaseIdOf(a.terms), provider, USDC('2'), USDC('0.1')))));
    expect(results.map((r) => r.batchSize)).toEqual([3, 3, 3, 2, 2]);
    expect(new Set(results.map((r) => r.txHash)).size).toBe(2);
    expect(await m.escrow.owed(provider)).toBe(USDC('9.5'));
  });

  test('a settlement already done and a bad one do not stop the rest of the batch', async () => {
    const c = await client({ batch: { maxSize: 10, windowMs: 100 } });
    const [a, b, d] = await openMany(c, 3);
    const provider = Wallet.createRandom().address;
    const idA = leaseIdOf(a!.terms);
    await c.settleLease(completed(idA, provider, USDC('2'), 0n));
    const results = await Promise.allSettled([
      c.settleLease(completed(idA, provider, USDC('2'), 0n)),
      c.settleLease(completed(leaseIdOf(b!.terms), provider, USDC('3'), 0n)),
      c.settleLease(completed(leaseIdOf(d!.terms), provider, USDC('2'), 0n)),
    ]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { status: 'already-settled' } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: expect.any(SettlementInvalidError) });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { status: 'settled', batchSize: 1 } });
  });

  test('waitingFor says when a batch is pending', async () => {
    const c = await client({ batch: { maxSize: 10, windowMs: 300 } });
    const [a] = await openMany(c, 1);
    const pending = c.settleLease(completed(leaseIdOf(a!.terms), Wallet.createRandom().address, USDC('2'), 0n));
    expect(c.waitingFor()[0]).toMatch(/^1 settlement\(s\) waiting for the batch window/);
    await pending;
    expect(c.waitingFor()).toEqual([]);
  });
});
