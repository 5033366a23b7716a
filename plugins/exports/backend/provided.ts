/**
 * Other plugins' tables as datasets: every export source the org has on
 * (`ctx.services.all(exportSourceRef)`) offers its tables as
 * `<plugin>.<table>` (e.g. `agent-analytics.invocations`), streamed through
 * the same writers as `events`, page by page with the provider's cursor.
 *
 * The provider's rows are built by its own code from its own context for the
 * same org and caller. Rows that carry a `department_id` are still narrowed
 * here to the departments the caller may see, as the events dataset is, so a
 * provider that forgets its visibility rule never widens what a file holds.
 */
import { badRequest, exportSourceRef, parseTimeRange, type ExportColumn as SourceColumn, type ExportSource as ProvidedSource, type TenantContext } from '@orrery/plugin-sdk';
import { PAGE_ROWS } from './events.ts';
import type { Cell, ColumnType, ExportColumn, ExportCursor, ExportSource } from './sources.ts';

const typeOf = (t: SourceColumn['type']): ColumnType => (t === 'number' ? 'number' : t === 'datetime' ? 'time' : t === 'string[]' ? 'list' : 'text');

/** what a provided dataset accepts besides `dataset`; anything else is named in a 400 */
const PARAMS = new Set(['from', 'to', 'fields']);

export interface ProvidedDataset {
  dataset: string;
  plugin: string;
  table: string;
  title: string;
  columns: SourceColumn[];
  service: ProvidedSource;
}

/** Every table of every export source that is on for the org, in start-up order. */
export async function providedDatasets(ctx: TenantContext): Promise<ProvidedDataset[]> {
  const out: ProvidedDataset[] = [];
  for (const { plugin, service } of await ctx.services.all(exportSourceRef)) {
    for (const t of service.tables) out.push({ dataset: `${plugin}.${t.name}`, plugin, table: t.name, title: t.title, columns: t.columns, service });
  }
  return out;
}

function columnsOf(d: ProvidedDataset, fields: unknown): SourceColumn[] {
  if (fields === undefined) return d.columns;
  const names = String(fields).split(',').map((f) => f.trim()).filter(Boolean);
  if (!names.length) throw badRequest('fields: name at least one column, separated by commas', { field: 'fields' });
  const byName = new Map(d.columns.map((c) => [c.name, c]));
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length) throw badRequest(`fields: ${unknown.map((u) => `"${u}"`).join(', ')} not a column of ${d.dataset}`, { field: 'fields', unknown, known: [...byName.keys()] });
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw badRequest(`fields: "${dup}" is named twice`, { field: 'fields' });
  return names.map((n) => byName.get(n)!);
}

export function providedSource(d: ProvidedDataset): ExportSource {
  return {
    dataset: d.dataset,
    description: d.title,
    async open(query: Record<string, unknown>, ctx: TenantContext): Promise<ExportCursor> {
      const extra = Object.keys(query).find((k) => query[k] !== undefined && !PARAMS.has(k));
      if (extra) throw badRequest(`${extra}: not a parameter of dataset ${d.dataset} (it takes from, to and fields)`, { field: extra });
      const range = parseTimeRange({ from: query.from as string | undefined, to: query.to as string | undefined }, 30);
      const picked = columnsOf(d, query.fields);
      const columns: ExportColumn[] = picked.map((c) => ({ name: c.name, type: typeOf(c.type) }));
      const visible = d.columns.some((c) => c.name === 'department_id') ? await ctx.visibleUserDepartments() : null;
      const seen = visible === null ? null : new Set(visible);
      const limit = (ctx.config as { pageRows?: number }).pageRows ?? PAGE_ROWS;
      const request = {
        dataset: d.dataset,
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        fields: columns.map((c) => c.name),
        ...(visible !== null ? { visible_departments: visible } : {}),
      };
      return {
        columns,
        request,
        // the contract has no count: a job's progress stays 0 until it is done
        async count() {
          return 0;
        },
        async *pages() {
          let cursor: string | null = null;
          do {
            const page = await d.service.page(d.table, { range, cursor, limit });
            const rows = seen ? page.rows.filter((r) => seen.has(String(r.department_id ?? ''))) : page.rows;
            yield rows.map((r) => picked.map((c) => (r[c.name] ?? null) as Cell));
            cursor = page.next;
          } while (cursor);
        },
      };
    },
  };
}
