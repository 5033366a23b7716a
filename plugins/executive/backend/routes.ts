/**
 * The executive routes under /api/v1/executive: overview, KPIs, what is firing,
 * forecasts, burn per group, insights and the Executive dashboard layout.
 */
import { alertsStatusRef, HttpError, badRequest, metricsAnswerSchema, metricsQueryRef, parseTimeRange, trendsRef, type MetricsQueryDefinition, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { budgetStates, visibleBudgets } from './budgets.ts';
import { burnOf, costBy, costOf, DAY_MS, groupField, monthOf } from './cost.ts';
import { atOf, atQuery } from './common.ts';
import { computeInsights } from './insights.ts';
import { kpiSchema, readKpis, registerKpiRoutes } from './kpis.ts';
import { READ } from './permissions.ts';
import { executiveDashboard } from '../widgets.ts';

const str = { type: 'string' };
const num = { type: 'number' };
const numOrNull = { type: ['number', 'null'] };
const rangeQuery = {
  from: { type: 'string', format: 'date-time', description: 'ISO 8601 instant (inclusive); default 7 days before `to`' },
  to: { type: 'string', format: 'date-time', description: 'ISO 8601 instant (exclusive); default now' },
};
const parseRange = (q: { from?: string; to?: string }) => parseTimeRange({ from: q.from, to: q.to });

const open = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: true, properties });
const insightSchema = open({
  id: str,
  kind: { type: 'string', enum: ['cost_change', 'adoption_change', 'error_rate_jump', 'budget'] },
  severity: { type: 'string', enum: ['critical', 'warning', 'info'] },
  direction: { type: 'string', enum: ['up', 'down'] },
  text: str,
  evidence: open({}),
  link: open({ widget: str, title: str, options: open({}), from: str, to: str }),
});
const insightsAnswer = {
  type: 'object',
  properties: {
    as_of: str,
    current: open({ from: str, to: str }),
    previous: open({ from: str, to: str }),
    thresholds: open({}),
    insights: { type: 'array', items: insightSchema },
  },
};
const alertSchema = open({ rule_id: str, rule_name: str, fingerprint: str, state: str, labels: open({}), annotations: open({}), value: numOrNull, starts_at: { type: ['string', 'null'] }, acked: { type: 'boolean' }, silenced: { type: 'boolean' } });
const alertsAnswer = {
  type: 'object',
  properties: {
    available: { type: 'boolean', description: 'false when the alerts plugin is off for the organization (or not installed)' },
    message: str,
    rules: { type: ['object', 'null'], properties: { total: { type: 'integer' }, paused: { type: 'integer' } } },
    alerts: { type: 'array', items: alertSchema },
  },
};
const burnGroupSchema = open({ key: str, name: str, spent_usd: num, burn_rate_usd_per_day: num, projected_usd: num });

/** What is firing, or an empty answer that says why. */
async function firing(ctx: TenantContext, limit = 100) {
  try {
    const s = await ctx.services.get(alertsStatusRef);
    const [alerts, rules] = await Promise.all([s.firing({ limit }), s.rules()]);
    const message = alerts.length ? `${alerts.length} alert${alerts.length === 1 ? '' : 's'} firing` : rules.total ? 'Nothing is firing.' : 'Nothing is firing: no alert rules yet.';
    return { available: true, message, rules, alerts };
  } catch (e) {
    if (e instanceof HttpError && e.statusCode === 424)
      return { available: false, message: 'Alerts are not enabled for this organization, so nothing can fire. An Admin can turn the Alerts plugin on.', rules: null, alerts: [] };
    throw e;
  }
}

async function burnByGroup(ctx: TenantContext, at: Date, by: 'org' | 'department' | 'agent' | 'model') {
  const p = monthOf(at);
  const names = by === 'department' ? await ctx.directory.departmentNames() : new Map<string, string>();
  const rows = by === 'org' ? [{ group: {}, cost: await costOf(ctx, p.start, p.at) }] : await costBy(ctx, p.start, p.at, by);
  const groups = rows
    .map((r) => {
      const key = by === 'org' ? 'org' : ((r.group as Record<string, string>)[groupField(by)] ?? '');
      const b = burnOf(r.cost, p);
      return { key, name: names.get(key) ?? key, spent_usd: b.spent_usd, burn_rate_usd_per_day: b.burn_rate_usd_per_day, projected_usd: b.projected_usd };
    })
    .sort((a, b) => b.spent_usd - a.spent_usd || a.key.localeCompare(b.key));
  return { by, period_start: p.start.toISOString(), period_end: p.end.toISOString(), as_of: p.at.toISOString(), groups };
}

const FORECAST_METRICS = {
  cost_usd: { event_type: 'agent_invocation', measure: 'sum', field: 'cost_usd' },
  invocations: { event_type: 'agent_invocation', measure: 'count' },
  active_users: { event_type: 'agent_invocation', measure: 'users' },
} as const;

