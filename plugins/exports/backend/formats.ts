/**
 * Writes an export cursor as CSV (RFC 4180, header row), a JSON array or
 * NDJSON, one string per page of rows: the caller streams them and memory
 * holds one page at a time.
 */
import { csvRecord, csvText } from './csv.ts';
import type { Cell, ExportColumn, ExportCursor } from './sources.ts';

export type Format = 'csv' | 'json' | 'ndjson';
export const CONTENT_TYPES: Record<Format, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};
export const EXTENSIONS: Record<Format, string> = { csv: 'csv', json: 'json', ndjson: 'ndjson' };

function csvCell(c: ExportColumn, v: Cell): string {
  if (v === null || v === undefined) return '';
  // numbers are written as numbers (a guard would turn -3 into text); only text is guarded
  if (c.type === 'number') return String(v);
  if (c.type === 'list') return csvText(JSON.stringify(v));
  return csvText(String(v));
}

function jsonCell(c: ExportColumn, v: Cell): string {
  if (v === null || v === undefined) return 'null';
  // a number source may give the exact decimal text: it is a JSON number as it stands
  if (c.type === 'number') return typeof v === 'number' ? String(v) : /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v as string) ? (v as string) : JSON.stringify(v);
  return JSON.stringify(v);
}

export interface WriteStats {
  rows: number;
  bytes: number;
}

/**
 * Chunks of the file, in order. `onRows` is told after each page (progress);
 * `stats` holds the totals once the iterable is done.
 */
export async function* writeExport(cursor: ExportCursor, format: Format, stats: WriteStats, onRows?: (rows: number) => void | Promise<void>): AsyncGenerator<string> {
  const cols = cursor.columns;
  const keys = cols.map((c) => `${JSON.stringify(c.name)}:`);
  const emit = (s: string) => {
    stats.bytes += Buffer.byteLength(s);
    return s;
  };
  if (format === 'csv') yield emit(csvRecord(cols.map((c) => csvText(c.name))));
  else if (format === 'json') yield emit('[');
  if (format === 'csv' && cursor.csvPages) {
    for await (const page of cursor.csvPages()) {
      stats.rows += page.rows;
      if (page.text) yield emit(page.text);
      await onRows?.(stats.rows);
    }
    return;
  }
  let first = true;
  for await (const page of cursor.pages()) {
    let out = '';
    for (const row of page) {
      if (format === 'csv') out += csvRecord(row.map((v, i) => csvCell(cols[i]!, v)));
      else {
        let obj = '{';
        for (let i = 0; i < cols.length; i++) obj += (i ? ',' : '') + keys[i] + jsonCell(cols[i]!, row[i]!);
        obj += '}';
        out += format === 'ndjson' ? `${obj}\n` : `${first ? '\n' : ',\n'}${obj}`;
        first = false;
      }
    }
    stats.rows += page.length;
    if (out) yield emit(out);
    await onRows?.(stats.rows);
  }
  if (format === 'json') yield emit(first ? ']\n' : '\n]\n');
}
