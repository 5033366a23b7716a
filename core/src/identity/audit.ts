import type { FastifyInstance } from 'fastify';
import type { Internals } from '../internals.ts';
import { ctx, errors, iso, who } from './common.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type AuditDeps = Pick<Internals, 'audit' | 'knex' | 'logger' | 'orgService'>;

const entry = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    at: { type: 'string' },
    actor_id: { type: ['string', 'null'] },
    actor_email: { type: ['string', 'null'] },
    action: { type: 'string' },
    target: { type: ['string', 'null'] },
    before: {},
    after: {},
    ip: { type: ['string', 'null'] },
  },
} as const;

const filters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time', description: 'exclusive' },
    action: { type: 'string', maxLength: 120, description: 'exact action, or a prefix ending in `*` (e.g. `member.*`)' },
    actor_id: { type: 'string', format: 'uuid' },
    target: { type: 'string', maxLength: 300 },
  },
} as const;

interface Filters {
  from?: string;
  to?: string;
  action?: string;
  actor_id?: string;
  target?: string;
}

/** Records older than this are purged; the PRD keeps twelve months of audit. */
export const AUDIT_RETENTION_MONTHS = 12;

function query(s: AuditDeps, schema: string, f: Filters) {
  let q = s.knex.withSchema(schema).table('audit_log');
  if (f.from) q = q.where('at', '>=', new Date(f.from));
  if (f.to) q = q.where('at', '<', new Date(f.to));
  if (f.action) q = f.action.endsWith('*') ? q.whereLike('action', `${f.action.slice(0, -1).replace(/[%_\\]/g, (c) => `\\${c}`)}%`) : q.where('action', f.action);
  if (f.actor_id) q = q.where('actor_id', f.actor_id);
  if (f.target) q = q.where('target', f.target);
  return q;
}

const view = (r: any) => ({ ...r, id: Number(r.id), at: iso(r.at)! });

const csvCell = (v: unknown) => {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'string' ? v : JSON.stringify(v);
  // a cell starting with = + - @ is a formula to a spreadsheet: neutralise it (CSV injection)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function auditRoutes(app: FastifyInstance, s: AuditDeps) {
  app.get<{ Querystring: Filters & { limit: number; before_id?: number } }>(
    '/api/v1/audit',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['audit'],
        summary: "The org's audit log, newest first",
        description: who('admin', 'Page with `before_id` = the last id of the previous page.'),
        querystring: {
          ...filters,
          properties: { ...filters.properties, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, before_id: { type: 'integer', minimum: 1 } },
        },
        response: { 200: { type: 'object', properties: { entries: { type: 'array', items: entry }, next_before_id: { type: ['integer', 'null'] } } }, ...errors },
      },
    },
    async (req) => {
      const { org } = ctx(req);
      let q = query(s, org.schema, req.query);
      if (req.query.before_id) q = q.where('id', '<', req.query.before_id);
      const rows = (await q.orderBy('id', 'desc').limit(req.query.limit).select('*')).map(view);
      return { entries: rows, next_before_id: rows.length === req.query.limit ? rows[rows.length - 1]!.id : null };
    },
  );

  app.get<{ Querystring: Filters }>(
    '/api/v1/audit/export',
    {
      config: { permission: 'admin', rateClass: 'export' },
      schema: {
        tags: ['audit'],
        summary: 'The audit log as CSV (same filters as the list)',
        description: who('admin'),
        querystring: filters,
        produces: ['text/csv'],
        response: { 200: { type: 'string', description: 'text/csv' }, ...errors },
      } as any,
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const cols = ['id', 'at', 'actor_id', 'actor_email', 'action', 'target', 'ip', 'before', 'after'] as const;
      const lines = [cols.join(',')];
      // pages of 5000 keep memory flat on a big log
      let last: number | null = null;
      for (;;) {
        let q = query(s, org.schema, req.query);
        if (last !== null) q = q.where('id', '<', last);
        const rows: any[] = await q.orderBy('id', 'desc').limit(5000).select('*');
        for (const r of rows) lines.push(cols.map((c) => csvCell(c === 'at' ? iso(r.at) : r[c])).join(','));
        if (rows.length < 5000) break;
        last = Number(rows[rows.length - 1].id);
      }
      await s.audit(org, caller, { action: 'audit.export', after: { filters: req.query, rows: lines.length - 1 }, ip: req.ip });
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${org.slug}-${new Date().toISOString().slice(0, 10)}.csv"`);
      return lines.join('\r\n') + '\r\n';
    },
  );
}

/**
 * Deletes audit records older than the retention in every org. Locked per org
 * through job_runs so that one node runs it; recorded like plugin jobs.
 */
export async function purgeAuditLogs(s: AuditDeps, now = new Date()): Promise<Record<string, number>> {
  const cutoff = new Date(now);
  cutoff.setUTCMonth(cutoff.getUTCMonth() - AUDIT_RETENTION_MONTHS);
  const out: Record<string, number> = {};
  for (const org of await s.orgService.list()) {
    const job = 'kernel.audit.purge';
    await s.knex.withSchema('public').table('job_runs').insert({ job, org_id: org.id }).onConflict(['job', 'org_id']).ignore();
    const locked = await s.knex
      .withSchema('public')
      .table('job_runs')
      .where({ job, org_id: org.id })
      .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<', new Date()))
      .update({ locked_until: new Date(Date.now() + 600_000), locked_by: `pid-${process.pid}`, last_started_at: new Date() });
    if (locked !== 1) continue;
    try {
      const n = (await s.knex.withSchema(org.schema).table('audit_log').where('at', '<', cutoff).delete().returning('id')).length;
      out[org.slug] = n;
      await s.knex
        .withSchema('public')
        .table('job_runs')
        .where({ job, org_id: org.id })
        .update({ locked_until: null, last_finished_at: new Date(), last_status: 'ok', last_error: null, last_result: JSON.stringify({ deleted: n, cutoff }) });
    } catch (err) {
      await s.knex
        .withSchema('public')
        .table('job_runs')
        .where({ job, org_id: org.id })
        .update({ locked_until: null, last_finished_at: new Date(), last_status: 'failed', last_error: (err as Error).message });
      s.logger.error({ err, org: org.slug }, 'audit purge failed');
    }
  }
  return out;
}
