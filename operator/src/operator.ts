// Assembles the operator from its parts: clients, shared informers, controllers, leader election
// and the HTTP surface. `startOperator` returns a handle whose `stop()` shuts down gracefully
// (in-flight reconciles finish, the leader lease is released, the HTTP server closes).
import type { Server } from 'node:http';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { COMPUTE_LEASES, GPU_POOLS } from './api/resources.js';
import type { ComputeLease, GpuPool } from './api/types.js';
import type { OperatorConfig } from './config.js';
import { createKubeClients, loadConnection } from './kube/client.js';
import { realClock, type Clock } from './kube/clock.js';
import { Controller, type ChangeEvent } from './kube/controller.js';
import { apiEventSink, EventRecorder } from './kube/events.js';
import { InformerFactory } from './kube/informers.js';
import { apiLeaseLock, LeaderElector } from './kube/leader.js';
import { RESOURCES, resourcePath } from './kube/resources.js';
import { LEASE_LABEL } from './inventory/labels.js';
import { MarketView } from './pools/market-view.js';
import { poolMetrics } from './pools/metrics.js';
import { LEASES_BY_POOL, makePoolReconciler, PODS_BY_NODE } from './pools/reconciler.js';
import { httpApp, listen, type LeaseSummary } from './server/http.js';
import { Counter, Gauge } from 'prom-client';
import { enforcementControllers } from './enforcement/controllers.js';
import { ReservationLedger } from './leases/ledger.js';
import { makeLeaseReconciler, type LeaseHooks } from './leases/reconciler.js';
import { ChainClient, createProvider, defaultRetryPolicy, loadSigner } from './settlement/index.js';
import { registerOnce } from './telemetry/metrics.js';
import { apiCode } from './kube/errors.js';
import type { V1Secret } from '@kubernetes/client-node';
import { createRegistry } from './telemetry/metrics.js';
import type { Logger } from './telemetry/logger.js';

export type OperatorHandle = {
  readonly market: MarketView;
  readonly httpPort: number;
  stop(): Promise<void>;
};

/**
 * Node updates that can change a pool: labels, cordon, allocatable/capacity, readiness. kwok and
 * real kubelets update every node's status every few seconds (heartbeats); those are dropped here,
 * or 1,000 nodes would keep every pool reconciling all the time.
 */
export function nodeChangeMatters(ev: ChangeEvent<V1Node>): boolean {
  if (ev.type !== 'update') return true;
  const a = ev.old;
  const b = ev.obj;
  const ready = (n: V1Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return (
    JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {}) ||
    a.metadata?.annotations?.['pinfi.io/payout-address'] !== b.metadata?.annotations?.['pinfi.io/payout-address'] ||
    !!a.spec?.unschedulable !== !!b.spec?.unschedulable ||
    JSON.stringify(a.status?.allocatable ?? {}) !== JSON.stringify(b.status?.allocatable ?? {}) ||
    JSON.stringify(a.status?.capacity ?? {}) !== JSON.stringify(b.status?.capacity ?? {}) ||
    ready(a) !== ready(b) ||
    !!a.metadata?.deletionTimestamp !== !!b.metadata?.deletionTimestamp
  );
}

/** Index of ComputeLeases by the nodes of their reservation. */
const LEASES_BY_NODE = 'byReservedNode';

/** Pods that matter to GPU capacity: lease pods and pods requesting any nvidia.com resource. */
function gpuRelevant(p: V1Pod): boolean {
  if (p.metadata?.labels?.[LEASE_LABEL] !== undefined) return true;
  const wants = (r: Record<string, string> | undefined) => Object.keys(r ?? {}).some((k) => k.startsWith('nvidia.com/'));
  return [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].some((c) => wants(c.resources?.requests) || wants(c.resources?.limits));
}

/** GPU-relevant pods, and of their updates only those that bind, finish or relabel them. */
function podChangeMatters(ev: ChangeEvent<V1Pod>): boolean {
  if (!gpuRelevant(ev.obj)) return false;
  if (ev.type !== 'update') return true;
  const a = ev.old;
  const b = ev.obj;
  return (
    a.spec?.nodeName !== b.spec?.nodeName ||
    a.status?.phase !== b.status?.phase ||
    JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {}) ||
    !!a.metadata?.deletionTimestamp !== !!b.metadata?.deletionTimestamp
  );
}

