// Reading a kubeconfig without client-node: the current (or named) context's cluster, user and
// namespace, with relative file paths resolved against the file's folder. Pure: the caller reads
// the file. The operator and the scheduler extension connect with what this returns (kube/
// connection.ts); importing client-node's KubeConfig would load all of its generated API modules
// (about 50 MiB of resident memory, the largest single part of the operator's footprint).
//
// Supported as kubectl reads them: server, certificate-authority(-data),
// insecure-skip-tls-verify, tls-server-name; client-certificate(-data) and client-key(-data),
// token, tokenFile, username/password. Anything else that changes how a request is authenticated
// (exec plugins, auth-provider, impersonation, proxy-url) is reported in `delegate`: the caller
// then hands the whole file to client-node, which implements them.
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

export type Pem = { path: string } | { data: string };

export type ResolvedKubeconfig = {
  context: string;
  server: string;
  namespace?: string;
  tls: { ca?: Pem; cert?: Pem; key?: Pem; insecure: boolean; serverName?: string };
  auth: { token?: string; tokenFile?: string; username?: string; password?: string };
  /** Settings this reader does not implement (e.g. `users[].user.exec`); empty when none. */
  delegate: string[];
};

type Named<T> = { name?: unknown } & Record<string, T | unknown>;

/** Parses kubeconfig YAML and resolves one context. Throws an Error saying what is missing. */
export function resolveKubeconfig(text: string, opts: { dir: string; context?: string }): ResolvedKubeconfig {
  const doc = parse(text) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') throw new Error('not a kubeconfig (no YAML mapping)');
  const contextName = opts.context ?? str(doc['current-context']);
  if (!contextName) throw new Error('kubeconfig has no current-context');
  const context = entry(doc.contexts, 'context', contextName, 'context');
  const clusterName = str(context.cluster);
  const userName = str(context.user);
  if (!clusterName) throw new Error(`context "${contextName}" names no cluster`);
  const cluster = entry(doc.clusters, 'cluster', clusterName, 'cluster');
  const user = userName ? entry(doc.users, 'user', userName, 'user') : {};
  const server = str(cluster.server)?.replace(/\/+$/, '');
  if (!server) throw new Error(`cluster "${clusterName}" has no server address`);

  const file = (v: unknown): string | undefined => {
    const p = str(v);
    return p === undefined ? undefined : isAbsolute(p) ? p : resolve(opts.dir, p);
  };
  const pem = (dataKey: string, pathKey: string, from: Record<string, unknown>): Pem | undefined => {
    const data = str(from[dataKey]);
    if (data) return { data: Buffer.from(data, 'base64').toString('utf8') };
    const path = file(from[pathKey]);
    return path ? { path } : undefined;
  };

  const delegate: string[] = [];
  for (const key of ['exec', 'auth-provider', 'as', 'as-groups', 'as-uid', 'as-user-extra']) {
    if (user[key] !== undefined) delegate.push(`users[${userName}].user.${key}`);
  }
  if (cluster['proxy-url'] !== undefined) delegate.push(`clusters[${clusterName}].cluster.proxy-url`);

  const out: ResolvedKubeconfig = {
    context: contextName,
    server,
    tls: { insecure: cluster['insecure-skip-tls-verify'] === true },
    auth: {},
    delegate,
  };
  const ns = str(context.namespace);
  if (ns) out.namespace = ns;
  const ca = pem('certificate-authority-data', 'certificate-authority', cluster);
  const cert = pem('client-certificate-data', 'client-certificate', user);
  const key = pem('client-key-data', 'client-key', user);
  if (ca) out.tls.ca = ca;
  if (cert) out.tls.cert = cert;
  if (key) out.tls.key = key;
  const serverName = str(cluster['tls-server-name']);
  if (serverName) out.tls.serverName = serverName;
  const token = str(user.token);
  const tokenFile = file(user.tokenFile);
  const username = str(user.username);
  const password = str(user.password);
  if (token) out.auth.token = token;
  if (tokenFile) out.auth.tokenFile = tokenFile;
  if (username) out.auth.username = username;
  if (password) out.auth.password = password;
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error(`user "${userName}" has a client ${cert ? 'certificate without a key' : 'key without a certificate'}`);
  }
  return out;
}

function entry(list: unknown, field: string, name: string, what: string): Record<string, unknown> {
  const items = Array.isArray(list) ? (list as Named<unknown>[]) : [];
  const found = items.find((x) => x && typeof x === 'object' && x.name === name);
  if (!found) {
    const known = items.map((x) => str(x?.name)).filter(Boolean);
    throw new Error(`kubeconfig has no ${what} "${name}"${known.length ? ` (it has ${known.join(', ')})` : ''}`);
  }
  const body = found[field];
  return body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
