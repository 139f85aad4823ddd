import { ApiException } from '@kubernetes/client-node';
import { EventCache, eventKey } from './event-cache.js';
import { EventRecorder, type EventObject, type EventSink } from './events.js';
import { FakeClock } from './fake-clock.js';
import { memoryLogger } from '../telemetry/logger.js';

/** An in-memory events API: the state of the world the recorder produced. */
function memorySink() {
  const events = new Map<string, EventObject>();
  let failNext: ApiException<unknown> | Error | undefined;
  const sink: EventSink = {
    create: async (e) => {
      await Promise.resolve();
      if (failNext) {
        const err = failNext;
        failNext = undefined;
        throw err;
      }
      events.set(`${e.metadata.namespace}/${e.metadata.name}`, structuredClone(e));
    },
    updateSeries: async (ns, name, series) => {
      await Promise.resolve();
      const e = events.get(`${ns}/${name}`);
      if (!e) throw new ApiException(404, 'not found', { reason: 'NotFound' }, {});
      e.series = series;
    },
  };
  return { sink, events, failOnce: (e: Error) => (failNext = e) };
}

const lease = (name = 'l1') => ({
  apiVersion: 'pinfi.io/v1alpha1',
  kind: 'ComputeLease',
  metadata: { name, namespace: 'team-a', uid: `uid-${name}` },
});

function recorder(windowMs = 600_000) {
  const clock = new FakeClock();
  const world = memorySink();
  const logger = memoryLogger();
  const rec = new EventRecorder({ sink: world.sink, controller: 'pinfi.io/operator', instance: 'op-0', clock, logger, windowMs });
  return { clock, world, rec, logger };
}

describe('EventCache', () => {
  test.each([
    { name: 'repeats within the window join the series', gaps: [0, 1000, 1000], window: 5000, want: [[1, true], [2, false], [3, false]] },
    { name: 'a repeat after the window starts a new series', gaps: [0, 6000, 1000], window: 5000, want: [[1, true], [1, true], [2, false]] },
    { name: 'the window counts from the last occurrence', gaps: [0, 4000, 4000, 4000], window: 5000, want: [[1, true], [2, false], [3, false], [4, false]] },
  ])('$name', ({ gaps, window, want }) => {
    const cache = new EventCache({ windowMs: window });
    let t = 0;
    const got = gaps.map((g) => {
      t += g;
      const { entry, isNew } = cache.observe('k', t);
      return [entry.count, isNew];
    });
    expect(got).toEqual(want);
  });

  test('least recently seen series are evicted beyond maxEntries', () => {
    const cache = new EventCache({ maxEntries: 2 });
    cache.observe('a', 0);
    cache.observe('b', 1);
    cache.observe('a', 2); // a is now the most recent
    cache.observe('c', 3); // evicts b
    expect(cache.size).toBe(2);
    expect(cache.observe('a', 4).isNew).toBe(false);
    expect(cache.observe('b', 5).isNew).toBe(true);
  });

  test('the key distinguishes object, type, reason, action and note', () => {
    const base = { regarding: { uid: 'u', kind: 'K', namespace: 'n', name: 'x' }, type: 'Normal', reason: 'R', action: 'A', note: 'n' };
    const variants = [
      base,
      { ...base, regarding: { ...base.regarding, uid: 'v' } },
      { ...base, type: 'Warning' },
      { ...base, reason: 'R2' },
      { ...base, action: 'A2' },
      { ...base, note: 'other' },
    ];
    expect(new Set(variants.map(eventKey)).size).toBe(variants.length);
  });
});

