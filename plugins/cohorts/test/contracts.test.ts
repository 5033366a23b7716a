/**
 * What cohorts offers other plugins, read the way a consumer reads it: a small
 * plugin declared here needs cohorts' metric source and every cohort filter,
 * through the public SDK only. Period-n retention is checked against the
 * brute-force reference over the random events sent; cohort filters against
 * the members the test gave its saved cohorts; a second org with same-named
 * cohorts resolves only its own.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cohortFilterRef, definePlugin, metricSourceRef, need, parseTimeRange, timeRangeQuerySchema } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { cohortIds, referenceRetention, rng, type Ev, type P } from './reference.ts';

const DAY = 86_400_000;
const str = { type: 'string', maxLength: 100 } as const;

const consumer = definePlugin({
  from: import.meta.url,
  id: 'cohort-consumer',
  version: '0.1.0',
  sdk: '^2.0.0',
  title: 'Cohort consumer',
  description: "Reads cohorts' metrics and cohort filters",
  routePrefix: 'cohort-consumer',
  permissions: { 'cohort-consumer.read': ['Admin', 'Manager', 'Developer'] },
  needs: [need(metricSourceRef, '^1.0.0', { from: 'cohorts' }), need(cohortFilterRef, '^1.0.0')],
  register(env) {
    env.route<{ metric: string; from?: string; to?: string; department_id?: string }>({
      method: 'GET',
      path: '/metric',
      permission: 'cohort-consumer.read',
      summary: "one of cohorts' metrics",
      schema: {
        querystring: { type: 'object', required: ['metric'], additionalProperties: false, properties: { ...timeRangeQuerySchema, metric: str, department_id: str } },
        response: { 200: { type: 'object', properties: { value: { type: ['number', 'null'] }, metrics: { type: 'array', items: str } } } },
      },
      async handler(req, ctx) {
        const source = await ctx.services.get(metricSourceRef, 'cohorts');
        const value = await source.read(req.query.metric, { range: parseTimeRange(req.query), departmentId: req.query.department_id });
        return { value, metrics: source.metrics.map((m) => m.name) };
      },
    });
    env.route({
      method: 'GET',
      path: '/cohorts',
      permission: 'cohort-consumer.read',
      summary: 'every cohort filter, resolved',
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { cohorts: { type: 'array', items: { type: 'object', properties: { plugin: str, name: str, title: str, users: { type: 'array', items: str } } } } },
          },
        },
      },
      async handler(_req, ctx) {
        const out = [];
        const range = parseTimeRange({});
        for (const { plugin: p, service } of await ctx.services.all(cohortFilterRef))
          for (const c of service.cohorts) out.push({ plugin: p, name: c.name, title: c.title, users: await service.resolve(c.name, { range }) });
        return { cohorts: out };
      },
    });
  },
});

/** Users who start at random moments and come back less and less, over ~4 months. */
function randomEvents(seed: number, prefix: string, depts: string[]): Ev[] {
  const r = rng(seed);
  const base = Date.parse('2026-01-05T00:00:00Z');
  const events: Ev[] = [];
  let n = 0;
  for (let u = 0; u < 60; u++) {
    const home = depts[Math.floor(r() * depts.length)]!;
    let t = base + Math.floor(r() * 90 * DAY);
    const activity = 0.4 + r() * 0.55;
    while (t < base + 130 * DAY && n < 4000) {
      events.push({ event_id: `${prefix}-e${n++}`, event_type: 'session', timestamp: new Date(t).toISOString(), user_id: `${prefix}-u${u}`, department_id: r() < 0.9 ? home : depts[0]! });
      if (r() > activity) break;
      t += r() < 0.6 ? Math.floor(r() * 2 * DAY) : Math.floor(r() * 20 * DAY);
    }
  }
  return events;
}

/** The metric as its definition says, from the reference table: Σ retained[n] ÷ Σ size. */
function referenceRate(events: Ev[], period: P, n: number, from: string, to: string, departmentId?: string): number | null {
  const q = { from, to, tz: 'UTC', period, periods: n + 1, mode: 'first_time' as const, counting: 'exact' as const, start_event: 'any', return_event: 'any', ...(departmentId ? { department_id: departmentId } : {}) };
  const table = referenceRetention(events, q);
  let size = 0;
  let kept = 0;
  for (const id of cohortIds(Date.parse(from), Date.parse(to), period, 'UTC')) {
    const row = table.get(id);
    if (!row) continue;
    size += row.size;
    kept += row.retained[n] ?? 0;
  }
  return size ? kept / size : null;
}

