import { inClusterConfig, nativeConnection } from './connection.js';
import { resolveKubeconfig } from './kubeconfig.js';

const KUBECONFIG = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
  - name: local
    cluster:
      server: https://127.0.0.1:6443/
      certificate-authority: pki/ca.crt
  - name: remote
    cluster:
      server: https://k8s.example.com
      certificate-authority-data: ${Buffer.from('CA PEM').toString('base64')}
      tls-server-name: api.internal
  - name: lab
    cluster:
      server: https://10.0.0.1
      insecure-skip-tls-verify: true
      proxy-url: socks5://proxy:1080
users:
  - name: admin
    user:
      client-certificate: /abs/admin.crt
      client-key: pki/admin.key
  - name: ci
    user:
      token: t0ken
  - name: cloud
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: cloud-auth
  - name: half
    user:
      client-certificate-data: ${Buffer.from('CERT').toString('base64')}
contexts:
  - name: dev
    context: { cluster: local, user: admin, namespace: team-a }
  - name: ci
    context: { cluster: remote, user: ci }
  - name: cloud
    context: { cluster: lab, user: cloud }
  - name: half
    context: { cluster: local, user: half }
  - name: nocluster
    context: { cluster: gone, user: ci }
`;

describe('resolveKubeconfig', () => {
  test('the current context: server without trailing slash, paths resolved against the file, namespace', () => {
    expect(resolveKubeconfig(KUBECONFIG, { dir: '/home/me/.kube' })).toEqual({
      context: 'dev',
      server: 'https://127.0.0.1:6443',
      namespace: 'team-a',
      tls: { ca: { path: '/home/me/.kube/pki/ca.crt' }, cert: { path: '/abs/admin.crt' }, key: { path: '/home/me/.kube/pki/admin.key' }, insecure: false },
      auth: {},
      delegate: [],
    });
  });

  test('a named context with inline CA data, a server name and a token', () => {
    const c = resolveKubeconfig(KUBECONFIG, { dir: '/x', context: 'ci' });
    expect(c).toMatchObject({ server: 'https://k8s.example.com', tls: { ca: { data: 'CA PEM' }, serverName: 'api.internal', insecure: false }, auth: { token: 't0ken' } });
    expect(c.namespace).toBeUndefined();
  });

  test('exec plugins and proxies are listed for client-node to handle', () => {
    const c = resolveKubeconfig(KUBECONFIG, { dir: '/x', context: 'cloud' });
    expect(c.delegate).toEqual(['users[cloud].user.exec', 'clusters[lab].cluster.proxy-url']);
    expect(c.tls.insecure).toBe(true);
  });

  test.each([
    [{ context: 'nope' }, 'kubeconfig has no context "nope" (it has dev, ci, cloud, half, nocluster)'],
    [{ context: 'nocluster' }, 'kubeconfig has no cluster "gone" (it has local, remote, lab)'],
    [{ context: 'half' }, 'user "half" has a client certificate without a key'],
  ])('%j is refused: %s', (opts, message) => {
    expect(() => resolveKubeconfig(KUBECONFIG, { dir: '/x', ...opts })).toThrow(message);
  });

  test('no current context, no YAML mapping', () => {
    expect(() => resolveKubeconfig('apiVersion: v1\nclusters: []\n', { dir: '/x' })).toThrow('kubeconfig has no current-context');
    expect(() => resolveKubeconfig('', { dir: '/x' })).toThrow('not a kubeconfig');
  });
});

describe('inClusterConfig', () => {
  const files: Record<string, string> = { '/sa/namespace': 'pinfi-system\n' };
  const read = (p: string): string => {
    const v = files[p];
    if (v === undefined) throw new Error(`ENOENT ${p}`);
    return v;
  };

  test('service host and port, the service account CA, token file and namespace', () => {
    expect(inClusterConfig({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, '/sa', read)).toEqual({
      context: 'in-cluster',
      server: 'https://10.96.0.1:443',
      namespace: 'pinfi-system',
      tls: { ca: { path: '/sa/ca.crt' }, insecure: false },
      auth: { tokenFile: '/sa/token' },
      delegate: [],
    });
  });

  test('an IPv6 service address is bracketed; a missing namespace file is no namespace', () => {
    const c = inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, '/none', read);
    expect(c.server).toBe('https://[fd00::1]:443');
    expect(c.namespace).toBeUndefined();
  });

  test('outside a pod it says so', () => {
    expect(() => inClusterConfig({}, '/sa', read)).toThrow('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set');
  });
});

describe('nativeConnection', () => {
  const base = { context: 'c', server: 'https://h:6443', tls: { insecure: false }, delegate: [] };

  test('a token file is re-read once its contents are older than the token TTL', async () => {
    let token = 'first';
    let reads = 0;
    let now = 0;
    const conn = nativeConnection(
      { ...base, auth: { tokenFile: '/sa/token' } },
      { tokenTtlMs: 60_000, now: () => now, readFile: () => (reads++, `${token}\n`) },
    );
    expect((await conn.prepare()).headers).toEqual({ authorization: 'Bearer first' });
    token = 'second';
    now = 59_999;
    expect((await conn.prepare()).headers).toEqual({ authorization: 'Bearer first' });
    now = 60_000;
    expect((await conn.prepare()).headers).toEqual({ authorization: 'Bearer second' });
    expect(reads).toBe(2);
    await conn.close();
  });

  test('a static token, basic auth, or no header', async () => {
    const headers = async (auth: object) => {
      const conn = nativeConnection({ ...base, auth });
      const { headers: h } = await conn.prepare();
      await conn.close();
      return h;
    };
    expect(await headers({ token: 'abc' })).toEqual({ authorization: 'Bearer abc' });
    expect(await headers({ username: 'u', password: 'p' })).toEqual({ authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
    expect(await headers({})).toEqual({});
  });

  test('one connection pool per TTL, rebuilt (certificates re-read) after it', async () => {
    let now = 0;
    let certReads = 0;
    const conn = nativeConnection(
      { ...base, tls: { insecure: false, cert: { path: '/c.crt' }, key: { data: 'KEY' } }, auth: {} },
      { poolTtlMs: 1000, now: () => now, readFile: () => (certReads++, 'CERT') },
    );
    const a = (await conn.prepare()).dispatcher;
    expect((await conn.prepare()).dispatcher).toBe(a);
    now = 1000;
    const b = (await conn.prepare()).dispatcher;
    expect(b).not.toBe(a);
    expect(certReads).toBe(2);
    await conn.close();
  });
});
