// Simulated GPU nodes, shaped exactly as the NVIDIA device plugin and GPU Feature Discovery (GFD)
// publish real ones: the GPU resource in status.capacity / status.allocatable (allocatable lower
// when the plugin has marked a GPU unhealthy) and GFD's nvidia.com/gpu.* labels. kwok plays the
// kubelet of every node carrying its annotation, keeping the status we create it with.
//
// Pure builders over plain data; the I/O that creates them is in nodes-io.ts.
import { readFileSync } from 'node:fs';
import type { V1Node } from '@kubernetes/client-node';

export const GPU = 'nvidia.com/gpu';
export const GPU_SHARED = 'nvidia.com/gpu.shared';

/** A GPU model as GFD labels it (`nvidia.com/gpu.product`, `nvidia.com/gpu.memory` in MiB). */
export type GpuModel = { readonly product: string; readonly memoryMiB: number; readonly family: string };

/**
 * The OpenB trace names models by short codes; these are the products they are mapped onto.
 * P100, T4, V100 and A10 are named in the trace; G2 and G3 are Alibaba's own codes for newer
 * generations, mapped here (an assumption, documented in docs/local-environment.md) onto A100
 * and H100 so the node set looks like a current cluster.
 */
export const OPENB_MODELS = {
  P100: { product: 'Tesla-P100-PCIE-16GB', memoryMiB: 16384, family: 'pascal' },
  T4: { product: 'Tesla-T4', memoryMiB: 15360, family: 'turing' },
  V100M16: { product: 'Tesla-V100-SXM2-16GB', memoryMiB: 16384, family: 'volta' },
  V100M32: { product: 'Tesla-V100-SXM2-32GB', memoryMiB: 32768, family: 'volta' },
  A10: { product: 'NVIDIA-A10', memoryMiB: 23028, family: 'ampere' },
  G2: { product: 'NVIDIA-A100-SXM4-80GB', memoryMiB: 81920, family: 'ampere' },
  G3: { product: 'NVIDIA-H100-80GB-HBM3', memoryMiB: 81559, family: 'hopper' },
} as const satisfies Record<string, GpuModel>;

export type OpenbModel = keyof typeof OPENB_MODELS;

export type Sharing =
  | { readonly mode: 'none' }
  /** Time-slicing: the plugin advertises `replicas` × GPUs as `nvidia.com/gpu.shared` (renameByDefault). */
  | { readonly mode: 'time-slicing'; readonly replicas: number }
  /** MIG (mixed strategy): one resource per profile, e.g. nvidia.com/mig-1g.10gb: 7. */
  | { readonly mode: 'mig'; readonly profile: string; readonly perGpu: number };

export type GpuNodeSpec = {
  readonly name: string;
  readonly model: GpuModel;
  readonly gpus: number;
  /** GPUs the device plugin reports unhealthy (left out of allocatable). */
  readonly unhealthy?: number;
  readonly sharing?: Sharing;
  readonly cpuMilli?: number;
  readonly memoryMiB?: number;
  readonly labels?: Readonly<Record<string, string>>;
};

/** The resource name a node's GPUs are sold under. */
export function resourceName(spec: Pick<GpuNodeSpec, 'sharing'>): string {
  const s = spec.sharing ?? { mode: 'none' };
  if (s.mode === 'time-slicing') return GPU_SHARED;
  if (s.mode === 'mig') return `nvidia.com/mig-${s.profile}`;
  return GPU;
}

export function gpuNode(spec: GpuNodeSpec): V1Node {
  const sharing = spec.sharing ?? { mode: 'none' };
  const healthy = spec.gpus - (spec.unhealthy ?? 0);
  const resource = resourceName(spec);
  const factor = sharing.mode === 'time-slicing' ? sharing.replicas : sharing.mode === 'mig' ? sharing.perGpu : 1;
  const cpu = `${spec.cpuMilli ?? 64000}m`;
  const memory = `${spec.memoryMiB ?? 262144}Mi`;
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': spec.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    type: 'kwok',
    'nvidia.com/gpu.present': 'true',
    'nvidia.com/gpu.product': spec.model.product,
    'nvidia.com/gpu.memory': String(spec.model.memoryMiB),
    'nvidia.com/gpu.family': spec.model.family,
    'nvidia.com/gpu.count': String(spec.gpus),
    'nvidia.com/gpu.sharing-strategy': sharing.mode,
    'nvidia.com/mig.capable': String(sharing.mode === 'mig'),
    ...(sharing.mode === 'time-slicing' ? { 'nvidia.com/gpu.replicas': String(sharing.replicas) } : {}),
    ...(sharing.mode === 'mig' ? { 'nvidia.com/mig.strategy': 'mixed', 'nvidia.com/mig.config': `all-${sharing.profile}` } : {}),
    ...spec.labels,
  };
  const base = { cpu, memory, pods: '110', 'ephemeral-storage': '500Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {},
    status: {
      capacity: { ...base, [resource]: String(spec.gpus * factor) },
      allocatable: { ...base, [resource]: String(healthy * factor) },
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion: 'v1.36.3',
        kubeProxyVersion: '',
        containerRuntimeVersion: 'kwok',
        kernelVersion: '',
        osImage: '',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
      phase: 'Running',
    },
  };
}

