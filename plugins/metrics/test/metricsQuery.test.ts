/**
 * The metrics query compiler against a brute-force reference computed here from
 * the random events the test wrote: random queries (measures, filters, groups,
 * granularities, zones) must answer exactly what the reference says.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/plugin-sdk/testing';
import plugin from '../backend/index.ts';
import { runMetricsBatch, type MetricsQuery } from '../backend/metricsQuery.ts';
import type { AnalyticsClient } from '@orrery/plugin-sdk';

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

const FROM = Date.parse('2026-06-01T00:00:00Z');
const SPAN = 3 * 86_400_000;
const AGENTS = ['planner', 'coder', 'reviewer'];
const DEPTS = ['d-eng', 'd-ops'];
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];
const MODELS = ['m-small', 'm-large'];

type Ev = Record<string, any> & { timestamp: string };

function makeEvents(rand: () => number, n: number, tag: string): Ev[] {
  const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => ({
    event_id: `${tag}-${i}`,
    event_type: 'agent_invocation',
    timestamp: new Date(FROM + Math.floor(rand() * SPAN)).toISOString(),
    user_id: pick(USERS),
    department_id: pick(DEPTS),
    session_id: `s${i % 7}`,
    agent_name: pick(AGENTS),
    agent_version: '1',
    invocation_id: `${tag}-inv-${i}`,
    model_used: pick(MODELS),
    input_tokens: Math.floor(rand() * 1000),
    output_tokens: Math.floor(rand() * 500),
    execution_time_ms: Math.round(rand() * 5000 * 100) / 100,
    cost_usd: Math.round(rand() * 1e6) / 1e6,
    status: rand() < 0.8 ? 'success' : 'failure',
  }));
}

// ---- the reference ------------------------------------------------------------------

function localParts(ms: number, tz: string) {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { y: +p.year!, mo: +p.month! - 1, d: +p.day!, h: +p.hour!, mi: +p.minute!, s: +p.second!, wd: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p.weekday!) };
}
/** the instant whose wall clock in tz reads the given local time (no DST gaps in the test range) */
function fromLocal(y: number, mo: number, d: number, h: number, tz: string) {
  const guess = Date.UTC(y, mo, d, h);
  const p = localParts(guess, tz);
  const offset = Date.UTC(p.y, p.mo, p.d, p.h, p.mi, p.s) - guess;
  return guess - offset;
}
function bucketOf(ms: number, g: string, tz: string): number {
  const p = localParts(ms, tz);
  if (g === 'hour') return fromLocal(p.y, p.mo, p.d, p.h, tz);
  if (g === 'day') return fromLocal(p.y, p.mo, p.d, 0, tz);
  if (g === 'week') return fromLocal(p.y, p.mo, p.d - p.wd, 0, tz);
  throw new Error(g);
}
function quantile(xs: number[], q: number) {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < s.length ? s[lo]! + (h - lo) * (s[lo + 1]! - s[lo]!) : s[lo]!;
}
function measure(rows: Ev[], q: any): number | null {
  const vals = () => rows.map((r) => Number(r[q.field]));
  switch (q.measure) {
    case 'count':
      return rows.length;
    case 'users':
      return new Set(rows.map((r) => r.user_id)).size;
    case 'sum':
      return vals().reduce((a, b) => a + b, 0);
  }
  if (!rows.length) return null;
  switch (q.measure) {
    case 'avg':
      return vals().reduce((a, b) => a + b, 0) / rows.length;
    case 'min':
      return Math.min(...vals());
    case 'max':
      return Math.max(...vals());
    case 'rate':
      return rows.filter((r) => matchesWhere(r, q.rate_where)).length / rows.length;
    default:
      return quantile(vals(), Number(q.measure.slice(1)) / 100);
  }
}
function matchesWhere(r: Ev, where: Record<string, unknown> | undefined) {
  return Object.entries(where ?? {}).every(([k, v]) => (Array.isArray(v) ? v : [v]).map(String).includes(String(r[k])));
}
function reference(events: Ev[], q: any, from: number, to: number) {
  const rows = events.filter((e) => {
    const t = Date.parse(e.timestamp);
    return t >= from && t < to && matchesWhere(e, q.where) && (!q.department_id || e.department_id === q.department_id);
  });
  const groups = new Map<string, Ev[]>();
  for (const r of rows) {
    const k = JSON.stringify((q.group_by ?? []).map((g: string) => String(r[g])));
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  if (!(q.group_by ?? []).length && !groups.size) groups.set('[]', []);
  const tz = q.tz ?? 'UTC';
  const buckets: number[] = [];
  if (q.granularity) {
    for (let b = bucketOf(from, q.granularity, tz); b < to; ) {
      buckets.push(b);
      let next = b + 3_600_000;
      while (bucketOf(next, q.granularity, tz) === b) next += 3_600_000;
      b = bucketOf(next, q.granularity, tz);
    }
  }
  const zero = ['count', 'users', 'sum'].includes(q.measure);
  return [...groups.entries()]
    .map(([k, rs]) => ({
      group: Object.fromEntries((q.group_by ?? []).map((g: string, i: number) => [g, JSON.parse(k)[i]])),
      total: measure(rs, q),
      points: buckets.map((b) => {
        const inB = rs.filter((r) => bucketOf(Date.parse(r.timestamp), q.granularity, tz) === b);
        return { bucket: new Date(b).toISOString(), value: inB.length ? measure(inB, q) : zero ? 0 : null };
      }),
    }))
    .sort((a, b) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));
}

