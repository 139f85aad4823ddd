// Small builders for the scheduler plugin's tests: leases, pods and a SchedulingView over plain data.
import type { V1Pod } from '@kubernetes/client-node';
import type { ComputeLease, LeasePhase, Reservation } from '../../operator/src/api/types.js';
import { LEASE_LABEL } from '../../operator/src/inventory/labels.js';
import type { SchedulingView } from '../filter.js';
import { readPod, type PodFacts } from '../protocol.js';
import { LeaseUsage } from '../usage.js';

export const NOW = Date.parse('2026-03-01T12:00:00Z');

export function lease(name: string, opts: { ns?: string; phase?: LeasePhase; reservation?: Reservation[]; pool?: string; gpus?: number; endTime?: string } = {}): ComputeLease {
  return {
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'ComputeLease',
    metadata: { name, namespace: opts.ns ?? 'team-a', uid: `uid-${name}`, resourceVersion: '1' },
    spec: {
      pool: opts.pool ?? 'a100',
      gpus: opts.gpus ?? (opts.reservation ?? []).reduce((s, r) => s + r.gpus, 0),
      duration: '1h',
      maxPrice: { total: '1000' },
      payer: { address: `0x${'1'.repeat(40)}`, authorizationSecretRef: { name: 'auth' } },
    },
    status: {
      ...(opts.phase ? { phase: opts.phase } : {}),
      ...(opts.reservation ? { reservation: opts.reservation } : {}),
      ...(opts.endTime ? { endTime: opts.endTime } : {}),
    },
  };
}

export function pod(name: string, opts: { ns?: string; lease?: string; gpus?: number; resource?: string; node?: string; phase?: string; uid?: string } = {}): V1Pod {
  const resource = opts.resource ?? 'nvidia.com/gpu';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.ns ?? 'team-a',
      uid: opts.uid ?? `uid-${name}`,
      labels: opts.lease === undefined ? { app: 'x' } : { app: 'x', [LEASE_LABEL]: opts.lease },
    },
    spec: {
      ...(opts.node ? { nodeName: opts.node } : {}),
      containers: [{ name: 'c', image: 'img', resources: opts.gpus === undefined ? {} : { limits: { [resource]: String(opts.gpus) }, requests: { cpu: '1' } } }],
    },
    status: { phase: opts.phase ?? (opts.node ? 'Running' : 'Pending') },
  };
}

export function facts(p: V1Pod): PodFacts {
  const r = readPod(p);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** A view over a list of leases and pods (pods with nodeName count as bound). */
export function staticView(leases: readonly ComputeLease[], pods: readonly V1Pod[] = [], opts: { resources?: Record<string, string>; now?: number } = {}): SchedulingView & { usage: LeaseUsage } {
  const now = opts.now ?? NOW;
  const usage = new LeaseUsage({ now: () => now });
  for (const p of pods) usage.upsert(p);
  const byKey = new Map(leases.map((l) => [`${l.metadata?.namespace}/${l.metadata?.name}`, l]));
  return {
    usage,
    lease: (ns, name) => byKey.get(`${ns}/${name}`),
    resourceOf: (pool) => opts.resources?.[pool] ?? 'nvidia.com/gpu',
    used: (k, node, r) => usage.used(k, node, r),
    now: () => now,
  };
}
