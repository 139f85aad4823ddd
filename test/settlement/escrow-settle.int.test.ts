// LeaseEscrow.settle / settleMany / withdraw on a real anvil: credits, close reasons, every revert with its custom
// error (double settle, over- and under-settle, …), pause, and pull payments.
import { Wallet } from 'ethers';
import { termsStruct } from '../../operator/src/settlement/authorization.js';
import { CloseReason } from '../../operator/src/settlement/types.js';
import { LeaseEscrow__factory } from '../../operator/src/settlement/generated/index.js';
import { USDC, deployMarket, leaseIdOf, newPayer, revertOf, signed, startChain, type Market } from './fixtures.js';

let m: Market;
let stop: () => Promise<void>;

beforeAll(async () => {
  const { anvil, provider } = await startChain();
  stop = () => anvil.stop();
  m = await deployMarket(anvil, provider);
});
afterAll(() => stop());

/** Opens a lease locking `amount` for a fresh payer; returns its id and payer. */
async function openLease(amount = USDC('10')): Promise<{ id: string; payer: Wallet }> {
  const payer = await newPayer(m, amount);
  const auth = await signed(payer, m);
  await (await m.asSettler.open(termsStruct(auth.terms), amount, auth.signature)).wait();
  return { id: leaseIdOf(auth.terms), payer };
}

const settle = (id: string, providers: string[], amounts: bigint[], fee: bigint, refund: bigint, reason: number = CloseReason.Completed) =>
  m.asSettler.settle(id, providers, amounts, fee, refund, reason).then((t) => t.wait());

describe('settle: credits exactly the locked amount, with the close reason in the event', () => {
  const reasons = Object.entries(CloseReason).map(([name, value]) => ({ name, value }));

  test.each(reasons)('$name', async ({ value }) => {
    const { id, payer } = await openLease(USDC('10'));
    const [p1, p2] = [Wallet.createRandom().address, Wallet.createRandom().address];
    const before = { liabilities: await m.escrow.liabilities(), treasury: await m.escrow.owed(m.treasury.address) };
    const receipt = await settle(id, [p1, p2], [USDC('6'), USDC('1.8')], USDC('0.2'), USDC('2'), value);

    expect(await m.escrow.owed(p1)).toBe(USDC('6'));
    expect(await m.escrow.owed(p2)).toBe(USDC('1.8'));
    expect((await m.escrow.owed(m.treasury.address)) - before.treasury).toBe(USDC('0.2'));
    expect(await m.escrow.owed(payer.address)).toBe(USDC('2'));
    expect(await m.escrow.liabilities()).toBe(before.liabilities); // locked -> owed
    const state = await m.escrow.leaseState(id);
    expect([state.status, state.reason, state.locked, state.payer]).toEqual([2n, BigInt(value), 0n, payer.address]);
    const events = receipt!.logs.map((l) => m.escrow.interface.parseLog(l)!);
    const settled = events.find((e) => e.name === 'LeaseSettled')!;
    expect([settled.args.reason, settled.args.locked, settled.args.providersTotal, settled.args.fee, settled.args.refund]).toEqual([
      BigInt(value), USDC('10'), USDC('7.8'), USDC('0.2'), USDC('2'),
    ]);
    expect(events.filter((e) => e.name === 'ProviderCredited').map((e) => [e.args.provider, e.args.amount])).toEqual([[p1, USDC('6')], [p2, USDC('1.8')]]);
  });

  test('a full refund with no providers (FundingFailed / Expired)', async () => {
    const { id, payer } = await openLease(USDC('3'));
    await settle(id, [], [], 0n, USDC('3'), CloseReason.Expired);
    expect(await m.escrow.owed(payer.address)).toBe(USDC('3'));
  });
});

type Revert = { name: string; run: (id: string) => Promise<unknown>; error: string };
const p = Wallet.createRandom().address;

const reverts: Revert[] = [
  { name: 'double settle', run: async (id) => { await settle(id, [p], [USDC('10')], 0n, 0n); return settle(id, [p], [USDC('10')], 0n, 0n); }, error: 'LeaseEscrow_LeaseAlreadySettled' },
  { name: 'over-settle (credits > locked)', run: (id) => settle(id, [p], [USDC('10')], 1n, 0n), error: 'LeaseEscrow_SettlementMismatch' },
  { name: 'under-settle (credits < locked)', run: (id) => settle(id, [p], [USDC('9')], 0n, 0n), error: 'LeaseEscrow_SettlementMismatch' },
  { name: 'a lease never opened', run: () => settle(`0x${'ab'.repeat(32)}`, [p], [1n], 0n, 0n), error: 'LeaseEscrow_LeaseNotFound' },
  { name: 'providers and amounts of different lengths', run: (id) => settle(id, [p, p], [USDC('10')], 0n, 0n), error: 'LeaseEscrow_LengthMismatch' },
  { name: 'a zero provider address', run: (id) => settle(id, ['0x0000000000000000000000000000000000000000'], [USDC('10')], 0n, 0n), error: 'LeaseEscrow_ZeroAddress' },
  { name: 'a caller without the settler role', run: (id) => m.asAdmin.settle(id, [p], [USDC('10')], 0n, 0n, 0).then((t) => t.wait()), error: 'AccessControlUnauthorizedAccount' },
  { name: 'an empty settleMany', run: () => m.asSettler.settleMany([]).then((t) => t.wait()), error: 'LeaseEscrow_EmptyBatch' },
  {
    name: 'a lease twice in one settleMany',
    run: (id) => {
      const s = { leaseId: id, providers: [p], amounts: [USDC('10')], fee: 0n, refund: 0n, reason: 0 };
      return m.asSettler.settleMany([s, s]).then((t) => t.wait());
    },
    error: 'LeaseEscrow_LeaseAlreadySettled',
  },
];

