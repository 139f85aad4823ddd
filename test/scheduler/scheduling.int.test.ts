// The scheduler extension against the real kube-scheduler: a control plane of its own whose
// scheduler has the `pinfi` profile and calls the extender, kwok GPU nodes in two pools and one
// GPU node outside any pool, the scheduler plugin (extender + admission webhook) and the
// operator's enforcement controllers running in this process. Lease statuses are set through the
// status subresource, as the lease controller would.
import type { V1Node } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { LEASE_GATE } from '../../operator/src/enforcement/names.js';
import { RESOURCES, resourcePath } from '../../operator/src/kube/resources.js';
import { OPENB_MODELS, type GpuNodeSpec } from '../env/gpu-nodes.js';
import { eventually } from '../env/testing.js';
import { createLease, createNamespace, createPod, events, getPod, listPods, nodeTaints, podManifest, running, setLeaseStatus, startSchedulingEnv, type SchedulingEnv } from './harness.js';

const A100 = OPENB_MODELS.G2;
const T4 = OPENB_MODELS.T4;
const NODES: GpuNodeSpec[] = [
  { name: 'gpu-a-0', model: A100, gpus: 8 },
  { name: 'gpu-a-1', model: A100, gpus: 8 },
  { name: 'gpu-a-2', model: A100, gpus: 4 },
  { name: 'gpu-t-0', model: T4, gpus: 4 },
  { name: 'gpu-free-0', model: OPENB_MODELS.V100M32, gpus: 4 }, // in no pool
];
const hourFromNow = () => new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');

let env: SchedulingEnv;
const suite = randomBytes(2).toString('hex');
let nsCount = 0;
async function namespace(): Promise<string> {
  const ns = `sched-${suite}-${nsCount++}`;
  await createNamespace(env.clients, ns);
  return ns;
}

function waitRunning(ns: string, names: readonly string[], timeoutMs = 90_000) {
  return eventually(`${names.length} pods Running in ${ns}`, async () => {
    const pods = await listPods(env.clients, ns);
    const found = names.map((n) => pods.find((p) => p.metadata?.name === n));
    return found.every(running) ? found : undefined;
  }, timeoutMs, 250);
}

/** The scheduler's FailedScheduling message for a pod. */
function failedScheduling(ns: string, pod: string, contains: string) {
  return eventually(`FailedScheduling of ${ns}/${pod} mentioning "${contains}"`, async () => {
    const e = (await events(env.clients, ns, pod)).find((x) => x.reason === 'FailedScheduling' && x.message.includes(contains));
    return e?.message;
  }, 90_000, 500);
}

beforeAll(async () => {
  env = await startSchedulingEnv({
    name: `pinfi-sched-${process.pid}`,
    nodes: NODES,
    pools: { a100: A100.product, t4: T4.product },
    enforcement: { leaseEndGraceMs: 1_000, evictionTimeoutMs: 4_000 },
  });
  // Pool nodes are tainted by the taint controller before anything runs.
  await eventually('pool taints on every pool node', async () => {
    const list = await env.clients.rest.get<{ items: V1Node[] }>(resourcePath(RESOURCES.nodes));
    const taints = new Map(list.items.map((n) => [n.metadata?.name, nodeTaints(n)]));
    const ok =
      ['gpu-a-0', 'gpu-a-1', 'gpu-a-2'].every((n) => taints.get(n)?.includes('pinfi.io/pool=a100:NoSchedule')) &&
      taints.get('gpu-t-0')?.includes('pinfi.io/pool=t4:NoSchedule') &&
      (taints.get('gpu-free-0') ?? []).length === 0;
    return ok ? true : undefined;
  }, 60_000);
}, 420_000);

afterAll(async () => {
  await env?.stop();
}, 120_000);

