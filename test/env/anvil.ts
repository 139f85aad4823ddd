// A real EVM node for tests and the local market: anvil from the npm package @foundry-rs/anvil,
// on a free loopback port, with anvil's deterministic accounts.
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { JsonRpcProvider } from 'ethers';
import { createProvider } from '../../operator/src/settlement/provider.js';
import { startProcess, waitReady, type Managed } from './process.js';
import { freePort, assertPortFree } from './ports.js';
import { runDir } from './paths.js';

/** anvil's default chain id, which the test environment keeps. */
export const ANVIL_CHAIN_ID = 31337;

/** A provider for an anvil, polling receipts on a timer like the operator's own (`createProvider`). */
export function anvilProvider(rpcUrl: string, chainId: bigint | number = ANVIL_CHAIN_ID): JsonRpcProvider {
  return createProvider(rpcUrl, chainId, { pollingIntervalMs: 50 });
}

/** anvil's default mnemonic ("test test … junk"): the first accounts and keys are well known. */
export const ANVIL_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
] as const;

export type Anvil = {
  readonly rpcUrl: string;
  readonly port: number;
  readonly chainId: number;
  readonly process: Managed;
  stop(): Promise<void>;
};

export type AnvilOptions = {
  port?: number;
  chainId?: number;
  /** Keep chain state across restarts in this file (anvil --state). */
  stateFile?: string;
  /** Seconds per block; omitted = automine (a block per transaction). */
  blockTime?: number;
  logFile?: string;
  extraArgs?: readonly string[];
};

export function anvilBinary(): string {
  if (process.env.PINFI_ANVIL_BINARY) return process.env.PINFI_ANVIL_BINARY;
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@foundry-rs/anvil-linux-amd64/package.json');
  return join(dirname(pkg), 'bin', 'anvil');
}

export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const port = opts.port ?? (await freePort());
  if (opts.port) await assertPortFree(port, 'anvil');
  const chainId = opts.chainId ?? ANVIL_CHAIN_ID;
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--silent'];
  if (opts.stateFile) args.push('--state', opts.stateFile);
  if (opts.blockTime) args.push('--block-time', String(opts.blockTime));
  args.push(...(opts.extraArgs ?? []));
  const logFile = opts.logFile ?? join(runDir, 'logs', `anvil-${port}.log`);
  const proc = startProcess({ name: 'anvil', command: anvilBinary(), args, logFile });
  const rpcUrl = `http://127.0.0.1:${port}`;
  await waitReady(proc, `eth_chainId on ${rpcUrl}`, async () => (await rpc<string>(rpcUrl, 'eth_chainId')) !== undefined, 15_000);
  return { rpcUrl, port, chainId, process: proc, stop: () => proc.stop() };
}
