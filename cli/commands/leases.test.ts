import { lease } from '../testing/fixtures.js';
import { leaseColumns, leaseRow, timeLeft } from './leases.js';
import { renderRows } from '../output.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');

test.each([
  ['Active', { endTime: '2026-01-01T01:00:00Z' }, '50m'],
  ['Active', { endTime: '2026-01-01T00:09:00Z' }, 'ending'],
  ['Pending', {}, 'waits ≤50m'],
  ['Waiting', { deadline: '2026-01-01T00:20:30Z' }, 'waits ≤10m'],
  ['Pending', { created: '2025-12-31T00:00:00Z' }, 'expiring'],
  ['Reserved', {}, 'starting'],
  ['Settled', {}, '-'],
  ['Failed', {}, '-'],
])('a %s lease shows time left %j → %s', (phase, o, want) => {
  expect(timeLeft(lease('x', { phase, ...o }), NOW).text).toBe(want);
});

test('a pre-empted lease shows what is left of its duration to run', () => {
  const l = lease('x', { phase: 'Preempted' });
  l.status = { ...l.status, secondsRun: 1200 };
  expect(timeLeft(l, NOW).text).toBe('pre-empted, 40m to run');
});

test('the table shows state, price, time left and the transaction; wide adds the reason', () => {
  const l = lease('train', { phase: 'Settled' });
  l.status = { ...l.status, quote: { pricePerGpuHour: '1500000', total: '3000000', spotPrice: '1', quotedAt: '' }, chain: { openTx: `0x${'a'.repeat(64)}`, settleTx: `0x${'b'.repeat(64)}` }, closeReason: 'Cancelled' };
  const row = leaseRow(l, NOW, { address: '', symbol: 'tUSD', decimals: 6 });
  const table = renderRows([row], leaseColumns(false), false);
  expect(table).toMatch(/NAME\s+POOL\s+GPUS\s+STATE\s+PRICE\/GPU-H\s+TIME LEFT\s+TX/);
  expect(table).toMatch(/train\s+a100\s+2\s+Settled \(Cancelled\)\s+1\.5 tUSD\s+-\s+0xbbbbbb…bbbb/);
  const pending = lease('wait');
  pending.status = { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False', reason: 'AuthorizationMissing', message: 'sign it', lastTransitionTime: '' }] };
  expect(renderRows([leaseRow(pending, NOW, undefined)], leaseColumns(true), true)).toMatch(/team\s+wait .*AuthorizationMissing/);
});
