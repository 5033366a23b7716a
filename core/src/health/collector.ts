/**
 * In-memory counters of what the platform does, kept on the request path as cheaply as
 * possible (a map lookup and a few additions per answer) and taken as series by a job:
 * per route class, per plugin and per route for the node, per route class and plugin for
 * each org, and dashboard loads as the portal reports them.
 *
 * Latency percentiles come from a bounded reservoir (uniform sample of the interval's
 * durations), so memory per key is fixed whatever the request rate.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import type { PlatformSample, SeriesPoint } from '@orrery/plugin-sdk';

const RESERVOIR = 512;

export class Window {
  count = 0;
  errors = 0;
  withinSla = 0;
  sumMs = 0;
  samples: number[] = [];

  record(ms: number, error: boolean, slaMs: number) {
    const n = ++this.count;
    if (error) this.errors++;
    if (ms <= slaMs) this.withinSla++;
    this.sumMs += ms;
    if (n <= RESERVOIR) this.samples.push(ms);
    else {
      // reservoir sampling: every duration of the interval has the same chance to be kept
      const j = Math.floor(Math.random() * n);
      if (j < RESERVOIR) this.samples[j] = ms;
    }
  }
}

/** The q-quantile (0..1) of sorted values, by linear interpolation between closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The series of one window: `http_*` for requests, `dashboard_*` for dashboard loads. */
export function windowPoints(prefix: string, key: string, w: Window, withSla: boolean): SeriesPoint[] {
  const sorted = w.samples.slice().sort((a, b) => a - b);
  const pts: SeriesPoint[] = [
    { series: `${prefix}_count`, key, value: w.count },
    { series: `${prefix}_errors`, key, value: w.errors },
    { series: `${prefix}_error_ratio`, key, value: w.count ? w.errors / w.count : 0 },
    { series: `${prefix}_mean_ms`, key, value: w.count ? w.sumMs / w.count : 0 },
    { series: `${prefix}_p50_ms`, key, value: quantile(sorted, 0.5) },
    { series: `${prefix}_p95_ms`, key, value: quantile(sorted, 0.95) },
    { series: `${prefix}_p99_ms`, key, value: quantile(sorted, 0.99) },
  ];
  if (withSla) pts.push({ series: `${prefix}_within_sla`, key, value: w.withinSla });
  return pts;
}

type Windows = Map<string, Window>;
const hit = (m: Windows, key: string) => {
  let w = m.get(key);
  if (!w) m.set(key, (w = new Window()));
  return w;
};

export interface RouteInfo {
  /** `class:api`, `plugin:funnels`, `route:GET /api/v1/funnels/query` */
  classKey: string;
  pluginKey: string;
  routeKey: string;
  /** a plugin's GET: an analytics query, measured against the query SLA */
  query: boolean;
}

export class HealthCollector {
  private node: Windows = new Map();
  private orgs = new Map<string, Windows>();
  private nodeTakenAt = Date.now();
  private orgTakenAt = new Map<string, number>();
  private cpuAt = process.cpuUsage();
  private readonly loop: IntervalHistogram;
  /** bus messages to browsers, since the last node take and in total */
  messages = 0;
  messagesTotal = 0;
  readonly startedAt = Date.now();

  constructor(
    readonly nodeId: string,
    readonly sla: { dashboardMs: number; queryMs: number },
  ) {
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
  }

  stop() {
    this.loop.disable();
  }

  /** One answer. `orgId` is the caller's org (null for unauthenticated routes). */
  request(info: RouteInfo, orgId: string | null, ms: number, status: number) {
    const error = status >= 500;
    const sla = this.sla.queryMs;
    hit(this.node, info.classKey).record(ms, error, sla);
    hit(this.node, info.pluginKey).record(ms, error, sla);
    hit(this.node, info.routeKey).record(ms, error, sla);
    if (info.query) hit(this.node, 'queries:all').record(ms, error, sla);
    if (orgId) {
      let m = this.orgs.get(orgId);
      if (!m) this.orgs.set(orgId, (m = new Map()));
      hit(m, info.classKey).record(ms, error, sla);
      hit(m, info.pluginKey).record(ms, error, sla);
      if (info.query) hit(m, 'queries:all').record(ms, error, sla);
    }
  }