export type OperatorDeps = {
  logger: Logger;
  clock?: Clock;
  hooks?: LeaseHooks;
  /** Where an environment-variable settler key is read from (main passes process.env). */
  env?: NodeJS.ProcessEnv;
};

export async function startOperator(config: OperatorConfig, deps: OperatorDeps): Promise<OperatorHandle> {
  const clock = deps.clock ?? realClock;
  const logger = deps.logger;
  const connection = loadConnection(config.kubeconfig ? { kubeconfigPath: config.kubeconfig, ...(config.context ? { context: config.context } : {}) } : { inCluster: true });
  const clients = createKubeClients(connection);
  const registry = createRegistry({ defaultLabels: { app: 'pinfi-operator' } });
  const factory = new InformerFactory({ clients, clock, logger });

  const pools = factory.forResource<GpuPool>(GPU_POOLS);
  const nodes = factory.forResource<V1Node>(RESOURCES.nodes);
  const pods = factory.forResource<V1Pod>(RESOURCES.pods, { indexers: { [PODS_BY_NODE]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) } });
  const leases = factory.forResource<ComputeLease>(COMPUTE_LEASES, {
    indexers: { [LEASES_BY_POOL]: (l) => [l.spec.pool], [LEASES_BY_NODE]: (l) => [...new Set((l.status?.reservation ?? []).map((r) => r.node))] },
  });

  const market = new MarketView();
  const recorder = new EventRecorder({ sink: apiEventSink(clients.rest), controller: 'pinfi.io/operator', instance: config.identity, clock, logger });
  const metrics = poolMetrics(registry);
  const allPools = () => pools.store.keys();
  const poolController = new Controller({
    name: 'gpupool',
    workers: config.poolWorkers,
    registry,
    logger,
    clock,
    reconcile: makePoolReconciler({ rest: clients.rest, pools, nodes, pods, leases, market, recorder, metrics, clock, priceRefreshMs: config.priceRefreshMs }),
  })
    .watch(pools)
    .watch(nodes, { map: allPools, predicate: nodeChangeMatters })
    .watch(pods, { map: allPools, predicate: podChangeMatters, delayMs: 200 })
    .watch(leases, { map: (l) => [l.spec.pool], delayMs: 200 });

  const chainErrors = registerOnce(
    registry,
    'pinfi_chain_errors_total',
    () => new Counter({ name: 'pinfi_chain_errors_total', help: 'Chain operations that failed and will be retried (alert on a rising rate)', labelNames: ['operation'] as const, registers: [] }),
  );
  const lending = registerOnce(
    registry,
    'pinfi_preemptible_events_total',
    () =>
      new Counter({
        name: 'pinfi_preemptible_events_total',
        help: 'Pre-emptible leases lent idle GPUs, pre-empted by priced leases, resumed, or turned priced, by pool',
        labelNames: ['pool', 'event'] as const,
        registers: [],
      }),
  );
  // Leases by pool and phase, counted from the cache when scraped (the dashboard's "leases by state").
  registerOnce(
    registry,
    'pinfi_leases',
    () =>
      new Gauge({
        name: 'pinfi_leases',
        help: 'ComputeLeases by pool and phase',
        labelNames: ['pool', 'phase'] as const,
        registers: [],
        collect() {
          this.reset();
          const counts = new Map<string, number>();
          for (const l of leases.store.list()) {
            const k = `${l.spec.pool}\u0000${l.status?.phase ?? 'Pending'}`;
            counts.set(k, (counts.get(k) ?? 0) + 1);
          }
          for (const [k, n] of counts) {
            const [pool, phase] = k.split('\u0000');
            this.set({ pool: pool ?? '', phase: phase ?? '' }, n);
          }
        },
      }),
  );
  // GPUs held per node, from the lease informer's events and the lease controller's own writes.
  const ledger = new ReservationLedger();
  ledger.follow(leases);
  let chain: ChainClient | undefined;
  if (config.chain) {
    const provider = createProvider(config.chain.rpcUrl, config.chain.chainId);
    const signer = loadSigner('file' in config.chain.key ? { file: config.chain.key.file } : { env: config.chain.key.env, environment: deps.env ?? {} }, { provider, logger });
    chain = await ChainClient.connect({
      provider,
      signer,
      escrowAddress: config.chain.escrowAddress,
      confirmations: config.chain.confirmations,
      retry: { ...defaultRetryPolicy, budgetMs: config.chain.rpcRetryBudgetMs },
      batch: { windowMs: config.chain.batchWindowMs, maxSize: config.chain.batchMaxSize },
      logger,
    });
    logger.info('settlement chain connected', { rpcUrl: config.chain.rpcUrl, escrow: config.chain.escrowAddress, settler: chain.address });
  } else {
    logger.warn('no settlement chain configured: leases will wait (set --rpc-url and --escrow-address)');
  }
  const leaseController = new Controller({
    name: 'computelease',
    workers: config.leaseWorkers,
    registry,
    logger,
    clock,
    reconcile: makeLeaseReconciler({
      rest: clients.rest,
      leases,
      pools,
      nodes,
      readSecret: async (namespace: string, name: string): Promise<V1Secret | undefined> => {
        try {
          return await clients.rest.get<V1Secret>(resourcePath(RESOURCES.secrets, { namespace, name }));
        } catch (err) {
          if (apiCode(err) === 404) return undefined;
          throw err;
        }
      },
      market,
      ledger,
      chain,
      recorder,
      clock,
      ...(deps.hooks ? { hooks: deps.hooks } : {}),
      onChainError: (operation) => chainErrors.inc({ operation }),
      onLending: (pool, event) => lending.inc({ pool, event }),
    }),
  })
    .watch(leases)
    .watch(pools, { map: (p) => leases.store.keysByIndex(LEASES_BY_POOL, p.metadata?.name ?? '') })
    // A reserved node that goes NotReady or is deleted: its leases re-place at once.
    .watch(nodes, { map: (n) => leases.store.keysByIndex(LEASES_BY_NODE, n.metadata?.name ?? ''), predicate: nodeChangeMatters });

  const enforcement = config.enforce
    ? Object.values(
        enforcementControllers(
          { rest: clients.rest, factory, recorder, registry, clock, logger },
          { leaseEndGraceMs: config.graceSeconds * 1000, evictionTimeoutMs: config.evictionTimeoutSeconds * 1000 },
        ),
      )
    : [];

  factory.start();
  let synced = false;
  void factory.waitForSync().then((ok) => (synced = ok));

  const leaseSummaries = (): LeaseSummary[] =>
    leases.store.list().map((l) => ({
      namespace: l.metadata?.namespace ?? '',
      name: l.metadata?.name ?? '',
      pool: l.spec.pool,
      gpus: l.spec.gpus,
      duration: l.spec.duration,
      phase: l.status?.phase ?? 'Pending',
      ...(l.status?.quote ? { pricePerGpuHour: l.status.quote.pricePerGpuHour, total: l.status.quote.total } : {}),
      ...(l.status?.endTime ? { endTime: l.status.endTime } : {}),
      ...(l.status?.chain?.openTx ? { openTx: l.status.chain.openTx } : {}),
      ...(l.status?.chain?.settleTx ? { settleTx: l.status.chain.settleTx } : {}),
      ...(l.status?.settlement ? { refund: l.status.settlement.refund } : {}),
      ...(l.status?.closeReason ? { closeReason: l.status.closeReason } : {}),
      ...(l.status?.message ? { message: l.status.message } : {}),
    }));
  const server: Server = await listen(httpApp({ registry, market, clock, logger, ready: () => synced, leases: leaseSummaries }), config.httpPort, config.httpHost);
  const addr = server.address();
  const httpPort = typeof addr === 'object' && addr ? addr.port : config.httpPort;
  logger.info('http surface listening', { host: config.httpHost, port: httpPort });

  const stopAll = new AbortController();
  const runControllers = (signal: AbortSignal) =>
    Promise.all([poolController, leaseController, ...enforcement].map((c) => c.start(signal))).then(() => undefined);
  let running: Promise<void>;
  if (config.leaderElect) {
    const elector = new LeaderElector({
      lock: apiLeaseLock(clients.rest, config.namespace, config.leaseName),
      identity: config.identity,
      clock,
      logger,
      onStartedLeading: (signal) => runControllers(signal),
      onStoppedLeading: () => logger.info('stopped leading'),
    });
    running = elector.run(stopAll.signal);
  } else {
    running = runControllers(stopAll.signal);
  }
  running.catch((err: unknown) => logger.error('controllers stopped with an error', { err: String(err) }));

  return {
    market,
    httpPort,
    async stop() {
      stopAll.abort();
      await running.catch(() => undefined);
      await chain?.flush().catch(() => undefined);
      await recorder.flush();
      await factory.stop();
      await clients.rest.close();
      await new Promise<void>((r) => server.close(() => r()));
      logger.info('operator stopped');
    },
  };
}
