import { findCondition, isFalse, isTrue, isTrueFor, removeCondition, setCondition, type Condition } from './conditions.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const T1 = T0 + 60_000;

const ready = (status: Condition['status'], over: Partial<Condition> = {}): Condition => ({
  type: 'Ready',
  status,
  reason: status === 'True' ? 'Funded' : 'Waiting',
  message: '',
  observedGeneration: 1,
  lastTransitionTime: '2026-01-01T12:00:00Z',
  ...over,
});

describe('setCondition', () => {
  test.each([
    {
      name: 'a new type is appended with the time of the transition',
      before: [] as Condition[],
      input: { type: 'Ready', status: 'True' as const, reason: 'Funded', message: 'ok', observedGeneration: 2 },
      want: [{ type: 'Ready', status: 'True', reason: 'Funded', message: 'ok', observedGeneration: 2, lastTransitionTime: '2026-01-01T12:01:00Z' }],
    },
    {
      name: 'same status keeps lastTransitionTime, updates reason, message, generation',
      before: [ready('True')],
      input: { type: 'Ready', status: 'True' as const, reason: 'StillFunded', message: 'm', observedGeneration: 3 },
      want: [{ type: 'Ready', status: 'True', reason: 'StillFunded', message: 'm', observedGeneration: 3, lastTransitionTime: '2026-01-01T12:00:00Z' }],
    },
    {
      name: 'a status change moves lastTransitionTime',
      before: [ready('True')],
      input: { type: 'Ready', status: 'False' as const, reason: 'Expired', message: '', observedGeneration: 1 },
      want: [{ type: 'Ready', status: 'False', reason: 'Expired', message: '', observedGeneration: 1, lastTransitionTime: '2026-01-01T12:01:00Z' }],
    },
    {
      name: 'other conditions are kept in place',
      before: [ready('True', { type: 'Quoted' }), ready('True')],
      input: { type: 'Quoted', status: 'True' as const, reason: 'Funded', message: '', observedGeneration: 1 },
      want: [ready('True', { type: 'Quoted' }), ready('True')],
    },
  ])('$name', ({ before, input, want }) => {
    const frozen = JSON.parse(JSON.stringify(before)) as Condition[];
    expect(setCondition(before, input, T1)).toEqual(want);
    expect(before).toEqual(frozen); // pure
  });

  test('undefined conditions are treated as empty', () => {
    expect(setCondition(undefined, { type: 'A', status: 'Unknown', reason: 'R', message: '' }, T0)).toEqual([
      { type: 'A', status: 'Unknown', reason: 'R', message: '', lastTransitionTime: '2026-01-01T12:00:00Z' },
    ]);
  });
});

describe('queries', () => {
  const list = [ready('True'), ready('False', { type: 'Degraded' })];
  test.each([
    { q: 'isTrue Ready', got: isTrue(list, 'Ready'), want: true },
    { q: 'isTrue Degraded', got: isTrue(list, 'Degraded'), want: false },
    { q: 'isFalse Degraded', got: isFalse(list, 'Degraded'), want: true },
    { q: 'isTrue missing', got: isTrue(list, 'Missing'), want: false },
    { q: 'isFalse missing', got: isFalse(undefined, 'Missing'), want: false },
    { q: 'isTrueFor current generation', got: isTrueFor(list, 'Ready', 1), want: true },
    { q: 'isTrueFor stale generation', got: isTrueFor(list, 'Ready', 2), want: false },
  ])('$q', ({ got, want }) => expect(got).toBe(want));

  test('find and remove', () => {
    expect(findCondition(list, 'Degraded')?.status).toBe('False');
    expect(removeCondition(list, 'Ready').map((c) => c.type)).toEqual(['Degraded']);
  });
});
