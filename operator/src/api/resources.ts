// Resource types of PinFi's own kinds, for the generic REST client and informers.
import type { ResourceType } from '../kube/resources.js';

export const GPU_POOLS = { group: 'pinfi.io', version: 'v1alpha1', plural: 'gpupools', kind: 'GpuPool', namespaced: false } as const satisfies ResourceType;
export const COMPUTE_LEASES = {
  group: 'pinfi.io',
  version: 'v1alpha1',
  plural: 'computeleases',
  kind: 'ComputeLease',
  namespaced: true,
} as const satisfies ResourceType;
