// Flag value parsers shared by the operator's and the scheduler plugin's command lines
// (commander calls them with the raw string; an InvalidArgumentError becomes a usage error).
import { InvalidArgumentError } from 'commander';
import type { LogLevel } from './telemetry/logger.js';

/** A whole number in [min, max]. */
export function wholeNumber(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

export function logLevel(v: string): LogLevel {
  if (!['debug', 'info', 'warn', 'error'].includes(v)) throw new InvalidArgumentError('must be debug, info, warn or error');
  return v as LogLevel;
}
