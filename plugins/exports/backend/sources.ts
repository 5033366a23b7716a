/**
 * Export sources: the datasets this plugin can stream. Each source validates
 * the query it is given (400 naming the bad parameter) and hands back its
 * columns and an async reader of row pages, so every format (CSV, JSON, NDJSON,
 * a background job's file) is written the same way from any source.
 *
 * The events source lives here; other plugins' tables (agents, funnel
 * results, flagged users…) will register through the SDK's export-source
 * contract once it exists. `exportSources()` is the one place that lists them.
 */
import { badRequest, type TenantContext } from '@orrery/plugin-sdk';
import { eventsSource } from './events.ts';

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

/** The sources this plugin offers (and, later, the ones other plugins register). */
export function exportSources(): readonly ExportSource[] {
  return SOURCES;
}

export function sourceOf(dataset: unknown): ExportSource {
  const s = SOURCES.find((x) => x.dataset === dataset);
  if (!s) throw badRequest(`dataset: "${String(dataset)}" is not an export source; known: ${SOURCES.map((x) => x.dataset).join(', ')}`, { field: 'dataset', known: SOURCES.map((x) => x.dataset) });
  return s;
}
