/**
 * The `events` export source: the org's raw events in [from, to), every
 * column or the ones named in `fields` (checked against the SDK's event
 * catalogue), optionally of one event type, within the departments the caller
 * may see.
 *
 * Rows are read in pages by keyset over the table's sort key (event_type,
 * timestamp, event_id) within the org: each page starts strictly after the last
 * key of the one before, so memory holds one page whatever the size of the
 * export, and the primary index finds where each page starts.
 */
import { EVENT_TYPE_BY_NAME, ENVELOPE, EVENT_TYPES, badRequest, fieldsOf, parseTimeRange, type FieldKind, type TenantContext } from '@orrery/plugin-sdk';
import type { Cell, ColumnType, ExportColumn, ExportCursor, ExportSource } from './sources.ts';

export const PAGE_ROWS = 20_000;

const typeOfKind = (kind: FieldKind): ColumnType =>
  kind === 'count' || kind === 'int' || kind === 'amount' || kind === 'number' ? 'number' : kind === 'timestamp' ? 'time' : kind === 'labels' ? 'list' : 'text';

/** Every exportable column: the envelope, `action`, then each type's own fields, in catalogue order. */
function catalogueColumns(): Map<string, ColumnType> {
  const out = new Map<string, ColumnType>();
  for (const [name, spec] of Object.entries(ENVELOPE)) if (name !== 'org_id') out.set(name, typeOfKind(spec.kind));
  out.set('action', 'text');
  for (const t of EVENT_TYPES) for (const [name, spec] of Object.entries(t.fields)) if (!out.has(name)) out.set(name, typeOfKind(spec.kind));
  return out;
}
const ALL = catalogueColumns();

export interface EventsQuery {
  from?: string;
  to?: string;
  event_type?: string;
  fields?: string;
  department_id?: string;
}

