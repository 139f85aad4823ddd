// Retry delays for the work queue, as in client-go's workqueue.DefaultControllerRateLimiter: the
// larger of a per-item exponential backoff and an overall token bucket.
import type { Clock } from './clock.js';

export interface RateLimiter {
  /** Delay before `key` may be retried; records one more failure of `key`. */
  when(key: string): number;
  /** Clears the failure history of `key` (after a success). */
  forget(key: string): void;
  /** Failures of `key` since the last `forget`. */
  numRequeues(key: string): number;
}

export type BackoffOptions = {
  /** Delay after the first failure. Default 5 ms (client-go). */
  baseDelayMs?: number;
  /** Upper bound of the per-item delay. Default 1000 s (client-go). */
  maxDelayMs?: number;
};

/** base · 2^failures, capped at max; per key. */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(opts: BackoffOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    if (!(this.baseDelayMs > 0) || !(this.maxDelayMs >= this.baseDelayMs)) {
      throw new Error(`backoff needs 0 < baseDelayMs <= maxDelayMs, got ${this.baseDelayMs} and ${this.maxDelayMs}`);
    }
  }

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity for large n; min() keeps the cap.
    return Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

export type TokenBucketOptions = {
  /** Sustained retries per second over all keys. Default 10 (client-go). */
  qps?: number;
  /** Retries allowed at once before the rate applies. Default 100 (client-go). */
  burst?: number;
};

/**
 * An overall token bucket (golang.org/x/time/rate's Reserve): each `when` takes a token and returns
 * how long until that token exists. Tokens may go negative, so delays queue up fairly.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  private readonly qps: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;

  constructor(
    private readonly clock: Clock,
    opts: TokenBucketOptions = {},
  ) {
    this.qps = opts.qps ?? 10;
    this.burst = opts.burst ?? 100;
    if (!(this.qps > 0) || !(this.burst >= 1)) {
      throw new Error(`token bucket needs qps > 0 and burst >= 1, got ${this.qps} and ${this.burst}`);
    }
    this.tokens = this.burst;
    this.last = clock.now();
  }

  when(_key: string): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The largest delay of several limiters; `numRequeues` is the largest count. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must see the failure, so no short-circuit.
    return this.limiters.map((l) => l.when(key)).reduce((a, b) => Math.max(a, b), 0);
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiters.map((l) => l.numRequeues(key)).reduce((a, b) => Math.max(a, b), 0);
  }
}

export type ControllerRateLimiterOptions = BackoffOptions & TokenBucketOptions;

/** client-go's default: max(exponential 5 ms → 1000 s per item, bucket 10 qps / burst 100). */
export function defaultControllerRateLimiter(clock: Clock, opts: ControllerRateLimiterOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(new ItemExponentialRateLimiter(opts), new TokenBucketRateLimiter(clock, opts));
}
