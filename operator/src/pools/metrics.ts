// Pool metrics: what a dashboard and an alert on scarcity need.
import { Counter, Gauge, type Registry } from 'prom-client';
import { registerOnce } from '../telemetry/metrics.js';

export type PoolMetrics = {
  spotPrice: Gauge<'pool'>;
  utilization: Gauge<'pool'>;
  free: Gauge<'pool'>;
  allocatable: Gauge<'pool'>;
  leased: Gauge<'pool'>;
  lent: Gauge<'pool'>;
  statusWrites: Counter<'kind'>;
};

export function poolMetrics(registry: Registry): PoolMetrics {
  const g = (name: string, help: string) =>
    registerOnce(registry, name, () => new Gauge({ name, help, labelNames: ['pool'] as const, registers: [] }));
  return {
    spotPrice: g('pinfi_pool_spot_price', 'Spot price per GPU-hour, token base units'),
    utilization: g('pinfi_pool_utilization_ratio', 'Utilisation (N - F) / N of the pool'),
    free: g('pinfi_pool_free_gpus', 'Free GPUs of the pool (F)'),
    allocatable: g('pinfi_pool_allocatable_gpus', 'Allocatable GPUs of Ready, schedulable member nodes (N)'),
    leased: g('pinfi_pool_leased_gpus', 'GPUs held by active leases'),
    lent: g('pinfi_pool_lent_gpus', 'GPUs lent to pre-emptible leases at the floor (counted as free on the curve)'),
    statusWrites: registerOnce(
      registry,
      'pinfi_status_writes_total',
      () => new Counter({ name: 'pinfi_status_writes_total', help: 'Status writes to the API server, by kind', labelNames: ['kind'] as const, registers: [] }),
    ),
  };
}

export function forgetPool(m: PoolMetrics, pool: string): void {
  for (const g of [m.spotPrice, m.utilization, m.free, m.allocatable, m.leased, m.lent]) g.remove({ pool });
}
