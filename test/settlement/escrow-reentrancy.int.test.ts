// Re-entrancy through a malicious token: the token calls back into the escrow from inside transferFrom (open) and
// transfer (withdraw). It even holds the settler role, so only the guard stands in the way. Every re-entrant call
// must be refused with ReentrancyGuardReentrantCall, and the books must still balance.
import { NonceManager, Wallet } from 'ethers';
import { ANVIL_KEYS } from '../env/anvil.js';
import { deployEscrow } from '../../operator/src/settlement/deploy.js';
import { escrowDomain, leaseIdOf, signAuthorization, termsStruct } from '../../operator/src/settlement/authorization.js';
import { LeaseEscrow__factory, ReentrantToken__factory, type LeaseEscrow, type ReentrantToken } from '../../operator/src/settlement/generated/index.js';
import type { Anvil } from '../env/anvil.js';
import type { JsonRpcProvider } from 'ethers';
import type { AuthorizationTerms } from '../../operator/src/settlement/types.js';
import { USDC, startChain } from './fixtures.js';

let anvil: Anvil;
let provider: JsonRpcProvider;
let admin: NonceManager;
let token: ReentrantToken;
let escrow: LeaseEscrow;
let escrowAddress: string;
let seq = 0;

beforeAll(async () => {
  ({ anvil, provider } = await startChain());
  admin = new NonceManager(new Wallet(ANVIL_KEYS[0], provider));
  const t = await (await new ReentrantToken__factory(admin).deploy()).waitForDeployment();
  token = ReentrantToken__factory.connect(await t.getAddress(), admin);
  escrowAddress = (await deployEscrow(admin, { token: await token.getAddress() })).address;
  escrow = LeaseEscrow__factory.connect(escrowAddress, admin);
  // The malicious token holds the settler role: access control would not stop it, the guard must.
  await (await escrow.grantRole(await escrow.SETTLER_ROLE(), await token.getAddress())).wait();
});
afterAll(() => anvil.stop());

async function payerWithAuth(amount: bigint): Promise<{ payer: Wallet; terms: AuthorizationTerms; signature: string }> {
  const payer = new Wallet(Wallet.createRandom().privateKey, provider);
  await provider.send('anvil_setBalance', [payer.address, '0x8AC7230489E80000']);
  await (await token.mint(payer.address, amount)).wait();
  await (await ReentrantToken__factory.connect(await token.getAddress(), payer).approve(escrowAddress, amount)).wait();
  const { timestamp } = (await provider.getBlock('latest'))!;
  const terms: AuthorizationTerms = {
    payer: payer.address, namespace: 'evil', name: `lease-${++seq}`, uid: `uid-${seq}`, pool: 'a100', maxAmount: amount, deadline: BigInt(timestamp) + 3600n, nonce: BigInt(seq),
  };
  const { signature } = await signAuthorization(payer, escrowDomain(anvil.chainId, escrowAddress), terms);
  return { payer, terms, signature };
}

async function openLease(amount: bigint): Promise<string> {
  const { terms, signature } = await payerWithAuth(amount);
  await (await escrow.open(termsStruct(terms), amount, signature)).wait();
  return leaseIdOf(terms);
}

type Case = {
  name: string;
  /** Prepares the re-entrant calldata, then runs the outer call during which the token re-enters. */
  run: () => Promise<void>;
};

const iface = LeaseEscrow__factory.createInterface();

const cases: Case[] = [
  {
    name: 'open -> open (a second lease from inside transferFrom)',
    run: async () => {
      const inner = await payerWithAuth(USDC('1'));
      await (await token.arm(escrowAddress, iface.encodeFunctionData('open', [termsStruct(inner.terms), USDC('1'), inner.signature]))).wait();
      const outer = await payerWithAuth(USDC('2'));
      await (await escrow.open(termsStruct(outer.terms), USDC('2'), outer.signature)).wait();
      expect((await escrow.leaseState(leaseIdOf(inner.terms))).status).toBe(0n);
    },
  },
  {
    name: 'open -> settle (credit itself from an open lease)',
    run: async () => {
      const victim = await openLease(USDC('5'));
      await (await token.arm(escrowAddress, iface.encodeFunctionData('settle', [victim, [await token.getAddress()], [USDC('5')], 0n, 0n, 0]))).wait();
      const outer = await payerWithAuth(USDC('2'));
      await (await escrow.open(termsStruct(outer.terms), USDC('2'), outer.signature)).wait();
      expect((await escrow.leaseState(victim)).status).toBe(1n);
    },
  },
  {
    name: 'withdraw -> withdraw (collect twice)',
    run: async () => {
      const lease = await openLease(USDC('4'));
      const provider1 = new Wallet(Wallet.createRandom().privateKey, provider);
      await provider.send('anvil_setBalance', [provider1.address, '0x8AC7230489E80000']);
      await (await escrow.settle(lease, [provider1.address, await token.getAddress()], [USDC('2'), USDC('2')], 0n, 0n, 0)).wait();
      await (await token.arm(escrowAddress, iface.encodeFunctionData('withdraw'))).wait();
      await (await LeaseEscrow__factory.connect(escrowAddress, provider1).withdraw()).wait();
      expect(await escrow.owed(await token.getAddress())).toBe(USDC('2'));
      expect(await token.balanceOf(provider1.address)).toBe(USDC('2'));
    },
  },
  {
    name: 'withdraw -> settle',
    run: async () => {
      const victim = await openLease(USDC('3'));
      const lease = await openLease(USDC('1'));
      const provider1 = new Wallet(Wallet.createRandom().privateKey, provider);
      await provider.send('anvil_setBalance', [provider1.address, '0x8AC7230489E80000']);
      await (await escrow.settle(lease, [provider1.address], [USDC('1')], 0n, 0n, 0)).wait();
      await (await token.arm(escrowAddress, iface.encodeFunctionData('settle', [victim, [await token.getAddress()], [USDC('3')], 0n, 0n, 0]))).wait();
      await (await LeaseEscrow__factory.connect(escrowAddress, provider1).withdraw()).wait();
      expect((await escrow.leaseState(victim)).status).toBe(1n);
    },
  },
];

describe('a token that calls back into the escrow is refused by the guard', () => {
  test.each(cases)('$name', async ({ run }) => {
    await run();
    expect(await token.attempted()).toBe(true);
    expect(await token.reentrySucceeded()).toBe(false);
    expect(iface.parseError(await token.reentryRevertData())?.name).toBe('ReentrancyGuardReentrantCall');
    expect(await token.balanceOf(escrowAddress)).toBe(await escrow.liabilities());
  });
});
