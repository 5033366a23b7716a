/**
 * The org archive (PRD 10.3, "data export before archival or deletion"): everything the org
 * may take out, as one `.tar.gz` written in the background with progress, by an Admin.
 *
 *   manifest.json                 org, who, when, the range, every entry with its rows and bytes
 *   events.ndjson                 every event of the range (all types, all fields)
 *   datasets/<plugin>.<table>.ndjson   every table other plugins offer as an export source
 *   directory/members.json        members (also removed ones), departments, memberships
 *   directory/departments.json
 *   directory/memberships.json
 *   exports/reports.json          this plugin's configuration: reports with their schedules
 *   audit/log.ndjson              the org's audit log, oldest first (the kernel's, through `ctx.records`)
 *   settings/plugins.json         every plugin's stored settings for the org, and whether it is on
 *
 * Each entry is written to a scratch folder first (a tar header needs the size), with the
 * same page-by-page writers as the other exports, then appended to the gzip stream, so memory
 * stays at one page whatever the size. The job row is the one of `POST /export/jobs`
 * (`dataset` = `archive`), polled with `GET /export/jobs/{id}` and downloaded the same way.
 *
 * An archive whose process stopped (its row has not moved for `STALE_MS`) is started again
 * from the beginning by the `restart-stale-archives` job, at most `MAX_RESTARTS` times: its
 * progress goes back to 0 and the job says how many times it was restarted. Resuming half
 * way is not offered: the scratch entries of a stopped process may be cut anywhere, and the
 * events may have changed since, so a fresh pass is the one that is known to be whole.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { RawReply, parseTimeRange, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { writeExport, type WriteStats } from './formats.ts';
import { providedDatasets, providedSource } from './provided.ts';
import { eventsSource } from './events.ts';
import { STALE_MS, exportDir, jobSchema, jobView } from './routes/jobs.ts';
import type { ExportCursor } from './sources.ts';

export const ARCHIVE_PERMISSION = 'export.archive';
/** an archive stopped this many times is failed rather than started again */
export const MAX_RESTARTS = 3;
const AUDIT_PAGE = 1000;

