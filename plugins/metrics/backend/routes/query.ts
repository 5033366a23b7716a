/** `POST /api/v1/metrics/query`: API.md's metrics query, or a metric source's metric. */
import { badRequest, metricsAnswerSchema, metricsQueryDefinitionSchema, type MetricSourceQueryInput, type MetricsQueryInput, type PluginEnv } from '@orrery/plugin-sdk';
import { MAX_GROUPS, MAX_POINTS } from '../metricsQuery.ts';
import { MAX_SOURCE_BUCKETS, metricsService } from '../service.ts';
import { READ } from '../permissions.ts';

const EVENT_ONLY = ['event_type', 'measure', 'field', 'rate_where', 'where', 'group_by'] as const;

/** Properties of a stored query (no range): an event query or `{source, metric}`. */
export const storedQueryProperties = {
  ...metricsQueryDefinitionSchema.properties,
  source: { type: 'string', minLength: 1, maxLength: 64, description: 'a plugin that provides metric sources (e.g. agent-analytics); with `metric`, instead of an event query' },
  metric: { type: 'string', minLength: 1, maxLength: 64, description: "one of the source's metrics (e.g. success_rate)" },
} as const;

export const queryDescription =
  'The metrics query of API.md ("Metrics"): `{series: [{group, total, points: [{bucket, value}]}]}`, one series per group, ' +
  '`total` over the whole range, and with `granularity` one point per bucket of the range in `tz` (weeks start on Monday). ' +
  'count/users/sum/avg/min/max are exact; `users` counts distinct user_id exactly (`uniqExact`). ' +
  'p50…p99 are exact quantiles: ClickHouse `quantileExactInclusive`, linear interpolation between the two nearest values ' +
  '(the R-7/Excel PERCENTILE.INC definition), so the only error is floating-point rounding (relative 1e-12 or better), no sampling or sketch error. ' +
  '`rate` is the share of matching events that also match `rate_where`. Empty buckets are 0 for count/users/sum and null otherwise. ' +
  `Limits: ${MAX_GROUPS} groups, ${MAX_POINTS} points (groups × buckets) and the SDK's bucket limit per series, each a 400 naming the field; ` +
  'a query that runs past the time-out (config `queryTimeoutSeconds`, default 15 s) answers 504 `query_timeout`. ' +
  `With \`{source, metric}\` instead of an event query it reads a metric a plugin offers (one series without groups; with a granularity, the metric per bucket, at most ${MAX_SOURCE_BUCKETS}). ` +
  'Where the plugin\'s own rollup holds the question exactly (count, users, sum/avg/min/max of a rolled-up field, rate; groups and filters on ' +
  'event_type, action, status, agent_name, model_used, department_id; bucket widths that nest in the asked ones in its zone), whole hours and days ' +
  'are read from it and the edges and not-yet-folded events from raw events; otherwise raw events only. `?rollups=false` forces raw events. ' +
  'No rollup of another plugin is read.';

/** The body of POST /query (and of each query of POST /query/batch). */
export const queryBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: {
    ...storedQueryProperties,
    from: { type: 'string', format: 'date-time', description: 'ISO instant, inclusive' },
    to: { type: 'string', format: 'date-time', description: 'ISO instant, exclusive' },
  },
} as const;

/** Splits a body into an event query or a source query, refusing mixtures with a 400 naming the field. */
export function asQuery(body: Record<string, unknown>, prefix = ''): MetricsQueryInput | MetricSourceQueryInput {
  if (body.source !== undefined || body.metric !== undefined) {
    if (body.source === undefined) throw badRequest(`${prefix}source is required with metric`, { field: `${prefix}source` });
    if (body.metric === undefined) throw badRequest(`${prefix}metric is required with source`, { field: `${prefix}metric` });
    for (const k of EVENT_ONLY) if (body[k] !== undefined) throw badRequest(`${prefix}${k}: not allowed with source/metric`, { field: `${prefix}${k}` });
    return body as unknown as MetricSourceQueryInput;
  }
  if (body.event_type === undefined) throw badRequest(`${prefix}event_type is required (or source and metric)`, { field: `${prefix}event_type` });
  if (body.measure === undefined) throw badRequest(`${prefix}measure is required`, { field: `${prefix}measure` });
  return body as unknown as MetricsQueryInput;
}

export function registerQueryRoute(env: PluginEnv) {
  env.route<{ rollups?: boolean }, unknown, Record<string, unknown>>({
    method: 'POST',
    path: '/query',
    permission: READ,
    summary: 'A metrics query over [from, to): any event type, measure, filters, up to three groups, buckets in a time zone',
    description: queryDescription,
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { rollups: { type: 'boolean', default: true, description: '`false` reads raw events only (to compare with the planned answer); the answer is the same' } },
      },
      body: queryBodySchema,
      response: { 200: metricsAnswerSchema },
    },
    // a read: the same event question by the same caller is answered from memory until the
    // org's events change (every Metric widget of a dashboard asks again on each visit); a
    // metric source's answer follows its own plugin's rows, so it is always computed
    cache: { maxAgeSeconds: 300, when: (req) => !(req.body && typeof req.body === 'object' && 'source' in req.body) },
    async handler(req, ctx) {
      return metricsService(ctx).run(asQuery(req.body), { rollups: req.query.rollups !== false });
    },
  });
}
