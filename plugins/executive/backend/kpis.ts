/**
 * KPIs: a fixed catalogue of numbers over agent invocations, each read through the
 * metrics query over the range asked for and over the period of the same length just
 * before it, with the target an Admin set.
 *
 * - change = (value − previous) ÷ previous; null when previous is 0 or missing.
 * - status: `no_data` without a value; `no_target` without a target; else `met` when the
 *   value is on the good side of the target (≥ for higher-is-better, ≤ for lower-is-better),
 *   `missed` otherwise.
 * - trend: the same KPI per bucket of the range in the reader's time zone (hours for a range of
 *   up to two days, days up to 92, weeks beyond), for the cards' sparklines. Each distinct
 *   metrics query is read once however many KPIs use it (AI spend and cost per invocation share
 *   their sum).
 */
import { badRequest, metricsQueryRef, notFound, type MetricsQueryDefinition, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { ADMIN, READ } from './permissions.ts';
import { TOPIC_KPIS } from '../widgets.ts';

export interface KpiDef {
  key: string;
  title: string;
  unit: 'usd' | 'count' | 'users' | 'ratio' | 'ms';
  better: 'higher' | 'lower';
  description: string;
  /** one or two metrics queries; a ratio KPI divides the first by the second */
  queries: MetricsQueryDefinition[];
}

const inv = 'agent_invocation';
export const KPIS: KpiDef[] = [
  { key: 'cost_usd', title: 'AI spend', unit: 'usd', better: 'lower', description: 'Sum of cost_usd of agent invocations', queries: [{ event_type: inv, measure: 'sum', field: 'cost_usd' }] },
  { key: 'invocations', title: 'Agent invocations', unit: 'count', better: 'higher', description: 'Number of agent invocations', queries: [{ event_type: inv, measure: 'count' }] },
  { key: 'active_users', title: 'People using agents', unit: 'users', better: 'higher', description: 'Distinct users with at least one agent invocation', queries: [{ event_type: inv, measure: 'users' }] },
  { key: 'success_rate', title: 'Success rate', unit: 'ratio', better: 'higher', description: 'Share of invocations with status success', queries: [{ event_type: inv, measure: 'rate', rate_where: { status: 'success' } }] },
  { key: 'cost_per_invocation', title: 'Cost per invocation', unit: 'usd', better: 'lower', description: 'AI spend ÷ invocations', queries: [{ event_type: inv, measure: 'sum', field: 'cost_usd' }, { event_type: inv, measure: 'count' }] },
  { key: 'p95_latency_ms', title: 'p95 latency', unit: 'ms', better: 'lower', description: '95th percentile of execution_time_ms', queries: [{ event_type: inv, measure: 'p95', field: 'execution_time_ms' }] },
];
const byKey = new Map(KPIS.map((k) => [k.key, k]));

export type KpiStatus = 'met' | 'missed' | 'no_target' | 'no_data';

export type TrendGranularity = 'hour' | 'day' | 'week';

/** The buckets of a KPI's trend over [from, to): a handful to a few dozen points. */
export function trendGranularity(from: Date, to: Date): TrendGranularity {
  const days = (to.getTime() - from.getTime()) / 86_400_000;
  return days <= 2 ? 'hour' : days <= 92 ? 'day' : 'week';
}

export interface KpiAnswer {
  key: string;
  title: string;
  unit: string;
  better: 'higher' | 'lower';
  description: string;
  value: number | null;
  previous: number | null;
  change: number | null;
  target: number | null;
  status: KpiStatus;
  /** the KPI per bucket of the range (`bucket`: ISO instant of its start) */
  trend: Array<{ bucket: string; value: number | null }>;
}

export function kpiStatus(value: number | null, target: number | null, better: 'higher' | 'lower'): KpiStatus {
  if (value === null) return 'no_data';
  if (target === null) return 'no_target';
  return (better === 'higher' ? value >= target : value <= target) ? 'met' : 'missed';
}

const valueOf = (k: KpiDef, totals: Array<number | null>) => {
  if (k.queries.length === 1) return totals[0] ?? null;
  const [a, b] = totals;
  return a === null || a === undefined || !b ? null : a / b;
};

/**
 * The KPIs over [from, to) and the period of the same length before it, with each one's trend in
 * `tz` (`trend: false`: empty trends, for the overview, which shows totals only).
 */
export async function readKpis(ctx: TenantContext, from: Date, to: Date, opts: { departmentId?: string; tz?: string; trend?: boolean } = {}): Promise<{ previous: { from: string; to: string }; trend_granularity: TrendGranularity; kpis: KpiAnswer[] }> {
  const metrics = await ctx.services.get(metricsQueryRef);
  const { departmentId, tz = 'UTC', trend: withTrend = true } = opts;
  const defs = KPIS.flatMap((k) => k.queries.map((q) => ({ ...q, ...(departmentId ? { department_id: departmentId } : {}) })));
  const prevFrom = new Date(from.getTime() - (to.getTime() - from.getTime()));
  // two statements side by side, not one `runWindows`: with one event type and no grouping the
  // merged statement evaluates twice the aggregates over both periods' rows and measured no
  // cheaper (CPU 1.03× at 160k events, 1.10× at 1M; scripts/bench/executive-windows.ts, README)
  const granularity = trendGranularity(from, to);
  const distinct = [...new Map(defs.map((d) => [JSON.stringify(d), d])).values()];
  // with trends, the range's totals come from the trend reads (each series carries its total over
  // the whole range): one read of the range per distinct query, not a batch and the trends both
  const [curBatch, prev, trends] = await Promise.all([
    withTrend ? null : metrics.runBatch(defs, { from, to }),
    metrics.runBatch(defs, { from: prevFrom, to: from }),
    withTrend ? Promise.all(distinct.map((d) => metrics.run({ ...d, from: from.toISOString(), to: to.toISOString(), granularity, tz }))) : [],
  ]);
  const byQuery = new Map(distinct.map((d, j) => [JSON.stringify(d), trends[j]?.series ?? []]));
  const cur = curBatch ?? defs.map((d) => byQuery.get(JSON.stringify(d))!);
  const trendOf = new Map([...byQuery].map(([key, series]) => [key, series[0]?.points ?? []]));
  const total = (answer: typeof prev, i: number) => {
    const series = answer[i] ?? [];
    if (!series.length) return defs[i]!.measure === 'count' || defs[i]!.measure === 'sum' || defs[i]!.measure === 'users' ? 0 : null;
    return series[0]!.total;
  };
  const targets = new Map<string, number>((await ctx.db.table('executive_kpi_targets').select('key', 'target')).map((r: any) => [r.key, Number(r.target)]));
  let i = 0;
  const kpis = KPIS.map((k) => {
    const idx = k.queries.map(() => i++);
    const value = valueOf(k, idx.map((j) => total(cur, j)));
    const previous = valueOf(k, idx.map((j) => total(prev, j)));
    const target = targets.get(k.key) ?? null;
    // the KPI's queries share their buckets (one range, one granularity); a ratio divides bucket by bucket
    const series = idx.map((j) => trendOf.get(JSON.stringify(defs[j]))!);
    const trend = series[0]!.map((p, b) => ({ bucket: p.bucket, value: valueOf(k, series.map((s) => s[b]?.value ?? null)) }));
    return {
      key: k.key,
      title: k.title,
      unit: k.unit,
      better: k.better,
      description: k.description,
      value,
      previous,
      change: value !== null && previous ? (value - previous) / previous : null,
      target,
      status: kpiStatus(value, target, k.better),
      trend,
    };
  });
  return { previous: { from: prevFrom.toISOString(), to: from.toISOString() }, trend_granularity: granularity, kpis };
}

const num = { type: ['number', 'null'] };
export const kpiSchema = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    title: { type: 'string' },
    unit: { type: 'string' },
    better: { type: 'string', enum: ['higher', 'lower'] },
    description: { type: 'string' },
    value: num,
    previous: num,
    change: { type: ['number', 'null'], description: '(value − previous) ÷ previous' },
    target: num,
    status: { type: 'string', enum: ['met', 'missed', 'no_target', 'no_data'] },
    trend: {
      type: 'array',
      description: 'the KPI per bucket of the range (trend_granularity), in the time zone asked for',
      items: { type: 'object', properties: { bucket: { type: 'string', description: 'ISO instant of the bucket’s start' }, value: num } },
    },
  },
};

