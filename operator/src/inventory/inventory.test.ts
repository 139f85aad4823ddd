import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { gpuNode, OPENB_MODELS } from '../../../test/env/gpu-nodes.js';
import { assignNodes, poolInventory, type PoolRef } from './inventory.js';
import { matchesSelector } from './selector.js';
import { parseCount, podRequest } from './quantity.js';

const A100 = OPENB_MODELS.G2;
const T4 = OPENB_MODELS.T4;

function pool(name: string, product: string, over: Partial<PoolRef> = {}): PoolRef {
  return { name, selector: { matchLabels: { 'nvidia.com/gpu.product': product } }, resourceName: 'nvidia.com/gpu', createdAt: 1, ...over };
}

function ready(n: V1Node, isReady = true): V1Node {
  return { ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: isReady ? 'True' : 'False' }] } };
}

function pod(name: string, node: string, gpus: number, labels: Record<string, string> = {}, phase = 'Running'): V1Pod {
  return {
    metadata: { name, labels },
    spec: { nodeName: node, containers: [{ name: 'c', resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }] },
    status: { phase },
  };
}

const nodes = [
  ready(gpuNode({ name: 'a0', model: A100, gpus: 8 })),
  ready(gpuNode({ name: 'a1', model: A100, gpus: 8, unhealthy: 1 })),
  ready(gpuNode({ name: 'a2', model: A100, gpus: 8 }), false),
  { ...ready(gpuNode({ name: 'a3', model: A100, gpus: 4 })), spec: { unschedulable: true } },
  ready(gpuNode({ name: 't0', model: T4, gpus: 4 })),
];

function inv(p: PoolRef, ns: V1Node[] = nodes, pods: V1Pod[] = [], reserved: Record<string, number> = {}) {
  const byNode = new Map<string, V1Pod[]>();
  for (const x of pods) byNode.set(x.spec?.nodeName ?? '', [...(byNode.get(x.spec?.nodeName ?? '') ?? []), x]);
  return poolInventory(p, ns, assignNodes([p], ns), byNode, new Map(Object.entries(reserved)));
}

test('allocatable (not capacity) of Ready, schedulable member nodes', () => {
  const i = inv(pool('a100', A100.product));
  expect(i.members.map((m) => [m.name, m.allocatable, m.capacity])).toEqual([
    ['a0', 8, 8],
    ['a1', 7, 8],
  ]);
  expect(i.allocatable).toBe(15);
  expect(i.free).toBe(15);
  expect(i.product).toBe(A100.product);
  expect(i.excluded.map((e) => [e.name, e.reason])).toEqual([
    ['a2', 'NotReady'],
    ['a3', 'Cordoned'],
  ]);
});

test('free subtracts lease reservations and other pods, but not lease pods twice', () => {
  const pods = [
    pod('other', 'a0', 2),
    pod('lease-pod', 'a0', 3, { 'pinfi.io/lease': 'train' }),
    pod('done', 'a0', 4, {}, 'Succeeded'),
    pod('elsewhere', 't0', 1),
  ];
  const i = inv(pool('a100', A100.product), nodes, pods, { a0: 3, a1: 7 });
  const a0 = i.members.find((m) => m.name === 'a0');
  expect(a0).toMatchObject({ leased: 3, usedByOthers: 2, free: 3 });
  expect(i.free).toBe(3);
  expect(i.leased).toBe(10);
});

test('a node matched by two pools is sold by the older one and reported on both', () => {
  const older = pool('old', A100.product, { createdAt: 1 });
  const newer: PoolRef = { name: 'new', selector: { matchExpressions: [{ key: 'nvidia.com/gpu.present', operator: 'Exists' }] }, resourceName: 'nvidia.com/gpu', createdAt: 2 };
  const owners = assignNodes([newer, older], nodes);
  const a = poolInventory(older, nodes, owners, new Map(), new Map());
  const b = poolInventory(newer, nodes, owners, new Map(), new Map());
  expect(a.members.map((m) => m.name)).toEqual(['a0', 'a1']);
  expect(b.members.map((m) => m.name)).toEqual(['t0']);
  expect(b.excluded.filter((e) => e.reason === 'ClaimedByPool').map((e) => e.name)).toEqual(['a0', 'a1', 'a2', 'a3']);
});

