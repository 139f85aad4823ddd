// LeaseEscrow.open / openWithPermit on a real anvil: the happy paths, every revert with its custom error, and
// every misuse of a payer's authorisation.
import { Wallet } from 'ethers';
import { rpc } from '../env/anvil.js';
import { authorizationDigest, escrowDomain, leaseIdOf, poolIdOf, signAuthorization, termsStruct } from '../../operator/src/settlement/authorization.js';
import { signPermit } from '../../operator/src/settlement/wallet.js';
import type { AuthorizationTerms, SignedAuthorization } from '../../operator/src/settlement/types.js';
import { USDC, deployMarket, newPayer, revertOf, signed, startChain, termsFor, type Market } from './fixtures.js';

let m: Market;
let stop: () => Promise<void>;

beforeAll(async () => {
  const { anvil, provider } = await startChain();
  stop = () => anvil.stop();
  m = await deployMarket(anvil, provider);
});
afterAll(() => stop());

const open = (a: SignedAuthorization, amount: bigint, terms: AuthorizationTerms = a.terms) =>
  m.asSettler.open(termsStruct(terms), amount, a.signature).then((tx) => tx.wait());

describe('ids and digests', () => {
  test('lease id, pool id and the EIP-712 digest match the contract', async () => {
    const payer = Wallet.createRandom();
    const terms = await termsFor(m, payer.address);
    expect(await m.escrow.leaseIdOf(terms.namespace, terms.name, terms.uid)).toBe(leaseIdOf(terms));
    expect(await m.escrow.poolIdOf(terms.pool)).toBe(poolIdOf(terms.pool));
    expect(await m.escrow.hashAuthorization(termsStruct(terms))).toBe(authorizationDigest(m.domain, terms));
  });
});

describe('open: happy paths', () => {
  test('with an allowance: pulls the amount, records the lease, uses the nonce, emits LeaseOpened', async () => {
    const payer = await newPayer(m, USDC('20'));
    const auth = await signed(payer, m, { maxAmount: USDC('15') });
    const receipt = await open(auth, USDC('12.5'));
    const id = leaseIdOf(auth.terms);

    expect(await m.token.balanceOf(payer.address)).toBe(USDC('7.5'));
    const state = await m.escrow.leaseState(id);
    expect(state.status).toBe(1n);
    expect(state.payer).toBe(payer.address);
    expect(state.locked).toBe(USDC('12.5'));
    expect(state.treasury).toBe(m.treasury.address);
    expect(await m.escrow.isNonceUsed(payer.address, auth.terms.nonce)).toBe(true);
    const ev = receipt!.logs.map((l) => m.escrow.interface.parseLog(l)).find((e) => e?.name === 'LeaseOpened')!;
    expect(ev.args.leaseId).toBe(id);
    expect(ev.args.amount).toBe(USDC('12.5'));
    expect(ev.args.namespace).toBe('team-a');
    expect(ev.args.uid).toBe(auth.terms.uid);
  });

  test('with an EIP-2612 permit and no prior approval', async () => {
    const payer = await newPayer(m, USDC('10'), 0n);
    const auth = await signed(payer, m, { maxAmount: USDC('10') });
    const permit = await signPermit(payer, m.escrowAddress, USDC('10'), auth.terms.deadline);
    await (await m.asSettler.openWithPermit(termsStruct(auth.terms), USDC('10'), auth.signature, permit)).wait();
    expect((await m.escrow.leaseState(leaseIdOf(auth.terms))).locked).toBe(USDC('10'));
    expect(await m.token.balanceOf(payer.address)).toBe(0n);
  });

  test('a pool with its own treasury: the lease records it', async () => {
    const poolTreasury = Wallet.createRandom().address;
    await (await m.asAdmin.setPoolTreasury(poolIdOf('h100'), poolTreasury)).wait();
    const payer = await newPayer(m, USDC('5'));
    const auth = await signed(payer, m, { pool: 'h100' });
    await open(auth, USDC('5'));
    expect((await m.escrow.leaseState(leaseIdOf(auth.terms))).treasury).toBe(poolTreasury);
  });
});

