/**
 * Reports: a dashboard (as its owner sees it) over the last days, as PDF and
 * optionally the period's events as CSV, sent to members by email (files
 * attached, a summary in the body), Slack or webhook (the org's notification
 * settings), on a schedule or now. Each run is kept with its status.
 *
 * A run renders as the report's owner (a render session from the kernel), so
 * the PDF and the CSV hold what the owner may see, never more.
 */
import { randomUUID } from 'node:crypto';
import { RawReply, badRequest, notFound, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { csvRecord, csvText } from './csv.ts';
import { REPORT_KINDS, rangeOf, contentText, executiveContent, reportContentSchema, supportContent, type ReportContent, type ReportKind, type SectionCell } from './kinds.ts';
import { openLink, registerOpenRoutes } from './opens.ts';
import { eventColumns } from './events.ts';
import { dashboardPdf, portalUrl } from './routes/pdf.ts';
import { nextRun, scheduleSchema, validateSchedule, type Schedule } from './schedule.ts';

export const REPORTS_PERMISSION = 'reports.manage';
type Channel = 'email' | 'slack' | 'webhook' | 'in_app';

export interface ReportInput {
  name: string;
  kind?: ReportKind;
  dashboard?: 'mine';
  department_id?: string | null;
  range_days?: number;
  tz?: string;
  paper?: 'A4' | 'Letter';
  attach?: Array<'pdf' | 'csv'>;
  csv?: { event_type?: string; fields?: string };
  recipients?: string[];
  channels?: Channel[];
  skip_when_empty?: boolean;
  schedule?: Schedule | null;
}

const reportInputSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    kind: { type: 'string', enum: REPORT_KINDS, default: 'dashboard', description: "dashboard: the owner's dashboard as PDF; support: users needing support by department; executive: key figures and their change" },
    dashboard: { type: 'string', enum: ['mine'], default: 'mine', description: "the owner's dashboard" },
    department_id: { type: ['string', 'null'], maxLength: 128 },
    range_days: { type: 'integer', minimum: 1, maximum: 92, description: 'the period ends at the run; default by frequency (1, 7, 30)' },
    tz: { type: 'string', maxLength: 64, description: 'zone of the dates shown; default the schedule zone or UTC' },
    paper: { type: 'string', enum: ['A4', 'Letter'], default: 'A4' },
    attach: { type: 'array', items: { type: 'string', enum: ['pdf', 'csv'] }, uniqueItems: true, description: "the owner's dashboard as PDF, the period's events as CSV; default ['pdf'] for a dashboard report, none for the others (they send their tables as a summary CSV)" },
    csv: { type: 'object', additionalProperties: false, properties: { event_type: { type: 'string' }, fields: { type: 'string' } } },
    recipients: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 100, description: 'member user ids; default the owner' },
    channels: { type: 'array', items: { type: 'string', enum: ['email', 'slack', 'webhook', 'in_app'] }, uniqueItems: true, minItems: 1, default: ['email'] },
    skip_when_empty: { type: 'boolean', default: false },
    schedule: { anyOf: [scheduleSchema, { type: 'null' }] },
  },
} as const;

const runSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    report_id: { type: 'string' },
    trigger: { type: 'string', enum: ['manual', 'schedule'] },
    status: { type: 'string', enum: ['running', 'sent', 'skipped', 'failed'] },
    started_at: { type: 'string' },
    finished_at: { type: ['string', 'null'] },
    delivered: { type: ['array', 'null'], items: { type: 'object', additionalProperties: true } },
    error: { type: ['string', 'null'] },
    opens: { type: 'integer', description: 'members who followed the link of this run' },
  },
} as const;

const reportSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string' },
    definition: { type: 'object', additionalProperties: true },
    schedule: { anyOf: [{ type: 'object', additionalProperties: true }, { type: 'null' }] },
    skip_when_empty: { type: 'boolean' },
    created_by: { type: 'string' },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    next_run_at: { type: ['string', 'null'] },
    last_run: { anyOf: [runSchema, { type: 'null' }] },
  },
} as const;

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);

function runView(r: any) {
  return { id: r.id, report_id: r.report_id, trigger: r.trigger, status: r.status, started_at: iso(r.started_at)!, finished_at: iso(r.finished_at), delivered: json(r.delivered) ?? null, error: r.error ?? null, opens: Number(r.opens ?? 0) };
}
function reportView(r: any, lastRun?: any) {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    definition: json(r.definition),
    schedule: json(r.schedule) ?? null,
    skip_when_empty: !!r.skip_when_empty,
    created_by: r.created_by,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    next_run_at: iso(r.next_run_at),
    last_run: lastRun ? runView(lastRun) : null,
  };
}

