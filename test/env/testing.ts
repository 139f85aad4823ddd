// What integration tests use to reach the shared environment started by the global setup.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { JsonRpcProvider } from 'ethers';
import { createProvider } from '../../operator/src/settlement/provider.js';
import { ANVIL_CHAIN_ID } from './anvil.js';
import { kubectlRun } from './cluster.js';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run integration tests through jest's integration project (npm test)`);
  return v;
}

export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(need('PINFI_KUBECONFIG'));
  return kc;
}

export const testKubeconfigPath = (): string => need('PINFI_KUBECONFIG');
export const testRpcUrl = (): string => need('PINFI_RPC_URL');
/** A provider for the run's anvil (chain id 31337), polling receipts on a timer like the operator's own. */
export const testProvider = (url: string = testRpcUrl()): JsonRpcProvider => createProvider(url, ANVIL_CHAIN_ID, { pollingIntervalMs: 50 });

export function kubectl(args: readonly string[], input?: string): Promise<string> {
  return kubectlRun(need('PINFI_KUBECTL'), need('PINFI_KUBECONFIG'), args, input);
}

/** A fresh namespace for one test file; delete it in afterAll with `deleteNamespace`. */
export async function newNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await testKubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await testKubeConfig()
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => undefined);
}

/** Polls `fn` until it returns a value that is not undefined, or throws after timeoutMs with the last state. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
