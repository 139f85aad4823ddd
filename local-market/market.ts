// The local PinFi market: a control plane with simulated GPU nodes of three OpenB models (each
// labelled with a provider's payout address), anvil with the test stablecoin and the escrow,
// funded demo payers, the operator, the scheduler extension as the chart runs it (extender,
// admission webhook, a second kube-scheduler), the example pools and leases, and a seeded demand
// stream. Every lease gets one pod, which the webhook, the operator and the `pinfi` scheduler
// place on the lease's reserved GPUs; `keepWorkloads` recreates it after a pre-emption, as a
// Job controller would.
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ComputeLease } from '../operator/src/api/types.js';
import { parseConfig } from '../operator/src/config.js';
import { startOperator, type OperatorHandle } from '../operator/src/operator.js';
import { createLogger } from '../operator/src/telemetry/logger.js';
import { createWriteStream, mkdirSync } from 'node:fs';
import { startEnvironment, type Environment } from '../test/env/environment.js';
import { type GpuNodeSpec } from '../test/env/gpu-nodes.js';
import { authorizationSecret, deployChainMarket, fundPayer, type ChainMarket } from '../test/env/market-fixture.js';
import { freePort } from '../test/env/ports.js';
import { repoRoot, runDir } from '../test/env/paths.js';
import { address, ESCROW_ADDRESS, OPERATOR_KEY, PAYER_KEYS, PROVIDER_KEYS, TOKEN_ADDRESS } from './accounts.js';
import { DemandStream, type DemoLease } from './demand.js';
import { leasesMissingPods } from './workloads.js';
import { startLocalScheduling, type LocalScheduling } from './scheduling.js';
import { uniform } from '../operator/src/market/testing/prng.js';

export type LocalMarketOptions = {
  name: string;
  nodes: readonly GpuNodeSpec[];
  anvilPort?: number;
  log: (line: string) => void;
};

export type LocalMarket = {
  readonly env: Environment;
  readonly chain: ChainMarket;
  readonly operator: OperatorHandle;
  readonly operatorUrl: string;
  readonly scheduling: LocalScheduling;
  readonly kubeConfig: KubeConfig;
  /** Applies a lease manifest and signs its authorisation as the namespace's demo payer. */
  applyLease(lease: ComputeLease): Promise<void>;
  stop(): Promise<void>;
};

const NAMESPACES = ['team-a', 'team-b'] as const;

