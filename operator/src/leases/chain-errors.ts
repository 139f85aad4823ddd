// Which chain errors are worth retrying and which end a lease's funding. The chain being down or
// slow, the escrow paused, or the operator's own key lacking its role: the lease waits with a
// condition and nothing is undone. The payer's authorisation, allowance or balance (the
// settlement client's 'payer-action' and 'fix-input' errors): funding fails with the chain's
// reason in plain words.
import { SettlementError } from '../settlement/index.js';

export function classifyChainError(err: unknown): { retry: boolean; message: string } {
  const e = err as Error & { fundingRefused?: boolean };
  if (e?.fundingRefused) return { retry: false, message: e.message };
  if (err instanceof SettlementError) return { retry: err.retryable === 'retry' || err.retryable === 'admin-action', message: err.message };
  return { retry: true, message: e?.message ?? String(err) };
}
