/**
 * The series as metric sources (`metricSourceRef`), so the metrics explorer charts them
 * and alert rules watch them. A tenant (any role) gets its own org's request, dashboard
 * and SLA figures; the platform operator, and jobs (alert rounds, which run without a
 * caller), also get the platform-wide ones.
 */
import { defineMetricSource, metricSourceRef, provide, type AnalyticsClient, type MetricDefinition, type MetricQuery, type TenantContext } from '@orrery/plugin-sdk';
import { readTotal } from './series.ts';

type Read = (a: AnalyticsClient, q: MetricQuery) => Promise<number | null>;

const total = (series: string, key: string): Read => (a, q) => readTotal(a, series, key, q.range.from, q.range.to);
const ratio = (num: string, den: string, key: string): Read => async (a, q) => {
  const [n, d] = await Promise.all([readTotal(a, num, key, q.range.from, q.range.to), readTotal(a, den, key, q.range.from, q.range.to)]);
  return d ? (n ?? 0) / d : null;
};

type Def = MetricDefinition & { read: Read };

/** Figures of the caller's org, under its own id. */
const orgMetrics: Def[] = [
  { name: 'api_requests', title: 'API requests', description: "The org's authenticated API requests (route class api)", unit: 'count', better: 'neither', read: total('http_count', 'class:api') },
  { name: 'api_error_rate', title: 'API error rate', description: "Share of the org's API requests answered 5xx", unit: 'ratio', better: 'lower', read: ratio('http_errors', 'http_count', 'class:api') },
  { name: 'api_latency_p95_ms', title: 'API p95 latency', description: "The worst sampled interval's p95 answer time of the org's API requests", unit: 'ms', better: 'lower', read: total('http_p95_ms', 'class:api') },
  { name: 'dashboard_load_p95_ms', title: 'Dashboard load p95', description: "The worst sampled interval's p95 of the org's dashboard loads, as the portal reports them", unit: 'ms', better: 'lower', read: total('dashboard_load_p95_ms', 'dashboard:all') },
  { name: 'dashboard_sla_compliance', title: 'Dashboard loads within SLA', description: "Share of the org's dashboard loads within the dashboard SLA", unit: 'ratio', better: 'higher', read: ratio('dashboard_load_within_sla', 'dashboard_load_count', 'dashboard:all') },
  { name: 'query_sla_compliance', title: 'Queries within SLA', description: "Share of the org's analytics queries (plugin GET answers) within the query SLA", unit: 'ratio', better: 'higher', read: ratio('http_within_sla', 'http_count', 'queries:all') },
];

/** Platform-wide figures, under the platform scope. */
const platformMetrics: Def[] = [
  { name: 'platform_cpu_ratio', title: 'CPU (all nodes)', description: 'Mean share of the CPU cores the API process used', unit: 'ratio', better: 'lower', read: total('cpu_ratio', 'node') },
  { name: 'platform_memory_rss_bytes', title: 'Memory (RSS)', description: 'Mean resident memory of the API process, bytes', unit: 'count', better: 'lower', read: total('rss_bytes', 'node') },
  { name: 'platform_event_loop_p99_ms', title: 'Event-loop delay p99', description: 'Mean of the sampled p99 event-loop delays', unit: 'ms', better: 'lower', read: total('event_loop_p99_ms', 'node') },
  { name: 'platform_error_rate', title: 'Platform API error rate', description: 'Share of all orgs’ API requests answered 5xx', unit: 'ratio', better: 'lower', read: ratio('http_errors', 'http_count', 'class:api') },
  { name: 'platform_api_p95_ms', title: 'Platform API p95', description: "The worst sampled interval's p95 of all API requests", unit: 'ms', better: 'lower', read: total('http_p95_ms', 'class:api') },
  { name: 'platform_dashboard_load_p95_ms', title: 'Dashboard load p95 (all orgs)', description: "The worst sampled interval's p95 dashboard load", unit: 'ms', better: 'lower', read: total('dashboard_load_p95_ms', 'dashboard:all') },
  { name: 'platform_dashboard_sla_compliance', title: 'Dashboard loads within SLA (all orgs)', description: 'Share of dashboard loads within the dashboard SLA', unit: 'ratio', better: 'higher', read: ratio('dashboard_load_within_sla', 'dashboard_load_count', 'dashboard:all') },
  { name: 'platform_query_sla_compliance', title: 'Queries within SLA (all orgs)', description: 'Share of analytics queries within the query SLA', unit: 'ratio', better: 'higher', read: ratio('http_within_sla', 'http_count', 'queries:all') },
  { name: 'platform_analytics_query_p95_ms', title: 'ClickHouse query p95', description: "The worst sampled interval's p95 of the tenant queries to the analytical store", unit: 'ms', better: 'lower', read: total('store_query_p95_ms', 'store:analytics') },
  { name: 'platform_database_query_p95_ms', title: 'PostgreSQL query p95', description: "The worst sampled interval's p95 of the queries to the transactional store", unit: 'ms', better: 'lower', read: total('store_query_p95_ms', 'store:database') },
  { name: 'platform_analytics_probe_ms', title: 'ClickHouse probe time', description: 'Mean time of a probe query to the analytical store', unit: 'ms', better: 'lower', read: total('store_probe_ms', 'store:analytics') },
  { name: 'platform_database_probe_ms', title: 'PostgreSQL probe time', description: 'Mean time of a probe query to the transactional store', unit: 'ms', better: 'lower', read: total('store_probe_ms', 'store:database') },
  { name: 'platform_answer_cache_hit_ratio', title: 'Answer cache hit rate', description: 'Mean share of remembered answers served from memory', unit: 'ratio', better: 'higher', read: total('answer_cache_hit_ratio', 'node') },
  { name: 'platform_ingest_events', title: 'Events ingested', description: 'Events accepted by ingestion (all orgs)', unit: 'count', better: 'neither', read: total('ingest_events_accepted', 'node') },
  { name: 'platform_ingest_backlog_rows', title: 'Ingestion backlog', description: 'Mean rows waiting in the durable log for the loader', unit: 'count', better: 'lower', read: total('ingest_backlog_rows', 'node') },
  { name: 'platform_loader_lag_ms', title: 'Loader lag', description: 'Mean age of the oldest row waiting for the loader', unit: 'ms', better: 'lower', read: total('ingest_loader_lag_ms', 'node') },
  { name: 'platform_rollup_lag_ms', title: 'Rollup lag', description: 'Mean lag of the rollup folds (now − watermark)', unit: 'ms', better: 'lower', read: total('rollup_lag_ms', 'node') },
  { name: 'platform_sockets', title: 'Sockets connected', description: 'Mean browser sockets connected', unit: 'count', better: 'neither', read: total('sockets_connected', 'node') },
  { name: 'platform_jobs_failing', title: 'Jobs failing', description: 'Mean number of job runs whose last run failed', unit: 'count', better: 'lower', read: total('jobs_failing', 'node') },
];

export const METRIC_NAMES = { org: orgMetrics.map((m) => m.name), platform: platformMetrics.map((m) => m.name) };

export const healthMetrics = provide(metricSourceRef, (ctx: TenantContext) => {
  const withOrg = orgMetrics.map((m) => ({ ...m, read: (q: MetricQuery) => m.read(ctx.analytics, q) }));
  if (ctx.caller && !ctx.caller.operator) return defineMetricSource(withOrg);
  const platform = ctx.platform.operator().analytics;
  return defineMetricSource([...withOrg, ...platformMetrics.map((m) => ({ ...m, read: (q: MetricQuery) => m.read(platform, q) }))]);
});
