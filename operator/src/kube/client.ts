// Connecting to the API server: a KubeConnection from a kubeconfig file or the in-cluster service
// account (connection.ts), and the clients the operator builds on it. None of them is
// client-node's: its entry point loads every generated API module, which alone was about a fifth
// of the operator's resident memory. Tests and the CLI that want client-node's typed APIs build
// them from a client-node KubeConfig of their own.
import { loadConnection, type KubeConfigSource, type KubeConnection } from './connection.js';
import { ResourceResolver } from './apply.js';
import { RestClient } from './rest.js';

export { loadConnection, type KubeConfigSource, type KubeConnection };

export type KubeClients = {
  readonly connection: KubeConnection;
  /** Generic JSON client (any resource, subresource and patch type, and watches); used by kube/. */
  readonly rest: RestClient;
  /** apiVersion + kind → resource type, by discovery (apply.ts). */
  readonly resolver: ResourceResolver;
};

export type KubeClientOptions = {
  /** Timeout of one non-watch request. Default 30 s. */
  requestTimeoutMs?: number;
};

export function createKubeClients(connection: KubeConnection, opts: KubeClientOptions = {}): KubeClients {
  const rest = new RestClient(connection, opts.requestTimeoutMs === undefined ? {} : { timeoutMs: opts.requestTimeoutMs });
  return { connection, rest, resolver: new ResourceResolver(rest) };
}

export { PatchStrategy } from './rest.js';
