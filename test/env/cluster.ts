// A real local Kubernetes control plane: kube-apiserver, etcd, kube-controller-manager,
// kube-scheduler and kwok (the kubelet of simulated nodes), started by kwokctl's binary runtime
// from the locally built binaries. Fully offline; its state lives under the run folder
// (KWOK_WORKDIR), so it never touches a user's own ~/.kwok clusters or ~/.kube/config.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConnection, type KubeConnection } from '../../operator/src/kube/connection.js';
import { stringify } from 'yaml';
import { ensureBinaries, type Binaries } from './binaries.js';
import { runDir } from './paths.js';
import { schedulerConfig, type SchedulerConfigOptions } from './scheduler-config.js';
import { freePort } from './ports.js';

const run = promisify(execFile);

export type Cluster = {
  readonly name: string;
  readonly kubeconfig: string;
  readonly workdir: string;
  readonly binaries: Binaries;
  /** Folder with one log file per component (kube-apiserver.log, …). */
  readonly logsDir: string;
  kubeConfig(): KubeConfig;
  /** The operator's own connection (no client-node), as the operator and the extension make it. */
  connection(): KubeConnection;
  /** Runs kubectl against this cluster and returns stdout. */
  kubectl(args: readonly string[], input?: string): Promise<string>;
  delete(): Promise<void>;
};

export type ClusterOptions = {
  name: string;
  scheduler?: SchedulerConfigOptions;
  /** Extra component args, e.g. { 'kube-controller-manager': { 'kube-api-qps': '200' } }. */
  extraArgs?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Upper bound for start-up (default 120 s). */
  timeoutMs?: number;
  log?: (line: string) => void;
};

function workdirOf(name: string): string {
  return join(runDir, 'kwok', name);
}

function kwokEnv(name: string): NodeJS.ProcessEnv {
  return { ...process.env, KWOK_WORKDIR: workdirOf(name) };
}

/**
 * kwokctl reads ~/.kwok/kwok.yaml unless given a config: hand it one of ours, which also carries
 * the components' extra arguments (kwokctl v0.8.0's --extra-args panics when one component gets
 * two of them, so they go in as componentsPatches).
 */
function kwokConfigFile(name: string, extra?: Readonly<Record<string, Readonly<Record<string, string>>>>): string {
  const file = join(workdirOf(name), 'kwok.yaml');
  if (extra !== undefined || !existsSync(file)) {
    mkdirSync(workdirOf(name), { recursive: true });
    const componentsPatches = Object.entries(extra ?? {}).map(([component, kv]) => ({
      name: component,
      extraArgs: Object.entries(kv).map(([key, value]) => ({ key, value })),
    }));
    writeFileSync(file, stringify({ apiVersion: 'config.kwok.x-k8s.io/v1alpha1', kind: 'KwokctlConfiguration', componentsPatches }));
  }
  return file;
}

async function kwokctl(bins: Binaries, name: string, args: readonly string[], timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await run(bins.kwokctl, ['--name', name, '-c', kwokConfigFile(name), ...args], {
      env: kwokEnv(name),
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; killed?: boolean; message: string };
    const lines = (err.stderr ?? err.message).trim().split('\n').filter((l) => !l.startsWith('\t'));
    const important = lines.filter((l) => /panic|"level":"ERROR"|error/i.test(l));
    const why = err.killed ? `timed out after ${timeoutMs} ms` : (important.length > 0 ? important : lines).slice(0, 6).join('\n');
    throw new Error(`kwokctl ${args.slice(0, 2).join(' ')} (cluster ${name}) failed: ${why}`, { cause: e });
  }
}