export function registerExecutiveRoutes(env: PluginEnv) {
  registerKpiRoutes(env, rangeQuery, parseRange);

  env.route<{ at?: string; by?: 'org' | 'department' | 'agent' | 'model' }>({
    method: 'GET',
    path: '/burn',
    permission: READ,
    summary: 'Month-to-date spend, daily burn rate and projected month-end spend, for the org or per department, agent or model',
    description: 'The month is the calendar month (UTC) holding `at`. Burn rate = spent ÷ days elapsed; projected = spent + burn rate × days left.',
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { ...atQuery, by: { type: 'string', enum: ['org', 'department', 'agent', 'model'], default: 'org' } } },
      response: { 200: { type: 'object', properties: { by: str, period_start: str, period_end: str, as_of: str, groups: { type: 'array', items: burnGroupSchema } } } },
    },
    async handler(req, ctx) {
      return burnByGroup(ctx, atOf(req.query.at), req.query.by ?? 'org');
    },
  });

  env.route<{ at?: string }>({
    method: 'GET',
    path: '/insights',
    permission: READ,
    summary: 'Insights in plain words, each with its evidence and a link to its chart (the 7 days before `at` against the 7 before those)',
    schema: { querystring: { type: 'object', additionalProperties: false, properties: atQuery }, response: { 200: insightsAnswer } },
    async handler(req, ctx) {
      return computeInsights(ctx, atOf(req.query.at));
    },
  });

  env.route({
    method: 'GET',
    path: '/alerts',
    permission: READ,
    summary: 'Alerts firing now; with the alerts plugin off, an empty list that says so',
    schema: { response: { 200: alertsAnswer } },
    async handler(_req, ctx) {
      return firing(ctx);
    },
  });

  env.route<{ metric?: keyof typeof FORECAST_METRICS; days?: number; horizon?: number; interval?: number; at?: string; department_id?: string }>({
    method: 'GET',
    path: '/forecast',
    permission: READ,
    summary: 'Daily usage or cost forecast (trends service), with the month-end figure it implies',
    description:
      'History: the `days` full UTC days before the day holding `at`; the forecast continues it `horizon` days. `month_end` adds the forecast for the rest of the month to the spend so far (cost_usd only). Answers 424 when the trends plugin is off.',
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          metric: { type: 'string', enum: Object.keys(FORECAST_METRICS), default: 'cost_usd' },
          days: { type: 'integer', minimum: 7, maximum: 730, default: 56 },
          horizon: { type: 'integer', minimum: 1, maximum: 365, default: 30 },
          interval: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.95 },
          department_id: { type: 'string', minLength: 1, maxLength: 128 },
          ...atQuery,
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            metric: str,
            history: { type: 'array', items: open({ bucket: str, value: numOrNull }) },
            forecast: { type: 'array', items: open({ bucket: str, value: num, lower: num, upper: num }) },
            model: str,
            seasonality: open({ period: { type: ['integer', 'null'] }, strength: num }),
            backtest: open({ mape: numOrNull, baseline: str, baseline_mape: numOrNull }),
            month_end: { type: ['object', 'null'], properties: { period_start: str, period_end: str, spent_usd: num, forecast_rest_usd: num, projected_usd: num, lower_usd: num, upper_usd: num } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const metric = req.query.metric ?? 'cost_usd';
      const at = atOf(req.query.at);
      const dayStart = Math.floor(at.getTime() / DAY_MS) * DAY_MS;
      const from = new Date(dayStart - (req.query.days ?? 56) * DAY_MS);
      const to = new Date(dayStart);
      let trends;
      try {
        trends = await ctx.services.get(trendsRef);
      } catch (e) {
        if (e instanceof HttpError && e.statusCode === 424)
          throw new HttpError(424, 'trends_unavailable', 'the trends plugin is not enabled for this organization: forecasts need it', { field: 'metric', service: 'trends' });
        throw e;
      }
      const metrics = await ctx.services.get(metricsQueryRef);
      const answer = await metrics.run({ ...FORECAST_METRICS[metric], granularity: 'day', tz: 'UTC', from: from.toISOString(), to: to.toISOString(), ...(req.query.department_id ? { department_id: req.query.department_id } : {}) });
      const history = (answer.series[0]?.points ?? []).map((p) => ({ bucket: p.bucket, value: p.value ?? 0 }));
      if (history.length < 2) throw badRequest('days: at least 2 days of history are needed', { field: 'days' });
      const f = trends.forecast(history, { horizon: req.query.horizon ?? 30, interval: req.query.interval ?? 0.95, stepMs: DAY_MS });
      let month_end = null;
      if (metric === 'cost_usd') {
        const p = monthOf(to);
        const spent = await costOf(ctx, p.start, to, req.query.department_id ? { department_id: req.query.department_id } : {});
        const rest = f.forecast.filter((x) => Date.parse(x.bucket) >= to.getTime() && Date.parse(x.bucket) < p.end.getTime());
        const sum = (k: 'value' | 'lower' | 'upper') => rest.reduce((s, x) => s + x[k], 0);
        month_end = { period_start: p.start.toISOString(), period_end: p.end.toISOString(), spent_usd: spent, forecast_rest_usd: sum('value'), projected_usd: spent + sum('value'), lower_usd: spent + sum('lower'), upper_usd: spent + sum('upper') };
      }
      return { metric, history: f.history, forecast: f.forecast, model: f.model, seasonality: f.seasonality, backtest: f.backtest, month_end };
    },
  });

  env.route<{ from?: string; to?: string; at?: string }>({
    method: 'GET',
    path: '/overview',
    permission: READ,
    summary: 'One answer for the executive view: KPIs, month-to-date spend and projection, budgets by status, the top insights and what is firing',
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { ...rangeQuery, ...atQuery } },
      response: {
        200: {
          type: 'object',
          properties: {
            from: str,
            to: str,
            kpis: { type: 'array', items: kpiSchema },
            spend: open({ period_start: str, period_end: str, as_of: str, spent_usd: num, burn_rate_usd_per_day: num, projected_usd: num }),
            budgets: open({ total: { type: 'integer' }, on_track: { type: 'integer' }, at_risk: { type: 'integer' }, over: { type: 'integer' } }),
            insights: { type: 'array', items: insightSchema },
            alerts: alertsAnswer,
          },
        },
      },
    },
    async handler(req, ctx) {
      const { from, to } = parseRange(req.query);
      const at = atOf(req.query.at ?? req.query.to);
      const p = monthOf(at);
      const [kpis, spent, list, insights, alerts] = await Promise.all([readKpis(ctx, from, to, { trend: false }), costOf(ctx, p.start, p.at), visibleBudgets(ctx), computeInsights(ctx, at), firing(ctx, 20)]);
      const states = await budgetStates(ctx, list, at);
      const count = (s: string) => states.filter((x) => x.status === s).length;
      const b = burnOf(spent, p);
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        kpis: kpis.kpis,
        spend: { period_start: p.start.toISOString(), period_end: p.end.toISOString(), as_of: at.toISOString(), spent_usd: b.spent_usd, burn_rate_usd_per_day: b.burn_rate_usd_per_day, projected_usd: b.projected_usd },
        budgets: { total: states.length, on_track: count('on_track'), at_risk: count('at_risk'), over: count('over') },
        insights: insights.insights.slice(0, 5),
        alerts,
      };
    },
  });

  // an insight's chart, drawn inside the insights widget (its data hook reaches only this prefix)
  env.route<{ query: string; from: string; to: string; tz?: string }>({
    method: 'GET',
    path: '/chart',
    permission: READ,
    summary: 'The series of an insight’s link: its metrics query (JSON) over its range',
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['query', 'from', 'to'],
        properties: { query: { type: 'string', minLength: 2, maxLength: 4000, description: 'a metrics query without from/to, as JSON' }, ...rangeQuery, tz: { type: 'string', maxLength: 64 } },
      },
      response: { 200: metricsAnswerSchema },
    },
    async handler(req, ctx) {
      let q: MetricsQueryDefinition;
      try {
        q = JSON.parse(req.query.query) as MetricsQueryDefinition;
      } catch {
        throw badRequest('query: not JSON', { field: 'query' });
      }
      if (!q || typeof q !== 'object' || Array.isArray(q)) throw badRequest('query: a metrics query object expected', { field: 'query' });
      const metrics = await ctx.services.get(metricsQueryRef);
      metrics.validate(q, 'query.');
      const { from, to } = parseRange(req.query);
      return metrics.run({ ...q, ...(req.query.tz ? { tz: req.query.tz } : {}), from: from.toISOString(), to: to.toISOString() });
    },
  });

  env.route({
    method: 'GET',
    path: '/dashboard',
    permission: READ,
    summary: 'The Executive dashboard layout (KPI cards, insights, budget burn-down, firing alerts), ready for PUT /api/v1/dashboards/defaults/role/Admin',
    schema: {
      response: {
        200: {
          type: 'object',
          properties: {
            name: str,
            doc: { type: 'object', properties: { version: { type: 'integer' }, items: { type: 'array', items: open({ i: str, ref: str, x: num, y: num, w: num, h: num, options: open({}), pluginVersion: str, optionsVersion: num }) } } },
          },
        },
      },
    },
    async handler() {
      return executiveDashboard;
    },
  });
}
