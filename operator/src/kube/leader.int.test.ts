// Leader election against the real API server: two electors on one coordination.k8s.io/v1
// Lease. Short timings (lease 3 s, renew deadline 2 s, retry 0.5 s) keep the test fast; the
// production defaults are 15/10/2 s.
import type { KubeClients } from './client.js';
import { LeaderElector } from './leader.js';
import { apiLeaseLock, type LeaseLock } from './lease-lock.js';
import { RESOURCES, resourcePath } from './resources.js';
import { createNamespace, deleteNamespace, delay, envClients, eventually } from './test-env.js';

let clients: KubeClients;
let ns: string;

beforeAll(async () => {
  clients = envClients();
  ns = await createNamespace(clients, 'kube-leader');
});
afterAll(async () => {
  await deleteNamespace(clients, ns);
});

type Lease = { spec?: { holderIdentity?: string; leaseTransitions?: number; leaseDurationSeconds?: number } };
const readLease = (name: string) => clients.rest.get<Lease>(resourcePath(RESOURCES.leases, { namespace: ns, name }));

function candidate(leaseName: string, identity: string, timeline: string[]) {
  const real = apiLeaseLock(clients.rest, ns, leaseName);
  let partitioned = false;
  const cut = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    if (partitioned) throw new Error('connection refused (simulated partition)');
    return fn(...a);
  };
  const lock: LeaseLock = { description: real.description, get: cut(real.get), create: cut(real.create), update: cut(real.update) };
  const elector = new LeaderElector({
    lock,
    identity,
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 500,
    onStartedLeading: () => void timeline.push(`${identity} started ${Date.now()}`),
    onStoppedLeading: () => void timeline.push(`${identity} stopped ${Date.now()}`),
  });
  const abort = new AbortController();
  const done = elector.run(abort.signal);
  return { elector, abort, done, partition: () => (partitioned = true) };
}

/** Samples both electors every 10 ms; records any moment where both lead. */
function watchOverlap(a: LeaderElector, b: LeaderElector) {
  let overlaps = 0;
  const t = setInterval(() => {
    if (a.isLeader() && b.isLeader()) overlaps++;
  }, 10);
  return { stop: () => (clearInterval(t), overlaps) };
}

const at = (timeline: string[], entry: string) => {
  const line = timeline.find((l) => l.startsWith(entry));
  if (!line) throw new Error(`no "${entry}" in ${JSON.stringify(timeline)}`);
  return Number(line.split(' ').at(-1));
};

test('one leader; a graceful stop releases the lease and the other takes over at once', async () => {
  const timeline: string[] = [];
  const a = candidate('graceful', 'a', timeline);
  await eventually('a leads', () => (a.elector.isLeader() ? true : undefined));
  const b = candidate('graceful', 'b', timeline);
  const overlap = watchOverlap(a.elector, b.elector);
  await delay(4000); // longer than a lease duration: b must keep waiting while a renews
  expect(b.elector.isLeader()).toBe(false);
  expect(b.elector.leader()).toBe('a');
  expect((await readLease('graceful')).spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 3, leaseTransitions: 0 });

  a.abort.abort();
  await a.done;
  expect((await readLease('graceful')).spec?.holderIdentity).not.toBe('a'); // released
  await eventually('b leads', () => (b.elector.isLeader() ? true : undefined), 10_000);
  const handover = at(timeline, 'b started') - at(timeline, 'a stopped');
  expect(handover).toBeGreaterThanOrEqual(0);
  expect(handover).toBeLessThan(2000); // a retry period or so, not a lease duration
  expect((await readLease('graceful')).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  expect(overlap.stop()).toBe(0);
  b.abort.abort();
  await b.done;
}, 30_000);

test('a leader cut off from the API server stops by its renew deadline; the other waits out the lease', async () => {
  const timeline: string[] = [];
  const a = candidate('crash', 'a', timeline);
  await eventually('a leads', () => (a.elector.isLeader() ? true : undefined));
  const b = candidate('crash', 'b', timeline);
  const overlap = watchOverlap(a.elector, b.elector);
  await delay(1500);
  const cutAt = Date.now();
  a.partition(); // no renew, no release: like a hung or crashed process
  await a.done; // run() returns after onStoppedLeading: the operator would exit here
  await eventually('b leads', () => (b.elector.isLeader() ? true : undefined), 15_000);
  const aStopped = at(timeline, 'a stopped');
  const bStarted = at(timeline, 'b started');
  expect(aStopped - cutAt).toBeLessThanOrEqual(2000 + 600); // renew deadline (+ one retry of slack)
  expect(bStarted).toBeGreaterThan(aStopped); // never two leaders
  expect(bStarted - cutAt).toBeGreaterThanOrEqual(3000 - 600); // b waited for the lease to expire
  expect(overlap.stop()).toBe(0);
  expect((await readLease('crash')).spec?.holderIdentity).toBe('b');
  b.abort.abort();
  await b.done;
}, 30_000);
