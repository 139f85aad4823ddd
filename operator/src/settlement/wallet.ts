// What payers, providers and treasuries do with their own wallets (the CLI's building blocks): approve the escrow,
// sign a permit, read balances, withdraw, revoke an authorisation, mint test tokens. Each sends at most one
// transaction with the caller's signer and waits for its receipt; none of this goes through the operator.
import { Signature, TypedDataEncoder, getAddress, type Provider, type Signer } from 'ethers';
import { IERC20Metadata__factory, IERC20Permit__factory, LeaseEscrow__factory, TestStablecoin__factory } from './generated/index.js';
import { decodeEscrowRevert, revertDataOf } from './errors.js';
import type { TokenInfo } from './money.js';
import type { PermitSignature } from './types.js';

export type Sent = { readonly txHash: string; readonly blockNumber: number };

async function sent(tx: { hash: string; wait(confirms?: number): Promise<{ blockNumber: number } | null> }, confirmations = 1): Promise<Sent> {
  const receipt = await tx.wait(confirmations);
  return { txHash: tx.hash, blockNumber: receipt?.blockNumber ?? 0 };
}

/** The escrow's payment token, with symbol and decimals for display. */
export async function escrowToken(runner: Provider | Signer, escrowAddress: string): Promise<TokenInfo> {
  const address = await LeaseEscrow__factory.connect(escrowAddress, runner).token();
  return tokenInfo(runner, address);
}

export async function tokenInfo(runner: Provider | Signer, tokenAddress: string): Promise<TokenInfo> {
  const token = IERC20Metadata__factory.connect(tokenAddress, runner);
  const [symbol, decimals] = await Promise.all([token.symbol(), token.decimals()]);
  return { address: getAddress(tokenAddress), symbol, decimals: Number(decimals) };
}

/** Sets the escrow's allowance on the payer's tokens to `amount` (ERC-20 approve replaces, it does not add). */
export async function approveEscrow(payer: Signer, escrowAddress: string, amount: bigint): Promise<Sent> {
  const tokenAddress = await LeaseEscrow__factory.connect(escrowAddress, payer).token();
  return sent(await IERC20Metadata__factory.connect(tokenAddress, payer).approve(escrowAddress, amount));
}

/**
 * Signs an EIP-2612 permit letting the escrow pull `value` (for openWithPermit: no approve transaction). The
 * token's permit domain version is found by matching its DOMAIN_SEPARATOR ("1" for OpenZeppelin tokens, "2" for
 * USDC); a token without permit is an error that says so.
 */
export async function signPermit(payer: Signer, escrowAddress: string, value: bigint, deadline: bigint): Promise<PermitSignature> {
  const provider = payer.provider;
  if (!provider) throw new Error('signPermit: the payer signer needs a provider');
  const owner = await payer.getAddress();
  const tokenAddress = await LeaseEscrow__factory.connect(escrowAddress, provider).token();
  const permitToken = IERC20Permit__factory.connect(tokenAddress, provider);
  let separator: string;
  let nonce: bigint;
  try {
    [separator, nonce] = await Promise.all([permitToken.DOMAIN_SEPARATOR(), permitToken.nonces(owner)]);
  } catch (err) {
    throw new Error(`token ${tokenAddress} does not support EIP-2612 permit: approve the escrow instead`, { cause: err });
  }
  const name = await IERC20Metadata__factory.connect(tokenAddress, provider).name();
  const { chainId } = await provider.getNetwork();
  const version = ['1', '2'].find((v) => TypedDataEncoder.hashDomain({ name, version: v, chainId, verifyingContract: tokenAddress }) === separator);
  if (!version) throw new Error(`token ${tokenAddress}: its permit domain is not (name, version 1|2, chain, address); approve the escrow instead`);
  const types = {
    Permit: [
      { name: 'owner', type: 'address' },
      { name: 'spender', type: 'address' },
      { name: 'value', type: 'uint256' },
      { name: 'nonce', type: 'uint256' },
      { name: 'deadline', type: 'uint256' },
    ],
  };
  const raw = await payer.signTypedData({ name, version, chainId, verifyingContract: tokenAddress }, types, {
    owner,
    spender: getAddress(escrowAddress),
    value,
    nonce,
    deadline,
  });
  const sig = Signature.from(raw);
  return { value, deadline, v: sig.v, r: sig.r, s: sig.s };
}

export type Balances = {
  readonly token: TokenInfo;
  /** Tokens in the account's wallet. */
  readonly wallet: bigint;
  /** What the account has approved the escrow to pull. */
  readonly allowance: bigint;
  /** Credited by settlements and not yet withdrawn. */
  readonly owed: bigint;
};

export async function readBalances(provider: Provider, escrowAddress: string, account: string): Promise<Balances> {
  const escrow = LeaseEscrow__factory.connect(escrowAddress, provider);
  const token = await escrowToken(provider, escrowAddress);
  const erc20 = IERC20Metadata__factory.connect(token.address, provider);
  const [wallet, allowance, owed] = await Promise.all([erc20.balanceOf(account), erc20.allowance(account, escrowAddress), escrow.owed(account)]);
  return { token, wallet, allowance, owed };
}

/** Collects everything credited to the signer's address. Works while the escrow is paused. */
export async function withdraw(account: Signer, escrowAddress: string): Promise<Sent & { amount: bigint }> {
  const escrow = LeaseEscrow__factory.connect(escrowAddress, account);
  const amount = await escrow.owed(await account.getAddress());
  try {
    return { ...(await sent(await escrow.withdraw())), amount };
  } catch (err) {
    const data = revertDataOf(err);
    const token = await escrowToken(account, escrowAddress);
    const decoded = data ? decodeEscrowRevert(data, { token, escrow: escrowAddress, account: await account.getAddress() }, err) : undefined;
    throw decoded ?? new Error(`withdraw from escrow ${escrowAddress} failed`, { cause: err });
  }
}

/** The payer revokes an authorisation it signed (by its nonce) before the operator uses it. */
export async function revokeAuthorization(payer: Signer, escrowAddress: string, nonce: bigint): Promise<Sent> {
  return sent(await LeaseEscrow__factory.connect(escrowAddress, payer).revokeNonce(nonce));
}

/** Mints test stablecoins (TestStablecoin only: a faucet for local chains). */
export async function mintTestTokens(signer: Signer, tokenAddress: string, to: string, amount: bigint): Promise<Sent> {
  return sent(await TestStablecoin__factory.connect(tokenAddress, signer).mint(to, amount));
}
