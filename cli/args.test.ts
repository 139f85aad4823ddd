import { leaseSeconds, parseGpus, parseInstant, parseName } from './args.js';

test.each([
  [{ hours: '6' }, 21_600], [{ hours: '0.5' }, 1800], [{ hours: '1.25' }, 4500], [{ duration: '1h30m' }, 5400], [{ duration: '90m' }, 5400],
])('lease length %j is %i s', (o, s) => expect(leaseSeconds(o)).toBe(s));

test.each([
  [{}, /--hours H or --duration D/], [{ hours: '1', duration: '1h' }, /one of them/], [{ hours: '-1' }, /not a number of hours/],
  [{ hours: '9000' }, /\(0, 8760\]/], [{ hours: 'six' }, /not a number of hours/], [{ duration: '6 hours' }, /not a duration/],
])('lease length %j is refused', (o, msg) => expect(() => leaseSeconds(o)).toThrow(msg));

test('GPU counts are whole numbers from 1 to 4096', () => {
  expect(parseGpus('4')).toBe(4);
  for (const bad of ['0', '-1', '1.5', 'four', '5000']) expect(() => parseGpus(bad)).toThrow(/--gpus/);
});

test('an instant is RFC 3339 or a duration from now, never in the past', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  expect(parseInstant('2h', now, '--deadline')).toBe('2026-01-01T02:00:00Z');
  expect(parseInstant('2026-01-02T03:04:05.678Z', now, '--deadline')).toBe('2026-01-02T03:04:05Z');
  expect(() => parseInstant('2025-01-01T00:00:00Z', now, '--deadline')).toThrow(/in the past/);
  expect(() => parseInstant('tomorrow', now, '--deadline')).toThrow(/neither a time nor a duration/);
});

test('names are DNS-1123 subdomains of at most 63 characters', () => {
  expect(parseName('train-1.a', 'lease name')).toBe('train-1.a');
  for (const bad of ['Train', '-x', 'x-', 'a'.repeat(64), 'a_b']) expect(() => parseName(bad, 'lease name')).toThrow(/not a valid name/);
});
