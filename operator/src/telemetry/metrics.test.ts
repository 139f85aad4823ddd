import { Counter } from 'prom-client';
import { createRegistry, registerOnce } from './metrics.js';
import { controllerMetrics } from '../kube/metrics.js';

test('a registry carries process metrics and default labels', async () => {
  const registry = createRegistry({ defaultLabels: { app: 'pinfi-operator' } });
  const text = await registry.metrics();
  expect(text).toMatch(/^process_cpu_user_seconds_total\{app="pinfi-operator"\}/m);
  expect(text).toMatch(/^nodejs_eventloop_lag_seconds/m);
});

test('registerOnce shares a family within a registry and not across registries', () => {
  const a = createRegistry({ processMetrics: false });
  const b = createRegistry({ processMetrics: false });
  const make = () => new Counter({ name: 'x_total', help: 'x', registers: [] });
  expect(registerOnce(a, 'x_total', make)).toBe(registerOnce(a, 'x_total', make));
  expect(registerOnce(a, 'x_total', make)).not.toBe(registerOnce(b, 'x_total', make));
});

test('controllers expose controller-runtime metric names, one family for all controllers', async () => {
  const registry = createRegistry({ processMetrics: false });
  const pools = controllerMetrics(registry, 'gpupool', 2);
  controllerMetrics(registry, 'computelease', 4);
  pools.reconciled('success', 0.02);
  pools.erred(false);
  pools.queue.added();
  pools.queue.depth(3);
  pools.queue.retried();
  pools.queue.queueLatency(0.5);
  pools.queue.workDuration(0.01);
  const text = await registry.metrics();
  for (const line of [
    'controller_runtime_reconcile_total{controller="gpupool",result="success"} 1',
    'controller_runtime_reconcile_total{controller="computelease",result="error"} 0',
    'controller_runtime_reconcile_errors_total{controller="gpupool"} 1',
    'controller_runtime_reconcile_time_seconds_count{controller="gpupool"} 1',
    'controller_runtime_max_concurrent_reconciles{controller="computelease"} 4',
    'workqueue_depth{name="gpupool",controller="gpupool"} 3',
    'workqueue_adds_total{name="gpupool",controller="gpupool"} 1',
    'workqueue_retries_total{name="gpupool",controller="gpupool"} 1',
    'workqueue_queue_duration_seconds_count{name="gpupool",controller="gpupool"} 1',
    'workqueue_work_duration_seconds_count{name="gpupool",controller="gpupool"} 1',
  ]) {
    expect(text).toContain(line);
  }
});
