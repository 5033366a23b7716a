/**
 * Background exports: `POST /api/v1/export/jobs` validates the request and
 * answers 202 with the job at once; the file is written in the plugin's folder
 * of the data dir, page by page, with status, progress, rows and bytes kept in
 * the job row for `GET /api/v1/export/jobs/{id}`; once done, `url` names the
 * download route. A job is seen by whoever made it (and by Admins) in its org.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { RawReply, badRequest, notFound, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { CONTENT_TYPES, writeExport, type Format, type WriteStats } from '../formats.ts';
import type { ExportCursor } from '../sources.ts';
import { EXPORT_PERMISSION, datasetQuerySchema, fileName, openDataset, type DatasetQuery } from './stream.ts';

const FORMATS: Format[] = ['csv', 'json', 'ndjson'];
/** a running job whose row has not moved for this long died with its process */
export const STALE_MS = 10 * 60_000;

export function exportDir(ctx: TenantContext): string {
  const configured = (ctx.config as { dir?: string }).dir;
  return join(configured ?? join(process.env.ORRERY_DATA_DIR ?? './data', 'exports'), ctx.org.id);
}

export const jobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    dataset: { type: 'string' },
    format: { type: 'string', enum: [...FORMATS, 'archive'], description: '`archive`: the org archive (.tar.gz)' },
    status: { type: 'string', enum: ['queued', 'running', 'done', 'failed'] },
    progress: { type: 'number', description: 'share of rows written, 0..1' },
    total: { type: 'integer', description: 'rows expected when the job started' },
    rows: { type: 'integer' },
    bytes: { type: 'integer' },
    url: { type: ['string', 'null'], description: 'the download route, once done' },
    error: { type: ['string', 'null'] },
    restarts: { type: 'integer', description: 'times the job was started again from the beginning after its process stopped (org archives)' },
    note: { type: ['string', 'null'], description: 'what happened to the job besides its status (a restart)' },
    request: { type: 'object', additionalProperties: true },
    created_at: { type: 'string' },
    finished_at: { type: ['string', 'null'] },
  },
} as const;

const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);

export function jobView(r: any) {
  return {
    id: r.id,
    dataset: r.dataset,
    format: r.format,
    status: r.status,
    progress: Number(r.progress),
    total: Number(r.total),
    rows: Number(r.rows),
    bytes: Number(r.bytes),
    url: r.status === 'done' ? `/api/v1/export/jobs/${r.id}/download` : null,
    error: r.error ?? null,
    restarts: Number(r.restarts ?? 0),
    note: Number(r.restarts ?? 0) > 0 ? `started again from the beginning after the server stopped (${Number(r.restarts)} ${Number(r.restarts) === 1 ? 'time' : 'times'})` : null,
    request: typeof r.request === 'string' ? JSON.parse(r.request) : r.request,
    created_at: iso(r.created_at)!,
    finished_at: iso(r.finished_at),
  };
}

async function findJob(ctx: TenantContext, id: string) {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound(`no export job "${id}"`, { field: 'id' });
  let q = ctx.db.table('export_jobs').where({ id });
  // Admins see every job of the org; others their own
  if (ctx.caller?.role !== 'Admin') q = q.andWhere({ created_by: ctx.caller?.userId ?? '' });
  const row = await q.first();
  if (!row) throw notFound(`no export job "${id}"`, { field: 'id' });
  return row;
}

/** Writes the file and keeps the job row up to date; never throws (a failure is the job's status). */
export async function runJob(ctx: TenantContext, id: string, cursor: ExportCursor, format: Format) {
  const dir = exportDir(ctx);
  const file = join(dir, `${id}.${format}`);
  const part = `${file}.part`;
  const stats: WriteStats = { rows: 0, bytes: 0 };
  try {
    await mkdir(dir, { recursive: true });
    const total = await cursor.count();
    await ctx.db.table('export_jobs').where({ id }).update({ status: 'running', total, updated_at: new Date() });
    const out = createWriteStream(part);
    const failed = once(out, 'error').then(([err]) => {
      throw err;
    });
    failed.catch(() => undefined);
    const progress = async (rows: number) => {
      await ctx.db
        .table('export_jobs')
        .where({ id })
        .update({ rows, bytes: stats.bytes, progress: total ? Math.min(1, rows / total) : 0, updated_at: new Date() });
    };
    for await (const chunk of writeExport(cursor, format, stats, progress)) {
      // back-pressure: the next page is read only when the disk took this one
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
    }
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    await rename(part, file);
    await ctx.db
      .table('export_jobs')
      .where({ id })
      .update({ status: 'done', progress: 1, rows: stats.rows, bytes: stats.bytes, file: `${id}.${format}`, finished_at: new Date(), updated_at: new Date() });
    await ctx.audit({ action: `export.job.${format}`, target: String(cursor.request.dataset), after: { ...cursor.request, job: id, format, rows: stats.rows, bytes: stats.bytes } });
    await ctx.bus.publish('job', { id, status: 'done', rows: stats.rows }, ctx.caller ? { kind: 'user', id: ctx.caller.userId } : undefined);
  } catch (err) {
    ctx.logger.error({ err, job: id }, 'export job failed');
    await rm(part, { force: true }).catch(() => undefined);
    await ctx.db
      .table('export_jobs')
      .where({ id })
      .update({ status: 'failed', error: (err as Error).message.slice(0, 2000), finished_at: new Date(), updated_at: new Date() })
      .catch(() => undefined);
  }
}

