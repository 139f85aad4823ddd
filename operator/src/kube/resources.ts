// Kubernetes objects as the API server sends them (plain JSON: timestamps are RFC 3339 strings),
// resource types (group/version/plural), their REST paths, and `namespace/name` keys.

export type OwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
};

/** The metadata fields kube/ reads; every field optional so client-node's V1ObjectMeta fits. */
export type ObjectMeta = {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
};

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
};

export type KubeList<T> = {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
};

/** A resource type: where its objects live in the REST API. */
export type ResourceType = {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** Lower-case plural, the path segment: 'pods', 'gpupools'. */
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
};

export function apiVersionOf(rt: ResourceType): string {
  return rt.group === '' ? rt.version : `${rt.group}/${rt.version}`;
}

export type PathOptions = { namespace?: string; name?: string; subresource?: string };

/**
 * `/api/v1/namespaces/ns/pods/name/status` and the like. Without a namespace a namespaced type's
 * path lists across all namespaces.
 */
export function resourcePath(rt: ResourceType, opts: PathOptions = {}): string {
  const parts = [rt.group === '' ? '/api' : `/apis/${rt.group}`, rt.version];
  if (rt.namespaced && opts.namespace) parts.push('namespaces', encodeURIComponent(opts.namespace));
  parts.push(rt.plural);
  if (opts.name !== undefined) parts.push(encodeURIComponent(opts.name));
  if (opts.subresource !== undefined) {
    if (opts.name === undefined) throw new Error(`subresource ${opts.subresource} needs an object name`);
    parts.push(opts.subresource);
  }
  return parts.join('/');
}

/** The path of one object of type `rt`. */
export function objectPath(rt: ResourceType, obj: KubeObject, subresource?: string): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`${rt.kind} without metadata.name`);
  const namespace = obj.metadata?.namespace;
  if (rt.namespaced && !namespace) throw new Error(`${rt.kind} ${name} without metadata.namespace`);
  return resourcePath(rt, { namespace, name, ...(subresource === undefined ? {} : { subresource }) });
}

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: KubeObject): string {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Resource types kube/ and its tests use; controllers define their own CRD types the same way. */
export const RESOURCES = {
  namespaces: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  nodes: { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  pods: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  configMaps: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  secrets: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  events: { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  customResourceDefinitions: {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
  },
} as const satisfies Record<string, ResourceType>;