export function registerKpiRoutes(env: PluginEnv, rangeQuery: Record<string, unknown>, parseRange: (q: Record<string, string | undefined>) => { from: Date; to: Date }) {
  env.route<{ from?: string; to?: string; department_id?: string; tz?: string }>({
    method: 'GET',
    path: '/kpis',
    permission: READ,
    summary: 'KPIs over the range with their targets, status and change against the period of the same length before',
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { ...rangeQuery, tz: { type: 'string', maxLength: 64, description: 'IANA zone of the trend’s buckets (default UTC); the totals are over the range whatever the zone' }, department_id: { type: 'string', minLength: 1, maxLength: 128 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            from: { type: 'string' },
            to: { type: 'string' },
            previous: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } } },
            trend_granularity: { type: 'string', enum: ['hour', 'day', 'week'], description: 'hours for a range of up to two days, days up to 92, weeks beyond' },
            kpis: { type: 'array', items: kpiSchema },
          },
        },
      },
    },
    async handler(req, ctx) {
      const { from, to } = parseRange(req.query);
      return { from: from.toISOString(), to: to.toISOString(), ...(await readKpis(ctx, from, to, { departmentId: req.query.department_id, tz: req.query.tz })) };
    },
  });

  env.route<unknown, { key: string }, { target: number | null }>({
    method: 'PUT',
    path: '/kpis/:key',
    permission: ADMIN,
    summary: 'Set (or, with null, clear) the target of a KPI (Admin)',
    schema: {
      params: { type: 'object', required: ['key'], properties: { key: { type: 'string', minLength: 1, maxLength: 64 } } },
      body: { type: 'object', additionalProperties: false, required: ['target'], properties: { target: { type: ['number', 'null'] } } },
      response: { 200: { type: 'object', properties: { key: { type: 'string' }, target: num } } },
    },
    async handler(req, ctx) {
      const k = byKey.get(req.params.key);
      if (!k) throw notFound(`no KPI "${req.params.key}"; KPIs are ${KPIS.map((x) => x.key).join(', ')}`, { field: 'key', allowed: KPIS.map((x) => x.key) });
      const target = req.body.target;
      if (target !== null && (!Number.isFinite(target) || (k.unit === 'ratio' && (target < 0 || target > 1)) || target < 0))
        throw badRequest(`target: ${k.unit === 'ratio' ? 'a ratio between 0 and 1' : 'a number ≥ 0'} expected for ${k.key}`, { field: 'target' });
      const before = await ctx.db.table('executive_kpi_targets').where({ key: k.key }).first();
      if (target === null) await ctx.db.table('executive_kpi_targets').where({ key: k.key }).delete();
      else
        await ctx.db
          .table('executive_kpi_targets')
          .insert({ key: k.key, target, updated_by: ctx.caller?.userId ?? null, updated_at: new Date() })
          .onConflict('key')
          .merge();
      await ctx.audit({ action: 'executive.kpi.target', target: k.key, before: before ? Number(before.target) : null, after: target });
      await ctx.bus.publish(TOPIC_KPIS, { key: k.key, target });
      return { key: k.key, target };
    },
  });
}
