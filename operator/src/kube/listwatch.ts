// Where an informer gets its objects: a paginated LIST and a WATCH from a resourceVersion. The
// API implementation uses the JSON REST client for LIST and client-node's Watch (a streaming GET)
// for WATCH; tests can substitute their own source.
import type { Watch } from '@kubernetes/client-node';
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

export function apiListWatch<T extends KubeObject>(
  clients: { rest: RestClient; watch: Watch },
  rt: ResourceType,
  sel: Selectors = {},
): ListWatchSource<T> {
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
      new Promise<void>((resolve, reject) => {
        let controller: AbortController | undefined;
        let settled = false;
        const onAbort = (): void => controller?.abort();
        const finish = (err: unknown): void => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          // A client-side inactivity timeout (client-node aborts after 30 s without data) ends the
          // watch like a server-side close: the informer resumes from its resourceVersion.
          const timedOut = err instanceof Error && err.name === 'TimeoutError';
          if (!err || signal.aborted || timedOut) resolve();
          else reject(err instanceof Error ? err : new Error(`watch ${path} failed: ${String(err)}`));
        };
        const query = { ...selectors, resourceVersion, allowWatchBookmarks: true, timeoutSeconds };
        clients.watch
          .watch(path, query, (type, object) => onEvent({ type, object } as WatchEvent<T>), finish)
          .then((c) => {
            controller = c;
            if (signal.aborted) c.abort();
            else signal.addEventListener('abort', onAbort, { once: true });
          }, finish);
      }),
  };
}
