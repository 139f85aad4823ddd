import { Registry } from 'prom-client';
import { Controller, generationChanged, labelKey, ownerKeys, type ReconcileResult } from './controller.js';
import { TerminalError } from './errors.js';
import { FakeClock, flushPromises } from './fake-clock.js';
import { Informer } from './informer.js';
import type { ListWatchSource, WatchEvent } from './listwatch.js';
import type { KubeObject } from './resources.js';
import { memoryLogger } from '../telemetry/logger.js';

type Behaviour = (key: string, attempt: number) => Promise<ReconcileResult>;

function setup(behaviour: Behaviour, workers = 1) {
  const clock = new FakeClock();
  const registry = new Registry();
  const logger = memoryLogger();
  const calls: { key: string; at: number }[] = [];
  const attempts = new Map<string, number>();
  const controller = new Controller({
    name: 'test',
    registry,
    logger,
    clock,
    workers,
    rateLimiter: { baseDelayMs: 1000, maxDelayMs: 8000, qps: 1000, burst: 1000 },
    reconcile: async (key) => {
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      calls.push({ key, at: clock.now() - t0 });
      return behaviour(key, n);
    },
  });
  const t0 = clock.now();
  const abort = new AbortController();
  const running = controller.start(abort.signal);
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = await registry.getSingleMetric(name)?.get();
    return m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
  };
  return { clock, controller, calls, logger, metric, stop: async () => { abort.abort(); await running; } };
}

describe('Controller', () => {
  test('success forgets the key and counts a success', async () => {
    const { controller, calls, clock, metric, stop } = setup(async () => undefined);
    await flushPromises();
    controller.enqueue('ns/a');
    await clock.advance(10);
    expect(calls).toEqual([{ key: 'ns/a', at: 0 }]);
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
    expect(await metric('controller_runtime_reconcile_total', { controller: 'test', result: 'success' })).toBe(1);
    await stop();
  });

  test('errors retry with exponential backoff until success, which resets it', async () => {
    const { controller, calls, clock, metric, stop, logger } = setup(async (_k, n) => {
      if (n <= 3) throw new Error(`attempt ${n} failed`);
    });
    await flushPromises();
    controller.enqueue('ns/a');
    await clock.advance(20_000);
    expect(calls.map((c) => c.at)).toEqual([0, 1000, 3000, 7000]); // +1 s, +2 s, +4 s
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
    expect(await metric('controller_runtime_reconcile_errors_total', { controller: 'test' })).toBe(3);
    expect(await metric('controller_runtime_reconcile_total', { result: 'error' })).toBe(3);
    expect(await metric('workqueue_retries_total', { name: 'test' })).toBe(3);
    expect(logger.lines.filter((l) => l.msg === 'reconcile failed, retrying with backoff')).toHaveLength(3);
    expect(logger.lines.find((l) => l.msg === 'reconcile failed, retrying with backoff')).toMatchObject({ controller: 'test', key: 'ns/a' });
    await stop();
  });

  test('a TerminalError is not retried', async () => {
    const { controller, calls, clock, metric, logger, stop } = setup(async () => {
      throw new Error('wrapped', { cause: new TerminalError('spec.gpus must be positive') });
    });
    await flushPromises();
    controller.enqueue('ns/a');
    await clock.advance(60_000);
    expect(calls).toHaveLength(1);
    expect(await metric('controller_runtime_terminal_reconcile_errors_total')).toBe(1);
    expect(logger.lines.some((l) => l.msg === 'reconcile failed permanently, not retrying')).toBe(true);
    await stop();
  });

  test('requeueAfterMs reconciles again after the delay', async () => {
    const { controller, calls, clock, metric, stop } = setup(async (_k, n) => (n < 3 ? { requeueAfterMs: 30_000 } : undefined));
    await flushPromises();
    controller.enqueue('ns/a');
    await clock.advance(100_000);
    expect(calls.map((c) => c.at)).toEqual([0, 30_000, 60_000]);
    expect(await metric('controller_runtime_reconcile_total', { result: 'requeue_after' })).toBe(2);
    await stop();
  });

  test('one reconcile per key at a time, different keys in parallel', async () => {
    const gates = new Map<string, () => void>();
    let running = 0;
    let maxRunning = 0;
    const { controller, calls, stop } = setup(async (key) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((r) => gates.set(`${key}#${calls.filter((c) => c.key === key).length}`, r));
      running--;
    }, 4);
    await flushPromises();
    controller.enqueue('a');
    controller.enqueue('b');
    await flushPromises();
    controller.enqueue('a'); // while a is in flight
    controller.enqueue('a');
    await flushPromises();
    expect(calls.map((c) => c.key).sort()).toEqual(['a', 'b']);
    gates.get('a#1')?.();
    await flushPromises();
    expect(calls.map((c) => c.key)).toEqual(['a', 'b', 'a']); // re-run once after done
    gates.get('b#1')?.();
    gates.get('a#2')?.();
    await flushPromises();
    expect(maxRunning).toBe(2);
    await stop();
  });

  test('stop waits for the reconcile in flight and skips queued keys', async () => {
    let release: () => void = () => undefined;
    const { controller, calls, stop } = setup(async () => new Promise<void>((r) => (release = r)));
    await flushPromises();
    controller.enqueue('a');
    controller.enqueue('b');
    await flushPromises();
    let stopped = false;
    const stopping = stop().then(() => (stopped = true));
    await flushPromises();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(calls.map((c) => c.key)).toEqual(['a']);
  });
});

