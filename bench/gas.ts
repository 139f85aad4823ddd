// Gas per LeaseEscrow operation on a real anvil, printed as a table (a benchmark, not a test).
//
//   npx tsx bench/gas.ts
//
// Scenario ("steady state"): Completed leases with one provider each, drawn from 10 providers, a fee to the
// pool treasury and no refund (the operator locks the quoted price, so a completed lease refunds nothing); the
// providers and the treasury already hold an uncollected balance, as they do while the market runs. The "cold"
// rows credit accounts whose balance is zero (a zero -> non-zero storage write, +20k gas each), the first
// settlement after they withdrew. The baseline is the same leases settled one `settle` per transaction.
import { NonceManager, Signature, Wallet, type ContractTransactionResponse } from 'ethers';
import { startAnvil, ANVIL_KEYS } from '../test/env/anvil.js';
import { deployEscrow, deployTestToken } from '../operator/src/settlement/deploy.js';
import { LeaseEscrow__factory, TestStablecoin__factory } from '../operator/src/settlement/generated/index.js';
import { escrowDomain, leaseIdOf, signAuthorization, termsStruct } from '../operator/src/settlement/authorization.js';
import { signPermit } from '../operator/src/settlement/wallet.js';
import { createProvider } from '../operator/src/settlement/provider.js';
import type { AuthorizationTerms } from '../operator/src/settlement/types.js';

const PRICE = 12_500_000n; // 12.5 tUSD
const FEE = 250_000n; // 2 %
const BATCH_SIZES = [1, 10, 50, 100] as const;
const PROVIDERS = 10;

