// The real components' binaries: built from Go modules by scripts/build-binaries.sh into a cache
// outside the repository (keyed by version, verified by sha256 manifest), or taken from
// PINFI_<NAME>_BINARY environment variables for users who bring their own.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, repoRoot } from './paths.js';

export const VERSIONS = {
  kubernetes: 'v1.36.3',
  etcd: 'v3.6.8',
  kwok: 'v0.8.0',
  helm: 'v3.22.0',
} as const;

export type Binaries = {
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubectl: string;
  readonly etcd: string;
  readonly kwok: string;
  readonly kwokctl: string;
  readonly helm: string;
};

type Entry = { key: keyof Binaries; env: string; group: 'k8s' | 'kwok' | 'helm'; file: string };

const ENTRIES: readonly Entry[] = [
  { key: 'kubeApiserver', env: 'PINFI_KUBE_APISERVER_BINARY', group: 'k8s', file: 'kube-apiserver' },
  { key: 'kubeControllerManager', env: 'PINFI_KUBE_CONTROLLER_MANAGER_BINARY', group: 'k8s', file: 'kube-controller-manager' },
  { key: 'kubeScheduler', env: 'PINFI_KUBE_SCHEDULER_BINARY', group: 'k8s', file: 'kube-scheduler' },
  { key: 'kubectl', env: 'PINFI_KUBECTL_BINARY', group: 'k8s', file: 'kubectl' },
  { key: 'etcd', env: 'PINFI_ETCD_BINARY', group: 'k8s', file: 'etcd' },
  { key: 'kwok', env: 'PINFI_KWOK_BINARY', group: 'kwok', file: 'kwok' },
  { key: 'kwokctl', env: 'PINFI_KWOKCTL_BINARY', group: 'kwok', file: 'kwokctl' },
  { key: 'helm', env: 'PINFI_HELM_BINARY', group: 'helm', file: 'helm' },
];

function cachedPath(e: Entry): string {
  const dir =
    e.group === 'k8s' ? `kubernetes-${VERSIONS.kubernetes}` : e.group === 'kwok' ? `kwok-${VERSIONS.kwok}` : `helm-${VERSIONS.helm}`;
  return join(cacheDir, 'bin', dir, e.file);
}

/** Runs the build script for one group, streaming its progress lines to `log`. */
function build(group: Entry['group'], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'scripts', 'build-binaries.sh'), group], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PINFI_CACHE_DIR: cacheDir },
    });
    let err = '';
    child.stdout.on('data', (d: Buffer) => d.toString().split('\n').filter(Boolean).forEach(log));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      d.toString().split('\n').filter(Boolean).forEach(log);
    });
    child.on('error', (e) => reject(new Error(`cannot run scripts/build-binaries.sh: ${e.message}`, { cause: e })));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(err.trim() || `scripts/build-binaries.sh ${group} exited with ${code}`)),
    );
  });
}

/**
 * Returns every binary's path, building missing groups first (the build script verifies the
 * cache's checksums and rebuilds a broken entry). A binary named by an environment variable
 * must exist; it is never built.
 */
export async function ensureBinaries(log: (line: string) => void = (l) => console.log(l)): Promise<Binaries> {
  const out: Partial<Record<keyof Binaries, string>> = {};
  const groups = new Set<Entry['group']>();
  for (const e of ENTRIES) {
    const override = process.env[e.env];
    if (override) {
      if (!existsSync(override)) throw new Error(`${e.env}=${override}: no such file`);
      out[e.key] = override;
    } else {
      out[e.key] = cachedPath(e);
      groups.add(e.group);
    }
  }
  // The script is cheap when everything is cached (a checksum pass), and it is the one place
  // that knows whether an entry is whole, so it always runs for groups not overridden.
  for (const g of groups) await build(g, log);
  return out as Binaries;
}
