import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { kubeconfigFiles, loadKubeconfig, resolveNamespace } from './kube.js';

const dir = mkdtempSync(join(tmpdir(), 'pinfi-cli-kube-'));
function kubeconfig(file: string, contexts: { name: string; server: string; namespace?: string }[], current: string): string {
  const path = join(dir, file);
  writeFileSync(path, stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({ name: c.name, cluster: { server: c.server } })),
    users: contexts.map((c) => ({ name: c.name, user: { token: 'x' } })),
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) } })),
    'current-context': current,
  }));
  return path;
}

test('kubeconfig files: the flag, else $KUBECONFIG (existing files), else ~/.kube/config', () => {
  const exists = (f: string) => !f.includes('missing');
  expect(kubeconfigFiles({ kubeconfig: '/a' }, { kubeconfigs: ['/b'], home: '/h' }, exists)).toEqual(['/a']);
  expect(kubeconfigFiles({}, { kubeconfigs: ['/b', '/missing', '/c'], home: '/h' }, exists)).toEqual(['/b', '/c']);
  expect(kubeconfigFiles({}, { kubeconfigs: [], home: '/h' }, exists)).toEqual(['/h/.kube/config']);
  expect(kubeconfigFiles({}, { kubeconfigs: [], home: '/missing' }, exists)).toEqual([]);
});

test('merged files: the first file\'s current context and entries win, like kubectl', () => {
  const a = kubeconfig('a.yaml', [{ name: 'dev', server: 'https://dev:6443', namespace: 'team-a' }], 'dev');
  const b = kubeconfig('b.yaml', [{ name: 'dev', server: 'https://other:6443' }, { name: 'prod', server: 'https://prod:6443' }], 'prod');
  const kc = loadKubeconfig([a, b], undefined);
  expect(kc.currentContext).toBe('dev');
  expect(kc.getCurrentCluster()?.server).toBe('https://dev:6443');
  expect(resolveNamespace(kc, undefined)).toBe('team-a');
  expect(resolveNamespace(kc, 'mine')).toBe('mine');
  const prod = loadKubeconfig([a, b], 'prod');
  expect(prod.getCurrentCluster()?.server).toBe('https://prod:6443');
  expect(resolveNamespace(prod, undefined)).toBe('default');
});

test('a missing kubeconfig or context says what to do', () => {
  expect(() => loadKubeconfig([], undefined)).toThrow(/no kubeconfig found/);
  const a = kubeconfig('c.yaml', [{ name: 'dev', server: 'https://dev:6443' }], 'dev');
  expect(() => loadKubeconfig([a], 'nope')).toThrow(/context "nope" is not in/);
});