/** The lease's workload: one pod with one GPU, labelled with its lease and owned by it. */
export function leasePod(ns: string, lease: string, uid: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${lease}-0`,
      namespace: ns,
      labels: { 'pinfi.io/lease': lease, 'pinfi.io/demo': 'true' },
      ownerReferences: [{ apiVersion: 'pinfi.io/v1alpha1', kind: 'ComputeLease', name: lease, uid }],
    },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'train', image: 'registry.example/train:1', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
    },
  };
}

export async function startLocalMarket(opts: LocalMarketOptions): Promise<LocalMarket> {
  const log = opts.log;
  // Providers: alternate nodes between the two demo providers' payout addresses.
  const nodes = opts.nodes.map((n, i) => ({ ...n, labels: { ...n.labels, 'pinfi.io/payout-address': address(PROVIDER_KEYS[i % 2] as string) } }));
  const env = await startEnvironment({ name: opts.name, nodes, log, ...(opts.anvilPort !== undefined ? { anvilPort: opts.anvilPort } : {}) });
  const stops: (() => Promise<unknown>)[] = [() => env.stop()];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch((e: unknown) => log(`[pinfi] cleanup: ${(e as Error).message}`));
  };
  try {
    const logDir = join(runDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const pluginLog = createWriteStream(join(logDir, `scheduler-plugin-${opts.name}.log`), { flags: 'a' });
    stops.push(async () => pluginLog.end());
    // The scheduler extension starts while the contracts deploy.
    const schedulingStarting = startLocalScheduling({
      cluster: env.cluster,
      logDir,
      logger: createLogger({ level: 'info', fields: { app: 'pinfi-scheduler-plugin' }, write: (l) => pluginLog.write(`${l}\n`) }),
      log,
    });
    // Registered at once, so a failure below stops it too.
    stops.push(async () => (await schedulingStarting.catch(() => undefined))?.stop());
    log('[pinfi] deploying the test stablecoin and the escrow on anvil…');
    const chain = await deployChainMarket(env.anvil.rpcUrl, OPERATOR_KEY);
    if (chain.token !== TOKEN_ADDRESS || chain.escrow !== ESCROW_ADDRESS) {
      throw new Error(`anvil was not fresh: token ${chain.token}, escrow ${chain.escrow} (examples/ expect ${TOKEN_ADDRESS}, ${ESCROW_ADDRESS})`);
    }
    for (const key of Object.values(PAYER_KEYS)) await fundPayer(chain, key, 1_000_000n * 10n ** 6n);
    log(`[pinfi] escrow ${chain.escrow}, token ${chain.token}; payers funded with 1,000,000 USDC each`);

    const opLog = createWriteStream(join(logDir, `operator-${opts.name}.log`), { flags: 'a' });
    stops.push(async () => opLog.end());
    const port = await freePort();
    const config = parseConfig(
      ['--kubeconfig', env.cluster.kubeconfig, '--http-host', '127.0.0.1', '--http-port', String(port), '--no-leader-elect', '--price-refresh', '5',
        '--rpc-url', env.anvil.rpcUrl, '--escrow-address', chain.escrow, '--settle-batch-window', '1000', '--grace', '10'],
      { PINFI_SETTLER_KEY: OPERATOR_KEY },
    );
    const operator = await startOperator(config, { logger: createLogger({ level: 'info', write: (l) => opLog.write(`${l}\n`) }), env: { PINFI_SETTLER_KEY: OPERATOR_KEY } });
    stops.push(() => operator.stop());
    const operatorUrl = `http://127.0.0.1:${operator.httpPort}`;
    log(`[pinfi] operator running (API ${operatorUrl}, log ${join(logDir, `operator-${opts.name}.log`)})`);

    const kc = env.cluster.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    for (const ns of NAMESPACES) await core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
    await env.cluster.kubectl(['apply', '-f', join(repoRoot, 'examples', 'pools')]);

    const applyLease = async (lease: ComputeLease): Promise<void> => {
      const ns = lease.metadata?.namespace as (typeof NAMESPACES)[number];
      const name = lease.metadata?.name ?? '';
      // labelled as the market's own, so that keepWorkloads looks after its pod and no one else's
      const labels = { ...lease.metadata?.labels, 'pinfi.io/demo': 'true' };
      await env.cluster.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'pinfi.io/v1alpha1', kind: 'ComputeLease', ...lease, metadata: { ...lease.metadata, labels } }));
      const uid = (await env.cluster.kubectl(['get', 'computelease', name, '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).trim();
      const payerKey = PAYER_KEYS[ns];
      const secret = await authorizationSecret(chain, payerKey, lease.spec.payer.authorizationSecretRef.name, {
        payer: address(payerKey), namespace: ns, name, uid, pool: lease.spec.pool,
        maxAmount: 10n ** 12n, deadline: BigInt(Math.floor(Date.now() / 1000) + 86_400), nonce: BigInt(`0x${uid.replace(/-/g, '').slice(0, 12)}`),
      });
      await core.createNamespacedSecret({ namespace: ns, body: secret }).catch(() => undefined);
      await core.createNamespacedPod({ namespace: ns, body: leasePod(ns, name, uid) }).catch((e: unknown) => {
        if ((e as { code?: number }).code !== 409) throw e;
      });
    };
    const scheduling = await schedulingStarting;
    for (const f of readdirSync(join(repoRoot, 'examples', 'leases')).filter((x) => x.endsWith('.yaml'))) {
      await applyLease(parse(readFileSync(join(repoRoot, 'examples', 'leases', f), 'utf8')) as ComputeLease);
    }
    log('[pinfi] example pools and leases applied (examples/)');
    return { env, chain, operator, operatorUrl, scheduling, kubeConfig: kc, applyLease, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Every few seconds until `signal` aborts: a pod again for each of the market's leases (label pinfi.io/demo) that is not over and has none (workloads.ts). */
export async function keepWorkloads(m: LocalMarket, signal: AbortSignal, onError: (e: unknown) => void, everyMs = 5_000): Promise<void> {
  const core = m.kubeConfig.makeApiClient(CoreV1Api);
  while (!signal.aborted) {
    try {
      const leases: ComputeLease[] = [];
      const pods = new Map<string, Set<string>>();
      for (const ns of NAMESPACES) {
        leases.push(...(JSON.parse(await m.env.cluster.kubectl(['get', 'computeleases', '-n', ns, '-l', 'pinfi.io/demo=true', '-o', 'json'])) as { items: ComputeLease[] }).items);
        const list = await core.listNamespacedPod({ namespace: ns, labelSelector: 'pinfi.io/demo=true' });
        pods.set(ns, new Set(list.items.map((p) => p.metadata?.labels?.['pinfi.io/lease'] ?? '')));
      }
      for (const l of leasesMissingPods(leases, (ns) => pods.get(ns) ?? new Set())) {
        const ns = l.metadata?.namespace ?? '';
        await core.createNamespacedPod({ namespace: ns, body: leasePod(ns, l.metadata?.name ?? '', l.metadata?.uid ?? '') }).catch((e: unknown) => {
          if ((e as { code?: number }).code !== 409) throw e; // the evicted pod is still terminating: next round
        });
      }
    } catch (e) {
      if (!signal.aborted) onError(e);
    }
    await new Promise<void>((r) => {
      const t = setTimeout(r, everyMs);
      signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
    });
  }
}

/** Runs the demand stream until `signal` aborts: arrivals, and some cancellations. */
export async function runDemand(m: LocalMarket, perMinute: number, seed: number, signal: AbortSignal, onError: (e: unknown) => void): Promise<void> {
  const pools = [
    { name: 'a100', floor: 2_000_000n, weight: 3 },
    { name: 't4', floor: 400_000n, weight: 2, lends: true }, // examples/pools/t4.yaml lends idle GPUs
    { name: 'v100', floor: 1_000_000n, weight: 1 },
  ];
  const stream = new DemandStream(pools, uniform(seed), perMinute);
  const timers = new Set<NodeJS.Timeout>();
  signal.addEventListener('abort', () => timers.forEach(clearTimeout), { once: true });
  while (!signal.aborted) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, stream.nextDelayMs());
      timers.add(t);
      signal.addEventListener('abort', () => r(), { once: true });
    });
    if (signal.aborted) break;
    const d: DemoLease = stream.next();
    const lease: ComputeLease = {
      metadata: { name: d.name, namespace: d.namespace, labels: { 'pinfi.io/demo': 'true' } },
      spec: { pool: d.pool, gpus: d.gpus, duration: d.duration, maxPrice: { perGpuHour: d.maxPerGpuHour.toString() }, deadline: new Date(Date.now() + 5 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(d.preemptible ? { preemptible: true } : {}), payer: { address: address(PAYER_KEYS[d.namespace]), authorizationSecretRef: { name: `${d.name}-auth` } } },
    };
    m.applyLease(lease).catch(onError);
    if (d.cancelAfterMs !== undefined) {
      const t = setTimeout(() => void m.env.cluster.kubectl(['delete', 'computelease', d.name, '-n', d.namespace, '--wait=false']).catch(onError), d.cancelAfterMs);
      timers.add(t);
    }
  }
}
