/**
 * The rollup planner: after a fold, with more events inserted that the fold has not reached
 * (late ones included), random queries answered from rollups + raw edges + unfolded rows
 * must equal the raw-only answer and the brute-force reference, in UTC and in zones with a
 * daylight-saving change; and the plan must really read the rollup tables where it can.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import type { AnalyticsClient } from '@orrery/plugin-sdk';
import plugin from '../backend/index.ts';
import { runMetricsQuery } from '../backend/metricsQuery.ts';
import { neededDimensions } from '../backend/planner.ts';
import { FROM, SPAN, makeEvents, reference, rng, type Ev } from './reference.ts';
import { scopedQuery } from '../frontend/src/scope.ts';

/** Berlin falls back on 2026-10-25 (a 25-hour day), New York on 2026-11-01 */
const DST_FROM = Date.parse('2026-10-24T00:00:00Z');
const DST_SPAN = 9 * 86_400_000;

/** some invocations become tool calls (another event type in the same rollup) */
function withToolCalls(rand: () => number, evs: Ev[]): Ev[] {
  return evs.map((e) =>
    rand() < 0.3
      ? { event_id: `${e.event_id}-t`, event_type: 'tool_call', action: rand() < 0.5 ? 'result' : 'decision', timestamp: e.timestamp, user_id: e.user_id, department_id: e.department_id, agent_name: e.agent_name, tool_name: 'grep', status: e.status, duration_ms: Math.round(rand() * 900) }
      : e,
  );
}

function randomQuery(rand: () => number) {
  const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const tool = rand() < 0.25;
  const measure = pick(['count', 'count', 'users', 'sum', 'avg', 'min', 'max', 'rate', 'rate', 'p95']);
  const q: any = { event_type: tool ? 'tool_call' : 'agent_invocation', measure };
  if (['sum', 'avg', 'min', 'max', 'p95'].includes(measure)) q.field = tool ? 'duration_ms' : pick(['execution_time_ms', 'input_tokens', 'cost_usd']);
  if (measure === 'rate') q.rate_where = tool ? { action: 'decision' } : pick([{ status: 'failure' }, { model_used: 'm-large' }, { status: 'success', agent_name: ['coder', 'planner'] }]);
  if (rand() < 0.5) q.where = tool ? { status: 'success' } : pick([{ agent_name: 'planner' }, { status: ['success', 'failure'] }, { model_used: 'm-small', status: 'success' }, { user_id: 'u1' }]);
  if (rand() < 0.6) q.group_by = tool ? ['agent_name'] : pick([['agent_name'], ['department_id'], ['agent_name', 'status'], ['model_used']]);
  if (rand() < 0.2) q.department_id = 'd-eng';
  if (rand() < 0.7) q.granularity = pick(['hour', 'hour', 'day', 'week']);
  if (q.granularity && rand() < 0.5) q.tz = pick(['Europe/Berlin', 'America/New_York', 'Asia/Kolkata']);
  const dst = rand() < 0.4;
  const [base, span] = dst ? [DST_FROM, DST_SPAN] : [FROM, SPAN];
  // ranges that start and end inside hours: raw edges, whole hours, whole days
  const from = base + Math.floor(rand() * span * 0.4) + 60_000 * Math.floor(rand() * 59) + 1234;
  const to = from + Math.floor(span * (0.1 + rand() * 0.5)) + 77_000;
  return { q, from, to };
}

const close = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));

