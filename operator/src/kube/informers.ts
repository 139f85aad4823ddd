// Shared informers: one informer (one LIST+WATCH, one cache) per resource type and selector,
// however many controllers watch it. Controllers ask the factory for informers while they are
// being built; main starts them all and waits for their caches before starting workers.
import { realClock, type Clock } from './clock.js';
import { Informer, type InformerOptions } from './informer.js';
import { apiListWatch, type Selectors } from './listwatch.js';
import { apiVersionOf, type KubeObject, type ResourceType } from './resources.js';
import type { RestClient } from './rest.js';
import type { IndexFunc } from './store.js';
import { silentLogger, type Logger } from '../telemetry/logger.js';

export type InformerFactoryOptions = {
  clients: { rest: RestClient };
  /** Default resync period for every informer. Default 10 min; 0 disables. */
  resyncPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Passed to every informer (watch timeouts, page size, backoff). */
  informerDefaults?: Pick<InformerOptions<KubeObject>, 'watchTimeoutSeconds' | 'pageSize' | 'backoff'>;
};

export type InformerRequest<T> = Selectors & {
  /** Indexes to add to the (possibly shared) cache; a name already present is kept. */
  indexers?: Readonly<Record<string, IndexFunc<T>>>;
};

export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private started = false;

  constructor(private readonly opts: InformerFactoryOptions) {}

  /** The shared informer for `rt` with these selectors, created on first request. */
  forResource<T extends KubeObject>(rt: ResourceType, req: InformerRequest<T> = {}): Informer<T> {
    const key = [apiVersionOf(rt), rt.plural, req.namespace ?? '', req.labelSelector ?? '', req.fieldSelector ?? ''].join('|');
    let inf = this.informers.get(key) as Informer<T> | undefined;
    if (!inf) {
      inf = new Informer<T>({
        ...this.opts.informerDefaults,
        source: apiListWatch<T>(this.opts.clients, rt, req),
        resyncPeriodMs: this.opts.resyncPeriodMs ?? 600_000,
        clock: this.opts.clock ?? realClock,
        logger: this.opts.logger ?? silentLogger,
      });
      this.informers.set(key, inf as unknown as Informer<KubeObject>);
      if (this.started) inf.start();
    }
    for (const [name, fn] of Object.entries(req.indexers ?? {})) {
      if (!inf.store.hasIndexer(name)) inf.store.addIndexer(name, fn);
    }
    return inf;
  }

  /** Starts every informer created so far (and any created later). */
  start(): void {
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
  }

  /** Resolves true once every informer has synced; false if `signal` aborts first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
