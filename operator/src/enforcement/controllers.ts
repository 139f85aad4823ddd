// The operator's enforcement controllers in one call: pool-node taints (keyed by node), scheduling
// gates (keyed by lease), lease-end eviction (keyed by lease) and notices on GPU pods kept off
// pool nodes (keyed by pod). They ask the factory for the
// shared informers they need, so the operator's existing pods/nodes/pools/leases informers are
// reused, with the pods-by-lease index added.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { COMPUTE_LEASES, GPU_POOLS } from '../api/resources.js';
import type { ComputeLease, GpuPool } from '../api/types.js';
import type { Clock } from '../kube/clock.js';
import { Controller } from '../kube/controller.js';
import type { EventRecorder } from '../kube/events.js';
import type { InformerFactory } from '../kube/informers.js';
import { RESOURCES } from '../kube/resources.js';
import type { RestClient } from '../kube/rest.js';
import type { Logger } from '../telemetry/logger.js';
import { makeLeaseEndReconciler } from './eviction.js';
import { makeGateReconciler } from './gates.js';
import { PODS_BY_LEASE, hasLeaseGate, podLeaseKey, podsByLease } from './names.js';
import { makePoolNoticeReconciler, mayNeedPoolNotice } from './notices.js';
import { makePoolTaintReconciler, nodeMembershipChanged } from './taints.js';

export type EnforcementConfig = {
  /** Time after a lease's endTime before its pods are evicted. */
  leaseEndGraceMs: number;
  /** Time a PodDisruptionBudget may refuse eviction before the pod is deleted. */
  evictionTimeoutMs: number;
  /** Concurrent reconciles per controller. Default 2. */
  workers?: number;
};

export type EnforcementDeps = {
  rest: RestClient;
  factory: InformerFactory;
  recorder: EventRecorder;
  registry: Registry;
  clock: Clock;
  logger: Logger;
};

export type EnforcementControllers = { taints: Controller; gates: Controller; leaseEnd: Controller; notices: Controller };

export function enforcementControllers(deps: EnforcementDeps, config: EnforcementConfig): EnforcementControllers {
  const { factory, registry, clock, logger } = deps;
  const workers = config.workers ?? 2;
  const pools = factory.forResource<GpuPool>(GPU_POOLS);
  const nodes = factory.forResource<V1Node>(RESOURCES.nodes);
  const leases = factory.forResource<ComputeLease>(COMPUTE_LEASES);
  const pods = factory.forResource<V1Pod>(RESOURCES.pods, { indexers: { [PODS_BY_LEASE]: podsByLease } });
  const leaseKeyOf = (p: V1Pod): string[] => {
    const k = podLeaseKey(p);
    return k ? [k] : [];
  };

  const taints = new Controller({ name: 'pool-taints', workers, registry, logger, clock, reconcile: makePoolTaintReconciler({ rest: deps.rest, nodes, pools, recorder: deps.recorder }) })
    .watch(nodes, { predicate: nodeMembershipChanged })
    .watch(pools, { map: () => nodes.store.keys() });

  const gates = new Controller({ name: 'lease-gates', workers, registry, logger, clock, reconcile: makeGateReconciler({ rest: deps.rest, leases, pods, recorder: deps.recorder }) })
    .watch(leases)
    .watch(pods, { map: leaseKeyOf, predicate: (ev) => ev.type !== 'delete' && hasLeaseGate(ev.obj) });

  const leaseEnd = new Controller({
    name: 'lease-end',
    workers,
    registry,
    logger,
    clock,
    reconcile: makeLeaseEndReconciler({
      rest: deps.rest,
      leases,
      pods,
      recorder: deps.recorder,
      clock,
      graceMs: config.leaseEndGraceMs,
      evictionTimeoutMs: config.evictionTimeoutMs,
    }),
  })
    .watch(leases)
    .watch(pods, { map: leaseKeyOf, predicate: (ev) => ev.type === 'add' });

  const notices = new Controller({ name: 'pool-notices', workers: 1, registry, logger, clock, reconcile: makePoolNoticeReconciler({ pods, pools, recorder: deps.recorder }) })
    .watch(pods, { predicate: mayNeedPoolNotice });

  return { taints, gates, leaseEnd, notices };
}