test.each([
  ['no resource', gpuNode({ name: 'm', model: A100, gpus: 2, sharing: { mode: 'mig', profile: '1g.10gb', perGpu: 7 } }), 'NoResource'],
  [
    'garbage quantity',
    (() => {
      const n = gpuNode({ name: 'g', model: A100, gpus: 2 });
      return { ...n, status: { ...n.status, allocatable: { 'nvidia.com/gpu': '1.5' } } };
    })(),
    'BadQuantity',
  ],
  [
    'time-sliced without rename',
    (() => {
      const n = gpuNode({ name: 's', model: A100, gpus: 2 });
      return { ...n, metadata: { ...n.metadata, labels: { ...n.metadata?.labels, 'nvidia.com/gpu.replicas': '4' } } };
    })(),
    'SharedGpus',
  ],
])('a node with %s is excluded with a reason', (_what, node, reason) => {
  const i = inv(pool('a100', A100.product), [ready(node)]);
  expect(i.members).toEqual([]);
  expect(i.excluded[0]?.reason).toBe(reason);
  expect(i.excluded[0]?.message.length).toBeGreaterThan(10);
});

test('MIG and time-sliced resources are their own pools', () => {
  const mig = ready(gpuNode({ name: 'm', model: A100, gpus: 2, sharing: { mode: 'mig', profile: '1g.10gb', perGpu: 7 } }));
  const ts = ready(gpuNode({ name: 's', model: T4, gpus: 2, sharing: { mode: 'time-slicing', replicas: 4 } }));
  expect(inv(pool('mig', A100.product, { resourceName: 'nvidia.com/mig-1g.10gb' }), [mig]).allocatable).toBe(14);
  expect(inv(pool('ts', T4.product, { resourceName: 'nvidia.com/gpu.shared' }), [ts]).allocatable).toBe(8);
});

test('a selector matching nothing gives an empty pool, and an empty selector matches nothing', () => {
  expect(inv(pool('none', 'Nonexistent-GPU')).allocatable).toBe(0);
  expect(matchesSelector({}, { a: 'b' })).toBe(false);
});

test.each([
  [{ matchExpressions: [{ key: 'x', operator: 'In', values: ['1', '2'] }] }, { x: '2' }, true],
  [{ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }] }, { x: '1' }, false],
  [{ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }] }, {}, true],
  [{ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, { x: '' }, false],
  [{ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'Exists' }] }, { a: '1', b: '' }, true],
  [{ matchExpressions: [{ key: 'x', operator: 'Gt', values: ['1'] }] }, { x: '2' }, false],
])('selector %j on %j → %s', (sel, labels, want) => {
  expect(matchesSelector(sel, labels)).toBe(want);
});

test.each([
  ['8', 8],
  ['0', 0],
  ['1.5', undefined],
  ['8k', undefined],
  ['-1', undefined],
  ['', undefined],
  [undefined, undefined],
])('parseCount(%j) = %j', (q, want) => {
  expect(parseCount(q)).toBe(want);
});

test('podRequest takes the larger of the containers sum and the largest init container', () => {
  const p: V1Pod = {
    spec: {
      containers: [
        { name: 'a', resources: { requests: { 'nvidia.com/gpu': '1' } } },
        { name: 'b', resources: { limits: { 'nvidia.com/gpu': '2' } } },
      ],
      initContainers: [{ name: 'i', resources: { limits: { 'nvidia.com/gpu': '4' } } }],
    },
  };
  expect(podRequest(p, 'nvidia.com/gpu')).toBe(4);
});