describe('open: a smart-contract payer (ERC-1271)', () => {
  test('its owner signs for it; anyone else is refused', async () => {
    const { SmartWalletMock__factory } = await import('../../operator/src/settlement/generated/index.js');
    const owner = await newPayer(m, 0n, 0n);
    const wallet = await (await new SmartWalletMock__factory(owner).deploy(owner.address)).waitForDeployment();
    const walletAddress = await wallet.getAddress();
    await (await m.token.mint(walletAddress, USDC('5'))).wait();
    await (await wallet.approve(await m.token.getAddress(), m.escrowAddress, USDC('5'))).wait();

    const terms = await termsFor(m, walletAddress);
    const stranger = await signAuthorization(Wallet.createRandom(), m.domain, terms);
    expect((await revertOf(() => open(stranger, USDC('5')))).name).toBe('LeaseEscrow_InvalidSigner');
    await open(await signAuthorization(owner, m.domain, terms), USDC('5'));
    expect((await m.escrow.leaseState(leaseIdOf(terms))).payer).toBe(walletAddress);
    expect(await m.token.balanceOf(walletAddress)).toBe(0n);
  });
});

type Misuse = {
  name: string;
  /** Returns what the settler submits; may open other leases first. */
  build: (payer: Wallet) => Promise<{ auth: SignedAuthorization; terms: AuthorizationTerms; amount: bigint }>;
  error: string;
};

const misuses: Misuse[] = [
  {
    name: 'used once already (same lease)',
    build: async (payer) => {
      const auth = await signed(payer, m);
      await open(auth, USDC('1'));
      return { auth, terms: auth.terms, amount: USDC('1') };
    },
    error: 'LeaseEscrow_LeaseExists',
  },
  {
    name: 'its nonce reused for another lease',
    build: async (payer) => {
      const first = await signed(payer, m, { nonce: 4242n });
      await open(first, USDC('1'));
      const second = await signed(payer, m, { nonce: 4242n });
      return { auth: second, terms: second.terms, amount: USDC('1') };
    },
    error: 'LeaseEscrow_NonceUsed',
  },
  {
    name: 'presented for another lease (other name)',
    build: async (payer) => {
      const auth = await signed(payer, m);
      return { auth, terms: { ...auth.terms, name: 'someone-elses-job' }, amount: USDC('1') };
    },
    error: 'LeaseEscrow_InvalidSigner',
  },
  {
    name: 'presented for another lease (other uid: a recreated object)',
    build: async (payer) => {
      const auth = await signed(payer, m);
      return { auth, terms: { ...auth.terms, uid: 'another-uid' }, amount: USDC('1') };
    },
    error: 'LeaseEscrow_InvalidSigner',
  },
  {
    name: 'presented in another namespace',
    build: async (payer) => {
      const auth = await signed(payer, m);
      return { auth, terms: { ...auth.terms, namespace: 'team-b' }, amount: USDC('1') };
    },
    error: 'LeaseEscrow_InvalidSigner',
  },
  {
    name: 'presented for another pool',
    build: async (payer) => {
      const auth = await signed(payer, m);
      return { auth, terms: { ...auth.terms, pool: 'h100' }, amount: USDC('1') };
    },
    error: 'LeaseEscrow_InvalidSigner',
  },
  {
    name: 'used for a higher amount than signed',
    build: async (payer) => {
      const auth = await signed(payer, m, { maxAmount: USDC('5') });
      return { auth, terms: auth.terms, amount: USDC('5.000001') };
    },
    error: 'LeaseEscrow_AmountExceedsAuthorization',
  },
  {
    name: 'with its maximum raised after signing',
    build: async (payer) => {
      const auth = await signed(payer, m, { maxAmount: USDC('5') });
      return { auth, terms: { ...auth.terms, maxAmount: USDC('50') }, amount: USDC('50') };
    },
    error: 'LeaseEscrow_InvalidSigner',
  },
  {
    name: 'signed for another chain',
    build: async (payer) => {
      const terms = await termsFor(m, payer.address);
      const auth = await signAuthorization(payer, escrowDomain(1, m.escrowAddress), terms);
      return { auth, terms, amount: USDC('1') };
    },
    error: 'LeaseEscrow_InvalidSigner',
  },
  {
    name: 'signed for another escrow',
    build: async (payer) => {
      const terms = await termsFor(m, payer.address);
      const auth = await signAuthorization(payer, escrowDomain(m.anvil.chainId, Wallet.createRandom().address), terms);
      return { auth, terms, amount: USDC('1') };
    },
    error: 'LeaseEscrow_InvalidSigner',
  },
  {
    name: 'used after its deadline (chain time moved on)',
    build: async (payer) => {
      const { timestamp } = (await m.provider.getBlock('latest'))!;
      const auth = await signed(payer, m, { deadline: BigInt(timestamp) + 60n });
      await rpc(m.anvil.rpcUrl, 'evm_increaseTime', [120]);
      await rpc(m.anvil.rpcUrl, 'evm_mine', []);
      return { auth, terms: auth.terms, amount: USDC('1') };
    },
    error: 'LeaseEscrow_AuthorizationExpired',
  },
  {
    name: 'signed by someone other than the payer',
    build: async (payer) => {
      const terms = await termsFor(m, payer.address);
      const auth = await signAuthorization(Wallet.createRandom(), m.domain, terms);
      return { auth, terms, amount: USDC('1') };
    },
    error: 'LeaseEscrow_InvalidSigner',
  },
  {
    name: "pointed at another payer's allowance",
    build: async (payer) => {
      const attacker = Wallet.createRandom();
      const terms = await termsFor(m, payer.address);
      const auth = await signAuthorization(attacker, m.domain, { ...terms, payer: attacker.address });
      return { auth, terms, amount: USDC('1') };
    },
    error: 'LeaseEscrow_InvalidSigner',
  },
  {
    name: 'revoked by the payer',
    build: async (payer) => {
      const auth = await signed(payer, m);
      const { LeaseEscrow__factory } = await import('../../operator/src/settlement/generated/index.js');
      await (await LeaseEscrow__factory.connect(m.escrowAddress, payer).revokeNonce(auth.terms.nonce)).wait();
      return { auth, terms: auth.terms, amount: USDC('1') };
    },
    error: 'LeaseEscrow_NonceUsed',
  },
];

