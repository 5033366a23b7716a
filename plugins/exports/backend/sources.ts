/**
 * Export sources: the datasets this plugin can stream. Each source validates
 * the query it is given (400 naming the bad parameter) and hands back its
 * columns and an async reader of row pages, so every format (CSV, JSON, NDJSON,
 * a background job's file) is written the same way from any source.
 *
 * The events source lives here; other plugins' tables (agent invocations,
 * experiment results…) come through the SDK's export-source contract as
 * `<plugin>.<table>` (provided.ts). `sourceOf()` is the one place that finds them.
 */
import { badRequest, type TenantContext } from '@orrery/plugin-sdk';
import { eventsSource } from './events.ts';
import { providedDatasets, providedSource } from './provided.ts';

export type ColumnType = 'text' | 'number' | 'time' | 'list';
export interface ExportColumn {
  name: string;
  type: ColumnType;
}

/**
 * One cell as a source gives it: text, a number (or its decimal text, written
 * unquoted so that nothing is lost to a float), an ISO instant, or a list of labels.
 */
export type Cell = string | number | string[] | null;

export interface ExportCursor {
  columns: ExportColumn[];
  /** what was asked for, normalized: recorded in the audit log and the job row */
  request: Record<string, unknown>;
  /** rows that will be read (for a job's progress); may be an estimate for a changing dataset */
  count(): Promise<number>;
  /** row pages in a stable order; each row holds one cell per column */
  pages(): AsyncIterable<Cell[][]>;
  /**
   * Optional: the same pages already written as CSV records (RFC 4180, CRLF, text guarded)
   * by the store, for sources that can have ClickHouse format the rows.
   */
  csvPages?(): AsyncIterable<{ text: string; rows: number }>;
}

export interface ExportSource {
  dataset: string;
  description: string;
  open(query: Record<string, unknown>, ctx: TenantContext): Promise<ExportCursor>;
}

const SOURCES: ExportSource[] = [eventsSource];

/** The sources this plugin reads itself; other plugins' tables are found per org by `sourceOf`. */
export function exportSources(): readonly ExportSource[] {
  return SOURCES;
}

/** Every dataset the org can export: this plugin's, then each enabled provider's tables. */
export async function datasetsOf(ctx: TenantContext): Promise<Array<{ dataset: string; description: string; columns: ExportColumn[] | null }>> {
  const provided = await providedDatasets(ctx);
  return [
    ...SOURCES.map((s) => ({ dataset: s.dataset, description: s.description, columns: null })),
    ...provided.map((d) => ({ dataset: d.dataset, description: d.title, columns: providedColumns(d.columns) })),
  ];
}

const providedColumns = (cols: Array<{ name: string; type: string }>): ExportColumn[] =>
  cols.map((c) => ({ name: c.name, type: c.type === 'number' ? 'number' : c.type === 'datetime' ? 'time' : c.type === 'string[]' ? 'list' : 'text' }));

export async function sourceOf(dataset: unknown, ctx: TenantContext): Promise<ExportSource> {
  const own = SOURCES.find((x) => x.dataset === dataset);
  if (own) return own;
  const provided = await providedDatasets(ctx);
  const d = provided.find((x) => x.dataset === dataset);
  if (d) return providedSource(d);
  const known = [...SOURCES.map((x) => x.dataset), ...provided.map((x) => x.dataset)];
  throw badRequest(`dataset: "${String(dataset)}" is not an export source; known: ${known.join(', ')}`, { field: 'dataset', known });
}
