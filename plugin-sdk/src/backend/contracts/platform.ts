/**
 * The platform as plugins see it (`ctx.platform`): what the kernel measures about
 * itself (requests per route class and plugin, dashboard loads, event-loop lag,
 * CPU and memory, store query times, the answer cache, ingestion, rollups,
 * sockets, jobs) and each org's usage against its tier.
 *
 * Two scopes:
 * - `ctx.platform.org`: the caller's org only (its usage, its own request series);
 * - `ctx.platform.operator()`: every node and every org, for the platform operator (and
 *   for jobs, which run without a caller); a tenant caller, even an Admin, gets a 403.
 *
 * The kernel only keeps counters in memory on the request path; a plugin's job takes
 * them (`takeSample`) every few seconds and keeps the series where it wants.
 */
import type { AnalyticsClient } from '../types.ts';

/** The org id that platform-wide rows carry in a plugin's own tables (never a real org's id). */
export const PLATFORM_SCOPE_ORG_ID = '_platform';

export type UsageStatus = 'ok' | 'warning' | 'over_soft_limit' | 'over_limit';

/** `GET /api/v1/usage` (API.md → "Usage and platform health"). */
export interface OrgUsage {
  tier: string;
  /** the current calendar month (UTC), `to` exclusive */
  period: { from: string; to: string };
  /** events accepted for the org this month; `soft_limit` = `limit` × (1 + soft overage): beyond it events are refused */
  events: { used: number; limit: number; soft_limit: number };
  storage_bytes: { used: number; limit: number };
  users: { used: number; limit: number };
  /** authenticated API requests answered for the org this month on this node's count (not limited) */
  api_calls: { used: number };
  /** `warning` from `warn_ratio` of a limit, `over_soft_limit` past a limit, `over_limit` at the soft limit (events refused) */
  status: UsageStatus;
  /** events refused this month because the org was over its soft limit */
  refused_events: number;
}

/** One number of a sampled series: `series` names what (`http_p95_ms`), `key` which part (`plugin:funnels`). */
export interface SeriesPoint {
  series: string;
  key: string;
  value: number;
}

/** What was measured since the previous take of the same scope. */
export interface PlatformSample {
  /** end of the sampled interval (ISO) */
  at: string;
  /** the node that measured it */
  node: string;
  /** length of the interval in seconds */
  seconds: number;
  points: SeriesPoint[];
}

export interface StoreStats {
  name: 'database' | 'analytics' | 'cache';
  mode: string;
  ok: boolean;
  /** time of a probe query just now */
  probe_ms: number | null;
}

export interface SystemStats {
  at: string;
  nodes: Array<{
    id: string;
    uptime_s: number;
    cpu_ratio: number;
    rss_bytes: number;
    heap_used_bytes: number;
    event_loop_p99_ms: number;
    load_avg: number[];
  }>;
  stores: StoreStats[];
  ingestion: { commit: string; backlog_rows: number; backlog_limit: number | null; loader_lag_ms: number; accepted_since_start: number; refused_over_limit: number };
  rollups: { lag_ms: number | null };
  caches: { answers: { entries: number; hits: number; misses: number; hit_ratio: number | null } };
  sockets: { connected: number; messages_since_start: number };
  jobs: Array<{ job: string; runs: number; failing: number; running: number; last_error: string | null }>;
  /** per-org load since the node started */
  orgs: Array<{ org_id: string; slug: string; requests: number; errors: number; events_accepted_month: number }>;
  sla: { dashboard_ms: number; query_ms: number };
}

export interface OrgPlatform {
  /** the org's usage against its tier (counts as of now) */
  usage(): Promise<OrgUsage>;
  /** a dashboard of the org finished loading in the portal (the host reports it) */
  reportDashboardLoad(load: { dashboardId: string; ms: number; widgets: number }): void;
  /**
   * The org's own series since the previous take for the org: request count, errors and
   * latency percentiles per route class and plugin, dashboard loads, queries within SLA.
   */
  takeSample(): PlatformSample;
  /** the SLAs that series and compliance are measured against */
  sla: { dashboardMs: number; queryMs: number };
}

export interface OperatorPlatform {
  stats(): Promise<SystemStats>;
  /**
   * Node-wide series since the previous take (CPU, memory, event loop, stores, caches,
   * ingestion, rollups, sockets, jobs, all requests): null when the previous take was
   * less than `minSeconds` ago, so a job running once per org takes it once per round.
   */
  takeSample(minSeconds: number): Promise<PlatformSample | null>;
  /** empties the remembered route answers of every org on this node and, through the bus, the others */
  clearCaches(): { entries: number };
  /** the plugin's own tables for platform-wide rows (`org_id` = PLATFORM_SCOPE_ORG_ID) */
  analytics: AnalyticsClient;
  /** the SLAs that series and compliance are measured against */
  sla: { dashboardMs: number; queryMs: number };
}

export interface PlatformAccess {
  org: OrgPlatform;
  /** throws a 403 `operator_only` for a caller who is not the platform operator */
  operator(): OperatorPlatform;
}
