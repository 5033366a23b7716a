/**
 * Data quality per org. Each node counts what it saw per minute and writes one
 * row per (org, minute) to ClickHouse every few seconds, so the API and the
 * alert conditions see the sum over all API nodes, and survive restarts.
 *
 * Alert conditions (PRD): > 10 % failing validation over 5 min; 12 h without
 * an event; > 5 % duplicates over an hour; processing latency > 10 s for
 * 10 minutes. One node evaluates them per minute (a kv lock); transitions
 * (firing / resolved) are published on the bus topic `ingestion.quality` for
 * the alerts plugin to route.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { KeyValueStore, Bus } from '../types.ts';

export const QUALITY_TOPIC = 'ingestion.quality';

export interface QualityCounts {
  received: number;
  accepted: number;
  invalid: number;
  missing_required: number;
  duplicates: number;
  fixed: number;
  suspicious: number;
}

interface Bucket extends QualityCounts {
  latency_count: number;
  latency_sum_ms: number;
  latency_max_ms: number;
  latency_over_10s: number;
}

const emptyBucket = (): Bucket => ({
  received: 0, accepted: 0, invalid: 0, missing_required: 0, duplicates: 0, fixed: 0, suspicious: 0,
  latency_count: 0, latency_sum_ms: 0, latency_max_ms: 0, latency_over_10s: 0,
});

/** a numeric field's value, 0 when absent (module-level: it runs for every event, a closure per call would be allocated each time) */
function num(e: Record<string, unknown>, k: string): number {
  const v = e[k];
  return typeof v === 'number' ? v : 0;
}

/** Values that pass the schema but are very likely wrong; counted, not rejected. */
export function isSuspicious(e: Record<string, unknown>, now: number, ts = Date.parse(e.timestamp as string)): boolean {
  if (ts > now + 5 * 60_000 || ts < now - 30 * 86_400_000) return true;
  return num(e, 'execution_time_ms') > 3_600_000 || num(e, 'duration_ms') > 86_400_000 || num(e, 'input_tokens') > 2_000_000
    || num(e, 'output_tokens') > 1_000_000 || num(e, 'cost_usd') > 100;
}

export interface AlertState {
  condition: 'validation_failures' | 'silence' | 'duplicates' | 'latency';
  state: 'firing' | 'resolved';
  value: number;
  threshold: number;
  window: string;
  message: string;
  at: string;
}

