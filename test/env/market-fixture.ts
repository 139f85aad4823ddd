// A settlement chain ready for leases, on an anvil: the test stablecoin and the escrow deployed,
// the payer funded, and helpers that sign a payer's authorisation into the Secret the operator
// reads. Used by the lease tests and the local market.
import { NonceManager, Wallet, type JsonRpcProvider } from 'ethers';
import type { V1Secret } from '@kubernetes/client-node';
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