describe('open: a misused authorisation is refused', () => {
  test.each(misuses)('$name -> $error', async ({ build, error }) => {
    const payer = await newPayer(m, USDC('100'));
    const { auth, terms, amount } = await build(payer);
    const before = await m.token.balanceOf(payer.address);
    expect((await revertOf(() => open(auth, amount, terms))).name).toBe(error);
    expect(await m.token.balanceOf(payer.address)).toBe(before);
  });
});

type Revert = { name: string; run: () => Promise<unknown>; error: string };

const reverts: Revert[] = [
  { name: 'amount 0', run: async () => { const p = await newPayer(m, USDC('1')); return open(await signed(p, m), 0n); }, error: 'LeaseEscrow_ZeroAmount' },
  {
    name: 'amount above uint96',
    run: async () => { const p = await newPayer(m, USDC('1')); return open(await signed(p, m, { maxAmount: 2n ** 100n }), 2n ** 96n); },
    error: 'LeaseEscrow_AmountTooLarge',
  },
  { name: 'empty uid', run: async () => { const p = await newPayer(m, USDC('1')); return open(await signed(p, m, { uid: '' }), USDC('1')); }, error: 'LeaseEscrow_InvalidLeaseIdentity' },
  { name: 'allowance below the amount', run: async () => { const p = await newPayer(m, USDC('10'), USDC('2')); return open(await signed(p, m), USDC('5')); }, error: 'LeaseEscrow_AllowanceTooLow' },
  { name: 'balance below the amount', run: async () => { const p = await newPayer(m, USDC('2'), USDC('10')); return open(await signed(p, m), USDC('5')); }, error: 'LeaseEscrow_BalanceTooLow' },
  {
    name: 'zero payer',
    run: async () => { const p = await newPayer(m, USDC('1')); const a = await signed(p, m); return open(a, USDC('1'), { ...a.terms, payer: '0x0000000000000000000000000000000000000000' }); },
    error: 'LeaseEscrow_ZeroAddress',
  },
  {
    name: 'caller without the settler role',
    run: async () => { const p = await newPayer(m, USDC('1')); const a = await signed(p, m); return (await m.asAdmin.open(termsStruct(a.terms), USDC('1'), a.signature)).wait(); },
    error: 'AccessControlUnauthorizedAccount',
  },
];

describe('open: reverts', () => {
  test.each(reverts)('$name -> $error', async ({ run, error }) => {
    expect((await revertOf(run)).name).toBe(error);
  });

  test('while paused -> EnforcedPause; after unpause it opens', async () => {
    const payer = await newPayer(m, USDC('1'));
    const auth = await signed(payer, m);
    await (await m.asAdmin.pause()).wait();
    try {
      expect((await revertOf(() => open(auth, USDC('1')))).name).toBe('EnforcedPause');
    } finally {
      await (await m.asAdmin.unpause()).wait();
    }
    await open(auth, USDC('1'));
    expect((await m.escrow.leaseState(leaseIdOf(auth.terms))).status).toBe(1n);
  });

  test('only the admin pauses', async () => {
    expect((await revertOf(() => m.asSettler.pause().then((t) => t.wait()))).name).toBe('AccessControlUnauthorizedAccount');
  });
});

