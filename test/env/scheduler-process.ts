// A kube-scheduler of its own (beside the cluster's), started from the locally built binary with
// a KubeSchedulerConfiguration written here: for benchmarks that queue pods before the scheduler
// starts, and compare profiles with and without an extender in one run. No leader election, no
// secure port (nothing to collide with the cluster's scheduler).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runDir } from './paths.js';
import { startProcess, type Managed } from './process.js';
import type { ExtenderConfig, SchedulerProfile } from './scheduler-config.js';

export type KubeSchedulerProcessOptions = {
  /** The kube-scheduler binary (Binaries.kubeScheduler). */
  binary: string;
  kubeconfig: string;
  name: string;
  profiles: readonly SchedulerProfile[];
  extenders?: readonly ExtenderConfig[];
  qps?: number;
  burst?: number;
  /** Extra flags, e.g. ['--v=2']. */
  args?: readonly string[];
};

export function startKubeScheduler(opts: KubeSchedulerProcessOptions): Managed {
  const file = join(runDir, 'logs', `${opts.name}.yaml`);
  const doc: Record<string, unknown> = {
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { kubeconfig: opts.kubeconfig, qps: opts.qps ?? 1000, burst: opts.burst ?? 2000 },
    leaderElection: { leaderElect: false },
    profiles: opts.profiles,
  };
  if (opts.extenders && opts.extenders.length > 0) doc.extenders = opts.extenders;
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  writeFileSync(file, stringify(doc));
  const log = join(runDir, 'logs', `${opts.name}.log`);
  return startProcess({ name: opts.name, command: opts.binary, args: ['--config', file, '--secure-port', '0', ...(opts.args ?? [])], logFile: log });
}
