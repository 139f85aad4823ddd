// The mutating admission webhook for lease pods (pods labelled pinfi.io/lease), on CREATE:
//   - sets schedulerName: pinfi (the profile whose extender places lease pods);
//   - adds the toleration of the lease's pool taint (pinfi.io/pool=<pool>:NoSchedule);
//   - while the lease is not Active, adds the scheduling gate pinfi.io/lease-active, which the
//     operator removes when the lease turns Active (operator/src/enforcement/gates.ts); when it
//     is Active, adds the required node affinity to the reserved nodes (enforcement/affinity.ts);
//   - refuses, with a message, a pod that names a lease missing from its namespace, a lease that
//     is over, asks for more units than the lease holds or for another kind of GPU, or sets
//     spec.nodeName (which would bypass the scheduler and the reservation).
// `admitLeasePod` is pure; `reviewHandler` is the HTTP shell around it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ComputeLease, LeasePhase } from '../operator/src/api/types.js';
import { reservationAffinityPatch, reservedNodes, type JsonPatchOp } from '../operator/src/enforcement/affinity.js';
import { LEASE_GATE, SCHEDULER_NAME, poolToleration } from '../operator/src/enforcement/names.js';
import { LEASE_LABEL } from '../operator/src/inventory/labels.js';
import { errorFields, silentLogger, type Logger } from '../operator/src/telemetry/logger.js';
import { readBody, sendJson } from './http-shell.js';
import { readPod } from './protocol.js';

export const WEBHOOK_PATH = '/mutate-pods';

export type { JsonPatchOp };