export class QualityTracker {
  private buckets = new Map<string, Bucket>(); // `${org}|${minuteMs}`
  private timer: NodeJS.Timeout | null = null;
  private evalTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: {
    client: ClickHouseClient;
    database: string;
    nodeId: string;
    kv: KeyValueStore;
    bus: Pick<Bus, 'publish'>;
    onError(err: unknown): void;
    flushEveryMs?: number;
    evaluateEveryMs?: number;
  }) {}

  start() {
    this.timer = setInterval(() => void this.flush().catch(this.o.onError), this.o.flushEveryMs ?? 5000);
    this.evalTimer = setInterval(() => void this.evaluateAll().catch(this.o.onError), this.o.evaluateEveryMs ?? 60_000);
    this.timer.unref();
    this.evalTimer.unref();
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    if (this.evalTimer) clearInterval(this.evalTimer);
    await this.flush().catch(this.o.onError);
  }

  /** the current minute's bucket per org: found without building the map key on every request */
  private current = new Map<string, { minute: number; b: Bucket }>();
  private bucket(orgId: string): Bucket {
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const c = this.current.get(orgId);
    if (c && c.minute === minute) return c.b;
    const key = `${orgId}|${minute}`;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = emptyBucket()));
    this.current.set(orgId, { minute, b });
    return b;
  }

  count(orgId: string, c: Partial<QualityCounts>) {
    const b = this.bucket(orgId) as unknown as Record<string, number>;
    // for-in, not Object.entries: no array of pairs per request
    for (const k in c) b[k] = b[k]! + (c as Record<string, number>)[k]!;
  }

  latency(orgId: string, ms: number, n: number) {
    const b = this.bucket(orgId);
    b.latency_count += n;
    b.latency_sum_ms += ms * n;
    if (ms > b.latency_max_ms) b.latency_max_ms = ms;
    if (ms > 10_000) b.latency_over_10s += n;
  }

  async flush() {
    if (this.buckets.size === 0) return;
    const rows = [...this.buckets].map(([key, b]) => {
      const [org_id, minute] = key.split('|');
      return { org_id, minute: Math.floor(Number(minute) / 1000), node_id: this.o.nodeId, ...b };
    });
    this.buckets.clear();
    this.current.clear(); // those buckets are written: counts from now on go to fresh ones
    // rows of one (org, minute, node) written several times are summed by the queries
    await this.o.client.insert({ table: `${this.o.database}.ingestion_quality`, values: rows, format: 'JSONEachRow' });
  }

  /** Quality figures of one org over the last `minutes`. */
  async report(orgId: string, minutes: number) {
    await this.flush().catch(this.o.onError);
    const rs = await this.o.client.query({
      query: `SELECT sum(received) AS received, sum(accepted) AS accepted, sum(invalid) AS invalid,
          sum(missing_required) AS missing_required, sum(duplicates) AS duplicates, sum(fixed) AS fixed,
          sum(suspicious) AS suspicious, sum(latency_count) AS latency_count, sum(latency_sum_ms) AS latency_sum_ms,
          max(latency_max_ms) AS latency_max_ms
        FROM ${this.o.database}.ingestion_quality
        WHERE org_id = {org:String} AND minute >= now() - toIntervalMinute({m:UInt32})`,
      query_params: { org: orgId, m: minutes },
      format: 'JSONEachRow',
    });
    const [r] = (await rs.json()) as Array<Record<string, string | number>>;
    const n = (k: string) => Number(r?.[k] ?? 0);
    const received = n('received');
    const share = (k: string) => (received ? n(k) / received : 0);
    return {
      window_minutes: minutes,
      received,
      accepted: n('accepted'),
      invalid: n('invalid'),
      duplicates: n('duplicates'),
      fixed: n('fixed'),
      suspicious: n('suspicious'),
      missing_required_rate: share('missing_required'),
      validation_failure_rate: share('invalid'),
      duplicate_rate: share('duplicates'),
      suspicious_rate: share('suspicious'),
      fixed_rate: share('fixed'),
      latency_avg_ms: n('latency_count') ? n('latency_sum_ms') / n('latency_count') : 0,
      latency_max_ms: n('latency_max_ms'),
    };
  }

  /** Time since the last event per agent and per user (from the events themselves). */
  async freshness(orgId: string, limit = 500) {
    const q = async (col: string) => {
      const rs = await this.o.client.query({
        query: `SELECT ${col} AS name, max(timestamp) AS last_event_at, dateDiff('second', max(timestamp), now64(3)) AS seconds_since
          FROM ${this.o.database}.events WHERE org_id = {org:String} AND ${col} != '' GROUP BY ${col} ORDER BY last_event_at DESC LIMIT {limit:UInt32}`,
        query_params: { org: orgId, limit },
        format: 'JSONEachRow',
      });
      return ((await rs.json()) as Array<{ name: string; last_event_at: string; seconds_since: number | string }>).map((r) => ({
        name: r.name, last_event_at: new Date(r.last_event_at.replace(' ', 'T') + 'Z').toISOString(), seconds_since: Number(r.seconds_since),
      }));
    };
    const [agents, users] = await Promise.all([q('agent_name'), q('user_id')]);
    return { agents, users };
  }

  /** Current value of each alert condition for an org. */
  async conditions(orgId: string): Promise<Array<Omit<AlertState, 'state' | 'at'> & { firing: boolean }>> {
    await this.flush().catch(this.o.onError);
    const rs = await this.o.client.query({
      query: `SELECT
          sumIf(invalid, minute >= now() - INTERVAL 5 MINUTE) AS inv5, sumIf(received, minute >= now() - INTERVAL 5 MINUTE) AS rec5,
          sumIf(duplicates, minute >= now() - INTERVAL 60 MINUTE) AS dup60, sumIf(received, minute >= now() - INTERVAL 60 MINUTE) AS rec60,
          maxIf(minute, accepted > 0) AS last_accepted, min(minute) AS first_seen
        FROM ${this.o.database}.ingestion_quality WHERE org_id = {org:String}`,
      query_params: { org: orgId },
      format: 'JSONEachRow',
    });
    const [r] = (await rs.json()) as Array<Record<string, string | number>>;
    const lat = await this.o.client.query({
      query: `SELECT minute, sum(latency_sum_ms) / greatest(sum(latency_count), 1) AS avg_ms
        FROM ${this.o.database}.ingestion_quality
        WHERE org_id = {org:String} AND minute >= toStartOfMinute(now()) - INTERVAL 10 MINUTE AND minute < toStartOfMinute(now()) AND latency_count > 0
        GROUP BY minute`,
      query_params: { org: orgId },
      format: 'JSONEachRow',
    });
    const minutes = (await lat.json()) as Array<{ avg_ms: number }>;
    const rec5 = Number(r?.rec5 ?? 0), rec60 = Number(r?.rec60 ?? 0);
    const vf = rec5 ? Number(r!.inv5) / rec5 : 0;
    const dr = rec60 ? Number(r!.dup60) / rec60 : 0;
    const last = r?.last_accepted ? Date.parse(String(r.last_accepted).replace(' ', 'T') + 'Z') : 0;
    const silenceH = last > 86_400_000 ? (Date.now() - last) / 3_600_000 : 0;
    const slowMinutes = minutes.filter((m) => Number(m.avg_ms) > 10_000).length;
    return [
      { condition: 'validation_failures', value: vf, threshold: 0.1, window: '5m', firing: rec5 >= 10 && vf > 0.1, message: `${(vf * 100).toFixed(1)}% of events failed validation in the last 5 minutes` },
      { condition: 'silence', value: silenceH, threshold: 12, window: '12h', firing: silenceH >= 12, message: `no event for ${silenceH.toFixed(1)} hours` },
      { condition: 'duplicates', value: dr, threshold: 0.05, window: '1h', firing: rec60 >= 20 && dr > 0.05, message: `${(dr * 100).toFixed(1)}% duplicates in the last hour` },
      { condition: 'latency', value: slowMinutes, threshold: 10, window: '10m', firing: slowMinutes >= 10, message: `processing latency above 10 s in ${slowMinutes} of the last 10 minutes` },
    ];
  }

  /** One node per minute evaluates every org seen in the last 30 days; publishes transitions. */
  async evaluateAll(force = false): Promise<number> {
    const minute = Math.floor(Date.now() / 60_000);
    if (!force && !(await this.o.kv.setIfAbsent(`ingest:quality:eval:${minute}`, this.o.nodeId, 120))) return 0;
    await this.flush().catch(this.o.onError);
    const rs = await this.o.client.query({
      query: `SELECT DISTINCT org_id FROM ${this.o.database}.ingestion_quality WHERE minute >= now() - INTERVAL 30 DAY`,
      format: 'JSONEachRow',
    });
    const orgs = ((await rs.json()) as Array<{ org_id: string }>).map((r) => r.org_id);
    let published = 0;
    for (const org of orgs) {
      for (const c of await this.conditions(org)) {
        const key = `ingest:quality:state:${org}:${c.condition}`;
        const prev = (await this.o.kv.get(key)) === 'firing';
        if (prev === c.firing) continue;
        await this.o.kv.set(key, c.firing ? 'firing' : 'resolved', 30 * 86_400);
        const { firing, ...rest } = c;
        const msg: AlertState = { ...rest, state: firing ? 'firing' : 'resolved', at: new Date().toISOString() };
        await this.o.bus.publish(org, { kind: 'org' }, QUALITY_TOPIC, msg);
        published++;
      }
    }
    return published;
  }
}

export const qualityTable = {
  name: '0001_ingestion_quality',
  statements: [
    `CREATE TABLE IF NOT EXISTS {db}.ingestion_quality{cluster} (
      org_id LowCardinality(String),
      minute DateTime('UTC'),
      node_id LowCardinality(String),
      received UInt64, accepted UInt64, invalid UInt64, missing_required UInt64,
      duplicates UInt64, fixed UInt64, suspicious UInt64,
      latency_count UInt64, latency_sum_ms Float64, latency_max_ms Float64, latency_over_10s UInt64
    ) ENGINE = {engine:MergeTree}
    PARTITION BY toYYYYMM(minute)
    ORDER BY (org_id, minute, node_id)
    TTL minute + INTERVAL 90 DAY`,
  ],
};
