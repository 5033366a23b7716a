/**
 * Open tracking: every run's message carries a link to the portal with the run's token
 * (`/p/exports/opened?t=…`). The page behind it is for every member: it tells the backend
 * who followed the link (`POST /api/v1/reports/opens`, signed in), then shows the dashboard.
 * An open is one member following one run's link, however often; a report's open rate is
 * the share of the runs' recipients who opened them (the seeds' "> 60% of reports opened").
 *
 * A tracking pixel would count mail clients that load images, not people, and needs a route
 * without sign-in; the link counts members who looked.
 */
import { badRequest, notFound, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';

export const openLink = (baseUrl: string, token: string) => `${baseUrl}/p/exports/opened?t=${token}`;

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

/** Members a run reached: recipients whose email (or in-app) delivery succeeded. */
export function reached(delivered: unknown): Set<string> {
  const list = (json(delivered) ?? []) as Array<{ channel?: string; to?: string; ok?: boolean }>;
  return new Set(list.filter((d) => d.ok && d.to && (d.channel === 'email' || d.channel === 'in_app')).map((d) => d.to!));
}

export interface ReportEngagement {
  runs: number;
  recipients: number;
  opened: number;
  open_rate: number | null;
  by_run: Array<{ run_id: string; started_at: string; recipients: number; opened: number; opens_by_others: number }>;
}

export async function engagement(ctx: TenantContext, reportId: string): Promise<ReportEngagement> {
  const runs = await ctx.db.table('report_runs').where({ report_id: reportId, status: 'sent' }).orderBy('started_at', 'desc');
  const opens = runs.length ? await ctx.db.table('report_opens').whereIn('run_id', runs.map((r: any) => r.id)).select('run_id', 'user_id') : [];
  const byRun = new Map<string, Set<string>>();
  for (const o of opens as Array<{ run_id: string; user_id: string }>) {
    if (!byRun.has(o.run_id)) byRun.set(o.run_id, new Set());
    byRun.get(o.run_id)!.add(o.user_id);
  }
  let recipients = 0;
  let opened = 0;
  const by_run = runs.map((r: any) => {
    const to = reached(r.delivered);
    const who = byRun.get(r.id) ?? new Set<string>();
    const mine = [...who].filter((u) => to.has(u)).length;
    recipients += to.size;
    opened += mine;
    return { run_id: r.id, started_at: new Date(r.started_at).toISOString(), recipients: to.size, opened: mine, opens_by_others: who.size - mine };
  });
  return { runs: runs.length, recipients, opened, open_rate: recipients ? opened / recipients : null, by_run };
}

const engagementSchema = {
  type: 'object',
  properties: {
    runs: { type: 'integer' },
    recipients: { type: 'integer' },
    opened: { type: 'integer' },
    open_rate: { type: ['number', 'null'] },
    by_run: {
      type: 'array',
      items: {
        type: 'object',
        properties: { run_id: { type: 'string' }, started_at: { type: 'string' }, recipients: { type: 'integer' }, opened: { type: 'integer' }, opens_by_others: { type: 'integer' } },
      },
    },
  },
} as const;

export function registerOpenRoutes(env: PluginEnv, findReport: (ctx: TenantContext, id: string) => Promise<any>) {
  env.route<unknown, unknown, { token: string }>({
    method: 'POST',
    path: '/opens',
    prefix: 'reports',
    // any member who received the link: recipients are not only report managers
    permission: 'authenticated',
    summary: "Record that the caller followed a report run's link (open tracking)",
    schema: {
      body: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: { type: 'string', minLength: 1, maxLength: 64 } } },
      response: { 200: { type: 'object', properties: { report_id: { type: 'string' }, run_id: { type: 'string' }, name: { type: 'string' }, opens: { type: 'integer' } } } },
    },
    async handler(req, ctx) {
      if (!/^[0-9a-f]{32}$/.test(req.body.token)) throw badRequest('token: not a report link token', { field: 'token' });
      const run = await ctx.db.table('report_runs').where({ open_token: req.body.token }).first();
      // another org's token is not in this org's schema: the same 404 as an unknown one
      if (!run) throw notFound('no report run has this link', { field: 'token' });
      const userId = ctx.caller?.userId ?? '';
      const was = await ctx.db.table('report_opens').where({ run_id: run.id, user_id: userId }).first();
      if (was) await ctx.db.table('report_opens').where({ run_id: run.id, user_id: userId }).update({ count: Number(was.count) + 1 });
      else await ctx.db.table('report_opens').insert({ run_id: run.id, report_id: run.report_id, user_id: userId });
      const report = await ctx.db.table('reports').where({ id: run.report_id }).first();
      return { report_id: run.report_id, run_id: run.id, name: report?.name ?? '', opens: was ? Number(was.count) + 1 : 1 };
    },
  });

  env.route<unknown, { id: string }>({
    method: 'GET',
    path: '/{id}/opens',
    prefix: 'reports',
    permission: 'reports.manage',
    summary: "A report's opens: recipients reached, how many opened, the open rate, per run",
    schema: { params: { type: 'object', properties: { id: { type: 'string' } } }, response: { 200: engagementSchema } },
    async handler(req, ctx) {
      const r = await findReport(ctx, req.params.id);
      return engagement(ctx, r.id);
    },
  });
}
