import { FakeClock, flushPromises } from './fake-clock.js';
import { ItemExponentialRateLimiter, MaxOfRateLimiter, TokenBucketRateLimiter, defaultControllerRateLimiter } from './rate-limiter.js';
import { WorkQueue, type WorkQueueMetrics } from './workqueue.js';

function queue(opts: { baseDelayMs?: number; maxDelayMs?: number; qps?: number; burst?: number } = {}) {
  const clock = new FakeClock();
  const counts = { added: 0, retried: 0, depth: 0, latencies: [] as number[], durations: [] as number[] };
  const metrics: WorkQueueMetrics = {
    added: () => counts.added++,
    retried: () => counts.retried++,
    depth: (n) => (counts.depth = n),
    queueLatency: (s) => counts.latencies.push(s),
    workDuration: (s) => counts.durations.push(s),
  };
  const q = new WorkQueue({ clock, rateLimiter: defaultControllerRateLimiter(clock, { qps: 1000, burst: 1000, ...opts }), metrics });
  return { clock, q, counts };
}

/** Takes every key that is ready now (without waiting). */
async function drainReady(q: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.len() > 0) {
    const k = await q.get();
    if (k !== undefined) out.push(k);
  }
  return out;
}

describe('WorkQueue: dedupe and in-flight', () => {
  test.each([
    { name: 'a key added twice while waiting is queued once', adds: ['a', 'a', 'b', 'a'], want: ['a', 'b'] },
    { name: 'order is first-add order', adds: ['c', 'b', 'a', 'b'], want: ['c', 'b', 'a'] },
    { name: 'no adds, nothing queued', adds: [], want: [] },
  ])('$name', async ({ adds, want }) => {
    const { q, counts } = queue();
    for (const k of adds) q.add(k);
    expect(q.len()).toBe(want.length);
    expect(counts.depth).toBe(want.length);
    expect(await drainReady(q)).toEqual(want);
    expect(counts.added).toBe(want.length);
  });

  test('a key added while being processed is handed out again only after done', async () => {
    const { q } = queue();
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a'); // during processing
    q.add('a'); // merged
    expect(q.len()).toBe(0); // not handed to a second worker
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await flushPromises();
    expect(second).toBeUndefined();
    q.done('a');
    await flushPromises();
    expect(second).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
    expect(q.inFlight()).toBe(0);
  });

  test('a waiting worker gets the next key as soon as it is added', async () => {
    const { q } = queue();
    const got = q.get();
    q.add('x');
    await expect(got).resolves.toBe('x');
  });

  test('queue and work durations are measured on the clock', async () => {
    const { q, clock, counts } = queue();
    q.add('a');
    await clock.advance(1500);
    const k = await q.get();
    await clock.advance(250);
    q.done(k!);
    expect(counts.latencies).toEqual([1.5]);
    expect(counts.durations).toEqual([0.25]);
  });
});