const DEFAULT_DAYS: Record<Schedule['frequency'], number> = { daily: 1, weekly: 7, monthly: 30, last_friday: 30 };

/** Checks a report and splits it into its stored columns. 400 naming the field when wrong. */
function normalize(input: ReportInput, owner: string) {
  const schedule = input.schedule ? validateSchedule(input.schedule) : null;
  const tz = input.tz ?? schedule?.tz ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw badRequest(`tz: "${tz}" is not an IANA time zone`, { field: 'tz' });
  }
  const kind = input.kind ?? 'dashboard';
  const attach = input.attach ?? (kind === 'dashboard' ? ['pdf'] : []);
  if (input.csv && !attach.includes('csv')) throw badRequest('csv: given, but attach does not name "csv"', { field: 'csv' });
  // the same checks as the export routes: an unknown type or field fails now, not at 7 am on Monday
  if (attach.includes('csv')) eventColumns(input.csv ?? {});
  const definition = {
    kind,
    dashboard: 'mine',
    department_id: input.department_id ?? null,
    range_days: input.range_days ?? (schedule ? DEFAULT_DAYS[schedule.frequency] : 7),
    tz,
    paper: input.paper ?? 'A4',
    attach,
    csv: input.csv ?? null,
    recipients: input.recipients?.length ? [...new Set(input.recipients)] : [owner],
    channels: input.channels ?? ['email'],
  };
  return { kind, definition, schedule, skip_when_empty: input.skip_when_empty ?? false };
}

async function findReport(ctx: TenantContext, id: string) {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound(`no report "${id}"`, { field: 'id' });
  // a report renders as its owner: only they (and Admins) may see, change or send it
  let q = ctx.db.table('reports').where({ id });
  if (ctx.caller?.role !== 'Admin') q = q.andWhere({ created_by: ctx.caller?.userId ?? '' });
  const row = await q.first();
  if (!row) throw notFound(`no report "${id}"`, { field: 'id' });
  return row;
}

/** Runs with the number of members who opened each (followed its link). */
async function withOpens(ctx: TenantContext, runs: any[]) {
  if (!runs.length) return runs;
  const counts = await ctx.db.table('report_opens').whereIn('run_id', runs.map((r) => r.id)).select('run_id').count({ n: '*' }).groupBy('run_id');
  const by = new Map(counts.map((c: any) => [c.run_id, Number(c.n)]));
  return runs.map((r) => ({ ...r, opens: by.get(r.id) ?? 0 }));
}

async function lastRuns(ctx: TenantContext, ids: string[]) {
  if (!ids.length) return new Map<string, any>();
  const rows = await withOpens(ctx, await ctx.db.table('report_runs').whereIn('report_id', ids).orderBy('started_at', 'desc'));
  const out = new Map<string, any>();
  for (const r of rows) if (!out.has(r.report_id)) out.set(r.report_id, r);
  return out;
}

async function createReport(ctx: TenantContext, input: ReportInput) {
  const owner = ctx.caller?.userId ?? '';
  const n = normalize(input, owner);
  const id = randomUUID();
  await ctx.db.table('reports').insert({
    id,
    name: input.name,
    kind: n.kind,
    definition: JSON.stringify(n.definition),
    schedule: n.schedule ? JSON.stringify(n.schedule) : null,
    delivery: JSON.stringify({ channels: n.definition.channels }),
    skip_when_empty: n.skip_when_empty,
    created_by: owner,
    next_run_at: n.schedule ? nextRun(n.schedule, new Date()) : null,
  });
  await ctx.audit({ action: 'report.create', target: id, after: { name: input.name, ...n } });
  return reportView(await ctx.db.table('reports').where({ id }).first());
}