/** The default small node set: two whole-GPU pools, a MIG node, a time-sliced node, a CPU node. */
export function smallNodeSet(): GpuNodeSpec[] {
  const a100 = OPENB_MODELS.G2;
  const t4 = OPENB_MODELS.T4;
  return [
    { name: 'gpu-a100-0', model: a100, gpus: 8 },
    { name: 'gpu-a100-1', model: a100, gpus: 8 },
    { name: 'gpu-a100-2', model: a100, gpus: 8, unhealthy: 1 },
    { name: 'gpu-a100-3', model: a100, gpus: 4 },
    { name: 'gpu-t4-0', model: t4, gpus: 4 },
    { name: 'gpu-t4-1', model: t4, gpus: 4 },
    { name: 'gpu-t4-2', model: t4, gpus: 2 },
    { name: 'gpu-a100-mig-0', model: a100, gpus: 2, sharing: { mode: 'mig', profile: '1g.10gb', perGpu: 7 } },
    { name: 'gpu-t4-shared-0', model: t4, gpus: 2, sharing: { mode: 'time-slicing', replicas: 4 } },
  ];
}

/** A CPU-only node (no GPU labels or resources), as most clusters also have. */
export function cpuNode(name: string): V1Node {
  const node = gpuNode({ name, model: OPENB_MODELS.T4, gpus: 0 });
  const labels = Object.fromEntries(Object.entries(node.metadata?.labels ?? {}).filter(([k]) => !k.startsWith('nvidia.com/')));
  const strip = (r: Record<string, string> | undefined) => Object.fromEntries(Object.entries(r ?? {}).filter(([k]) => k !== GPU));
  return {
    ...node,
    metadata: { ...node.metadata, labels },
    status: { ...node.status, capacity: strip(node.status?.capacity), allocatable: strip(node.status?.allocatable) },
  };
}

export type OpenbOptions = {
  /** Only these models (default all seven). */
  readonly models?: readonly OpenbModel[];
  /** Keep every k-th node of each model (1 = all). */
  readonly every?: number;
  readonly namePrefix?: string;
};

/** Parses a CSV with a header row into records keyed by column name (no quoted fields in the trace). */
export function parseCsv(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trim().split(/\r?\n/);
  const cols = (head ?? '').split(',').map((c) => c.trim());
  return rows.filter((r) => r.trim() !== '').map((r) => {
    const cells = r.split(',');
    return Object.fromEntries(cols.map((c, i) => [c, (cells[i] ?? '').trim()]));
  });
}

/** GPU nodes of the Alibaba OpenB node list (`sn,cpu_milli,memory_mib,gpu,model`). */
export function openbNodeSet(csvPath: string, opts: OpenbOptions = {}): GpuNodeSpec[] {
  const rows = parseCsv(readFileSync(csvPath, 'utf8'));
  const every = Math.max(1, opts.every ?? 1);
  const seen = new Map<string, number>();
  const out: GpuNodeSpec[] = [];
  for (const row of rows) {
    const code = row.model as OpenbModel | undefined;
    const gpus = Number(row.gpu);
    if (!code || !(code in OPENB_MODELS) || !(gpus > 0)) continue;
    if (opts.models && !opts.models.includes(code)) continue;
    const n = seen.get(code) ?? 0;
    seen.set(code, n + 1);
    if (n % every !== 0) continue;
    out.push({
      name: `${opts.namePrefix ?? ''}${row.sn}`.toLowerCase(),
      model: OPENB_MODELS[code],
      gpus,
      cpuMilli: Number(row.cpu_milli) || 64000,
      memoryMiB: Number(row.memory_mib) || 262144,
      labels: { 'pinfi.io/openb-model': code },
    });
  }
  return out;
}
