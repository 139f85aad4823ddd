// A controller (controller-runtime's contract): informer events only enqueue keys; N workers take
// keys from a rate-limited work queue and call `reconcile(key)`, which re-reads what it needs and
// converges (level-triggered: no add/update/delete branches).
//   - resolves                      → forget (reset backoff)
//   - resolves { requeueAfterMs }   → forget, then add again after that delay
//   - throws                        → addRateLimited (per-key exponential backoff)
//   - throws a TerminalError        → forget, no retry; logged and counted
import type { Registry } from 'prom-client';
import { realClock, type Clock } from './clock.js';
import { isTerminal } from './errors.js';
import type { Informer } from './informer.js';
import { controllerMetrics, type ControllerMetrics, type ReconcileResultLabel } from './metrics.js';
import { defaultControllerRateLimiter, type ControllerRateLimiterOptions, type RateLimiter } from './rate-limiter.js';
import { keyOf, objectKey, type KubeObject } from './resources.js';
import { WorkQueue } from './workqueue.js';
import { errorFields, silentLogger, type Logger } from '../telemetry/logger.js';

export type ReconcileResult = { requeueAfterMs?: number } | void;

export type ReconcileContext = {
  /** Bound to { controller, key }. */
  logger: Logger;
  /** Aborted when the controller stops (or leadership is lost): stop long waits. */
  signal: AbortSignal;
};

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult>;

export type ControllerOptions = {
  /** Names the controller in logs and metrics (`controller` label). */
  name: string;
  reconcile: Reconciler;
  /** Concurrent reconciles (distinct keys). Default 1. */
  workers?: number;
  registry: Registry;
  logger?: Logger;
  clock?: Clock;
  /** A rate limiter, or options for the default one (5 ms → 1000 s per key, 10 qps / burst 100). */
  rateLimiter?: RateLimiter | ControllerRateLimiterOptions;
};

export type ChangeEvent<T> = { type: 'add'; obj: T } | { type: 'update'; old: T; obj: T } | { type: 'delete'; obj: T };