describe('Controller.watch', () => {
  /** A source that lists the given objects and then streams what the test pushes. */
  function source(items: KubeObject[]) {
    let push: (e: WatchEvent<KubeObject>) => void = () => undefined;
    const src: ListWatchSource<KubeObject> = {
      description: 'fake',
      list: async () => ({ metadata: { resourceVersion: '1' }, items }),
      watch: (opts, onEvent) =>
        new Promise((resolve) => {
          push = onEvent;
          opts.signal.addEventListener('abort', () => resolve(), { once: true });
        }),
    };
    return { src, push: (e: WatchEvent<KubeObject>) => push(e) };
  }

  test('events enqueue mapped keys, old and new, after the cache synced', async () => {
    const pod = (name: string, lease: string, rv: string): KubeObject => ({
      metadata: { name, namespace: 'ns', resourceVersion: rv, labels: { 'pinfi.io/lease': lease } },
    });
    const { src, push } = source([pod('p1', 'l1', '1')]);
    const clock = new FakeClock();
    const informer = new Informer({ source: src, clock });
    const reconciled: string[] = [];
    const controller = new Controller({
      name: 'leases',
      registry: new Registry(),
      clock,
      reconcile: async (key) => void reconciled.push(key),
    }).watch(informer, { map: labelKey('pinfi.io/lease') });
    const abort = new AbortController();
    const running = controller.start(abort.signal);
    informer.start();
    await clock.advance(10);
    expect(reconciled).toEqual(['ns/l1']);
    push({ type: 'MODIFIED', object: pod('p1', 'l2', '2') }); // relabelled: both leases
    await clock.advance(10);
    expect(reconciled.slice(1).sort()).toEqual(['ns/l1', 'ns/l2']);
    abort.abort();
    await running;
    await informer.stop();
  });

  test('with delayMs, a burst of events for one key becomes one reconcile after the delay', async () => {
    const pod = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv, labels: { 'pinfi.io/lease': 'l1' } } });
    const { src, push } = source([]);
    const clock = new FakeClock();
    const informer = new Informer({ source: src, clock });
    const reconciled: { key: string; at: number }[] = [];
    const t0 = clock.now();
    const controller = new Controller({
      name: 'pools',
      registry: new Registry(),
      clock,
      reconcile: async (key) => void reconciled.push({ key, at: clock.now() - t0 }),
    }).watch(informer, { map: labelKey('pinfi.io/lease'), delayMs: 200 });
    const abort = new AbortController();
    const running = controller.start(abort.signal);
    informer.start();
    await clock.advance(10);
    for (let i = 0; i < 20; i++) push({ type: 'ADDED', object: pod(`p${i}`, String(i + 2)) });
    await clock.advance(150);
    expect(reconciled).toEqual([]);
    await clock.advance(100);
    expect(reconciled.map((r) => r.key)).toEqual(['ns/l1']);
    expect(reconciled[0]?.at).toBeGreaterThanOrEqual(200);
    abort.abort();
    await running;
    await informer.stop();
  });

  test.each([
    { name: 'generation changed', old: 1, now: 2, want: true },
    { name: 'status-only update', old: 1, now: 1, want: false },
  ])('generationChanged: $name', ({ old, now, want }) => {
    const o = (g: number): KubeObject => ({ metadata: { name: 'x', generation: g } });
    expect(generationChanged({ type: 'update', old: o(old), obj: o(now) })).toBe(want);
    expect(generationChanged({ type: 'add', obj: o(now) })).toBe(true);
  });

  test('ownerKeys maps to owners of a kind in the same namespace', () => {
    const obj: KubeObject = {
      metadata: {
        name: 'p',
        namespace: 'ns',
        ownerReferences: [
          { apiVersion: 'pinfi.io/v1alpha1', kind: 'ComputeLease', name: 'l1', uid: 'u1' },
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u2' },
        ],
      },
    };
    expect(ownerKeys('ComputeLease', 'pinfi.io')(obj)).toEqual(['ns/l1']);
    expect(ownerKeys('ComputeLease', 'other.io')(obj)).toEqual([]);
  });
});
