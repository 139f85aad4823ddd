import type { V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import type { ComputeLease, GpuPool } from '../api/types.js';
import { reservationAffinityPatch, reservedNodes } from './affinity.js';
import { evictionDue, strayPods } from './eviction.js';
import { gateRemovalPatch, strandedPodNotice } from './gates.js';
import { LEASE_GATE, podLeaseKey, podsByLease } from './names.js';
import { poolNotice } from './notices.js';
import { desiredNodeTaints, nodeMembershipChanged } from './taints.js';

const node = (taints?: V1Taint[]): V1Node => ({ metadata: { name: 'n', labels: {} }, spec: taints ? { taints } : {} });
const pool = (p: string) => ({ key: 'pinfi.io/pool', value: p, effect: 'NoSchedule' });
const notReady = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

describe('pool taints', () => {
  test.each([
    ['joins a pool', node(), 'a100', [pool('a100')]],
    ['keeps other taints, first', node([notReady]), 'a100', [notReady, pool('a100')]],
    ['already right', node([notReady, pool('a100')]), 'a100', undefined],
    ['moves to another pool', node([pool('t4'), notReady]), 'a100', [notReady, pool('a100')]],
    ['duplicates collapse', node([pool('a100'), pool('a100')]), 'a100', [pool('a100')]],
    ['wrong effect fixed', node([{ key: 'pinfi.io/pool', value: 'a100', effect: 'NoExecute' }]), 'a100', [pool('a100')]],
    ['leaves its pool', node([notReady, pool('a100')]), undefined, [notReady]],
    ['never in a pool', node([notReady]), undefined, undefined],
  ])('%s', (_what, n, owner, want) => {
    expect(desiredNodeTaints(n, owner)).toEqual(want);
  });

  test('heartbeats do not wake the controller; labels and taints do', () => {
    const a: V1Node = { metadata: { name: 'n', labels: { x: '1' } }, status: { conditions: [] } };
    expect(nodeMembershipChanged({ type: 'update', old: a, obj: { ...a, status: { conditions: [{ type: 'Ready', status: 'True' }] } } })).toBe(false);
    expect(nodeMembershipChanged({ type: 'update', old: a, obj: { ...a, metadata: { name: 'n', labels: { x: '2' } } } })).toBe(true);
    expect(nodeMembershipChanged({ type: 'update', old: a, obj: a })).toBe(true); // resync
    expect(nodeMembershipChanged({ type: 'add', obj: a })).toBe(true);
  });
});

describe('gates', () => {
  test('the patch removes only the lease gate, guarded by a test of its position', () => {
    const p: V1Pod = { spec: { containers: [], schedulingGates: [{ name: 'other' }, { name: LEASE_GATE }] } };
    expect(gateRemovalPatch(p)).toEqual([
      { op: 'test', path: '/spec/schedulingGates/1/name', value: LEASE_GATE },
      { op: 'remove', path: '/spec/schedulingGates/1' },
    ]);
    expect(gateRemovalPatch({ spec: { containers: [], schedulingGates: [{ name: 'other' }] } })).toBeUndefined();
  });

  test('pods are indexed by namespace/lease', () => {
    const p: V1Pod = { metadata: { namespace: 'ns', labels: { 'pinfi.io/lease': 'train' } } };
    expect(podLeaseKey(p)).toBe('ns/train');
    expect(podsByLease(p)).toEqual(['ns/train']);
    expect(podsByLease({ metadata: { namespace: 'ns', labels: { 'pinfi.io/lease': '' } } })).toEqual([]);
  });
});

describe('stranded gated pods', () => {
  const lease = (phase: string | undefined, message?: string) =>
    ({ metadata: { name: 'train', namespace: 'team-a' }, spec: {}, status: phase ? { phase, ...(message ? { message } : {}) } : undefined }) as unknown as ComputeLease;
  test.each([undefined, 'Pending', 'Waiting', 'Reserved', 'Funded', 'Active'])('a lease that may still turn Active (%s): no notice', (phase) => {
    expect(strandedPodNotice(lease(phase))).toBeUndefined();
  });
  test.each(['Failed', 'Expired'])('a %s lease: the pod is told it will never start, with the lease\'s reason', (phase) => {
    expect(strandedPodNotice(lease(phase, 'funding failed: insufficient allowance'))).toBe(
      `ComputeLease team-a/train is ${phase} (funding failed: insufficient allowance): it will never be Active, so this pod stays gated; delete it, or label it with an Active lease`,
    );
  });
  test.each(['Ending', 'Settled'])('a lease that is over (%s): notice', (phase) => {
    expect(strandedPodNotice(lease(phase))).toMatch(/is over/);
  });
});

describe('lease end', () => {
  const l = (endTime?: string): ComputeLease => ({ spec: {} as ComputeLease['spec'], status: endTime ? { phase: 'Active', endTime } : { phase: 'Failed' } });
  test('eviction is due at endTime + grace, never without an endTime', () => {
    expect(evictionDue(l('2026-03-01T12:00:00Z'), 60_000)).toBe(Date.parse('2026-03-01T12:01:00Z'));
    expect(evictionDue(l(), 60_000)).toBeUndefined();
    expect(evictionDue(l('garbage'), 0)).toBeUndefined();
  });

  test('a pre-empted lease: due at once (its endTime, the pre-emption), without the grace period', () => {
    const pre: ComputeLease = { spec: {} as ComputeLease['spec'], status: { phase: 'Preempted', endTime: '2026-03-01T12:00:00Z', preemptedAt: '2026-03-01T12:00:00Z' } };
    expect(evictionDue(pre, 60_000)).toBe(Date.parse('2026-03-01T12:00:00Z'));
  });

  test('stray pods: those bound to a node the lease gave back and holds no more', () => {
    const pod = (name: string, nodeName?: string) => ({ metadata: { name }, spec: { containers: [], ...(nodeName ? { nodeName } : {}) } }) as V1Pod;
    const resumed: ComputeLease = {
      spec: {} as ComputeLease['spec'],
      status: { phase: 'Active', reservation: [{ node: 'n1', gpus: 2, releasedAt: '2026-03-01T12:00:00Z' }, { node: 'n2', gpus: 1, releasedAt: '2026-03-01T12:00:00Z' }, { node: 'n2', gpus: 1, addedAt: '2026-03-01T12:10:00Z' }, { node: 'n3', gpus: 1, addedAt: '2026-03-01T12:10:00Z' }] },
    };
    const pods = [pod('on-n1', 'n1'), pod('on-n2', 'n2'), pod('on-n3', 'n3'), pod('unbound')];
    expect(strayPods(resumed, pods).map((p) => p.metadata?.name)).toEqual(['on-n1']);
    expect(reservedNodes(resumed)).toEqual(['n2', 'n3']);
    expect(strayPods(l('2026-03-01T12:00:00Z'), pods)).toEqual([]);
  });
});

describe('pool notices', () => {
  const unschedulable = { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/7 nodes are available: 4 node(s) had untolerated taint(s), 3 Insufficient nvidia.com/gpu.' }] };
  const gpuPod = (labels: Record<string, string> = {}): V1Pod => ({
    metadata: { name: 'p', namespace: 'ns', labels },
    spec: { containers: [{ name: 'c', resources: { limits: { 'nvidia.com/gpu': '2' } } }] },
    status: unschedulable,
  });
  const pools = [
    { metadata: { name: 't4' }, spec: { nodeSelector: {}, pricing: {} } },
    { metadata: { name: 'a100' }, spec: { nodeSelector: {}, pricing: {} } },
    { metadata: { name: 'mig' }, spec: { nodeSelector: {}, resourceName: 'nvidia.com/mig-1g.10gb', pricing: {} } },
  ] as unknown as GpuPool[];

  test('a GPU pod without a lease kept off pool nodes by their taint is told why', () => {
    expect(poolNotice(gpuPod(), pools)).toMatch(/^the GPUs of GpuPool a100, t4 are sold through ComputeLeases/);
  });
  test.each([
    ['a lease pod', gpuPod({ 'pinfi.io/lease': 'x' })],
    ['a pod not refused for taints', { ...gpuPod(), status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '3 Insufficient cpu' }] } }],
    ['a pod asking for nothing the pools sell', { ...gpuPod(), spec: { containers: [{ name: 'c' }] } }],
    ['a bound pod', { ...gpuPod(), spec: { ...gpuPod().spec!, nodeName: 'n' } }],
  ])('no notice for %s', (_what, p) => {
    expect(poolNotice(p as V1Pod, pools)).toBeUndefined();
  });
});

