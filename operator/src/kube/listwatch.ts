// Where an informer gets its objects: a paginated LIST and a WATCH from a resourceVersion. The
// API implementation uses the JSON REST client for both (rest.ts; a watch is a streaming GET);
// tests can substitute their own source.
import { resourcePath, type KubeList, type KubeObject, type ResourceType } from './resources.js';
import type { RestClient } from './rest.js';

/** The Status object an ERROR watch event carries (410 Expired when the resourceVersion is too old). */
export type WatchStatus = { kind?: string; code?: number; reason?: string; message?: string };

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T }
  | { type: 'ERROR'; object: WatchStatus };

export type ListOptions = { limit: number; continue?: string; signal: AbortSignal };

export type WatchOptions = { resourceVersion: string; timeoutSeconds: number; signal: AbortSignal };

export interface ListWatchSource<T extends KubeObject> {
  /** A human-readable name for logs, e.g. `pods` or `configmaps in ns`. */
  readonly description: string;
  list(opts: ListOptions): Promise<KubeList<T>>;
  /**
   * Streams events to `onEvent` until the watch ends. Resolves when it ends without error (the
   * server closed it, it timed out, or `signal` aborted); rejects with the error otherwise (an
   * HTTP 410 is an error with `statusCode` 410).
   */
  watch(opts: WatchOptions, onEvent: (event: WatchEvent<T>) => void): Promise<void>;
}

export type Selectors = {
  /** Only this namespace (namespaced types); all namespaces when omitted. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
};

export function apiListWatch<T extends KubeObject>(clients: { rest: RestClient }, rt: ResourceType, sel: Selectors = {}): ListWatchSource<T> {
  const path = resourcePath(rt, sel.namespace ? { namespace: sel.namespace } : {});
  const selectors = { labelSelector: sel.labelSelector, fieldSelector: sel.fieldSelector };
  const description = [rt.plural, sel.namespace && `in ${sel.namespace}`, sel.labelSelector && `labels ${sel.labelSelector}`]
    .filter(Boolean)
    .join(' ');
  return {
    description,
    list: ({ limit, continue: cont, signal }) =>
      clients.rest.request<KubeList<T>>({ method: 'GET', path, query: { ...selectors, limit, continue: cont }, signal }),
    watch: ({ resourceVersion, timeoutSeconds, signal }, onEvent) =>
      clients.rest.watch(
        { path, query: { ...selectors, resourceVersion, allowWatchBookmarks: true, timeoutSeconds }, signal },
        (event) => onEvent(event as WatchEvent<T>),
      ),
  };
}
