// A small JSON REST client for the API server, over undici and a KubeConnection (connection.ts:
// the server's address, authentication headers and a shared keep-alive connection pool). kube/
// uses it for generic resources (any group/version/plural, including CRDs and subresources) so
// objects stay the JSON the API server sent, and for watches (a streaming GET, one JSON event per
// line).
//
// Errors are ApiError (errors.ts: `.code` is the HTTP status, `.body` the parsed Status).
import { request } from 'undici';
import type { KubeConnection } from './connection.js';
import { ApiError } from './errors.js';

/** Patch Content-Types (the values of client-node's PatchStrategy). */
export const PatchStrategy = {
  JsonPatch: 'application/json-patch+json',
  MergePatch: 'application/merge-patch+json',
  StrategicMergePatch: 'application/strategic-merge-patch+json',
  ServerSideApply: 'application/apply-patch+yaml',
} as const;
export type PatchStrategy = (typeof PatchStrategy)[keyof typeof PatchStrategy];
export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type QueryParams = Readonly<Record<string, string | number | boolean | undefined>>;

export type RestRequest = {
  method: HttpVerb;
  /** Absolute API path, e.g. `/api/v1/namespaces/ns/configmaps/x` (see resources.ts). */
  path: string;
  query?: QueryParams;
  /** Serialised as JSON (also for apply-patch+yaml: JSON is YAML). */
  body?: unknown;
  /** Content-Type of the body; default application/json. */
  contentType?: string;
  signal?: AbortSignal;
  /** Per-request timeout; default the client's. */
  timeoutMs?: number;
};

export type RestClientOptions = {
  /** Default per-request timeout. Default 30 s. */
  timeoutMs?: number;
};

export type WatchRequest = {
  path: string;
  query?: QueryParams;
  signal: AbortSignal;
  /** The watch ends (as if the server closed it) after this long without a byte. Default 30 s. */
  inactivityMs?: number;
};

export type RawWatchEvent = { type: string; object: unknown };

export class RestClient {
  private readonly timeoutMs: number;

  constructor(
    readonly connection: KubeConnection,
    opts: RestClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Closes the shared connections (after the last request). */
  close(): Promise<void> {
    return this.connection.close();
  }

  /** Sends one request; resolves with the parsed JSON body, throws ApiError on a non-2xx status. */
  async request<T>(req: RestRequest): Promise<T> {
    const url = this.url(req.path, req.query);
    const timeout = AbortSignal.timeout(req.timeoutMs ?? this.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let status: number;
    let text: string;
    let headers: Record<string, string>;
    try {
      const { headers: auth, dispatcher } = await this.connection.prepare();
      const res = await request(url, {
        method: req.method,
        headers: {
          ...auth,
          accept: 'application/json',
          ...(req.body !== undefined ? { 'content-type': req.contentType ?? 'application/json' } : {}),
        },
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
        dispatcher,
        signal,
      });
      status = res.statusCode;
      headers = flatHeaders(res.headers);
      text = await res.body.text();
    } catch (err) {
      throw new Error(`${req.method} ${req.path}: request failed`, { cause: err });
    }
    const parsed = parseJson(text);
    if (status < 200 || status > 299) throw new ApiError(status, `${req.method} ${req.path}`, parsed ?? text, headers);
    return parsed as T;
  }

  /**
   * Streams a watch: calls `onEvent` for every event line until the watch ends. Resolves when it
   * ends without error (the server closed it, `signal` aborted, or nothing arrived for
   * `inactivityMs`: a dead connection looks like that); rejects with ApiError on a non-200
   * status (410 Gone when the resourceVersion is too old) or with the transport's error.
   */
  async watch(req: WatchRequest, onEvent: (event: RawWatchEvent) => void): Promise<void> {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    if (req.signal.aborted) return;
    req.signal.addEventListener('abort', stop, { once: true });
    let idle = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        controller.abort();
      }, req.inactivityMs ?? 30_000);
      timer.unref();
    };
    try {
      arm();
      const { headers: auth, dispatcher } = await this.connection.prepare();
      const res = await request(this.url(req.path, { ...req.query, watch: true }), {
        method: 'GET',
        headers: { ...auth, accept: 'application/json' },
        dispatcher,
        signal: controller.signal,
      });
      if (res.statusCode !== 200) {
        const text = await res.body.text().catch(() => '');
        throw new ApiError(res.statusCode, `watch ${req.path}`, parseJson(text) ?? text, flatHeaders(res.headers));
      }
      res.body.setEncoding('utf8');
      let rest = '';
      for await (const chunk of res.body as AsyncIterable<string>) {
        arm();
        const text = rest + chunk;
        let from = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
          const line = text.slice(from, nl);
          from = nl + 1;
          const event = parseJson(line) as RawWatchEvent | undefined;
          if (event && typeof event === 'object' && typeof event.type === 'string') onEvent(event);
        }
        rest = text.slice(from);
      }
    } catch (err) {
      if (idle || req.signal.aborted) return;
      throw err;
    } finally {
      clearTimeout(timer);
      req.signal.removeEventListener('abort', stop);
    }
  }

  private url(path: string, query: QueryParams | undefined): string {
    const url = new URL(this.connection.server + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url.toString();
  }

  get<T>(path: string, query?: QueryParams, signal?: AbortSignal): Promise<T> {
    return this.request<T>({ method: 'GET', path, ...(query ? { query } : {}), ...(signal ? { signal } : {}) });
  }

  /** PATCH with the given patch type (PatchStrategy.MergePatch, JsonPatch, ServerSideApply, ...). */
  patch<T>(path: string, body: unknown, contentType: PatchStrategy, query?: QueryParams): Promise<T> {
    return this.request<T>({ method: 'PATCH', path, body, contentType, ...(query ? { query } : {}) });
  }
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