function randomQuery(rand: () => number) {
  const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const measure = pick(['count', 'users', 'sum', 'avg', 'min', 'max', 'p50', 'p75', 'p90', 'p95', 'p99', 'rate']);
  const q: any = { event_type: 'agent_invocation', measure };
  if (!['count', 'users', 'rate'].includes(measure)) q.field = pick(['execution_time_ms', 'input_tokens', 'cost_usd']);
  if (measure === 'rate') q.rate_where = pick([{ status: 'failure' }, { model_used: 'm-large' }, { status: 'success', agent_name: ['coder', 'planner'] }]);
  if (rand() < 0.5) q.where = pick([{ agent_name: 'planner' }, { status: ['success', 'failure'] }, { model_used: 'm-small', status: 'success' }, { agent_name: ['coder', 'reviewer'] }]);
  if (rand() < 0.6) q.group_by = pick([['agent_name'], ['department_id'], ['agent_name', 'status'], ['model_used']]);
  if (rand() < 0.2) q.department_id = 'd-eng';
  if (rand() < 0.6) q.granularity = pick(['hour', 'day', 'day', 'week']);
  if (q.granularity && rand() < 0.5) q.tz = pick(['Europe/Berlin', 'America/New_York', 'Asia/Kolkata']);
  const from = FROM + Math.floor(rand() * SPAN * 0.5) - 3_600_000;
  const to = from + 3_600_000 + Math.floor(rand() * SPAN * 0.8);
  return { q, from, to };
}

const close = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)));

