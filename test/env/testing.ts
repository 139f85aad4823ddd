// What integration tests use to reach the shared environment started by the global setup.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { JsonRpcProvider } from 'ethers';
import type { ComputeLease } from '../../operator/src/api/types.js';
import { anvilProvider } from './anvil.js';
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
/** A provider for the run's anvil. */
export const testProvider = (): JsonRpcProvider => anvilProvider(testRpcUrl());

export function kubectl(args: readonly string[], input?: string): Promise<string> {
  return kubectlRun(need('PINFI_KUBECTL'), need('PINFI_KUBECONFIG'), args, input);
}

/** A fresh namespace for one test file; delete it in afterAll with `deleteNamespace`. */
export async function newNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await testKubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

/**
 * Removes a test file's leases and pool without leaking them into later files: call it while the file's operator
 * still runs, which settles or releases each deleted lease and then lets the pool go. Whatever is still there after
 * `waitSeconds` (say, its chain is down) loses its finalizers, so no later file's operator (they reconcile the
 * whole shared cluster) inherits a lease of another escrow to settle.
 */
export async function removeLeasesAndPool(namespace: string, pool: string | undefined, waitSeconds = 30): Promise<void> {
  const strip = async (what: string[], scope: string[]): Promise<void> => {
    const names = (await kubectl(['get', ...what, ...scope, '-o', 'name', '--ignore-not-found']).catch(() => '')).split('\n').filter(Boolean);
    for (const n of names) await kubectl(['patch', n, ...scope, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
  };
  await kubectl(['delete', 'computeleases', '--all', '-n', namespace, `--timeout=${waitSeconds}s`]).catch(() => undefined);
  await strip(['computeleases'], ['-n', namespace]);
  if (pool === undefined) return;
  await kubectl(['delete', 'gpupool', pool, '--ignore-not-found', `--timeout=${waitSeconds}s`]).catch(() => undefined);
  await strip(['gpupool', pool], []);
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

export type LeaseReader = {
  getLease(name: string): Promise<ComputeLease>;
  /** Waits for the lease to satisfy `pred`; a time-out says which phase and message it was left in. */
  untilLease(name: string, what: string, pred: (l: ComputeLease) => boolean, timeoutMs?: number): Promise<ComputeLease>;
};

/** Reads the ComputeLeases of namespace `ns()` (a function: test files create theirs in beforeAll). */
export function leaseReader(ns: () => string): LeaseReader {
  const getLease = async (name: string): Promise<ComputeLease> => JSON.parse(await kubectl(['get', 'computelease', name, '-n', ns(), '-o', 'json'])) as ComputeLease;
  const untilLease = (name: string, what: string, pred: (l: ComputeLease) => boolean, timeoutMs = 60_000): Promise<ComputeLease> =>
    eventually(`${name}: ${what}`, async () => {
      const l = await getLease(name);
      if (pred(l)) return l;
      throw new Error(`phase ${l.status?.phase ?? 'none'}: ${l.status?.message ?? ''}`);
    }, timeoutMs, 300);
  return { getLease, untilLease };
}
