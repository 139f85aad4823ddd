// The leader-election record and where it is stored: a coordination.k8s.io/v1 Lease, read with
// GET and written with compare-and-swap on resourceVersion (POST to create, PUT to update), so
// two candidates cannot both win a round. leader.ts holds the election logic.
import { apiCode } from './errors.js';
import { RESOURCES, resourcePath } from './resources.js';
import type { RestClient } from './rest.js';

export type LeaderElectionRecord = {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
};

/** Storage of the election record with compare-and-swap on resourceVersion. */
export interface LeaseLock {
  readonly description: string;
  /** undefined when the lease does not exist. */
  get(signal: AbortSignal): Promise<{ record: LeaderElectionRecord; resourceVersion: string } | undefined>;
  /** Rejects with ApiException 409 if it already exists. */
  create(record: LeaderElectionRecord, signal: AbortSignal): Promise<void>;
  /** Rejects with ApiException 409 if resourceVersion is stale. */
  update(record: LeaderElectionRecord, resourceVersion: string, signal: AbortSignal): Promise<void>;
}

type LeaseJson = {
  metadata?: { resourceVersion?: string };
  spec?: Partial<LeaderElectionRecord>;
};

export function apiLeaseLock(rest: RestClient, namespace: string, name: string): LeaseLock {
  const path = resourcePath(RESOURCES.leases, { namespace, name });
  const body = (record: LeaderElectionRecord, resourceVersion?: string): unknown => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: record,
  });
  return {
    description: `lease ${namespace}/${name}`,
    get: async (signal) => {
      let lease: LeaseJson;
      try {
        lease = await rest.request<LeaseJson>({ method: 'GET', path, signal });
      } catch (err) {
        if (apiCode(err) === 404) return undefined;
        throw err;
      }
      const spec = lease.spec ?? {};
      return {
        resourceVersion: lease.metadata?.resourceVersion ?? '',
        record: {
          holderIdentity: spec.holderIdentity ?? '',
          leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
          ...(spec.acquireTime ? { acquireTime: spec.acquireTime } : {}),
          ...(spec.renewTime ? { renewTime: spec.renewTime } : {}),
          leaseTransitions: spec.leaseTransitions ?? 0,
        },
      };
    },
    create: async (record, signal) => {
      await rest.request({ method: 'POST', path: resourcePath(RESOURCES.leases, { namespace }), body: body(record), signal });
    },
    update: async (record, resourceVersion, signal) => {
      await rest.request({ method: 'PUT', path, body: body(record, resourceVersion), signal });
    },
  };
}