describe('EventRecorder', () => {
  test('identical events become one Event with a series count', async () => {
    const { rec, world, clock } = recorder();
    rec.warning(lease(), 'PriceAboveLimit', 'quote 120 > max 100');
    await rec.flush();
    await clock.advance(1000);
    rec.warning(lease(), 'PriceAboveLimit', 'quote 120 > max 100');
    rec.warning(lease(), 'PriceAboveLimit', 'quote 120 > max 100');
    await rec.flush();
    expect(world.events.size).toBe(1);
    const [e] = [...world.events.values()];
    expect(e).toMatchObject({
      type: 'Warning',
      reason: 'PriceAboveLimit',
      action: 'PriceAboveLimit',
      note: 'quote 120 > max 100',
      reportingController: 'pinfi.io/operator',
      reportingInstance: 'op-0',
      regarding: { kind: 'ComputeLease', name: 'l1', namespace: 'team-a', uid: 'uid-l1' },
      metadata: { namespace: 'team-a' },
      series: { count: 3, lastObservedTime: '2026-01-01T00:00:01.000000Z' },
    });
    expect(e?.eventTime).toBe('2026-01-01T00:00:00.000000Z');
  });

  test('repeats while the create is in flight are folded into one series update', async () => {
    const { rec, world } = recorder();
    for (let i = 0; i < 5; i++) rec.normal(lease(), 'Reserved', 'reserved 4 GPUs');
    await rec.flush();
    expect(world.events.size).toBe(1);
    expect([...world.events.values()][0]?.series?.count).toBe(5);
  });

  test('different notes, objects or types are separate Events', async () => {
    const { rec, world } = recorder();
    rec.normal(lease('a'), 'Reserved', 'x');
    rec.normal(lease('a'), 'Reserved', 'y');
    rec.normal(lease('b'), 'Reserved', 'x');
    rec.warning(lease('a'), 'Reserved', 'x');
    await rec.flush();
    expect(world.events.size).toBe(4);
    expect([...world.events.values()].every((e) => e.series === undefined)).toBe(true);
  });

  test('after the window a repeat is a new Event', async () => {
    const { rec, world, clock } = recorder(60_000);
    rec.normal(lease(), 'Reserved', 'x');
    await rec.flush();
    await clock.advance(61_000);
    rec.normal(lease(), 'Reserved', 'x');
    await rec.flush();
    expect(world.events.size).toBe(2);
  });

  test('an Event that expired on the server is created anew', async () => {
    const { rec, world } = recorder();
    rec.normal(lease(), 'Reserved', 'x');
    await rec.flush();
    world.events.clear(); // the API server's TTL removed it
    rec.normal(lease(), 'Reserved', 'x');
    await rec.flush();
    expect(world.events.size).toBe(1);
    expect([...world.events.values()][0]?.series).toBeUndefined();
  });

  test('failures are logged with code and reason, never thrown, and the next occurrence retries', async () => {
    const { rec, world, logger } = recorder();
    world.failOnce(new ApiException(403, 'forbidden', { reason: 'Forbidden', message: 'secret stuff' }, { authorization: 'Bearer x' }));
    expect(() => rec.normal(lease(), 'Reserved', 'x')).not.toThrow();
    await rec.flush();
    expect(world.events.size).toBe(0);
    const line = logger.lines.find((l) => l.msg === 'could not write event');
    expect(line?.err).toEqual({ name: 'ApiError', code: 403, reason: 'Forbidden' });
    expect(JSON.stringify(logger.lines)).not.toContain('Bearer');
    rec.normal(lease(), 'Reserved', 'x');
    await rec.flush();
    expect(world.events.size).toBe(1);
  });

  test('an object without a name is logged, not thrown', async () => {
    const { rec, logger } = recorder();
    expect(() => rec.normal({ kind: 'X', metadata: {} }, 'R', 'n')).not.toThrow();
    expect(logger.lines.some((l) => l.msg === 'could not record event')).toBe(true);
  });

  test('cluster-scoped objects get their events in the default namespace', async () => {
    const { rec, world } = recorder();
    rec.normal({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'gpu-0', uid: 'n' } }, 'Joined', 'joined pool a100');
    await rec.flush();
    expect([...world.events.values()][0]?.metadata.namespace).toBe('default');
  });

  test('long notes are truncated to 1 KiB', async () => {
    const { rec, world } = recorder();
    rec.normal(lease(), 'R', 'x'.repeat(5000));
    await rec.flush();
    expect([...world.events.values()][0]?.note.length).toBe(1024);
  });
});
