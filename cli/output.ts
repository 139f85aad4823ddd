// Output like kubectl's: `-o table` (the default; `wide` adds columns) is an aligned, borderless
// table; `-o json` and `-o yaml` print the full data, with bigints as decimal strings (money is
// integers in token base units, never floats).
import Table from 'cli-table3';
import { stringify } from 'yaml';
import { CliError } from './errors.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(v: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(v)) return v as OutputFormat;
  throw new CliError(`unknown output format "${v}"`, `use one of: ${OUTPUT_FORMATS.join(', ')}`, 2);
}

/** A column: its header, the cell of a row, and whether it shows only with `-o wide`. */
export type Column<R> = { readonly header: string; readonly cell: (row: R) => string; readonly wide?: boolean };

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '',
  middle: '   ',
};

/** An aligned table with upper-case headers and three spaces between columns, no borders (kubectl's look). */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const t = new Table({
    head: headers.map((h) => h.toUpperCase()),
    chars: NO_BORDER,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  for (const r of rows) t.push([...r]);
  return `${t.toString().split('\n').map((l) => l.trimEnd()).join('\n')}\n`;
}

export function renderRows<R>(rows: readonly R[], columns: readonly Column<R>[], wide: boolean): string {
  const cols = columns.filter((c) => wide || !c.wide);
  return renderTable(cols.map((c) => c.header), rows.map((r) => cols.map((c) => c.cell(r))));
}

/** `key: value` lines, keys aligned: one object for people. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}\n`).join('');
}

/** Plain JSON data: bigints become decimal strings, Dates RFC 3339, undefined fields dropped. */
export function toPlain(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toPlain);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toPlain(v)]));
  }
  return value;
}

export function renderData(format: 'json' | 'yaml', data: unknown): string {
  const plain = toPlain(data);
  return format === 'json' ? `${JSON.stringify(plain, null, 2)}\n` : stringify(plain, { lineWidth: 0 });
}

/** The data as JSON/YAML, or `human()` for table and wide. */
export function render(format: OutputFormat, data: unknown, human: (wide: boolean) => string): string {
  return format === 'json' || format === 'yaml' ? renderData(format, data) : human(format === 'wide');
}

/** 0x1234abcd…ef56 for tables; full values go to wide, JSON and YAML. */
export function shortHex(hex: string | undefined, keep = 6): string {
  if (!hex) return '-';
  return hex.length <= 2 + keep * 2 + 1 ? hex : `${hex.slice(0, 2 + keep)}…${hex.slice(-4)}`;
}

/** 3725 s → "1h2m", 59 s → "59s", negative → "0s". Coarse, for people. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h${m}m` : `${h}h`;
  if (m > 0) return s % 60 > 0 && m < 10 ? `${m}m${s % 60}s` : `${m}m`;
  return `${s}s`;
}
