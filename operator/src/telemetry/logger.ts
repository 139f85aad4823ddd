// Structured JSON logs: one object per line with level, time, msg and fields. Child loggers bind
// fields (controller, key, ...). Values under keys that name secrets are redacted, and errors are
// reduced to what is safe to print: an API server error carries the response headers and
// body in its message, so only its HTTP code and Status reason are logged.

export const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (fields given per call win). */
  child(fields: LogFields): Logger;
}

export type LoggerOptions = {
  level?: LogLevel;
  /** Receives one JSON line (without newline). Default: process.stdout. */
  write?: (line: string) => void;
  /** Wall clock in ms since the epoch. */
  now?: () => number;
  fields?: LogFields;
};

export const REDACTED = '[REDACTED]';

/** Keys whose values are never printed: secret, privateKey, signature, authorization, password, ... */
const SECRET_KEY = /secret|private_?key|signature|authorization|password|passphrase|mnemonic|api_?key|cookie|bearer/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

const MAX_DEPTH = 8;

/** Copies `value` into plain JSON-safe data: secrets redacted, errors summarised, bigint as string. */
export function sanitize(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (value === null || value === undefined) return value;
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return String(value);
    case 'object':
      break;
    default:
      return value;
  }
  if (value instanceof Error) return errorFields(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1, seen));
    if (value instanceof Map) return sanitize(Object.fromEntries(value), depth, seen);
    if (value instanceof Set) return sanitize([...value], depth, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) ? REDACTED : sanitize(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

type ApiExceptionLike = Error & { code: number; body?: unknown; headers?: unknown };

/** Duck-typed check for an API server error: kube/errors.ts's ApiError or client-node's ApiException (code + body + headers). */
function isApiExceptionLike(err: Error): err is ApiExceptionLike {
  const e = err as Partial<ApiExceptionLike>;
  return typeof e.code === 'number' && 'body' in err && 'headers' in err;
}

function statusReason(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusReason(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  if (body && typeof body === 'object' && 'reason' in body && typeof body.reason === 'string') return body.reason;
  return undefined;
}

/** An error as log fields: name, message, code and the cause chain; an API server error as code + reason only (name ApiError). */
export function errorFields(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(sanitize(err)) };
  if (isApiExceptionLike(err)) {
    const out: Record<string, unknown> = { name: 'ApiError', code: err.code };
    const reason = statusReason(err.body);
    if (reason !== undefined) out.reason = reason;
    return out;
  }
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const extra = err as Error & { code?: unknown; reason?: unknown };
  if (typeof extra.code === 'string' || typeof extra.code === 'number') out.code = extra.code;
  if (typeof extra.reason === 'string') out.reason = extra.reason;
  if (err.cause !== undefined && depth < 5) out.cause = errorFields(err.cause, depth + 1);
  return out;
}

class JsonLogger implements Logger {
  constructor(
    readonly level: LogLevel,
    private readonly write: (line: string) => void,
    private readonly now: () => number,
    private readonly bound: LogFields,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.level, this.write, this.now, { ...this.bound, ...fields });
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LOG_LEVELS[level] < LOG_LEVELS[this.level]) return;
    const merged = sanitize({ ...this.bound, ...fields }) as Record<string, unknown>;
    // level, time and msg come first and cannot be overwritten by fields.
    const line = { level, time: new Date(this.now()).toISOString(), msg, ...merged };
    line.level = level;
    line.msg = msg;
    try {
      this.write(JSON.stringify(line));
    } catch (err) {
      // A log line must never take the process down; say that it was lost on stderr.
      process.stderr.write(`logger: could not write a ${level} line (${String(err)})\n`);
    }
  }
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return new JsonLogger(
    opts.level ?? 'info',
    opts.write ?? ((line) => process.stdout.write(line + '\n')),
    opts.now ?? Date.now,
    opts.fields ?? {},
  );
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => undefined });

/** A logger that keeps parsed lines in memory, for tests that assert on logs. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { readonly lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return Object.assign(logger, { lines });
}
