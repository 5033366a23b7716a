/**
 * `GET /api/v1/export/pdf?dashboard=mine&from&to&tz&paper`: the caller's
 * dashboard, drawn by the real portal in headless Chromium, as a PDF.
 */
import { RawReply, badRequest, forbidden, parseTimeRange, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { chromiumPath, renderDashboardPdf, requireChromium, type Paper } from '../pdf.ts';
import { EXPORT_PERMISSION } from './stream.ts';

/** renders at a time on this node: each is a Chromium with a page of charts */
const MAX_RENDERS = 2;
let running = 0;
const waiting: Array<() => void> = [];
async function withRenderSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_RENDERS) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Where this node was last reached, for renders that no request asked for (scheduled reports). */
let lastOrigin: string | null = null;
export function portalUrl(ctx: TenantContext, headers?: Record<string, string | string[] | undefined>): string {
  const configured = (ctx.config as { portalUrl?: string }).portalUrl;
  if (configured) return configured.replace(/\/$/, '');
  const host = headers?.host;
  if (typeof host === 'string' && host) lastOrigin = `http://${host}`;
  return lastOrigin ?? `http://127.0.0.1:${process.env.PORT ?? 7007}`;
}

export interface PdfRequest {
  userId: string;
  from?: string;
  to?: string;
  tz?: string;
  paper?: Paper;
  departmentId?: string | null;
  baseUrl: string;
  purpose: string;
}

/** Renders the member's dashboard; the render session ends with the render. */
export async function dashboardPdf(ctx: TenantContext, r: PdfRequest): Promise<{ pdf: Buffer; widgets: number; from: Date; to: Date; tz: string }> {
  const range = parseTimeRange({ from: r.from, to: r.to, tz: r.tz });
  const chromium = chromiumPath(ctx.config as { chromiumPath?: string });
  requireChromium(chromium);
  return withRenderSlot(async () => {
    const session = await ctx.renderSession(r.userId, r.purpose);
    try {
      const out = await renderDashboardPdf({
        baseUrl: r.baseUrl,
        session,
        userId: r.userId,
        orgName: ctx.org.name,
        from: range.from,
        to: range.to,
        tz: range.tz,
        paper: r.paper ?? 'A4',
        departmentId: r.departmentId ?? null,
        chromium,
      });
      return { ...out, from: range.from, to: range.to, tz: range.tz };
    } finally {
      await session.end().catch(() => undefined);
    }
  });
}

interface PdfQuery {
  dashboard: string;
  from?: string;
  to?: string;
  tz?: string;
  paper?: Paper;
  department_id?: string;
}

export function registerPdfRoutes(env: PluginEnv) {
  env.route<PdfQuery>({
    method: 'GET',
    path: '/pdf',
    permission: EXPORT_PERMISSION,
    summary: 'A dashboard as PDF, charts drawn by the portal in headless Chromium',
    description:
      '`dashboard=mine` is the dashboard the caller sees (for `department_id` when given). The header names the org, the range and the zone; `paper` is A4 (default) or Letter. 503 `chromium_missing` (with how to install it) when the server has no Chromium. Counts as a bulk export; audited.',
    schema: {
      querystring: {
        type: 'object',
        required: ['dashboard'],
        properties: {
          dashboard: { type: 'string', maxLength: 64, description: '`mine`: the dashboard the caller sees' },
          from: { type: 'string', maxLength: 64 },
          to: { type: 'string', maxLength: 64 },
          tz: { type: 'string', maxLength: 64, description: 'IANA zone for the dates shown; default UTC' },
          paper: { type: 'string', enum: ['A4', 'Letter'], default: 'A4' },
          department_id: { type: 'string', maxLength: 128 },
        },
      },
      response: { 200: { type: 'string', format: 'binary', description: 'application/pdf' } },
    },
    async handler(req, ctx) {
      const q = req.query;
      if (q.dashboard !== 'mine') {
        throw badRequest(`dashboard: "${q.dashboard}" cannot be rendered; the dashboards plugin keeps one dashboard per member, asked for as \`mine\` (with department_id for a department's)`, { field: 'dashboard' });
      }
      if (!ctx.caller || ctx.caller.via === 'hook_token') throw forbidden('a signed-in member is required to render their dashboard');
      const out = await dashboardPdf(ctx, {
        userId: ctx.caller.userId,
        from: q.from,
        to: q.to,
        tz: q.tz,
        paper: q.paper,
        departmentId: q.department_id ?? null,
        baseUrl: portalUrl(ctx, req.headers),
        purpose: 'dashboard PDF',
      });
      await ctx.audit({ action: 'export.pdf', target: 'dashboard:mine', after: { from: out.from.toISOString(), to: out.to.toISOString(), tz: out.tz, paper: q.paper ?? 'A4', widgets: out.widgets, bytes: out.pdf.length } });
      return new RawReply(out.pdf, {
        'content-type': 'application/pdf',
        'content-disposition': `attachment; filename="dashboard-${ctx.org.slug}-${out.from.toISOString().slice(0, 10)}-${out.to.toISOString().slice(0, 10)}.pdf"`,
        'cache-control': 'no-store',
      });
    },
  });
}
