/**
 * The metrics query as a service (`metricsQueryRef`), built for one org and caller:
 * event queries run over the raw `events` table (never another plugin's rollups or
 * tables); `{source, metric}` queries read a metric source (`metricSourceRef`) that
 * another plugin provides, once for the range and once per bucket.
 */
import {
  badRequest,
  checkBuckets,
  metricSourceRef,
  parseTimeRange,
  type MetricSource,
  type MetricSourceQueryInput,
  type MetricsQueryDefinition,
  type MetricsQueryInput,
  type MetricsQueryService,
  type MetricsRunOptions,
  type TenantContext,
} from '@orrery/plugin-sdk';
import { GRANULARITIES, bucketStarts, runMetricsBatch, runMetricsQuery, runMetricsWindows, validateMetricsQuery } from './metricsQuery.ts';

export interface MetricsConfig {
  /** longest a ClickHouse query of one answer may run */
  queryTimeoutSeconds?: number;
  /** read the plugin's rollups where they answer a question exactly (default true) */
  useRollups?: boolean;
}

/** A metric source's series is read bucket by bucket: at most this many buckets. */
export const MAX_SOURCE_BUCKETS = 400;

/** What the caller may see, narrowed to `departments` when given (null = everything). */
async function scope(ctx: TenantContext, departments: string[] | null | undefined): Promise<string[] | null> {
  const visible = await ctx.visibleUserDepartments();
  if (!departments) return visible;
  if (!visible) return departments;
  return departments.filter((d) => visible.includes(d));
}

const isSourceQuery = (q: MetricsQueryInput | MetricSourceQueryInput): q is MetricSourceQueryInput => 'source' in q && typeof (q as MetricSourceQueryInput).source === 'string';

async function runSource(ctx: TenantContext, q: MetricSourceQueryInput, visible: string[] | null) {
  const range = parseTimeRange({ from: q.from, to: q.to, tz: q.tz });
  const sources = await ctx.services.all(metricSourceRef);
  const found = sources.find((s) => s.plugin === q.source);
  if (!found) throw badRequest(`source: no metric source "${q.source}" is on for this organization`, { field: 'source', allowed: sources.map((s) => s.plugin) });
  const source: MetricSource = found.service;
  if (!source.metrics.some((m) => m.name === q.metric))
    throw badRequest(`metric: source "${q.source}" has no metric "${q.metric}"`, { field: 'metric', allowed: source.metrics.map((m) => m.name) });
  // a source reads one department at a time: a caller who sees only some departments must name one
  if (visible && (!q.department_id || !visible.includes(q.department_id)))
    throw badRequest('department_id: name one of the departments you may see to read a metric source', { field: 'department_id', allowed: visible });
  const read = (from: Date, to: Date) => source.read(q.metric, { range: { ...range, from, to, fromCh: '', toCh: '' }, departmentId: q.department_id });
  const total = await read(range.from, range.to);
  let points: Array<{ bucket: string; value: number | null }> = [];
  if (q.granularity) {
    checkBuckets(range, q.granularity);
    const starts = bucketStarts(range.from, range.to, q.granularity, range.tz);
    if (starts.length > MAX_SOURCE_BUCKETS)
      throw badRequest(`granularity: a metric source is read bucket by bucket, at most ${MAX_SOURCE_BUCKETS} buckets; this range needs ${starts.length}`, { field: 'granularity', buckets: starts.length, max_buckets: MAX_SOURCE_BUCKETS });
    points = [];
    for (const [i, b] of starts.entries()) {
      const from = new Date(Math.max(Date.parse(b), range.from.getTime()));
      const to = new Date(Math.min(i + 1 < starts.length ? Date.parse(starts[i + 1]!) : range.to.getTime(), range.to.getTime()));
      points.push({ bucket: b, value: await read(from, to) });
    }
  }
  return { series: [{ group: {}, total, points }] };
}

/**
 * A background read runs on one thread: the machine's other cores stay with the dashboards'
 * queries. (ClickHouse's `priority` would not help here: it only orders queries that all set
 * one, and interactive queries set none.)
 */
export const BACKGROUND_SETTINGS = ', max_threads = 1';

export function metricsService(ctx: TenantContext): MetricsQueryService {
  const timeout = (ctx.config as MetricsConfig).queryTimeoutSeconds ?? 15;
  const useRollups = (ctx.config as MetricsConfig).useRollups ?? true;
  return {
    async run(q, opts: MetricsRunOptions = {}) {
      const visible = await scope(ctx, opts.departments);
      if (isSourceQuery(q)) return runSource(ctx, q, visible);
      const { from, to, ...definition } = q;
      const range = parseTimeRange({ from, to });
      if (definition.granularity && !GRANULARITIES.includes(definition.granularity)) throw badRequest(`granularity: unknown "${definition.granularity}"`, { field: 'granularity' });
      validateMetricsQuery(definition);
      return { series: await runMetricsQuery(ctx.analytics, definition, range, visible, timeout, { rollups: useRollups && opts.rollups !== false ? ctx.rollups : 'raw' }) };
    },
    async runBatch(queries: MetricsQueryDefinition[], range, opts: MetricsRunOptions = {}) {
      const visible = await scope(ctx, opts.departments);
      return runMetricsBatch(ctx.analytics, queries, range, visible, timeout, opts.background ? BACKGROUND_SETTINGS : '');
    },
    async runWindows(queries: MetricsQueryDefinition[], ranges, opts: MetricsRunOptions = {}) {
      const visible = await scope(ctx, opts.departments);
      return runMetricsWindows(ctx.analytics, queries, ranges, visible, timeout, opts.background ? BACKGROUND_SETTINGS : '');
    },
    validate(q, prefix = '') {
      validateMetricsQuery(q, prefix);
    },
  };
}