const anvil = await startAnvil({ extraArgs: ['--gas-limit', '100000000'] });
try {
  const provider = createProvider(anvil.rpcUrl, anvil.chainId, { pollingIntervalMs: 10 });
  const admin = new NonceManager(new Wallet(ANVIL_KEYS[0], provider));
  const token = await deployTestToken(admin);
  const escrowDeploy = await deployEscrow(admin, { token: token.address });
  const escrow = LeaseEscrow__factory.connect(escrowDeploy.address, admin);
  const stable = TestStablecoin__factory.connect(token.address, admin);
  const domain = escrowDomain(anvil.chainId, escrowDeploy.address);
  const { timestamp } = (await provider.getBlock('latest'))!;
  const deadline = BigInt(timestamp) + 86_400n;
  const providers = Array.from({ length: PROVIDERS }, () => Wallet.createRandom().address);
  let seq = 0;

  const gasOf = async (tx: Promise<ContractTransactionResponse>): Promise<bigint> => (await (await tx).wait())!.gasUsed;

  /** Opens `n` leases for fresh payers, one at a time, measuring each open (with approve, or with a permit). */
  async function openMeasured(n: number, withPermit: boolean): Promise<{ ids: string[]; gas: bigint[] }> {
    const ids: string[] = [];
    const gas: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const payer = new Wallet(Wallet.createRandom().privateKey, provider);
      await provider.send('anvil_setBalance', [payer.address, '0xDE0B6B3A7640000']);
      await (await stable.mint(payer.address, PRICE)).wait();
      const terms = nextTerms(payer.address);
      const auth = await signAuthorization(payer, domain, terms);
      if (withPermit) {
        const permit = await signPermit(payer, escrowDeploy.address, PRICE, deadline);
        gas.push(await gasOf(escrow.openWithPermit(termsStruct(terms), PRICE, auth.signature, permit)));
      } else {
        await (await TestStablecoin__factory.connect(token.address, payer).approve(escrowDeploy.address, PRICE)).wait();
        gas.push(await gasOf(escrow.open(termsStruct(terms), PRICE, auth.signature)));
      }
      ids.push(leaseIdOf(terms));
    }
    return { ids, gas };
  }

  function nextTerms(payer: string): AuthorizationTerms {
    seq++;
    return { payer, namespace: 'team-a', name: `job-${seq}`, uid: `uid-${seq}`, pool: 'a100', maxAmount: PRICE, deadline, nonce: BigInt(seq) };
  }

  /** Opens `n` leases quickly (setup only, not measured): mint + openWithPermit, sent without waiting in between. */
  async function openLeases(n: number): Promise<{ ids: string[] }> {
    const permitDomain = { name: 'PinFi Test USD', version: '1', chainId: anvil.chainId, verifyingContract: token.address };
    const permitTypes = { Permit: ['owner', 'spender', 'value', 'nonce', 'deadline'].map((name) => ({ name, type: name === 'owner' || name === 'spender' ? 'address' : 'uint256' })) };
    const ids: string[] = [];
    const sent: ContractTransactionResponse[] = [];
    for (let i = 0; i < n; i++) {
      const payer = Wallet.createRandom();
      const terms = nextTerms(payer.address);
      const auth = await signAuthorization(payer, domain, terms);
      const sig = Signature.from(await payer.signTypedData(permitDomain, permitTypes, { owner: payer.address, spender: escrowDeploy.address, value: PRICE, nonce: 0n, deadline }));
      sent.push(await stable.mint(payer.address, PRICE));
      sent.push(await escrow.openWithPermit(termsStruct(terms), PRICE, auth.signature, { value: PRICE, deadline, v: sig.v, r: sig.r, s: sig.s }));
      ids.push(leaseIdOf(terms));
    }
    for (const tx of sent) if ((await tx.wait())?.status !== 1) throw new Error('setup transaction failed');
    return { ids };
  }

  const settlement = (id: string, i: number, pick: (i: number) => string) => ({
    leaseId: id, providers: [pick(i)], amounts: [PRICE - FEE], fee: FEE, refund: 0n, reason: 0,
  });
  const warm = (i: number) => providers[i % PROVIDERS]!;
  const freshAccounts = (n: number) => Array.from({ length: n }, () => Wallet.createRandom().address);

  // Warm up: every provider and the treasury hold a balance (steady state).
  {
    const { ids } = await openLeases(PROVIDERS);
    await (await escrow.settleMany(ids.map((id, i) => settlement(id, i, warm)))).wait();
  }

  const avg = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n) / BigInt(xs.length);
  const rows: { op: string; leases: number; total: bigint; perLease: bigint; baseline?: bigint }[] = [];

  const opened = await openMeasured(5, false);
  rows.push({ op: 'open (after approve)', leases: 1, total: avg(opened.gas), perLease: avg(opened.gas) });
  const permitted = await openMeasured(5, true);
  rows.push({ op: 'openWithPermit', leases: 1, total: avg(permitted.gas), perLease: avg(permitted.gas) });

  // openMany: the operator's batch of opens (payers approved beforehand, as for open).
  for (const size of [10, 50] as const) {
    const requests = [];
    for (let i = 0; i < size; i++) {
      const payer = new Wallet(Wallet.createRandom().privateKey, provider);
      await provider.send('anvil_setBalance', [payer.address, '0xDE0B6B3A7640000']);
      await (await stable.mint(payer.address, PRICE)).wait();
      await (await TestStablecoin__factory.connect(token.address, payer).approve(escrowDeploy.address, PRICE)).wait();
      const terms = nextTerms(payer.address);
      requests.push({ terms: termsStruct(terms), amount: PRICE, signature: (await signAuthorization(payer, domain, terms)).signature });
    }
    const total = await gasOf(escrow.openMany(requests));
    rows.push({ op: 'openMany', leases: size, total, perLease: total / BigInt(size), baseline: avg(opened.gas) });
  }

  // Single settle, steady state (the baseline per lease).
  const singles: bigint[] = [];
  for (const [i, id] of opened.ids.entries()) {
    const s = settlement(id, i, warm);
    singles.push(await gasOf(escrow.settle(s.leaseId, s.providers, s.amounts, s.fee, s.refund, s.reason)));
  }
  const single = avg(singles);
  rows.push({ op: 'settle', leases: 1, total: single, perLease: single, baseline: single });

  // Single settle, cold: a provider with no balance.
  {
    const cold: bigint[] = [];
    const fresh = freshAccounts(permitted.ids.length);
    for (const [i, id] of permitted.ids.entries()) {
      const s = settlement(id, i, (k) => fresh[k]!);
      cold.push(await gasOf(escrow.settle(s.leaseId, s.providers, s.amounts, s.fee, s.refund, s.reason)));
    }
    rows.push({ op: 'settle, cold provider', leases: 1, total: avg(cold), perLease: avg(cold), baseline: single });
  }

  for (const size of BATCH_SIZES) {
    const { ids } = await openLeases(size);
    const total = await gasOf(escrow.settleMany(ids.map((id, i) => settlement(id, i, warm))));
    rows.push({ op: 'settleMany', leases: size, total, perLease: total / BigInt(size), baseline: single });
  }
  for (const size of [10, 50] as const) {
    const { ids } = await openLeases(size);
    const fresh = freshAccounts(size);
    const total = await gasOf(escrow.settleMany(ids.map((id, i) => settlement(id, i, (k) => fresh[k]!))));
    rows.push({ op: 'settleMany, every provider cold', leases: size, total, perLease: total / BigInt(size), baseline: single });
  }

  const fmt = (n: bigint) => n.toLocaleString('en-US');
  const lines = [
    '| operation | leases per tx | gas per tx | gas per lease | vs one `open`/`settle` per lease |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.op} | ${r.leases} | ${fmt(r.total)} | ${fmt(r.perLease)} | ${r.baseline ? `${((Number(r.perLease) / Number(r.baseline)) * 100).toFixed(0)} %` : ''} |`),
  ];
  console.log(`LeaseEscrow gas (anvil ${anvil.chainId}, solc 0.8.30 via-IR, optimizer 10,000 runs; deploy ${fmt(escrowDeploy.gasUsed)})`);
  console.log(lines.join('\n'));
  const at50 = rows.find((r) => r.op === 'settleMany' && r.leases === 50)!;
  console.log(`\ngoals: single settle <= 60,000: ${single <= 60_000n ? 'met' : 'MISSED'} (${fmt(single)}); <= 25,000 per lease at 50: ${at50.perLease <= 25_000n ? 'met' : 'MISSED'} (${fmt(at50.perLease)})`);
} finally {
  await anvil.stop();
}
