// A control plane whose kube-scheduler has the `pinfi` profile and calls the extender, with the
// scheduler plugin (extender + admission webhook) and the operator's enforcement controllers
// (pool taints, scheduling gates, lease-end eviction) running in this process. Used by the
// integration tests and the benchmarks in bench/extender-*.ts.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { COMPUTE_LEASES } from '../../operator/src/api/resources.js';
import type { ComputeLease, ComputeLeaseStatus, GpuPool } from '../../operator/src/api/types.js';
import { enforcementControllers, type EnforcementConfig } from '../../operator/src/enforcement/controllers.js';
import { LEASE_LABEL } from '../../operator/src/inventory/labels.js';
import { createKubeClients, type KubeClients } from '../../operator/src/kube/client.js';
import { realClock } from '../../operator/src/kube/clock.js';
import { apiEventSink, EventRecorder } from '../../operator/src/kube/events.js';
import { InformerFactory } from '../../operator/src/kube/informers.js';
import { RESOURCES, resourcePath } from '../../operator/src/kube/resources.js';
import { createLogger, type Logger } from '../../operator/src/telemetry/logger.js';
import { createRegistry } from '../../operator/src/telemetry/metrics.js';
import { localPluginConfig } from '../../scheduler-plugin/config.js';
import { startSchedulerPlugin, type SchedulerPluginHandle } from '../../scheduler-plugin/plugin.js';
import { pinfiExtender } from '../../scheduler-plugin/scheduler-config.js';
import { createCluster, type Cluster } from '../env/cluster.js';
import { applyCrds } from '../env/environment.js';
import { cpuNode, type GpuNodeSpec } from '../env/gpu-nodes.js';
import { createNodes, waitNodesReady } from '../env/nodes-io.js';
import { freePort } from '../env/ports.js';

export type SchedulingEnv = {
  readonly cluster: Cluster;
  readonly clients: KubeClients;
  readonly plugin: SchedulerPluginHandle;
  readonly logger: Logger;
  stop(): Promise<void>;
};

export type SchedulingEnvOptions = {
  name: string;
  nodes: readonly GpuNodeSpec[];
  cpuNodes?: number;
  /** GpuPools to create: name → product label value of their nodes. */
  pools: Readonly<Record<string, string>>;
  /** The enforcement controllers in this process, or false when a real operator runs them. */
  enforcement?: EnforcementConfig | false;
  /** Client rate limits of the cluster's kube-scheduler. */
  schedulerQps?: number;
  log?: (line: string) => void;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
};

export function poolManifest(name: string, product: string): GpuPool {
  return {
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'GpuPool',
    metadata: { name },
    spec: {
      nodeSelector: { matchLabels: { 'nvidia.com/gpu.product': product } },
      pricing: { token: `0x${'a'.repeat(40)}`, treasury: `0x${'b'.repeat(40)}`, floorPrice: '1000000', ceilingPrice: '40000000' },
    },
  };
}