/** A plain summary of the period for the message body: events by type, and the change on the period before. */
async function summary(ctx: TenantContext, from: Date, to: Date): Promise<{ text: string; events: number; content: ReportContent }> {
  const span = to.getTime() - from.getTime();
  const ch = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
  const rows = await ctx.analytics.query<{ event_type: string; now: string; before: string }>(
    `SELECT event_type, countIf(timestamp >= {from:DateTime64(3)}) AS now, countIf(timestamp < {from:DateTime64(3)}) AS before
     FROM ${ctx.analytics.table('events')}
     WHERE org_id = {org_id:String} AND timestamp >= {prev:DateTime64(3)} AND timestamp < {to:DateTime64(3)}
     GROUP BY event_type ORDER BY event_type`,
    { from: ch(from), to: ch(to), prev: ch(new Date(from.getTime() - span)) },
  );
  const total = rows.reduce((a, r) => a + Number(r.now), 0);
  const lines = rows
    .filter((r) => Number(r.now) || Number(r.before))
    .map((r) => {
      const now = Number(r.now);
      const before = Number(r.before);
      const change = before ? `${now >= before ? '+' : ''}${(((now - before) / before) * 100).toFixed(0)}%` : 'new';
      return `  ${r.event_type}: ${now} (${change} on the period before)`;
    });
  const content: ReportContent = {
    kind: 'dashboard',
    from: from.toISOString(),
    to: to.toISOString(),
    highlights: [`${total} events in the period.`],
    sections: [{
      title: 'Events by type',
      columns: ['event type', 'period', 'period before', 'change %'],
      rows: rows.filter((r) => Number(r.now) || Number(r.before)).map((r) => {
        const now = Number(r.now);
        const before = Number(r.before);
        return [r.event_type, now, before, before ? Math.round(((now - before) / before) * 1000) / 10 : null];
      }),
    }],
    empty: total === 0,
  };
  return { text: [`${total} events in the period.`, ...lines].join('\n'), events: total, content };
}

/** What a report says for a period: its kind's tables, and the body text of its message. */
export async function reportContent(ctx: TenantContext, report: any, from: Date, to: Date): Promise<{ content: ReportContent; text: string }> {
  const kind = (report.kind ?? 'dashboard') as ReportKind;
  if (kind === 'support') {
    const content = await supportContent(ctx, report.created_by, rangeOf(from, to));
    return { content, text: contentText(content) };
  }
  if (kind === 'executive') {
    const content = await executiveContent(ctx, rangeOf(from, to));
    return { content, text: contentText(content) };
  }
  const sum = await summary(ctx, from, to);
  return { content: sum.content, text: sum.text };
}

/** The tables of a report as one CSV: each section's title, header and rows, a blank line between sections. */
export function contentCsv(c: ReportContent): string {
  const cell = (v: SectionCell) => (v === null ? '' : typeof v === 'number' ? String(v) : csvText(v));
  return c.sections.map((s) => csvRecord([csvText(s.title)]) + csvRecord(s.columns.map(csvText)) + s.rows.map((r) => csvRecord(r.map(cell))).join('')).join('\r\n');
}

