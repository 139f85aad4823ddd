// Smoke tests of the real local control plane: the kube-scheduler binds GPU pods to kwok nodes
// that report nvidia.com/gpu, the controller-manager runs Deployments and namespace deletion, and
// the API server reports the version we built.
import { AppsV1Api, CoreV1Api, VersionApi, type V1Pod } from '@kubernetes/client-node';
import { deleteNamespace, eventually, kubectl, newNamespace, testKubeConfig } from '../env/testing.js';
import { GPU } from '../env/gpu-nodes.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
let ns: string;

beforeAll(async () => {
  ns = await newNamespace('smoke');
});
afterAll(async () => {
  await deleteNamespace(ns);
});

function gpuPod(name: string, gpus: number): V1Pod {
  return {
    metadata: { name },
    spec: {
      containers: [{ name: 'main', image: 'busybox', resources: { limits: { [GPU]: String(gpus) } } }],
      // kwok nodes are not tainted by default; tolerate kwok's own taint in case a node has it.
      tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
    },
  };
}

test('/version reports v1.36.3', async () => {
  const v = await kc.makeApiClient(VersionApi).getCode();
  expect(v.gitVersion).toBe('v1.36.3');
  expect(`${v.major}.${v.minor}`).toBe('1.36');
});

test('a pod requesting 2 GPUs is bound to a node with 2 free GPUs and runs', async () => {
  await core.createNamespacedPod({ namespace: ns, body: gpuPod('two-gpus', 2) });
  const pod = await eventually('pod Running', async () => {
    const p = await core.readNamespacedPod({ name: 'two-gpus', namespace: ns });
    return p.status?.phase === 'Running' ? p : undefined;
  });
  const node = await core.readNode({ name: pod.spec?.nodeName ?? '' });
  expect(Number(node.status?.allocatable?.[GPU])).toBeGreaterThanOrEqual(2);
  expect(node.metadata?.annotations?.['kwok.x-k8s.io/node']).toBe('fake');
});

test('a pod asking for more GPUs than any node has stays Pending with the scheduler reason', async () => {
  await core.createNamespacedPod({ namespace: ns, body: gpuPod('too-many', 64) });
  const event = await eventually('FailedScheduling event', async () => {
    const evs = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=too-many' });
    return evs.items.find((e) => e.reason === 'FailedScheduling');
  });
  expect(event.message).toMatch(/Insufficient nvidia\.com\/gpu/);
  const pod = await core.readNamespacedPod({ name: 'too-many', namespace: ns });
  expect(pod.status?.phase).toBe('Pending');
  expect(pod.spec?.nodeName).toBeUndefined();
});

test("a Deployment's pods appear and run", async () => {
  const apps = kc.makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      },
    },
  });
  const running = await eventually('3 running pods', async () => {
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
    const n = pods.items.filter((p) => p.status?.phase === 'Running').length;
    return n === 3 ? n : undefined;
  });
  expect(running).toBe(3);
});

test('deleting a namespace completes', async () => {
  const tmp = await newNamespace('gone');
  await core.createNamespacedConfigMap({ namespace: tmp, body: { metadata: { name: 'x' }, data: { a: 'b' } } });
  await core.deleteNamespace({ name: tmp });
  const gone = await eventually('namespace deleted', async () => {
    try {
      await core.readNamespace({ name: tmp });
      return undefined;
    } catch (e) {
      return (e as { code?: number }).code === 404 ? true : undefined;
    }
  }, 60_000);
  expect(gone).toBe(true);
});

test('kubectl lists the GPU nodes with nvidia.com/gpu capacity', async () => {
  const out = await kubectl(['get', 'nodes', '-l', 'nvidia.com/gpu.present=true', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.capacity.nvidia\\.com/gpu}{"\\n"}{end}']);
  const rows = out.trim().split('\n');
  expect(rows).toEqual(expect.arrayContaining(['gpu-a100-0=8', 'gpu-t4-0=4']));
});
