// kube-scheduler's extender protocol (k8s.io/kube-scheduler/extender/v1, the JSON Go's
// encoding/json makes of those structs: field names as written, no tags), and a defensive reader
// that turns any request body into either the few facts the filter needs or an error message.
//
// The scheduler calls `POST <urlPrefix>/<filterVerb>` with ExtenderArgs and expects a 200 with an
// ExtenderFilterResult; a non-200 or a non-empty `Error` fails the pod's scheduling attempt.
// With nodeCacheCapable only `NodeNames` come in, and the names sent back must be a subset of
// them. `prioritize` answers a HostPriorityList; its errors are ignored by the scheduler.
import { LEASE_LABEL } from '../operator/src/inventory/labels.js';

/** ExtenderArgs as sent with nodeCacheCapable: true (`Nodes` is then null). */
export type ExtenderArgs = {
  Pod: unknown;
  Nodes?: unknown;
  NodeNames?: string[] | null;
};

/** node name → why the pod cannot go there. */
export type FailedNodesMap = Record<string, string>;

export type ExtenderFilterResult = {
  NodeNames?: string[] | null;
  FailedNodes?: FailedNodesMap | null;
  /** Nodes where preemption would not help either; takes precedence over FailedNodes. */
  FailedAndUnresolvableNodes?: FailedNodesMap | null;
  Error?: string;
};

export type HostPriority = { Host: string; Score: number };
export type HostPriorityList = HostPriority[];

/** kube-scheduler's MaxExtenderPriority: scores are 0..10. */
export const MAX_EXTENDER_PRIORITY = 10;

/** What the filter needs to know about a pod. Requests are per resource name (nvidia.com/*). */
export type PodFacts = {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  /** Value of the pinfi.io/lease label, if any. */
  readonly lease: string | undefined;
  /** What the pod holds of each extended resource it requests (max of containers' sum and largest init container). */
  readonly requests: ReadonlyMap<string, number>;
  /** Requested resources whose quantity is not a whole number of devices. */
  readonly badQuantities: readonly string[];
};

export type FilterInput = { readonly pod: PodFacts; readonly nodeNames: readonly string[] };

