// Errors from the API server and from reconcilers. Branch on the HTTP code of an API error
// (404 NotFound, 409 Conflict, 410 Gone, 422 Invalid) anywhere in the cause chain; never log the
// error itself (it carries response headers and body): use telemetry's errorFields.

/**
 * A non-2xx response from the API server (rest.ts): `code` is the HTTP status, `body` the parsed
 * Status object (or the text). The same shape as client-node's ApiException, which the CLI's and
 * the tests' typed API calls throw; the helpers below accept both.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: number,
    message: string,
    readonly body: unknown,
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP ${code}: ${message}`);
  }
}

/** An API server error: an ApiError or client-node's ApiException (a numeric code and a body). */
export function isApiError(e: unknown): e is Error & { code: number; body: unknown } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'number' && 'body' in e;
}

/** The Status object an API error carries, parsed if it came as text. */
export function statusBody(e: { body: unknown }): Record<string, unknown> {
  const body: unknown = typeof e.body === 'string' ? safeParse(e.body) : e.body;
  return body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
}

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

/** The HTTP code of the first API error (or error with a numeric statusCode/code) in the cause chain. */
export function apiCode(err: unknown): number | undefined {
  for (let e = err, i = 0; e instanceof Error && i < 10; e = e.cause, i++) {
    if (isApiError(e)) return e.code;
    const { statusCode, code } = e as Error & { statusCode?: unknown; code?: unknown };
    if (typeof statusCode === 'number') return statusCode;
    if (typeof code === 'number' && code >= 100 && code < 600) return code;
  }
  return undefined;
}

/** The Status `reason` (NotFound, AlreadyExists, Conflict, Expired, Invalid, ...) if the server sent one. */
export function apiReason(err: unknown): string | undefined {
  for (let e = err, i = 0; e instanceof Error && i < 10; e = e.cause, i++) {
    if (isApiError(e)) {
      const { reason } = statusBody(e);
      return typeof reason === 'string' ? reason : undefined;
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