describe('cohorts through the SDK contracts', () => {
  let b: TestBackend;
  let other: TestOrg;
  const events = randomEvents(41, 'a', ['dept-a', 'dept-b']);

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin, consumer] });
    other = await b.createOrg('cohorts-contract-other');
    await b.org.insertEvents(events.map((e) => ({ ...e, action: 'started' })));
    await other.insertEvents(randomEvents(42, 'b', ['dept-a']).map((e) => ({ ...e, action: 'started' })));
  }, 60_000);
  afterAll(() => b?.close());

  it('offers period-n retention equal to the reference, for several ranges and a department', async () => {
    const cases: Array<{ metric: string; period: P; n: number; from: string; to: string; department_id?: string }> = [
      { metric: 'day1_retention', period: 'day', n: 1, from: '2026-01-10T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      { metric: 'day7_retention', period: 'day', n: 7, from: '2026-01-05T00:00:00Z', to: '2026-04-01T00:00:00Z' },
      { metric: 'day7_retention', period: 'day', n: 7, from: '2026-01-05T00:00:00Z', to: '2026-04-01T00:00:00Z', department_id: 'dept-b' },
      { metric: 'week1_retention', period: 'week', n: 1, from: '2026-01-05T00:00:00Z', to: '2026-03-30T00:00:00Z' },
      { metric: 'month1_retention', period: 'month', n: 1, from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
    ];
    let nonZero = 0;
    for (const c of cases) {
      const res = await b.client.get('/api/v1/cohort-consumer/metric', { metric: c.metric, from: c.from, to: c.to, ...(c.department_id ? { department_id: c.department_id } : {}) });
      expect(res.status, res.text).toBe(200);
      expect(res.body.metrics).toEqual(['day1_retention', 'day7_retention', 'week1_retention', 'month1_retention']);
      const want = referenceRate(events, c.period, c.n, c.from, c.to, c.department_id);
      if (want === null) expect(res.body.value).toBeNull();
      else expect(res.body.value, c.metric).toBeCloseTo(want, 12);
      if (want) nonZero++;
    }
    expect(nonZero).toBeGreaterThanOrEqual(4);
    const empty = await b.client.get('/api/v1/cohort-consumer/metric', { metric: 'day1_retention', from: '2020-01-01T00:00:00Z', to: '2020-02-01T00:00:00Z' });
    expect(empty.body.value).toBeNull();
    const unknown = await b.client.get('/api/v1/cohort-consumer/metric', { metric: 'day2_retention' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.field).toBe('metric');
  });

  it("offers each saved cohort as a filter resolving to its members; another org's same-named cohort resolves to its own", async () => {
    const pilot = await b.client.post('/api/v1/cohorts', { name: 'pilot', kind: 'static', user_ids: ['a-u3', 'a-u1', 'a-u2'] });
    expect(pilot.status, pilot.text).toBe(200);
    const theirs = await other.client.post('/api/v1/cohorts', { name: 'pilot', kind: 'static', user_ids: ['b-u9'] });
    expect(theirs.status, theirs.text).toBe(200);

    const mine = await b.client.get('/api/v1/cohort-consumer/cohorts');
    expect(mine.status, mine.text).toBe(200);
    expect(mine.body.cohorts).toEqual([{ plugin: 'cohorts', name: String(pilot.body.id), title: 'pilot', users: ['a-u1', 'a-u2', 'a-u3'] }]);
    const theirsSeen = await other.client.get('/api/v1/cohort-consumer/cohorts');
    expect(theirsSeen.body.cohorts).toEqual([{ plugin: 'cohorts', name: String(theirs.body.id), title: 'pilot', users: ['b-u9'] }]);

    // an org that turned cohorts off: the consumer, which requires cohorts' metrics, answers 424 there
    expect((await other.client.put('/api/v1/admin/plugins/cohorts', { enabled: false })).status).toBe(200);
    expect((await other.client.get('/api/v1/cohort-consumer/cohorts')).status).toBe(424);
    const off = await other.client.get('/api/v1/cohort-consumer/metric', { metric: 'day1_retention' });
    expect(off.status).toBe(424);
    expect(off.body.error.code).toBe('provider_disabled');
  });
});
