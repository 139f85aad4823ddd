// The escrow's conservation invariant under seeded random sequences of open / settle / settleMany / withdraw (and
// misuses that must change nothing), checked against a model after every step on a real anvil:
//   token.balanceOf(escrow) == sum(locked of open leases) + sum(credited, not withdrawn) == liabilities()
// and at the end no account holds more than it was owed (providers: withdrawn <= credited; payers: funds back
// <= refunds), and every account's on-chain `owed` equals the model's.
import { Wallet } from 'ethers';
import { CloseReason } from '../../operator/src/settlement/types.js';
import { LeaseEscrow__factory, TestStablecoin__factory } from '../../operator/src/settlement/generated/index.js';
import { termsStruct } from '../../operator/src/settlement/authorization.js';
import { USDC, deployMarket, leaseIdOf, revertOf, signed, startChain, type Market } from './fixtures.js';
import type { Anvil } from '../env/anvil.js';
import type { JsonRpcProvider } from 'ethers';
import { uniform as prng } from '../../operator/src/market/testing/prng.js';


let anvil: Anvil;
let provider: JsonRpcProvider;
beforeAll(async () => ({ anvil, provider } = await startChain()));
afterAll(() => anvil.stop());

const SEEDS = [1, 7, 2026];
const STEPS = 45;

test.each(SEEDS)('seed %i: balance == locked + owed after every step; nobody gets more than owed', async (seed) => {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const below = (n: bigint): bigint => (n <= 0n ? 0n : BigInt(Math.floor(rand() * Number(n + 1n))));
  const m: Market = await deployMarket(anvil, provider);
  const tokenAddress = await m.token.getAddress();
  const fund = async (w: Wallet) => provider.send('anvil_setBalance', [w.address, '0x8AC7230489E80000']);

  const payers = Array.from({ length: 3 }, () => new Wallet(Wallet.createRandom().privateKey, provider));
  const providers = Array.from({ length: 4 }, () => new Wallet(Wallet.createRandom().privateKey, provider));
  const FUNDS = USDC('10000');
  for (const p of payers) {
    await fund(p);
    await (await m.token.mint(p.address, FUNDS)).wait();
    await (await TestStablecoin__factory.connect(tokenAddress, p).approve(m.escrowAddress, FUNDS)).wait();
  }
  for (const p of providers) await fund(p);
  const beneficiaries = [...providers, ...payers, m.treasury];

  // The model.
  const locked = new Map<string, { amount: bigint; payer: string }>();
  const settled = new Set<string>();
  const owed = new Map<string, bigint>();
  const credited = new Map<string, bigint>();
  const withdrawn = new Map<string, bigint>();
  const add = (map: Map<string, bigint>, k: string, v: bigint) => map.set(k, (map.get(k) ?? 0n) + v);
  let paidIn = 0n;
  const paidBy = new Map<string, bigint>();

  const split = (id: string) => {
    const total = locked.get(id)!.amount;
    const n = Math.floor(rand() * 3);
    const ps = Array.from({ length: n }, () => pick(providers).address);
    let left = total;
    const amounts = ps.map(() => { const a = below(left); left -= a; return a; });
    const fee = below(left);
    left -= fee;
    return { leaseId: id, providers: ps, amounts, fee, refund: left, reason: pick(Object.values(CloseReason)) };
  };
  const applySettle = (s: ReturnType<typeof split>) => {
    const lease = locked.get(s.leaseId)!;
    s.providers.forEach((p, i) => { add(owed, p, s.amounts[i]!); add(credited, p, s.amounts[i]!); });
    add(owed, m.treasury.address, s.fee); add(credited, m.treasury.address, s.fee);
    add(owed, lease.payer, s.refund); add(credited, lease.payer, s.refund);
    locked.delete(s.leaseId);
    settled.add(s.leaseId);
  };

  for (let step = 0; step < STEPS; step++) {
    const r = rand();
    const open = [...locked.keys()];
    if (r < 0.35 || open.length === 0) {
      const payer = pick(payers);
      const amount = 1n + below(USDC('50'));
      const auth = await signed(payer, m, { maxAmount: amount + below(USDC('5')) });
      await (await m.asSettler.open(termsStruct(auth.terms), amount, auth.signature)).wait();
      locked.set(leaseIdOf(auth.terms), { amount, payer: payer.address });
      paidIn += amount;
      add(paidBy, payer.address, amount);
    } else if (r < 0.6) {
      const s = split(pick(open));
      await (await m.asSettler.settle(s.leaseId, s.providers, s.amounts, s.fee, s.refund, s.reason)).wait();
      applySettle(s);
    } else if (r < 0.7) {
      const ids = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(open)))];
      const batch = ids.map(split);
      await (await m.asSettler.settleMany(batch)).wait();
      batch.forEach(applySettle);
    } else if (r < 0.9) {
      const who = pick(beneficiaries);
      const escrow = LeaseEscrow__factory.connect(m.escrowAddress, who);
      const due = owed.get(who.address) ?? 0n;
      if (due === 0n) {
        expect((await revertOf(() => escrow.withdraw().then((t) => t.wait()))).name).toBe('LeaseEscrow_NothingToWithdraw');
      } else {
        await (await escrow.withdraw()).wait();
        owed.set(who.address, 0n);
        add(withdrawn, who.address, due);
      }
    } else {
      // Misuse: settling a settled lease again, or over-settling an open one. Must revert and change nothing.
      const done = [...settled];
      if (done.length > 0 && rand() < 0.5) {
        const id = pick(done);
        expect((await revertOf(() => m.asSettler.settle(id, [], [], 0n, 1n, 0).then((t) => t.wait()))).name).toBe('LeaseEscrow_LeaseAlreadySettled');
      } else {
        const id = pick(open);
        const over = locked.get(id)!.amount + 1n;
        expect((await revertOf(() => m.asSettler.settle(id, [], [], 0n, over, 0).then((t) => t.wait()))).name).toBe('LeaseEscrow_SettlementMismatch');
      }
    }

    const modelLocked = [...locked.values()].reduce((a, l) => a + l.amount, 0n);
    const modelOwed = [...owed.values()].reduce((a, b) => a + b, 0n);
    const balance = await m.token.balanceOf(m.escrowAddress);
    expect({ step, balance }).toEqual({ step, balance: modelLocked + modelOwed });
    expect(await m.escrow.liabilities()).toBe(balance);
  }

  for (const who of beneficiaries) {
    expect(await m.escrow.owed(who.address)).toBe(owed.get(who.address) ?? 0n);
    const got = withdrawn.get(who.address) ?? 0n;
    expect(got <= (credited.get(who.address) ?? 0n)).toBe(true);
  }
  for (const p of providers) expect(await m.token.balanceOf(p.address)).toBe(withdrawn.get(p.address) ?? 0n);
  expect(await m.token.balanceOf(m.treasury.address)).toBe(withdrawn.get(m.treasury.address) ?? 0n);
  for (const p of payers) {
    // A payer ends with what it started with, less everything it locked, plus the refunds it withdrew: exactly.
    expect(await m.token.balanceOf(p.address)).toBe(FUNDS - (paidBy.get(p.address) ?? 0n) + (withdrawn.get(p.address) ?? 0n));
  }
  expect(paidIn).toBe([...locked.values()].reduce((a, l) => a + l.amount, 0n) + [...credited.values()].reduce((a, b) => a + b, 0n));
});