/** A POSIX ustar header for one regular file. */
export function tarHeader(name: string, size: number, mtime: Date): Buffer {
  const h = Buffer.alloc(512, 0);
  const put = (s: string, at: number, len: number) => h.write(s, at, Math.min(len, Buffer.byteLength(s)), 'utf8');
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  let path = name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    prefix = name.slice(0, cut);
    path = name.slice(cut + 1);
  }
  put(path, 0, 100);
  put(oct(0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(size, 12), 124, 12);
  put(oct(Math.floor(mtime.getTime() / 1000), 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(oct(sum, 7) + ' ', 148, 8);
  return h;
}

interface Entry { name: string; file: string; rows: number | null; bytes: number }

async function writeCursor(cursor: ExportCursor, file: string, onRows: (rows: number) => Promise<void>): Promise<WriteStats> {
  const stats: WriteStats = { rows: 0, bytes: 0 };
  const out = createWriteStream(file);
  const failed = once(out, 'error').then(([err]) => { throw err; });
  failed.catch(() => undefined);
  for await (const chunk of writeExport(cursor, 'ndjson', stats, onRows)) {
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return stats;
}

/** The audit log in id order, page by page, as NDJSON lines. */
async function writeAuditLog(records: NonNullable<TenantContext['records']>, file: string): Promise<WriteStats> {
  const stats: WriteStats = { rows: 0, bytes: 0 };
  const out = createWriteStream(file);
  const failed = once(out, 'error').then(([err]) => { throw err; });
  failed.catch(() => undefined);
  let afterId: number | undefined;
  for (;;) {
    const page = await records.auditLog({ ...(afterId !== undefined ? { afterId } : {}), limit: AUDIT_PAGE });
    if (!page.length) break;
    let text = '';
    for (const r of page) text += `${JSON.stringify(r)}\n`;
    stats.rows += page.length;
    stats.bytes += Buffer.byteLength(text);
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
    if (page.length < AUDIT_PAGE) break;
    afterId = page[page.length - 1]!.id;
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return stats;
}

async function runArchive(ctx: TenantContext, id: string, range: { from: string; to: string }, createdBy: string) {
  const dir = exportDir(ctx);
  const scratch = join(dir, `${id}.d`);
  const file = join(dir, `${id}.tar.gz`);
  const part = `${file}.part`;
  const entries: Entry[] = [];
  let written = 0;
  try {
    // a restarted archive starts from nothing: whatever a stopped process left is dropped
    await rm(scratch, { recursive: true, force: true });
    await rm(part, { force: true });
    await mkdir(scratch, { recursive: true });
    const events = await eventsSource.open({ from: range.from, to: range.to }, ctx);
    const provided = await providedDatasets(ctx);
    const total = await events.count();
    await ctx.db.table('export_jobs').where({ id }).update({ status: 'running', total, updated_at: new Date() });
    // progress by rows; the provided tables have no count, so they share the last 5 %
    const report = async (rows: number) => {
      await ctx.db.table('export_jobs').where({ id }).update({ rows: written + rows, progress: total ? Math.min(0.95, (written + rows) / total * 0.95) : 0, updated_at: new Date() });
    };

    const ev = await writeCursor(events, join(scratch, 'events'), report);
    entries.push({ name: 'events.ndjson', file: join(scratch, 'events'), rows: ev.rows, bytes: ev.bytes });
    written += ev.rows;
    for (const [i, d] of provided.entries()) {
      const cursor = await providedSource(d).open({ from: range.from, to: range.to }, ctx);
      const f = join(scratch, `d${i}`);
      const s = await writeCursor(cursor, f, async () => undefined);
      entries.push({ name: `datasets/${d.dataset}.ndjson`, file: f, rows: s.rows, bytes: s.bytes });
      await ctx.db.table('export_jobs').where({ id }).update({ updated_at: new Date() });
    }
    const missing: string[] = [];
    if (ctx.records) {
      const f = join(scratch, 'audit');
      const s = await writeAuditLog(ctx.records, f);
      entries.push({ name: 'audit/log.ndjson', file: f, rows: s.rows, bytes: s.bytes });
    } else missing.push('audit/log.ndjson', 'settings/plugins.json');

    const json = async (name: string, value: unknown, rows: number) => {
      const f = join(scratch, `j${entries.length}`);
      const text = `${JSON.stringify(value, null, 2)}\n`;
      await writeFile(f, text);
      entries.push({ name, file: f, rows, bytes: Buffer.byteLength(text) });
    };
    const members = await ctx.directory.members({ includeInactive: true });
    await json('directory/members.json', members, members.length);
    const departments = await ctx.directory.departments();
    await json('directory/departments.json', departments, departments.length);
    const memberships = await ctx.directory.memberships();
    await json('directory/memberships.json', memberships, memberships.length);
    const reports = await ctx.db.table('reports').orderBy('created_at', 'asc');
    await json('exports/reports.json', reports, reports.length);
    if (ctx.records) {
      const settings = await ctx.records.pluginSettings();
      await json('settings/plugins.json', settings, settings.length);
    }

    const manifest = {
      org: { id: ctx.org.id, slug: ctx.org.slug, name: ctx.org.name },
      created_at: new Date().toISOString(),
      created_by: createdBy || null,
      range,
      entries: entries.map((e) => ({ name: e.name, rows: e.rows, bytes: e.bytes })),
      // the host does not offer the kernel's records to plugins: what the archive could not hold
      ...(missing.length ? { missing } : {}),
    };
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
    await writeFile(join(scratch, 'manifest'), manifestText);
    entries.unshift({ name: 'manifest.json', file: join(scratch, 'manifest'), rows: null, bytes: Buffer.byteLength(manifestText) });

    // the tar stream, gzipped, one entry after the other
    const gz = createGzip();
    const out = createWriteStream(part);
    const done = once(out, 'finish');
    const failed = Promise.race([once(out, 'error'), once(gz, 'error')]).then(([err]) => { throw err; });
    failed.catch(() => undefined);
    gz.pipe(out);
    const push = async (b: Buffer) => { if (!gz.write(b)) await Promise.race([once(gz, 'drain'), failed]); };
    const now = new Date();
    for (const e of entries) {
      const size = (await stat(e.file)).size;
      await push(tarHeader(e.name, size, now));
      for await (const chunk of createReadStream(e.file)) await push(chunk as Buffer);
      if (size % 512) await push(Buffer.alloc(512 - (size % 512)));
    }
    await push(Buffer.alloc(1024));
    gz.end();
    await Promise.race([done, failed]);
    await rename(part, file);
    const bytes = (await stat(file)).size;
    await ctx.db.table('export_jobs').where({ id }).update({ status: 'done', progress: 1, rows: written, bytes, file: `${id}.tar.gz`, finished_at: new Date(), updated_at: new Date() });
    await ctx.audit({ action: 'export.archive', target: ctx.org.slug, after: { job: id, range, entries: manifest.entries, bytes } });
    await ctx.bus.publish('job', { id, status: 'done', rows: written }, createdBy ? { kind: 'user', id: createdBy } : undefined);
  } catch (err) {
    ctx.logger.error({ err, job: id }, 'org archive failed');
    await rm(part, { force: true }).catch(() => undefined);
    await ctx.db.table('export_jobs').where({ id }).update({ status: 'failed', error: (err as Error).message.slice(0, 2000), finished_at: new Date(), updated_at: new Date() }).catch(() => undefined);
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

export function registerArchiveRoutes(env: PluginEnv) {
  env.route<unknown, unknown, { from?: string; to?: string }>({
    method: 'POST',
    path: '/archive',
    permission: ARCHIVE_PERMISSION,
    summary: "Start the org archive: all events, every plugin's export tables and the org's configuration, as one .tar.gz",
    description: 'Admins only. Poll `GET /api/v1/export/jobs/{id}`; download from its `url` once done. `from` defaults to 2000-01-01, `to` to now. Counts as a bulk export.',
    schema: {
      body: { type: 'object', additionalProperties: false, properties: { from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 } } },
      response: { 202: jobSchema },
    },
    async handler(req, ctx) {
      const r = parseTimeRange({ from: req.body?.from ?? '2000-01-01T00:00:00.000Z', to: req.body?.to });
      const range = { from: r.from.toISOString(), to: r.to.toISOString() };
      const id = randomUUID();
      await ctx.db.table('export_jobs').insert({ id, created_by: ctx.caller?.userId ?? '', dataset: 'archive', format: 'archive', request: JSON.stringify({ dataset: 'archive', ...range }), status: 'queued' });
      const row = await ctx.db.table('export_jobs').where({ id }).first();
      setImmediate(() => void runArchive(ctx, id, range, ctx.caller?.userId ?? ''));
      return new RawReply(JSON.stringify(jobView(row)), { 'content-type': 'application/json; charset=utf-8', location: `/api/v1/export/jobs/${id}` }, 202);
    },
  });

  env.job({
    name: 'restart-stale-archives',
    everySeconds: 300,
    async run(ctx) {
      const stale = await ctx.db
        .table('export_jobs')
        .where({ dataset: 'archive' })
        .whereIn('status', ['queued', 'running'])
        .andWhere('updated_at', '<', new Date(Date.now() - STALE_MS))
        .select('id', 'request', 'created_by', 'restarts');
      let restarted = 0;
      let failed = 0;
      for (const job of stale) {
        const fresh = { updated_at: new Date(), progress: 0, rows: 0, total: 0, bytes: 0 };
        const claim = ctx.db.table('export_jobs').where({ id: job.id }).whereIn('status', ['queued', 'running']).andWhere('updated_at', '<', new Date(Date.now() - STALE_MS));
        if (Number(job.restarts) >= MAX_RESTARTS) {
          failed += await claim.update({ ...fresh, status: 'failed', error: `the archive stopped ${MAX_RESTARTS + 1} times (the server restarted); start it again`, finished_at: new Date() });
          continue;
        }
        // claimed by moving updated_at: another node running this job at the same time finds nothing
        if (!(await claim.update({ ...fresh, status: 'queued', restarts: Number(job.restarts) + 1 }))) continue;
        const request = typeof job.request === 'string' ? JSON.parse(job.request) : job.request;
        setImmediate(() => void runArchive(ctx, job.id, { from: request.from, to: request.to }, job.created_by));
        restarted++;
      }
      return { restarted, failed };
    },
  });
}
