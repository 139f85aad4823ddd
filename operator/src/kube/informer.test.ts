import { FakeClock, flushPromises } from './fake-clock.js';
import { Informer } from './informer.js';
import type { ListWatchSource, WatchEvent } from './listwatch.js';
import type { KubeObject } from './resources.js';
import { labelIndex } from './store.js';

type Obj = KubeObject & { spec?: { nodeName?: string } };

/** A small in-memory API server for one resource: objects, a resourceVersion counter, watches. */
class FakeApi implements ListWatchSource<Obj> {
  readonly description = 'fake';
  private rv = 1;
  private compactedBelow = 0;
  readonly objects = new Map<string, Obj>();
  private readonly history: { rv: number; ev: WatchEvent<Obj> }[] = [];
  private watchers = new Set<{ send: (e: WatchEvent<Obj>) => void; close: (err?: Error) => void }>();
  watchCalls: string[] = [];
  lists = 0;
  /** The next watch fails this way before streaming. */
  refuseNextWatch: 'http410' | 'event410' | 'http500' | undefined;

  put(name: string, ns = 'ns', extra: Partial<Obj> = {}): Obj {
    const key = `${ns}/${name}`;
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    const obj: Obj = { ...extra, metadata: { ...extra.metadata, name, namespace: ns, resourceVersion: String(++this.rv) } };
    this.objects.set(key, obj);
    this.emit({ type, object: obj });
    return obj;
  }

