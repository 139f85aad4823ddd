// Retrying RPC calls that failed for reasons outside the request (the endpoint is down, slow, or answers 5xx),
// with capped exponential backoff and a time budget. A revert or a JSON-RPC error about the request itself is
// not retried: it would fail the same way again.
import { ChainUnavailableError } from './errors.js';
import type { Clock, Logger, Sleep } from './types.js';

export type RetryPolicy = {
  /** Give up (ChainUnavailableError) after this long without an answer. */
  readonly budgetMs: number;
  readonly baseMs: number;
  readonly maxMs: number;
};

export const defaultRetryPolicy: RetryPolicy = { budgetMs: 120_000, baseMs: 200, maxMs: 5_000 };

const TRANSIENT_CODES = new Set(['NETWORK_ERROR', 'SERVER_ERROR', 'TIMEOUT']);
const TRANSIENT_TEXT = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|socket hang up|other side closed|fetch failed|network|timeout|bad response|missing response|\b50[0234]\b/i;

/** True when the failure says nothing about the request: the same call may succeed later. */
export function isTransient(err: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (e: unknown): boolean => {
    if (!e || typeof e !== 'object' || seen.has(e)) return false;
    seen.add(e);
    const o = e as { code?: unknown; message?: unknown; cause?: unknown; error?: unknown; info?: unknown };
    if (o.code === 'CALL_EXCEPTION') return false;
    if (typeof o.code === 'string' && TRANSIENT_CODES.has(o.code)) return true;
    if (typeof o.code === 'string' && TRANSIENT_TEXT.test(o.code)) return true;
    if (typeof o.message === 'string' && TRANSIENT_TEXT.test(o.message) && !/revert/i.test(o.message)) return true;
    return visit(o.cause) || visit(o.error) || visit(o.info);
  };
  return visit(err);
}

/** A short, key-free description of a failure for "waiting for …" messages. */
export function describeFailure(err: unknown): string {
  const o = err as { code?: unknown; shortMessage?: unknown; message?: unknown };
  const text = typeof o?.shortMessage === 'string' ? o.shortMessage : typeof o?.message === 'string' ? o.message : String(err);
  const firstLine = text.split('\n')[0] ?? text;
  return `${typeof o?.code === 'string' ? `${o.code}: ` : ''}${firstLine.slice(0, 160)}`;
}

export type RetryDeps = { clock: Clock; sleep: Sleep; logger: Logger; policy: RetryPolicy };

/**
 * Calls `fn` until it succeeds, fails for a non-transient reason (rethrown as is), or the budget runs out
 * (ChainUnavailableError naming what was waited for). `onWait` receives a sentence for status reporting.
 */
export async function withRpcRetry<T>(what: string, fn: () => Promise<T>, deps: RetryDeps, onWait?: (waiting: string) => void): Promise<T> {
  const started = deps.clock();
  let delay = deps.policy.baseMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err)) throw err;
      const elapsed = deps.clock() - started;
      if (elapsed + delay > deps.policy.budgetMs) {
        throw new ChainUnavailableError(`RPC endpoint did not answer ${what} for ${Math.round(elapsed / 1000)} s (${describeFailure(err)}); retry later`, { cause: err });
      }
      const waiting = `waiting for the RPC endpoint (${what}: ${describeFailure(err)}; attempt ${attempt}, next in ${delay} ms)`;
      if (attempt === 1 || attempt % 10 === 0) deps.logger.warn(waiting);
      onWait?.(waiting);
      await deps.sleep(delay);
      delay = Math.min(delay * 2, deps.policy.maxMs);
    }
  }
}
