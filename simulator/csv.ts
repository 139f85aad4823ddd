// A small CSV reader: RFC 4180 quoting, header row, columns looked up by name (case-insensitive).

export type Table = {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
};

export function parseCsv(text: string): Table {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
    } else field += ch;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const [header = [], ...rows] = records;
  return { header: header.map((h) => h.trim()), rows };
}

/** Index of the first of `names` present in the header (case-insensitive), or -1. */
export function findColumn(table: Table, names: readonly string[]): number {
  const lower = table.header.map((h) => h.toLowerCase());
  for (const name of names) {
    const i = lower.indexOf(name.toLowerCase());
    if (i >= 0) return i;
  }
  return -1;
}

/** Like findColumn, but throws naming the file's columns when none is there. */
export function requireColumn(table: Table, names: readonly string[], what: string): number {
  const i = findColumn(table, names);
  if (i < 0) {
    throw new Error(`${what}: no column named ${names.join(' or ')} (columns: ${table.header.join(', ')})`);
  }
  return i;
}
