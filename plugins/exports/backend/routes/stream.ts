/**
 * `GET /api/v1/export/csv` and `/json`: a dataset streamed as it is read, with
 * no row cap. The query is validated (and the cursor opened) before the first
 * byte, so bad input is a clean 400; once streaming, each page is written as
 * the client reads. Every export is recorded in the audit log with its rows,
 * also when the client stops reading half way.
 */
import { RawReply, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { CONTENT_TYPES, EXTENSIONS, writeExport, type Format, type WriteStats } from '../formats.ts';
import { datasetsOf, exportSources, sourceOf, type ExportCursor } from '../sources.ts';

export const EXPORT_PERMISSION = 'export.data';

export const datasetQuerySchema = {
  type: 'object',
  required: ['dataset'],
  properties: {
    dataset: { type: 'string', maxLength: 64, description: `the export source: ${exportSources().map((s) => `\`${s.dataset}\` (${s.description})`).join('; ')}, or \`<plugin>.<table>\` of a plugin's export source (GET /api/v1/export/datasets lists them)` },
    from: { type: 'string', maxLength: 64, description: 'ISO 8601 instant (inclusive); default: 30 days before `to`' },
    to: { type: 'string', maxLength: 64, description: 'ISO 8601 instant (exclusive); default: now' },
    event_type: { type: 'string', maxLength: 64, description: 'only events of this type (its fields are then the default columns)' },
    fields: { type: 'string', maxLength: 4096, description: 'comma-separated field names of the event catalogue (of a plugin\'s table: its columns); default: all' },
    department_id: { type: 'string', maxLength: 128, description: 'only events of this department' },
  },
} as const;

export interface DatasetQuery {
  dataset: string;
  [k: string]: unknown;
}

/** Opens the source's cursor for a query: a 400 naming the parameter when it is wrong. */
export async function openDataset(q: DatasetQuery, ctx: TenantContext): Promise<ExportCursor> {
  const { dataset, ...rest } = q;
  return (await sourceOf(dataset, ctx)).open(rest, ctx);
}

const day = (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 10) : '');

export function fileName(ctx: TenantContext, cursor: ExportCursor, format: Format) {
  const r = cursor.request;
  return `${String(r.dataset)}-${ctx.org.slug}-${day(r.from)}-${day(r.to)}.${EXTENSIONS[format]}`.replace(/[^\w.-]/g, '_');
}

/** The answer: the file streamed, audited once the last byte is out (or the client left). */
export function streamedExport(ctx: TenantContext, cursor: ExportCursor, format: Format): RawReply {
  const stats: WriteStats = { rows: 0, bytes: 0 };
  async function* body() {
    let complete = false;
    try {
      yield* writeExport(cursor, format, stats);
      complete = true;
    } finally {
      await ctx
        .audit({ action: `export.${format}`, target: String(cursor.request.dataset), after: { ...cursor.request, format, rows: stats.rows, bytes: stats.bytes, complete } })
        .catch((err: unknown) => ctx.logger.error({ err }, 'could not record an export in the audit log'));
    }
  }
  return new RawReply(body(), {
    'content-type': CONTENT_TYPES[format],
    'content-disposition': `attachment; filename="${fileName(ctx, cursor, format)}"`,
    // what was asked for travels with the file
    'x-orrery-export': JSON.stringify(cursor.request),
    'cache-control': 'no-store',
  });
}

export function registerStreamRoutes(env: PluginEnv) {
  env.route({
    method: 'GET',
    path: '/datasets',
    permission: EXPORT_PERMISSION,
    summary: 'The datasets this org can export: `events`, then every table an enabled plugin offers as an export source',
    schema: {
      response: {
        200: {
          type: 'object',
          required: ['datasets'],
          properties: {
            datasets: {
              type: 'array',
              items: {
                type: 'object',
                required: ['dataset', 'description', 'columns'],
                properties: {
                  dataset: { type: 'string' },
                  description: { type: 'string' },
                  // null for `events`: its columns are the event catalogue's fields
                  columns: {
                    type: ['array', 'null'],
                    items: { type: 'object', required: ['name', 'type'], properties: { name: { type: 'string' }, type: { type: 'string', enum: ['text', 'number', 'time', 'list'] } } },
                  },
                },
              },
            },
          },
        },
      },
    },
    async handler(_req, ctx) {
      return { datasets: await datasetsOf(ctx) };
    },
  });

  env.route<DatasetQuery>({
    method: 'GET',
    path: '/csv',
    permission: EXPORT_PERMISSION,
    summary: 'A dataset as CSV (RFC 4180), streamed, every matching row',
    description:
      'A header row, then one record per row, CRLF line ends. Text cells that begin with `=`, `+`, `-`, `@`, a tab or a carriage return are prefixed with `\'`; numbers are written as numbers; lists as JSON text. Counts as a bulk export for the rate limit and is recorded in the audit log with its row count.',
    schema: {
      querystring: datasetQuerySchema,
      response: { 200: { description: 'text/csv', type: 'string' } },
    },
    async handler(req, ctx) {
      return streamedExport(ctx, await openDataset(req.query, ctx), 'csv');
    },
  });

  env.route<DatasetQuery>({
    method: 'GET',
    path: '/json',
    permission: EXPORT_PERMISSION,
    summary: 'A dataset as a JSON array of objects (NDJSON with `Accept: application/x-ndjson`), streamed',
    description: 'One object per row, keyed by field; numbers as JSON numbers, lists as arrays. Counts as a bulk export and is audited like the CSV.',
    schema: {
      querystring: datasetQuerySchema,
      response: { 200: { description: 'a JSON array (or NDJSON lines)', type: 'array', items: { type: 'object', additionalProperties: true } } },
    },
    async handler(req, ctx) {
      const accept = String(req.headers.accept ?? '');
      const format: Format = /application\/x-ndjson/i.test(accept) ? 'ndjson' : 'json';
      return streamedExport(ctx, await openDataset(req.query, ctx), format);
    },
  });
}
