/**
 * Export sources: tables a plugin can stream, page by page, with typed columns.
 * The exports plugin (files, scheduled reports) reads any plugin's tables
 * through them; nothing is buffered beyond one page.
 */
import { badRequest } from '../types.ts';
import { createServiceRef } from '../services.ts';
import type { TimeRange } from '../timeRange.ts';

export type ExportColumnType = 'string' | 'number' | 'boolean' | 'datetime' | 'string[]';

export interface ExportColumn {
  name: string;
  type: ExportColumnType;
  description?: string;
}

export interface ExportTable {
  /** unique within the source, e.g. `invocations` */
  name: string;
  title: string;
  columns: ExportColumn[];
}

export interface ExportPageQuery {
  range: TimeRange;
  /** what the previous page answered as `next`; absent for the first page */
  cursor?: string | null;
  /** rows per page (the source may answer fewer) */
  limit: number;
}

export interface ExportPage {
  /** rows keyed by the table's column names, in the table's order */
  rows: Array<Record<string, unknown>>;
  /** cursor of the next page; null after the last */
  next: string | null;
}

export interface ExportSource {
  readonly tables: readonly ExportTable[];
  page(table: string, q: ExportPageQuery): Promise<ExportPage>;
}

export const exportSourceRef = createServiceRef<ExportSource>({
  id: 'export-source',
  version: '1.0.0',
  multiple: true,
  description: 'tables a plugin can stream as pages of typed rows',
});

/** Builds a source from its tables, each with the function that reads one page. */
export function defineExportSource(tables: Array<ExportTable & { page(q: ExportPageQuery): Promise<ExportPage> }>): ExportSource {
  const byName = new Map(tables.map((t) => [t.name, t]));
  return {
    tables: tables.map(({ page: _page, ...t }) => t),
    async page(name, q) {
      const t = byName.get(name);
      if (!t) throw badRequest(`unknown table "${name}"; this source offers ${[...byName.keys()].join(', ')}`, { field: 'table', value: name });
      return t.page(q);
    },
  };
}

/** Every row of a table, one page at a time. */
export async function* exportRows(source: ExportSource, table: string, q: Omit<ExportPageQuery, 'cursor'>): AsyncGenerator<Record<string, unknown>> {
  let cursor: string | null = null;
  do {
    const page: ExportPage = await source.page(table, { ...q, cursor });
    yield* page.rows;
    cursor = page.next;
  } while (cursor);
}
