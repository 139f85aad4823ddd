// The KubeSchedulerConfiguration the local control plane's kube-scheduler runs with. Callers add
// profiles (the scheduler extension adds `pinfi` with its extender); the client rate limits live
// here because kube-scheduler ignores --kube-api-qps once --config is given.
import { stringify } from 'yaml';

export type ExtenderConfig = {
  urlPrefix: string;
  filterVerb?: string;
  prioritizeVerb?: string;
  weight?: number;
  enableHTTPS?: boolean;
  nodeCacheCapable?: boolean;
  ignorable?: boolean;
  httpTimeout?: string;
  managedResources?: { name: string; ignoredByScheduler: boolean }[];
};

export type SchedulerProfile = {
  schedulerName: string;
  plugins?: Record<string, unknown>;
  pluginConfig?: unknown[];
};

export type SchedulerConfigOptions = {
  qps?: number;
  burst?: number;
  /** Profiles besides default-scheduler. */
  profiles?: readonly SchedulerProfile[];
  /**
   * Extenders. KubeSchedulerConfiguration v1 lists them at the top level and every profile calls
   * them, but only for pods that request one of their managedResources.
   */
  extenders?: readonly ExtenderConfig[];
};

export function schedulerConfig(opts: SchedulerConfigOptions = {}): string {
  const profiles = [{ schedulerName: 'default-scheduler' }, ...(opts.profiles ?? [])];
  const doc: Record<string, unknown> = {
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { qps: opts.qps ?? 500, burst: opts.burst ?? 1000 },
    leaderElection: { leaderElect: false },
    profiles,
  };
  if (opts.extenders && opts.extenders.length > 0) doc.extenders = opts.extenders;
  return stringify(doc);
}
