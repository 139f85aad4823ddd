// Command-line values that are not amounts: GPU counts, lease lengths, deadlines, names.
import { formatDuration, parseDuration } from '../operator/src/api/duration.js';
import { CliError } from './errors.js';

const MAX_HOURS = 8760;

export function parseGpus(text: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(text.trim())) throw new CliError(`--gpus "${text}" is not a whole number from 1 to 4096`, 'e.g. --gpus 4', 2);
  const n = Number(text);
  if (n > 4096) throw new CliError(`--gpus ${n} is more than a lease may ask for (4096)`, undefined, 2);
  return n;
}

/** Seconds from --hours (a number, decimals allowed) or --duration (6h, 90m, 1h30m): exactly one. */
export function leaseSeconds(o: { hours?: string; duration?: string }): number {
  if ((o.hours === undefined) === (o.duration === undefined)) {
    throw new CliError('give the lease length as --hours H or --duration D (one of them)', 'e.g. --hours 6, --hours 0.5 or --duration 1h30m', 2);
  }
  if (o.duration !== undefined) {
    const s = parseDuration(o.duration);
    if (s === undefined || s <= 0) throw new CliError(`--duration "${o.duration}" is not a duration`, 'write it like 6h, 90m or 1h30m', 2);
    return s;
  }
  const h = Number(o.hours);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(o.hours?.trim() ?? '') || !(h > 0) || h > MAX_HOURS) {
    throw new CliError(`--hours "${o.hours}" is not a number of hours in (0, ${MAX_HOURS}]`, 'e.g. --hours 6 or --hours 0.5', 2);
  }
  return Math.round(h * 3600);
}

/** The lease's spec.duration for a number of seconds ("1h30m"). */
export const durationText = formatDuration;

/** An instant from RFC 3339 ("2026-05-01T12:00:00Z") or a duration from now ("30m"), as RFC 3339 without milliseconds. */
export function parseInstant(text: string, nowMs: number, what: string): string {
  const rel = parseDuration(text.trim());
  const ms = rel !== undefined && rel > 0 ? nowMs + rel * 1000 : /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) throw new CliError(`${what} "${text}" is neither a time nor a duration from now`, 'e.g. 2h (from now) or 2026-05-01T12:00:00Z', 2);
  if (ms <= nowMs) throw new CliError(`${what} ${text} is in the past`, undefined, 2);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** A Kubernetes object name (DNS-1123 subdomain, at most 63 characters for PinFi's kinds). */
export function parseName(text: string, what: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(text)) {
    throw new CliError(`${what} "${text}" is not a valid name`, 'lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 63 characters', 2);
  }
  return text;
}
