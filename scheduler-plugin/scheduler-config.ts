// The KubeSchedulerConfiguration PinFi runs kube-scheduler with: the default profile unchanged,
// a second profile `pinfi` for lease pods, and the extender.
//
// In KubeSchedulerConfiguration v1 `extenders` is a top-level list that every profile calls, but
// only for pods that request one of its managedResources: GPU pods of any scheduler then go
// through the filter, which passes pods without a lease label through untouched.
//
// Lean protocol use (each call costs the scheduler a JSON round trip in its scheduling cycle):
//   - filter only, no prioritizeVerb: the filter already answers with the one node a lease pod
//     goes to (the reserved node with the most units free), so there is nothing left to score;
//   - nodeCacheCapable: node names in and out, not whole Node objects;
//   - ignorable: false: without the extender a lease pod could land outside its reservation, so
//     an unreachable extender fails the attempt and the pod is retried.
import { stringify } from 'yaml';
import { SCHEDULER_NAME } from '../operator/src/enforcement/names.js';

export type ExtenderEntry = {
  urlPrefix: string;
  filterVerb: string;
  prioritizeVerb?: string;
  weight?: number;
  enableHTTPS: boolean;
  nodeCacheCapable: boolean;
  ignorable: boolean;
  httpTimeout: string;
  managedResources: { name: string; ignoredByScheduler: boolean }[];
};

/** Extended resources GpuPools sell (resourceName); MIG profiles in use must be added. */
export const DEFAULT_MANAGED_RESOURCES = ['nvidia.com/gpu', 'nvidia.com/gpu.shared'] as const;

export type PinfiExtenderOptions = {
  /** Where kube-scheduler reaches the extender, e.g. http://pinfi-scheduler-plugin.pinfi-system.svc:8888. */
  urlPrefix: string;
  managedResources?: readonly string[];
  /** Default 2s: a filter answer takes well under a millisecond. */
  httpTimeout?: string;
  /** Also call /prioritize (not needed; see above). */
  prioritize?: boolean;
};

export function pinfiExtender(opts: PinfiExtenderOptions): ExtenderEntry {
  const e: ExtenderEntry = {
    urlPrefix: opts.urlPrefix,
    filterVerb: 'filter',
    enableHTTPS: opts.urlPrefix.startsWith('https:'),
    nodeCacheCapable: true,
    ignorable: false,
    httpTimeout: opts.httpTimeout ?? '2s',
    managedResources: (opts.managedResources ?? DEFAULT_MANAGED_RESOURCES).map((name) => ({ name, ignoredByScheduler: false })),
  };
  if (opts.prioritize) {
    e.prioritizeVerb = 'prioritize';
    e.weight = 1;
  }
  return e;
}

export type SchedulerConfigurationOptions = PinfiExtenderOptions & {
  /** Client rate limits (kube-scheduler ignores --kube-api-qps once --config is given). */
  qps?: number;
  burst?: number;
  leaderElect?: boolean;
  /**
   * A kube-scheduler of its own (the Helm chart's Deployment beside the cluster's scheduler):
   * only the `pinfi` profile, and its own leader-election lock in `namespace`. Otherwise (the
   * cluster's own kube-scheduler, self-managed clusters) `pinfi` is a second profile beside
   * default-scheduler.
   */
  standalone?: { namespace: string };
};

export function pinfiSchedulerConfiguration(opts: SchedulerConfigurationOptions): Record<string, unknown> {
  const leaderElection: Record<string, unknown> = { leaderElect: opts.leaderElect ?? true };
  if (opts.standalone) Object.assign(leaderElection, { resourceName: 'pinfi-scheduler', resourceNamespace: opts.standalone.namespace });
  return {
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { qps: opts.qps ?? 100, burst: opts.burst ?? 200 },
    leaderElection,
    profiles: opts.standalone ? [{ schedulerName: SCHEDULER_NAME }] : [{ schedulerName: 'default-scheduler' }, { schedulerName: SCHEDULER_NAME }],
    extenders: [pinfiExtender(opts)],
  };
}

export function pinfiSchedulerConfigurationYaml(opts: SchedulerConfigurationOptions): string {
  return stringify(pinfiSchedulerConfiguration(opts));
}
