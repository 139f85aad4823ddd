// The settlement batcher: a batch goes out at maxSize or when the window closes, whichever is first; each caller
// gets its own item's outcome. Timers are driven by hand: nothing sleeps.
import { Batcher, type BatchTimers, type ItemResult } from '../../operator/src/settlement/batcher.js';

function manualTimers(): BatchTimers & { fire(): void; pending(): number } {
  const queue = new Map<number, () => void>();
  let next = 0;
  return {
    set: (fn) => { queue.set(next, fn); return next++; },
    clear: (h) => { queue.delete(h as number); },
    fire: () => { const fns = [...queue.values()]; queue.clear(); fns.forEach((f) => f()); },
    pending: () => queue.size,
  };
}

const flushed: number[][] = [];
const echo = async (items: number[]): Promise<ItemResult<string>[]> => {
  flushed.push(items);
  return items.map((i) => (i < 0 ? { ok: false, error: new Error(`bad ${i}`) } : { ok: true, value: `done ${i}` }));
};

beforeEach(() => (flushed.length = 0));

test.each([
  { name: 'fewer than maxSize wait for the window', maxSize: 3, items: [1, 2], fire: true, batches: [[1, 2]] },
  { name: 'maxSize goes out at once, without the window', maxSize: 2, items: [1, 2], fire: false, batches: [[1, 2]] },
  { name: 'more than maxSize: a full batch now, the rest at the window', maxSize: 2, items: [1, 2, 3], fire: true, batches: [[1, 2], [3]] },
])('$name', async ({ maxSize, items, fire, batches }) => {
  const timers = manualTimers();
  const b = new Batcher({ maxSize, windowMs: 1_000 }, echo, timers, () => 0);
  const results = items.map((i) => b.add(i));
  if (fire) timers.fire();
  expect(await Promise.all(results)).toEqual(items.map((i) => `done ${i}`));
  expect(flushed).toEqual(batches);
  expect(timers.pending()).toBe(0);
});

test('an item that fails fails alone', async () => {
  const timers = manualTimers();
  const b = new Batcher({ maxSize: 10, windowMs: 1_000 }, echo, timers, () => 0);
  const results = Promise.allSettled([b.add(1), b.add(-1), b.add(2)]);
  timers.fire();
  expect((await results).map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
});

test('a batch that throws rejects every item in it', async () => {
  const timers = manualTimers();
  const b = new Batcher<number, string>({ maxSize: 10, windowMs: 1_000 }, async () => { throw new Error('chain down'); }, timers, () => 0);
  const results = Promise.allSettled([b.add(1), b.add(2)]);
  timers.fire();
  expect((await results).map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual(['chain down', 'chain down']);
});

test('pending() reports the queue and when the window closes; flush() sends now', async () => {
  let now = 1_000;
  const timers = manualTimers();
  const b = new Batcher({ maxSize: 10, windowMs: 500 }, echo, timers, () => now);
  expect(b.pending()).toEqual({ count: 0, closesInMs: undefined });
  const r = b.add(7);
  now += 200;
  expect(b.pending()).toEqual({ count: 1, closesInMs: 300 });
  await b.flush();
  expect(await r).toBe('done 7');
  expect(b.pending().count).toBe(0);
});

test('maxSize below 1 is refused', () => {
  expect(() => new Batcher({ maxSize: 0, windowMs: 1 }, echo)).toThrow(/at least 1/);
});
