// How requests reach the API server: its address, the headers that authenticate a request and the
// connection pool (undici, TLS settings from the kubeconfig or the service account). RestClient
// and its watches ask for them per request, so rotated tokens and certificates are picked up.
//
// The operator and the scheduler extension connect natively (kubeconfig.ts reads the file), so
// they never load client-node at run time. A kubeconfig that needs what only client-node
// implements (an exec plugin, an auth-provider, a proxy) is delegated to it, loaded on first use;
// the CLI and the tests, which hold a client-node KubeConfig anyway, wrap it with
// `fromKubeConfig` (client-node-connection.ts).
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { resolveKubeconfig, type Pem, type ResolvedKubeconfig } from './kubeconfig.js';

export type PreparedRequest = { headers: Record<string, string>; dispatcher: Dispatcher };

export interface KubeConnection {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  /** The context's (or service account's) namespace, if it names one. */
  readonly namespace?: string;
  /** Authentication headers and the connection pool for one request. */
  prepare(): Promise<PreparedRequest>;
  /** Closes the pooled connections once their requests have finished. */
  close(): Promise<void>;
}

export type KubeConfigSource =
  /** A kubeconfig file; `context` overrides its current-context. */
  | { kubeconfigPath: string; context?: string }
  /** The pod's service account (KUBERNETES_SERVICE_HOST/PORT, /var/run/secrets/kubernetes.io/serviceaccount). */
  | { inCluster: true };

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Connects as the source says. Throws an Error naming the source if it cannot be read. */
export function loadConnection(source: KubeConfigSource): KubeConnection {
  const where = 'inCluster' in source ? 'the in-cluster service account' : source.kubeconfigPath;
  let config: ResolvedKubeconfig;
  try {
    config =
      'inCluster' in source
        ? inClusterConfig(process.env, SERVICE_ACCOUNT_DIR)
        : resolveKubeconfig(readFileSync(source.kubeconfigPath, 'utf8'), {
            dir: dirname(source.kubeconfigPath),
            ...(source.context ? { context: source.context } : {}),
          });
  } catch (err) {
    throw new Error(`could not load a kubeconfig from ${where}: ${(err as Error).message}`, { cause: err });
  }
  if (config.delegate.length > 0 && 'kubeconfigPath' in source) return delegatedConnection(config, source);
  return nativeConnection(config);
}

/** The service account's view of the cluster, as client-go's rest.InClusterConfig builds it. */
export function inClusterConfig(env: NodeJS.ProcessEnv, dir: string, read = (p: string) => readFileSync(p, 'utf8')): ResolvedKubeconfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod?)');
  let namespace: string | undefined;
  try {
    namespace = read(`${dir}/namespace`).trim() || undefined;
  } catch {
    namespace = undefined;
  }
  return {
    context: 'in-cluster',
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    ...(namespace ? { namespace } : {}),
    tls: { ca: { path: `${dir}/ca.crt` }, insecure: false },
    auth: { tokenFile: `${dir}/token` },
    delegate: [],
  };
}

export type NativeConnectionOptions = {
  /** How long one connection pool is used before it is rebuilt from the files. Default 10 min. */
  poolTtlMs?: number;
  /** How long a token file's contents are reused. Default 60 s (bound service-account tokens rotate). */
  tokenTtlMs?: number;
  readFile?: (path: string) => string;
  now?: () => number;
};

/** A connection from a resolved kubeconfig: bearer token or basic auth, client certificates, CA. */
export function nativeConnection(config: ResolvedKubeconfig, opts: NativeConnectionOptions = {}): KubeConnection {
  const poolTtlMs = opts.poolTtlMs ?? 600_000;
  const tokenTtlMs = opts.tokenTtlMs ?? 60_000;
  const read = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const now = opts.now ?? Date.now;
  const pemText = (p: Pem | undefined): string | undefined => (p === undefined ? undefined : 'data' in p ? p.data : read(p.path));
  let pool: { agent: Agent; since: number } | undefined;
  let token: { value: string; since: number } | undefined;

  const agent = (): Agent => {
    const t = now();
    if (pool && t - pool.since < poolTtlMs) return pool.agent;
    const old = pool?.agent;
    const { tls } = config;
    const ca = pemText(tls.ca);
    const cert = pemText(tls.cert);
    const key = pemText(tls.key);
    const connect = config.server.startsWith('https:')
      ? {
          ...(ca !== undefined ? { ca } : {}),
          ...(cert !== undefined ? { cert } : {}),
          ...(key !== undefined ? { key } : {}),
          ...(tls.serverName ? { servername: tls.serverName } : {}),
          rejectUnauthorized: !tls.insecure,
        }
      : {};
    pool = { agent: new Agent({ connect }), since: t };
    // Requests in flight on the old pool finish first; close() waits for them.
    void old?.close().catch(() => undefined);
    return pool.agent;
  };

  const headers = (): Record<string, string> => {
    const { auth } = config;
    if (auth.tokenFile) {
      const t = now();
      if (!token || t - token.since >= tokenTtlMs) token = { value: read(auth.tokenFile).trim(), since: t };
      return { authorization: `Bearer ${token.value}` };
    }
    if (auth.token) return { authorization: `Bearer ${auth.token}` };
    if (auth.username !== undefined) {
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}` };
    }
    return {};
  };

  return {
    server: config.server,
    ...(config.namespace ? { namespace: config.namespace } : {}),
    prepare: () => Promise.resolve({ headers: headers(), dispatcher: agent() }),
    close: async () => {
      const a = pool?.agent;
      pool = undefined;
      await a?.close().catch(() => undefined);
    },
  };
}

/** A kubeconfig only client-node can follow (exec plugins and the like): loaded on first use. */
function delegatedConnection(config: ResolvedKubeconfig, source: { kubeconfigPath: string; context?: string }): KubeConnection {
  let inner: Promise<KubeConnection> | undefined;
  const load = (): Promise<KubeConnection> =>
    (inner ??= import('./client-node-connection.js').then((m) => m.fromKubeconfigFile(source.kubeconfigPath, config.context)));
  return {
    server: config.server,
    ...(config.namespace ? { namespace: config.namespace } : {}),
    prepare: async () => (await load()).prepare(),
    close: async () => {
      if (inner) await (await inner).close();
    },
  };
}
