// Controller and work-queue metrics with controller-runtime's names and labels, so its dashboards
// and alerts apply. Families are registered once per Registry and shared by every controller.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registerOnce } from '../telemetry/metrics.js';
import type { WorkQueueMetrics } from './workqueue.js';

export const RECONCILE_RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;
export type ReconcileResultLabel = (typeof RECONCILE_RESULTS)[number];

/** controller-runtime's reconcile-time buckets (5 ms … 60 s). */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2,
  2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's work-queue buckets: 10^-8 … 10^1 s. */
const QUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

export type ControllerMetrics = {
  reconciled(result: ReconcileResultLabel, seconds: number): void;
  erred(terminal: boolean): void;
  activeWorkers(delta: number): void;
  queue: WorkQueueMetrics;
};

export function controllerMetrics(registry: Registry, controller: string, workers: number): ControllerMetrics {
  const reconcileTotal = registerOnce(registry, 'controller_runtime_reconcile_total', () =>
    new Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller', labelNames: ['controller', 'result'], registers: [] }),
  );
  const reconcileErrors = registerOnce(registry, 'controller_runtime_reconcile_errors_total', () =>
    new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller', labelNames: ['controller'], registers: [] }),
  );
  const terminalErrors = registerOnce(registry, 'controller_runtime_terminal_reconcile_errors_total', () =>
    new Counter({ name: 'controller_runtime_terminal_reconcile_errors_total', help: 'Total number of terminal reconciliation errors per controller', labelNames: ['controller'], registers: [] }),
  );
  const reconcileTime = registerOnce(registry, 'controller_runtime_reconcile_time_seconds', () =>
    new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Length of time per reconciliation per controller', labelNames: ['controller'], buckets: RECONCILE_BUCKETS, registers: [] }),
  );
  const maxConcurrent = registerOnce(registry, 'controller_runtime_max_concurrent_reconciles', () =>
    new Gauge({ name: 'controller_runtime_max_concurrent_reconciles', help: 'Maximum number of concurrent reconciles per controller', labelNames: ['controller'], registers: [] }),
  );
  const active = registerOnce(registry, 'controller_runtime_active_workers', () =>
    new Gauge({ name: 'controller_runtime_active_workers', help: 'Number of currently used workers per controller', labelNames: ['controller'], registers: [] }),
  );
  const depth = registerOnce(registry, 'workqueue_depth', () =>
    new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name', 'controller'], registers: [] }),
  );
  const adds = registerOnce(registry, 'workqueue_adds_total', () =>
    new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name', 'controller'], registers: [] }),
  );
  const retries = registerOnce(registry, 'workqueue_retries_total', () =>
    new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name', 'controller'], registers: [] }),
  );
  const queueDuration = registerOnce(registry, 'workqueue_queue_duration_seconds', () =>
    new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested', labelNames: ['name', 'controller'], buckets: QUEUE_BUCKETS, registers: [] }),
  );
  const workDuration = registerOnce(registry, 'workqueue_work_duration_seconds', () =>
    new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes', labelNames: ['name', 'controller'], buckets: QUEUE_BUCKETS, registers: [] }),
  );

  const c = { controller };
  const q = { name: controller, controller };
  maxConcurrent.set(c, workers);
  active.set(c, 0);
  depth.set(q, 0);
  // Zero-initialise the series so rates exist before the first event.
  for (const result of RECONCILE_RESULTS) reconcileTotal.inc({ ...c, result }, 0);
  reconcileErrors.inc(c, 0);
  terminalErrors.inc(c, 0);
  adds.inc(q, 0);
  retries.inc(q, 0);

  return {
    reconciled: (result, seconds) => {
      reconcileTotal.inc({ ...c, result });
      reconcileTime.observe(c, seconds);
    },
    erred: (terminal) => {
      reconcileErrors.inc(c);
      if (terminal) terminalErrors.inc(c);
    },
    activeWorkers: (delta) => active.inc(c, delta),
    queue: {
      added: () => adds.inc(q),
      depth: (n) => depth.set(q, n),
      retried: () => retries.inc(q),
      queueLatency: (s) => queueDuration.observe(q, s),
      workDuration: (s) => workDuration.observe(q, s),
    },
  };
}