describe('WorkQueue: delays and backoff', () => {
  test('addAfter queues the key when the delay has passed, the earliest delay wins', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 1000);
    q.addAfter('a', 300); // earlier: replaces
    q.addAfter('a', 5000); // later: ignored
    await clock.advance(299);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(await drainReady(q)).toEqual(['a']);
    await clock.advance(10_000);
    expect(q.len()).toBe(0); // the replaced and ignored delays left no timers behind
    expect(clock.pendingTimers()).toBe(0);
  });

  test('addAfter with 0 adds now', async () => {
    const { q } = queue();
    q.addAfter('a', 0);
    expect(q.len()).toBe(1);
  });

  test.each([
    { base: 5, max: 1_000_000, failures: 6, want: [5, 10, 20, 40, 80, 160] },
    { base: 100, max: 1000, failures: 6, want: [100, 200, 400, 800, 1000, 1000] },
    { base: 1000, max: 300_000, failures: 12, want: [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 300000] },
  ])('per-item backoff grows from $base ms and is capped at $max ms', ({ base, max, failures, want }) => {
    const limiter = new ItemExponentialRateLimiter({ baseDelayMs: base, maxDelayMs: max });
    const got = Array.from({ length: failures }, () => limiter.when('k'));
    expect(got).toEqual(want);
    expect(limiter.numRequeues('k')).toBe(failures);
    expect(limiter.when('other')).toBe(base); // per key
  });

  test('backoff stays finite after very many failures', () => {
    const limiter = new ItemExponentialRateLimiter({ baseDelayMs: 5, maxDelayMs: 60_000 });
    for (let i = 0; i < 2000; i++) limiter.when('k');
    expect(limiter.when('k')).toBe(60_000);
  });

  test('addRateLimited delays by the backoff; forget resets it', async () => {
    const { q, clock, counts } = queue({ baseDelayMs: 100, maxDelayMs: 10_000 });
    const retryAt: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = clock.now();
      q.addRateLimited('a');
      while (q.len() === 0) await clock.advance(10);
      retryAt.push(clock.now() - start);
      await q.get();
      q.done('a');
    }
    expect(retryAt).toEqual([100, 200, 400, 800]);
    expect(q.numRequeues('a')).toBe(4);
    expect(counts.retried).toBe(4);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    q.addRateLimited('a');
    await clock.advance(100);
    expect(q.len()).toBe(1);
  });

  test('the token bucket spaces retries across keys once the burst is used', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter(clock, { qps: 10, burst: 3 });
    const delays = ['a', 'b', 'c', 'd', 'e'].map((k) => bucket.when(k));
    expect(delays).toEqual([0, 0, 0, 100, 200]);
  });

  test('the token bucket refills with time', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter(clock, { qps: 10, burst: 2 });
    expect([bucket.when('a'), bucket.when('b'), bucket.when('c')]).toEqual([0, 0, 100]);
    await clock.advance(1000); // refills to the burst, not beyond
    expect([bucket.when('a'), bucket.when('b'), bucket.when('c')]).toEqual([0, 0, 100]);
  });

  test('the default limiter takes the larger of backoff and bucket', () => {
    const clock = new FakeClock();
    const limiter = new MaxOfRateLimiter(
      new ItemExponentialRateLimiter({ baseDelayMs: 5, maxDelayMs: 1000 }),
      new TokenBucketRateLimiter(clock, { qps: 1, burst: 1 }),
    );
    expect(limiter.when('a')).toBe(5); // bucket has a token; backoff 5 ms
    expect(limiter.when('b')).toBe(1000); // bucket empty: 1 s wait beats 5 ms backoff
    expect(limiter.numRequeues('a')).toBe(1);
  });

  test.each([
    { baseDelayMs: 0, maxDelayMs: 10 },
    { baseDelayMs: 10, maxDelayMs: 5 },
  ])('invalid backoff %o is refused', (opts) => {
    expect(() => new ItemExponentialRateLimiter(opts)).toThrow(/backoff/);
  });
});

describe('WorkQueue: shutdown', () => {
  test('shutdown refuses adds, drops delayed keys, hands out what was queued, then ends getters', async () => {
    const { q, clock } = queue();
    q.add('a');
    q.addAfter('later', 1000);
    q.shutdown();
    q.add('b');
    q.addRateLimited('c');
    expect(clock.pendingTimers()).toBe(0);
    await expect(q.get()).resolves.toBe('a');
    await expect(q.get()).resolves.toBeUndefined();
    await clock.advance(5000);
    expect(q.len()).toBe(0);
  });

  test('idle workers are released by shutdown', async () => {
    const { q } = queue();
    const waiting = [q.get(), q.get()];
    q.shutdown();
    await expect(Promise.all(waiting)).resolves.toEqual([undefined, undefined]);
  });

  test('shutDownWithDrain waits for keys in process', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    const a = await q.get();
    const b = await q.get();
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    q.done(a!);
    await flushPromises();
    expect(drained).toBe(false);
    q.done(b!);
    await drain;
    expect(drained).toBe(true);
  });

  test('shutDownWithDrain resolves at once when nothing is in process', async () => {
    const { q } = queue();
    await expect(q.shutDownWithDrain()).resolves.toBeUndefined();
  });
});
