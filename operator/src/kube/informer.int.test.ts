// The informer against the real API server: list + watch of ConfigMaps, resume after the server
// closes watches (a 1–2 s timeoutSeconds makes it close them all the time), relist on a real
// 410 Gone, label selectors and indexes.
import type { KubeClients } from './client.js';
import { Informer } from './informer.js';
import { InformerFactory } from './informers.js';
import { apiListWatch, type ListWatchSource } from './listwatch.js';
import { RESOURCES, resourcePath, type KubeObject } from './resources.js';
import { labelIndex } from './store.js';
import { compactEtcd, createNamespace, deleteNamespace, envClients, eventually, delay } from './test-env.js';

type ConfigMap = KubeObject & { data?: Record<string, string> };

let clients: KubeClients;
let ns: string;

beforeAll(async () => {
  clients = envClients();
  ns = await createNamespace(clients, 'kube-informer');
});
afterAll(async () => {
  await deleteNamespace(clients, ns);
});

const cmPath = (name?: string) => resourcePath(RESOURCES.configMaps, { namespace: ns, ...(name ? { name } : {}) });
const createCm = (name: string, data: Record<string, string>, labels: Record<string, string> = { test: 'informer' }) =>
  clients.rest.request<ConfigMap>({ method: 'POST', path: cmPath(), body: { metadata: { name, labels }, data } });
const patchCm = (name: string, data: Record<string, string>) =>
  clients.rest.patch<ConfigMap>(cmPath(name), { data }, 'application/merge-patch+json');
const deleteCm = (name: string) => clients.rest.request({ method: 'DELETE', path: cmPath(name) });

