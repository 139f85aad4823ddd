// Finalizers, added and removed with JSON patches (application/json-patch+json) whose `test` ops
// guard against a concurrent change of the list: if another writer changed the finalizers since
// `obj` was read, the API server refuses the patch (422) and the caller retries with fresh data. Only
// the finalizer list is guarded (or, when there is none yet, the resourceVersion), so status
// writes in between cause no spurious conflicts.
import { PatchStrategy } from './rest.js';
import { isNotFound } from './errors.js';
import { objectKey, objectPath, type KubeObject, type ResourceType } from './resources.js';
import type { RestClient } from './rest.js';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

export function isDeleting(obj: KubeObject): boolean {
  return obj.metadata?.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

type JsonPatchOp =
  | { op: 'test'; path: string; value: unknown }
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** The JSON patch adding `finalizer` to `obj` (empty if present). */
export function addFinalizerPatch(obj: KubeObject, finalizer: string): JsonPatchOp[] {
  const current = obj.metadata?.finalizers;
  if (current?.includes(finalizer)) return [];
  if (!current || current.length === 0) {
    // JSON patch cannot test that a member is absent, and `add` would replace a list someone
    // else just created: guard this case with the resourceVersion.
    return [
      { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata?.resourceVersion },
      { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
    ];
  }
  return [
    { op: 'test', path: '/metadata/finalizers', value: current },
    { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
  ];
}

/** The JSON patch removing `finalizer` from `obj` (empty if absent). */
export function removeFinalizerPatch(obj: KubeObject, finalizer: string): JsonPatchOp[] {
  const current = obj.metadata?.finalizers ?? [];
  const i = current.indexOf(finalizer);
  if (i < 0) return [];
  return [
    { op: 'test', path: '/metadata/finalizers', value: current },
    { op: 'remove', path: `/metadata/finalizers/${i}` },
  ];
}

/**
 * Adds `finalizer` if missing; returns the updated object (or `obj` when nothing changed).
 * Throws (cause: ApiException 422 Invalid: a failed `test` op) if the finalizers changed since `obj` was read.
 */
export async function addFinalizer<T extends KubeObject>(rest: RestClient, rt: ResourceType, obj: T, finalizer: string): Promise<T> {
  const ops = addFinalizerPatch(obj, finalizer);
  if (ops.length === 0) return obj;
  if (!obj.metadata?.resourceVersion && ops[0]?.path === '/metadata/resourceVersion') {
    throw new Error(`${rt.kind} ${objectKey(obj)}: no resourceVersion to guard the finalizer patch`);
  }
  try {
    return await rest.patch<T>(objectPath(rt, obj), ops, PatchStrategy.JsonPatch);
  } catch (err) {
    throw new Error(`add finalizer ${finalizer} to ${rt.kind} ${objectKey(obj)}`, { cause: err });
  }
}

/**
 * Removes `finalizer` if present; returns the updated object, `obj` when nothing changed, or
 * undefined when the object is gone (the last finalizer went and the deletion completed, or it
 * was already deleted).
 */
export async function removeFinalizer<T extends KubeObject>(
  rest: RestClient,
  rt: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T | undefined> {
  const ops = removeFinalizerPatch(obj, finalizer);
  if (ops.length === 0) return obj;
  try {
    return await rest.patch<T>(objectPath(rt, obj), ops, PatchStrategy.JsonPatch);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new Error(`remove finalizer ${finalizer} from ${rt.kind} ${objectKey(obj)}`, { cause: err });
  }
}
