import { filterNodes, prioritizeNodes, toFilterResult, type SchedulingView } from './filter.js';
import { encodeFilterResult, type FilterInput } from './protocol.js';
import { NOW, facts, lease, pod, staticView } from './testing/builders.js';
import { LeaseUsage } from './usage.js';

const NODES = ['gpu-0', 'gpu-1', 'gpu-2', 'cpu-0'];

/** The decision as the protocol object, checked against its fast JSON encoding. */
function run(input: FilterInput, view: SchedulingView) {
  const d = filterNodes(input, view);
  const result = toFilterResult(d);
  expect(JSON.parse(encodeFilterResult(d))).toEqual(result);
  return { result, placement: d.placement };
}
const active = (reservation = [{ node: 'gpu-0', gpus: 4 }, { node: 'gpu-1', gpus: 2 }]) => lease('train', { phase: 'Active', reservation });

describe('filter: pods without a lease', () => {
  test('pass through untouched, whatever the leases', () => {
    const r = run({ pod: facts(pod('web', { gpus: 1 })), nodeNames: NODES }, staticView([active()]));
    expect(r.result).toEqual({ NodeNames: NODES, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' });
    expect(r.placement).toBeUndefined();
  });
});

describe('filter: lease-level reasons go on every node, unresolvable', () => {
  test.each([
    ['missing lease', [], 'lease team-a/train does not exist'],
    ['no phase yet', [lease('train')], 'lease team-a/train is not active yet (phase Pending)'],
    ['Funded', [lease('train', { phase: 'Funded', reservation: [{ node: 'gpu-0', gpus: 4 }] })], 'lease team-a/train is not active yet (phase Funded)'],
    ['Ending', [lease('train', { phase: 'Ending', reservation: [{ node: 'gpu-0', gpus: 4 }] })], 'lease team-a/train is ending and takes no new pods'],
    ['Settled', [lease('train', { phase: 'Settled' })], 'lease team-a/train is over (phase Settled)'],
    ['Active past its end', [lease('train', { phase: 'Active', reservation: [{ node: 'gpu-0', gpus: 4 }], endTime: '2026-03-01T11:00:00Z' })], 'lease team-a/train ended at 2026-03-01T11:00:00Z'],
    ['Active without reservation', [lease('train', { phase: 'Active' })], 'lease team-a/train has no reservation yet'],
    ['same name in another namespace', [lease('train', { ns: 'team-b', phase: 'Active', reservation: [{ node: 'gpu-0', gpus: 4 }] })], 'lease team-a/train does not exist'],
  ])('%s', (_what, leases, reason) => {
    const r = run({ pod: facts(pod('p', { lease: 'train', gpus: 1 })), nodeNames: NODES }, staticView(leases));
    expect(r.result.NodeNames).toEqual([]);
    expect(r.result.FailedAndUnresolvableNodes).toEqual(Object.fromEntries(NODES.map((n) => [n, reason])));
    expect(r.placement).toBeUndefined();
  });

  test('a pod asking for another kind of GPU than its lease holds', () => {
    const view = staticView([active()], [], { resources: { a100: 'nvidia.com/mig-1g.10gb' } });
    const r = run({ pod: facts(pod('p', { lease: 'train', gpus: 1 })), nodeNames: ['gpu-0'] }, view);
    expect(r.result.FailedAndUnresolvableNodes).toEqual({ 'gpu-0': 'the pod asks for nvidia.com/gpu but lease team-a/train holds nvidia.com/mig-1g.10gb' });
  });
});

describe('filter: an Active lease', () => {
  test('sends the pod to the reserved node with the most room; reserved nodes not chosen get a reason', () => {
    const r = run({ pod: facts(pod('p', { lease: 'train', gpus: 1 })), nodeNames: NODES }, staticView([active()]));
    // Nodes outside the reservation are left out once a node fits (kube-scheduler: unresolvable).
    expect(r.result).toEqual({
      NodeNames: ['gpu-0'],
      FailedNodes: { 'gpu-1': 'lease team-a/train places this pod on gpu-0, which has the most reserved GPUs free' },
      FailedAndUnresolvableNodes: {},
      Error: '',
    });
    expect(r.placement).toEqual({ lease: 'team-a/train', node: 'gpu-0', requests: new Map([['nvidia.com/gpu', 1]]) });
  });

  test.each([
    ['full', [pod('a', { lease: 'train', gpus: 4, node: 'gpu-0' }), pod('b', { lease: 'train', gpus: 2, node: 'gpu-1' })], 1, {
      'gpu-0': 'reservation on gpu-0 is full: 4/4 GPUs in use',
      'gpu-1': 'reservation on gpu-1 is full: 2/2 GPUs in use',
    }],
    ['not enough left', [pod('a', { lease: 'train', gpus: 3, node: 'gpu-0' }), pod('b', { lease: 'train', gpus: 1, node: 'gpu-1' })], 2, {
      'gpu-0': 'reservation on gpu-0 has 1 of 4 GPUs free, the pod needs 2',
      'gpu-1': 'reservation on gpu-1 has 1 of 2 GPUs free, the pod needs 2',
    }],
  ])('reservation %s', (_what, bound, gpus, reasons) => {
    const r = run({ pod: facts(pod('p', { lease: 'train', gpus })), nodeNames: ['gpu-0', 'gpu-1'] }, staticView([active()], bound));
    expect(r.result.NodeNames).toEqual([]);
    expect(r.result.FailedAndUnresolvableNodes).toEqual(reasons);
  });

  test('finished pods do not count; terminating ones do; other leases and namespaces do not', () => {
    const pods = [
      pod('done', { lease: 'train', gpus: 4, node: 'gpu-0', phase: 'Succeeded' }),
      pod('failed', { lease: 'train', gpus: 4, node: 'gpu-0', phase: 'Failed' }),
      pod('other-lease', { lease: 'infer', gpus: 4, node: 'gpu-0' }),
      pod('other-ns', { ns: 'team-b', lease: 'train', gpus: 4, node: 'gpu-0' }),
      { ...pod('stopping', { lease: 'train', gpus: 1, node: 'gpu-0' }), metadata: { ...pod('stopping', { lease: 'train', gpus: 1, node: 'gpu-0' }).metadata, deletionTimestamp: new Date(NOW) } },
    ];
    const r = run({ pod: facts(pod('p', { lease: 'train', gpus: 3 })), nodeNames: ['gpu-0'] }, staticView([active()], pods));
    expect(r.result.NodeNames).toEqual(['gpu-0']);
    const r2 = run({ pod: facts(pod('p', { lease: 'train', gpus: 4 })), nodeNames: ['gpu-0'] }, staticView([active()], pods));
    expect(r2.result.FailedAndUnresolvableNodes).toEqual({ 'gpu-0': 'reservation on gpu-0 has 3 of 4 GPUs free, the pod needs 4' });
  });

  test("a second lease's pods never land in the first lease's reservation", () => {
    const first = lease('train', { phase: 'Active', reservation: [{ node: 'gpu-0', gpus: 4 }] });
    const second = lease('infer', { phase: 'Active', reservation: [{ node: 'gpu-0', gpus: 2 }, { node: 'gpu-1', gpus: 2 }] });
    const view = staticView([first, second], [pod('i1', { lease: 'infer', gpus: 2, node: 'gpu-0' }), pod('i2', { lease: 'infer', gpus: 2, node: 'gpu-1' })]);
    const r = run({ pod: facts(pod('p', { lease: 'infer', gpus: 1 })), nodeNames: ['gpu-0', 'gpu-1', 'gpu-2'] }, view);
    expect(r.result.NodeNames).toEqual([]);
    expect(r.result.FailedAndUnresolvableNodes?.['gpu-0']).toBe('reservation on gpu-0 is full: 2/2 GPUs in use');
  });

  test('a lost node is refused with when it was lost', () => {
    const l = active([{ node: 'gpu-0', gpus: 4, lostAt: '2026-03-01T10:00:00Z' } as never, { node: 'gpu-1', gpus: 2 }]);
    const r = run({ pod: facts(pod('p', { lease: 'train', gpus: 1 })), nodeNames: ['gpu-0', 'gpu-1'] }, staticView([l]));
    expect(r.result.NodeNames).toEqual(['gpu-1']);
    expect(r.result.FailedAndUnresolvableNodes).toEqual({ 'gpu-0': 'the reservation of lease team-a/train on gpu-0 was lost at 2026-03-01T10:00:00Z' });
    const none = run({ pod: facts(pod('p', { lease: 'train', gpus: 3 })), nodeNames: ['gpu-0', 'gpu-1', 'gpu-7'] }, staticView([l]));
    expect(none.result.FailedAndUnresolvableNodes).toEqual({
      'gpu-0': 'the reservation of lease team-a/train on gpu-0 was lost at 2026-03-01T10:00:00Z',
      'gpu-1': 'reservation on gpu-1 has 2 of 2 GPUs free, the pod needs 3',
      'gpu-7': "node is not part of lease team-a/train's reservation",
    });
  });

  test('unknown and duplicated node names are answered, never echoed back wrongly', () => {
    const r = run({ pod: facts(pod('p', { lease: 'train', gpus: 1 })), nodeNames: ['nope', 'gpu-1', 'gpu-1'] }, staticView([active()]));
    expect(r.result.NodeNames).toEqual(['gpu-1']);
    expect(r.result.FailedAndUnresolvableNodes).toEqual({});
  });

  test('placements count until the binding is seen, so back-to-back pods cannot overfill a reservation', () => {
    const view = staticView([active([{ node: 'gpu-0', gpus: 2 }, { node: 'gpu-1', gpus: 1 }])]);
    const placed: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      const p = facts(pod(name, { lease: 'train', gpus: 1 }));
      const d = run({ pod: p, nodeNames: ['gpu-0', 'gpu-1'] }, view);
      if (d.placement && p.uid) view.usage.place(p.uid, d.placement.lease, d.placement.node, d.placement.requests);
      placed.push(d.result.NodeNames?.[0] ?? '-');
    }
    expect(placed).toEqual(['gpu-0', 'gpu-0', 'gpu-1', '-']);
    // The binding shows up: the placement is replaced by the bound pod, the count stays.
    view.usage.upsert(pod('a', { lease: 'train', gpus: 1, node: 'gpu-0' }));
    expect(view.used('team-a/train', 'gpu-0', 'nvidia.com/gpu')).toBe(2);
    expect(view.usage.pendingPlacements()).toBe(2);
    // A pod deleted before binding frees its place.
    view.usage.remove(pod('b', { lease: 'train', gpus: 1 }));
    expect(view.used('team-a/train', 'gpu-0', 'nvidia.com/gpu')).toBe(1);
  });
});

describe('placements', () => {
  test('expire after their TTL and are replaced when the same pod is filtered again', () => {
    let now = 0;
    const u = new LeaseUsage({ now: () => now, ttlMs: 1000 });
    const req = new Map([['nvidia.com/gpu', 2]]);
    u.place('u1', 'ns/l', 'n1', req);
    u.place('u1', 'ns/l', 'n2', req);
    expect(u.used('ns/l', 'n1', 'nvidia.com/gpu')).toBe(0);
    expect(u.used('ns/l', 'n2', 'nvidia.com/gpu')).toBe(2);
    now = 1000;
    expect(u.used('ns/l', 'n2', 'nvidia.com/gpu')).toBe(0);
    expect(u.pendingPlacements()).toBe(0);
  });
});

describe('prioritize', () => {
  test('reserved nodes score by unused units; everything else 0', () => {
    const view = staticView([active()], [pod('a', { lease: 'train', gpus: 2, node: 'gpu-0' })]);
    expect(prioritizeNodes({ pod: facts(pod('p', { lease: 'train', gpus: 1 })), nodeNames: NODES }, view)).toEqual([
      { Host: 'gpu-0', Score: 10 },
      { Host: 'gpu-1', Score: 10 },
      { Host: 'gpu-2', Score: 0 },
      { Host: 'cpu-0', Score: 0 },
    ]);
    const view2 = staticView([active()], [pod('a', { lease: 'train', gpus: 3, node: 'gpu-0' })]);
    expect(prioritizeNodes({ pod: facts(pod('p', { lease: 'train', gpus: 1 })), nodeNames: ['gpu-0', 'gpu-1'] }, view2)).toEqual([
      { Host: 'gpu-0', Score: 5 },
      { Host: 'gpu-1', Score: 10 },
    ]);
    expect(prioritizeNodes({ pod: facts(pod('w', { gpus: 1 })), nodeNames: ['gpu-0'] }, view)).toEqual([{ Host: 'gpu-0', Score: 0 }]);
  });
});

test('the JSON encoding survives names that need escaping', () => {
  const names = ['a","b', 'q"uote', 'back\\slash', '$&$1', 'ü', 'gpu-0', 'a","b'];
  const full = pod('full', { lease: 'train', gpus: 4, node: 'gpu-0' });
  const d = filterNodes({ pod: facts(pod('p', { lease: 'train', gpus: 1 })), nodeNames: names }, staticView([active()], [full]));
  const decoded = JSON.parse(encodeFilterResult(d)) as { FailedAndUnresolvableNodes: Record<string, string>; NodeNames: string[] };
  expect(decoded.NodeNames).toEqual([]);
  expect(Object.keys(decoded.FailedAndUnresolvableNodes).sort()).toEqual(['$&$1', 'a","b', 'back\\slash', 'gpu-0', 'q"uote', 'ü'].sort());
  const plain = filterNodes({ pod: facts(pod('w')), nodeNames: names }, staticView([]));
  expect(JSON.parse(encodeFilterResult(plain)).NodeNames).toEqual(names);
});
