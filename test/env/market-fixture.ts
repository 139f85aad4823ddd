// A settlement chain ready for leases, on an anvil: the test stablecoin and the escrow deployed,
// the payer funded, and helpers that sign a payer's authorisation into the Secret the operator
// reads. Used by the lease tests and the local market.
import { NonceManager, Wallet, type JsonRpcProvider } from 'ethers';
import type { V1Secret } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { randomBytes } from 'node:crypto';
import type { ComputeLease } from '../../operator/src/api/types.js';
import {
  approveEscrow,
  deployEscrow,
  deployTestToken,
  escrowDomain,
  mintTestTokens,
  signAuthorization,
  type AuthorizationTerms,
} from '../../operator/src/settlement/index.js';
import { ANVIL_CHAIN_ID, ANVIL_KEYS, anvilProvider, rpc } from './anvil.js';

export type ChainMarket = {
  readonly rpcUrl: string;
  readonly chainId: bigint;
  readonly provider: JsonRpcProvider;
  readonly token: string;
  readonly escrow: string;
  /** The operator's key (admin and settler of this escrow). */
  readonly settlerKey: string;
  readonly deployer: NonceManager;
};

export function wallet(rpcUrl: string, key: string, chainId: bigint | number = ANVIL_CHAIN_ID): NonceManager {
  return new NonceManager(new Wallet(key, anvilProvider(rpcUrl, chainId)));
}

/** Deploys a fresh token and escrow with `settlerKey` (default: anvil account 1) as admin and settler. */
export async function deployChainMarket(rpcUrl: string, settlerKey: string = ANVIL_KEYS[1]): Promise<ChainMarket> {
  const chainId = BigInt(await rpc<string>(rpcUrl, 'eth_chainId'));
  const provider = anvilProvider(rpcUrl, chainId);
  const deployer = wallet(rpcUrl, settlerKey, chainId);
  const token = await deployTestToken(deployer);
  const escrow = await deployEscrow(deployer, { token: token.address });
  return { rpcUrl, chainId, provider, token: token.address, escrow: escrow.address, settlerKey, deployer };
}

/** Mints `amount` to the payer and approves the escrow for it. */
export async function fundPayer(m: ChainMarket, payerKey: string, amount: bigint): Promise<void> {
  const payer = wallet(m.rpcUrl, payerKey, m.chainId);
  await mintTestTokens(m.deployer, m.token, await payer.getAddress(), amount);
  await approveEscrow(payer, m.escrow, amount);
}

/** The payer signs an authorisation for `terms` under this escrow's domain and it becomes a Secret. */
export async function authorizationSecret(m: ChainMarket, payerKey: string, secretName: string, terms: AuthorizationTerms): Promise<V1Secret> {
  const signed = await signAuthorization(new Wallet(payerKey), escrowDomain(m.chainId, m.escrow), terms);
  const json = JSON.stringify({ ...terms, maxAmount: terms.maxAmount.toString(), deadline: terms.deadline.toString(), nonce: terms.nonce.toString() });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName, namespace: terms.namespace },
    type: 'Opaque',
    stringData: { 'authorization.json': json, signature: signed.signature },
  };
}

/**
 * The GpuPool YAML the lease tests apply: nodes labelled `pinfi-test/suite=<suite>` (or another
 * selector), priced in the chain's token, floor 1,000,000, ceiling 40,000,000, depth 1 (a steep
 * curve a few GPUs move), fee 1%, leases from 1 minute; `pricing` and `leases` override fields.
 */
export function testPoolYaml(name: string, o: { suite?: string; matchLabels?: Record<string, string>; token: string; pricing?: Record<string, unknown>; leases?: Record<string, unknown> }): string {
  return stringify({
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'GpuPool',
    metadata: { name },
    spec: {
      nodeSelector: { matchLabels: o.matchLabels ?? { 'pinfi-test/suite': o.suite ?? '' } },
      pricing: { token: o.token, treasury: `0x${'c'.repeat(40)}`, floorPrice: '1000000', ceilingPrice: '40000000', depth: 1, feeBps: 100, ...o.pricing },
      leases: { minDuration: '1m', ...o.leases },
    },
  });
}

/** The payer's authorisation Secret `<lease>-auth` for exactly this lease, up to `maxAmount`, valid for an hour. */
export function leaseAuthorizationSecret(m: ChainMarket, payerKey: string, lease: ComputeLease, maxAmount: bigint): Promise<V1Secret> {
  const name = lease.metadata?.name ?? '';
  return authorizationSecret(m, payerKey, `${name}-auth`, {
    payer: new Wallet(payerKey).address,
    namespace: lease.metadata?.namespace ?? '',
    name,
    uid: lease.metadata?.uid ?? '',
    pool: lease.spec.pool,
    maxAmount,
    deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
    nonce: BigInt(`0x${randomBytes(8).toString('hex')}`),
  });
}
