// An event recorder writing events.k8s.io/v1 Events (what `kubectl describe` and `kubectl events`
// show). Repeats of an identical event bump the series count of one Event (event-cache.ts).
// Recording never throws and never blocks the reconcile: writes run in the background, one at a
// time per series (occurrences during a write are folded into the next), and failures are
// logged with code and reason only.
import { randomBytes } from 'node:crypto';
import { PatchStrategy } from './rest.js';
import { realClock, rfc3339Micro, type Clock } from './clock.js';
import { apiCode } from './errors.js';
import { EventCache, eventKey, type CachedEvent, type EventCacheOptions } from './event-cache.js';
import { RESOURCES, resourcePath, type KubeObject } from './resources.js';
import type { RestClient } from './rest.js';
import { errorFields, silentLogger, type Logger } from '../telemetry/logger.js';

export const EVENT_TYPES = { Normal: 'Normal', Warning: 'Warning' } as const;
export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

export type ObjectReference = {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
};

/** An events.k8s.io/v1 Event (the fields the recorder sets). */
export type EventObject = {
  apiVersion: 'events.k8s.io/v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  eventTime: string;
  series?: { count: number; lastObservedTime: string };
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  note: string;
  type: EventType;
  regarding: ObjectReference;
};

/** Where events go: the API server (apiEventSink) or, in unit tests, memory. */
export interface EventSink {
  create(event: EventObject): Promise<void>;
  /** Updates the series of an existing Event; rejects with an ApiException 404 if it is gone. */
  updateSeries(namespace: string, name: string, series: { count: number; lastObservedTime: string }): Promise<void>;
}

export function apiEventSink(rest: RestClient): EventSink {
  return {
    create: async (event) => {
      await rest.request({ method: 'POST', path: resourcePath(RESOURCES.events, { namespace: event.metadata.namespace }), body: event });
    },
    updateSeries: async (namespace, name, series) => {
      await rest.patch(resourcePath(RESOURCES.events, { namespace, name }), { series }, PatchStrategy.MergePatch);
    },
  };
}

export type EventRecorderOptions = EventCacheOptions & {
  sink: EventSink;
  /** reportingController, e.g. `pinfi.io/operator`. */
  controller: string;
  /** reportingInstance, e.g. the pod name. */
  instance: string;
  clock?: Clock;
  logger?: Logger;
};

const MAX_NOTE = 1024;

/** A cache entry with the recorder's write state. */
type Series = CachedEvent & { event: EventObject; writing: boolean; dirty: boolean };

export class EventRecorder {
  private readonly cache: EventCache;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly opts: EventRecorderOptions) {
    this.cache = new EventCache(opts);
    this.clock = opts.clock ?? realClock;
    this.logger = (opts.logger ?? silentLogger).child({ component: 'events' });
  }

  normal(obj: KubeObject, reason: string, note: string, action: string = reason): void {
    this.record(obj, 'Normal', reason, note, action);
  }

  warning(obj: KubeObject, reason: string, note: string, action: string = reason): void {
    this.record(obj, 'Warning', reason, note, action);
  }

  /** Resolves when every write started so far has finished (tests, graceful shutdown). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private record(obj: KubeObject, type: EventType, reason: string, note: string, action: string): void {
    try {
      const regarding = referenceTo(obj);
      if (!regarding.name) throw new Error('object has no metadata.name');
      const text = note.length > MAX_NOTE ? note.slice(0, MAX_NOTE - 3) + '...' : note;
      const key = eventKey({ regarding, type, reason, action, note: text });
      const now = this.clock.now();
      const { entry, isNew } = this.cache.observe(key, now);
      if (!isNew) {
        const s = entry as Series;
        s.dirty = true;
        this.write(s);
        return;
      }
      const namespace = regarding.namespace || 'default';
      const event: EventObject = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: eventName(regarding.name, now), namespace },
        eventTime: rfc3339Micro(now),
        reportingController: this.opts.controller,
        reportingInstance: this.opts.instance,
        action,
        reason,
        note: text,
        type,
        regarding,
      };
      const s: Series = Object.assign(entry, { event, writing: false, dirty: true });
      this.write(s);
    } catch (err) {
      this.logger.error('could not record event', { reason, err: errorFields(err) });
    }
  }

  /** Starts a write for the series unless one is running (that one re-checks `dirty` when done). */
  private write(s: Series): void {
    if (s.writing) return;
    s.writing = true;
    const p = this.drain(s).finally(() => {
      s.writing = false;
      this.inFlight.delete(p);
    });
    this.inFlight.add(p);
  }

  private async drain(s: Series): Promise<void> {
    while (s.dirty) {
      s.dirty = false;
      try {
        if (s.name === undefined) {
          await this.opts.sink.create(s.event);
          s.name = s.event.metadata.name;
          s.namespace = s.event.metadata.namespace;
          // Occurrences while the create was in flight are written as a series next.
          if (s.count > 1) s.dirty = true;
        } else if (s.count > 1) {
          await this.opts.sink.updateSeries(s.namespace ?? 'default', s.name, { count: s.count, lastObservedTime: rfc3339Micro(s.lastSeenMs) });
        }
      } catch (err) {
        if (apiCode(err) === 404 && s.name !== undefined) {
          // The Event expired (the API server keeps events for an hour): start a new one.
          this.logger.debug('event series expired on the server, creating a new one', { reason: s.event.reason });
          s.name = undefined;
          s.namespace = undefined;
          s.count = 1;
          s.firstSeenMs = s.lastSeenMs;
          s.event = {
            ...s.event,
            metadata: { ...s.event.metadata, name: eventName(s.event.regarding.name ?? 'object', s.lastSeenMs) },
            eventTime: rfc3339Micro(s.lastSeenMs),
          };
          s.dirty = true;
          continue;
        }
        this.logger.warn('could not write event', { reason: s.event.reason, regarding: s.event.regarding.name, err: errorFields(err) });
        return;
      }
    }
  }
}

export function referenceTo(obj: KubeObject): ObjectReference {
  const m = obj.metadata ?? {};
  const ref: ObjectReference = {};
  if (obj.apiVersion) ref.apiVersion = obj.apiVersion;
  if (obj.kind) ref.kind = obj.kind;
  if (m.name) ref.name = m.name;
  if (m.namespace) ref.namespace = m.namespace;
  if (m.uid) ref.uid = m.uid;
  if (m.resourceVersion) ref.resourceVersion = m.resourceVersion;
  return ref;
}

/** `<object>.<hex time><random>`, within the 253-character name limit. */
function eventName(objectName: string, nowMs: number): string {
  const suffix = `${Math.floor(nowMs).toString(16)}${randomBytes(4).toString('hex')}`;
  return `${objectName.slice(0, 253 - suffix.length - 1)}.${suffix}`;
}
