// A small JSON REST client over client-node's transport (its KubeConfig authentication, TLS
// dispatcher and fetch). kube/ uses it for generic resources (any group/version/plural, including
// CRDs and subresources) so objects stay the JSON the API server sent: the typed API classes
// convert timestamps to Date and drop unknown fields of built-in kinds.
//
// Errors are client-node's ApiException (`.code` is the HTTP status, `.body` the parsed Status).
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  PatchStrategy,
  RequestContext,
  type KubeConfig,
} from '@kubernetes/client-node';

export { PatchStrategy };

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
  /** How long one connection pool (TLS settings from the kubeconfig) is reused. Default 10 min. */
  dispatcherTtlMs?: number;
};

/** An undici dispatcher as client-node builds it (a connection pool with the kubeconfig's TLS settings). */
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>> & { close?: () => Promise<void> };

export class RestClient {
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly timeoutMs: number;
  private readonly dispatcherTtlMs: number;
  private pool: { dispatcher: Dispatcher; since: number } | undefined;

  constructor(
    readonly kubeConfig: KubeConfig,
    opts: RestClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.dispatcherTtlMs = opts.dispatcherTtlMs ?? 600_000;
  }

  /**
   * client-node gives every request a dispatcher of its own, i.e. a new TLS connection and
   * secure context per request: at a few hundred requests a second that handshake was the
   * operator's largest CPU cost and kept kube-apiserver busy. Requests share one dispatcher
   * (keep-alive connections) instead; it is rebuilt from the kubeconfig now and then, so rotated
   * client certificates are picked up. Headers (tokens) are still applied per request.
   */
  private shareDispatcher(ctx: RequestContext): void {
    const fresh = ctx.getDispatcher() as Dispatcher | undefined;
    if (!fresh) return;
    const now = Date.now();
    if (this.pool && now - this.pool.since < this.dispatcherTtlMs) {
      ctx.setDispatcher(this.pool.dispatcher);
      void fresh.close?.().catch(() => undefined);
      return;
    }
    const old = this.pool?.dispatcher;
    this.pool = { dispatcher: fresh, since: now };
    // In-flight requests on the old pool finish; close() waits for them.
    void old?.close?.().catch(() => undefined);
  }

  /** Closes the shared connections (after the last request). */
  async close(): Promise<void> {
    const d = this.pool?.dispatcher;
    this.pool = undefined;
    await d?.close?.().catch(() => undefined);
  }

  /** Sends one request; resolves with the parsed JSON body, throws ApiException on a non-2xx status. */
  async request<T>(req: RestRequest): Promise<T> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const ctx = new RequestContext(url.toString(), HttpMethod[req.method]);
    ctx.setHeaderParam('Accept', 'application/json');
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(req.body));
    }
    const timeout = AbortSignal.timeout(req.timeoutMs ?? this.timeoutMs);
    ctx.setSignal(req.signal ? AbortSignal.any([req.signal, timeout]) : timeout);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    this.shareDispatcher(ctx);

    let status: number;
    let text: string;
    let headers: Record<string, string>;
    try {
      const res = await this.http.send(ctx).toPromise();
      status = res.httpStatusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (err) {
      throw new Error(`${req.method} ${req.path}: request failed`, { cause: err });
    }
    const parsed = parseJson(text);
    if (status < 200 || status > 299) {
      throw new ApiException<unknown>(status, `${req.method} ${req.path}`, parsed ?? text, headers);
    }
    return parsed as T;
  }

  get<T>(path: string, query?: QueryParams, signal?: AbortSignal): Promise<T> {
    return this.request<T>({ method: 'GET', path, ...(query ? { query } : {}), ...(signal ? { signal } : {}) });
  }

  /** PATCH with the given patch type (PatchStrategy.MergePatch, JsonPatch, ServerSideApply, ...). */
  patch<T>(path: string, body: unknown, contentType: PatchStrategy, query?: QueryParams): Promise<T> {
    return this.request<T>({ method: 'PATCH', path, body, contentType, ...(query ? { query } : {}) });
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
