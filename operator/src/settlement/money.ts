// Token amounts are bigints in base units everywhere; these helpers only turn them into text for people.
import { formatUnits, parseUnits } from 'ethers';

/** What a person needs to read an amount: the token's symbol and decimals (read once from the chain). */
export type TokenInfo = {
  readonly address: string;
  readonly symbol: string;
  readonly decimals: number;
};

/** 12_500_000n with 6 decimals and symbol USDC -> "12.5 USDC". Exact: no floating point. */
export function formatAmount(amount: bigint, token: Pick<TokenInfo, 'symbol' | 'decimals'>): string {
  const text = formatUnits(amount, token.decimals);
  return `${text.endsWith('.0') ? text.slice(0, -2) : text} ${token.symbol}`;
}

/** "12.5" with 6 decimals -> 12_500_000n. Throws on more fractional digits than the token has. */
export function parseAmount(text: string, decimals: number): bigint {
  return parseUnits(text, decimals);
}
