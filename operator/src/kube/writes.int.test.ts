// Status, finalizer and server-side-apply writes against the real API server, on a tiny test CRD
// with a status subresource (created here) and on ConfigMaps.
import { applyObject } from './apply.js';
import type { KubeClients } from './client.js';
import { setCondition, type Condition } from './conditions.js';
import { apiCode, apiReason } from './errors.js';
import { addFinalizer, removeFinalizer } from './finalizers.js';
import { PatchStrategy } from './rest.js';
import { RESOURCES, resourcePath, type KubeObject, type ResourceType } from './resources.js';
import { updateStatus } from './status.js';
import { createNamespace, deleteNamespace, envClients, eventually } from './test-env.js';

const GROUP = 'kube-test.pinfi.io';
const WIDGETS: ResourceType = { group: GROUP, version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };
type WidgetStatus = { phase?: string; count?: number; note?: string; conditions?: Condition[] };
type Widget = KubeObject & { spec?: { size?: number }; status?: WidgetStatus };

let clients: KubeClients;
let ns: string;

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' } } },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

beforeAll(async () => {
  clients = envClients();
  ns = await createNamespace(clients, 'kube-writes');
  await applyObject(clients, crd, 'pinfi-kube-test', { resource: RESOURCES.customResourceDefinitions });
  await eventually(
    'test CRD established',
    async () => {
      const got = await clients.rest.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        resourcePath(RESOURCES.customResourceDefinitions, { name: crd.metadata.name }),
      );
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    },
    30_000,
  );
  // Discovery and the new resource's handlers can lag behind Established for a moment.
  await eventually('widgets served', () => clients.rest.get(resourcePath(WIDGETS, { namespace: ns })), 30_000);
}, 60_000);

afterAll(async () => {
  await deleteNamespace(clients, ns);
  await clients.rest.request({ method: 'DELETE', path: resourcePath(RESOURCES.customResourceDefinitions, { name: crd.metadata.name }) }).catch(() => undefined);
});

const getWidget = (name: string) => clients.rest.get<Widget>(resourcePath(WIDGETS, { namespace: ns, name }));
const createWidget = (name: string) =>
  clients.rest.request<Widget>({
    method: 'POST',
    path: resourcePath(WIDGETS, { namespace: ns }),
    body: { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name }, spec: { size: 1 } },
  });

