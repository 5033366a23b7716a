/**
 * The plugin's routes: `GET /api/v1/usage` (API.md), the series and SLA compliance
 * (the operator's platform-wide view, or an Admin's own org), capacity, the stats the
 * Platform health widget shows, and the portal's dashboard-load reports.
 */
import { HttpError, parseTimeRange, timeRangeQuerySchema, type AnalyticsClient, type PluginEnv, type TenantContext, type TrendPoint } from '@orrery/plugin-sdk';
import { readSeries, readSla, STEPS, type Step } from './series.ts';
import { project } from './capacity.ts';

export const USAGE = 'platform-health.usage';
export const REPORT = 'platform-health.report';
export const OPERATOR = 'platform-health.operator';

export interface HealthConfig {
  nodeSampleMinSeconds?: number;
  retentionDays?: number;
  ingestCapacityEventsPerSecond?: number;
}
export const DEFAULTS = { sampleEverySeconds: 10, nodeSampleMinSeconds: 8, retentionDays: 30, ingestCapacityEventsPerSecond: 2442 };

const num = { type: 'number' };
const int = { type: 'integer' };
const str = { type: 'string' };
const nullableNum = { type: ['number', 'null'] };
const obj = (properties: Record<string, unknown>, required?: string[]) => ({ type: 'object', properties, ...(required ? { required } : {}) });

export const usageSchema = obj(
  {
    tier: str,
    period: obj({ from: str, to: str }, ['from', 'to']),
    events: obj({ used: int, limit: int, soft_limit: int }, ['used', 'limit', 'soft_limit']),
    storage_bytes: obj({ used: int, limit: int }, ['used', 'limit']),
    users: obj({ used: int, limit: int }, ['used', 'limit']),
    api_calls: obj({ used: int }),
    status: { type: 'string', enum: ['ok', 'warning', 'over_soft_limit', 'over_limit'] },
    refused_events: int,
  },
  ['tier', 'period', 'events', 'storage_bytes', 'users', 'status'],
);

/** the portal sends the dashboard's department with every widget request; these series are not per department */
const department = { department_id: { type: 'string', maxLength: 64, description: 'ignored: the platform\'s series are not kept per department' } };
const scope = { type: 'string', enum: ['org', 'platform'], default: 'org', description: '`platform`: every node and org (the platform operator only); `org`: the caller\'s org' };

/** The analytics client of the scope asked for: the platform's rows need the operator. */
function scoped(ctx: TenantContext, s: 'org' | 'platform'): AnalyticsClient {
  return s === 'platform' ? ctx.platform.operator().analytics : ctx.analytics;
}

