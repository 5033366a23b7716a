/**
 * The metrics plugin over HTTP against the brute-force reference: the query across
 * daylight-saving changes, limits and bad input (400 naming the field), metric sources,
 * custom metrics, the executions and credits routes, and another org's data never showing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import type { AnalyticsClient } from '@orrery/plugin-sdk';
import plugin from '../backend/index.ts';
import { runMetricsQuery } from '../backend/metricsQuery.ts';
import { bucketOf, makeEvents, matchesWhere, reference, rng, type Ev } from './reference.ts';

// Europe/Berlin falls back on 2026-10-25 at 01:00 UTC and springs forward on 2026-03-29 at 01:00 UTC
const OCT = Date.parse('2026-10-23T00:00:00Z');
const MAR = Date.parse('2026-03-27T00:00:00Z');
const JAN = Date.parse('2026-01-01T00:00:00Z');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const close = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)));
const byGroup = (xs: any[]) => [...xs].sort((a, b) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));

function expectSame(got: any, want: ReturnType<typeof reference>, q: any) {
  const ctx = JSON.stringify(q);
  const g = byGroup(got.series);
  expect(g.map((s: any) => s.group), ctx).toEqual(want.map((s) => s.group));
  for (const [i, s] of want.entries()) {
    expect(close(g[i].total, s.total), `${ctx} total ${g[i].total} vs ${s.total}`).toBe(true);
    expect(g[i].points.map((p: any) => p.bucket), ctx).toEqual(q.granularity ? s.points.map((p) => p.bucket) : []);
    for (const [j, p] of s.points.entries()) expect(close(g[i].points[j].value, p.value), `${ctx} ${p.bucket}: ${g[i].points[j].value} vs ${p.value}`).toBe(true);
  }
}

describe('metrics plugin API', () => {
  let backend: TestBackend;
  let other: TestOrg;
  let events: Ev[];
  let otherEvents: Ev[];
  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['agent-analytics'] });
    const r = rng(5);
    events = [...makeEvents(r, 400, 'oct', OCT, 4 * DAY), ...makeEvents(r, 250, 'mar', MAR, 4 * DAY), ...makeEvents(r, 1100, 'jan', JAN, 2 * DAY)];
    await backend.org.insertEvents(events);
    other = await backend.createOrg('metrics-api-other');
    // the same agents, departments and users with other numbers: they must never show in the first org
    otherEvents = makeEvents(rng(77), 300, 'o', OCT, 4 * DAY);
    await other.insertEvents(otherEvents);
  }, 300_000);
  afterAll(() => backend?.close());

  it('answers every measure by hour and by day in Europe/Berlin across both daylight-saving changes', async () => {
    const measures = ['count', 'users', 'sum', 'avg', 'min', 'max', 'p50', 'p75', 'p90', 'p95', 'p99', 'rate'];
    for (const [start, span] of [[OCT, 4 * DAY], [MAR, 4 * DAY]] as const) {
      for (const [i, measure] of measures.entries()) {
        const q: any = { event_type: 'agent_invocation', measure, granularity: i % 2 ? 'hour' : 'day', tz: 'Europe/Berlin', group_by: i % 3 ? ['agent_name'] : [] };
        if (!['count', 'users', 'rate'].includes(measure)) q.field = ['execution_time_ms', 'input_tokens', 'cost_usd'][i % 3];
        if (measure === 'rate') q.rate_where = { status: 'failure' };
        if (i % 4 === 0) q.where = { model_used: 'm-large' };
        const from = start + 5 * 3_600_000;
        const to = start + span - 7 * 3_600_000;
        const res = await backend.client.post('/api/v1/metrics/query', { ...q, from: iso(from), to: iso(to) });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expectSame(res.body, reference(events, q, from, to), q);
      }
    }
    // the fall-back day has 25 hours, the spring-forward day 23
    const oct25 = await backend.client.post('/api/v1/metrics/query', { event_type: 'agent_invocation', measure: 'count', granularity: 'hour', tz: 'Europe/Berlin', from: '2026-10-24T22:00:00Z', to: '2026-10-25T23:00:00Z' });
    expect(oct25.body.series[0].points).toHaveLength(25);
    const mar29 = await backend.client.post('/api/v1/metrics/query', { event_type: 'agent_invocation', measure: 'count', granularity: 'hour', tz: 'Europe/Berlin', from: '2026-03-28T23:00:00Z', to: '2026-03-29T22:00:00Z' });
    expect(mar29.body.series[0].points).toHaveLength(23);
  }, 600_000);

  it('answers minute, week and month buckets in UTC and zones', async () => {
    const cases: Array<[any, number, number]> = [
      [{ measure: 'count', granularity: 'minute', group_by: ['status'] }, OCT + DAY + 3_600_000, OCT + DAY + 3 * 3_600_000],
      [{ measure: 'users', granularity: 'week', tz: 'America/New_York' }, MAR - 10 * DAY, OCT + 5 * DAY],
      [{ measure: 'sum', field: 'cost_usd', granularity: 'month', tz: 'Europe/Berlin', group_by: ['department_id', 'model_used'] }, JAN, OCT + 5 * DAY],
      [{ measure: 'p95', field: 'execution_time_ms', granularity: 'month' }, JAN, OCT + 5 * DAY],
      [{ measure: 'count', granularity: 'day', tz: 'Asia/Kolkata', department_id: 'd-ops' }, MAR, MAR + 4 * DAY],
    ];
    for (const [over, from, to] of cases) {
      const q = { event_type: 'agent_invocation', ...over };
      const res = await backend.client.post('/api/v1/metrics/query', { ...q, from: iso(from), to: iso(to) });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expectSame(res.body, reference(events, q, from, to), q);
    }
  }, 300_000);

  it('never shows another org\'s events: each org gets its own reference', async () => {
    const q = { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name', 'department_id'], granularity: 'day' } as const;
    const range = { from: iso(OCT), to: iso(OCT + 4 * DAY) };
    const mine = await backend.client.post('/api/v1/metrics/query', { ...q, ...range });
    const theirs = await other.client.post('/api/v1/metrics/query', { ...q, ...range });
    expectSame(mine.body, reference(events, q, OCT, OCT + 4 * DAY), q);
    expectSame(theirs.body, reference(otherEvents, q, OCT, OCT + 4 * DAY), q);
    expect(mine.body).not.toEqual(theirs.body);
  });

  it('answers a batch of random queries each as the reference and as POST /query alone, a bad one with its own error, per org', async () => {
    const r = rng(18);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    const measures = ['count', 'users', 'sum', 'avg', 'min', 'max', 'p50', 'p95', 'rate'];
    const queries: any[] = [];
    for (let i = 0; i < 14; i++) {
      const measure = pick(measures);
      const q: any = { event_type: 'agent_invocation', measure, tz: pick(['UTC', 'Europe/Berlin', 'America/New_York']) };
      if (!['count', 'users', 'rate'].includes(measure)) q.field = pick(['execution_time_ms', 'input_tokens', 'cost_usd']);
      if (measure === 'rate') q.rate_where = { status: 'failure' };
      const granularity = pick(['hour', 'day', null]);
      if (granularity) q.granularity = granularity;
      const groups = pick([[], ['agent_name'], ['model_used', 'status'], ['department_id']]);
      if (groups.length) q.group_by = groups;
      if (r() < 0.3) q.where = { model_used: pick(['m-large', 'm-small']) };
      if (r() < 0.2) q.department_id = 'd-ops';
      const from = OCT + Math.floor(r() * 30) * 3_600_000 + Math.floor(r() * 3_600_000);
      queries.push({ ...q, from: iso(from), to: iso(from + DAY + Math.floor(r() * 2 * DAY)) });
    }
    // a query that alone answers 400 naming its field: its place holds that error, the others are answered
    queries.splice(5, 0, { event_type: 'agent_invocation', measure: 'p95', from: iso(OCT), to: iso(OCT + DAY) });
    for (const [who, client, evs] of [['mine', backend.client, events], ['theirs', other.client, otherEvents]] as const) {
      const res = await client.post('/api/v1/metrics/query/batch', { queries });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.answers).toHaveLength(queries.length);
      for (const [i, q] of queries.entries()) {
        const alone = await client.post('/api/v1/metrics/query', q);
        if (i === 5) {
          expect(alone.status).toBe(400);
          expect(res.body.answers[i], who).toEqual({ status: 400, error: alone.body.error });
          expect(res.body.answers[i].error.details.field).toBe('field');
          continue;
        }
        expectSame(res.body.answers[i], reference(evs, q, Date.parse(q.from), Date.parse(q.to)), { who, ...q });
        expect(res.body.answers[i], `${who} ${JSON.stringify(q)}`).toEqual(alone.body);
      }
    }
    const one = { event_type: 'agent_invocation', measure: 'count', from: iso(OCT), to: iso(OCT + DAY) };
    for (const [body, field] of [[{}, 'queries'], [{ queries: [] }, 'queries'], [{ queries: Array(51).fill(one) }, 'queries'], [{ queries: [one], extra: 1 }, 'extra']] as const) {
      const res = await backend.client.post('/api/v1/metrics/query/batch', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(JSON.stringify(res.body.error)).toContain(field);
    }
  }, 600_000);

  it('refuses bad input and answers beyond the limits with a 400 naming the field', async () => {
    const at = { from: iso(OCT), to: iso(OCT + DAY) };
    const cases: Array<[any, string]> = [
      [{ event_type: 'agent_invocation', measure: 'count', from: at.to, to: at.from }, 'from'],
      [{ event_type: 'agent_invocation', measure: 'median', ...at }, 'measure'],
      [{ event_type: 'agent_invocation', measure: 'sum', field: 'nope', ...at }, 'field'],
      [{ event_type: 'nope', measure: 'count', ...at }, 'event_type'],
      [{ measure: 'count', ...at }, 'event_type'],
      [{ event_type: 'agent_invocation', measure: 'count', group_by: ['a', 'b', 'c', 'd'], ...at }, 'group_by'],
      [{ event_type: 'agent_invocation', measure: 'count', group_by: ['invocation_id'], from: iso(JAN), to: iso(JAN + 3 * DAY) }, 'group_by'],
      [{ event_type: 'agent_invocation', measure: 'count', group_by: ['invocation_id'], granularity: 'minute', from: iso(JAN), to: iso(JAN + DAY / 2) }, 'granularity'],
      [{ event_type: 'agent_invocation', measure: 'count', granularity: 'minute', from: iso(JAN), to: iso(JAN + 30 * DAY) }, 'granularity'],
      [{ source: 'agent-analytics', metric: 'invocations', measure: 'count', ...at }, 'measure'],
      [{ source: 'nobody', metric: 'invocations', ...at }, 'source'],
      [{ source: 'agent-analytics', metric: 'nope', ...at }, 'metric'],
      [{ metric: 'invocations', ...at }, 'source'],
    ];
    for (const [body, field] of cases) {
      const res = await backend.client.post('/api/v1/metrics/query', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body.error), JSON.stringify(body)).toContain(field);
      if (res.body.error.details?.field !== undefined) expect(res.body.error.details.field, JSON.stringify(res.body)).toBe(field);
    }
  });

  it('answers a query that runs past its time-out with query_timeout', async () => {
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
    const q = { event_type: 'agent_invocation', measure: 'p99' as const, field: 'execution_time_ms', group_by: ['agent_name'] };
    const err = await runMetricsQuery(analytics, q, { from: new Date(JAN), to: new Date(OCT + 5 * DAY) }, null, 0.000001).then(
      () => null,
      (e) => e,
    );
    expect(err, 'a nanosecond is not enough for any ClickHouse query').not.toBeNull();
    expect(err.statusCode).toBe(504);
    expect(err.code).toBe('query_timeout');
  });

  it("answers a metric source's metric in total and per bucket", async () => {
    const from = OCT;
    const to = OCT + 3 * DAY;
    const res = await backend.client.post('/api/v1/metrics/query', { source: 'agent-analytics', metric: 'invocations', granularity: 'day', tz: 'Europe/Berlin', from: iso(from), to: iso(to) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const want = reference(events, { measure: 'count', granularity: 'day', tz: 'Europe/Berlin' }, from, to)[0]!;
    expect(res.body.series).toHaveLength(1);
    expect(res.body.series[0].total).toBe(want.total);
    expect(res.body.series[0].points).toEqual(want.points);
  });

  it('saves, lists, answers, replaces and deletes custom metrics, per org', async () => {
    const c = backend.client;
    const query = { event_type: 'agent_invocation', measure: 'p90', field: 'execution_time_ms', group_by: ['model_used'], granularity: 'day' };
    const created = await c.post('/api/v1/metrics/custom', { key: 'latency.p90', name: 'p90 latency by model', query });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body).toMatchObject({ key: 'latency.p90', name: 'p90 latency by model', query });
    expect((await c.post('/api/v1/metrics/custom', { key: 'latency.p90', name: 'again', query })).status).toBe(409);
    const bad = await c.post('/api/v1/metrics/custom', { key: 'bad', name: 'bad', query: { ...query, field: 'agent_name' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('query.field');
    const badKey = await c.post('/api/v1/metrics/custom', { key: 'Has Spaces', name: 'x', query });
    expect(badKey.status).toBe(400);
    expect(JSON.stringify(badKey.body.error)).toContain('key');

    expect((await c.get('/api/v1/metrics/custom')).body.metrics.map((m: any) => m.key)).toEqual(['latency.p90']);
    const from = OCT + 2 * 3_600_000;
    const to = OCT + 3 * DAY;
    const got = await c.get('/api/v1/metrics/custom/latency.p90', { from: iso(from), to: iso(to), tz: 'Europe/Berlin', granularity: 'hour' });
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expectSame(got.body, reference(events, { ...query, granularity: 'hour', tz: 'Europe/Berlin' }, from, to), query);
    const posted = await c.post('/api/v1/metrics/query', { ...query, granularity: 'hour', tz: 'Europe/Berlin', from: iso(from), to: iso(to) });
    expect(got.body.series).toEqual(posted.body.series);

    const replaced = await c.put('/api/v1/metrics/custom/latency.p90', { name: 'failures', query: { event_type: 'agent_invocation', measure: 'count', where: { status: 'failure' } } });
    expect(replaced.status).toBe(200);
    const totals = await c.get('/api/v1/metrics/custom/latency.p90', { from: iso(from), to: iso(to) });
    expect(totals.body.series[0].total).toBe(events.filter((e) => matchesWhere(e, { status: 'failure' }) && Date.parse(e.timestamp) >= from && Date.parse(e.timestamp) < to).length);

    // the other org has none of it
    expect((await other.client.get('/api/v1/metrics/custom')).body.metrics).toEqual([]);
    expect((await other.client.get('/api/v1/metrics/custom/latency.p90')).status).toBe(404);
    expect((await other.client.delete('/api/v1/metrics/custom/latency.p90')).status).toBe(404);

    expect((await c.delete('/api/v1/metrics/custom/latency.p90')).status).toBe(200);
    expect((await c.get('/api/v1/metrics/custom/latency.p90')).status).toBe(404);
    expect((await c.put('/api/v1/metrics/custom/latency.p90', { name: 'x', query })).status).toBe(404);
  });

  it('answers /executions as the reference, by hour in Berlin across the fall-back and by day in UTC', async () => {
    for (const [granularity, tz, agent] of [['hour', 'Europe/Berlin', 'planner'], ['day', 'UTC', undefined]] as const) {
      const from = OCT + 3_600_000;
      const to = OCT + 4 * DAY - 3_600_000;
      const res = await backend.client.get('/api/v1/metrics/executions', { from: iso(from), to: iso(to), granularity, tz, ...(agent ? { agent_name: agent } : {}) });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const where = agent ? { agent_name: agent } : undefined;
      const ref = (measure: string, extra: any = {}) => reference(events, { measure, granularity, tz, where, field: 'execution_time_ms', ...extra }, from, to)[0]!;
      const count = ref('count');
      const rate = ref('rate', { rate_where: { status: 'success' } });
      const p50 = ref('p50');
      const p95 = ref('p95');
      const p99 = ref('p99');
      expect(res.body.points.map((p: any) => p.bucket)).toEqual(count.points.map((p) => p.bucket));
      expect(res.body.total.invocations).toBe(count.total);
      expect(close(res.body.total.success_rate, rate.total)).toBe(true);
      expect(close(res.body.total.p95_ms, p95.total)).toBe(true);
      for (const [i, p] of res.body.points.entries()) {
        expect(p.invocations).toBe(count.points[i]!.value);
        expect(p.successes + p.failures).toBe(p.invocations);
        expect(close(p.success_rate, rate.points[i]!.value), `${p.bucket} rate`).toBe(true);
        expect(close(p.p50_ms, p50.points[i]!.value), `${p.bucket} p50`).toBe(true);
        expect(close(p.p95_ms, p95.points[i]!.value), `${p.bucket} p95`).toBe(true);
        expect(close(p.p99_ms, p99.points[i]!.value), `${p.bucket} p99`).toBe(true);
      }
    }
  });

  it('answers /credits by model, agent and department as the reference', async () => {
    const from = MAR;
    const to = MAR + 4 * DAY;
    for (const [by, col] of [['model', 'model_used'], ['agent', 'agent_name'], ['department', 'department_id']] as const) {
      const res = await backend.client.get('/api/v1/metrics/credits', { from: iso(from), to: iso(to), granularity: 'day', tz: 'Europe/Berlin', by });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const inRange = events.filter((e) => Date.parse(e.timestamp) >= from && Date.parse(e.timestamp) < to);
      const keys = [...new Set(inRange.map((e) => String(e[col])))].sort();
      expect(res.body.series.map((s: any) => s.key).sort()).toEqual(keys);
      for (const s of res.body.series) {
        const mine = inRange.filter((e) => String(e[col]) === s.key);
        expect(close(s.total.cost_usd, mine.reduce((a, e) => a + e.cost_usd, 0))).toBe(true);
        expect(s.total.input_tokens).toBe(mine.reduce((a, e) => a + e.input_tokens, 0));
        expect(s.total.output_tokens).toBe(mine.reduce((a, e) => a + e.output_tokens, 0));
        for (const p of s.points) {
          const inB = mine.filter((e) => bucketOf(Date.parse(e.timestamp), 'day', 'Europe/Berlin') === Date.parse(p.bucket));
          expect(p.invocations).toBe(inB.length);
          expect(close(p.cost_usd, inB.reduce((a, e) => a + e.cost_usd, 0))).toBe(true);
          expect(p.output_tokens).toBe(inB.reduce((a, e) => a + e.output_tokens, 0));
        }
        expect(s.points.reduce((a: number, p: any) => a + p.invocations, 0)).toBe(mine.length);
      }
      expect(close(res.body.total.cost_usd, inRange.reduce((a, e) => a + e.cost_usd, 0))).toBe(true);
    }
    const bad = await backend.client.get('/api/v1/metrics/credits', { by: 'planet' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('by');
  });

  it('lists the Metric widget in the plugin catalogue, its default options a valid query', async () => {
    const res = await backend.client.get('/api/v1/plugins');
    const me = res.body.plugins.find((p: any) => p.id === 'metrics');
    const w = me.widgets.find((x: any) => x.id === 'metric');
    expect(w, JSON.stringify(me.widgets)).toBeDefined();
    const query = w.optionsSchema.properties.query.default;
    const answer = await backend.client.post('/api/v1/metrics/query', { ...query, from: iso(OCT), to: iso(OCT + DAY) });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expectSame(answer.body, reference(events, query, OCT, OCT + DAY), query);
  });

  it("keeps a restricted department's events out of a Developer's answers, and in an Admin's", async () => {
    const dev = await backend.org.addUser({ email: 'metrics-dev@example.com', role: 'Developer', departments: ['open'] });
    await backend.org.addUser({ email: 'metrics-lead@example.com', role: 'Manager', departments: [{ name: 'secret', manager: true }], restricted: ['secret'] });
    const open = backend.org.departments.get('open')!;
    const secret = backend.org.departments.get('secret')!;
    const DEC = Date.parse('2026-12-01T00:00:00Z');
    const mine = makeEvents(rng(3), 60, 'dec', DEC, DAY).map((e, i) => ({ ...e, department_id: i % 3 ? open : secret }));
    await backend.org.insertEvents(mine);
    const body = { event_type: 'agent_invocation', measure: 'count', group_by: ['department_id'], from: iso(DEC), to: iso(DEC + DAY) };
    const asDev = await dev.post('/api/v1/metrics/query', body);
    expect(asDev.status).toBe(200);
    expect(asDev.body.series).toEqual([{ group: { department_id: open }, total: mine.filter((e) => e.department_id === open).length, points: [] }]);
    const asAdmin = await backend.client.post('/api/v1/metrics/query', body);
    expect(byGroup(asAdmin.body.series).map((s: any) => [s.group.department_id, s.total])).toEqual(
      byGroup([open, secret].map((d) => ({ group: { department_id: d }, total: mine.filter((e) => e.department_id === d).length }))).map((s: any) => [s.group.department_id, s.total]),
    );
  });

  it('documents every route in the OpenAPI document, with the quantile function', async () => {
    const doc = (await backend.client.get('/api/docs/json')).body;
    for (const p of ['/api/v1/metrics/query', '/api/v1/metrics/query/batch', '/api/v1/metrics/custom', '/api/v1/metrics/custom/{key}', '/api/v1/metrics/executions', '/api/v1/metrics/credits']) expect(Object.keys(doc.paths), p).toContain(p);
    expect(JSON.stringify(doc.paths['/api/v1/metrics/query'])).toContain('quantileExactInclusive');
  });
});
