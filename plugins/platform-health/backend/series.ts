/**
 * The platform's own series in ClickHouse: one row per (sample, series, key), the
 * platform-wide ones under `PLATFORM_SCOPE_ORG_ID` and each org's own under its id.
 * Retention is per row (`keep_days`, from the plugin's `retentionDays`), so changing it
 * needs no migration; ClickHouse drops expired rows in its merges.
 */
import type { AnalyticsClient, ChMigration, PlatformSample } from '@orrery/plugin-sdk';

export const SERIES_TABLE = 'platform_series';

export const seriesMigration: ChMigration = {
  name: '0001_platform_series',
  statements: [
    `CREATE TABLE IF NOT EXISTS {db}.${SERIES_TABLE}{cluster} (
      org_id LowCardinality(String),
      ts DateTime64(3, 'UTC'),
      node LowCardinality(String),
      seconds Float32,
      series LowCardinality(String),
      key String,
      value Float64,
      keep_days UInt16 DEFAULT 30
    ) ENGINE = {engine:MergeTree}
    PARTITION BY toYYYYMM(ts)
    ORDER BY (org_id, series, key, ts)
    TTL toDateTime(ts) + toIntervalDay(keep_days)`,
  ],
};

/** Counters add up over a bucket; everything else (percentiles, gauges, ratios) is read per bucket as below. */
export function aggregateOf(series: string): 'sum' | 'max' | 'avg' {
  if (/_(count|errors|within_sla)$/.test(series) || series.startsWith('ingest_events_') || series === 'socket_messages') return 'sum';
  // a bucket's p95/p99 is the worst interval's: never better than what someone saw
  if (/_p(95|99)_ms$/.test(series)) return 'max';
  return 'avg';
}

export async function writeSample(a: AnalyticsClient, sample: PlatformSample, keepDays: number) {
  if (!sample.points.length) return 0;
  const ts = sample.at.replace('T', ' ').replace('Z', '');
  await a.insert(
    SERIES_TABLE,
    sample.points.map((p) => ({ ts, node: sample.node, seconds: sample.seconds, series: p.series, key: p.key, value: Number.isFinite(p.value) ? p.value : 0, keep_days: keepDays })),
  );
  return sample.points.length;
}

export const STEPS = { minute: 60, hour: 3600, day: 86400 } as const;
export type Step = keyof typeof STEPS;

export interface SeriesAnswer {
  series: string;
  aggregate: 'sum' | 'max' | 'avg';
  keys: Array<{ key: string; points: Array<{ bucket: string; value: number }> }>;
}

const chTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** One series per key over [from, to), in buckets of `step`: instants (UTC) for minutes and hours, calendar days in `tz`. */
export async function readSeries(a: AnalyticsClient, q: { series: string; key?: string; from: Date; to: Date; step: Step; tz: string }): Promise<SeriesAnswer> {
  const agg = aggregateOf(q.series);
  const bucket = q.step === 'day' ? `toStartOfDay(ts, {tz:String})` : `toStartOfInterval(ts, INTERVAL ${STEPS[q.step]} SECOND, {tz:String})`;
  // avg over a bucket is the mean of the intervals' values; a sum within one interval first
  // (several nodes' rows of one instant) keeps gauges per node comparable
  const rows = await a.query<{ key: string; bucket: string; v: number }>(
    `SELECT key, ${q.step === 'day' ? `formatDateTime(${bucket}, '%Y-%m-%d', {tz:String})` : `formatDateTime(${bucket}, '%Y-%m-%dT%H:%i:%SZ', 'UTC')`} AS bucket, ${agg}(value) AS v
       FROM ${a.table(SERIES_TABLE)}
      WHERE org_id = {org_id:String} AND series = {series:String}
        AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}
        ${q.key ? 'AND key = {key:String}' : ''}
      GROUP BY key, bucket ORDER BY key, bucket`,
    { series: q.series, from: chTime(q.from), to: chTime(q.to), tz: q.tz, ...(q.key ? { key: q.key } : {}) },
  );
  const keys = new Map<string, Array<{ bucket: string; value: number }>>();
  for (const r of rows) {
    let pts = keys.get(r.key);
    if (!pts) keys.set(r.key, (pts = []));
    pts.push({ bucket: r.bucket, value: Number(r.v) });
  }
  return { series: q.series, aggregate: agg, keys: [...keys.entries()].map(([key, points]) => ({ key, points })) };
}

/** A series' aggregate over the whole range (metric sources, alerts), or null without rows. */
export async function readTotal(a: AnalyticsClient, series: string, key: string, from: Date, to: Date): Promise<number | null> {
  const agg = aggregateOf(series);
  const [row] = await a.query<{ v: number | null; n: string | number }>(
    `SELECT ${agg}(value) AS v, count() AS n FROM ${a.table(SERIES_TABLE)}
      WHERE org_id = {org_id:String} AND series = {series:String} AND key = {key:String}
        AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}`,
    { series, key, from: chTime(from), to: chTime(to) },
  );
  return row && Number(row.n) > 0 ? Number(row.v) : null;
}

/** Per day in `tz`: dashboard loads and queries, and how many were within their SLA. */
export async function readSla(a: AnalyticsClient, from: Date, to: Date, tz: string) {
  const rows = await a.query<{ day: string; series: string; key: string; v: number }>(
    `SELECT formatDateTime(toStartOfDay(ts, {tz:String}), '%Y-%m-%d', {tz:String}) AS day, series, key, sum(value) AS v
       FROM ${a.table(SERIES_TABLE)}
      WHERE org_id = {org_id:String}
        AND series IN ('dashboard_load_count', 'dashboard_load_within_sla', 'http_count', 'http_within_sla')
        AND key IN ('dashboard:all', 'queries:all')
        AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}
      GROUP BY day, series, key ORDER BY day`,
    { from: chTime(from), to: chTime(to), tz },
  );
  const days = new Map<string, { day: string; dashboard_loads: number; dashboard_within_sla: number; queries: number; queries_within_sla: number }>();
  for (const r of rows) {
    let d = days.get(r.day);
    if (!d) days.set(r.day, (d = { day: r.day, dashboard_loads: 0, dashboard_within_sla: 0, queries: 0, queries_within_sla: 0 }));
    const v = Number(r.v);
    if (r.key === 'dashboard:all' && r.series === 'dashboard_load_count') d.dashboard_loads += v;
    if (r.key === 'dashboard:all' && r.series === 'dashboard_load_within_sla') d.dashboard_within_sla += v;
    if (r.key === 'queries:all' && r.series === 'http_count') d.queries += v;
    if (r.key === 'queries:all' && r.series === 'http_within_sla') d.queries_within_sla += v;
  }
  return [...days.values()].map((d) => ({
    ...d,
    dashboard_compliance: d.dashboard_loads ? d.dashboard_within_sla / d.dashboard_loads : null,
    query_compliance: d.queries ? d.queries_within_sla / d.queries : null,
  }));
}
