/**
 * The metrics query: one way to ask for a number over events (API.md → "Metrics"),
 * provided by the `metrics` plugin and used by alerts, trends, reports and the explorer.
 * A consumer `need`s it and calls `run` with the query as the API takes it; validation
 * errors are 400s naming the field, exactly as the route answers them.
 */
import { createServiceRef } from '../services.ts';

export const METRICS_MEASURES = ['count', 'users', 'sum', 'avg', 'min', 'max', 'p50', 'p75', 'p90', 'p95', 'p99', 'rate'] as const;
export const METRICS_GRANULARITIES = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type MetricsMeasure = (typeof METRICS_MEASURES)[number];
export type MetricsGranularity = (typeof METRICS_GRANULARITIES)[number];
export type MetricsWhere = Record<string, string | number | boolean | Array<string | number | boolean>>;

/** A metrics query without its time range: what alert rules, custom metrics and widgets store. */
export interface MetricsQueryDefinition {
  event_type: string;
  measure: MetricsMeasure;
  /** numeric field of the event type, for sum/avg/min/max/pXX */
  field?: string;
  /** for `rate`: the share of matching events that also match this */
  rate_where?: MetricsWhere;
  /** equal-to filters; a list means any of */
  where?: MetricsWhere;
  /** up to three fields */
  group_by?: string[];
  /** without it each group has one value (`total`) and no points */
  granularity?: MetricsGranularity;
  /** IANA zone of the buckets (default UTC) */
  tz?: string;
  department_id?: string;
}

export interface MetricsQueryInput extends MetricsQueryDefinition {
  /** ISO instants, `to` exclusive */
  from: string;
  to: string;
}

/**
 * A metric a plugin offers as a metric source (`metricSourceRef`), e.g.
 * `{source: 'agent-analytics', metric: 'success_rate'}`: one series without groups,
 * `total` over the range and, with a granularity, the metric read per bucket.
 */
export interface MetricSourceQueryInput {
  source: string;
  metric: string;
  from: string;
  to: string;
  granularity?: MetricsGranularity;
  tz?: string;
  department_id?: string;
}

export interface MetricsSeries {
  /** the group-by fields' values, as strings */
  group: Record<string, string>;
  /** the value over the whole range */
  total: number | null;
  /** one per bucket of the range; empty buckets are 0 for count/users/sum and null otherwise */
  points: Array<{ bucket: string; value: number | null }>;
}

export interface MetricsQueryAnswer {
  series: MetricsSeries[];
}

export interface MetricsRunOptions {
  /**
   * Only events of these departments (an alert rule's scope). Always narrowed further to
   * what the caller may see; `null`/absent adds no narrowing of its own.
   */
  departments?: string[] | null;
  /** `false`: read raw events only, skipping any rollup the provider keeps (the answer is the same; checks and benchmarks compare the two). Default true. */
  rollups?: boolean;
  /**
   * A read nobody is waiting on (an alert round): the provider runs it on one thread so that it
   * leaves the other cores to the interactive queries it would otherwise compete with. The
   * answer is the same. Honoured by `runBatch`. Default false.
   */
  background?: boolean;
}

export interface MetricsQueryService {
  run(query: MetricsQueryInput | MetricSourceQueryInput, opts?: MetricsRunOptions): Promise<MetricsQueryAnswer>;
  /**
   * Many queries over one range, each answered with one total per group (no points), in as
   * few ClickHouse queries as their event types and groupings allow (alert rounds). A query
   * asked more than once (granularity and time zone aside, which a total ignores) is computed
   * once, and its positions share that answer: treat answers as read-only.
   */
  runBatch(queries: MetricsQueryDefinition[], range: { from: Date; to: Date }, opts?: MetricsRunOptions): Promise<MetricsSeries[][]>;
  /**
   * `runBatch` over several ranges at once (a period and the one before it): the answer is
   * `[range][query]`, each exactly what `runBatch` answers for that range alone, read in one
   * ClickHouse query per event type and grouping for all the ranges (since 1.2.0).
   */
  runWindows(queries: MetricsQueryDefinition[], ranges: Array<{ from: Date; to: Date }>, opts?: MetricsRunOptions): Promise<MetricsSeries[][][]>;
  /** Checks a query against the event catalogue; throws a 400 naming the field (`prefix` + name, e.g. `query.field`). */
  validate(query: MetricsQueryDefinition, prefix?: string): void;
}

const scalar = [{ type: 'string', maxLength: 256 }, { type: 'number' }, { type: 'boolean' }];
const whereValue = { anyOf: [...scalar, { type: 'array', minItems: 1, maxItems: 100, items: { anyOf: scalar } }] };
const whereSchema = { type: 'object', maxProperties: 20, additionalProperties: whereValue };

/** JSON schema of a `MetricsQueryDefinition` (the catalogue checks are `validate`'s). */
export const metricsQueryDefinitionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['event_type', 'measure'],
  properties: {
    event_type: { type: 'string', minLength: 1, maxLength: 64 },
    measure: { type: 'string', enum: [...METRICS_MEASURES] },
    field: { type: 'string', minLength: 1, maxLength: 64 },
    rate_where: whereSchema,
    where: whereSchema,
    group_by: { type: 'array', maxItems: 3, items: { type: 'string', minLength: 1, maxLength: 64 } },
    granularity: { type: 'string', enum: [...METRICS_GRANULARITIES] },
    tz: { type: 'string', minLength: 1, maxLength: 64 },
    department_id: { type: 'string', minLength: 1, maxLength: 128 },
  },
} as const;

/** JSON schema of the answer `{series: [{group, total, points}]}`. */
export const metricsAnswerSchema = {
  type: 'object',
  required: ['series'],
  properties: {
    series: {
      type: 'array',
      items: {
        type: 'object',
        required: ['group', 'total', 'points'],
        properties: {
          group: { type: 'object', additionalProperties: { type: 'string' } },
          total: { type: ['number', 'null'] },
          points: { type: 'array', items: { type: 'object', required: ['bucket', 'value'], properties: { bucket: { type: 'string' }, value: { type: ['number', 'null'] } } } },
        },
      },
    },
  },
} as const;

export const metricsQueryRef = createServiceRef<MetricsQueryService>({
  id: 'metrics-query',
  version: '1.2.0',
  multiple: false,
  description: "API.md's metrics query over the org's events and the metric sources plugins offer",
});