describe('openMany', () => {
  const request = (a: SignedAuthorization, amount: bigint) => ({ terms: termsStruct(a.terms), amount, signature: a.signature });

  test('opens every lease of the batch as open would, in one transaction', async () => {
    const payers = [await newPayer(m, USDC('3')), await newPayer(m, USDC('3')), await newPayer(m, USDC('3'))];
    const auths = [];
    for (const p of payers) auths.push(await signed(p, m));
    const receipt = await (await m.asSettler.openMany(auths.map((a) => request(a, USDC('2'))))).wait();
    const opened = receipt!.logs.map((l) => m.escrow.interface.parseLog(l)).filter((e) => e?.name === 'LeaseOpened');
    expect(opened.map((e) => e?.args.leaseId)).toEqual(auths.map((a) => leaseIdOf(a.terms)));
    for (const [i, a] of auths.entries()) {
      expect((await m.escrow.leaseState(leaseIdOf(a.terms))).locked).toBe(USDC('2'));
      expect(await m.token.balanceOf(payers[i]!.address)).toBe(USDC('1'));
      expect(await m.escrow.isNonceUsed(a.terms.payer, a.terms.nonce)).toBe(true);
    }
  });

  test('all or nothing: one bad request reverts the batch with its error and opens none', async () => {
    const good = await newPayer(m, USDC('3'));
    const broke = await newPayer(m, USDC('3'), 0n);
    const a = await signed(good, m);
    const b = await signed(broke, m);
    expect((await revertOf(async () => (await m.asSettler.openMany([request(a, USDC('2')), request(b, USDC('2'))])).wait())).name).toBe('LeaseEscrow_AllowanceTooLow');
    expect((await m.escrow.leaseState(leaseIdOf(a.terms))).status).toBe(0n);
    expect(await m.escrow.isNonceUsed(good.address, a.terms.nonce)).toBe(false);
  });

  test('an empty batch and a caller without the settler role are refused', async () => {
    expect((await revertOf(async () => (await m.asSettler.openMany([])).wait())).name).toBe('LeaseEscrow_EmptyBatch');
    const p = await newPayer(m, USDC('1'));
    const a = await signed(p, m);
    expect((await revertOf(async () => (await m.asAdmin.openMany([request(a, USDC('1'))])).wait())).name).toBe('AccessControlUnauthorizedAccount');
  });
});

describe('admin', () => {
  test.each([
    { name: 'a zero default treasury', run: () => m.asAdmin.setDefaultTreasury('0x0000000000000000000000000000000000000000'), error: 'LeaseEscrow_ZeroAddress' },
    { name: 'setPoolTreasury by the settler', run: () => m.asSettler.setPoolTreasury(poolIdOf('a100'), m.settler.address), error: 'AccessControlUnauthorizedAccount' },
    { name: 'setDefaultTreasury by the settler', run: () => m.asSettler.setDefaultTreasury(m.settler.address), error: 'AccessControlUnauthorizedAccount' },
    { name: 'unpause when not paused', run: () => m.asAdmin.unpause(), error: 'ExpectedPause' },
  ])('$name -> $error', async ({ run, error }) => {
    expect((await revertOf(() => run().then((t) => t.wait()))).name).toBe(error);
  });

  test('a new default treasury applies to leases opened afterwards, with an event', async () => {
    const next = Wallet.createRandom().address;
    const receipt = await (await m.asAdmin.setDefaultTreasury(next)).wait();
    try {
      expect(receipt!.logs.map((l) => m.escrow.interface.parseLog(l)?.name)).toContain('DefaultTreasurySet');
      const payer = await newPayer(m, USDC('1'));
      const auth = await signed(payer, m, { pool: 'l4' });
      await open(auth, USDC('1'));
      expect((await m.escrow.leaseState(leaseIdOf(auth.terms))).treasury).toBe(next);
    } finally {
      await (await m.asAdmin.setDefaultTreasury(m.treasury.address)).wait();
    }
  });
});
