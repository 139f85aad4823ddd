import type { ComputeLease } from '../operator/src/api/types.js';
import { leasesMissingPods } from './workloads.js';

const lease = (name: string, phase: string | undefined, extra: Partial<NonNullable<ComputeLease['metadata']>> = {}): ComputeLease =>
  ({ metadata: { name, namespace: 'team-a', uid: `uid-${name}`, ...extra }, spec: {}, ...(phase ? { status: { phase } } : {}) }) as unknown as ComputeLease;

test('a lease that is not over and has no pod gets one; ending, settled and deleted leases do not', () => {
  const leases = [
    lease('new', undefined),
    lease('preempted', 'Preempted'),
    lease('running', 'Active'),
    lease('ending', 'Ending'),
    lease('settled', 'Settled'),
    lease('failed', 'Failed'),
    lease('deleting', 'Active', { deletionTimestamp: new Date() }),
  ];
  const pods = new Map([['team-a', new Set(['running'])]]);
  const missing = leasesMissingPods(leases, (ns) => pods.get(ns) ?? new Set());
  expect(missing.map((l) => l.metadata?.name)).toEqual(['new', 'preempted']);
});

test('pods are matched by namespace as well as name', () => {
  const other = { ...lease('job', 'Active'), metadata: { name: 'job', namespace: 'team-b', uid: 'u' } } as ComputeLease;
  const pods = new Map([['team-a', new Set(['job'])]]);
  expect(leasesMissingPods([other], (ns) => pods.get(ns) ?? new Set()).map((l) => l.metadata?.namespace)).toEqual(['team-b']);
});