export type WatchOptions<T> = {
  /** Keys to enqueue for an event's object. Default: the object's own `namespace/name`. */
  map?: (obj: T) => readonly string[];
  /** Return false to drop an event (see `generationChanged`). */
  predicate?: (event: ChangeEvent<T>) => boolean;
  /**
   * Enqueue this long after the event instead of at once: a burst of events for one key (every
   * lease of a pool changing) becomes one reconcile. Default 0.
   */
  delayMs?: number;
};

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconcile: Reconciler;
  private readonly workers: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: ControllerMetrics;
  private readonly informers: Informer<KubeObject>[] = [];
  private running = false;

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.reconcile = opts.reconcile;
    this.workers = opts.workers ?? 1;
    if (!Number.isInteger(this.workers) || this.workers < 1) throw new Error(`controller ${opts.name}: workers must be a positive integer`);
    this.clock = opts.clock ?? realClock;
    this.logger = (opts.logger ?? silentLogger).child({ controller: opts.name });
    this.metrics = controllerMetrics(opts.registry, opts.name, this.workers);
    const limiter =
      opts.rateLimiter && 'when' in opts.rateLimiter ? opts.rateLimiter : defaultControllerRateLimiter(this.clock, opts.rateLimiter);
    this.queue = new WorkQueue({ clock: this.clock, rateLimiter: limiter, metrics: this.metrics.queue });
  }

  /**
   * Enqueues keys for every event of `informer` (its own objects, or via `map` the keys of related
   * objects: a Node event → pool keys, a Pod event → lease keys). Call before `start`.
   */
  watch<T extends KubeObject>(informer: Informer<T>, opts: WatchOptions<T> = {}): this {
    const map = opts.map ?? ((obj: T) => [objectKey(obj)]);
    const pass = opts.predicate ?? (() => true);
    const delay = opts.delayMs ?? 0;
    const add = delay > 0 ? (key: string) => this.queue.addAfter(key, delay) : (key: string) => this.queue.add(key);
    const enqueue = (ev: ChangeEvent<T>): void => {
      if (!pass(ev)) return;
      for (const key of map(ev.obj)) add(key);
      // An update that moves an object between keys (a pod relabelled to another lease) must
      // also wake the old key.
      if (ev.type === 'update' && opts.map) for (const key of map(ev.old)) add(key);
    };
    informer.addEventHandler({
      add: (obj) => enqueue({ type: 'add', obj }),
      update: (old, obj) => enqueue({ type: 'update', old, obj }),
      delete: (obj) => enqueue({ type: 'delete', obj }),
    });
    this.informers.push(informer as unknown as Informer<KubeObject>);
    return this;
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  /**
   * Waits for the watched informers' caches (they are started by their factory), runs the
   * workers until `signal` aborts, then lets in-flight reconciles finish and resolves.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`controller ${this.name} already started`);
    this.running = true;
    try {
      this.logger.info('waiting for caches to sync', { informers: this.informers.length });
      const synced = await Promise.all(this.informers.map((i) => i.waitForSync(signal)));
      if (signal.aborted || !synced.every(Boolean)) {
        this.queue.shutdown();
        return;
      }
      this.logger.info('starting workers', { workers: this.workers });
      const workers = Array.from({ length: this.workers }, () => this.worker(signal));
      const stopped = new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await stopped;
      this.logger.info('stopping, waiting for in-flight reconciles');
      await this.queue.shutDownWithDrain();
      await Promise.all(workers);
      this.logger.info('stopped');
    } finally {
      this.running = false;
    }
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      // After a stop, queued keys are handed out once more: let them go without reconciling.
      if (signal.aborted) {
        this.queue.done(key);
        continue;
      }
      this.metrics.activeWorkers(1);
      try {
        await this.processKey(key, signal);
      } finally {
        this.metrics.activeWorkers(-1);
        this.queue.done(key);
      }
    }
  }

  private async processKey(key: string, signal: AbortSignal): Promise<void> {
    const logger = this.logger.child({ key });
    const started = this.clock.now();
    let result: ReconcileResultLabel;
    try {
      const res = await this.reconcile(key, { logger, signal });
      this.queue.forget(key);
      const after = res ? res.requeueAfterMs : undefined;
      if (after !== undefined && after > 0) {
        this.queue.addAfter(key, after);
        result = 'requeue_after';
      } else if (after !== undefined) {
        this.queue.add(key);
        result = 'requeue';
      } else {
        result = 'success';
      }
    } catch (err) {
      result = 'error';
      const terminal = isTerminal(err);
      this.metrics.erred(terminal);
      if (terminal) {
        this.queue.forget(key);
        logger.error('reconcile failed permanently, not retrying', { err: errorFields(err) });
      } else {
        this.queue.addRateLimited(key);
        logger.error('reconcile failed, retrying with backoff', { err: errorFields(err), retries: this.queue.numRequeues(key) });
      }
    }
    this.metrics.reconciled(result, (this.clock.now() - started) / 1000);
  }
}

/** Predicate: only updates that changed `metadata.generation` (spec changes, deletion) pass; adds and deletes pass. */
export function generationChanged<T extends KubeObject>(ev: ChangeEvent<T>): boolean {
  return ev.type !== 'update' || ev.old.metadata?.generation !== ev.obj.metadata?.generation;
}

/** Map: the keys of an object's owners of `kind` (same namespace), e.g. a Pod → its ComputeLease. */
export function ownerKeys<T extends KubeObject>(kind: string, apiGroup?: string): (obj: T) => string[] {
  return (obj) =>
    (obj.metadata?.ownerReferences ?? [])
      .filter((o) => o.kind === kind && (apiGroup === undefined || o.apiVersion.split('/')[0] === apiGroup))
      .map((o) => keyOf(obj.metadata?.namespace, o.name));
}

/**
 * Map: the key named by a label, e.g. `pinfi.io/lease=a` on a Pod in `ns` → `ns/a`
 * (`namespaced: false` for cluster-scoped targets → `a`).
 */
export function labelKey<T extends KubeObject>(label: string, opts: { namespaced?: boolean } = {}): (obj: T) => string[] {
  return (obj) => {
    const v = obj.metadata?.labels?.[label];
    if (!v) return [];
    return [(opts.namespaced ?? true) ? keyOf(obj.metadata?.namespace, v) : v];
  };
}
