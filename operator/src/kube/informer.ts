// An informer (client-go's reflector + indexer + shared handlers, simplified): it lists a resource,
// watches from the list's resourceVersion, keeps an indexed cache and tells handlers about adds,
// updates and deletes.
//   - A watch that ends (the server closes watches at `timeoutSeconds` and during bursts) is
//     resumed from the last resourceVersion seen (bookmarks keep it fresh).
//   - 410 Gone (as an HTTP status or an ERROR event) means that resourceVersion was compacted:
//     relist, and diff the new list against the cache (adds, updates, deletes for what vanished).
//   - Other errors back off exponentially (800 ms to 30 s, client-go's reflector) and retry.
//   - Every `resyncPeriodMs` handlers get `update(obj, obj)` for every cached object, so a
//     level-triggered controller re-checks everything now and then.
// Handlers run synchronously and must only enqueue (the controller's job); one that throws is
// logged and does not stop the others.
import { realClock, sleepUnlessAborted, type Clock, type TimerHandle } from './clock.js';
import { apiCode } from './errors.js';
import type { ListWatchSource, WatchEvent } from './listwatch.js';
import { objectKey, type KubeObject } from './resources.js';
import { Store, type IndexFunc } from './store.js';
import { errorFields, silentLogger, type Logger } from '../telemetry/logger.js';

export type EventHandler<T> = {
  add?(obj: T): void;
  /** Also called with `oldObj === newObj` on resync. */
  update?(oldObj: T, newObj: T): void;
  /** The last state seen (from the DELETED event, or the cache when a relist found it gone). */
  delete?(obj: T): void;
};

