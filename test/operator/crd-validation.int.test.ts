// Bad input is refused by the API server itself (OpenAPI schema and CEL rules in crds/), with a
// message that says what is wrong. Server-side dry runs: nothing is stored.
import { stringify } from 'yaml';
import { deleteNamespace, kubectl, newNamespace } from '../env/testing.js';

const ADDR = `0x${'1'.repeat(40)}`;
let ns: string;
beforeAll(async () => {
  ns = await newNamespace('crd');
});
afterAll(async () => {
  await deleteNamespace(ns);
});

function pool(spec: Record<string, unknown>, pricing: Record<string, unknown> = {}) {
  return {
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'GpuPool',
    metadata: { name: 'p' },
    spec: {
      nodeSelector: { matchLabels: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' } },
      pricing: { token: ADDR, treasury: ADDR, floorPrice: '1000000', ceilingPrice: '9000000', ...pricing },
      ...spec,
    },
  };
}

function lease(spec: Record<string, unknown>) {
  return {
    apiVersion: 'pinfi.io/v1alpha1',
    kind: 'ComputeLease',
    metadata: { name: 'l' },
    spec: { pool: 'a100', gpus: 4, duration: '6h', maxPrice: { perGpuHour: '3000000' }, payer: { address: ADDR, authorizationSecretRef: { name: 'auth' } }, ...spec },
  };
}

async function dryRun(obj: unknown, namespace?: string): Promise<string> {
  try {
    await kubectl(['apply', '--dry-run=server', ...(namespace ? ['-n', namespace] : []), '-f', '-'], stringify(obj));
    return 'accepted';
  } catch (e) {
    return (e as Error).message;
  }
}

test.each([
  ['a valid pool', pool({}), /^accepted$/],
  ['floor above ceiling', pool({}, { floorPrice: '9000001' }), /floorPrice must not exceed ceilingPrice/],
  ['a float price', pool({}, { floorPrice: '1.5' }), /floorPrice.*should match/],
  ['a negative price', pool({}, { ceilingPrice: '-5' }), /ceilingPrice.*should match/],
  ['a number instead of a string for money', pool({}, { floorPrice: 1000000 }), /floorPrice.*must be of type string|Invalid value: "integer"/],
  ['a bad token address', pool({}, { token: '0x1234' }), /token.*should match/],
  ['target utilisation 1', pool({}, { targetUtilization: 1 }), /targetUtilization.*less than 1/],
  ['target utilisation 0', pool({}, { targetUtilization: 0 }), /targetUtilization.*greater than 0/],
  ['initial price outside the band', pool({}, { initialPrice: '99000000' }), /initialPrice must lie between/],
  ['an empty selector', pool({ nodeSelector: {} }), /nodeSelector must select something/],
  ['an unknown field', pool({ colour: 'blue' }), /unknown field "spec.colour"/],
  ['a bad resource name', pool({ resourceName: 'amd.com/gpu' }), /resourceName.*should match/],
  ['a zero response time', pool({}, { responseTime: '0s' }), /responseTime must be at least 1m/],
  ['min duration above max', pool({ leases: { minDuration: '10h', maxDuration: '1h' } }), /minDuration must not exceed maxDuration/],
  ['a lending cap in GPUs', pool({ leases: { lendIdleGpus: true, maxLent: 8 } }), /^accepted$/],
  ['a lending cap as a share', pool({ leases: { lendIdleGpus: true, maxLent: '50%' } }), /^accepted$/],
  ['a lending cap above 100%', pool({ leases: { maxLent: '150%' } }), /maxLent must be a whole number of GPUs \(0 or more\) or a percentage from 0% to 100%/],
  ['a lending cap in words', pool({ leases: { maxLent: 'half' } }), /maxLent must be a whole number of GPUs/],
  ['a negative lending cap', pool({ leases: { maxLent: -1 } }), /maxLent must be a whole number of GPUs/],
])('GpuPool with %s', async (_what, obj, want) => {
  expect(await dryRun(obj)).toMatch(want);
});

test.each([
  ['a valid lease', lease({}), /^accepted$/],
  ['zero GPUs', lease({ gpus: 0 }), /gpus.*greater than or equal to 1/],
  ['negative GPUs', lease({ gpus: -2 }), /gpus.*greater than or equal to 1/],
  ['an impossible duration', lease({ duration: '0s' }), /duration must be between 1m and 8760h/],
  ['a duration in days', lease({ duration: '2d' }), /duration.*should match/],
  ['both price limits', lease({ maxPrice: { total: '10', perGpuHour: '10' } }), /set exactly one of maxPrice.total or maxPrice.perGpuHour/],
  ['no price limit', lease({ maxPrice: {} }), /set exactly one of maxPrice.total or maxPrice.perGpuHour/],
  ['a float price limit', lease({ maxPrice: { total: '12.5' } }), /total.*should match/],
  ['a bad payer address', lease({ payer: { address: 'alice', authorizationSecretRef: { name: 'auth' } } }), /payer.address.*should match/],
  ['an unknown field', lease({ priority: 'high' }), /unknown field "spec.priority"/],
])('ComputeLease with %s', async (_what, obj, want) => {
  expect(await dryRun(obj, ns)).toMatch(want);
});

test('a lease spec cannot change once the lease is Reserved, but can before', async () => {
  const name = 'immutable';
  await kubectl(['apply', '-n', ns, '-f', '-'], stringify({ ...lease({}), metadata: { name } }));
  await kubectl(['patch', 'computelease', name, '-n', ns, '--type=merge', '-p', '{"spec":{"gpus":5}}']);
  await kubectl(['patch', 'computelease', name, '-n', ns, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Reserved"}}']);
  const err = await kubectl(['patch', 'computelease', name, '-n', ns, '--type=merge', '-p', '{"spec":{"gpus":6}}']).then(() => 'accepted', (e: Error) => e.message);
  expect(err).toMatch(/spec is immutable once the lease is Reserved/);
  const gpus = await kubectl(['get', 'computelease', name, '-n', ns, '-o', 'jsonpath={.spec.gpus}']);
  expect(gpus).toBe('5');
});

test('kubectl explain teaches the API', async () => {
  expect(await kubectl(['explain', 'gpupool.spec.pricing.floorPrice'])).toMatch(/reserve price/);
  expect(await kubectl(['explain', 'computelease.spec.maxPrice'])).toMatch(/limit order/);
});
