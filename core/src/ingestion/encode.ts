/**
 * The loader's insert body: rows as `JSONCompactEachRow`, positional arrays with the column names
 * sent once per insert instead of once per row (ClickHouse parses such a body about 1.5× faster
 * than `JSONEachRow`, measured on the events table: README). The columns are the table's columns
 * that some row of the range has; a row without one of them sends `null`, which
 * `input_format_null_as_default` (on by default) turns into the column's DEFAULT, exactly as an
 * omitted key (the events table has no Nullable column).
 *
 * At 0.4× the CPU on the main thread of looking each value up by name and calling
 * `JSON.stringify` once per row (`scripts/bench/ingest-encode.ts`), for two reasons:
 * - which columns a range uses, and each row's values, are read by functions generated for the
 *   table's columns (plain property loads that V8 caches per row shape), not by looking keys up
 *   by name row after row;
 * - a slice of rows is one `JSON.stringify` of an array of rows with its outer brackets cut off:
 *   `JSONCompactEachRow` reads rows separated by commas as it reads them separated by newlines,
 *   and one call saves a call and a string concatenation per row.
 *
 * Column names come from the table's schema (`system.columns`), never from events, and are
 * quoted as JSON string literals in the generated code.
 */

type Row = Readonly<Record<string, unknown>>;

/** which of the table's columns appear (not `undefined`) in at least one row, as a mask */
type PresenceScan = (rows: readonly Row[], present: Uint8Array) => void;
/** one row's values for a fixed column list, `null` for a missing one (its DEFAULT on insert) */
type Extract = (row: Row) => unknown[];

const prop = (name: string) => `r[${JSON.stringify(name)}]`;

/** Generated readers for one table's columns; the extractors are kept per column list. */
export class CompactEncoder {
  private readonly columns: readonly string[];
  private readonly scan: PresenceScan;
  private readonly extractors = new Map<string, Extract>();

  constructor(tableColumns: Iterable<string>) {
    this.columns = [...tableColumns];
    const checks = this.columns.map((c, j) => `if (p[${j}] === 0 && ${prop(c)} !== undefined) p[${j}] = 1;`).join('\n');
    this.scan = new Function('rows', 'p', `for (let i = 0; i < rows.length; i++) { const r = rows[i];\n${checks}\n}`) as PresenceScan;
  }

  /** the table's columns that some row of `rows` has, in the table's order */
  columnsOf(rows: readonly Row[]): string[] {
    const present = new Uint8Array(this.columns.length);
    this.scan(rows, present);
    return this.columns.filter((_, j) => present[j] === 1);
  }

  private extractor(columns: readonly string[]): Extract {
    const key = columns.join('\u0000');
    let f = this.extractors.get(key);
    if (!f) {
      // one per distinct set of event types' columns in a range: few, but not bounded by the code
      if (this.extractors.size >= 256) this.extractors.clear();
      f = new Function('r', `return [${columns.map((c) => `${prop(c)} ?? null`).join(', ')}];`) as Extract;
      this.extractors.set(key, f);
    }
    return f;
  }

  /** rows `from`..`to` (exclusive) as the comma-separated rows of a `JSONCompactEachRow` body */
  slice(rows: readonly Row[], columns: readonly string[], from: number, to: number): string {
    const extract = this.extractor(columns);
    const values = new Array<unknown[]>(to - from);
    for (let i = from; i < to; i++) values[i - from] = extract(rows[i]!);
    const text = JSON.stringify(values);
    return text.slice(1, -1);
  }

  /**
   * The whole body, `sliceRows` rows per step; `between` runs between steps (the loader yields to
   * the event loop there, so a 20,000-row range does not hold requests back in one piece).
   */
  async encode(rows: readonly Row[], opts: { sliceRows: number; between?: () => Promise<void> }): Promise<{ columns: string[]; body: Buffer }> {
    const columns = this.columnsOf(rows);
    const parts: string[] = [];
    for (let o = 0; o < rows.length; o += opts.sliceRows) {
      if (o && opts.between) await opts.between();
      parts.push(this.slice(rows, columns, o, Math.min(rows.length, o + opts.sliceRows)));
    }
    // one UTF-8 encoding of the whole body: no Buffer.concat copy of every slice after it
    return { columns, body: Buffer.from(parts.join(',')) };
  }
}
