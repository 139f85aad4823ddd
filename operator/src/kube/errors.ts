// Errors from the API server and from reconcilers. Branch on the HTTP code of an ApiException
// (404 NotFound, 409 Conflict, 410 Gone, 422 Invalid) anywhere in the cause chain; never log the
// exception itself (its message carries response headers and body): use telemetry's errorFields.
import { ApiException } from '@kubernetes/client-node';

/**
 * A reconcile error that retrying cannot fix (invalid spec, a permanent refusal): the controller
 * logs it, counts it and does not requeue the key. A later change to the object enqueues it again.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

export function isTerminal(err: unknown): boolean {
  for (let e = err, i = 0; e instanceof Error && i < 10; e = e.cause, i++) {
    if (e instanceof TerminalError) return true;
  }
  return false;
}

/** The HTTP code of the first ApiException (or error with a numeric statusCode/code) in the cause chain. */
export function apiCode(err: unknown): number | undefined {
  for (let e = err, i = 0; e instanceof Error && i < 10; e = e.cause, i++) {
    if (e instanceof ApiException) return e.code;
    const { statusCode, code } = e as Error & { statusCode?: unknown; code?: unknown };
    if (typeof statusCode === 'number') return statusCode;
    if (typeof code === 'number' && code >= 100 && code < 600) return code;
  }
  return undefined;
}

/** The Status `reason` (NotFound, AlreadyExists, Conflict, Expired, Invalid, ...) if the server sent one. */
export function apiReason(err: unknown): string | undefined {
  for (let e = err, i = 0; e instanceof Error && i < 10; e = e.cause, i++) {
    if (e instanceof ApiException) {
      const body: unknown = typeof e.body === 'string' ? safeParse(e.body) : e.body;
      if (body && typeof body === 'object' && 'reason' in body && typeof body.reason === 'string') return body.reason;
      return undefined;
    }
  }
  return undefined;
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

export const isNotFound = (err: unknown): boolean => apiCode(err) === 404;
export const isConflict = (err: unknown): boolean => apiCode(err) === 409;
export const isGone = (err: unknown): boolean => apiCode(err) === 410;
export const isInvalid = (err: unknown): boolean => apiCode(err) === 422;
