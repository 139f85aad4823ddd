// Helpers for kube/'s integration tests (*.int.test.ts): clients for the real API server the
// integration project's global setup started (PINFI_KUBECONFIG), throw-away namespaces, polling.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createKubeClients, loadConnection, type KubeClients } from './client.js';
import { isNotFound } from './errors.js';
import { RESOURCES, resourcePath } from './resources.js';

export function envClients(): KubeClients {
  const path = process.env.PINFI_KUBECONFIG;
  if (!path) throw new Error('PINFI_KUBECONFIG is not set: run through jest --selectProjects integration');
  return createKubeClients(loadConnection({ kubeconfigPath: path }), { requestTimeoutMs: 15_000 });
}

export async function createNamespace(clients: KubeClients, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await clients.rest.request({ method: 'POST', path: resourcePath(RESOURCES.namespaces), body: { metadata: { name } } });
  return name;
}

export async function deleteNamespace(clients: KubeClients, name: string): Promise<void> {
  try {
    await clients.rest.request({ method: 'DELETE', path: resourcePath(RESOURCES.namespaces, { name }) });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Polls `fn` until it returns something other than undefined; throws after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Compacts the local control plane's etcd at its current revision (through etcd's JSON gateway),
 * so watches from older resourceVersions get 410 Gone. Finds etcd's port in the kwokctl cluster
 * folder next to PINFI_KUBECONFIG.
 */
export async function compactEtcd(): Promise<number> {
  const kubeconfig = process.env.PINFI_KUBECONFIG;
  if (!kubeconfig) throw new Error('PINFI_KUBECONFIG is not set');
  const clustersDir = join(dirname(kubeconfig), 'clusters');
  const port = readdirSync(clustersDir)
    .map((c) => join(clustersDir, c, 'kwok.yaml'))
    .filter((f) => existsSync(f))
    .map((f) => /^\s*etcdPort:\s*(\d+)/m.exec(readFileSync(f, 'utf8'))?.[1])
    .find((p) => p !== undefined);
  if (!port) throw new Error(`no etcdPort in ${clustersDir}/*/kwok.yaml`);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status}`);
    return (await res.json()) as { header: { revision: string } };
  };
  const { header } = await post('/v3/kv/range', { key: 'AA==' });
  await post('/v3/kv/compaction', { revision: header.revision, physical: true });
  return Number(header.revision);
}
