import { CliError } from './errors.js';
import { needsToken, parseAmountArg, parsePercent, showAmount, withSlippage } from './amounts.js';

const tUSD = { symbol: 'tUSD', decimals: 6 };

test.each([
  ['1500000', undefined, 1_500_000n],
  ['0', undefined, 0n],
  ['1.5tUSD', tUSD, 1_500_000n],
  ['1.5 tusd', tUSD, 1_500_000n],
  ['500tUSD', tUSD, 500_000_000n],
  ['0.000001tUSD', tUSD, 1n],
])('parseAmountArg(%s) = %s', (text, token, want) => expect(parseAmountArg(text, '--amount', token)).toBe(want));

test.each([
  ['1.5', tUSD, /not an amount/],
  ['-3', tUSD, /not an amount/],
  ['1.5USDC', tUSD, /is in USDC, but the token is tUSD/],
  ['0.0000001tUSD', tUSD, /more decimals than tUSD \(6\)/],
  ['1.5tUSD', undefined, /token is not known here/],
])('parseAmountArg(%s) is refused with what to do', (text, token, msg) => {
  expect(() => parseAmountArg(text, '--amount', token)).toThrow(CliError);
  expect(() => parseAmountArg(text, '--amount', token)).toThrow(msg);
});

test('only amounts with a symbol need the token', () => {
  expect(needsToken('100')).toBe(false);
  expect(needsToken('1tUSD')).toBe(true);
});

test.each([
  [12_500_000n, tUSD, '12.5 tUSD'],
  ['1000000', tUSD, '1 tUSD'],
  ['1000000', undefined, '1000000'],
  [undefined, tUSD, '-'],
])('showAmount(%s)', (v, token, want) => expect(showAmount(v, token)).toBe(want));

test('slippage raises a limit, rounding up', () => {
  expect(withSlippage(1000n, 1000)).toBe(1100n);
  expect(withSlippage(66_667n, 1000)).toBe(73_334n);
  expect(withSlippage(1n, 1)).toBe(2n);
  expect(withSlippage(5n, 0)).toBe(5n);
});

test.each([['10%', 1000], ['10', 1000], ['2.5%', 250], ['0', 0]])('parsePercent(%s) = %i bps', (t, bps) => expect(parsePercent(t, '--slippage')).toBe(bps));
test('a percentage that is not one is refused', () => expect(() => parsePercent('ten', '--slippage')).toThrow(/not a percentage/));