/** Runs a report now: renders, attaches, delivers, records the run. Never throws; the run says what happened. */
export async function runReport(ctx: TenantContext, report: any, trigger: 'manual' | 'schedule', baseUrl: string, at = new Date()) {
  const def = json(report.definition);
  const runId = randomUUID();
  const openToken = randomUUID().replace(/-/g, '');
  await ctx.db.table('report_runs').insert({ id: runId, report_id: report.id, trigger, status: 'running', open_token: openToken });
  const finish = async (status: string, extra: Record<string, unknown> = {}) => {
    await ctx.db.table('report_runs').where({ id: runId }).update({ status, finished_at: new Date(), ...extra });
    return runView((await withOpens(ctx, [await ctx.db.table('report_runs').where({ id: runId }).first()]))[0]);
  };
  try {
    const to = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
    const from = new Date(to.getTime() - def.range_days * 86_400_000);
    const sum = await reportContent(ctx, report, from, to);
    if (report.skip_when_empty && sum.content.empty) return await finish('skipped', { error: 'nothing to report in the period (skip when empty)' });
    const attachments: Array<{ filename: string; content: Uint8Array; contentType: string }> = [];
    const day = (d: Date) => d.toISOString().slice(0, 10);
    if (sum.content.kind !== 'dashboard') {
      attachments.push({ filename: `${report.name}-summary-${day(from)}-${day(to)}.csv`.replace(/[^\w.-]/g, '_'), content: new TextEncoder().encode(contentCsv(sum.content)), contentType: 'text/csv' });
    }
    if (def.attach.includes('pdf')) {
      const out = await dashboardPdf(ctx, { userId: report.created_by, from: from.toISOString(), to: to.toISOString(), tz: def.tz, paper: def.paper, departmentId: def.department_id, baseUrl, purpose: `report ${report.id}` });
      attachments.push({ filename: `${report.name}-${day(from)}-${day(to)}.pdf`.replace(/[^\w.-]/g, '_'), content: out.pdf, contentType: 'application/pdf' });
    }
    if (def.attach.includes('csv')) {
      // through the export route as the owner: their department scope, the audit record and the bulk-export limit hold
      const session = await ctx.renderSession(report.created_by, `report ${report.id} CSV`);
      try {
        const q = new URLSearchParams({ dataset: 'events', from: from.toISOString(), to: to.toISOString(), ...(def.csv?.event_type ? { event_type: def.csv.event_type } : {}), ...(def.csv?.fields ? { fields: def.csv.fields } : {}) });
        const res = await fetch(`${baseUrl}/api/v1/export/csv?${q}`, { headers: { authorization: `Bearer ${session.access_token}` }, signal: AbortSignal.timeout(300_000) });
        if (!res.ok) throw new Error(`the CSV export answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
        attachments.push({ filename: `${report.name}-events-${day(from)}-${day(to)}.csv`.replace(/[^\w.-]/g, '_'), content: new Uint8Array(await res.arrayBuffer()), contentType: 'text/csv' });
      } finally {
        await session.end().catch(() => undefined);
      }
    }
    const period = `${from.toISOString().slice(0, 16).replace('T', ' ')} – ${to.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    const { delivered } = await ctx.notify.send({
      orgId: ctx.org.id,
      to: def.recipients,
      subject: `${report.name} · ${ctx.org.name} · ${period}`,
      text: `${report.name} for ${ctx.org.name}, ${period}.\n\n${sum.text}\n\nAttached: ${attachments.map((a) => a.filename).join(', ') || 'nothing'}.\n\nOpen in Orrery: ${openLink(baseUrl, openToken)}`,
      channels: def.channels,
      link: openLink(baseUrl, openToken),
      attachments,
      data: { report_id: report.id, run_id: runId },
    });
    const ok = delivered.some((d) => d.ok);
    return await finish(ok ? 'sent' : 'failed', { delivered: JSON.stringify(delivered), ...(ok ? {} : { error: delivered.map((d) => d.error).filter(Boolean).join('; ') || 'no recipient could be reached' }) });
  } catch (err) {
    ctx.logger.error({ err, report: report.id }, 'report run failed');
    return finish('failed', { error: (err as Error).message.slice(0, 2000) }).catch(() => null);
  }
}

export function registerReportRoutes(env: PluginEnv) {
  const params = { type: 'object', properties: { id: { type: 'string' } } };

  env.route<unknown, unknown, ReportInput>({
    method: 'POST',
    path: '/schedule',
    permission: REPORTS_PERMISSION,
    summary: 'Schedule a report (a report with a schedule)',
    schema: { body: { ...reportInputSchema, required: ['name', 'schedule'] }, response: { 201: reportSchema } },
    async handler(req, ctx) {
      if (!req.body.schedule) throw badRequest('schedule is required here', { field: 'schedule' });
      return new RawReply(JSON.stringify(await createReport(ctx, req.body)), { 'content-type': 'application/json; charset=utf-8' }, 201);
    },
  });

  env.route({
    method: 'GET',
    path: '/',
    prefix: 'reports',
    permission: REPORTS_PERMISSION,
    summary: "The reports the caller owns (an Admin: the org's), with their schedule, next run and last run",
    schema: { response: { 200: { type: 'object', properties: { reports: { type: 'array', items: reportSchema } } } } },
    async handler(_req, ctx) {
      let q = ctx.db.table('reports').orderBy('created_at', 'asc');
      if (ctx.caller?.role !== 'Admin') q = q.where({ created_by: ctx.caller?.userId ?? '' });
      const rows = await q;
      const last = await lastRuns(ctx, rows.map((r: any) => r.id));
      return { reports: rows.map((r: any) => reportView(r, last.get(r.id))) };
    },
  });

  env.route<unknown, unknown, ReportInput>({
    method: 'POST',
    path: '/',
    prefix: 'reports',
    permission: REPORTS_PERMISSION,
    summary: 'Create a report (scheduled when `schedule` is given)',
    schema: { body: reportInputSchema, response: { 201: reportSchema } },
    async handler(req, ctx) {
      return new RawReply(JSON.stringify(await createReport(ctx, req.body)), { 'content-type': 'application/json; charset=utf-8' }, 201);
    },
  });

  env.route<unknown, { id: string }>({
    method: 'GET',
    path: '/{id}',
    prefix: 'reports',
    permission: REPORTS_PERMISSION,
    summary: 'One report',
    schema: { params, response: { 200: reportSchema } },
    async handler(req, ctx) {
      const r = await findReport(ctx, req.params.id);
      return reportView(r, (await lastRuns(ctx, [r.id])).get(r.id));
    },
  });

  env.route<unknown, { id: string }, ReportInput>({
    method: 'PUT',
    path: '/{id}',
    prefix: 'reports',
    permission: REPORTS_PERMISSION,
    summary: 'Replace a report (its owner stays)',
    schema: { params, body: reportInputSchema, response: { 200: reportSchema } },
    async handler(req, ctx) {
      const before = await findReport(ctx, req.params.id);
      const n = normalize(req.body, before.created_by);
      await ctx.db
        .table('reports')
        .where({ id: before.id })
        .update({
          name: req.body.name,
          kind: n.kind,
          definition: JSON.stringify(n.definition),
          schedule: n.schedule ? JSON.stringify(n.schedule) : null,
          delivery: JSON.stringify({ channels: n.definition.channels }),
          skip_when_empty: n.skip_when_empty,
          updated_at: new Date(),
          next_run_at: n.schedule ? nextRun(n.schedule, new Date()) : null,
        });
      await ctx.audit({ action: 'report.update', target: before.id, before: reportView(before), after: { name: req.body.name, ...n } });
      const r = await findReport(ctx, before.id);
      return reportView(r, (await lastRuns(ctx, [r.id])).get(r.id));
    },
  });

  env.route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/{id}',
    prefix: 'reports',
    permission: REPORTS_PERMISSION,
    summary: 'Delete a report and its run history',
    schema: { params },
    async handler(req, ctx) {
      const r = await findReport(ctx, req.params.id);
      // its runs go with it (ON DELETE CASCADE)
      await ctx.db.table('reports').where({ id: r.id }).delete();
      await ctx.audit({ action: 'report.delete', target: r.id, before: reportView(r) });
      return undefined;
    },
  });

  env.route<unknown, { id: string }>({
    method: 'POST',
    path: '/{id}/send',
    prefix: 'reports',
    permission: REPORTS_PERMISSION,
    summary: 'Send a report now (a test), answered with the run',
    schema: { params, response: { 200: runSchema } },
    async handler(req, ctx) {
      const r = await findReport(ctx, req.params.id);
      return runReport(ctx, r, 'manual', portalUrl(ctx, req.headers));
    },
  });

  env.route<{ limit?: number }, { id: string }>({
    method: 'GET',
    path: '/{id}/runs',
    prefix: 'reports',
    permission: REPORTS_PERMISSION,
    summary: "A report's runs, latest first",
    schema: {
      params,
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } } },
      response: { 200: { type: 'object', properties: { runs: { type: 'array', items: runSchema } } } },
    },
    async handler(req, ctx) {
      const r = await findReport(ctx, req.params.id);
      const rows = await withOpens(ctx, await ctx.db.table('report_runs').where({ report_id: r.id }).orderBy('started_at', 'desc').limit(req.query.limit ?? 50));
      return { runs: rows.map(runView) };
    },
  });

  env.route<{ from?: string; to?: string }, { id: string }>({
    method: 'GET',
    path: '/{id}/preview',
    prefix: 'reports',
    permission: REPORTS_PERMISSION,
    summary: "What the report would say for its period ending now: its kind's tables and the message body",
    schema: { params, response: { 200: { type: 'object', properties: { content: reportContentSchema, text: { type: 'string' } } } } },
    async handler(req, ctx) {
      const r = await findReport(ctx, req.params.id);
      const def = json(r.definition);
      const to = new Date(Math.floor(Date.now() / 60_000) * 60_000);
      return reportContent(ctx, r, new Date(to.getTime() - def.range_days * 86_400_000), to);
    },
  });

  env.route({
    method: 'GET',
    path: '/recipients',
    prefix: 'reports',
    permission: REPORTS_PERMISSION,
    summary: "The org's active members a report may be sent to",
    schema: { response: { 200: { type: 'object', properties: { members: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' }, display_name: { type: 'string' }, role: { type: 'string' } } } } } } } },
    async handler(_req, ctx) {
      const members = await ctx.directory.members();
      return { members: members.map((m) => ({ id: m.id, email: m.email, display_name: m.displayName, role: m.role })).sort((a, b) => a.email.localeCompare(b.email)) };
    },
  });

  registerOpenRoutes(env, findReport);

  // due reports: one job run per org, each report moved to its next run before it is sent (a slow send never runs twice)
  env.job({
    name: 'send-due-reports',
    everySeconds: 60,
    async run(ctx) {
      const now = new Date();
      const due = await ctx.db.table('reports').whereNotNull('next_run_at').andWhere('next_run_at', '<=', now);
      let sent = 0;
      for (const r of due) {
        const schedule = json(r.schedule) as Schedule;
        await ctx.db.table('reports').where({ id: r.id }).update({ next_run_at: nextRun(schedule, now) });
        const run = await runReport(ctx, r, 'schedule', portalUrl(ctx), new Date(r.next_run_at));
        if (run?.status === 'sent') sent++;
      }
      return { due: due.length, sent };
    },
  });
}

