import { humanDuration, renderData, renderFields, renderRows, renderTable, shortHex, toPlain } from './output.js';

test('a table is aligned like kubectl: upper-case headers, three spaces, no borders, no trailing blanks', () => {
  expect(renderTable(['name', 'gpus'], [['a100', '16'], ['t4-large-pool', '2']])).toBe(
    'NAME            GPUS\n' +
    'a100            16\n' +
    't4-large-pool   2\n',
  );
});

test('wide columns show only with -o wide', () => {
  const cols = [{ header: 'name', cell: (r: { n: string }) => r.n }, { header: 'extra', cell: () => 'x', wide: true }];
  expect(renderRows([{ n: 'a' }], cols, false)).toBe('NAME\na\n');
  expect(renderRows([{ n: 'a' }], cols, true)).toBe('NAME   EXTRA\na      x\n');
});

test('JSON and YAML carry bigints as decimal strings and drop undefined fields', () => {
  const data = { total: 12_500_000n, list: [1n], gone: undefined, at: new Date(0) };
  expect(toPlain(data)).toEqual({ total: '12500000', list: ['1'], at: '1970-01-01T00:00:00.000Z' });
  expect(JSON.parse(renderData('json', data))).toEqual({ total: '12500000', list: ['1'], at: '1970-01-01T00:00:00.000Z' });
  expect(renderData('yaml', { total: 5n })).toBe('total: "5"\n');
});

test('fields are aligned key: value lines', () => {
  expect(renderFields([['escrow', '0xabc'], ['tx', '0xdef']])).toBe('escrow: 0xabc\ntx:     0xdef\n');
});

test.each([
  [undefined, '-'],
  ['0x1234', '0x1234'],
  [`0x${'ab'.repeat(32)}`, '0xababab…abab'],
])('shortHex(%s) = %s', (hex, want) => expect(shortHex(hex)).toBe(want));

test.each([
  [-5, '0s'], [0, '0s'], [59, '59s'], [61, '1m1s'], [600, '10m'], [3725, '1h2m'], [7200, '2h'], [90_000, '1d1h'],
])('humanDuration(%i) = %s', (s, want) => expect(humanDuration(s)).toBe(want));
