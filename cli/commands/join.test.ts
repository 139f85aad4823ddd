import { CliError } from '../errors.js';
import { node, pool } from '../testing/fixtures.js';
import { planJoin, selectorText, withPoolTaint } from './join.js';

const PAYOUT = '0x976EA74026E726554dB657fA54763abd0C3a0aa9';

/** The error's message and hint, as the user reads them. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CliError) return `${e.message}\nhint: ${e.hint ?? ''}`;
    throw e;
  }
  throw new Error('not refused');
}

test('a GPU node that matches the pool once labelled joins: labels, one pool taint, its GPUs', () => {
  const n = node('gpu-1', { taints: [{ key: 'other', value: 'x', effect: 'NoExecute' }, { key: 'pinfi.io/pool', value: 'old', effect: 'NoSchedule' }] });
  const plan = planJoin(n, pool('a100'), [pool('a100')], PAYOUT, { overwrite: true });
  expect(plan.labels).toEqual({ 'pinfi.io/pool': 'a100', 'pinfi.io/payout-address': PAYOUT });
  expect(plan.taints).toEqual([{ key: 'other', value: 'x', effect: 'NoExecute' }, { key: 'pinfi.io/pool', value: 'a100', effect: 'NoSchedule' }]);
  expect(plan.gpus).toBe(8);
  expect(plan.unchanged).toBe(false);
  expect(plan.warnings).toEqual([]);
});

test('joining again changes nothing', () => {
  const n = node('gpu-1', { labels: { 'pinfi.io/pool': 'a100', 'pinfi.io/payout-address': PAYOUT }, taints: withPoolTaint([], 'a100') });
  expect(planJoin(n, pool('a100'), [pool('a100')], PAYOUT).unchanged).toBe(true);
});

test.each([
  ['no GPUs at all', node('cpu-1', { gpus: '' }), pool('a100'), {}, /reports no NVIDIA GPUs.*install the NVIDIA device plugin/s],
  ['another resource (MIG)', node('mig-1', { resource: 'nvidia.com/mig-1g.10gb', gpus: '14' }), pool('a100'), {}, /does not report nvidia.com\/gpu.*it reports nvidia.com\/mig-1g.10gb: 14/],
  ['zero allocatable', node('bad-1', { gpus: '0' }), pool('a100'), {}, /0 allocatable/],
  ['a selector it does not match', node('gpu-2'), pool('a100', { selector: { matchLabels: { 'nvidia.com/gpu.product': 'Tesla-T4' } } }), {}, /selects nodes with nvidia.com\/gpu.product=Tesla-T4.*node has nvidia.com\/gpu.product=NVIDIA-A100/],
  ['another product', node('gpu-3', { product: 'Tesla-T4' }), pool('a100', { product: 'NVIDIA-A100-SXM4-80GB' }), {}, /sells NVIDIA-A100-SXM4-80GB, but node gpu-3 has Tesla-T4/],
  ['time-sliced GPUs as whole ones', node('ts-1', { labels: { 'nvidia.com/gpu.replicas': '4' } }), pool('a100'), {}, /time-sliced/],
  ['in another pool', node('gpu-4', { labels: { 'pinfi.io/pool': 't4' } }), pool('a100'), {}, /labelled for pool t4 already.*--overwrite/s],
  ['paying out elsewhere', node('gpu-5', { labels: { 'pinfi.io/payout-address': `0x${'9'.repeat(40)}` } }), pool('a100'), {}, /pays out to 0x9+ already/],
])('a node with %s is refused with what to do', (_what, n, p, o, msg) => {
  expect(refusal(() => planJoin(n, p, [p], PAYOUT, o))).toMatch(msg);
});

test('an older pool that also selects the node would sell it: refused', () => {
  const older = pool('everything', { selector: { matchLabels: { 'kubernetes.io/hostname': 'gpu-6' } }, created: '2025-01-01T00:00:00Z' });
  const a100 = pool('a100');
  expect(() => planJoin(node('gpu-6'), a100, [older, a100], PAYOUT)).toThrow(/older pool everything/);
});

test('--force mixes products with a warning; a NotReady node joins with a warning', () => {
  const p = pool('a100', { product: 'NVIDIA-A100-SXM4-80GB' });
  expect(planJoin(node('gpu-7', { product: 'Tesla-T4' }), p, [p], PAYOUT, { force: true }).warnings[0]).toMatch(/becomes Mixed/);
  expect(planJoin(node('gpu-8', { ready: false }), p, [p], PAYOUT).warnings[0]).toMatch(/not Ready.*once it is Ready/);
});

test('selectors read like kubectl -l', () => {
  expect(selectorText({ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['d', 'e'] }, { key: 'f', operator: 'Exists' }] })).toBe('a=b, c In (d,e), f');
});
