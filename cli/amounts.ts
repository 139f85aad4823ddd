// Amounts on the command line. Money is an integer in the token's base units everywhere (as in
// the CRDs): a plain integer is base units; a decimal with the token's symbol ("12.5tUSD",
// "12.5 tUSD") is whole tokens, converted exactly with the token's decimals.
import { formatAmount, parseAmount, type TokenInfo } from '../operator/src/settlement/index.js';
import { CliError } from './errors.js';

const BASE_UNITS = /^[0-9]{1,78}$/;
const WITH_SYMBOL = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z][A-Za-z0-9.$-]*)$/;

/** Whether `text` needs the token's decimals to be read (it names a symbol). */
export function needsToken(text: string): boolean {
  return !BASE_UNITS.test(text.trim());
}

/** "1500000" → 1500000n; "1.5tUSD" with tUSD (6 decimals) → 1500000n. */
export function parseAmountArg(text: string, what: string, token?: Pick<TokenInfo, 'symbol' | 'decimals'>): bigint {
  const t = text.trim();
  if (BASE_UNITS.test(t)) return BigInt(t);
  const m = WITH_SYMBOL.exec(t);
  const example = token ? `e.g. 1500000 (base units) or 1.5${token.symbol}` : 'e.g. 1500000 (base units) or 1.5tUSD';
  if (!m) throw new CliError(`${what} "${text}" is not an amount`, example, 2);
  if (!token) throw new CliError(`${what} "${text}" names a token symbol, but the token is not known here`, `give base units, or a chain to read the token from (--rpc-url / PINFI_RPC_URL)`, 2);
  const [, num = '', symbol = ''] = m;
  if (symbol.toLowerCase() !== token.symbol.toLowerCase()) throw new CliError(`${what} "${text}" is in ${symbol}, but the token is ${token.symbol}`, example, 2);
  try {
    return parseAmount(num, token.decimals);
  } catch {
    throw new CliError(`${what} "${text}" has more decimals than ${token.symbol} (${token.decimals})`, example, 2);
  }
}

/** An amount for people: "12.5 tUSD" when the token is known, else the base units. */
export function showAmount(amount: bigint | string | undefined, token: Pick<TokenInfo, 'symbol' | 'decimals'> | undefined): string {
  if (amount === undefined || amount === '') return '-';
  const v = typeof amount === 'bigint' ? amount : /^[0-9]+$/.test(amount) ? BigInt(amount) : undefined;
  if (v === undefined) return String(amount);
  return token ? formatAmount(v, token) : v.toString();
}

/** `x` raised by `bps` basis points, rounded up (a limit above a quote). */
export function withSlippage(x: bigint, bps: number): bigint {
  const b = BigInt(10_000 + bps);
  return (x * b + 9_999n) / 10_000n;
}

/** "10%", "10", "0.5%" → basis points. */
export function parsePercent(text: string, what: string): number {
  const m = /^([0-9]+(?:\.[0-9]{1,2})?)%?$/.exec(text.trim());
  const bps = m ? Math.round(Number(m[1]) * 100) : NaN;
  if (!Number.isSafeInteger(bps) || bps > 100_000) throw new CliError(`${what} "${text}" is not a percentage`, 'e.g. 10% or 2.5', 2);
  return bps;
}
