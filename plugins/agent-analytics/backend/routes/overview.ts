/**
 * Dashboard routes over the rollups: the agent list, the leaderboard, breakdowns
 * by a dimension, one agent's detail, its variant comparison and its time series.
 */
import { badRequest, checkBuckets, notFound, type Granularity, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { agentExists, metrics, metricsBatch, previousPeriod, type Measures, type Metrics, type MetricsQuery, type MetricsRow } from '../query.ts';
import type { Dimension } from '../rollups.ts';
import {
  agentParams,
  arrayOf,
  measuresParam,
  metricsProperties,
  objectOf,
  parseCommon,
  querySchema,
  QUANTILE_NOTE,
  rangeSchema,
  rangeView,
  type CommonQuery,
} from '../params.ts';

export const PERMISSION = 'agents.read';
/**
 * These routes read only the org's events and the rollups built from them, so the platform
 * may answer a repeated request from memory until the org's events change (or a minute passes).
 */
export const REMEMBER = { maxAgeSeconds: 60 };

/** Throws the API's 404 unless the caller's org has seen this agent. */
export async function requireAgent(ctx: TenantContext, name: string) {
  if (!(await agentExists(ctx, name))) throw notFound(`no agent named "${name}" in this organization`, { agent: name });
}

/**
 * One agent's questions in one round trip. Whether the agent exists is only
 * asked when every answer is empty: an agent with rows in the range exists,
 * so the common case costs no second query, and an empty answer still tells
 * an unknown agent (404) from a quiet one (empty arrays).
 */
export async function agentMetrics(ctx: TenantContext, name: string, qs: readonly MetricsQuery[]): Promise<MetricsRow[][]> {
  const answers = await metricsBatch(ctx, qs);
  if (answers.every((a) => a.length === 0)) await requireAgent(ctx, name);
  return answers;
}

const metricsWith = (extra: Record<string, unknown>) => ({ ...extra, ...metricsProperties });
const withPrevious = (extra: Record<string, unknown>) => ({ ...metricsWith(extra), previous: { type: ['object', 'null'], properties: metricsProperties } });

/** Attaches the previous period's figures to each current row, matched on `key`. */
function attachPrevious<T extends MetricsRow>(rows: T[], prev: MetricsRow[], key: (r: MetricsRow) => string) {
  const byKey = new Map(prev.map((p) => [key(p), p]));
  return rows.map((r) => ({ ...r, previous: strip(byKey.get(key(r))) }));
}
const strip = (r: MetricsRow | undefined): Metrics | null => {
  if (!r) return null;
  const { bucket: _b, ...m } = r;
  return m;
};

const BREAKDOWN: Record<string, Dimension> = {
  agent: 'agent_name',
  model: 'model_used',
  version: 'agent_version',
  prompt_version: 'prompt_template_version',
  department: 'department_id',
  error_type: 'error_type',
};

const LEADERBOARD = {
  invocations: { value: (m: Metrics) => m.invocations, order: 'desc' },
  failures: { value: (m: Metrics) => m.failures, order: 'desc' },
  success_rate: { value: (m: Metrics) => m.success_rate, order: 'desc' },
  p95_latency: { value: (m: Metrics) => m.p95_ms, order: 'asc' },
  cost_efficiency: { value: (m: Metrics) => m.cost_per_success_usd, order: 'asc' },
} as const;
type LeaderboardMetric = keyof typeof LEADERBOARD;
/** the leaderboard's tie-break, so equal values (two agents with 3 failures) rank the same way every time */
const byName = (a: { agent_name?: string | null }, b: { agent_name?: string | null }) => ((a.agent_name ?? '') < (b.agent_name ?? '') ? -1 : (a.agent_name ?? '') > (b.agent_name ?? '') ? 1 : 0);

export function registerOverviewRoutes(env: PluginEnv) {
  env.route<CommonQuery>({
    method: 'GET',
    path: '/',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: 'Agents with invocations in the range: success rate, latency quantiles, tokens, cost, active users',
    description: QUANTILE_NOTE,
    schema: {
      querystring: querySchema(),
      response: {
        200: objectOf({
          range: rangeSchema,
          compare: { type: ['object', 'null'], properties: rangeSchema.properties },
          agents: arrayOf(withPrevious({ name: { type: 'string' } })),
        }),
      },
    },
    async handler(req, ctx) {
      const { range, filters, compare } = parseCommon(req.query);
      const q = { filters, groupBy: ['agent_name'] as const };
      const prevRange = compare ? previousPeriod(range) : null;
      const [rows = [], prev = []] = await metricsBatch(ctx, [{ ...q, range }, ...(prevRange ? [{ ...q, range: prevRange }] : [])]);
      const agents = attachPrevious(rows, prev, (r) => r.agent_name!)
        .sort((a, b) => b.invocations - a.invocations)
        .map(({ agent_name, ...m }) => ({ name: agent_name, ...m }));
      return { range: rangeView(range), compare: prevRange ? rangeView(prevRange) : null, agents };
    },
  });

  env.route<CommonQuery & { metric: LeaderboardMetric; limit?: number; min_invocations?: number; measures?: Measures }>({
    method: 'GET',
    path: '/leaderboard',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: 'Agents ranked by a metric',
    description:
      '`invocations`, `failures` (failed invocations) and `success_rate` rank high first; `p95_latency` and `cost_efficiency` (cost per successful invocation) rank low first; ties go by agent name. ' +
      'Agents with fewer than `min_invocations` in the range are left out (a 100% success rate over two calls says little); ' +
      'agents without a value for the metric (no successes for cost_efficiency) rank last. ' +
      '`measures=counts` leaves out percentiles and active users (null) unless the metric is `p95_latency`. ' +
      QUANTILE_NOTE,
    schema: {
      querystring: querySchema(
        {
          metric: { type: 'string', enum: Object.keys(LEADERBOARD), default: 'invocations' },
          limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          min_invocations: { type: 'integer', minimum: 1, default: 1 },
          ...measuresParam,
        },
        ['metric'],
      ),
      response: {
        200: objectOf({
          range: rangeSchema,
          metric: { type: 'string' },
          agents: arrayOf(withPrevious({ rank: { type: 'integer' }, name: { type: 'string' }, value: { type: ['number', 'null'] } })),
        }),
      },
    },
    async handler(req, ctx) {
      const { range, filters, compare } = parseCommon(req.query);
      const spec = LEADERBOARD[req.query.metric];
      // ranking by p95 needs the percentiles whatever was asked
      const measures = req.query.metric === 'p95_latency' ? 'all' : req.query.measures;
      const q = { filters, groupBy: ['agent_name'] as const, measures };
      const [all = [], prev = []] = await metricsBatch(ctx, [{ ...q, range }, ...(compare ? [{ ...q, range: previousPeriod(range) }] : [])]);
      const rows = all.filter((r) => r.invocations >= (req.query.min_invocations ?? 1));
      const ranked = rows
        .map((r) => ({ r, v: spec.value(r) }))
        .sort((a, b) => {
          if (a.v === null || b.v === null) return a.v === null ? (b.v === null ? byName(a.r, b.r) : 1) : -1;
          return (spec.order === 'desc' ? b.v - a.v : a.v - b.v) || byName(a.r, b.r);
        })
        .slice(0, req.query.limit ?? 50);
      const withPrev = attachPrevious(ranked.map((x) => x.r), prev, (r) => r.agent_name!);
      return {
        range: rangeView(range),
        metric: req.query.metric,
        agents: withPrev.map(({ agent_name, ...m }, i) => ({ rank: i + 1, name: agent_name, value: ranked[i]!.v, ...m })),
      };
    },
  });

  env.route<CommonQuery & { by: keyof typeof BREAKDOWN; agent?: string; measures?: Measures }>({
    method: 'GET',
    path: '/breakdown',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: 'Invocation metrics of all agents (or one) split by model, version, prompt version, department or error type',
    description: `Answers cost and token splits by agent, model and department. \`measures=counts\` leaves out percentiles and active users (null). ${QUANTILE_NOTE}`,
    schema: {
      querystring: querySchema(
        { by: { type: 'string', enum: Object.keys(BREAKDOWN) }, agent: { type: 'string', minLength: 1, maxLength: 200 }, ...measuresParam },
        ['by'],
      ),
      response: {
        200: objectOf({
          range: rangeSchema,
          by: { type: 'string' },
          compare: { type: ['object', 'null'], properties: rangeSchema.properties },
          groups: arrayOf(withPrevious({ value: { type: 'string' } })),
        }),
      },
    },
    async handler(req, ctx) {
      const { range, filters, compare } = parseCommon(req.query);
      const dim = BREAKDOWN[req.query.by]!;
      const q = { filters, agent: req.query.agent, groupBy: [dim], measures: req.query.measures };
      const prevRange = compare ? previousPeriod(range) : null;
      const qs = [{ ...q, range }, ...(prevRange ? [{ ...q, range: prevRange }] : [])];
      const [current = [], prev = []] = req.query.agent ? await agentMetrics(ctx, req.query.agent, qs) : await metricsBatch(ctx, qs);
      const rows = current.sort((a, b) => b.invocations - a.invocations);
      return {
        range: rangeView(range),
        by: req.query.by,
        compare: prevRange ? rangeView(prevRange) : null,
        groups: attachPrevious(rows, prev, (r) => r[dim]!).map(({ [dim]: value, ...m }) => ({ value, ...m })),
      };
    },
  });

  env.route<CommonQuery & { granularity: Granularity; top?: number; measures?: Measures }>({
    method: 'GET',
    path: '/series',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: 'Per-bucket metrics of the busiest agents (the usage chart by agent)',
    description: `The \`top\` agents by invocations in the range, each with its series (same fields and limits as \`/agents/{name}/analytics\`). \`measures=counts\` leaves out the latency percentiles and active users (null), which are most of the query's work, for charts that show counts. ${QUANTILE_NOTE}`,
    schema: {
      querystring: querySchema({
        granularity: { type: 'string', enum: ['minute', 'hour', 'day', 'week'], default: 'hour' },
        top: { type: 'integer', minimum: 1, maximum: 50, default: 8 },
        ...measuresParam,
      }),
      response: {
        200: objectOf({
          granularity: { type: 'string' },
          range: rangeSchema,
          agents: arrayOf({ name: { type: 'string' }, series: arrayOf(metricsWith({ bucket: { type: 'string' } })) }),
        }),
      },
    },
    async handler(req, ctx) {
      const granularity = req.query.granularity ?? 'hour';
      const { range, filters } = parseCommon(req.query);
      checkBuckets(range, granularity);
      const rows = await metrics(ctx, { range, filters, granularity, groupBy: ['agent_name'], measures: req.query.measures });
      const byAgent = new Map<string, MetricsRow[]>();
      for (const r of rows) {
        const name = r.agent_name!;
        delete r.agent_name; // the agent names its series
        let list = byAgent.get(name);
        if (!list) byAgent.set(name, (list = []));
        list.push(r);
      }
      const total = (xs: MetricsRow[]) => xs.reduce((a, x) => a + x.invocations, 0);
      const agents = [...byAgent]
        .sort((a, b) => total(b[1]) - total(a[1]))
        .slice(0, req.query.top ?? 8)
        .map(([name, series]) => ({ name, series }));
      return { granularity, range: rangeView(range), agents };
    },
  });

  env.route<CommonQuery, { name: string }>({
    method: 'GET',
    path: '/:name',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: 'One agent: totals for the range, and the versions, models, prompt template versions and departments it ran with',
    description: QUANTILE_NOTE,
    schema: {
      querystring: querySchema(),
      params: agentParams,
      response: {
        200: objectOf({
          name: { type: 'string' },
          range: rangeSchema,
          totals: { type: ['object', 'null'], properties: withPrevious({}) },
          versions: arrayOf(metricsWith({ value: { type: 'string' } })),
          models: arrayOf(metricsWith({ value: { type: 'string' } })),
          prompt_versions: arrayOf(metricsWith({ value: { type: 'string' } })),
          departments: arrayOf(metricsWith({ value: { type: 'string' } })),
        }),
      },
    },
    async handler(req, ctx) {
      const name = req.params.name;
      const { range, filters, compare } = parseCommon(req.query);
      const base = { range, filters, agent: name };
      const dims: Dimension[] = ['agent_version', 'model_used', 'prompt_template_version', 'department_id'];
      const [totals = [], ...rest] = await agentMetrics(ctx, name, [
        base,
        ...dims.map((dim) => ({ ...base, groupBy: [dim] })),
        ...(compare ? [{ ...base, range: previousPeriod(range) }] : []),
      ]);
      const [versions, models, promptVersions, departments] = dims.map((dim, i) =>
        rest[i]!.map(({ [dim]: value, ...m }) => ({ value, ...m })).sort((a, b) => b.invocations - a.invocations),
      );
      const prev = rest[dims.length] ?? [];
      return {
        name,
        range: rangeView(range),
        totals: totals[0] ? { ...totals[0], previous: strip(prev[0]) } : null,
        versions,
        models,
        prompt_versions: promptVersions,
        departments,
      };
    },
  });

  env.route<CommonQuery & { by: 'model' | 'version' | 'prompt_version' }, { name: string }>({
    method: 'GET',
    path: '/:name/compare',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: 'Variants of one agent side by side: models, agent versions or prompt template versions',
    description:
      'Each variant against the most used one (`baseline`): differences in success rate (points), p95 latency and cost per successful invocation. ' +
      QUANTILE_NOTE,
    schema: {
      querystring: querySchema({ by: { type: 'string', enum: ['model', 'version', 'prompt_version'], default: 'model' } }),
      params: agentParams,
      response: {
        200: objectOf({
          name: { type: 'string' },
          by: { type: 'string' },
          range: rangeSchema,
          baseline: { type: ['string', 'null'] },
          variants: arrayOf(
            metricsWith({
              value: { type: 'string' },
              vs_baseline: {
                type: ['object', 'null'],
                properties: {
                  success_rate_points: { type: ['number', 'null'] },
                  p95_ms_change: { type: ['number', 'null'] },
                  cost_per_success_change: { type: ['number', 'null'] },
                },
              },
            }),
          ),
        }),
      },
    },
    async handler(req, ctx) {
      const name = req.params.name;
      const { range, filters } = parseCommon(req.query);
      const by = req.query.by ?? 'model';
      const dim = BREAKDOWN[by]!;
      const [found = []] = await agentMetrics(ctx, name, [{ range, filters, agent: name, groupBy: [dim] }]);
      const rows = found.sort((a, b) => b.invocations - a.invocations);
      const base = rows[0];
      return {
        name,
        by,
        range: rangeView(range),
        baseline: base ? base[dim] : null,
        variants: rows.map(({ [dim]: value, ...m }) => ({ value, ...m, vs_baseline: base ? versus(m, base) : null })),
      };
    },
  });

  env.route<CommonQuery & { granularity: Granularity }, { name: string }>({
    method: 'GET',
    path: '/:name/analytics',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: "An agent's metrics per time bucket",
    description:
      `Buckets hold at least one invocation (no zero rows). A minute series may cover at most 5000 buckets (3.4 days); a longer one is a 400 naming the limit. ${QUANTILE_NOTE}`,
    schema: {
      querystring: querySchema({ granularity: { type: 'string', enum: ['minute', 'hour', 'day', 'week'], default: 'hour' } }),
      params: agentParams,
      response: {
        200: objectOf({
          name: { type: 'string' },
          granularity: { type: 'string' },
          range: rangeSchema,
          series: arrayOf(metricsWith({ bucket: { type: 'string' } })),
          previous: {
            type: ['object', 'null'],
            properties: { range: rangeSchema, series: arrayOf(metricsWith({ bucket: { type: 'string' } })) },
          },
        }),
      },
    },
    async handler(req, ctx) {
      const name = req.params.name;
      const granularity = req.query.granularity ?? 'hour';
      if (!['minute', 'hour', 'day', 'week'].includes(granularity)) throw badRequest(`granularity: "${granularity}" is not one of minute, hour, day, week`);
      const { range, filters, compare } = parseCommon(req.query);
      checkBuckets(range, granularity);
      const prevRange = compare ? previousPeriod(range) : null;
      const q = { filters, agent: name, granularity };
      const [series = [], prevSeries = []] = await agentMetrics(ctx, name, [{ ...q, range }, ...(prevRange ? [{ ...q, range: prevRange }] : [])]);
      const previous = prevRange ? { range: rangeView(prevRange), series: prevSeries } : null;
      return { name, granularity, range: rangeView(range), series, previous };
    },
  });
}

function versus(m: Metrics, base: Metrics) {
  const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
  const rel = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : Math.round(((a - b) / b) * 1000) / 1000);
  const points = diff(m.success_rate, base.success_rate);
  return {
    success_rate_points: points === null ? null : Math.round(points * 1000) / 10,
    p95_ms_change: rel(m.p95_ms, base.p95_ms),
    cost_per_success_change: rel(m.cost_per_success_usd, base.cost_per_success_usd),
  };
}
