// Collects settlements that come due close together and hands them over as one batch: when `maxSize` are
// queued, or `windowMs` after the first one arrived, whichever comes first. Each caller gets its own result.
// Timers are injected so tests drive the window without sleeping.

export type BatchTimers = {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
};

export const realTimers: BatchTimers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type BatchOptions = {
  /** Most items in one batch (settleMany's array length). */
  readonly maxSize: number;
  /** Longest an item waits for company before its batch goes out. */
  readonly windowMs: number;
};

/** Per-item outcome of a batch: a value, or an error for that item alone. */
export type ItemResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

type Pending<T, R> = { item: T; resolve: (r: R) => void; reject: (e: unknown) => void };

export class Batcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private timer: unknown;
  private openedAt = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly opts: BatchOptions,
    private readonly flushFn: (items: T[]) => Promise<ItemResult<R>[]>,
    private readonly timers: BatchTimers = realTimers,
    private readonly clock: () => number = Date.now,
  ) {
    if (opts.maxSize < 1) throw new Error('batch maxSize must be at least 1');
  }

  /** Queues an item; resolves when its batch has gone out (and was confirmed, for the chain client). */
  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.opts.maxSize) {
        this.flushNow();
      } else if (this.queue.length === 1) {
        this.openedAt = this.clock();
        this.timer = this.timers.set(() => this.flushNow(), this.opts.windowMs);
      }
    });
  }

  /** How many items wait for their batch, and when the window closes (ms from now), for status reporting. */
  pending(): { count: number; closesInMs: number | undefined } {
    if (this.queue.length === 0) return { count: 0, closesInMs: undefined };
    return { count: this.queue.length, closesInMs: Math.max(0, this.openedAt + this.opts.windowMs - this.clock()) };
  }

  /** Sends what is queued now and waits for every batch in flight. */
  async flush(): Promise<void> {
    this.flushNow();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private flushNow(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxSize);
      const run = this.run(batch);
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
  }

  private async run(batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await this.flushFn(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        const r = results[i];
        if (!r) p.reject(new Error('batch returned no result for this item'));
        else if (r.ok) p.resolve(r.value);
        else p.reject(r.error);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