export type ReadResult<T> = { ok: true; value: T } | { ok: false; error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Only extended resources matter here (cpu and memory are the scheduler's business). */
const EXTENDED = /^[a-z0-9.-]+\.[a-z]+\/[A-Za-z0-9._-]+$/;

function count(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isInteger(q) && q >= 0 && q <= 1e9 ? q : undefined;
  if (typeof q !== 'string' || !/^\s*(0|[1-9][0-9]{0,8})\s*$/.test(q)) return undefined;
  return Number(q);
}

type Use = { requests: Map<string, number>; bad: Set<string> };

function containerUse(c: unknown, bad: Set<string>): Map<string, number> {
  const out = new Map<string, number>();
  if (!isObject(c) || !isObject(c.resources)) return out;
  const req = isObject(c.resources.requests) ? c.resources.requests : {};
  const lim = isObject(c.resources.limits) ? c.resources.limits : {};
  // Extended resources cannot be overcommitted: requests equal limits, and either may be set.
  for (const key of new Set([...Object.keys(req), ...Object.keys(lim)])) {
    if (!EXTENDED.test(key) || key.startsWith('kubernetes.io/') || key.startsWith('hugepages-')) continue;
    const raw = Object.hasOwn(req, key) ? req[key] : lim[key];
    const n = count(raw);
    if (n === undefined) bad.add(key);
    else out.set(key, n);
  }
  return out;
}

function podUse(spec: Record<string, unknown>): Use {
  const bad = new Set<string>();
  const requests = new Map<string, number>();
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  for (const c of containers) for (const [k, n] of containerUse(c, bad)) requests.set(k, (requests.get(k) ?? 0) + n);
  const inits = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  for (const c of inits) for (const [k, n] of containerUse(c, bad)) requests.set(k, Math.max(requests.get(k) ?? 0, n));
  return { requests, bad };
}

/** The facts of a pod object (from ExtenderArgs.Pod or an AdmissionReview), or why it is unusable. */
export function readPod(pod: unknown): ReadResult<PodFacts> {
  if (!isObject(pod)) return { ok: false, error: 'Pod is missing or not an object' };
  const meta = isObject(pod.metadata) ? pod.metadata : undefined;
  if (!meta) return { ok: false, error: 'Pod.metadata is missing' };
  const name = typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? meta.generateName : '';
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : '';
  if (namespace === '') return { ok: false, error: 'Pod.metadata.namespace is missing' };
  let lease: string | undefined;
  if (meta.labels !== undefined && meta.labels !== null) {
    if (!isObject(meta.labels)) return { ok: false, error: 'Pod.metadata.labels is not an object' };
    const v = meta.labels[LEASE_LABEL];
    if (v !== undefined && v !== null) {
      if (typeof v !== 'string') return { ok: false, error: `label ${LEASE_LABEL} is not a string` };
      lease = v;
    }
  }
  const spec = isObject(pod.spec) ? pod.spec : {};
  const { requests, bad } = podUse(spec);
  return {
    ok: true,
    value: { namespace, name, uid: typeof meta.uid === 'string' && meta.uid !== '' ? meta.uid : undefined, lease, requests, badQuantities: [...bad] },
  };
}

/** Reads an ExtenderArgs body (already JSON-parsed). */
export function readExtenderArgs(body: unknown): ReadResult<FilterInput> {
  if (!isObject(body)) return { ok: false, error: 'ExtenderArgs must be a JSON object' };
  const names = body.NodeNames;
  if (names === undefined || names === null) {
    const hasNodes = body.Nodes !== undefined && body.Nodes !== null;
    return {
      ok: false,
      error: hasNodes
        ? 'ExtenderArgs.Nodes is not supported: configure this extender with nodeCacheCapable: true'
        : 'ExtenderArgs.NodeNames is missing',
    };
  }
  if (!Array.isArray(names)) return { ok: false, error: 'ExtenderArgs.NodeNames is not a list' };
  for (const n of names) if (typeof n !== 'string') return { ok: false, error: 'ExtenderArgs.NodeNames holds a value that is not a string' };
  const pod = readPod(body.Pod);
  if (!pod.ok) return { ok: false, error: `ExtenderArgs.${pod.error}` };
  return { ok: true, value: { pod: pod.value, nodeNames: names as string[] } };
}

/** A filter answer in grouped form: node names out, and the refused nodes grouped by reason. */
export type GroupedFilterResult = {
  readonly nodeNames: readonly string[];
  readonly failed: readonly { readonly reason: string; readonly nodes: readonly string[] }[];
  readonly unresolvable: readonly { readonly reason: string; readonly nodes: readonly string[] }[];
};

/**
 * `{"node":"reason",...}` for groups of nodes sharing a reason, without building an object of
 * ~1,000 keys: JSON.stringify of the names array, with each `","` between two names (a sequence
 * that cannot occur inside a JSON string, where every quote is escaped) replaced by
 * `":"reason","`. Duplicate names give duplicate keys, which Go's decoder accepts (last wins).
 */
function encodeGroups(groups: GroupedFilterResult['failed']): string {
  let out = '';
  for (const g of groups) {
    if (g.nodes.length === 0) continue;
    const reason = JSON.stringify(g.reason);
    const names = JSON.stringify(g.nodes);
    out += (out === '' ? '' : ',') + names.slice(1, -1).split('","').join(`":${reason},"`) + ':' + reason;
  }
  return `{${out}}`;
}

/** The ExtenderFilterResult JSON of a grouped answer. */
export function encodeFilterResult(r: GroupedFilterResult): string {
  return `{"NodeNames":${JSON.stringify(r.nodeNames)},"FailedNodes":${encodeGroups(r.failed)},"FailedAndUnresolvableNodes":${encodeGroups(r.unresolvable)},"Error":""}`;
}

/** An ExtenderFilterResult that fails the scheduling attempt with `message`. */
export function encodeFilterError(message: string): string {
  return `{"NodeNames":null,"FailedNodes":null,"FailedAndUnresolvableNodes":null,"Error":${JSON.stringify(message)}}`;
}
