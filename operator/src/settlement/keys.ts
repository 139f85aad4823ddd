// The settler's private key, from a file (in a cluster: a Secret mounted as a file) or an environment variable.
// The key goes straight into an ethers Wallet, whose signing key is a private field: printing or logging the
// wallet shows its address only. Errors here say where the key came from and what is wrong with it, never the key
// (and carry no `cause`, which could hold it).
import { readFileSync, statSync } from 'node:fs';
import { Wallet, type Provider } from 'ethers';
import { KeyInvalidError } from './errors.js';
import type { Logger } from './types.js';

export type KeySource =
  | { readonly file: string }
  | { readonly env: string; readonly environment?: NodeJS.ProcessEnv };

function describe(source: KeySource): string {
  return 'file' in source ? `key file ${source.file}` : `environment variable ${source.env}`;
}

function readRaw(source: KeySource, logger?: Logger): string {
  if ('file' in source) {
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (err) {
      throw new KeyInvalidError(`cannot read ${describe(source)}: ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
    }
    try {
      if ((statSync(source.file).mode & 0o007) !== 0) logger?.warn(`${describe(source)} is readable by others; restrict it to mode 0600 (or 0440 with fsGroup)`);
    } catch {
      /* stat failing after a successful read is not worth failing for */
    }
    return text;
  }
  const value = (source.environment ?? process.env)[source.env];
  if (value === undefined || value.trim() === '') throw new KeyInvalidError(`${describe(source)} is not set`);
  return value;
}

/** Loads the key and returns a Wallet (connected to `provider` when given). The key is never logged. */
export function loadSigner(source: KeySource, opts: { provider?: Provider; logger?: Logger } = {}): Wallet {
  const text = readRaw(source, opts.logger).trim();
  const hex = text.startsWith('0x') ? text : `0x${text}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new KeyInvalidError(`${describe(source)} does not hold a private key (expected 64 hex digits, optionally 0x-prefixed; found ${text.length} characters)`);
  }
  let wallet: Wallet;
  try {
    wallet = new Wallet(hex, opts.provider ?? null);
  } catch {
    throw new KeyInvalidError(`${describe(source)} holds a value that is not a valid secp256k1 private key`);
  }
  opts.logger?.info(`settlement signer ${wallet.address} loaded from ${describe(source)}`);
  return wallet;
}