export function registerRoutes(env: PluginEnv) {
  for (const at of [{ prefix: 'usage', path: '/' }, { prefix: undefined, path: '/usage' }])
  env.route({
    method: 'GET',
    ...at,
    permission: USAGE,
    summary: at.prefix ? "The caller's org: events this month, storage and members against its tier's limits" : 'The same as GET /api/v1/usage, under the plugin\'s prefix (for its widget)',
    description:
      '`events.used` counts the events accepted for the org in the current calendar month (UTC). `status` is `warning` from 80% of a limit, `over_soft_limit` past a limit (events still accepted), `over_limit` at `events.soft_limit` (limit + 20%): from there ingestion answers 429 `usage_limit_exceeded` and nothing of the refused request is stored. Limits per tier are in app-config.yaml `usage.tiers`.',
    schema: { response: { 200: usageSchema } },
    handler: (_req, ctx) => ctx.platform.org.usage(),
  });

  env.route<unknown, unknown, { dashboard_id: string; load_ms: number; widgets?: number }>({
    method: 'POST',
    path: '/dashboard-loads',
    permission: REPORT,
    summary: 'The portal reports how long a dashboard took until every widget had data',
    description: 'Kept in memory and sampled into the `dashboard_load_*` series; measured against the dashboard SLA (`health.slaDashboardMs`).',
    schema: {
      body: {
        type: 'object',
        required: ['dashboard_id', 'load_ms'],
        additionalProperties: false,
        properties: {
          dashboard_id: { type: 'string', minLength: 1, maxLength: 120 },
          load_ms: { type: 'number', minimum: 0, maximum: 600_000 },
          widgets: { type: 'integer', minimum: 0, maximum: 500 },
        },
      },
      response: { 202: obj({ recorded: { type: 'boolean' } }), 200: obj({ recorded: { type: 'boolean' } }) },
    },
    async handler(req, ctx) {
      ctx.platform.org.reportDashboardLoad({ dashboardId: req.body.dashboard_id, ms: req.body.load_ms, widgets: req.body.widgets ?? 0 });
      return { recorded: true };
    },
  });

  env.route<{ series: string; key?: string; from?: string; to?: string; tz?: string; step?: Step; scope?: 'org' | 'platform' }>({
    method: 'GET',
    path: '/series',
    permission: USAGE,
    summary: 'One of the platform\'s own series over a range, per key (route class, plugin, route, node, store)',
    description:
      'Counters (`*_count`, `*_errors`, `*_within_sla`, `ingest_events_*`) are summed per bucket, p95/p99 are the worst sampled interval\'s, other figures are means. Series: `http_{count,errors,error_ratio,mean_ms,p50_ms,p95_ms,p99_ms,within_sla}` (keys `class:*`, `plugin:*`, `route:*`, `queries:all`), `dashboard_load_*` (`dashboard:all`, `dashboard:<id>`), and platform-wide `cpu_ratio`, `rss_bytes`, `heap_used_bytes`, `event_loop_{mean,p99}_ms`, `store_query_{count,mean_ms,p50_ms,p95_ms,p99_ms}` (keys `store:analytics`, `store:database`: every query), `store_probe_ms`, `store_bytes`, `answer_cache_{hit_ratio,entries}`, `ingest_{events_accepted,events_refused,backlog_rows,loader_lag_ms}`, `rollup_lag_ms`, `sockets_connected`, `socket_messages`, `jobs_{failing,running}`.',
    schema: {
      querystring: {
        type: 'object',
        required: ['series'],
        additionalProperties: false,
        properties: {
          ...timeRangeQuerySchema,
          ...department,
          series: { type: 'string', pattern: '^[a-z0-9_]{1,64}$' },
          key: { type: 'string', minLength: 1, maxLength: 300 },
          step: { type: 'string', enum: ['minute', 'hour', 'day'], default: 'hour' },
          scope,
        },
      },
      response: {
        200: obj({
          series: str,
          aggregate: str,
          scope: str,
          step: str,
          keys: { type: 'array', items: obj({ key: str, points: { type: 'array', items: obj({ bucket: str, value: num }) } }) },
        }),
      },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query, 1);
      const step = req.query.step ?? 'hour';
      if ((range.to.getTime() - range.from.getTime()) / 1000 / STEPS[step] > 5000) throw new HttpError(400, 'bad_request', `more than 5000 ${step}s in the range: pick a larger step`, { field: 'step' });
      const s = req.query.scope ?? 'org';
      const answer = await readSeries(scoped(ctx, s), { series: req.query.series, key: req.query.key, from: range.from, to: range.to, step, tz: range.tz });
      return { ...answer, scope: s, step };
    },
  });

  env.route<{ from?: string; to?: string; tz?: string; scope?: 'org' | 'platform' }>({
    method: 'GET',
    path: '/sla',
    permission: USAGE,
    summary: 'SLA compliance per day: the share of dashboard loads and of analytics queries within their SLA',
    description: 'Days in `tz` (default UTC). Dashboard loads are reported by the portal; queries are the plugins\' GET answers. A day without loads or queries has `null` compliance.',
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { ...timeRangeQuerySchema, ...department, scope } },
      response: {
        200: obj({
          scope: str,
          sla: obj({ dashboard_ms: int, query_ms: int }),
          days: {
            type: 'array',
            items: obj({ day: str, dashboard_loads: int, dashboard_within_sla: int, dashboard_compliance: nullableNum, queries: int, queries_within_sla: int, query_compliance: nullableNum }),
          },
        }),
      },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query, 30);
      const s = req.query.scope ?? 'org';
      const a = scoped(ctx, s);
      const sla = { dashboard_ms: ctx.platform.org.sla.dashboardMs, query_ms: ctx.platform.org.sla.queryMs };
      return { scope: s, sla, days: await readSla(a, range.from, range.to, range.tz) };
    },
  });

  env.route({
    method: 'GET',
    path: '/stats',
    permission: OPERATOR,
    summary: "Platform operator: the platform's state now (as GET /api/v1/admin/system/stats), for the Platform health widget",
    schema: { response: { 200: { type: 'object', additionalProperties: true } } },
    handler: (_req, ctx) => ctx.platform.operator().stats(),
  });

  env.route<{ days?: number; history_days?: number }>({
    method: 'GET',
    path: '/capacity',
    permission: OPERATOR,
    summary: 'Platform operator: events per day and storage projected over the next days against the ingestion capacity',
    description:
      'History: events accepted per UTC day and the analytical store\'s size, from the platform\'s series. The projection comes from the trends plugin when it is on (`model` = `trends:<model>`), else a least-squares line (`linear`). Capacity: `ingestCapacityEventsPerSecond` × 86,400 (default 2,442/s, the sustained rate of the README\'s ingestion benchmark).',
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { days: { type: 'integer', minimum: 1, maximum: 365, default: 90 }, history_days: { type: 'integer', minimum: 2, maximum: 365, default: 30 } },
      },
      response: {
        200: obj({
          model: str,
          capacity_events_per_day: num,
          history: { type: 'array', items: obj({ day: str, events: num, storage_bytes: nullableNum }) },
          projection: { type: 'array', items: obj({ day: str, events: num, storage_bytes: nullableNum, capacity_ratio: num }) },
          first_day_over_capacity: { type: ['string', 'null'] },
        }),
      },
    },
    async handler(req, ctx) {
      const op = ctx.platform.operator();
      const cfg = { ...DEFAULTS, ...(ctx.config as HealthConfig) };
      const days = req.query.days ?? 90;
      const historyDays = req.query.history_days ?? 30;
      const to = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 + 86_400_000);
      const from = new Date(to.getTime() - historyDays * 86_400_000);
      const [events, storage] = await Promise.all([
        readSeries(op.analytics, { series: 'ingest_events_accepted', key: 'node', from, to, step: 'day', tz: 'UTC' }),
        readSeries(op.analytics, { series: 'store_bytes', key: 'store:analytics', from, to, step: 'day', tz: 'UTC' }),
      ]);
      const evBy = new Map((events.keys[0]?.points ?? []).map((p) => [p.bucket.slice(0, 10), p.value]));
      const stBy = new Map((storage.keys[0]?.points ?? []).map((p) => [p.bucket.slice(0, 10), p.value]));
      const history = Array.from({ length: historyDays }, (_, i) => {
        const day = new Date(from.getTime() + i * 86_400_000).toISOString().slice(0, 10);
        return { day, events: evBy.get(day) ?? 0, storage_bytes: stBy.get(day) ?? null };
      });
      const toPoints = (f: (h: (typeof history)[number]) => number | null): TrendPoint[] => history.map((h) => ({ bucket: `${h.day}T00:00:00.000Z`, value: f(h) }));
      const ev = await project(ctx, toPoints((h) => h.events), days, 86_400_000);
      const st = await project(ctx, toPoints((h) => h.storage_bytes), days, 86_400_000);
      const capacity = cfg.ingestCapacityEventsPerSecond * 86_400;
      const projection = ev.points.map((p, i) => ({ day: p.bucket.slice(0, 10), events: p.value, storage_bytes: stBy.size ? (st.points[i]?.value ?? null) : null, capacity_ratio: p.value / capacity }));
      return { model: ev.model, capacity_events_per_day: capacity, history, projection, first_day_over_capacity: projection.find((p) => p.capacity_ratio >= 1)?.day ?? null };
    },
  });
}