/** Deletes a cluster left by an earlier run (crash, kill -9) so its processes and ports go away. */
export async function deleteClusterIfExists(name: string, bins?: Binaries): Promise<void> {
  if (!existsSync(join(workdirOf(name), 'clusters', name))) return;
  const b = bins ?? (await ensureBinaries(() => {}));
  await kwokctl(b, name, ['delete', 'cluster'], 60_000).catch(() => undefined);
  rmSync(join(workdirOf(name), 'clusters', name), { recursive: true, force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Deletes clusters named `<prefix>-<pid>` whose creating process is gone (a test run killed with
 * -9 leaves its control plane running; the next run cleans it up).
 */
export async function reapOrphanClusters(prefix: string): Promise<void> {
  const root = join(runDir, 'kwok');
  if (!existsSync(root)) return;
  for (const dir of readdirSync(root)) {
    const m = new RegExp(`^${prefix}-(\\d+)$`).exec(dir);
    if (!m || alive(Number(m[1]))) continue;
    await deleteClusterIfExists(dir);
    rmSync(join(root, dir), { recursive: true, force: true });
  }
}

/** Best-effort synchronous delete, for process exit handlers. */
function deleteSync(bins: Binaries, name: string): void {
  try {
    execFileSync(bins.kwokctl, ['--name', name, '-c', kwokConfigFile(name), 'delete', 'cluster'], {
      env: kwokEnv(name),
      timeout: 30_000,
      stdio: 'ignore',
    });
  } catch {
    /* nothing more to do at exit */
  }
}

async function portFlags(): Promise<string[]> {
  const flags = ['--kube-apiserver-port', '--etcd-port', '--controller-port', '--kube-controller-manager-port', '--kube-scheduler-port'];
  const ports = new Set<number>();
  while (ports.size < flags.length) ports.add(await freePort());
  return flags.flatMap((f, i) => [f, String([...ports][i])]);
}

export async function createCluster(opts: ClusterOptions): Promise<Cluster> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const bins = await ensureBinaries(log);
  const name = opts.name;
  const workdir = workdirOf(name);
  await deleteClusterIfExists(name, bins);
  mkdirSync(workdir, { recursive: true });
  const kubeconfig = join(workdir, 'kubeconfig.yaml');
  rmSync(kubeconfig, { force: true });
  const schedFile = join(workdir, 'kube-scheduler-config.yaml');
  writeFileSync(schedFile, schedulerConfig(opts.scheduler));

  const extra: Record<string, Record<string, string>> = {
    'kube-controller-manager': { 'kube-api-qps': '500', 'kube-api-burst': '1000' },
    'kube-apiserver': { 'max-requests-inflight': '1000', 'max-mutating-requests-inflight': '500' },
  };
  for (const [component, kv] of Object.entries(opts.extraArgs ?? {})) extra[component] = { ...extra[component], ...kv };
  kwokConfigFile(name, extra);

  log(`[pinfi] starting local control plane "${name}" (kwokctl, binary runtime)…`);
  const started = Date.now();
  // A port taken between choosing and binding (etcd's peer port is still kwokctl's choice) fails
  // the start; a second attempt picks other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      await kwokctl(
        bins,
        name,
        [
          'create',
          'cluster',
          '--runtime',
          'binary',
          '--kube-apiserver-binary',
          bins.kubeApiserver,
          '--kube-controller-manager-binary',
          bins.kubeControllerManager,
          '--kube-scheduler-binary',
          bins.kubeScheduler,
          '--etcd-binary',
          bins.etcd,
          '--kwok-controller-binary',
          bins.kwok,
          '--kube-scheduler-config',
          schedFile,
          '--kubeconfig',
          kubeconfig,
          // Local clusters serve one user: client rate limits (kwok's included) only slow large node sets.
          '--disable-qps-limits',
          // kwokctl counts ports down from 32767 on its own, so clusters started at the same moment
          // (parallel test runs) can pick the same one; free ports chosen here avoid that.
          ...(await portFlags()),
          '--wait',
          `${Math.round(timeoutMs / 1000)}s`,
        ],
        timeoutMs + 30_000,
      ).catch(async (e: unknown) => {
        const logs = join(workdir, 'clusters', name, 'logs');
        deleteSync(bins, name);
        throw new Error(`${(e as Error).message}\ncomponent logs: ${logs}`, { cause: e });
      });
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      log(`[pinfi] control plane "${name}" failed to start (attempt ${attempt}): ${(e as Error).message.split('\n')[0]}; retrying`);
    }
  }
  const onExit = () => deleteSync(bins, name);
  process.once('exit', onExit);
  const logsDir = join(workdir, 'clusters', name, 'logs');
  const cluster: Cluster = {
    name,
    kubeconfig,
    workdir,
    binaries: bins,
    logsDir,
    connection() {
      return loadConnection({ kubeconfigPath: kubeconfig });
    },
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromString(readFileSync(kubeconfig, 'utf8'));
      return kc;
    },
    async kubectl(args, input) {
      return kubectlRun(bins.kubectl, kubeconfig, args, input);
    },
    async delete() {
      process.removeListener('exit', onExit);
      await kwokctl(bins, name, ['delete', 'cluster'], 60_000);
      rmSync(join(workdir, 'clusters', name), { recursive: true, force: true });
    },
  };
  await waitApiReady(cluster, timeoutMs);
  log(`[pinfi] control plane "${name}" ready in ${((Date.now() - started) / 1000).toFixed(1)} s; kubeconfig ${kubeconfig}`);
  return cluster;
}

export function kubectlRun(kubectl: string, kubeconfig: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(kubectl, ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Waits until the API server answers /readyz and the default namespace and service account exist. */
async function waitApiReady(c: Cluster, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      await c.kubectl(['get', '--raw', '/readyz']);
      const sa = await c.kubectl(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name']);
      if (sa.trim() !== '') return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`control plane ${c.name} not ready after ${timeoutMs} ms: ${last}; logs in ${c.logsDir}`);
}
