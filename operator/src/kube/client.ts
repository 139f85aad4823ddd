// Connecting to the API server: a KubeConfig from a kubeconfig file or the in-cluster service
// account, and the API handles the operator uses.
//
// Patch content types with the typed API classes: client-node 2.x picks the first content type
// the OpenAPI spec lists for a PATCH (application/json-patch+json). To send a merge patch or an
// apply patch through them, pass `patchOptions(PatchStrategy.MergePatch)` as the call's options:
// it adds a middleware that overwrites the Content-Type header. (The exported API classes take
// Observable-style middleware, which is what client-node's setHeaderOptions builds.)
import {
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type ConfigurationOptions,
} from '@kubernetes/client-node';
import { ResourceResolver } from './apply.js';
import { RestClient } from './rest.js';

export type KubeConfigSource =
  /** A kubeconfig file; `context` overrides its current-context. */
  | { kubeconfigPath: string; context?: string }
  /** The pod's service account (KUBERNETES_SERVICE_HOST/PORT, /var/run/secrets/kubernetes.io/serviceaccount). */
  | { inCluster: true };

export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const kc = new KubeConfig();
  try {
    if ('inCluster' in source) {
      kc.loadFromCluster();
    } else {
      kc.loadFromFile(source.kubeconfigPath);
      if (source.context) kc.setCurrentContext(source.context);
    }
  } catch (err) {
    const where = 'inCluster' in source ? 'the in-cluster service account' : source.kubeconfigPath;
    throw new Error(`could not load a kubeconfig from ${where}`, { cause: err });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new Error('kubeconfig has no current cluster with a server address');
  return kc;
}

/** Options for a typed API call that sends `strategy` as the patch Content-Type. */
export function patchOptions(strategy: PatchStrategy): ConfigurationOptions {
  return setHeaderOptions('Content-Type', strategy);
}

export type KubeClients = {
  readonly kubeConfig: KubeConfig;
  /** Generic JSON client (any resource, subresource and patch type); used by kube/. */
  readonly rest: RestClient;
  /** apiVersion + kind → resource type, by discovery (apply.ts). */
  readonly resolver: ResourceResolver;
  /** client-node's streaming watch (informer.ts). */
  readonly watch: Watch;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly customObjects: CustomObjectsApi;
  readonly events: EventsV1Api;
  readonly apiextensions: ApiextensionsV1Api;
  /** Discovery-backed generic client (kind → resource lookup). */
  readonly objects: KubernetesObjectApi;
};

export type KubeClientOptions = {
  /** Timeout of one non-watch request. Default 30 s. */
  requestTimeoutMs?: number;
};

export function createKubeClients(kubeConfig: KubeConfig, opts: KubeClientOptions = {}): KubeClients {
  const rest = new RestClient(kubeConfig, opts.requestTimeoutMs === undefined ? {} : { timeoutMs: opts.requestTimeoutMs });
  return {
    kubeConfig,
    rest,
    resolver: new ResourceResolver(rest),
    watch: new Watch(kubeConfig),
    core: kubeConfig.makeApiClient(CoreV1Api),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
    customObjects: kubeConfig.makeApiClient(CustomObjectsApi),
    events: kubeConfig.makeApiClient(EventsV1Api),
    apiextensions: kubeConfig.makeApiClient(ApiextensionsV1Api),
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
  };
}

export { PatchStrategy };