function recorder(informer: Informer<ConfigMap>) {
  const events: string[] = [];
  informer.addEventHandler({
    add: (o) => events.push(`add ${o.metadata?.name}`),
    update: (old, o) => {
      if (old !== o) events.push(`update ${o.metadata?.name}=${o.data?.v ?? ''}`);
    },
    delete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  return events;
}

test('lists, watches and keeps the cache right across many server-side watch closes', async () => {
  await createCm('pre', { v: '0' });
  let watches = 0;
  const real = apiListWatch<ConfigMap>(clients, RESOURCES.configMaps, { namespace: ns, labelSelector: 'test=informer' });
  const counting: ListWatchSource<ConfigMap> = { ...real, watch: (o, cb) => (watches++, real.watch(o, cb)) };
  const informer = new Informer<ConfigMap>({ source: counting, watchTimeoutSeconds: { min: 1, max: 2 } });
  const events = recorder(informer);
  informer.start();
  try {
    expect(await informer.waitForSync()).toBe(true);
    expect(events).toEqual(['add pre']);
    // Changes spread over several watch lifetimes (each watch lasts 1–2 s).
    for (let i = 1; i <= 6; i++) {
      await createCm(`cm-${i}`, { v: '0' });
      await patchCm('pre', { v: String(i) });
      if (i % 2 === 0) await deleteCm(`cm-${i - 1}`);
      await delay(700);
    }
    await eventually('cache to converge', () => (informer.store.getByName('pre', ns)?.data?.v === '6' ? true : undefined));
    await eventually('deletes seen', () => (informer.store.size === 4 ? true : undefined));
    expect(informer.store.keys().sort()).toEqual([`${ns}/cm-2`, `${ns}/cm-4`, `${ns}/cm-6`, `${ns}/pre`]);
    expect(watches).toBeGreaterThanOrEqual(3); // the server closed watches and the informer resumed
    expect(informer.listCount()).toBe(1); // resumed from resourceVersion, never relisted
    expect(events.filter((e) => e.startsWith('add')).length).toBe(7);
    expect(events.filter((e) => e.startsWith('delete')).sort()).toEqual(['delete cm-1', 'delete cm-3', 'delete cm-5']);
    // Every update was delivered in order, none lost across the reconnects.
    expect(events.filter((e) => e.startsWith('update pre'))).toEqual([1, 2, 3, 4, 5, 6].map((i) => `update pre=${i}`));
  } finally {
    await informer.stop();
  }
}, 60_000);

test('a real 410 Gone (watch from a compacted resourceVersion) relists and recovers', async () => {
  // Events have no watch cache in kube-apiserver, so their watches read etcd directly: after a
  // compaction, a watch from an older resourceVersion is answered with 410 Expired.
  type Ev = KubeObject & { note?: string };
  const evPath = resourcePath(RESOURCES.events, { namespace: ns });
  const createEvent = (name: string) =>
    clients.rest.request({
      method: 'POST',
      path: evPath,
      body: {
        metadata: { name },
        eventTime: new Date().toISOString().replace('Z', '000Z'),
        reportingController: 'pinfi.io/test',
        reportingInstance: 'test',
        action: 'Test',
        reason: 'Test',
        type: 'Normal',
        note: name,
        regarding: { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: ns },
      },
    });
  await createEvent('ev-a');
  const real = apiListWatch<Ev>(clients, RESOURCES.events, { namespace: ns });
  let oldRv = '';
  let forceOld = false;
  const answers: string[] = [];
  const source: ListWatchSource<Ev> = {
    ...real,
    watch: async (o, cb) => {
      if (!oldRv) oldRv = o.resourceVersion;
      const rv = forceOld ? oldRv : o.resourceVersion;
      forceOld = false;
      try {
        await real.watch({ ...o, resourceVersion: rv }, (ev) => {
          if (ev.type === 'ERROR') answers.push(`ERROR ${ev.object.code} ${ev.object.reason}`);
          cb(ev);
        });
      } catch (err) {
        answers.push(`HTTP ${(err as { statusCode?: number }).statusCode}`);
        throw err;
      }
    },
  };
  const informer = new Informer<Ev>({ source, watchTimeoutSeconds: { min: 1, max: 1 } });
  informer.start();
  try {
    await informer.waitForSync();
    await createEvent('ev-b');
    await eventually('ev-b watched', () => informer.store.getByName('ev-b', ns));
    // Two more writes, so the first list's resourceVersion + 1 is below the compaction point.
    await createCm('bump-1', {});
    await createCm('bump-2', {});
    await compactEtcd();
    await createEvent('ev-c');
    forceOld = true; // the next watch resumes from the first list's resourceVersion, now compacted
    await eventually('relist after 410', () => (informer.listCount() >= 2 ? true : undefined), 15_000);
    expect(answers).toContain('ERROR 410 Expired');
    await createEvent('ev-d');
    await eventually('watch works after the relist', () => informer.store.getByName('ev-d', ns));
    expect(informer.store.keys().sort()).toEqual(['ev-a', 'ev-b', 'ev-c', 'ev-d'].map((n) => `${ns}/${n}`));
  } finally {
    await informer.stop();
  }
}, 60_000);

test('the factory shares one informer per resource and selector, with label selectors and indexes', async () => {
  const factory = new InformerFactory({ clients, resyncPeriodMs: 0, informerDefaults: { watchTimeoutSeconds: { min: 5, max: 8 } } });
  const byTeam = factory.forResource<ConfigMap>(RESOURCES.configMaps, {
    namespace: ns,
    labelSelector: 'kind=pinfi-test',
    indexers: { team: labelIndex('team') },
  });
  const same = factory.forResource<ConfigMap>(RESOURCES.configMaps, { namespace: ns, labelSelector: 'kind=pinfi-test' });
  expect(same).toBe(byTeam);
  await createCm('sel-1', {}, { kind: 'pinfi-test', team: 'red' });
  await createCm('sel-2', {}, { kind: 'pinfi-test', team: 'blue' });
  await createCm('sel-3', {}, { kind: 'other', team: 'red' });
  factory.start();
  try {
    expect(await factory.waitForSync()).toBe(true);
    expect(byTeam.store.byIndex('team', 'red').map((o) => o.metadata?.name)).toEqual(['sel-1']);
    await createCm('sel-4', {}, { kind: 'pinfi-test', team: 'red' });
    await eventually('indexed add', () => (byTeam.store.byIndex('team', 'red').length === 2 ? true : undefined));
    expect(byTeam.store.getByName('sel-3', ns)).toBeUndefined();
  } finally {
    await factory.stop();
  }
}, 60_000);
