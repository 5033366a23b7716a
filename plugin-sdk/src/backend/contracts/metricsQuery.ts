/**
 * The metrics query: one way to ask for a number over events (API.md → "Metrics"),
 * provided by the `metrics` plugin and used by alerts, trends, reports and the explorer.
 * A consumer `need`s it and calls `run` with the query as the API takes it; validation
 * errors are 400s naming the field, exactly as the route answers them.
 */
import { createServiceRef } from '../services.ts';

export type MetricsMeasure = 'count' | 'users' | 'sum' | 'avg' | 'min' | 'max' | 'p50' | 'p75' | 'p90' | 'p95' | 'p99' | 'rate';
export type MetricsGranularity = 'minute' | 'hour' | 'day' | 'week' | 'month';

export interface MetricsQueryInput {
  event_type: string;
  measure: MetricsMeasure;
  /** numeric field of the event type, for sum/avg/min/max/pXX */
  field?: string;
  /** for `rate`: the share of matching events that also match this */
  rate_where?: Record<string, string | number | boolean | Array<string | number | boolean>>;
  /** equal-to filters; a list means any of */
  where?: Record<string, string | number | boolean | Array<string | number | boolean>>;
  /** up to three fields */
  group_by?: string[];
  /** ISO instants, `to` exclusive */
  from: string;
  to: string;
  /** without it each group has one value (`total`) and no points */
  granularity?: MetricsGranularity;
  /** IANA zone of the buckets (default UTC) */
  tz?: string;
  department_id?: string;
}

export interface MetricsSeries {
  group: Record<string, string | number | null>;
  /** the value over the whole range */
  total: number | null;
  /** one per bucket of the range; empty buckets are 0 for count/users/sum and null otherwise */
  points: Array<{ bucket: string; value: number | null }>;
}

export interface MetricsQueryAnswer {
  series: MetricsSeries[];
}

export interface MetricsQueryService {
  run(query: MetricsQueryInput): Promise<MetricsQueryAnswer>;
}

export const metricsQueryRef = createServiceRef<MetricsQueryService>({
  id: 'metrics-query',
  version: '1.0.0',
  multiple: false,
  description: "API.md's metrics query over the org's events (rollups where they answer exactly)",
});