interface JobBody extends DatasetQuery {
  format?: Format;
}

export function registerJobRoutes(env: PluginEnv) {
  env.route<unknown, unknown, JobBody>({
    method: 'POST',
    path: '/jobs',
    permission: EXPORT_PERMISSION,
    summary: 'Start a background export; poll it for progress and download the file when done',
    description: 'The body takes the same fields as `GET /api/v1/export/csv` plus `format` (csv, json, ndjson). Counts as a bulk export.',
    schema: {
      body: { type: 'object', required: ['dataset'], properties: { ...datasetQuerySchema.properties, format: { type: 'string', enum: FORMATS, default: 'csv' } } },
      response: { 202: jobSchema },
    },
    async handler(req, ctx) {
      const { format = 'csv', ...query } = req.body;
      if (!FORMATS.includes(format)) throw badRequest(`format: "${format}" is not one of ${FORMATS.join(', ')}`, { field: 'format' });
      const cursor = await openDataset(query as DatasetQuery, ctx);
      const id = randomUUID();
      await ctx.db.table('export_jobs').insert({
        id,
        created_by: ctx.caller?.userId ?? '',
        dataset: String(cursor.request.dataset),
        format,
        request: JSON.stringify(cursor.request),
        status: 'queued',
      });
      const row = await ctx.db.table('export_jobs').where({ id }).first();
      // started after the answer: the request's context stays valid for the job's life
      setImmediate(() => void runJob(ctx, id, cursor, format));
      return new RawReply(JSON.stringify(jobView(row)), { 'content-type': 'application/json; charset=utf-8', location: `/api/v1/export/jobs/${id}` }, 202);
    },
  });

  env.route<unknown, { id: string }>({
    method: 'GET',
    path: '/jobs/{id}',
    permission: EXPORT_PERMISSION,
    summary: 'A background export: status, progress, rows, bytes and, once done, the download url',
    schema: { params: { type: 'object', properties: { id: { type: 'string' } } }, response: { 200: jobSchema } },
    async handler(req, ctx) {
      return jobView(await findJob(ctx, req.params.id));
    },
  });

  env.route<unknown, { id: string }>({
    method: 'GET',
    path: '/jobs/{id}/download',
    permission: EXPORT_PERMISSION,
    summary: "A finished background export's file",
    schema: { params: { type: 'object', properties: { id: { type: 'string' } } }, response: { 200: { type: 'string', description: 'the file' } } },
    async handler(req, ctx) {
      const row = await findJob(ctx, req.params.id);
      if (row.status !== 'done' || !row.file) throw badRequest(`export job ${row.id} is ${row.status}, not done`, { field: 'id', status: row.status });
      const path = join(exportDir(ctx), row.file);
      const size = await stat(path).then((s) => s.size, () => -1);
      if (size < 0) throw notFound(`the file of export job ${row.id} is gone`, { field: 'id' });
      if (row.format === 'archive') {
        const r = typeof row.request === 'string' ? JSON.parse(row.request) : row.request;
        return new RawReply(createReadStream(path), {
          'content-type': 'application/gzip',
          'content-length': String(size),
          'content-disposition': `attachment; filename="${`archive-${ctx.org.slug}-${String(r.from).slice(0, 10)}-${String(r.to).slice(0, 10)}.tar.gz`.replace(/[^\w.-]/g, '_')}"`,
        });
      }
      const format = row.format as Format;
      const cursorLike = { request: typeof row.request === 'string' ? JSON.parse(row.request) : row.request } as ExportCursor;
      return new RawReply(createReadStream(path), {
        'content-type': CONTENT_TYPES[format],
        'content-length': String(size),
        'content-disposition': `attachment; filename="${fileName(ctx, cursorLike, format)}"`,
      });
    },
  });
}

/** Jobs whose process died mid-way are marked failed, so nobody polls them forever (org archives are started again: archive.ts). */
export function registerJobHousekeeping(env: PluginEnv) {
  env.job({
    name: 'stale-export-jobs',
    everySeconds: 300,
    async run(ctx) {
      const n = await ctx.db
        .table('export_jobs')
        .whereIn('status', ['queued', 'running'])
        .whereNot('dataset', 'archive')
        .andWhere('updated_at', '<', new Date(Date.now() - STALE_MS))
        .update({ status: 'failed', error: 'the export stopped (the server restarted); start it again', finished_at: new Date() });
      return { failed: n };
    },
  });
}
