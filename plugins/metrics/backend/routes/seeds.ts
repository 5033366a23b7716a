/**
 * The seed routes over agent invocations: `GET /metrics/executions` (invocations, success,
 * latency percentiles over time) and `GET /metrics/credits` (cost and tokens by model,
 * agent or department over time). Raw events of the org, narrowed to the departments the
 * caller may see; every bucket of the range is present.
 */
import { METRICS_GRANULARITIES, badRequest, bucketExpr, checkBuckets, parseTimeRange, type PluginEnv, type TimeRange } from '@orrery/plugin-sdk';
import { bucketStarts, MAX_POINTS } from '../metricsQuery.ts';
import { READ } from '../permissions.ts';

const rangeQuery = {
  from: { type: 'string', format: 'date-time', description: 'inclusive; default 7 days before `to`' },
  to: { type: 'string', format: 'date-time', description: 'exclusive; default now' },
  granularity: { type: 'string', enum: [...METRICS_GRANULARITIES], default: 'day' },
  tz: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA zone of the buckets; default UTC' },
  agent_name: { type: 'string', minLength: 1, maxLength: 200 },
  department_id: { type: 'string', minLength: 1, maxLength: 128 },
} as const;

type RangeQ = { from?: string; to?: string; granularity: (typeof METRICS_GRANULARITIES)[number]; tz?: string; agent_name?: string; department_id?: string };

/** WHERE clause and params shared by both routes. */
function scope(range: TimeRange, q: RangeQ, visible: string[] | null) {
  const params: Record<string, unknown> = { from: range.fromCh, to: range.toCh, tz: range.tz };
  const where = ['org_id = {org_id:String}', "event_type = 'agent_invocation'", "timestamp >= toDateTime64({from:String}, 3, 'UTC')", "timestamp < toDateTime64({to:String}, 3, 'UTC')"];
  if (q.agent_name) {
    params.agent_name = q.agent_name;
    where.push('agent_name = {agent_name:String}');
  }
  if (q.department_id) {
    params.department_id = q.department_id;
    where.push('department_id = {department_id:String}');
  }
  if (visible) {
    params.visible = visible;
    where.push('department_id IN {visible:Array(String)}');
  }
  return { params, where: where.join(' AND ') };
}

const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const execStats = {
  type: 'object',
  properties: {
    invocations: { type: 'number' },
    successes: { type: 'number' },
    failures: { type: 'number' },
    success_rate: { type: ['number', 'null'] },
    p50_ms: { type: ['number', 'null'] },
    p95_ms: { type: ['number', 'null'] },
    p99_ms: { type: ['number', 'null'] },
  },
} as const;
const costStats = { type: 'object', properties: { cost_usd: { type: 'number' }, input_tokens: { type: 'number' }, output_tokens: { type: 'number' }, invocations: { type: 'number' } } } as const;

const BY = { model: 'model_used', agent: 'agent_name', department: 'department_id' } as const;