export type InformerOptions<T extends KubeObject> = {
  source: ListWatchSource<T>;
  indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** 0 (default) disables resync. */
  resyncPeriodMs?: number;
  /**
   * Server-side watch timeout, picked at random in [min, max] per watch. Default [20, 28] s: under
   * client-node's 30 s inactivity abort, so the server closes first and sends a bookmark first.
   */
  watchTimeoutSeconds?: { min: number; max: number };
  /** LIST page size. Default 500. */
  pageSize?: number;
  /** Retry backoff after errors. Default 800 ms doubling to 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
};

type WatchOutcome = 'closed' | 'gone';

export class Informer<T extends KubeObject> {
  readonly store: Store<T>;
  private readonly source: ListWatchSource<T>;
  private readonly handlers = new Set<EventHandler<T>>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly resyncPeriodMs: number;
  private readonly watchTimeout: { min: number; max: number };
  private readonly pageSize: number;
  private readonly backoff: { initialMs: number; maxMs: number };

  private resourceVersion = '';
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private resyncTimer: TimerHandle | undefined;
  private relists = 0;

  constructor(opts: InformerOptions<T>) {
    this.source = opts.source;
    this.store = new Store<T>(opts.indexers);
    this.clock = opts.clock ?? realClock;
    this.logger = (opts.logger ?? silentLogger).child({ informer: opts.source.description });
    this.random = opts.random ?? Math.random;
    this.resyncPeriodMs = opts.resyncPeriodMs ?? 0;
    this.watchTimeout = opts.watchTimeoutSeconds ?? { min: 20, max: 28 };
    this.pageSize = opts.pageSize ?? 500;
    this.backoff = opts.backoff ?? { initialMs: 800, maxMs: 30_000 };
  }

  /**
   * Registers handlers; returns a function that unregisters them. Added after the first sync, the
   * handler gets `add` for every cached object first (as client-go does).
   */
  addEventHandler(handler: EventHandler<T>): () => void {
    this.handlers.add(handler);
    if (this.synced) for (const obj of this.store.list()) this.call(handler, 'add', obj);
    return () => this.handlers.delete(handler);
  }

  /** Starts listing and watching in the background (idempotent). */
  start(): void {
    if (this.loop) return;
    const abort = new AbortController();
    this.abort = abort;
    this.loop = this.run(abort.signal);
    this.scheduleResync();
  }

  /** Stops watching; the cache keeps its contents. */
  async stop(): Promise<void> {
    this.abort?.abort();
    if (this.resyncTimer) this.clock.clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    await this.loop;
    this.loop = undefined;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** True once the first LIST is in the cache and its handlers have run. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true when synced, false if the informer stops or `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.synced);
      });
    });
  }

  /** The resourceVersion the next watch starts from ('' before the first list or after a 410). */
  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  /** How many times the informer has listed (1 after the first sync; more after 410s). */
  listCount(): number {
    return this.relists;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let delay = 0;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === '') await this.relist(signal);
        const started = this.clock.now();
        const { outcome, events } = await this.watchOnce(signal);
        if (outcome === 'gone') {
          this.logger.info('resourceVersion expired (410 Gone), relisting');
          this.resourceVersion = '';
          delay = 0;
          continue;
        }
        // A watch that closes at once without events is treated like an error, so a server that
        // keeps refusing watches is not hammered.
        if (events > 0 || this.clock.now() - started >= 1_000) delay = 0;
        else delay = this.nextDelay(delay);
        this.logger.debug('watch closed, resuming', { resourceVersion: this.resourceVersion, events });
      } catch (err) {
        if (signal.aborted) break;
        if (apiCode(err) === 410) {
          this.logger.info('resourceVersion expired (410 Gone), relisting');
          this.resourceVersion = '';
          delay = 0;
          continue;
        }
        delay = this.nextDelay(delay);
        this.logger.warn('list/watch failed, retrying', { err: errorFields(err), retryInMs: Math.round(delay) });
      }
      if (delay > 0 && !(await sleepUnlessAborted(this.clock, delay, signal))) break;
    }
  }

  private nextDelay(prev: number): number {
    return prev === 0 ? this.backoff.initialMs : Math.min(prev * 2, this.backoff.maxMs);
  }

  /** Lists every page, then replaces the cache, telling handlers what changed. */
  private async relist(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string;
    for (;;) {
      let page;
      try {
        page = await this.source.list({ limit: this.pageSize, signal, ...(cont ? { continue: cont } : {}) });
      } catch (err) {
        // The continue token expired between pages: start the list over.
        if (cont !== undefined && apiCode(err) === 410) {
          items.length = 0;
          cont = undefined;
          continue;
        }
        throw new Error(`list ${this.source.description} failed`, { cause: err });
      }
      items.push(...(page.items ?? []));
      rv = page.metadata?.resourceVersion ?? '';
      cont = page.metadata?.continue || undefined;
      if (!cont) break;
    }
    if (signal.aborted) return;
    this.replace(items);
    this.resourceVersion = rv;
    this.relists++;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
      this.logger.info('synced', { objects: this.store.size, resourceVersion: rv });
    }
  }

  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(objectKey(obj));
      this.apply(obj);
    }
    for (const key of this.store.keys()) {
      if (seen.has(key)) continue;
      const old = this.store.remove(key);
      if (old) this.emit('delete', old);
    }
  }

  private apply(obj: T): void {
    const old = this.store.upsert(obj);
    if (!old) this.emit('add', obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj, old);
  }

  private async watchOnce(signal: AbortSignal): Promise<{ outcome: WatchOutcome; events: number }> {
    const { min, max } = this.watchTimeout;
    const timeoutSeconds = Math.round(min + this.random() * (max - min));
    let outcome: WatchOutcome = 'closed';
    let failure: Error | undefined;
    let events = 0;
    const local = new AbortController();
    const onAbort = (): void => local.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const onEvent = (ev: WatchEvent<T>): void => {
      if (local.signal.aborted) return;
      events++;
      if (ev.type === 'ERROR') {
        if (ev.object.code === 410) outcome = 'gone';
        else failure = new Error(`watch ${this.source.description}: ERROR event ${ev.object.code ?? '?'} ${ev.object.reason ?? ''}`.trim());
        local.abort(); // stop reading; the server ends the stream after an ERROR anyway
        return;
      }
      const rv = ev.object.metadata?.resourceVersion;
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.apply(ev.object);
      else if (ev.type === 'DELETED') {
        const old = this.store.remove(objectKey(ev.object));
        if (old) this.emit('delete', ev.object);
      }
      if (rv) this.resourceVersion = rv;
    };
    try {
      await this.source.watch({ resourceVersion: this.resourceVersion, timeoutSeconds, signal: local.signal }, onEvent);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (failure) throw failure;
    return { outcome, events };
  }

  private scheduleResync(): void {
    if (this.resyncPeriodMs <= 0) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.synced) for (const obj of this.store.list()) this.emit('update', obj, obj);
      this.scheduleResync();
    }, this.resyncPeriodMs);
  }

  private emit(kind: 'add' | 'delete', obj: T): void;
  private emit(kind: 'update', obj: T, old: T): void;
  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) this.call(h, kind, obj, old);
  }

  private call(h: EventHandler<T>, kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    try {
      if (kind === 'add') h.add?.(obj);
      else if (kind === 'update') h.update?.(old ?? obj, obj);
      else h.delete?.(obj);
    } catch (err) {
      this.logger.error('event handler threw', { event: kind, key: objectKey(obj), err: errorFields(err) });
    }
  }
}
