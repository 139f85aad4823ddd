import { ApiException } from '@kubernetes/client-node';
import { REDACTED, createLogger, errorFields, memoryLogger, sanitize } from './logger.js';

describe('logger', () => {
  test('writes one JSON object per line with level, time, msg and fields', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), now: () => Date.UTC(2026, 0, 1), fields: { app: 'op' } });
    log.info('hello', { n: 1, big: 10n ** 30n });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ level: 'info', time: '2026-01-01T00:00:00.000Z', msg: 'hello', app: 'op', n: 1, big: '1000000000000000000000000000000' });
  });

  test('child loggers bind fields; per-call fields win; level/msg cannot be overwritten', () => {
    const log = memoryLogger();
    log.child({ controller: 'lease' }).child({ key: 'ns/a' }).warn('x', { key: 'ns/b', level: 'debug', msg: 'y' });
    expect(log.lines[0]).toMatchObject({ level: 'warn', msg: 'x', controller: 'lease', key: 'ns/b' });
  });

  test.each([
    { level: 'info' as const, want: ['info', 'warn', 'error'] },
    { level: 'error' as const, want: ['error'] },
    { level: 'debug' as const, want: ['debug', 'info', 'warn', 'error'] },
  ])('level $level filters lower levels', ({ level, want }) => {
    const lines: string[] = [];
    const log = createLogger({ level, write: (l) => lines.push(l) });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual(want);
  });

  test.each(['secret', 'privateKey', 'operatorPrivateKey', 'private_key', 'signature', 'payerSignature', 'Authorization', 'password', 'mnemonic', 'apiKey'])(
    'redacts %s at any depth',
    (key) => {
      const out = sanitize({ a: { [key]: 'hunter2', b: [{ [key]: { nested: 1 } }] } });
      expect(JSON.stringify(out)).not.toContain('hunter2');
      expect(out).toEqual({ a: { [key]: REDACTED, b: [{ [key]: REDACTED }] } });
    },
  );

  test.each(['paymentToken', 'tokenAddress', 'signer', 'key', 'keys'])('keeps %s', (key) => {
    expect(sanitize({ [key]: 'v' })).toEqual({ [key]: 'v' });
  });

  test('cycles do not throw', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(sanitize(a)).toEqual({ x: 1, self: '[Circular]' });
  });

  test('an ApiException is reduced to code and reason, also as a cause', () => {
    const api = new ApiException(409, 'Conflict', { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' }, { authorization: 'Bearer abc' });
    const wrapped = new Error('patch status of ComputeLease ns/a', { cause: api });
    expect(errorFields(wrapped)).toEqual({ name: 'Error', message: 'patch status of ComputeLease ns/a', cause: { name: 'ApiError', code: 409, reason: 'Conflict' } });
    const log = memoryLogger();
    log.error('failed', { err: wrapped });
    expect(JSON.stringify(log.lines)).not.toMatch(/Bearer|modified/);
  });
});
