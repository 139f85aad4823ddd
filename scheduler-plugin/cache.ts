// The SchedulingView over informer caches: leases and pools as cached, GPUs in use from the lease
// pods' informer (kept incrementally by LeaseUsage). Reads only; the informers fill it.
import type { V1Pod } from '@kubernetes/client-node';
import type { ComputeLease, GpuPool } from '../operator/src/api/types.js';
import type { Clock } from '../operator/src/kube/clock.js';
import type { Informer } from '../operator/src/kube/informer.js';
import type { SchedulingView } from './filter.js';
import { LeaseUsage } from './usage.js';

export const DEFAULT_RESOURCE = 'nvidia.com/gpu';

export class CacheView implements SchedulingView {
  readonly usage: LeaseUsage;

  constructor(
    private readonly leases: Informer<ComputeLease>,
    private readonly pools: Informer<GpuPool>,
    leasePods: Informer<V1Pod>,
    private readonly clock: Clock,
    opts: { placementTtlMs?: number } = {},
  ) {
    this.usage = new LeaseUsage({ now: () => clock.now(), ...(opts.placementTtlMs === undefined ? {} : { ttlMs: opts.placementTtlMs }) });
    leasePods.addEventHandler({
      add: (p) => this.usage.upsert(p),
      update: (_old, p) => this.usage.upsert(p),
      delete: (p) => this.usage.remove(p),
    });
  }

  lease(namespace: string, name: string): ComputeLease | undefined {
    return this.leases.store.getByName(name, namespace);
  }

  resourceOf(pool: string): string {
    return this.pools.store.getByName(pool)?.spec?.resourceName ?? DEFAULT_RESOURCE;
  }

  used(leaseKey: string, node: string, resource: string): number {
    return this.usage.used(leaseKey, node, resource);
  }

  now(): number {
    return this.clock.now();
  }
}