test("an Active lease's pods land only on its reserved nodes; a second lease never takes the first's reservation", async () => {
  const ns = await namespace();
  await createLease(env.clients, ns, 'train', 'a100', 6, { phase: 'Active', reservation: [{ node: 'gpu-a-0', gpus: 4 }, { node: 'gpu-a-1', gpus: 2 }], endTime: hourFromNow() });
  await createLease(env.clients, ns, 'infer', 'a100', 4, { phase: 'Active', reservation: [{ node: 'gpu-a-0', gpus: 4 }], endTime: hourFromNow() });
  const train = Array.from({ length: 6 }, (_, i) => `train-${i}`);
  const infer = Array.from({ length: 4 }, (_, i) => `infer-${i}`);
  await Promise.all([
    ...train.map((n) => createPod(env.clients, podManifest(ns, n, { lease: 'train', gpus: 1 }))),
    ...infer.map((n) => createPod(env.clients, podManifest(ns, n, { lease: 'infer', gpus: 1 }))),
  ]);
  const t = await waitRunning(ns, train);
  const i = await waitRunning(ns, infer);
  const count = (pods: typeof t, node: string) => pods.filter((p) => p?.spec?.nodeName === node).length;
  expect({ a0: count(t, 'gpu-a-0'), a1: count(t, 'gpu-a-1') }).toEqual({ a0: 4, a1: 2 });
  expect(count(i, 'gpu-a-0')).toBe(4);
  // The webhook made them lease pods: the pinfi profile, the pool's toleration, the reserved nodes.
  expect(t[0]?.spec?.schedulerName).toBe('pinfi');
  expect(t[0]?.spec?.tolerations).toContainEqual({ key: 'pinfi.io/pool', operator: 'Equal', value: 'a100', effect: 'NoSchedule' });
  expect(t[0]?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
    { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gpu-a-0'] }] },
    { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gpu-a-1'] }] },
  ]);

  // Beyond the reservation: Pending, with the extender's reason, although gpu-a-1 has 6 GPUs free.
  await createPod(env.clients, podManifest(ns, 'train-extra', { lease: 'train', gpus: 1 }));
  await createPod(env.clients, podManifest(ns, 'infer-extra', { lease: 'infer', gpus: 1 }));
  const why = await failedScheduling(ns, 'train-extra', 'reservation on gpu-a-1 is full: 2/2 GPUs in use');
  process.stderr.write(`[pinfi] FailedScheduling (reservation full): ${why}\n`);
  expect(why).toMatch(/^0\/\d+ nodes are available/);
  // infer's only reserved node is physically full; the other nodes are outside its reservation.
  const whyInfer = await failedScheduling(ns, 'infer-extra', "didn't satisfy plugin(s) [NodeAffinity]");
  expect(whyInfer).toContain('Insufficient nvidia.com/gpu');
  await new Promise((r) => setTimeout(r, 2_000));
  expect((await getPod(env.clients, ns, 'train-extra'))?.spec?.nodeName).toBeUndefined();
  expect((await getPod(env.clients, ns, 'infer-extra'))?.spec?.nodeName).toBeUndefined();
});

test('pods of a lease not yet Active wait behind the gate and start within seconds of activation', async () => {
  const ns = await namespace();
  await createLease(env.clients, ns, 'later', 'a100', 4, { phase: 'Funded', reservation: [{ node: 'gpu-a-2', gpus: 4 }] });
  const names = ['later-0', 'later-1', 'later-2', 'later-3'];
  const created = await Promise.all(names.map((n) => createPod(env.clients, podManifest(ns, n, { lease: 'later', gpus: 1 }))));
  expect(created[0]?.spec?.schedulingGates).toEqual([{ name: LEASE_GATE }]);
  await eventually('pods reported SchedulingGated', async () => {
    const pods = await listPods(env.clients, ns);
    return pods.length === 4 && pods.every((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) ? true : undefined;
  });
  await new Promise((r) => setTimeout(r, 1_000));
  expect((await listPods(env.clients, ns)).every((p) => !p.spec?.nodeName)).toBe(true);

  const activated = Date.now();
  await setLeaseStatus(env.clients, ns, 'later', { phase: 'Active', reservation: [{ node: 'gpu-a-2', gpus: 4 }], startTime: new Date().toISOString(), endTime: hourFromNow() });
  const pods = await waitRunning(ns, names, 60_000);
  const seconds = (Date.now() - activated) / 1000;
  process.stderr.write(`[pinfi] lease Active → 4 gated pods Running in ${seconds.toFixed(2)} s\n`);
  expect(pods.every((p) => p?.spec?.nodeName === 'gpu-a-2')).toBe(true);
  expect(pods.every((p) => (p?.spec?.schedulingGates ?? []).length === 0)).toBe(true);
  // Released and pinned to the reservation in one update.
  expect(pods[0]?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
    { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gpu-a-2'] }] },
  ]);
  expect((await events(env.clients, ns, 'later')).map((e) => e.reason)).toContain('PodsReleased');
});

test('pods of a lease that fails before it is Active stay gated, and each is told why', async () => {
  const ns = await namespace();
  await createLease(env.clients, ns, 'doomed', 'a100', 2, { phase: 'Reserved', reservation: [{ node: 'gpu-a-2', gpus: 2 }] });
  await createPod(env.clients, podManifest(ns, 'doomed-0', { lease: 'doomed', gpus: 1 }));
  await setLeaseStatus(env.clients, ns, 'doomed', { phase: 'Failed', reservation: [], message: 'funding failed: the payer has no allowance' });
  const note = await eventually('LeaseNotActive event on the gated pod', async () =>
    (await events(env.clients, ns, 'doomed-0')).find((e) => e.reason === 'LeaseNotActive' && e.type === 'Warning')?.message, 30_000, 250);
  expect(note).toContain(`ComputeLease ${ns}/doomed is Failed (funding failed: the payer has no allowance)`);
  const pod = await getPod(env.clients, ns, 'doomed-0');
  expect(pod?.spec?.nodeName).toBeUndefined();
  expect(pod?.spec?.schedulingGates).toEqual([{ name: LEASE_GATE }]);
});

test('a GPU pod without a lease never lands on a pool node, and its event says why', async () => {
  const ns = await namespace();
  // Outside any pool there is one 4-GPU node: the first pod goes there, the second finds nothing.
  await createPod(env.clients, podManifest(ns, 'plain-0', { gpus: 4 }));
  const [p0] = await waitRunning(ns, ['plain-0']);
  expect(p0?.spec?.nodeName).toBe('gpu-free-0');
  await createPod(env.clients, podManifest(ns, 'plain-1', { gpus: 2 }));
  // kube-scheduler's reason ("4 node(s) had untolerated taint(s)"), then PinFi's explanation.
  const why = await failedScheduling(ns, 'plain-1', 'untolerated taint');
  process.stderr.write(`[pinfi] FailedScheduling: ${why}\n`);
  const notice = await eventually('PoolNodesNeedLease event', async () => (await events(env.clients, ns, 'plain-1')).find((e) => e.reason === 'PoolNodesNeedLease')?.message, 60_000);
  expect(notice).toMatch(/GPUs of GpuPool a100, t4 are sold through ComputeLeases .* pinfi.io\/pool taint; this pod has no pinfi.io\/lease label/);
  expect((await getPod(env.clients, ns, 'plain-1'))?.spec?.nodeName).toBeUndefined();
  await env.clients.rest.request({ method: 'DELETE', path: resourcePath(RESOURCES.pods, { namespace: ns }), query: { gracePeriodSeconds: 0 } });
});

test('the webhook refuses pods that ask for more than their lease holds or name a missing lease', async () => {
  const ns = await namespace();
  await createLease(env.clients, ns, 'small', 'a100', 2, { phase: 'Active', reservation: [{ node: 'gpu-a-1', gpus: 2 }], endTime: hourFromNow() });
  const refuse = async (pod: ReturnType<typeof podManifest>) => {
    const err = await createPod(env.clients, pod).then(() => undefined, (e: unknown) => e as { code?: number; body?: { message?: string } });
    return { code: err?.code, message: err?.body?.message ?? '' };
  };
  const big = await refuse(podManifest(ns, 'too-big', { lease: 'small', gpus: 3 }));
  expect(big.code).toBe(403);
  expect(big.message).toContain(`the pod asks for 3 nvidia.com/gpu but ComputeLease ${ns}/small holds 2`);
  const missing = await refuse(podManifest(ns, 'orphan', { lease: 'nope', gpus: 1 }));
  expect(missing.message).toContain(`ComputeLease nope does not exist in namespace ${ns}`);
});

test('at end time plus grace the pods are evicted (a PodDisruptionBudget only delays it); chain trouble evicts nothing', async () => {
  const ns = await namespace();
  const end = new Date(Date.now() + 8_000).toISOString();
  await createLease(env.clients, ns, 'short', 't4', 2, { phase: 'Active', reservation: [{ node: 'gpu-t-0', gpus: 2 }], endTime: end });
  // Another lease whose settlement is in trouble (the lease controller reports it), ending in an hour.
  await createLease(env.clients, ns, 'steady', 't4', 1, { phase: 'Active', reservation: [{ node: 'gpu-t-0', gpus: 1 }], endTime: hourFromNow() });
  await env.clients.rest.request({
    method: 'POST',
    path: `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`,
    body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'guard' }, spec: { minAvailable: 1, selector: { matchLabels: { guard: 'yes' } } } },
  });
  await createPod(env.clients, podManifest(ns, 'short-free', { lease: 'short', gpus: 1 }));
  await createPod(env.clients, podManifest(ns, 'short-guarded', { lease: 'short', gpus: 1, labels: { guard: 'yes' } }));
  await createPod(env.clients, podManifest(ns, 'steady-0', { lease: 'steady', gpus: 1 }));
  await waitRunning(ns, ['short-free', 'short-guarded', 'steady-0']);
  await setLeaseStatus(env.clients, ns, 'steady', {
    phase: 'Ending',
    message: 'settlement failed: RPC endpoint unreachable (retrying)',
    conditions: [{ type: 'Settled', status: 'False', reason: 'RpcUnavailable', message: 'connection refused', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
  });
  // Nothing before end + grace.
  const dueAt = Date.parse(end) + 1_000;
  if (Date.now() < dueAt - 1_000) {
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now() - 800)));
    expect((await listPods(env.clients, ns)).filter((p) => !p.metadata?.deletionTimestamp)).toHaveLength(3);
  }
  // The unguarded pod goes through eviction; the guarded one is refused, then deleted after the bound.
  await eventually('short-free evicted', async () => ((await getPod(env.clients, ns, 'short-free'))?.metadata?.deletionTimestamp || !(await getPod(env.clients, ns, 'short-free')) ? true : undefined), 60_000);
  await eventually('eviction refused for short-guarded', async () => ((await events(env.clients, ns, 'short-guarded')).some((e) => e.reason === 'EvictionBlocked') ? true : undefined), 60_000);
  await eventually('short-guarded deleted after the bound', async () => {
    const p = await getPod(env.clients, ns, 'short-guarded');
    return !p || p.metadata?.deletionTimestamp ? true : undefined;
  }, 60_000);
  const ev = await events(env.clients, ns);
  expect(ev.find((e) => e.name === 'short-free' && e.reason === 'LeaseEnded')?.message).toMatch(/ended at .*: pod evicted after the 1s grace period/);
  expect(ev.find((e) => e.name === 'short-guarded' && e.reason === 'LeaseEnded')?.message).toMatch(/eviction was refused \(PodDisruptionBudget\) for 4s, so the pod was deleted/);
  expect(ev.find((e) => e.name === 'short' && e.reason === 'EvictingPods')?.kind).toBe('ComputeLease');
  // The lease in chain trouble keeps its pod.
  const steady = await getPod(env.clients, ns, 'steady-0');
  expect(running(steady) && !steady?.metadata?.deletionTimestamp).toBe(true);
});