  /** One query to a store (`database`, `analytics`), timed by the store's client. */
  storeQuery(store: string, ms: number) {
    hit(this.node, `store:${store}`).record(ms, false, this.sla.queryMs);
  }

  dashboardLoad(orgId: string, dashboardId: string, ms: number) {
    const sla = this.sla.dashboardMs;
    hit(this.node, 'dashboard:all').record(ms, false, sla);
    let m = this.orgs.get(orgId);
    if (!m) this.orgs.set(orgId, (m = new Map()));
    hit(m, 'dashboard:all').record(ms, false, sla);
    hit(m, `dashboard:${dashboardId}`).record(ms, false, sla);
  }

  private points(m: Windows): SeriesPoint[] {
    const out: SeriesPoint[] = [];
    for (const [key, w] of m) {
      if (key.startsWith('dashboard:')) out.push(...windowPoints('dashboard_load', key, w, true));
      else if (key.startsWith('store:')) out.push(...windowPoints('store_query', key, w, false));
      else out.push(...windowPoints('http', key, w, key.startsWith('queries:') || key.startsWith('plugin:')));
    }
    return out;
  }

  /** The org's windows since its previous take, emptied. */
  takeOrg(orgId: string): PlatformSample {
    const now = Date.now();
    const since = this.orgTakenAt.get(orgId) ?? this.startedAt;
    this.orgTakenAt.set(orgId, now);
    const m = this.orgs.get(orgId);
    this.orgs.delete(orgId);
    return { at: new Date(now).toISOString(), node: this.nodeId, seconds: (now - since) / 1000, points: m ? this.points(m) : [] };
  }

  /** Seconds since the node-wide windows were last taken. */
  get nodeAge() {
    return (Date.now() - this.nodeTakenAt) / 1000;
  }

  /** The node's request windows and process figures since the previous take, emptied. */
  takeNode(): PlatformSample {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.nodeTakenAt) / 1000);
    this.nodeTakenAt = now;
    const m = this.node;
    this.node = new Map();
    const points = this.points(m);
    points.push(...this.processPoints(seconds));
    points.push({ series: 'socket_messages', key: 'node', value: this.messages });
    this.messages = 0;
    return { at: new Date(now).toISOString(), node: this.nodeId, seconds, points };
  }

  /** CPU (share of all cores over the interval), memory and event-loop delay; the delay histogram restarts. */
  processPoints(seconds: number): SeriesPoint[] {
    const cpu = process.cpuUsage(this.cpuAt);
    this.cpuAt = process.cpuUsage();
    const mem = process.memoryUsage();
    const lag = this.loopFigures();
    this.loop.reset();
    return [
      { series: 'cpu_ratio', key: 'node', value: (cpu.user + cpu.system) / 1e6 / seconds / Math.max(1, cpus().length) },
      { series: 'rss_bytes', key: 'node', value: mem.rss },
      { series: 'heap_used_bytes', key: 'node', value: mem.heapUsed },
      { series: 'event_loop_mean_ms', key: 'node', value: lag.mean },
      { series: 'event_loop_p99_ms', key: 'node', value: lag.p99 },
      { series: 'load_avg_1m', key: 'node', value: loadavg()[0] ?? 0 },
    ];
  }

  loopFigures() {
    const ns = (v: number) => (Number.isFinite(v) ? v / 1e6 : 0);
    return { mean: ns(this.loop.mean), p99: ns(this.loop.percentile(99)) };
  }

  /** CPU share since the previous call of this (the stats route), without touching the sampled figure. */
  private statsCpuAt = { at: Date.now(), usage: process.cpuUsage() };
  cpuSinceLastStats(): number {
    const now = Date.now();
    const u = process.cpuUsage(this.statsCpuAt.usage);
    const seconds = Math.max(0.001, (now - this.statsCpuAt.at) / 1000);
    this.statsCpuAt = { at: now, usage: process.cpuUsage() };
    return (u.user + u.system) / 1e6 / seconds / Math.max(1, cpus().length);
  }

  /** Requests and 5xx answers per org since the last take (for the stats route). */
  orgLoad(): Array<{ org_id: string; requests: number; errors: number }> {
    return [...this.orgs.entries()].map(([org_id, m]) => {
      let requests = 0;
      let errors = 0;
      for (const [k, w] of m)
        if (k.startsWith('class:')) {
          requests += w.count;
          errors += w.errors;
        }
      return { org_id, requests, errors };
    });
  }
}
