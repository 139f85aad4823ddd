import { leaseManifest } from './lease.js';

test('a lease manifest from flags', () => {
  expect(leaseManifest({ name: 'train', namespace: 'ml', pool: 'a100', gpus: 4, seconds: 5400, maxPrice: { total: 30_000_000n }, payer: '0xA', authSecret: 'train-auth' })).toEqual({
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'ComputeLease',
    metadata: { name: 'train', namespace: 'ml' },
    spec: { pool: 'a100', gpus: 4, duration: '1h30m', maxPrice: { total: '30000000' }, payer: { address: '0xA', authorizationSecretRef: { name: 'train-auth' } } },
  });
  const perHour = leaseManifest({ name: 't', namespace: 'ml', pool: 'a100', gpus: 1, seconds: 600, maxPrice: { perGpuHour: 2n }, payer: '0xA', authSecret: 's', deadline: '2026-01-01T00:00:00Z' });
  expect(perHour.spec.maxPrice).toEqual({ perGpuHour: '2' });
  expect(perHour.spec.deadline).toBe('2026-01-01T00:00:00Z');
  expect(perHour.spec.duration).toBe('10m');
  expect(perHour.spec.preemptible).toBeUndefined();
  const lent = leaseManifest({ name: 't', namespace: 'ml', pool: 't4', gpus: 1, seconds: 600, maxPrice: { perGpuHour: 2n }, payer: '0xA', authSecret: 's', preemptible: true });
  expect(lent.spec.preemptible).toBe(true);
});
