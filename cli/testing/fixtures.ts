// Small builders for the CLI's unit tests: nodes as the NVIDIA device plugin publishes them,
// pools, leases, and an Io that records what a command writes.
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import type { ComputeLease, GpuPool } from '../../operator/src/api/types.js';
import type { CliEnv, Io } from '../io.js';

export function node(name: string, o: { product?: string; resource?: string; gpus?: string; labels?: Record<string, string>; ready?: boolean; cordoned?: boolean; taints?: V1Taint[] } = {}): V1Node {
  const resource = o.resource ?? 'nvidia.com/gpu';
  return {
    metadata: { name, resourceVersion: '7', labels: { 'kubernetes.io/hostname': name, ...(o.product === undefined ? { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' } : o.product ? { 'nvidia.com/gpu.product': o.product } : {}), ...o.labels } },
    spec: { ...(o.cordoned ? { unschedulable: true } : {}), ...(o.taints ? { taints: o.taints } : {}) },
    status: {
      allocatable: { cpu: '64', ...(o.gpus === '' ? {} : { [resource]: o.gpus ?? '8' }) },
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  } as V1Node;
}

export function pool(name: string, o: { selector?: GpuPool['spec']['nodeSelector']; resourceName?: string; product?: string; created?: string; allocatable?: number; free?: number; pricing?: Partial<GpuPool['spec']['pricing']>; leases?: GpuPool['spec']['leases'] } = {}): GpuPool {
  return {
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'GpuPool',
    metadata: { name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
    spec: {
      nodeSelector: o.selector ?? { matchLabels: { 'pinfi.io/pool': name } },
      ...(o.resourceName ? { resourceName: o.resourceName } : {}),
      pricing: { token: `0x${'1'.repeat(40)}`, treasury: `0x${'2'.repeat(40)}`, floorPrice: '1000000', ceilingPrice: '40000000', depth: 1, ...o.pricing },
      ...(o.leases ? { leases: o.leases } : {}),
    },
    status: {
      ...(o.product !== undefined ? { product: o.product } : {}),
      ...(o.allocatable !== undefined ? { allocatable: o.allocatable, free: o.free ?? o.allocatable } : {}),
    },
  };
}

export function lease(name: string, o: { phase?: string; uid?: string; created?: string; deadline?: string; endTime?: string; spec?: Partial<ComputeLease['spec']> } = {}): ComputeLease {
  return {
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'ComputeLease',
    metadata: { name, namespace: 'team', uid: o.uid ?? 'uid-1', creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
    spec: {
      pool: 'a100', gpus: 2, duration: '1h', maxPrice: { total: '5000000' },
      ...(o.deadline ? { deadline: o.deadline } : {}),
      payer: { address: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720', authorizationSecretRef: { name: `${name}-auth` } },
      ...o.spec,
    },
    ...(o.phase ? { status: { phase: o.phase as never, ...(o.endTime ? { endTime: o.endTime } : {}) } } : {}),
  };
}

export const emptyEnv: CliEnv = { kubeconfigs: [], home: undefined, rpcUrl: undefined, escrow: undefined, keystorePassword: undefined, operatorUrl: undefined };

export function recordingIo(env: Partial<CliEnv> = {}, nowMs = Date.parse('2026-01-01T00:10:00Z')): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    now: () => nowMs,
    env: { ...emptyEnv, ...env },
    promptSecret: undefined,
    stdout: () => out,
    stderr: () => err,
  };
}
