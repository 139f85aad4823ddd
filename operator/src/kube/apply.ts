// Server-side apply: send the fields this controller owns (from a pure `desiredX(owner)` builder)
// as PATCH application/apply-patch+yaml with one field manager and force, and let the API server
// merge, create or no-op. The resource (plural, scope) is found by API discovery and cached.
import { PatchStrategy } from './rest.js';
import { objectKey, objectPath, type KubeObject, type ResourceType } from './resources.js';
import type { RestClient } from './rest.js';

export type ApplyOptions = {
  /** Take over fields another manager owns (default true: the controller is the authority). */
  force?: boolean;
  /** Skip discovery when the caller knows the resource type. */
  resource?: ResourceType;
  dryRun?: boolean;
};

type APIResourceList = { resources?: { name: string; kind: string; namespaced: boolean }[] };

/** Maps apiVersion + kind to a resource type through API discovery, cached per group/version. */
export class ResourceResolver {
  private readonly cache = new Map<string, APIResourceList>();

  constructor(private readonly rest: RestClient) {}

  async resolve(apiVersion: string, kind: string): Promise<ResourceType> {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/', 2) as [string, string]) : ['', apiVersion];
    const find = (list: APIResourceList | undefined) =>
      list?.resources?.find((r) => r.kind === kind && !r.name.includes('/'));
    let found = find(this.cache.get(apiVersion));
    if (!found) {
      let list: APIResourceList;
      try {
        list = await this.rest.get<APIResourceList>(group === '' ? `/api/${version}` : `/apis/${group}/${version}`);
      } catch (err) {
        throw new Error(`discovery of ${apiVersion} failed`, { cause: err });
      }
      this.cache.set(apiVersion, list);
      found = find(list);
    }
    if (!found) throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
    return { group, version, plural: found.name, kind, namespaced: found.namespaced };
  }
}

/** Applies `obj` (apiVersion, kind, metadata.name[, namespace] required) as `fieldManager`; returns the live object. */
export async function applyObject<T extends KubeObject>(
  clients: { rest: RestClient; resolver: ResourceResolver },
  obj: T,
  fieldManager: string,
  opts: ApplyOptions = {},
): Promise<T> {
  if (!obj.apiVersion || !obj.kind) throw new Error(`apply ${objectKey(obj)}: apiVersion and kind are required`);
  const rt = opts.resource ?? (await clients.resolver.resolve(obj.apiVersion, obj.kind));
  try {
    return await clients.rest.patch<T>(objectPath(rt, obj), obj, PatchStrategy.ServerSideApply, {
      fieldManager,
      force: opts.force ?? true,
      ...(opts.dryRun ? { dryRun: 'All' } : {}),
    });
  } catch (err) {
    throw new Error(`apply ${obj.kind} ${objectKey(obj)} as ${fieldManager}`, { cause: err });
  }
}
