// Errors that tell the user what to do. A command throws CliError(message, hint); main.ts prints
// "error: message" and the hint. Anything else is turned into one here, without ever printing a
// cause chain wholesale (API responses carry headers; chain errors carry transaction data).
import { isApiError, statusBody } from '../operator/src/kube/errors.js';
import { SettlementError } from '../operator/src/settlement/index.js';

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** The next thing to try, one sentence. */
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The Status object of an API error, when the server sent one. */
export function apiStatus(err: unknown): { code: number; reason?: string; message?: string; details?: { name?: string; kind?: string } } | undefined {
  for (let e = err, i = 0; e instanceof Error && i < 10; e = e.cause, i++) {
    if (isApiError(e)) {
      const s = statusBody(e);
      return {
        code: e.code,
        ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
        ...(typeof s.message === 'string' ? { message: s.message } : {}),
        ...(s.details && typeof s.details === 'object' ? { details: s.details as { name?: string; kind?: string } } : {}),
      };
    }
  }
  return undefined;
}

/** The innermost system error code (ECONNREFUSED, ENOTFOUND, ETIMEDOUT…) in a cause chain. */
export function systemCode(err: unknown): string | undefined {
  let found: string | undefined;
  for (let e = err, i = 0; e instanceof Error && i < 10; e = e.cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) found = code;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') found ??= 'ETIMEDOUT';
  }
  return found;
}

/** What to print for any error a command threw: a message and maybe a hint. Never the key, never a response dump. */
export function describeError(err: unknown): { message: string; hint?: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, ...(err.hint ? { hint: err.hint } : {}), exitCode: err.exitCode };
  if (err instanceof SettlementError) {
    const hint = err.retryable === 'retry' ? 'this is transient: run the command again in a moment' : undefined;
    return { message: err.message, ...(hint ? { hint } : {}), exitCode: 1 };
  }
  const status = apiStatus(err);
  if (status) return { message: `the Kubernetes API server answered ${status.code}${status.reason ? ` ${status.reason}` : ''}: ${status.message ?? 'no details'}`, exitCode: 1 };
  const e = err as { code?: unknown; shortMessage?: unknown; message?: unknown };
  if (e?.code === 'INSUFFICIENT_FUNDS') return { message: 'the account has too little ETH to pay for gas', hint: 'fund it with the chain\'s native currency and try again', exitCode: 1 };
  if (e?.code === 'CALL_EXCEPTION') return { message: `the contract call reverted: ${String(e.shortMessage ?? e.message)}`, hint: 'check the escrow address (--escrow) and the chain (--rpc-url)', exitCode: 1 };
  const message = typeof e?.shortMessage === 'string' ? e.shortMessage : err instanceof Error ? err.message : String(err);
  return { message, exitCode: 1 };
}

/** The message of the innermost error in a cause chain ("bad port" under "fetch failed"). */
export function rootMessage(err: unknown): string {
  let msg = err instanceof Error ? err.message : String(err);
  for (let e = err, i = 0; e instanceof Error && i < 10; e = e.cause, i++) msg = e.message || msg;
  return msg;
}