export function registerSeedRoutes(env: PluginEnv) {
  env.route<RangeQ>({
    method: 'GET',
    path: '/executions',
    permission: READ,
    summary: 'Agent executions over time: invocations, successes, failures, success rate and latency p50/p95/p99',
    description:
      'Over agent_invocation events in [from, to). Percentiles are exact (`quantileExactInclusive`, linear interpolation); ' +
      'success_rate and the percentiles are null in a bucket without invocations.',
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: rangeQuery },
      response: { 200: { type: 'object', properties: { total: execStats, points: { type: 'array', items: { ...execStats, properties: { ...execStats.properties, bucket: { type: 'string' } } } } } } },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query);
      checkBuckets(range, req.query.granularity);
      const starts = bucketStarts(range.from, range.to, req.query.granularity, range.tz);
      const { params, where } = scope(range, req.query, await ctx.visibleUserDepartments());
      const cols = `count() AS invocations, countIf(status = 'success') AS successes, countIf(status != 'success') AS failures,
        if(count() = 0, NULL, quantileExactInclusive(0.5)(execution_time_ms)) AS p50_ms,
        if(count() = 0, NULL, quantileExactInclusive(0.95)(execution_time_ms)) AS p95_ms,
        if(count() = 0, NULL, quantileExactInclusive(0.99)(execution_time_ms)) AS p99_ms`;
      const events = ctx.analytics.table('events');
      const [totalRow] = await ctx.analytics.query<Record<string, unknown>>(`SELECT ${cols} FROM ${events} WHERE ${where}`, params);
      const rows = await ctx.analytics.query<Record<string, unknown>>(
        `SELECT toUnixTimestamp(${bucketExpr('timestamp', req.query.granularity)}) AS bucket, ${cols} FROM ${events} WHERE ${where} GROUP BY bucket`,
        params,
      );
      const stats = (r: Record<string, unknown> | undefined) => {
        const invocations = Number(r?.invocations ?? 0);
        const successes = Number(r?.successes ?? 0);
        return {
          invocations,
          successes,
          failures: Number(r?.failures ?? 0),
          success_rate: invocations ? successes / invocations : null,
          p50_ms: invocations ? n(r!.p50_ms) : null,
          p95_ms: invocations ? n(r!.p95_ms) : null,
          p99_ms: invocations ? n(r!.p99_ms) : null,
        };
      };
      const byBucket = new Map(rows.map((r) => [new Date(Number(r.bucket) * 1000).toISOString(), r]));
      return { total: stats(totalRow), points: starts.map((bucket) => ({ bucket, ...stats(byBucket.get(bucket)) })) };
    },
  });

  env.route<RangeQ & { by: keyof typeof BY }>({
    method: 'GET',
    path: '/credits',
    permission: READ,
    summary: 'Cost (USD) and tokens of agent invocations over time, by model, agent or department',
    description: 'Over agent_invocation events in [from, to): one series per model/agent/department with its totals and a point per bucket (0 when empty). cost_usd is summed exactly (Decimal).',
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { ...rangeQuery, by: { type: 'string', enum: Object.keys(BY), default: 'model' } } },
      response: {
        200: {
          type: 'object',
          properties: {
            by: { type: 'string' },
            total: costStats,
            series: {
              type: 'array',
              items: {
                type: 'object',
                properties: { key: { type: 'string' }, total: costStats, points: { type: 'array', items: { ...costStats, properties: { ...costStats.properties, bucket: { type: 'string' } } } } },
              },
            },
          },
        },
      },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query);
      checkBuckets(range, req.query.granularity);
      const starts = bucketStarts(range.from, range.to, req.query.granularity, range.tz);
      const { params, where } = scope(range, req.query, await ctx.visibleUserDepartments());
      const col = BY[req.query.by];
      const events = ctx.analytics.table('events');
      const rows = await ctx.analytics.query<Record<string, unknown>>(
        `SELECT toString(${col}) AS k, toUnixTimestamp(${bucketExpr('timestamp', req.query.granularity)}) AS bucket,
           toString(sum(cost_usd)) AS cost_usd, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, count() AS invocations
         FROM ${events} WHERE ${where} GROUP BY k, bucket ORDER BY k, bucket`,
        params,
      );
      const keys = [...new Set(rows.map((r) => String(r.k)))];
      if (keys.length * starts.length > MAX_POINTS) throw badRequest(`granularity: ${keys.length} series × ${starts.length} buckets is more than ${MAX_POINTS} points`, { field: 'granularity' });
      const zero = () => ({ cost_usd: 0, input_tokens: 0, output_tokens: 0, invocations: 0 });
      const add = (a: ReturnType<typeof zero>, r: Record<string, unknown>) => {
        a.cost_usd += Number(r.cost_usd);
        a.input_tokens += Number(r.input_tokens);
        a.output_tokens += Number(r.output_tokens);
        a.invocations += Number(r.invocations);
        return a;
      };
      const total = zero();
      const series = keys.map((key) => {
        const mine = rows.filter((r) => String(r.k) === key);
        const byBucket = new Map(mine.map((r) => [new Date(Number(r.bucket) * 1000).toISOString(), r]));
        const t = zero();
        for (const r of mine) {
          add(t, r);
          add(total, r);
        }
        return { key, total: t, points: starts.map((bucket) => ({ bucket, ...(byBucket.has(bucket) ? add(zero(), byBucket.get(bucket)!) : zero()) })) };
      });
      series.sort((a, b) => b.total.cost_usd - a.total.cost_usd || a.key.localeCompare(b.key));
      return { by: req.query.by, total, series };
    },
  });
}