describe('settle: reverts', () => {
  test.each(reverts)('$name -> $error', async ({ run, error }) => {
    const { id } = await openLease(USDC('10'));
    expect((await revertOf(() => run(id))).name).toBe(error);
  });

  test('while paused -> EnforcedPause; the lease stays open', async () => {
    const { id } = await openLease(USDC('10'));
    await (await m.asAdmin.pause()).wait();
    try {
      expect((await revertOf(() => settle(id, [p], [USDC('10')], 0n, 0n))).name).toBe('EnforcedPause');
    } finally {
      await (await m.asAdmin.unpause()).wait();
    }
    expect((await m.escrow.leaseState(id)).status).toBe(1n);
  });
});

describe('settleMany', () => {
  test('settles every lease in the batch', async () => {
    const leases = [await openLease(USDC('4')), await openLease(USDC('4')), await openLease(USDC('4'))];
    const provider = Wallet.createRandom().address;
    const batch = leases.map(({ id }) => ({ leaseId: id, providers: [provider], amounts: [USDC('3')], fee: USDC('0.5'), refund: USDC('0.5'), reason: CloseReason.Completed }));
    await (await m.asSettler.settleMany(batch)).wait();
    expect(await m.escrow.owed(provider)).toBe(USDC('9'));
    const states = await m.escrow.leaseStates(leases.map((l) => l.id));
    expect(states.map((s) => s.status)).toEqual([2n, 2n, 2n]);
  });

  test('is all or nothing: one bad lease and none settles', async () => {
    const good = await openLease(USDC('4'));
    const bad = await openLease(USDC('4'));
    const batch = [
      { leaseId: good.id, providers: [p], amounts: [USDC('4')], fee: 0n, refund: 0n, reason: 0 },
      { leaseId: bad.id, providers: [p], amounts: [USDC('5')], fee: 0n, refund: 0n, reason: 0 },
    ];
    const { name, error } = await revertOf(() => m.asSettler.settleMany(batch).then((t) => t.wait()));
    expect(name).toBe('LeaseEscrow_SettlementMismatch');
    expect(LeaseEscrow__factory.createInterface().parseError((error as { data: string }).data)?.args[0]).toBe(bad.id);
    expect((await m.escrow.leaseState(good.id)).status).toBe(1n);
  });
});

describe('withdraw (pull payments)', () => {
  test('pays the caller what it was credited, once', async () => {
    const { id } = await openLease(USDC('10'));
    const provider = new Wallet(Wallet.createRandom().privateKey, m.provider);
    await m.provider.send('anvil_setBalance', [provider.address, '0x8AC7230489E80000']);
    await settle(id, [provider.address], [USDC('10')], 0n, 0n);
    const escrow = LeaseEscrow__factory.connect(m.escrowAddress, provider);
    const liabilities = await m.escrow.liabilities();
    const receipt = await (await escrow.withdraw()).wait();
    expect(await m.token.balanceOf(provider.address)).toBe(USDC('10'));
    expect(await m.escrow.owed(provider.address)).toBe(0n);
    expect(await m.escrow.liabilities()).toBe(liabilities - USDC('10'));
    const ev = receipt!.logs.map((l) => m.escrow.interface.parseLog(l)).find((e) => e?.name === 'Withdrawn')!;
    expect([ev.args.account, ev.args.amount]).toEqual([provider.address, USDC('10')]);
    expect((await revertOf(() => escrow.withdraw().then((t) => t.wait()))).name).toBe('LeaseEscrow_NothingToWithdraw');
  });

  test('still works while the escrow is paused', async () => {
    const { id, payer } = await openLease(USDC('10'));
    await settle(id, [], [], 0n, USDC('10'), CloseReason.Cancelled);
    await (await m.asAdmin.pause()).wait();
    try {
      await (await LeaseEscrow__factory.connect(m.escrowAddress, payer).withdraw()).wait();
      expect(await m.token.balanceOf(payer.address)).toBe(USDC('10'));
    } finally {
      await (await m.asAdmin.unpause()).wait();
    }
  });

  test('the escrow holds exactly what it owes after all of the above', async () => {
    expect(await m.token.balanceOf(m.escrowAddress)).toBe(await m.escrow.liabilities());
  });
});
