// Creating and changing simulated GPU nodes in a real cluster.
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { gpuNode, type GpuNodeSpec } from './gpu-nodes.js';

/** Runs `fn` over items with at most `limit` in flight. */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Creates the nodes (or leaves existing ones), with bounded concurrency. */
export async function createNodes(kc: KubeConfig, specs: readonly (GpuNodeSpec | V1Node)[], concurrency = 32): Promise<void> {
  const api = kc.makeApiClient(CoreV1Api);
  await inParallel(specs, concurrency, async (s) => {
    const body: V1Node = 'kind' in s ? s : gpuNode(s as GpuNodeSpec);
    try {
      await api.createNode({ body });
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw new Error(`create node ${body.metadata?.name}: ${(e as Error).message}`, { cause: e });
    }
  });
}

/** Waits until every named node is Ready (kwok took it over) and lost its not-ready taint. */
export async function waitNodesReady(kc: KubeConfig, names: readonly string[], timeoutMs = 120_000): Promise<void> {
  const api = kc.makeApiClient(CoreV1Api);
  const want = new Set(names);
  const deadline = Date.now() + timeoutMs;
  let pending = names.length;
  while (Date.now() < deadline) {
    const list = await api.listNode();
    pending = 0;
    for (const n of list.items) {
      if (!want.has(n.metadata?.name ?? '')) continue;
      const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      const tainted = n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
      if (!ready || tainted) pending++;
    }
    pending += names.length - list.items.filter((n) => want.has(n.metadata?.name ?? '')).length;
    if (pending === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${pending} of ${names.length} nodes not Ready after ${timeoutMs} ms (see the kwok-controller log)`);
}
