// The metrics registry. Every component takes a `Registry` as a dependency and registers its
// metrics there (never on prom-client's global registry), so tests get a fresh one each and the
// operator exposes one at /metrics (served elsewhere).
import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';

export type RegistryOptions = {
  /** Node.js process metrics (CPU, memory, event-loop lag, GC, handles). Default true. */
  processMetrics?: boolean;
  /** Labels added to every series, e.g. `{ app: 'pinfi-operator' }`. */
  defaultLabels?: Record<string, string>;
};

export function createRegistry(opts: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Returns the metric called `name` from `registry`, creating it with `make` the first time. Lets
 * several controllers share one family (e.g. `controller_runtime_reconcile_total`) in a registry.
 */
export function registerOnce<M extends Metric>(registry: Registry, name: string, make: () => M): M {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as M;
  const metric = make();
  registry.registerMetric(metric);
  return metric;
}