export async function startSchedulingEnv(opts: SchedulingEnvOptions): Promise<SchedulingEnv> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const [extPort, webhookPort] = [await freePort(), await freePort()];
  const cluster = await createCluster({
    name: opts.name,
    scheduler: {
      ...(opts.schedulerQps ? { qps: opts.schedulerQps, burst: opts.schedulerQps * 2 } : {}),
      profiles: [{ schedulerName: 'pinfi' }],
      extenders: [pinfiExtender({ urlPrefix: `http://127.0.0.1:${extPort}` })],
    },
    log,
  });
  const stops: (() => Promise<unknown>)[] = [() => cluster.delete()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e: unknown) => log(`[pinfi] cleanup: ${(e as Error).message}`));
  };
  try {
    await applyCrds(cluster);
    const kc = cluster.kubeConfig();
    const cpu = Array.from({ length: opts.cpuNodes ?? 1 }, (_, i) => cpuNode(`cpu-${i}`));
    await createNodes(kc, [...opts.nodes, ...cpu], 64);
    await waitNodesReady(kc, [...opts.nodes.map((n) => n.name), ...cpu.map((n) => n.metadata?.name ?? '')], 600_000);
    for (const [name, product] of Object.entries(opts.pools)) await cluster.kubectl(['apply', '-f', '-'], stringify(poolManifest(name, product)));

    const logger = createLogger({ level: opts.logLevel ?? 'warn', write: (l) => log(l) });
    const config = localPluginConfig({ port: extPort, webhookPort, logLevel: 'warn' });
    const plugin = await startSchedulerPlugin(config, { logger, connection: cluster.connection() });
    stops.push(() => plugin.stop());
    await plugin.waitForSync();

    const clients = createKubeClients(cluster.connection());
    if (opts.enforcement === false) return { cluster, clients, plugin, logger, stop };
    const registry = createRegistry({ processMetrics: false });
    const factory = new InformerFactory({ clients, logger });
    const recorder = new EventRecorder({ sink: apiEventSink(clients.rest), controller: 'pinfi.io/operator', instance: 'test', logger });
    const c = enforcementControllers(
      { rest: clients.rest, factory, recorder, registry, clock: realClock, logger },
      opts.enforcement ?? { leaseEndGraceMs: 60_000, evictionTimeoutMs: 120_000 },
    );
    factory.start();
    const abort = new AbortController();
    const running = Promise.all(Object.values(c).map((ctl) => ctl.start(abort.signal)));
    stops.push(async () => {
      abort.abort();
      await running;
      await recorder.flush();
      await factory.stop();
    });
    return { cluster, clients, plugin, logger, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

// ---- helpers over the API --------------------------------------------------------------------

export async function createNamespace(clients: KubeClients, name: string): Promise<void> {
  await clients.rest.request({ method: 'POST', path: resourcePath(RESOURCES.namespaces), body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  // The namespace's default ServiceAccount (pods need it to be admitted).
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      await clients.rest.get(`/api/v1/namespaces/${name}/serviceaccounts/default`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`namespace ${name}: no default ServiceAccount after 60 s`);
}

export function leaseManifest(ns: string, name: string, pool: string, gpus: number): ComputeLease {
  return {
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'ComputeLease',
    metadata: { name, namespace: ns },
    spec: { pool, gpus, duration: '1h', maxPrice: { total: '1000000000' }, payer: { address: `0x${'1'.repeat(40)}`, authorizationSecretRef: { name: 'payer-auth' } } },
  };
}

/** Creates a lease and sets its status (the lease controller's job, simulated through the status subresource). */
export async function createLease(clients: KubeClients, ns: string, name: string, pool: string, gpus: number, status: ComputeLeaseStatus): Promise<void> {
  await clients.rest.request({ method: 'POST', path: resourcePath(COMPUTE_LEASES, { namespace: ns }), body: leaseManifest(ns, name, pool, gpus) });
  await setLeaseStatus(clients, ns, name, status);
}

export async function setLeaseStatus(clients: KubeClients, ns: string, name: string, status: ComputeLeaseStatus): Promise<void> {
  await clients.rest.patch(resourcePath(COMPUTE_LEASES, { namespace: ns, name, subresource: 'status' }), { status }, PatchStrategy.MergePatch);
}

export function podManifest(ns: string, name: string, opts: { lease?: string; gpus?: number; labels?: Record<string, string>; schedulerName?: string } = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { ...(opts.lease ? { [LEASE_LABEL]: opts.lease } : {}), ...opts.labels } },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...(opts.schedulerName ? { schedulerName: opts.schedulerName } : {}),
      containers: [{ name: 'main', image: 'registry.example/train:1', resources: opts.gpus ? { limits: { 'nvidia.com/gpu': String(opts.gpus) } } : {} }],
    },
  };
}

export async function createPod(clients: KubeClients, pod: V1Pod): Promise<V1Pod> {
  return clients.rest.request<V1Pod>({ method: 'POST', path: resourcePath(RESOURCES.pods, { namespace: pod.metadata?.namespace ?? '' }), body: pod });
}

export async function listPods(clients: KubeClients, ns: string, labelSelector?: string): Promise<V1Pod[]> {
  const list = await clients.rest.get<{ items: V1Pod[] }>(resourcePath(RESOURCES.pods, { namespace: ns }), labelSelector ? { labelSelector } : undefined);
  return list.items;
}

export async function getPod(clients: KubeClients, ns: string, name: string): Promise<V1Pod | undefined> {
  try {
    return await clients.rest.get<V1Pod>(resourcePath(RESOURCES.pods, { namespace: ns, name }));
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

export type EventInfo = { reason: string; message: string; type: string; kind: string; name: string };

/** Events in `ns` (core/v1 view, which shows events.k8s.io/v1 events too), optionally about one object. */
export async function events(clients: KubeClients, ns: string, name?: string): Promise<EventInfo[]> {
  const list = await clients.rest.get<{ items: { reason?: string; message?: string; type?: string; involvedObject?: { kind?: string; name?: string } }[] }>(
    `/api/v1/namespaces/${ns}/events`,
    name ? { fieldSelector: `involvedObject.name=${name}` } : undefined,
  );
  return list.items.map((e) => ({ reason: e.reason ?? '', message: e.message ?? '', type: e.type ?? '', kind: e.involvedObject?.kind ?? '', name: e.involvedObject?.name ?? '' }));
}

export const running = (p: V1Pod | undefined): boolean => p?.status?.phase === 'Running';

export function nodeTaints(n: V1Node): string[] {
  return (n.spec?.taints ?? []).map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`);
}