export type AdmissionOutcome =
  | { allowed: true; patch: JsonPatchOp[]; warnings?: string[] }
  | { allowed: false; code: number; reason: string; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const OVER: readonly LeasePhase[] = ['Ending', 'Settled', 'Expired', 'Failed'];

function deny(code: number, reason: string, message: string): AdmissionOutcome {
  return { allowed: false, code, reason, message };
}

/**
 * The decision for one pod being created in `namespace`: `lease` is the ComputeLease its label
 * names (undefined when it does not exist), `resource` the extended resource of the lease's pool.
 */
export function admitLeasePod(pod: unknown, namespace: string, lease: ComputeLease | undefined, resource: string, nowMs: number): AdmissionOutcome {
  if (!isObject(pod)) return deny(400, 'BadRequest', 'the request holds no pod');
  const meta = isObject(pod.metadata) ? pod.metadata : {};
  const facts = readPod({ ...pod, metadata: { ...meta, namespace } });
  if (!facts.ok) return deny(400, 'BadRequest', facts.error);
  const name = facts.value.lease;
  if (name === undefined) return { allowed: true, patch: [] };
  const key = `${namespace}/${name}`;
  if (!lease) {
    return deny(403, 'LeaseNotFound', `ComputeLease ${name} does not exist in namespace ${namespace}: create the lease first, or correct the ${LEASE_LABEL} label`);
  }
  const phase = lease.status?.phase ?? 'Pending';
  if (OVER.includes(phase)) return deny(403, 'LeaseOver', `ComputeLease ${key} is ${phase === 'Ending' ? 'ending' : `over (phase ${phase})`} and takes no new pods`);
  const end = lease.status?.endTime ? Date.parse(lease.status.endTime) : NaN;
  if (Number.isFinite(end) && end <= nowMs) return deny(403, 'LeaseOver', `ComputeLease ${key} ended at ${lease.status?.endTime} and takes no new pods`);
  const spec = isObject(pod.spec) ? pod.spec : {};
  if (typeof spec.nodeName === 'string' && spec.nodeName !== '') {
    return deny(403, 'NodeNameSet', `pods of ComputeLease ${key} are placed by the ${SCHEDULER_NAME} scheduler on the lease's reserved nodes; remove spec.nodeName`);
  }
  if (facts.value.badQuantities.includes(resource)) return deny(403, 'BadQuantity', `${resource} must be a whole number of devices`);
  const asks = facts.value.requests.get(resource) ?? 0;
  const holds = lease.spec?.gpus ?? 0;
  if (asks > holds) return deny(403, 'ExceedsLease', `the pod asks for ${asks} ${resource} but ComputeLease ${key} holds ${holds}`);
  const foreign = [...facts.value.requests].filter(([r, n]) => r !== resource && r.startsWith('nvidia.com/') && n > 0).map(([r]) => r);
  if (foreign.length > 0) return deny(403, 'WrongResource', `the pod asks for ${foreign.join(', ')} but ComputeLease ${key} holds ${resource} (pool ${lease.spec.pool})`);

  const patch: JsonPatchOp[] = [];
  if (spec.schedulerName !== SCHEDULER_NAME) patch.push({ op: 'add', path: '/spec/schedulerName', value: SCHEDULER_NAME });
  const toleration = poolToleration(lease.spec.pool);
  const tolerations = Array.isArray(spec.tolerations) ? spec.tolerations : undefined;
  const tolerated = (tolerations ?? []).some(
    (t) => isObject(t) && t.key === toleration.key && t.operator === toleration.operator && t.value === toleration.value && t.effect === toleration.effect,
  );
  if (!tolerations) patch.push({ op: 'add', path: '/spec/tolerations', value: [toleration] });
  else if (!tolerated) patch.push({ op: 'add', path: '/spec/tolerations/-', value: toleration });
  const warnings: string[] = [];
  if (phase !== 'Active') {
    const gates = Array.isArray(spec.schedulingGates) ? spec.schedulingGates : undefined;
    const gated = (gates ?? []).some((g) => isObject(g) && g.name === LEASE_GATE);
    if (!gates) patch.push({ op: 'add', path: '/spec/schedulingGates', value: [{ name: LEASE_GATE }] });
    else if (!gated) patch.push({ op: 'add', path: '/spec/schedulingGates/-', value: { name: LEASE_GATE } });
    warnings.push(`ComputeLease ${key} is ${phase}: the pod waits (scheduling gate ${LEASE_GATE}) until the lease is Active`);
  } else {
    // Active: pin the pod to the reserved nodes (the gate controller does it for gated pods).
    patch.push(...reservationAffinityPatch(spec, reservedNodes(lease)));
  }
  return warnings.length > 0 ? { allowed: true, patch, warnings } : { allowed: true, patch };
}

/** Where the webhook looks leases and pools up: the caches, with a live read for a lease not cached yet. */
export type AdmissionLookups = {
  lease(namespace: string, name: string): Promise<ComputeLease | undefined>;
  resourceOf(pool: string): string;
  now(): number;
};

type Review = { uid: string; namespace: string; operation: string; object: unknown; isPod: boolean };

function readReview(body: unknown): Review | string {
  if (!isObject(body)) return 'AdmissionReview must be a JSON object';
  if (body.kind !== 'AdmissionReview') return 'kind must be AdmissionReview';
  const req = body.request;
  if (!isObject(req)) return 'AdmissionReview.request is missing';
  if (typeof req.uid !== 'string' || req.uid === '') return 'AdmissionReview.request.uid is missing';
  const kind = isObject(req.kind) ? req.kind : {};
  const res = isObject(req.resource) ? req.resource : {};
  const isPod = (kind.kind === 'Pod' || res.resource === 'pods') && (req.subResource === undefined || req.subResource === '' || req.subResource === null);
  const obj = isObject(req.object) ? req.object : undefined;
  const ns = typeof req.namespace === 'string' && req.namespace !== '' ? req.namespace : isObject(obj?.metadata) && typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : '';
  return { uid: req.uid, namespace: ns, operation: typeof req.operation === 'string' ? req.operation : '', object: req.object, isPod };
}

/** The AdmissionReview answer for a review (already JSON-parsed), or a message for a 400. */
export async function review(body: unknown, lookups: AdmissionLookups): Promise<{ ok: true; response: unknown } | { ok: false; message: string }> {
  const r = readReview(body);
  if (typeof r === 'string') return { ok: false, message: r };
  const answer = (o: AdmissionOutcome): unknown => {
    const response: Record<string, unknown> = { uid: r.uid, allowed: o.allowed };
    if (o.allowed) {
      if (o.patch.length > 0) {
        response.patchType = 'JSONPatch';
        response.patch = Buffer.from(JSON.stringify(o.patch)).toString('base64');
      }
      if (o.warnings) response.warnings = o.warnings;
    } else {
      response.status = { status: 'Failure', code: o.code, reason: o.reason, message: o.message };
    }
    return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
  };
  if (!r.isPod || r.operation !== 'CREATE') return { ok: true, response: answer({ allowed: true, patch: [] }) };
  const meta = isObject(r.object) && isObject(r.object.metadata) ? r.object.metadata : {};
  const labels = isObject(meta.labels) ? meta.labels : {};
  const leaseName = labels[LEASE_LABEL];
  if (typeof leaseName !== 'string' || leaseName === '' || r.namespace === '') {
    return { ok: true, response: answer(typeof leaseName === 'string' && leaseName === '' ? deny(403, 'LeaseNotFound', `label ${LEASE_LABEL} is empty`) : { allowed: true, patch: [] }) };
  }
  const lease = await lookups.lease(r.namespace, leaseName);
  const resource = lease ? lookups.resourceOf(lease.spec?.pool ?? '') : 'nvidia.com/gpu';
  return { ok: true, response: answer(admitLeasePod(r.object, r.namespace, lease, resource, lookups.now())) };
}

export function reviewHandler(opts: { lookups: AdmissionLookups; logger?: Logger; maxBodyBytes?: number }): (req: IncomingMessage, res: ServerResponse) => void {
  const logger = (opts.logger ?? silentLogger).child({ component: 'webhook' });
  const maxBody = opts.maxBodyBytes ?? 3 * 1024 * 1024; // the API server's own request limit
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, '{"status":"ok"}');
    if (path !== WEBHOOK_PATH) {
      req.resume();
      return sendJson(res, 404, JSON.stringify({ error: `not found: POST ${WEBHOOK_PATH}` }));
    }
    if (req.method !== 'POST') {
      req.resume();
      return sendJson(res, 405, JSON.stringify({ error: 'POST an AdmissionReview' }));
    }
    const body = await readBody(req, maxBody);
    if (!body.ok) return sendJson(res, body.status, JSON.stringify({ error: body.message }), body.status === 413);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch (err) {
      return sendJson(res, 400, JSON.stringify({ error: `not JSON: ${(err as Error).message}` }));
    }
    const out = await review(parsed, opts.lookups);
    if (!out.ok) return sendJson(res, 400, JSON.stringify({ error: out.message }));
    const resp = (out.response as { response: { allowed: boolean; uid: string; status?: { message?: string } } }).response;
    if (!resp.allowed) logger.info('refused a lease pod', { uid: resp.uid, message: resp.status?.message });
    sendJson(res, 200, JSON.stringify(out.response));
  };
  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error('admission request failed', { err: errorFields(err) });
      sendJson(res, 400, JSON.stringify({ error: 'could not review the pod' }));
    });
  };
}