describe('reservation as node affinity', () => {
  const pin = (n: string) => ({ key: 'metadata.name', operator: 'In', values: [n] });
  const zone = { key: 'zone', operator: 'In', values: ['a'] };
  const terms = (t: unknown[]) => ({ nodeSelectorTerms: t });
  test.each([
    ['no affinity', {}, true, [{ op: 'add', path: '/spec/affinity', value: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms([{ matchFields: [pin('n1')] }, { matchFields: [pin('n2')] }]) } } }]],
    ['pod affinity only', { affinity: { podAffinity: {} } }, false, [{ op: 'add', path: '/spec/affinity/nodeAffinity', value: { requiredDuringSchedulingIgnoredDuringExecution: terms([{ matchFields: [pin('n1')] }, { matchFields: [pin('n2')] }]) } }]],
    ['preferred only', { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } } }, false, [{ op: 'add', path: '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution', value: terms([{ matchFields: [pin('n1')] }, { matchFields: [pin('n2')] }]) }]],
    [
      'user terms at creation: each ANDed with each node',
      { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms([{ matchExpressions: [zone] }]) } } },
      true,
      [{ op: 'add', path: '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution', value: terms([{ matchExpressions: [zone], matchFields: [pin('n1')] }, { matchExpressions: [zone], matchFields: [pin('n2')] }]) }],
    ],
    ['user terms on a gated pod: left alone (the extender still decides)', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms([{ matchExpressions: [zone] }]) } } }, false, []],
    ['already pinned', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms([{ matchFields: [pin('n2')] }, { matchFields: [pin('n1')] }]) } } }, true, []],
  ])('%s', (_what, spec, mayRewrite, ops) => {
    expect(reservationAffinityPatch(spec, ['n1', 'n2'], mayRewrite)).toEqual(ops);
  });

  test('lost nodes are left out; nothing to pin, no patch', () => {
    const l = { spec: {}, status: { reservation: [{ node: 'n2', gpus: 1 }, { node: 'n1', gpus: 1 }, { node: 'n3', gpus: 1, lostAt: 'x' }, { node: 'n1', gpus: 2 }] } } as unknown as ComputeLease;
    expect(reservedNodes(l)).toEqual(['n1', 'n2']);
    expect(reservationAffinityPatch({}, [])).toEqual([]);
  });

  test('releasing a gated pod pins it in the same patch; rewriting its own affinity is guarded by its resourceVersion', () => {
    const p: V1Pod = { metadata: { resourceVersion: '42' }, spec: { containers: [], schedulingGates: [{ name: LEASE_GATE }] } };
    expect(gateRemovalPatch(p, ['n1'])?.map((o) => `${o.op} ${o.path}`)).toEqual(['test /spec/schedulingGates/0/name', 'remove /spec/schedulingGates/0', 'add /spec/affinity']);
    const withAffinity: V1Pod = { ...p, spec: { ...p.spec!, affinity: { podAntiAffinity: {} } } };
    expect(gateRemovalPatch(withAffinity, ['n1'])?.map((o) => `${o.op} ${o.path}`)).toEqual([
      'test /metadata/resourceVersion',
      'test /spec/schedulingGates/0/name',
      'remove /spec/schedulingGates/0',
      'add /spec/affinity/nodeAffinity',
    ]);
  });
});
