// Connections against the real API server: the native one from the test kubeconfig (client
// certificates), a kubeconfig with an exec credential plugin (handed to client-node, loaded on
// first use), and the REST client's watch: events, an idle watch ending, errors as ApiError.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { createKubeClients, type KubeClients } from './client.js';
import { loadConnection } from './connection.js';
import { apiCode, ApiError } from './errors.js';
import { resolveKubeconfig } from './kubeconfig.js';
import { RESOURCES, resourcePath } from './resources.js';
import type { RawWatchEvent } from './rest.js';
import { createNamespace, deleteNamespace, envClients } from './test-env.js';

const KUBECONFIG = process.env.PINFI_KUBECONFIG ?? '';
let clients: KubeClients;
let ns: string;
let dir: string;

beforeAll(async () => {
  clients = envClients();
  ns = await createNamespace(clients, 'kube-conn');
  dir = mkdtempSync(join(tmpdir(), 'pinfi-conn-'));
});
afterAll(async () => {
  await deleteNamespace(clients, ns);
  await clients.rest.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the native connection authenticates with the kubeconfig client certificate', async () => {
  const review = await clients.rest.request<{ status?: { userInfo?: { username?: string } } }>({
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  expect(review.status?.userInfo?.username).toBeTruthy();
});

test('a kubeconfig with an exec credential plugin is delegated to client-node and works', async () => {
  const own = resolveKubeconfig(readFileSync(KUBECONFIG, 'utf8'), { dir: dirname(KUBECONFIG) });
  const pem = (p: typeof own.tls.cert) => (p === undefined ? '' : 'data' in p ? p.data : readFileSync(p.path, 'utf8'));
  // The plugin prints an ExecCredential with the same client certificate the test kubeconfig uses.
  const credential = {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: { clientCertificateData: pem(own.tls.cert), clientKeyData: pem(own.tls.key) },
  };
  const plugin = join(dir, 'credential.json');
  writeFileSync(plugin, JSON.stringify(credential));
  const marker = join(dir, 'plugin-ran');
  const file = join(dir, 'exec.kubeconfig');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'exec',
      clusters: [{ name: 'c', cluster: { server: own.server, 'certificate-authority-data': Buffer.from(pem(own.tls.ca)).toString('base64') } }],
      users: [
        {
          name: 'u',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: process.execPath,
              args: ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); process.stdout.write(require('fs').readFileSync(${JSON.stringify(plugin)}))`],
              interactiveMode: 'Never',
            },
          },
        },
      ],
      contexts: [{ name: 'exec', context: { cluster: 'c', user: 'u', namespace: ns } }],
    }),
  );
  const conn = loadConnection({ kubeconfigPath: file });
  expect(conn.server).toBe(own.server);
  expect(conn.namespace).toBe(ns);
  const exec = createKubeClients(conn);
  try {
    const list = await exec.rest.get<{ items: unknown[] }>(resourcePath(RESOURCES.configMaps, { namespace: ns }));
    expect(Array.isArray(list.items)).toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe('x');
  } finally {
    await exec.rest.close();
  }
});

describe('RestClient.watch', () => {
  const path = () => resourcePath(RESOURCES.configMaps, { namespace: ns });

  test('streams the events of a change, and an idle watch ends without error', async () => {
    const list = await clients.rest.get<{ metadata: { resourceVersion: string } }>(path());
    const events: RawWatchEvent[] = [];
    const started = Date.now();
    const done = clients.rest.watch(
      { path: path(), query: { resourceVersion: list.metadata.resourceVersion }, signal: new AbortController().signal, inactivityMs: 1500 },
      (e) => events.push(e),
    );
    await clients.rest.request({ method: 'POST', path: path(), body: { metadata: { name: 'watched' }, data: { a: '1' } } });
    await expect(done).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(events.map((e) => [e.type, (e.object as { metadata?: { name?: string } }).metadata?.name])).toEqual([['ADDED', 'watched']]);
  });

  test('aborting ends it at once', async () => {
    const ctl = new AbortController();
    const done = clients.rest.watch({ path: path(), signal: ctl.signal, inactivityMs: 60_000 }, () => undefined);
    setTimeout(() => ctl.abort(), 200);
    await expect(done).resolves.toBeUndefined();
  });

  test('a refused watch rejects with an ApiError carrying the status', async () => {
    const err = await clients.rest
      .watch({ path: '/apis/pinfi.io/v1alpha1/nosuchthings', signal: new AbortController().signal }, () => undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(apiCode(err)).toBe(404);
  });
});