describe('metrics query planner: rollups where they answer exactly, raw otherwise', () => {
  let backend: TestBackend;
  let events: Ev[] = [];
  let watermark = 0;
  let analytics: AnalyticsClient;

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    const rand = rng(2026);
    const folded = withToolCalls(rand, [...makeEvents(rand, 700, 'a'), ...makeEvents(rand, 500, 'dst', DST_FROM, DST_SPAN)]);
    await backend.org.insertEvents(folded);
    // another org, same names: in the same rollup tables, never in this org's answers
    const other = await backend.createOrg('metrics-planner-other');
    await other.insertEvents(withToolCalls(rand, makeEvents(rand, 400, 'o')));
    await new Promise((r) => setTimeout(r, 2500)); // past the fold's grace period
    const folds = await backend.foldRollups();
    const mine = folds.filter((f) => f.plugin === 'metrics');
    expect(mine.length).toBeGreaterThan(0);
    watermark = Math.max(...mine.map((f) => f.to_ms));
    // events the fold has not reached, late ones (old timestamps) included
    const fresh = withToolCalls(rand, [...makeEvents(rand, 250, 'late'), ...makeEvents(rand, 150, 'late-dst', DST_FROM, DST_SPAN)]);
    await backend.org.insertEvents(fresh);
    events = [...folded, ...fresh];
    const s = backend.kernel.services.analytics;
    analytics = {
      orgId: backend.org.id,
      table: (name) => `${s.database}.${name}`,
      async query<T>(sql: string, params: Record<string, unknown> = {}) {
        const r = await s.client.query({ query: sql, query_params: { ...params, org_id: backend.org.id }, format: 'JSONEachRow' });
        return (await r.json()) as T[];
      },
      insert: async () => undefined,
      command: async () => undefined,
    };
  }, 300_000);
  afterAll(() => backend?.close());

  it('the fold filled the rollup tables', async () => {
    const rows = await analytics.query<{ n: string }>(`SELECT sum(n) AS n FROM ${analytics.table('metrics_ev_1h')} WHERE org_id = {org_id:String}`);
    const folded = events.filter((e) => !String(e.event_id).startsWith('late')).length;
    expect(Number(rows[0]!.n)).toBe(folded);
  });

  it('50 random queries: planned (route), raw-only (route) and the direct planned read all equal the reference', async () => {
    const rand = rng(4242);
    let planned = 0;
    let answerable = 0;
    for (let n = 0; n < 50; n++) {
      const { q, from, to } = randomQuery(rand);
      const body = { ...q, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
      const want = reference(events.filter((e) => e.event_type === q.event_type), q, from, to);
      const ctx = JSON.stringify(body);
      const tables: string[][] = [];
      const direct = await runMetricsQuery(analytics, q, { from: new Date(from), to: new Date(to) }, null, 15, {
        rollups: { read: (_name, fn) => fn(new Date(watermark), { derived: new Set() }) },
        onPlan: (t) => tables.push(t),
      });
      const viaRoute = await backend.client.post('/api/v1/metrics/query', body);
      const viaRaw = await backend.client.post('/api/v1/metrics/query?rollups=false', body);
      expect(viaRoute.status, `${ctx} ${viaRoute.text}`).toBe(200);
      expect(viaRaw.status, ctx).toBe(200);
      for (const [label, series] of [['direct', direct], ['route', viaRoute.body.series], ['raw', viaRaw.body.series]] as const) {
        const got = [...(series as any[])].sort((a, b) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));
        expect(got.map((s) => s.group), `${label} ${ctx}`).toEqual(want.map((s) => s.group));
        for (const [i, s] of want.entries()) {
          expect(close(got[i].total, s.total), `${label} ${ctx} total ${got[i].total} vs ${s.total}`).toBe(true);
          expect(got[i].points.map((p: any) => p.bucket), `${label} ${ctx}`).toEqual(s.points.map((p) => p.bucket));
          for (const [j, p] of s.points.entries()) expect(close(got[i].points[j].value, p.value), `${label} ${ctx} ${p.bucket}: ${got[i].points[j].value} vs ${p.value}`).toBe(true);
        }
      }
      if (neededDimensions(q, null)) answerable++;
      if (tables.flat().some((t) => t.startsWith('metrics_ev'))) planned++;
      // a question no rollup holds reads raw events only
      if (!neededDimensions(q, null)) expect(tables.flat(), ctx).toEqual(tables.flat().map(() => 'events'));
    }
    console.info(`planner: ${planned} of ${answerable} answerable questions read rollup tables`);
    // most answerable questions (not Kolkata's half-hour offset, not sub-hour ranges) did read rollups
    expect(planned).toBeGreaterThan(answerable * 0.6);
  }, 900_000);

  it('a dashboard\'s department and agent filters, applied by the Metric widget, give the reference over only those events', async () => {
    const rand = rng(99);
    for (let n = 0; n < 20; n++) {
      const { q, from, to } = randomQuery(rand);
      const department = rand() < 0.6 ? { id: ['d-eng', 'd-ops'][Math.floor(rand() * 2)]! } : null;
      const agent = rand() < 0.7 ? ['planner', 'coder', 'reviewer'][Math.floor(rand() * 3)]! : undefined;
      const body = scopedQuery(q, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), tz: q.tz ?? 'UTC', department, filters: agent ? { agent_name: agent } : {} });
      // the reference narrows the events itself, not the query: what the dashboard promises
      const seen = events.filter((e) => e.event_type === q.event_type && (!department || e.department_id === department.id) && (!agent || e.agent_name === agent));
      const want = reference(seen, q, from, to);
      const res = await backend.client.post('/api/v1/metrics/query', body);
      expect(res.status, res.text).toBe(200);
      const ctx = JSON.stringify(body);
      const got = [...res.body.series].sort((a: any, b: any) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));
      expect(got.map((s: any) => s.group), ctx).toEqual(want.map((s) => s.group));
      for (const [i, s] of want.entries()) {
        expect(close(got[i].total, s.total), `${ctx} total ${got[i].total} vs ${s.total}`).toBe(true);
        for (const [j, p] of s.points.entries()) expect(close(got[i].points[j].value, p.value), `${ctx} ${p.bucket}`).toBe(true);
      }
    }
  }, 300_000);
});
