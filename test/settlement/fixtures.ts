// A real anvil with the escrow and the test stablecoin deployed, and small builders for payers, terms and
// signatures. Each test file starts its own chain (one anvil per file, a fresh escrow per test where needed).
import { Wallet, NonceManager, type JsonRpcProvider } from 'ethers';
import { startAnvil, ANVIL_KEYS, rpc, type Anvil, type AnvilOptions } from '../env/anvil.js';
import { createProvider } from '../../operator/src/settlement/provider.js';
import { deployEscrow, deployTestToken } from '../../operator/src/settlement/deploy.js';
import { escrowDomain, signAuthorization, leaseIdOf, type EscrowDomain } from '../../operator/src/settlement/authorization.js';
import { LeaseEscrow__factory, TestStablecoin__factory, type LeaseEscrow, type TestStablecoin } from '../../operator/src/settlement/generated/index.js';
import type { AuthorizationTerms, Logger, SignedAuthorization } from '../../operator/src/settlement/types.js';

export const USDC = (text: string): bigint => {
  const [whole, frac = ''] = text.split('.');
  return BigInt(whole!) * 1_000_000n + BigInt(frac.padEnd(6, '0').slice(0, 6));
};

export type Market = {
  readonly anvil: Anvil;
  readonly provider: JsonRpcProvider;
  /** Deployer and admin (DEFAULT_ADMIN_ROLE). */
  readonly admin: Wallet;
  /** Holds SETTLER_ROLE (the operator's key). */
  readonly settler: Wallet;
  readonly treasury: Wallet;
  readonly token: TestStablecoin;
  readonly escrow: LeaseEscrow;
  readonly escrowAddress: string;
  readonly domain: EscrowDomain;
  /** The escrow as the settler (for direct contract calls). */
  readonly asSettler: LeaseEscrow;
  readonly asAdmin: LeaseEscrow;
};

export async function startChain(opts: AnvilOptions = {}): Promise<{ anvil: Anvil; provider: JsonRpcProvider }> {
  const anvil = await startAnvil(opts);
  const provider = createProvider(anvil.rpcUrl, anvil.chainId, { pollingIntervalMs: 20, timeoutMs: 5_000 });
  return { anvil, provider };
}

/** Deploys a fresh token and escrow on `anvil` (admin = key 0, treasury = key 1, settler = key 2). */
export async function deployMarket(anvil: Anvil, provider: JsonRpcProvider): Promise<Market> {
  const admin = new Wallet(ANVIL_KEYS[0], provider);
  const treasury = new Wallet(ANVIL_KEYS[1], provider);
  const settler = new Wallet(ANVIL_KEYS[2], provider);
  const deployer = new NonceManager(admin);
  const token = await deployTestToken(deployer);
  const escrow = await deployEscrow(deployer, { token: token.address, settler: settler.address, treasury: treasury.address });
  return {
    anvil,
    provider,
    admin,
    settler,
    treasury,
    token: TestStablecoin__factory.connect(token.address, admin),
    escrow: LeaseEscrow__factory.connect(escrow.address, provider),
    escrowAddress: escrow.address,
    domain: escrowDomain(anvil.chainId, escrow.address),
    asSettler: LeaseEscrow__factory.connect(escrow.address, settler),
    asAdmin: LeaseEscrow__factory.connect(escrow.address, admin),
  };
}

/** A fresh payer with gas money, `funds` tokens and (unless `approve` is 0) an allowance for the escrow. */
export async function newPayer(m: Market, funds: bigint, approve: bigint = funds): Promise<Wallet> {
  const payer = new Wallet(Wallet.createRandom().privateKey, m.provider);
  await rpc(m.anvil.rpcUrl, 'anvil_setBalance', [payer.address, '0x8AC7230489E80000']);
  if (funds > 0n) await (await m.token.mint(payer.address, funds)).wait();
  if (approve > 0n) await (await TestStablecoin__factory.connect(await m.token.getAddress(), payer).approve(m.escrowAddress, approve)).wait();
  return payer;
}

let counter = 0;

/** Terms for a new lease (unique name and uid), valid for a day of chain time. */
export async function termsFor(m: Market, payer: string, overrides: Partial<AuthorizationTerms> = {}): Promise<AuthorizationTerms> {
  const n = ++counter;
  const { timestamp } = (await m.provider.getBlock('latest'))!;
  return {
    payer,
    namespace: 'team-a',
    name: `train-${n}`,
    uid: `6f1c${n.toString().padStart(4, '0')}-uid`,
    pool: 'a100-80gb',
    maxAmount: USDC('20'),
    deadline: BigInt(timestamp) + 86_400n,
    nonce: BigInt(n),
    ...overrides,
  };
}

export async function signed(payer: Wallet, m: Market, overrides: Partial<AuthorizationTerms> = {}, domain = m.domain): Promise<SignedAuthorization> {
  return signAuthorization(payer, domain, await termsFor(m, payer.address, overrides));
}

export { leaseIdOf };

/** A logger that keeps every line, for asserting what the client said it was waiting for. */
export function recordingLogger(echo = false): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => {
    lines.push(`${level} ${msg}`);
    if (echo) console.log(`${level} ${msg}`);
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The revert selector name of a failed call or transaction, decoded with the escrow's ABI. */
export function revertName(err: unknown): string | undefined {
  const data = findData(err);
  if (!data) return undefined;
  return LeaseEscrow__factory.createInterface().parseError(data)?.name;
}

function findData(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== 'object' || depth > 5) return undefined;
  const o = e as Record<string, unknown>;
  if (typeof o.data === 'string' && o.data.startsWith('0x') && o.data.length >= 10) return o.data;
  return findData(o.error, depth + 1) ?? findData(o.info, depth + 1) ?? findData(o.cause, depth + 1);
}

/** Runs `fn` and returns the custom error it reverted with (fails the test if it did not revert). */
export async function revertOf(fn: () => Promise<unknown>): Promise<{ name: string | undefined; error: unknown }> {
  try {
    await fn();
  } catch (error) {
    return { name: revertName(error), error };
  }
  throw new Error('expected a revert, but the call succeeded');
}

/** Every lease was opened exactly once and settled exactly once on-chain, and the escrow's books balance. */
export async function expectOpenedAndSettledOnce(m: Market, leaseIds: readonly string[]): Promise<void> {
  for (const id of leaseIds) {
    expect(await m.escrow.queryFilter(m.escrow.filters.LeaseOpened(id))).toHaveLength(1);
    expect(await m.escrow.queryFilter(m.escrow.filters.LeaseSettled(id))).toHaveLength(1);
    expect((await m.escrow.leaseState(id)).status).toBe(2n);
  }
  expect(await m.token.balanceOf(m.escrowAddress)).toBe(await m.escrow.liabilities());
}

/** Polls a synchronous condition (e.g. on a client's waitingFor()) without a fixed sleep. */
export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
