// The event recorder against the real API server: events.k8s.io/v1 Events are created, repeats
// bump one Event's series, and failures never reach the caller.
import type { KubeClients } from './client.js';
import { apiEventSink, EventRecorder, type EventObject } from './events.js';
import { RESOURCES, resourcePath, type KubeObject } from './resources.js';
import { createNamespace, deleteNamespace, envClients } from './test-env.js';
import { memoryLogger } from '../telemetry/logger.js';

let clients: KubeClients;
let ns: string;

beforeAll(async () => {
  clients = envClients();
  ns = await createNamespace(clients, 'kube-events');
});
afterAll(async () => {
  await deleteNamespace(clients, ns);
});

const listEvents = async (namespace: string) =>
  (await clients.rest.get<{ items: EventObject[] }>(resourcePath(RESOURCES.events, { namespace }))).items;

test('repeats of an identical event are one Event with a series; different ones are separate', async () => {
  const cm = await clients.rest.request<KubeObject>({
    method: 'POST',
    path: resourcePath(RESOURCES.configMaps, { namespace: ns }),
    body: { metadata: { name: 'subject' } },
  });
  const recorder = new EventRecorder({ sink: apiEventSink(clients.rest), controller: 'pinfi.io/operator', instance: 'test-0' });
  const subject = { ...cm, apiVersion: 'v1', kind: 'ConfigMap' };
  recorder.warning(subject, 'PriceAboveLimit', 'quote 120 > max 100');
  await recorder.flush();
  for (let i = 0; i < 4; i++) recorder.warning(subject, 'PriceAboveLimit', 'quote 120 > max 100');
  recorder.normal(subject, 'Reserved', 'reserved 4 GPUs on gpu-0', 'Reserve');
  await recorder.flush();

  const events = await listEvents(ns);
  expect(events).toHaveLength(2);
  const warn = events.find((e) => e.reason === 'PriceAboveLimit');
  expect(warn).toMatchObject({
    type: 'Warning',
    note: 'quote 120 > max 100',
    action: 'PriceAboveLimit',
    reportingController: 'pinfi.io/operator',
    reportingInstance: 'test-0',
    regarding: { kind: 'ConfigMap', name: 'subject', namespace: ns, uid: cm.metadata?.uid },
    series: { count: 5 },
  });
  const normal = events.find((e) => e.reason === 'Reserved');
  expect(normal).toMatchObject({ type: 'Normal', action: 'Reserve' });
  expect(normal?.series).toBeUndefined();
  // The same Events through the core v1 API (what kubectl describe reads).
  type CoreEvent = { reason?: string; count?: number; series?: { count?: number } };
  const core = await clients.rest.get<{ items: CoreEvent[] }>(`/api/v1/namespaces/${ns}/events`);
  const above = core.items.find((e) => e.reason === 'PriceAboveLimit');
  expect(above?.count ?? above?.series?.count).toBe(5);
});

test('cluster-scoped objects get events in the default namespace', async () => {
  const recorder = new EventRecorder({ sink: apiEventSink(clients.rest), controller: 'pinfi.io/operator', instance: 'test-0' });
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: `kube-events-node-${ns}`, uid: 'n-1' } };
  recorder.normal(node, 'JoinedPool', 'joined pool a100');
  await recorder.flush();
  const events = await listEvents('default');
  expect(events.some((e) => e.regarding.name === node.metadata.name && e.reason === 'JoinedPool')).toBe(true);
});

test('a refused write is logged with code and reason and never thrown', async () => {
  const logger = memoryLogger();
  const recorder = new EventRecorder({ sink: apiEventSink(clients.rest), controller: 'pinfi.io/operator', instance: 'test-0', logger });
  // A namespace that does not exist: the API server refuses the create (404 NotFound).
  expect(() => recorder.normal({ kind: 'ConfigMap', metadata: { name: 'x', namespace: `missing-${ns}` } }, 'R', 'n')).not.toThrow();
  await recorder.flush();
  const line = logger.lines.find((l) => l.msg === 'could not write event');
  expect(line?.err).toEqual({ name: 'ApiError', code: 404, reason: 'NotFound' });
  expect(JSON.stringify(logger.lines)).not.toMatch(/audit-id|Headers/);
});