test('the webhook being down stops lease pods (with a clear error) but not unrelated pods', async () => {
  const ns = await namespace();
  await createLease(env.clients, ns, 'w', 'a100', 1, { phase: 'Active', reservation: [{ node: 'gpu-a-1', gpus: 1 }], endTime: hourFromNow() });
  await env.plugin.webhook?.stop();
  try {
    await createPod(env.clients, podManifest(ns, 'unrelated'));
    await createPod(env.clients, podManifest(ns, 'unrelated-default', { schedulerName: 'default-scheduler' }));
    await waitRunning(ns, ['unrelated', 'unrelated-default']);
    const refused = await createPod(env.clients, podManifest(ns, 'lease-pod', { lease: 'w', gpus: 1 })).then(
      () => 'created',
      (e: unknown) => (e as { body?: { message?: string } }).body?.message ?? String(e),
    );
    expect(refused).toMatch(/failed calling webhook "lease-pods.pinfi.io"/);
  } finally {
    await env.plugin.webhook?.restart();
  }
  await eventually('lease pods admitted again', async () => createPod(env.clients, podManifest(ns, 'lease-pod', { lease: 'w', gpus: 1 })).then(() => true), 30_000, 500);
  const [p] = await waitRunning(ns, ['lease-pod']);
  expect(p?.spec?.nodeName).toBe('gpu-a-1');
});
