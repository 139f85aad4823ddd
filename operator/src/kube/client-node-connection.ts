// A KubeConnection backed by client-node's KubeConfig: for the CLI and the tests (which read
// kubeconfigs with client-node anyway) and for kubeconfigs that need what only client-node
// implements (exec plugins, auth-providers, proxies). Importing this module loads all of
// client-node; the operator only does so for such a kubeconfig.
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import type { KubeConnection, PreparedRequest } from './connection.js';

type ClosableDispatcher = Dispatcher & { close?: () => Promise<void> };

export function fromKubeconfigFile(path: string, context?: string): KubeConnection {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  if (context) kc.setCurrentContext(context);
  return fromKubeConfig(kc);
}

/**
 * client-node builds a new dispatcher (a new TLS connection and secure context) for every
 * request. Requests share one instead (keep-alive connections); it is rebuilt from the
 * kubeconfig every `poolTtlMs`, so rotated client certificates are picked up. Headers (tokens,
 * exec credentials) are still computed per request.
 */
export function fromKubeConfig(kc: KubeConfig, opts: { poolTtlMs?: number } = {}): KubeConnection {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new Error('kubeconfig has no current cluster with a server address');
  const server = cluster.server.replace(/\/+$/, '');
  const poolTtlMs = opts.poolTtlMs ?? 600_000;
  let pool: { dispatcher: ClosableDispatcher; since: number } | undefined;
  const namespace = kc.getContextObject(kc.currentContext)?.namespace;

  const prepare = async (): Promise<PreparedRequest> => {
    const ctx = new RequestContext(server, HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    const fresh = ctx.getDispatcher() as ClosableDispatcher | undefined;
    const now = Date.now();
    if (fresh && (!pool || now - pool.since >= poolTtlMs)) {
      const old = pool?.dispatcher;
      pool = { dispatcher: fresh, since: now };
      void old?.close?.().catch(() => undefined);
    } else if (fresh) {
      void fresh.close?.().catch(() => undefined);
    }
    // No dispatcher of its own (plain http): undici's default pool.
    return { headers: ctx.getHeaders(), dispatcher: pool?.dispatcher ?? getGlobalDispatcher() };
  };

  return {
    server,
    ...(namespace ? { namespace } : {}),
    prepare,
    close: async () => {
      const d = pool?.dispatcher;
      pool = undefined;
      await d?.close?.().catch(() => undefined);
    },
  };
}