describe('updateStatus', () => {
  test('writes through the status subresource only when the status changed', async () => {
    const w = await createWidget('status-a');
    const now = Date.UTC(2026, 0, 1);
    const status: WidgetStatus = {
      phase: 'Ready',
      count: 2,
      conditions: setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Built', message: '', observedGeneration: 1 }, now),
    };
    const first = await updateStatus(clients.rest, WIDGETS, w, status);
    expect(first.changed).toBe(true);
    expect(first.object.status).toEqual(status);
    expect(first.object.metadata?.generation).toBe(1); // status writes do not bump the generation

    // Same status again (conditions rebuilt in another order, an undefined field): no write.
    const again: WidgetStatus = {
      count: 2,
      phase: 'Ready',
      note: undefined,
      conditions: setCondition(first.object.status?.conditions, { type: 'Ready', status: 'True', reason: 'Built', message: '', observedGeneration: 1 }, now + 60_000),
    };
    const second = await updateStatus(clients.rest, WIDGETS, first.object, again);
    expect(second.changed).toBe(false);
    expect((await getWidget('status-a')).metadata?.resourceVersion).toBe(first.object.metadata?.resourceVersion);

    // A removed field is removed on the server (the merge patch sends null).
    const third = await updateStatus(clients.rest, WIDGETS, first.object, { phase: 'Ready', conditions: status.conditions });
    expect(third.changed).toBe(true);
    expect((await getWidget('status-a')).status).toEqual({ phase: 'Ready', conditions: status.conditions });
  });

  test('the status subresource ignores spec changes in the patch, and spec writes ignore status', async () => {
    const w = await createWidget('status-b');
    await updateStatus(clients.rest, WIDGETS, w, { phase: 'A' });
    await clients.rest.patch(resourcePath(WIDGETS, { namespace: ns, name: 'status-b' }), { spec: { size: 5 }, status: { phase: 'ignored' } }, PatchStrategy.MergePatch);
    const got = await getWidget('status-b');
    expect(got.spec?.size).toBe(5);
    expect(got.status?.phase).toBe('A');
  });

  test('a status computed from a stale object is refused with 409 Conflict', async () => {
    const w = await createWidget('status-c');
    await updateStatus(clients.rest, WIDGETS, w, { phase: 'First' });
    const err = await updateStatus(clients.rest, WIDGETS, w, { phase: 'FromStaleCache' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(apiCode(err)).toBe(409);
    expect(apiReason(err)).toBe('Conflict');
    expect((await getWidget('status-c')).status?.phase).toBe('First');
  });

  test('a missing object is 404 through the cause chain', async () => {
    const ghost: Widget = { metadata: { name: 'ghost', namespace: ns, resourceVersion: '1' } };
    const err = await updateStatus(clients.rest, WIDGETS, ghost, { phase: 'x' }).catch((e: unknown) => e);
    expect(apiCode(err)).toBe(404);
    expect((err as Error).message).toBe(`patch status of Widget ${ns}/ghost`);
  });
});

describe('finalizers', () => {
  const F = 'pinfi.io/settlement';

  test('add is idempotent; removing the last finalizer lets a pending deletion finish', async () => {
    const w = await createWidget('fin-a');
    const withF = await addFinalizer(clients.rest, WIDGETS, w, F);
    expect(withF.metadata?.finalizers).toEqual([F]);
    expect(await addFinalizer(clients.rest, WIDGETS, withF, F)).toBe(withF); // no request
    const two = await addFinalizer(clients.rest, WIDGETS, withF, 'example.com/other');
    expect(two.metadata?.finalizers).toEqual([F, 'example.com/other']);

    await clients.rest.request({ method: 'DELETE', path: resourcePath(WIDGETS, { namespace: ns, name: 'fin-a' }) });
    const deleting = await getWidget('fin-a');
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();

    const one = await removeFinalizer(clients.rest, WIDGETS, deleting, 'example.com/other');
    expect(one?.metadata?.finalizers).toEqual([F]);
    const gone = await removeFinalizer(clients.rest, WIDGETS, one!, F);
    expect(gone?.metadata?.finalizers ?? []).toEqual([]);
    await eventually('widget deleted', async () => {
      try {
        await getWidget('fin-a');
        return undefined;
      } catch (err) {
        return apiCode(err) === 404 ? true : undefined;
      }
    });
    // Removing from an object that no longer exists is done, not an error.
    expect(await removeFinalizer(clients.rest, WIDGETS, one!, F)).toBeUndefined();
  });

  test('a concurrent change of the finalizers refuses the patch instead of losing it', async () => {
    const w = await createWidget('fin-b');
    const a = await addFinalizer(clients.rest, WIDGETS, w, 'example.com/a');
    // Another writer adds its finalizer after we read `a`.
    await addFinalizer(clients.rest, WIDGETS, a, 'example.com/b');
    const err = await removeFinalizer(clients.rest, WIDGETS, a, 'example.com/a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(apiCode(err)).toBe(422);
    expect((await getWidget('fin-b')).metadata?.finalizers).toEqual(['example.com/a', 'example.com/b']);
    // The first finalizer on a stale object is guarded by resourceVersion.
    const c = await createWidget('fin-c');
    await updateStatus(clients.rest, WIDGETS, c, { phase: 'changed' });
    const err2 = await addFinalizer(clients.rest, WIDGETS, c, 'example.com/a').catch((e: unknown) => e);
    expect(apiCode(err2)).toBe(422);
    // Clean up so the namespace can go.
    const fresh = await getWidget('fin-b');
    await removeFinalizer(clients.rest, WIDGETS, (await removeFinalizer(clients.rest, WIDGETS, fresh, 'example.com/a'))!, 'example.com/b');
  });
});

describe('server-side apply', () => {
  type ConfigMap = KubeObject & { data?: Record<string, string> };
  const desired = (data: Record<string, string>): ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'applied', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'pinfi' } },
    data,
  });

  test('creates, updates and takes ownership with one field manager', async () => {
    const created = await applyObject(clients, desired({ a: '1', b: '2' }), 'pinfi-operator');
    expect(created.data).toEqual({ a: '1', b: '2' });
    // Someone else edits a field we own; a forced apply takes it back, and a field only we
    // owned and no longer send is removed.
    await clients.rest.patch(resourcePath(RESOURCES.configMaps, { namespace: ns, name: 'applied' }), { data: { a: 'edited' } }, PatchStrategy.MergePatch, { fieldManager: 'kubectl-edit' });
    const updated = await applyObject(clients, desired({ a: '1' }), 'pinfi-operator');
    expect(updated.data).toEqual({ a: '1' });
    const managers = (updated.metadata as { managedFields?: { manager: string; operation: string }[] }).managedFields ?? [];
    expect(managers.some((m) => m.manager === 'pinfi-operator' && m.operation === 'Apply')).toBe(true);
    // Re-applying the same object changes nothing.
    const same = await applyObject(clients, desired({ a: '1' }), 'pinfi-operator');
    expect(same.metadata?.resourceVersion).toBe(updated.metadata?.resourceVersion);
  });

  test('discovery finds custom resources too', async () => {
    const w = await applyObject(clients, { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name: 'applied-w', namespace: ns }, spec: { size: 3 } }, 'pinfi-operator');
    expect((w as Widget).spec?.size).toBe(3);
  });
});
