// The settlement chain as the CLI reaches it: a JSON-RPC URL (--rpc-url or $PINFI_RPC_URL), the
// escrow (--escrow or $PINFI_ESCROW_ADDRESS), and the user's own key (a key file or an encrypted
// JSON keystore). Keys go straight into an ethers Wallet (its key is a private field) and are
// never printed, logged or put in an error message.
import { readFileSync } from 'node:fs';
import { Wallet, getAddress, isAddress, isKeystoreJson, type JsonRpcProvider } from 'ethers';
import { createProvider, loadSigner, tokenInfo, type TokenInfo } from '../operator/src/settlement/index.js';
import { CliError, rootMessage, systemCode } from './errors.js';
import type { Io } from './io.js';

export type ChainFlags = { rpcUrl?: string; escrow?: string; chainId?: string };
export type KeyFlags = { keyFile?: string; keystore?: string; passwordFile?: string };

export type Chain = { readonly url: string; readonly chainId: bigint; readonly provider: JsonRpcProvider };

const RPC_HINT = 'pass --rpc-url URL or set PINFI_RPC_URL (the JSON-RPC endpoint of the settlement chain)';

/** Connects to the chain: asks it for its id first, so an unreachable URL is a clear error and not a hang. */
export async function connectChain(url: string | undefined, timeoutMs = 10_000): Promise<Chain> {
  if (!url) throw new CliError('no settlement chain given', RPC_HINT);
  let chainId: bigint;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as { result?: unknown };
    if (typeof body.result !== 'string') throw new Error(`HTTP ${res.status}: no chain id in the answer`);
    chainId = BigInt(body.result);
  } catch (err) {
    const code = systemCode(err);
    throw new CliError(`cannot reach the chain at ${url} (${code ?? rootMessage(err)})`, `is the node running? ${RPC_HINT}`);
  }
  return { url, chainId, provider: createProvider(url, chainId, { timeoutMs: 30_000, pollingIntervalMs: 250 }) };
}

export function parseAddress(v: string, what: string): string {
  if (!isAddress(v)) throw new CliError(`${what} "${v}" is not an address`, 'give a 0x-prefixed, 40-hex-digit address');
  return getAddress(v);
}

/** The escrow: --escrow, else $PINFI_ESCROW_ADDRESS. */
export function escrowAddress(flag: string | undefined, io: Io): string {
  const v = flag ?? io.env.escrow;
  if (!v) throw new CliError('which escrow? no LeaseEscrow address given', "pass --escrow ADDRESS (the operator's --escrow-address) or set PINFI_ESCROW_ADDRESS");
  return parseAddress(v, 'escrow address');
}

export function hasKey(flags: KeyFlags): boolean {
  return flags.keyFile !== undefined || flags.keystore !== undefined;
}

/** Where the key comes from, for messages (never the key). */
export function keySourceText(flags: KeyFlags): string {
  return flags.keyFile !== undefined ? `key file ${flags.keyFile}` : `keystore ${flags.keystore}`;
}

async function keystorePassword(flags: KeyFlags, io: Io): Promise<string> {
  if (flags.passwordFile !== undefined) {
    try {
      return readFileSync(flags.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new CliError(`cannot read password file ${flags.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
    }
  }
  if (io.env.keystorePassword !== undefined) return io.env.keystorePassword;
  if (io.promptSecret) return io.promptSecret(`Password for keystore ${flags.keystore}: `);
  throw new CliError(`keystore ${flags.keystore} needs its password`, 'pass --password-file FILE or set PINFI_KEYSTORE_PASSWORD (there is no terminal to ask on)');
}

/** The user's signer from --key-file or --keystore (connected to `provider` when given). */
export async function loadKey(flags: KeyFlags, io: Io, provider?: JsonRpcProvider): Promise<Wallet> {
  if (flags.keyFile !== undefined && flags.keystore !== undefined) throw new CliError('give --key-file or --keystore, not both', undefined, 2);
  if (flags.keyFile !== undefined) {
    const warn = (msg: string) => io.err(`warning: ${msg}\n`);
    return loadSigner({ file: flags.keyFile }, { ...(provider ? { provider } : {}), logger: { debug() {}, info() {}, warn, error: warn } });
  }
  if (flags.keystore === undefined) throw new CliError('no key given', 'pass --key-file FILE (a hex private key) or --keystore FILE (an encrypted JSON keystore)', 2);
  let json: string;
  try {
    json = readFileSync(flags.keystore, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read keystore ${flags.keystore}: ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
  if (!isKeystoreJson(json)) throw new CliError(`${flags.keystore} is not an encrypted JSON keystore (version 3)`, 'for a plain hex private key use --key-file');
  const password = await keystorePassword(flags, io);
  let wallet: Wallet;
  try {
    const w = await Wallet.fromEncryptedJson(json, password);
    wallet = new Wallet(w.privateKey);
  } catch {
    throw new CliError(`cannot decrypt keystore ${flags.keystore}: wrong password, or a damaged file`);
  }
  return provider ? wallet.connect(provider) : wallet;
}

/** Token symbols and decimals, read once per token; without a chain, amounts stay in base units. */
export class Tokens {
  private readonly cache = new Map<string, Promise<TokenInfo | undefined>>();
  constructor(private readonly provider: JsonRpcProvider | undefined) {}

  info(address: string | undefined): Promise<TokenInfo | undefined> {
    if (!this.provider || !address || !isAddress(address)) return Promise.resolve(undefined);
    const key = address.toLowerCase();
    let p = this.cache.get(key);
    if (!p) {
      p = tokenInfo(this.provider, address).catch(() => undefined);
      this.cache.set(key, p);
    }
    return p;
  }
}

/** A chain for display only (token symbols): connected when a URL is known, else none, with a warning on failure. */
export async function optionalChain(url: string | undefined, io: Io): Promise<Chain | undefined> {
  if (!url) return undefined;
  try {
    return await connectChain(url, 5_000);
  } catch (err) {
    io.err(`warning: ${(err as Error).message}; amounts are shown in token base units\n`);
    return undefined;
  }
}

/** Fails with what to check when there is no contract at `address` on this chain. */
export async function needContract(chain: Chain, address: string, what: string, hint: string): Promise<void> {
  let code: string;
  try {
    code = await chain.provider.getCode(address);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${address} on ${chain.url}: ${(err as Error).message}`, 'is the node healthy? Try again in a moment');
  }
  if (code === '0x') throw new CliError(`there is no contract at ${what} ${address} on chain ${chain.chainId} (${chain.url})`, hint);
}

export const ESCROW_HINT = "check --escrow (the operator's --escrow-address, or $PINFI_ESCROW_ADDRESS) and --rpc-url";
