// The payer's authorisation: EIP-712 typed data that any wallet can sign (eth_signTypedData_v4), and the ids the
// contract derives from it. These functions are pure; they match LeaseEscrow.hashAuthorization / leaseIdOf /
// poolIdOf exactly (the contract tests check it).
import { AbiCoder, TypedDataEncoder, getAddress, keccak256, toUtf8Bytes, verifyTypedData } from 'ethers';
import type { TypedDataDomain, TypedDataField } from 'ethers';
import type { AuthorizationTerms, LeaseIdentity, SignedAuthorization } from './types.js';

/** The escrow's EIP-712 domain name and version (the contract's EIP712 constructor arguments). */
export const ESCROW_DOMAIN_NAME = 'PinFi LeaseEscrow';
export const ESCROW_DOMAIN_VERSION = '1';

export const AUTHORIZATION_TYPES: Record<string, TypedDataField[]> = {
  LeaseAuthorization: [
    { name: 'payer', type: 'address' },
    { name: 'namespace', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'uid', type: 'string' },
    { name: 'pool', type: 'string' },
    { name: 'maxAmount', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
  ],
};

export type EscrowDomain = {
  readonly name: string;
  readonly version: string;
  readonly chainId: bigint;
  readonly verifyingContract: string;
};

/** The domain an authorisation is bound to: this chain and this escrow. */
export function escrowDomain(chainId: bigint | number, escrowAddress: string): EscrowDomain {
  return {
    name: ESCROW_DOMAIN_NAME,
    version: ESCROW_DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract: getAddress(escrowAddress),
  };
}

/** The on-chain lease id: keccak256(abi.encode(namespace, name, uid)). Deterministic, so a restarted operator finds
 * its leases on-chain from the ComputeLease alone. */
export function leaseIdOf(lease: LeaseIdentity): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(['string', 'string', 'string'], [lease.namespace, lease.name, lease.uid]));
}

/** The on-chain pool id: keccak256 of the GpuPool's name. */
export function poolIdOf(pool: string): string {
  return keccak256(toUtf8Bytes(pool));
}

function message(terms: AuthorizationTerms): Record<string, unknown> {
  return {
    payer: getAddress(terms.payer),
    namespace: terms.namespace,
    name: terms.name,
    uid: terms.uid,
    pool: terms.pool,
    maxAmount: terms.maxAmount,
    deadline: terms.deadline,
    nonce: terms.nonce,
  };
}

function ethersDomain(domain: EscrowDomain): TypedDataDomain {
  return { ...domain };
}

/**
 * The complete eth_signTypedData_v4 payload (domain, types including EIP712Domain, primaryType, message), as
 * JSON-ready values: hand it to any wallet (MetaMask, a hardware wallet, `cast wallet sign --data`).
 */
export function authorizationTypedData(domain: EscrowDomain, terms: AuthorizationTerms): {
  domain: Record<string, unknown>;
  types: Record<string, { name: string; type: string }[]>;
  primaryType: 'LeaseAuthorization';
  message: Record<string, unknown>;
} {
  const payload = TypedDataEncoder.getPayload(ethersDomain(domain), AUTHORIZATION_TYPES, message(terms)) as {
    domain: Record<string, unknown>;
    types: Record<string, { name: string; type: string }[]>;
    message: Record<string, unknown>;
  };
  return { domain: payload.domain, types: payload.types, primaryType: 'LeaseAuthorization', message: payload.message };
}

/** The 32-byte digest the payer signs (what LeaseEscrow.hashAuthorization returns). */
export function authorizationDigest(domain: EscrowDomain, terms: AuthorizationTerms): string {
  return TypedDataEncoder.hash(ethersDomain(domain), AUTHORIZATION_TYPES, message(terms));
}

/** Anything that signs EIP-712 typed data: an ethers Wallet, a JsonRpcSigner backed by a browser wallet, … */
export type TypedDataSigner = {
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
};

/** Signs an authorisation with the payer's signer. */
export async function signAuthorization(
  signer: TypedDataSigner,
  domain: EscrowDomain,
  terms: AuthorizationTerms,
): Promise<SignedAuthorization> {
  const signature = await signer.signTypedData(ethersDomain(domain), AUTHORIZATION_TYPES, message(terms));
  return { terms, signature };
}

/** The address that signed an authorisation (an EOA signature; smart-contract payers are checked on-chain). */
export function recoverAuthorizationSigner(domain: EscrowDomain, auth: SignedAuthorization): string {
  return verifyTypedData(ethersDomain(domain), AUTHORIZATION_TYPES, message(auth.terms), auth.signature);
}

/** The struct the contract's open() takes. */
export function termsStruct(terms: AuthorizationTerms): {
  payer: string;
  namespace: string;
  name: string;
  uid: string;
  pool: string;
  maxAmount: bigint;
  deadline: bigint;
  nonce: bigint;
} {
  return {
    payer: getAddress(terms.payer),
    namespace: terms.namespace,
    name: terms.name,
    uid: terms.uid,
    pool: terms.pool,
    maxAmount: terms.maxAmount,
    deadline: terms.deadline,
    nonce: terms.nonce,
  };
}
