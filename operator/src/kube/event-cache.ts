// The dedupe part of the event recorder (client-go's EventCorrelator, simplified): identical
// events (same object, type, reason, action and note) seen again within `windowMs` of the last
// occurrence are one Event whose series count grows, instead of a new Event each time. Bounded
// LRU; pure apart from the times passed in.

export type CachedEvent = {
  readonly key: string;
  /** Occurrences in this series (1 for a new event). */
  count: number;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Name of the Event object once created (undefined until the create succeeded). */
  name?: string;
  namespace?: string;
};

export type EventCacheOptions = {
  /** A repeat later than this after the last occurrence starts a new Event. Default 10 min. */
  windowMs?: number;
  /** Series remembered (least recently seen evicted first). Default 4096. */
  maxEntries?: number;
};

export class EventCache {
  private readonly entries = new Map<string, CachedEvent>();
  private readonly windowMs: number;
  private readonly maxEntries: number;

  constructor(opts: EventCacheOptions = {}) {
    this.windowMs = opts.windowMs ?? 600_000;
    this.maxEntries = opts.maxEntries ?? 4096;
  }

  /** Records one occurrence; `isNew` says whether it starts a new Event. */
  observe(key: string, nowMs: number): { entry: CachedEvent; isNew: boolean } {
    const prev = this.entries.get(key);
    this.entries.delete(key); // re-insert below: Map order is the LRU order
    if (prev && nowMs - prev.lastSeenMs <= this.windowMs) {
      prev.count++;
      prev.lastSeenMs = nowMs;
      this.entries.set(key, prev);
      return { entry: prev, isNew: false };
    }
    const entry: CachedEvent = { key, count: 1, firstSeenMs: nowMs, lastSeenMs: nowMs };
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return { entry, isNew: true };
  }

  /** Forgets a series (its Event is gone: the next occurrence creates a new one). */
  drop(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The identity of an event for dedupe: regarding object + type + reason + action + note. */
export function eventKey(parts: {
  regarding: { uid?: string; kind?: string; namespace?: string; name?: string };
  type: string;
  reason: string;
  action: string;
  note: string;
}): string {
  const r = parts.regarding;
  return JSON.stringify([r.uid ?? '', r.kind ?? '', r.namespace ?? '', r.name ?? '', parts.type, parts.reason, parts.action, parts.note]);
}
