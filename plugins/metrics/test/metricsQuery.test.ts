/**
 * The metrics query compiler against a brute-force reference computed here from
 * the random events the test wrote: random queries (measures, filters, groups,
 * granularities, zones) must answer exactly what the reference says.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { runMetricsBatch, runMetricsWindows, type MetricsQuery } from '../backend/metricsQuery.ts';
import { BACKGROUND_SETTINGS } from '../backend/service.ts';
import type { AnalyticsClient } from '@orrery/plugin-sdk';
import { FROM, SPAN, makeEvents, reference, rng, type Ev } from './reference.ts';

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
  }, 300_000);
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
  }, 600_000);

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
      const range = { from: new Date(from), to: new Date(to) };
      // a background read (alert rounds: one ClickHouse thread) must answer exactly the same
      for (const batch of [await runMetricsBatch(analytics, queries, range), await runMetricsBatch(analytics, queries, range, null, 15, BACKGROUND_SETTINGS)]) {
        for (const [i, q] of queries.entries()) {
          const want = reference(events, q, from, to);
          const got = [...batch[i]!].sort((a, b) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));
          expect(got.map((x) => x.group), JSON.stringify(q)).toEqual(want.map((x) => x.group));
          for (const [j, w] of want.entries()) expect(close(got[j]!.total, w.total), `${JSON.stringify(q)}: ${got[j]!.total} vs ${w.total}`).toBe(true);
        }
      }
    }
  }, 120_000);

  it('computes a question asked several times in a batch once, and answers every position as the reference', async () => {
    const s = backend.kernel.services.analytics;
    const statements: string[] = [];
    const analytics: AnalyticsClient = {
      orgId: backend.org.id,
      table: (name) => `${s.database}.${name}`,
      async query<T>(sql: string, params: Record<string, unknown> = {}) {
        statements.push(sql);
        const r = await s.client.query({ query: sql, query_params: { ...params, org_id: backend.org.id }, format: 'JSONEachRow' });
        return (await r.json()) as T[];
      },
      insert: async () => undefined,
      command: async () => undefined,
    };
    const rand = rng(2026);
    const choose = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
    for (let round = 0; round < 6; round++) {
      const { from, to } = randomQuery(rand);
      const base = Array.from({ length: 5 }, () => randomQuery(rand).q);
      // each question asked 1-4 times, in a shuffled order, some copies with another
      // granularity or time zone (a total ignores both)
      const queries: MetricsQuery[] = [];
      for (const q of base) for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) queries.push({ ...q, granularity: choose([undefined, 'hour', 'day']), tz: choose([undefined, 'Europe/Berlin']) });
      for (let i = queries.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [queries[i], queries[j]] = [queries[j]!, queries[i]!];
      }
      const distinct = new Set(queries.map((q) => JSON.stringify({ ...q, granularity: undefined, tz: undefined }))).size;
      statements.length = 0;
      const [answer] = await runMetricsWindows(analytics, queries, [{ from: new Date(from), to: new Date(to) }]);
      // one value and one count aggregate per distinct question, whatever the repeats
      expect(statements.join('\n').match(/ AS v\d+/g)?.length).toBe(distinct);
      for (const [i, q] of queries.entries()) {
        const want = reference(events, { ...q, granularity: undefined, tz: undefined }, from, to);
        const got = [...answer![i]!].sort((a, b) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));
        expect(got.map((x) => x.group), JSON.stringify(q)).toEqual(want.map((x) => x.group));
        for (const [j, w] of want.entries()) expect(close(got[j]!.total, w.total), `${JSON.stringify(q)}: ${got[j]!.total} vs ${w.total}`).toBe(true);
      }
    }
  }, 120_000);

  it('answers a batch over several ranges at once exactly as the reference says for each range', async () => {
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
    const rand = rng(4242);
    // touching (a period and the one before), overlapping, apart, one empty, and a single range
    const shapes = ['touching', 'overlapping', 'apart', 'with-empty', 'single'] as const;
    for (let round = 0; round < 10; round++) {
      const shape = shapes[round % shapes.length]!;
      const { from, to } = randomQuery(rand);
      const len = Math.max(3_600_000, Math.floor((to - from) / 2));
      const ranges =
        shape === 'touching' ? [{ from: from + len, to: from + 2 * len }, { from, to: from + len }]
        : shape === 'overlapping' ? [{ from, to: from + len }, { from: from + Math.floor(len / 2), to: from + 2 * len }]
        : shape === 'apart' ? [{ from, to: from + Math.floor(len / 3) }, { from: from + len, to: from + 2 * len }, { from: from + Math.floor(len / 2), to: from + Math.floor(len / 2) + 3_600_000 }]
        : shape === 'with-empty' ? [{ from, to: from + len }, { from: from + len, to: from + len }]
        : [{ from, to }];
      const queries: MetricsQuery[] = Array.from({ length: 8 }, () => ({ ...randomQuery(rand).q, granularity: undefined, tz: undefined }));
      const answer = await runMetricsWindows(analytics, queries, ranges.map((r) => ({ from: new Date(r.from), to: new Date(r.to) })));
      expect(answer.length).toBe(ranges.length);
      for (const [w, r] of ranges.entries())
        for (const [i, q] of queries.entries()) {
          const ctx = `${shape} range ${w} ${JSON.stringify(q)}`;
          const want = reference(events, q, r.from, r.to);
          const got = [...answer[w]![i]!].sort((a, b) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));
          expect(got.map((x) => x.group), ctx).toEqual(want.map((x) => x.group));
          for (const [j, x] of want.entries()) expect(close(got[j]!.total, x.total), `${ctx}: ${got[j]!.total} vs ${x.total}`).toBe(true);
        }
    }
  }, 120_000);
});
