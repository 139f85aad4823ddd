// A work queue with client-go semantics (k8s.io/client-go/util/workqueue):
//   - a key waiting in the queue is there once (adds while it waits are merged);
//   - a key is handed to one worker at a time: a key added while it is being processed waits
//     until `done(key)` and is then queued again;
//   - `addAfter` delays an add (the earliest of several pending delays wins);
//   - `addRateLimited` delays by the rate limiter (per-key exponential backoff and an overall
//     token bucket), `forget` resets the key's backoff after a success;
//   - `shutdown` refuses new adds but still hands out what is queued; `shutDownWithDrain` also
//     waits until every key handed out is done.
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

/** Hooks for the workqueue_* metrics (metrics.ts has the Prometheus implementation). */
export interface WorkQueueMetrics {
  added(): void;
  depth(n: number): void;
  retried(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  queueLatency(seconds: number): void;
  /** Seconds between a worker taking a key and calling done. */
  workDuration(seconds: number): void;
}

export type WorkQueueOptions = {
  clock?: Clock;
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
};

type Delayed = { at: number; handle: TimerHandle };

export class WorkQueue {
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics | undefined;

  /** Keys ready to be handed out, in order. */
  private readonly queue: string[] = [];
  /** Keys that need processing (queued, or re-added while processing); value = when added. */
  private readonly dirty = new Map<string, number>();
  /** Keys handed out and not yet done; value = when handed out. */
  private readonly processing = new Map<string, number>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private stopping = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.metrics = opts.metrics;
  }

  /** Queues `key` unless it is already waiting; ignored after shutdown. */
  add(key: string): void {
    if (this.stopping || this.dirty.has(key)) return;
    this.metrics?.added();
    this.dirty.set(key, this.clock.now());
    if (this.processing.has(key)) return; // re-queued by done()
    this.push(key);
  }

  /** Adds `key` after `ms` (now if ms <= 0). A pending delay for the key is kept if it is earlier. */
  addAfter(key: string, ms: number): void {
    if (this.stopping) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Adds `key` after the rate limiter's delay (a retry after a failure). */
  addRateLimited(key: string): void {
    if (this.stopping) return;
    this.metrics?.retried();
    this.addAfter(key, this.limiter.when(key));
  }

  /** Clears the backoff of `key` (call after a successful reconcile). */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  /** Failures of `key` since it was last forgotten. */
  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting until one is ready; undefined once the queue is shut down
   * and empty. The caller must call `done(key)` when finished.
   */
  get(): Promise<string | undefined> {
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    if (this.stopping) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile it goes back into the queue. */
  done(key: string): void {
    const started = this.processing.get(key);
    if (started === undefined) return;
    this.processing.delete(key);
    this.metrics?.workDuration((this.clock.now() - started) / 1000);
    if (this.dirty.has(key)) this.push(key);
    if (this.processing.size === 0) this.resolveDrain();
  }

  /** Keys waiting to be handed out (not counting keys in process or delayed). */
  len(): number {
    return this.queue.length;
  }

  /** Keys handed out and not yet done. */
  inFlight(): number {
    return this.processing.size;
  }

  shuttingDown(): boolean {
    return this.stopping;
  }

  /** Refuses new adds and drops pending delays; queued keys are still handed out. */
  shutdown(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const d of this.delayed.values()) this.clock.clearTimeout(d.handle);
    this.delayed.clear();
    this.release();
  }

  /** `shutdown`, then resolves once every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutdown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private push(key: string): void {
    this.queue.push(key);
    this.metrics?.depth(this.queue.length);
    this.release();
  }

  private take(): string | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    const now = this.clock.now();
    this.metrics?.depth(this.queue.length);
    this.metrics?.queueLatency((now - (this.dirty.get(key) ?? now)) / 1000);
    this.dirty.delete(key);
    this.processing.set(key, now);
    return key;
  }

  /** Hands queued keys to waiting workers; after shutdown, tells idle workers to stop. */
  private release(): void {
    while (this.waiters.length > 0 && this.queue.length > 0) {
      const key = this.take();
      const waiter = this.waiters.shift();
      if (key !== undefined && waiter) waiter(key);
    }
    if (this.stopping && this.queue.length === 0) {
      for (const w of this.waiters.splice(0)) w(undefined);
    }
  }

  private resolveDrain(): void {
    if (!this.stopping) return;
    for (const w of this.drainWaiters.splice(0)) w();
  }
}
