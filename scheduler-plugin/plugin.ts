// Assembles the scheduler plugin: informers (leases, pools, lease pods), the extender's HTTP
// server over their caches and the admission webhook's HTTPS server. `startSchedulerPlugin`
// returns a handle whose `stop()` closes both servers and the informers.
import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:http';
import type { V1Pod } from '@kubernetes/client-node';
import { COMPUTE_LEASES, GPU_POOLS } from '../operator/src/api/resources.js';
import type { ComputeLease, GpuPool } from '../operator/src/api/types.js';
import { LEASE_LABEL } from '../operator/src/inventory/labels.js';
import { createKubeClients, loadConnection, type KubeClients, type KubeConnection } from '../operator/src/kube/client.js';
import { realClock, type Clock } from '../operator/src/kube/clock.js';
import { apiCode } from '../operator/src/kube/errors.js';
import { InformerFactory } from '../operator/src/kube/informers.js';
import type { Informer } from '../operator/src/kube/informer.js';
import { RESOURCES, resourcePath } from '../operator/src/kube/resources.js';
import { errorFields, type Logger } from '../operator/src/telemetry/logger.js';
import { createRegistry } from '../operator/src/telemetry/metrics.js';
import { CacheView, DEFAULT_RESOURCE } from './cache.js';
import type { PluginConfig, WebhookConfig } from './config.js';
import { startExtenderServer } from './extender-server.js';
import { closeServer, listenOn, setServerTimeouts } from './http-shell.js';
import { applyWebhookConfiguration, desiredWebhookConfiguration, servingCertificate } from './webhook-config.js';
import { reviewHandler, type AdmissionLookups } from './webhook.js';
import type { ServingCertificate } from './x509.js';

export type SchedulerPluginDeps = {
  logger: Logger;
  clock?: Clock;
  /** Instead of config.kubeconfig (tests, the local market). */
  connection?: KubeConnection;
};

export type WebhookHandle = {
  readonly port: number;
  readonly certificate: ServingCertificate;
  /** Closes the HTTPS server (the configuration stays: the API server then fails to call it). */
  stop(): Promise<void>;
  /** Listens again on the same port with the same certificate. */
  restart(): Promise<void>;
};

export type SchedulerPluginHandle = {
  readonly extenderPort: number;
  readonly extenderUrl: string;
  readonly webhook: WebhookHandle | undefined;
  readonly view: CacheView;
  /** True once the caches have synced. */
  ready(): boolean;
  waitForSync(signal?: AbortSignal): Promise<boolean>;
  stop(): Promise<void>;
};

function leaseLookups(clients: KubeClients, leases: Informer<ComputeLease>, pools: Informer<GpuPool>, clock: Clock): AdmissionLookups {
  return {
    now: () => clock.now(),
    async lease(namespace, name) {
      const cached = leases.store.getByName(name, namespace);
      if (cached) return cached;
      // Not cached (yet): a lease and its pods applied together arrive milliseconds apart.
      try {
        return await clients.rest.get<ComputeLease>(resourcePath(COMPUTE_LEASES, { namespace, name }), undefined, AbortSignal.timeout(3_000));
      } catch (err) {
        if (apiCode(err) === 404) return undefined;
        throw new Error(`read ComputeLease ${namespace}/${name}`, { cause: err });
      }
    },
    resourceOf: (pool) => pools.store.getByName(pool)?.spec?.resourceName ?? DEFAULT_RESOURCE,
  };
}

async function startWebhook(cfg: WebhookConfig, clients: KubeClients, lookups: AdmissionLookups, logger: Logger): Promise<WebhookHandle> {
  const certificate = await servingCertificate(
    cfg.certificate,
    { commonName: 'pinfi-scheduler-plugin', dnsNames: cfg.dnsNames, ipAddresses: cfg.ipAddresses },
    clients.rest,
  );
  const handler = reviewHandler({ lookups, logger });
  let server: Server | undefined;
  const listen = async (port: number): Promise<number> => {
    const s = createHttpsServer({ cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2' }, handler);
    setServerTimeouts(s);
    const bound = await listenOn(s, port, cfg.host);
    server = s;
    return bound;
  };
  const port = await listen(cfg.port);
  if (cfg.manageConfiguration) {
    await applyWebhookConfiguration(clients.rest, desiredWebhookConfiguration({ name: cfg.configurationName, endpoint: cfg.endpoint, caBundlePem: certificate.caCert }));
    logger.info('admission webhook configured', { configuration: cfg.configurationName });
  }
  logger.info('admission webhook listening', { host: cfg.host, port });
  return {
    port,
    certificate,
    async stop() {
      if (server) await closeServer(server);
      server = undefined;
    },
    async restart() {
      if (!server) await listen(port);
    },
  };
}

export async function startSchedulerPlugin(config: PluginConfig, deps: SchedulerPluginDeps): Promise<SchedulerPluginHandle> {
  const clock = deps.clock ?? realClock;
  const logger = deps.logger;
  const connection =
    deps.connection ??
    loadConnection(config.kubeconfig ? { kubeconfigPath: config.kubeconfig, ...(config.context ? { context: config.context } : {}) } : { inCluster: true });
  const clients = createKubeClients(connection);
  const registry = createRegistry({ defaultLabels: { app: 'pinfi-scheduler-plugin' } });
  // No resync: the caches are read, not reconciled.
  const factory = new InformerFactory({ clients, clock, logger, resyncPeriodMs: 0 });
  const leases = factory.forResource<ComputeLease>(COMPUTE_LEASES);
  const pools = factory.forResource<GpuPool>(GPU_POOLS);
  const leasePods = factory.forResource<V1Pod>(RESOURCES.pods, { labelSelector: LEASE_LABEL });
  const view = new CacheView(leases, pools, leasePods, clock, { placementTtlMs: config.placementTtlMs });

  factory.start();
  let synced = false;
  const sync = factory.waitForSync().then((ok) => {
    synced = ok;
    if (ok) logger.info('caches synced', { leases: leases.store.size, leasePods: leasePods.store.size, pools: pools.store.size });
    return ok;
  });

  const extender = await startExtenderServer({
    host: config.host,
    port: config.port,
    view,
    placements: view.usage,
    ready: () => synced,
    registry,
    logger,
    maxBodyBytes: config.maxBodyBytes,
  });
  logger.info('extender listening', { host: config.host, port: extender.port });

  let webhook: WebhookHandle | undefined;
  try {
    if (config.webhook) webhook = await startWebhook(config.webhook, clients, leaseLookups(clients, leases, pools, clock), logger);
  } catch (err) {
    logger.error('could not start the admission webhook', { err: errorFields(err) });
    await extender.close();
    await factory.stop();
    throw err;
  }

  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    extenderPort: extender.port,
    extenderUrl: `http://${host}:${extender.port}`,
    webhook,
    view,
    ready: () => synced,
    waitForSync: async (signal) => {
      if (!signal) return sync;
      return Promise.race([sync, new Promise<boolean>((r) => signal.addEventListener('abort', () => r(false), { once: true }))]);
    },
    async stop() {
      await Promise.all([extender.close(), webhook?.stop()]);
      await factory.stop();
      await clients.rest.close();
      logger.info('scheduler plugin stopped');
    },
  };
}