describe('metrics query compiler against a brute-force reference', () => {
  let backend: TestBackend;
  let other: TestOrg;
  let events: Ev[];
  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    events = makeEvents(rng(7), 400, 'a');
    await backend.org.insertEvents(events);
    other = await backend.createOrg('metrics-mq-other');
    // same names, other numbers: must never leak into the first org's answers
    await other.insertEvents(makeEvents(rng(99), 300, 'b'));
  }, 60_000);
  afterAll(() => backend?.close());

  it('answers 60 random queries exactly as the reference', async () => {
    const rand = rng(12345);
    for (let n = 0; n < 60; n++) {
      const { q, from, to } = randomQuery(rand);
      const res = await backend.client.post('/api/v1/metrics/query', { ...q, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
      expect(res.status, JSON.stringify({ q, body: res.body })).toBe(200);
      const want = reference(events, q, from, to);
      const got = [...res.body.series].sort((a: any, b: any) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));
      const ctx = JSON.stringify(q);
      expect(got.map((s: any) => s.group), ctx).toEqual(want.map((s) => s.group));
      for (const [i, s] of want.entries()) {
        expect(close(got[i].total, s.total), `${ctx} total ${got[i].total} vs ${s.total}`).toBe(true);
        expect(got[i].points.map((p: any) => p.bucket), ctx).toEqual(q.granularity ? s.points.map((p) => p.bucket) : []);
        for (const [j, p] of s.points.entries()) expect(close(got[i].points[j].value, p.value), `${ctx} bucket ${p.bucket}: ${got[i].points[j].value} vs ${p.value}`).toBe(true);
      }
    }
  }, 120_000);

  it('refuses unknown types, fields and measures with a 400 naming them', async () => {
    const at = { from: '2026-06-01T00:00:00Z', to: '2026-06-02T00:00:00Z' };
    const cases: Array<[any, string]> = [
      [{ event_type: 'nope', measure: 'count' }, 'event_type'],
      [{ event_type: 'agent_invocation', measure: 'sum', field: 'nope' }, 'field'],
      [{ event_type: 'agent_invocation', measure: 'sum', field: 'agent_name' }, 'field'],
      [{ event_type: 'agent_invocation', measure: 'avg' }, 'field'],
      [{ event_type: 'agent_invocation', measure: 'count', where: { tool_name: 'x' } }, 'where.tool_name'],
      [{ event_type: 'agent_invocation', measure: 'count', where: { status: 'maybe' } }, 'where.status'],
      [{ event_type: 'agent_invocation', measure: 'count', group_by: ['bogus'] }, 'group_by[0]'],
      [{ event_type: 'agent_invocation', measure: 'rate' }, 'rate_where'],
      [{ event_type: 'agent_invocation', measure: 'count', granularity: 'day', tz: 'Mars/Olympus' }, 'tz'],
    ];
    for (const [q, field] of cases) {
      const res = await backend.client.post('/api/v1/metrics/query', { ...q, ...at });
      expect(res.status, JSON.stringify(q)).toBe(400);
      expect(res.body.error.details.field).toBe(field);
    }
    const m = await backend.client.post('/api/v1/metrics/query', { event_type: 'agent_invocation', measure: 'median', ...at });
    expect(m.status).toBe(400);
    expect(JSON.stringify(m.body.error)).toContain('measure');
  });

  it('answers a batch of random queries in one go exactly as each alone (the alert rounds use it)', async () => {
    // the same tenant-bound helper shape the SDK hands plugins, over the test backend's ClickHouse
    const s = backend.kernel.services.analytics;
    const analytics: AnalyticsClient = {
      orgId: backend.org.id,
      table: (name) => `${s.database}.${name}`,
      async query<T>(sql: string, params: Record<string, unknown> = {}) {
        const r = await s.client.query({ query: sql, query_params: { ...params, org_id: backend.org.id }, format: 'JSONEachRow' });
        return (await r.json()) as T[];
      },
      insert: async () => undefined,
      command: async () => undefined,
    };
    const rand = rng(777);
    for (let round = 0; round < 6; round++) {
      const { from, to } = randomQuery(rand);
      const queries: MetricsQuery[] = Array.from({ length: 12 }, () => ({ ...randomQuery(rand).q, granularity: undefined, tz: undefined }));
      const batch = await runMetricsBatch(analytics, queries, { from: new Date(from), to: new Date(to) });
      for (const [i, q] of queries.entries()) {
        const want = reference(events, q, from, to);
        const got = [...batch[i]!].sort((a, b) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));
        expect(got.map((x) => x.group), JSON.stringify(q)).toEqual(want.map((x) => x.group));
        for (const [j, w] of want.entries()) expect(close(got[j]!.total, w.total), `${JSON.stringify(q)}: ${got[j]!.total} vs ${w.total}`).toBe(true);
      }
    }
  }, 120_000);
});
