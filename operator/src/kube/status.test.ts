import { mergePatch, normalize, statusEqual } from './status.js';

const cond = (type: string, status = 'True') => ({ type, status, reason: 'R', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' });

describe('statusEqual', () => {
  test.each([
    { name: 'identical', a: { phase: 'Active', n: 1 }, b: { phase: 'Active', n: 1 }, want: true },
    { name: 'key order does not matter', a: { n: 1, phase: 'Active' }, b: { phase: 'Active', n: 1 }, want: true },
    { name: 'condition order does not matter', a: { conditions: [cond('A'), cond('B')] }, b: { conditions: [cond('B'), cond('A')] }, want: true },
    { name: 'undefined and null fields equal absent ones', a: { phase: 'Active', txHash: undefined, note: null }, b: { phase: 'Active' }, want: true },
    { name: 'missing status equals empty status', a: undefined, b: {}, want: true },
    { name: 'a changed value differs', a: { phase: 'Active' }, b: { phase: 'Ending' }, want: false },
    { name: 'a changed condition status differs', a: { conditions: [cond('A')] }, b: { conditions: [cond('A', 'False')] }, want: false },
    { name: 'an added field differs', a: { phase: 'Active' }, b: { phase: 'Active', txHash: '0xab' }, want: false },
    { name: 'order of other lists matters', a: { nodes: ['n1', 'n2'] }, b: { nodes: ['n2', 'n1'] }, want: false },
    { name: 'integer strings compare as strings', a: { price: '100' }, b: { price: '100' }, want: true },
    { name: 'a number is not its string', a: { price: 100 }, b: { price: '100' }, want: false },
    { name: 'nested objects compare deeply', a: { r: { nodes: [{ name: 'n1', gpus: 2 }] } }, b: { r: { nodes: [{ gpus: 2, name: 'n1' }] } }, want: true },
  ])('$name', ({ a, b, want }) => {
    expect(statusEqual(a, b)).toBe(want);
  });
});

describe('mergePatch', () => {
  test.each([
    { name: 'nothing changed', from: { a: 1 }, to: { a: 1 }, want: undefined },
    { name: 'a changed scalar', from: { a: 1, b: 2 }, to: { a: 1, b: 3 }, want: { b: 3 } },
    { name: 'a removed field becomes null', from: { a: 1, b: 2 }, to: { a: 1 }, want: { b: null } },
    { name: 'nested changes only', from: { r: { x: 1, y: 2 } }, to: { r: { x: 1, y: 5 } }, want: { r: { y: 5 } } },
    { name: 'lists are replaced whole', from: { l: [1, 2] }, to: { l: [1, 2, 3] }, want: { l: [1, 2, 3] } },
    { name: 'from empty', from: {}, to: { phase: 'Active' }, want: { phase: 'Active' } },
  ])('$name', ({ from, to, want }) => {
    expect(mergePatch(from, to)).toEqual(want);
  });
});

test('normalize sorts conditions by type and keeps other lists in order', () => {
  expect(normalize({ conditions: [cond('B'), cond('A')], l: [2, 1] })).toEqual({ conditions: [cond('A'), cond('B')], l: [2, 1] });
});
