// One local environment: a control plane with simulated GPU nodes and the CRDs applied, plus an
// anvil chain. Used by the integration tests' global setup and by `npm start`.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startAnvil, type Anvil } from './anvil.js';
import { createCluster, type Cluster, type ClusterOptions } from './cluster.js';
import { cpuNode, type GpuNodeSpec } from './gpu-nodes.js';
import { createNodes, waitNodesReady } from './nodes-io.js';
import { repoRoot } from './paths.js';

export type Environment = {
  readonly cluster: Cluster;
  readonly anvil: Anvil;
  stop(): Promise<void>;
};

export type EnvironmentOptions = Omit<ClusterOptions, 'name'> & {
  name: string;
  nodes: readonly GpuNodeSpec[];
  /** CPU-only nodes to add beside the GPU nodes. */
  cpuNodes?: number;
  anvilPort?: number;
};

/** Applies every CRD in crds/ and waits until each is Established. */
export async function applyCrds(cluster: Cluster): Promise<void> {
  const dir = join(repoRoot, 'crds');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  for (const f of files) await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(dir, f)]);
  for (const f of files) await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(dir, f)]);
}

export async function startEnvironment(opts: EnvironmentOptions): Promise<Environment> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const [cluster, anvil] = await Promise.all([
    createCluster(opts),
    startAnvil(opts.anvilPort !== undefined ? { port: opts.anvilPort } : {}),
  ]);
  try {
    await applyCrds(cluster);
    const kc = cluster.kubeConfig();
    const cpu = Array.from({ length: opts.cpuNodes ?? 1 }, (_, i) => cpuNode(`cpu-${i}`));
    await createNodes(kc, [...opts.nodes, ...cpu]);
    await waitNodesReady(kc, [...opts.nodes.map((n) => n.name), ...cpu.map((n) => n.metadata?.name ?? '')]);
    log(`[pinfi] ${opts.nodes.length} GPU nodes and ${cpu.length} CPU nodes Ready; anvil at ${anvil.rpcUrl}`);
  } catch (e) {
    await Promise.allSettled([cluster.delete(), anvil.stop()]);
    throw e;
  }
  return {
    cluster,
    anvil,
    async stop() {
      await Promise.allSettled([cluster.delete(), anvil.stop()]);
    },
  };
}
