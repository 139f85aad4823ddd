// Running the real CLI the way a user does: bin/pinfi.mjs as a child process, pointed at the
// shared test environment through KUBECONFIG and PINFI_RPC_URL, with a throwaway HOME.
import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { repoRoot } from '../env/paths.js';
import { testKubeconfigPath, testProvider, testRpcUrl } from '../env/testing.js';

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err && code === -1) reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

export type CliResult = { code: number; stdout: string; stderr: string };

const home = mkdtempSync(join(tmpdir(), 'pinfi-cli-home-'));

/** Runs `pinfi ARGS…`; resolves with the exit code and both streams (it never rejects on a non-zero exit). */
export function pinfi(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return run(process.execPath, [join(repoRoot, 'bin', 'pinfi.mjs'), ...args], { PATH: process.env.PATH, HOME: home, KUBECONFIG: testKubeconfigPath(), PINFI_RPC_URL: testRpcUrl(), ...env });
}

/** Runs `kubectl pinfi ARGS…` through the real kubectl, which finds the plugin as kubectl-pinfi on PATH. */
export function kubectlPinfi(args: readonly string[]): Promise<CliResult> {
  const pluginDir = mkdtempSync(join(tmpdir(), 'pinfi-cli-plugin-'));
  symlinkSync(join(repoRoot, 'bin', 'kubectl-pinfi.mjs'), join(pluginDir, 'kubectl-pinfi'));
  const kubectl = process.env.PINFI_KUBECTL ?? 'kubectl';
  // The plugin's #!/usr/bin/env node finds the project's Node first (npm scripts put node_modules/.bin on PATH).
  return run(kubectl, ['pinfi', ...args], { PATH: `${pluginDir}:${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`, HOME: home, KUBECONFIG: testKubeconfigPath() });
}

/** Runs it and expects success; the error shows what it printed. */
export async function ok(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const r = await pinfi(args, env);
  if (r.code !== 0) throw new Error(`pinfi ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A fresh account with ETH for gas (anvil_setBalance), its key in a 0600 file. No shared nonces with other tests. */
export async function account(dir: string, name: string): Promise<{ address: string; key: string; keyFile: string }> {
  const w = Wallet.createRandom();
  const provider = testProvider();
  await provider.send('anvil_setBalance', [w.address, `0x${(10n ** 20n).toString(16)}`]);
  provider.destroy();
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(keyFile, `${w.privateKey}\n`, { mode: 0o600 });
  return { address: w.address, key: w.privateKey, keyFile };
}

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `pinfi-cli-${prefix}-`));
