// Status writes: only when the status changed (kueue), through the status subresource, as a JSON
// merge patch (application/merge-patch+json) holding just the differences. By default the patch
// carries the resourceVersion the status was computed from, so a status computed from a stale
// cache is refused (409 Conflict → the controller retries with fresh data) instead of
// overwriting a newer one.
import { PatchStrategy } from './rest.js';
import { objectKey, objectPath, type KubeObject, type ResourceType } from './resources.js';
import type { RestClient } from './rest.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function hasUniqueTypes(items: readonly unknown[]): items is { type: string }[] {
  const types = new Set<string>();
  for (const it of items) {
    if (!isPlainObject(it) || typeof it.type !== 'string' || types.has(it.type)) return false;
    types.add(it.type);
  }
  return true;
}

/**
 * A canonical form for comparison: object keys with undefined or null values dropped (absent in a
 * merge patch), Dates as RFC 3339, and lists of `{ type, ... }` items with unique types
 * (conditions: listType=map, listMapKey=type) sorted by type.
 */
export function normalize(value: unknown): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return value.toISOString().replace(/\.000Z$/, 'Z');
  if (Array.isArray(value)) {
    const items = value.map((v) => normalize(v) ?? null);
    if (items.length > 1 && hasUniqueTypes(items)) {
      return [...items].sort((a, b) => ((a as { type: string }).type < (b as { type: string }).type ? -1 : 1));
    }
    return items;
  }
  if (isPlainObject(value)) {
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(value).sort()) {
      const v = normalize(value[k]);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value as Json;
}

function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => k in b && deepEqual(a[k], b[k]));
}

/** Whether two statuses are the same, ignoring key order, absent-vs-null and condition order. */
export function statusEqual(current: unknown, desired: unknown): boolean {
  const a = normalize(current) ?? {};
  const b = normalize(desired) ?? {};
  return deepEqual(a, b);
}

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`: changed keys set, removed keys
 * null, lists replaced whole. Undefined when nothing differs.
 */
export function mergePatch(from: unknown, to: unknown): Json | undefined {
  const a = normalize(from);
  const b = normalize(to);
  if (deepEqual(a, b)) return undefined;
  if (!isPlainObject(a) || !isPlainObject(b)) return b ?? null;
  const patch: { [k: string]: Json } = {};
  for (const k of Object.keys(a)) if (!(k in b)) patch[k] = null;
  for (const [k, v] of Object.entries(b)) {
    const d = mergePatch(a[k], v);
    if (d !== undefined) patch[k] = d;
  }
  return patch;
}

export type StatusObject<S> = KubeObject & { status?: S };

export type UpdateStatusOptions = {
  /** Send metadata.resourceVersion as a precondition (default true). */
  optimisticLock?: boolean;
  fieldManager?: string;
};

/**
 * Writes `status` to `obj`'s status subresource if it differs from `obj.status`. Returns the
 * object the server returned (or `obj` unchanged) and whether a write happened. Errors keep the
 * ApiException as cause (409 on a stale resourceVersion, 404 if the object is gone).
 */
export async function updateStatus<T extends StatusObject<unknown>>(
  rest: RestClient,
  rt: ResourceType,
  obj: T,
  status: NonNullable<T['status']>,
  opts: UpdateStatusOptions = {},
): Promise<{ changed: boolean; object: T }> {
  if (statusEqual(obj.status, status)) return { changed: false, object: obj };
  const body: { [k: string]: Json } = { status: mergePatch(obj.status ?? {}, status) ?? {} };
  const rv = obj.metadata?.resourceVersion;
  if (opts.optimisticLock ?? true) {
    if (!rv) throw new Error(`${rt.kind} ${objectKey(obj)}: no resourceVersion to guard the status write`);
    body.metadata = { resourceVersion: rv };
  }
  try {
    const object = await rest.patch<T>(
      objectPath(rt, obj, 'status'),
      body,
      PatchStrategy.MergePatch,
      opts.fieldManager ? { fieldManager: opts.fieldManager } : undefined,
    );
    return { changed: true, object };
  } catch (err) {
    throw new Error(`patch status of ${rt.kind} ${objectKey(obj)}`, { cause: err });
  }
}