  del(name: string, ns = 'ns'): void {
    const key = `${ns}/${name}`;
    const old = this.objects.get(key);
    if (!old) return;
    this.objects.delete(key);
    this.emit({ type: 'DELETED', object: { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } } });
  }

  /** Forget history: watches from older resourceVersions get 410. */
  compact(): void {
    this.compactedBelow = this.rv;
    this.history.length = 0;
  }

  /** Server closes every open watch (as during a burst or at timeoutSeconds). */
  closeWatches(): void {
    for (const w of this.watchers) w.close();
  }

  openWatches(): number {
    return this.watchers.size;
  }

  private emit(ev: WatchEvent<Obj>): void {
    this.history.push({ rv: this.rv, ev });
    for (const w of this.watchers) w.send(ev);
  }

  async list() {
    this.lists++;
    await Promise.resolve();
    return { metadata: { resourceVersion: String(this.rv) }, items: [...this.objects.values()] };
  }

  watch(opts: { resourceVersion: string; signal: AbortSignal }, onEvent: (e: WatchEvent<Obj>) => void): Promise<void> {
    this.watchCalls.push(opts.resourceVersion);
    return new Promise((resolve, reject) => {
      const refuse = this.refuseNextWatch;
      this.refuseNextWatch = undefined;
      if (refuse === 'http500') return reject(Object.assign(new Error('Internal Server Error'), { statusCode: 500 }));
      const from = Number(opts.resourceVersion);
      if (refuse === 'http410' || from < this.compactedBelow) return reject(Object.assign(new Error('Gone'), { statusCode: 410 }));
      if (refuse === 'event410') {
        onEvent({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
        return resolve();
      }
      for (const h of this.history) if (h.rv > from) onEvent(h.ev);
      const w = {
        send: onEvent,
        close: (err?: Error) => {
          this.watchers.delete(w);
          if (err) reject(err);
          else resolve();
        },
      };
      this.watchers.add(w);
      opts.signal.addEventListener('abort', () => w.close(), { once: true });
    });
  }
}

function setup(opts: { resyncPeriodMs?: number } = {}) {
  const api = new FakeApi();
  const clock = new FakeClock();
  const informer = new Informer<Obj>({
    source: api,
    clock,
    random: () => 0,
    indexers: { byNode: (o) => (o.spec?.nodeName ? [o.spec.nodeName] : []), byLease: labelIndex('pinfi.io/lease') },
    ...opts,
  });
  const seen: string[] = [];
  informer.addEventHandler({
    add: (o) => seen.push(`add ${o.metadata?.name}`),
    update: (old, o) => seen.push(old === o ? `resync ${o.metadata?.name}` : `update ${o.metadata?.name}`),
    delete: (o) => seen.push(`delete ${o.metadata?.name}`),
  });
  return { api, clock, informer, seen };
}

describe('Informer', () => {
  test('lists, syncs, then follows the watch', async () => {
    const { api, informer, seen } = setup();
    api.put('a');
    api.put('b');
    informer.start();
    await expect(informer.waitForSync()).resolves.toBe(true);
    expect(informer.hasSynced()).toBe(true);
    expect(seen.sort()).toEqual(['add a', 'add b']);
    seen.length = 0;
    api.put('a');
    api.put('c');
    api.del('b');
    await flushPromises();
    expect(seen).toEqual(['update a', 'add c', 'delete b']);
    expect(informer.store.keys().sort()).toEqual(['ns/a', 'ns/c']);
    await informer.stop();
    expect(api.openWatches()).toBe(0);
  });

  test('a closed watch resumes from the last resourceVersion without relisting', async () => {
    const { api, informer, seen, clock } = setup();
    api.put('a');
    informer.start();
    await informer.waitForSync();
    api.put('b');
    await flushPromises();
    const rvAfterB = informer.lastSyncResourceVersion();
    api.closeWatches();
    api.put('c'); // while no watch is open
    await clock.advance(2000); // a watch that delivered events reconnects without backoff
    expect(api.watchCalls.at(-1)).toBe(rvAfterB);
    expect(seen).toEqual(['add a', 'add b', 'add c']);
    expect(api.lists).toBe(1);
    await informer.stop();
  });

  test.each(['http410', 'event410'] as const)('410 Gone (%s) relists and diffs against the cache', async (how) => {
    const { api, informer, seen, clock } = setup();
    api.put('a');
    api.put('b');
    informer.start();
    await informer.waitForSync();
    seen.length = 0;
    // While the watch is down, b is deleted, a changes, c appears, and history is compacted.
    api.closeWatches();
    api.refuseNextWatch = how;
    api.del('b');
    api.put('a');
    api.put('c');
    api.compact();
    await clock.advance(5000);
    expect(api.lists).toBe(2);
    expect(informer.listCount()).toBe(2);
    expect(seen.sort()).toEqual(['add c', 'delete b', 'update a']);
    expect(informer.store.keys().sort()).toEqual(['ns/a', 'ns/c']);
    await informer.stop();
  });

  test('other errors back off exponentially and recover', async () => {
    const { api, informer, clock } = setup();
    informer.start();
    await informer.waitForSync();
    const calls = api.watchCalls.length;
    api.refuseNextWatch = 'http500';
    api.closeWatches();
    await clock.advance(700);
    expect(api.watchCalls.length).toBe(calls + 1); // the refused attempt
    await clock.advance(200); // 800 ms backoff passed
    expect(api.watchCalls.length).toBe(calls + 2);
    expect(api.openWatches()).toBe(1);
    await informer.stop();
  });

  test('resync replays every cached object as an update to itself', async () => {
    const { api, informer, seen, clock } = setup({ resyncPeriodMs: 60_000 });
    api.put('a');
    informer.start();
    await informer.waitForSync();
    await clock.advance(60_000);
    expect(seen).toEqual(['add a', 'resync a']);
    await informer.stop();
  });

  test('indexes follow adds, updates and deletes', async () => {
    const { api, informer } = setup();
    api.put('p1', 'ns', { spec: { nodeName: 'gpu-0' }, metadata: { labels: { 'pinfi.io/lease': 'l1' } } });
    api.put('p2', 'ns', { spec: { nodeName: 'gpu-0' } });
    api.put('p3', 'other', { spec: { nodeName: 'gpu-1' }, metadata: { labels: { 'pinfi.io/lease': 'l1' } } });
    informer.start();
    await informer.waitForSync();
    const names = (objs: Obj[]) => objs.map((o) => o.metadata?.name).sort();
    expect(names(informer.store.byIndex('byNode', 'gpu-0'))).toEqual(['p1', 'p2']);
    expect(names(informer.store.byIndex('byLease', 'l1'))).toEqual(['p1', 'p3']);
    expect(names(informer.store.byIndex('namespace', 'other'))).toEqual(['p3']);
    api.put('p2', 'ns', { spec: { nodeName: 'gpu-1' } }); // moved
    api.del('p1');
    await flushPromises();
    expect(names(informer.store.byIndex('byNode', 'gpu-0'))).toEqual([]);
    expect(names(informer.store.byIndex('byNode', 'gpu-1'))).toEqual(['p2', 'p3']);
    expect(informer.store.indexValues('byNode')).toEqual(['gpu-1']);
    await informer.stop();
  });

  test('a handler added after sync gets the cache as adds; a throwing handler does not stop others', async () => {
    const { api, informer, seen } = setup();
    api.put('a');
    informer.start();
    await informer.waitForSync();
    const late: string[] = [];
    informer.addEventHandler({ add: () => { throw new Error('boom'); } });
    informer.addEventHandler({ add: (o) => late.push(o.metadata?.name ?? '') });
    expect(late).toEqual(['a']);
    api.put('b');
    await flushPromises();
    expect(late).toEqual(['a', 'b']);
    expect(seen).toEqual(['add a', 'add b']);
    await informer.stop();
  });

  test('waitForSync resolves false when stopped before syncing', async () => {
    const { informer } = setup();
    const waiting = informer.waitForSync();
    await informer.stop();
    await expect(waiting).resolves.toBe(false);
  });
});