/** Validates the query: unknown type or field, reversed range → 400 naming it. */
export function eventColumns(q: EventsQuery): ExportColumn[] {
  let allowed = ALL;
  if (q.event_type !== undefined) {
    const spec = EVENT_TYPE_BY_NAME.get(q.event_type);
    if (!spec) throw badRequest(`event_type: "${q.event_type}" is not an event type`, { field: 'event_type', known: [...EVENT_TYPE_BY_NAME.keys()] });
    allowed = new Map([...Object.entries(fieldsOf(spec))].filter(([n]) => n !== 'org_id').map(([n, s]) => [n, typeOfKind(s.kind)]));
  }
  if (q.fields === undefined) return [...allowed].map(([name, type]) => ({ name, type }));
  const names = q.fields.split(',').map((f) => f.trim()).filter(Boolean);
  if (!names.length) throw badRequest('fields: name at least one field, separated by commas', { field: 'fields' });
  const unknown = names.filter((n) => !allowed.has(n));
  if (unknown.length) {
    throw badRequest(`fields: ${unknown.map((u) => `"${u}"`).join(', ')} ${unknown.length > 1 ? 'are not fields' : 'is not a field'} of ${q.event_type ?? 'any event type'}`, {
      field: 'fields',
      unknown,
    });
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw badRequest(`fields: "${dup}" is named twice`, { field: 'fields' });
  return names.map((name) => ({ name, type: allowed.get(name)! }));
}

/** SELECT expression per column: numbers as their exact decimal text, times as UTC text. */
const selectOf = (c: ExportColumn) => (c.type === 'number' ? `toString(${c.name}) AS ${c.name}` : c.name);

const toIso = (ch: string) => `${ch.replace(' ', 'T')}Z`;

/**
 * A column as ClickHouse writes it into a CSV record (`formatRow('CSV', …)`): text guarded
 * as API.md says, instants as ISO text in UTC, lists as JSON text, numbers as they are.
 */
function csvExpr(c: ExportColumn): string {
  switch (c.type) {
    case 'text':
      return `if(substring(${c.name}, 1, 1) IN ('=', '+', '-', '@', '\\t', '\\r'), concat('''', ${c.name}), ${c.name})`;
    case 'time':
      return `concat(replaceOne(toString(${c.name}), ' ', 'T'), 'Z')`;
    case 'list':
      return `toJSONString(${c.name})`;
    default:
      return c.name;
  }
}

export const eventsSource: ExportSource = {
  dataset: 'events',
  description: 'Raw events of the org in [from, to): every field of the event catalogue, or those named in `fields`',
  async open(query, ctx: TenantContext): Promise<ExportCursor> {
    const q = query as EventsQuery;
    const range = parseTimeRange({ from: q.from, to: q.to }, 30);
    const columns = eventColumns(q);
    const params: Record<string, unknown> = { from: range.fromCh, to: range.toCh };
    let where = `org_id = {org_id:String} AND timestamp >= {from:DateTime64(3)} AND timestamp < {to:DateTime64(3)}`;
    if (q.event_type !== undefined) {
      where += ' AND event_type = {event_type:String}';
      params.event_type = q.event_type;
    }
    if (q.department_id !== undefined) {
      where += ' AND department_id = {department_id:String}';
      params.department_id = q.department_id;
    }
    // per-user rows of departments the caller may not see never leave (Admins see all)
    const visible = await ctx.visibleUserDepartments();
    if (visible !== null) {
      where += ' AND department_id IN {visible_departments:Array(String)}';
      params.visible_departments = visible;
    }
    const table = ctx.analytics.table('events');
    const pageRows = (ctx.config as { pageRows?: number }).pageRows ?? PAGE_ROWS;
    const keyCols = 'event_type AS _k_type, toString(timestamp) AS _k_ts, event_id AS _k_id';
    const select = [keyCols, ...columns.map(selectOf)].join(', ');
    type Key = { t: string; ts: string; id: string };
    /** Pages of rows in sort-key order, each starting strictly after the last key of the one before. */
    async function* keyset(selectList: string, settings = ''): AsyncGenerator<Array<Record<string, unknown>>> {
      let key: Key | null = null;
      for (;;) {
        // the first disjunct lets the primary index skip to the page's start; the tuple makes it exact
        const after = key
          ? ` AND (event_type > {k_type:String} OR (event_type = {k_type:String} AND timestamp >= {k_ts:DateTime64(3)}))
              AND (event_type, timestamp, event_id) > ({k_type:String}, {k_ts:DateTime64(3)}, {k_id:String})`
          : '';
        const rows = await ctx.analytics.query<Record<string, unknown>>(
          `SELECT ${selectList} FROM ${table} WHERE ${where}${after} ORDER BY event_type, timestamp, event_id LIMIT ${pageRows}${settings}`,
          key ? { ...params, k_type: key.t, k_ts: key.ts, k_id: key.id } : params,
        );
        if (!rows.length) return;
        const page: Array<Record<string, unknown>> = [];
        let prev: Key | null = key;
        for (const r of rows) {
          const k: Key = { t: r._k_type as string, ts: r._k_ts as string, id: r._k_id as string };
          // a duplicate not yet merged away by the ReplacingMergeTree has the same key: written once
          if (prev && prev.t === k.t && prev.ts === k.ts && prev.id === k.id) continue;
          prev = k;
          page.push(r);
        }
        yield page;
        if (rows.length < pageRows) return;
        key = prev;
      }
    }
    /**
     * Pages of CSV as ClickHouse writes them (`RawBLOB` of `formatRow`: the records back to back),
     * never parsed in Node. Each page ends at the `csvPageRows`-th key after the previous page
     * (or at the last key of the range), found by reading the key columns in index order, so
     * no query sorts more than one page; its rows are counted on the keys (a duplicate not yet
     * merged away counted once) and its records read between the two keys.
     */
    // a raw CSV page is one string, not rows of objects: five times the rows in the same memory
    const csvPageRows = (ctx.config as { csvPageRows?: number }).csvPageRows ?? pageRows * 5;
    async function* rawCsvPages(text: NonNullable<TenantContext['analytics']['queryText']>): AsyncGenerator<{ text: string; rows: number }> {
      const key = 'event_type, timestamp, event_id';
      const keyOut = 'event_type AS t, toString(timestamp) AS ts, event_id AS id';
      let last: Key | null = null;
      for (;;) {
        // the first disjuncts let the primary index skip to the page's bounds; the tuples make them exact
        const after: string = last
          ? ` AND (event_type > {k_type:String} OR (event_type = {k_type:String} AND timestamp >= {k_ts:DateTime64(3)}))
              AND (${key}) > ({k_type:String}, {k_ts:DateTime64(3)}, {k_id:String})`
          : '';
        const p: Record<string, unknown> = last ? { ...params, k_type: last.t, k_ts: last.ts, k_id: last.id } : { ...params };
        type KeyRow = { t: string; ts: string; id: string };
        let [end]: Array<KeyRow | undefined> = await ctx.analytics.query<KeyRow>(
          `SELECT ${keyOut} FROM ${table} WHERE ${where}${after} ORDER BY ${key} LIMIT 1 OFFSET {page_end:UInt64}`,
          { ...p, page_end: csvPageRows - 1 },
        );
        const full = end !== undefined;
        if (!end) [end] = await ctx.analytics.query<KeyRow>(`SELECT ${keyOut} FROM ${table} WHERE ${where}${after} ORDER BY event_type DESC, timestamp DESC, event_id DESC LIMIT 1`, p);
        if (!end) return;
        const e = { ...p, e_type: end.t, e_ts: end.ts, e_id: end.id };
        const upTo = ` AND (event_type < {e_type:String} OR (event_type = {e_type:String} AND timestamp <= {e_ts:DateTime64(3)}))
             AND (${key}) <= ({e_type:String}, {e_ts:DateTime64(3)}, {e_id:String})`;
        const [counted] = await ctx.analytics.query<{ n: string }>(`SELECT toString(uniqExact(${key})) AS n FROM ${table} WHERE ${where}${after}${upTo}`, e);
        const body = await text(
          `SELECT formatRow('CSV', ${columns.map(csvExpr).join(', ')}) FROM ${table}
           WHERE ${where}${after}${upTo}
           ORDER BY ${key} LIMIT 1 BY ${key}
           SETTINGS output_format_csv_crlf_end_of_line = 1`,
          e,
          'RawBLOB',
        );
        yield { text: body, rows: Number(counted?.n ?? 0) };
        if (!full) return;
        last = end;
      }
    }
    const request = {
      dataset: 'events',
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      ...(q.event_type !== undefined ? { event_type: q.event_type } : {}),
      ...(q.department_id !== undefined ? { department_id: q.department_id } : {}),
      fields: columns.map((c) => c.name),
      ...(visible !== null ? { visible_departments: visible } : {}),
    };
    return {
      columns,
      request,
      async count() {
        const rows = await ctx.analytics.query<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE ${where}`, params);
        return Number(rows[0]?.n ?? 0);
      },
      async *pages() {
        for await (const rows of keyset(select)) {
          const page: Cell[][] = rows.map((r) => columns.map((c) => (c.type === 'time' ? toIso(r[c.name] as string) : (r[c.name] as Cell))));
          yield page;
        }
      },
      // ClickHouse writes each record: one string per row crosses into Node instead of a cell per column
      async *csvPages() {
        if (ctx.analytics.queryText) {
          yield* rawCsvPages(ctx.analytics.queryText.bind(ctx.analytics));
          return;
        }
        const line = `formatRow('CSV', ${columns.map(csvExpr).join(', ')}) AS _line`;
        for await (const rows of keyset(`${keyCols}, ${line}`, ' SETTINGS output_format_csv_crlf_end_of_line = 1')) {
          let text = '';
          for (const r of rows) text += r._line as string;
          yield { text, rows: rows.length };
        }
      },
    };
  },
};
