// Retrying transient RPC failures with backoff on an injected clock: nothing sleeps for real.
import { isTransient, withRpcRetry } from '../../operator/src/settlement/rpc-retry.js';
import { ChainUnavailableError } from '../../operator/src/settlement/errors.js';

test.each([
  { err: { code: 'NETWORK_ERROR' }, transient: true },
  { err: { code: 'SERVER_ERROR', message: 'server response 503' }, transient: true },
  { err: { code: 'TIMEOUT', message: 'request timeout' }, transient: true },
  { err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8545'), { code: 'ECONNREFUSED' }), transient: true },
  { err: new Error('fetch failed', { cause: new Error('socket hang up') }), transient: true },
  { err: { code: 'CALL_EXCEPTION', message: 'execution reverted', data: '0x12345678' }, transient: false },
  { err: { code: 'NONCE_EXPIRED', message: 'nonce has already been used' }, transient: false },
  { err: { code: 'INSUFFICIENT_FUNDS', message: 'insufficient funds for gas' }, transient: false },
])('isTransient($err.code) = $transient', ({ err, transient }) => {
  expect(isTransient(err)).toBe(transient);
});

function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return { clock: () => now, sleep: async (ms: number) => { sleeps.push(ms); now += ms; }, sleeps };
}
const silent = { debug() {}, info() {}, warn() {}, error() {} };

test('retries with doubling, capped backoff until the call succeeds, saying what it waits for', async () => {
  const t = fakeTime();
  let calls = 0;
  const waits: string[] = [];
  const value = await withRpcRetry('eth_blockNumber', async () => {
    if (++calls < 6) throw { code: 'NETWORK_ERROR', message: 'connect ECONNREFUSED' };
    return 42;
  }, { ...t, logger: silent, policy: { budgetMs: 60_000, baseMs: 100, maxMs: 500 } }, (w) => waits.push(w));
  expect(value).toBe(42);
  expect(t.sleeps).toEqual([100, 200, 400, 500, 500]);
  expect(waits[0]).toMatch(/^waiting for the RPC endpoint \(eth_blockNumber: NETWORK_ERROR: connect ECONNREFUSED; attempt 1, next in 100 ms\)$/);
});

test('gives up with ChainUnavailableError when the budget runs out', async () => {
  const t = fakeTime();
  const p = withRpcRetry('receipt', async () => { throw { code: 'TIMEOUT', message: 'request timeout' }; }, { ...t, logger: silent, policy: { budgetMs: 1_000, baseMs: 100, maxMs: 400 } });
  await expect(p).rejects.toBeInstanceOf(ChainUnavailableError);
  await expect(p).rejects.toThrow(/RPC endpoint did not answer receipt for 1 s/);
});

test('a non-transient error is thrown at once', async () => {
  const t = fakeTime();
  const err = { code: 'CALL_EXCEPTION', data: '0x12345678' };
  await expect(withRpcRetry('call', async () => { throw err; }, { ...t, logger: silent, policy: { budgetMs: 1_000, baseMs: 1, maxMs: 1 } })).rejects.toBe(err);
  expect(t.sleeps).toEqual([]);
});
