/**
 * The four workflow routes against a reference computed here from the generated events,
 * with series in UTC and in Europe/Berlin across the spring DST change (2026-03-29).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin, metricSourceRef, need, parseTimeRange, timeRangeQuerySchema } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { median, type Ev } from './reference.ts';
import { cohort as cohortOf, generate, series as seriesOf, summary, type Cohort } from './workflow-reference.ts';

const FROM = '2026-03-27T05:30:00.000Z';
const TO = '2026-04-01T07:00:00.000Z';

const cohort = (events: Ev[], wf: string): Cohort => cohortOf(events, wf, Date.parse(FROM), Date.parse(TO));

/** the cohort's events of the workflow at or after (or strictly after) the enrolment */
const after = (events: Ev[], wf: string, c: Cohort, strict = false) =>
  events.filter((x) => {
    const v = c.get(x.user_id);
    const t = Date.parse(x.timestamp);
    return x.workflow_id === wf && v && (strict ? t > v.e : t >= v.e);
  });

function expectClose(actual: Record<string, unknown>, expected: Record<string, unknown>, label: string) {
  for (const [k, v] of Object.entries(expected)) {
    if (v === null) expect(actual[k], `${label} ${k}`).toBeNull();
    else if (typeof v === 'number') expect(actual[k], `${label} ${k}`).toBeCloseTo(v, 6);
    else expect(actual[k], `${label} ${k}`).toEqual(v);
  }
}

/** A plugin that reads funnels' metric source through the public SDK only, as alerts or reports would. */
const consumer = definePlugin({
  from: import.meta.url,
  id: 'workflow-metric-consumer',
  version: '0.1.0',
  sdk: '^2.0.0',
  title: 'Workflow metric consumer',
  description: "Reads funnels' metrics",
  routePrefix: 'workflow-metric-consumer',
  permissions: { 'workflow-metric-consumer.read': ['Admin', 'Manager', 'Developer'] },
  needs: [need(metricSourceRef, '^1.0.0', { from: 'funnels' })],
  register(env) {
    env.route<{ metric: string; from?: string; to?: string; department_id?: string }>({
      method: 'GET',
      path: '/read',
      permission: 'workflow-metric-consumer.read',
      summary: "one of funnels' metrics",
      schema: {
        querystring: { type: 'object', required: ['metric'], additionalProperties: false, properties: { ...timeRangeQuerySchema, metric: { type: 'string' }, department_id: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { value: { type: ['number', 'null'] } } } },
      },
      async handler(req, ctx) {
        const source = await ctx.services.get(metricSourceRef, 'funnels');
        return { value: await source.read(req.query.metric, { range: parseTimeRange(req.query), departmentId: req.query.department_id }) };
      },
    });
  },
});

describe('workflow analytics', () => {
  let b: TestBackend;
  let other: TestOrg;
  const events = generate(11, 45, ['onboarding', 'code-review']);
  const otherEvents = generate(12, 20, ['onboarding']);
  const range = { from: FROM, to: TO };

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin, consumer], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
    other = await b.createOrg('wf-other');
    await b.org.insertEvents(events);
    await other.insertEvents(otherEvents);
  });
  afterAll(() => b?.close());

  it('GET /workflows lists each workflow with the reference figures; the other org sees only its own', async () => {
    const res = await b.client.get('/api/v1/workflows', range);
    expect(res.status).toBe(200);
    const expected = ['onboarding', 'code-review']
      .map((wf) => {
        const s = summary(cohort(events, wf));
        return { workflow_id: wf, enrolled: s.enrolled, active: s.currently_active, completed: s.completed, exited: s.exited, conversion_rate: s.conversion_rate };
      })
      .sort((a, b) => b.enrolled - a.enrolled || a.workflow_id.localeCompare(b.workflow_id));
    expect(res.body.workflows.map((w: any) => w.workflow_id)).toEqual(expected.map((w) => w.workflow_id));
    res.body.workflows.forEach((w: any, i: number) => expectClose(w, expected[i]!, w.workflow_id));
    expect(expected[0]!.enrolled).toBeGreaterThan(10);

    const theirs = await other.client.get('/api/v1/workflows', range);
    expect(theirs.body.workflows.map((w: any) => w.workflow_id)).toEqual(['onboarding']);
    expectClose(theirs.body.workflows[0], { enrolled: summary(cohort(otherEvents, 'onboarding')).enrolled }, 'other org');
  });

  for (const wf of ['onboarding', 'code-review']) {
    it(`summary of ${wf} matches the reference`, async () => {
      const res = await b.client.get(`/api/v1/workflows/${wf}/analytics`, range);
      expect(res.status).toBe(200);
      const s = summary(cohort(events, wf));
      expectClose(res.body.summary, s, wf);
      expect(s.completed).toBeGreaterThan(0);
      expect(s.exited).toBeGreaterThan(0);
    });
  }

  for (const [g, tz] of [['hour', 'UTC'], ['day', 'UTC'], ['day', 'Europe/Berlin'], ['hour', 'Europe/Berlin'], ['week', 'America/New_York']] as const) {
    it(`series by ${g} in ${tz} counts distinct users per bucket of the event's own time`, async () => {
      const res = await b.client.get('/api/v1/workflows/onboarding/analytics', { ...range, granularity: g, tz });
      expect(res.status).toBe(200);
      const expected = seriesOf(events, 'onboarding', Date.parse(FROM), Date.parse(TO), g, tz);
      expect(res.body.series).toEqual(expected);
      if (tz === 'Europe/Berlin' && g === 'day') {
        // the day of the change is 23 hours long: 29 March starts at 23:00Z, 30 March at 22:00Z
        expect(res.body.series.map((s: any) => s.bucket)).toContain('2026-03-29T22:00:00.000Z');
        expect(res.body.series.map((s: any) => s.bucket)).toContain('2026-03-28T23:00:00.000Z');
      }
    });
  }

  it('funnel: per step entered, completed, drop-off and median time in step', async () => {
    const res = await b.client.get('/api/v1/workflows/onboarding/analytics/funnel', range);
    expect(res.status).toBe(200);
    const c = cohort(events, 'onboarding');
    const mine = after(events, 'onboarding', c).filter((x) => x.workflow_step && (x.action === 'step_entered' || x.action === 'step_completed'));
    const steps = [...new Set(mine.map((x) => x.workflow_step as string))];
    const expected = steps
      .map((step) => {
        const evs = mine.filter((x) => x.workflow_step === step);
        const entered = new Set(evs.filter((x) => x.action === 'step_entered').map((x) => x.user_id));
        const completed = new Set(evs.filter((x) => x.action === 'step_completed').map((x) => x.user_id));
        const times: number[] = [];
        for (const u of entered) {
          const te = Math.min(...evs.filter((x) => x.user_id === u && x.action === 'step_entered').map((x) => Date.parse(x.timestamp)));
          const tcs = evs.filter((x) => x.user_id === u && x.action === 'step_completed').map((x) => Date.parse(x.timestamp)).filter((t) => t >= te);
          if (tcs.length) times.push((Math.min(...tcs) - te) / 1000);
        }
        return {
          step,
          step_index: Math.min(...evs.map((x) => x.step_index as number)),
          entered: entered.size,
          completed: completed.size,
          drop_off: entered.size - completed.size,
          drop_off_rate: entered.size ? (entered.size - completed.size) / entered.size : null,
          median_seconds_in_step: median(times),
        };
      })
      .sort((a, b) => a.step_index - b.step_index || a.step.localeCompare(b.step));
    expect(res.body.steps.map((s: any) => s.step)).toEqual(['setup', 'first-run', 'review']);
    res.body.steps.forEach((s: any, i: number) => expectClose(s, expected[i]!, s.step));
    expect(expected[0]!.drop_off).toBeGreaterThan(0);
  });

  it('actions: per step and action counts, users, durations; exits by step and reason', async () => {
    const res = await b.client.get('/api/v1/workflows/code-review/analytics/actions', range);
    expect(res.status).toBe(200);
    const c = cohort(events, 'code-review');
    const mine = after(events, 'code-review', c);
    const groups = new Map<string, Ev[]>();
    for (const x of mine) {
      const k = `${x.workflow_step ?? ''}|${x.action}`;
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k)!.push(x);
    }
    expect(res.body.actions.length).toBe(groups.size);
    for (const a of res.body.actions) {
      const evs = groups.get(`${a.step}|${a.action}`)!;
      const d = evs.map((x) => Number(x.duration_ms ?? 0)).filter((v) => v > 0);
      expectClose(a, { events: evs.length, users: new Set(evs.map((x) => x.user_id)).size, median_duration_ms: median(d), avg_duration_ms: d.length ? d.reduce((p, q) => p + q, 0) / d.length : null }, `${a.step}/${a.action}`);
    }
    const exits = after(events, 'code-review', c, true).filter((x) => x.action === 'exited');
    const byReason = new Map<string, Ev[]>();
    for (const x of exits) {
      const k = `${x.workflow_step ?? ''}|${x.reason}`;
      if (!byReason.has(k)) byReason.set(k, []);
      byReason.get(k)!.push(x);
    }
    expect(res.body.exit_reasons.length).toBe(byReason.size);
    for (const x of res.body.exit_reasons) {
      const evs = byReason.get(`${x.step}|${x.reason}`)!;
      expect(x.events).toBe(evs.length);
      expect(x.users).toBe(new Set(evs.map((e) => e.user_id)).size);
    }
  });

  it('adherence: deviations per user against the reference, for each workflow, and the adoption widget figures', async () => {
    const adoption = await b.client.get('/api/v1/funnels/workflow-adoption', range);
    expect(adoption.status).toBe(200);
    const from = Date.parse(FROM);
    const to = Date.parse(TO);
    const active = new Set(events.filter((x) => Date.parse(x.timestamp) >= from && Date.parse(x.timestamp) < to).map((x) => x.user_id));
    expect(adoption.body.active_users).toBe(active.size);
    for (const wf of ['onboarding', 'code-review']) {
      const c = cohort(events, wf);
      const base = Math.min(...events.filter((x) => x.workflow_id === wf && Date.parse(x.timestamp) >= from && (x.action === 'step_entered' || x.action === 'step_completed')).map((x) => x.step_index as number));
      const counts = { users: c.size, no_steps: 0, adherent: 0, skipped: 0, out_of_order: 0, repeated: 0 };
      for (const user of c.keys()) {
        const idx = after(events, wf, c)
          .filter((x) => x.user_id === user && x.action === 'step_entered')
          .sort((p, q) => Date.parse(p.timestamp) - Date.parse(q.timestamp) || (p.event_id < q.event_id ? -1 : 1))
          .map((x) => (x.step_index as number) - base);
        const distinct = [...new Set(idx)];
        const skipped = idx.length > 0 && distinct.length < Math.max(...idx) + 1;
        const outOfOrder = distinct.some((v, i) => i > 0 && v < distinct[i - 1]!);
        const repeated = idx.length > distinct.length;
        if (!idx.length) counts.no_steps++;
        else if (!skipped && !outOfOrder && !repeated) counts.adherent++;
        if (skipped) counts.skipped++;
        if (outOfOrder) counts.out_of_order++;
        if (repeated) counts.repeated++;
      }
      const withSteps = counts.users - counts.no_steps;
      const res = await b.client.get(`/api/v1/workflows/${wf}/analytics/adherence`, range);
      expect(res.status).toBe(200);
      expect(res.body.users).toBe(counts.users);
      expect(res.body.adherent).toBe(counts.adherent);
      expect(res.body.adherence_rate).toBeCloseTo(counts.adherent / withSteps, 9);
      expect(Object.fromEntries(res.body.deviations.map((d: any) => [d.kind, d.users]))).toEqual({ skipped: counts.skipped, out_of_order: counts.out_of_order, repeated: counts.repeated });
      expect(counts.skipped + counts.out_of_order + counts.repeated).toBeGreaterThan(0);
      for (const r of res.body.recommendations) expect(r.evidence).toBeTypeOf('object');
      const w = adoption.body.workflows.find((x: any) => x.workflow_id === wf);
      expect(w.adherence_rate).toBeCloseTo(counts.adherent / withSteps, 9);
      expect(w.participation).toBeCloseTo(c.size / active.size, 9);
    }
  });

  it('departments: the summary per department of the enrolment, against the reference', async () => {
    const res = await b.client.get('/api/v1/workflows/onboarding/analytics/departments', range);
    expect(res.status).toBe(200);
    const c = cohort(events, 'onboarding');
    const depts = [...new Set([...c.values()].map((v) => v.dept))];
    const expected = depts
      .map((d) => ({ department_id: d, ...summary(new Map([...c.entries()].filter(([, v]) => v.dept === d))) }))
      .sort((x, y) => y.enrolled - x.enrolled || x.department_id.localeCompare(y.department_id));
    expect(res.body.departments.map((d: any) => d.department_id)).toEqual(expected.map((d) => d.department_id));
    res.body.departments.forEach((d: any, i: number) => expectClose(d, expected[i]!, d.department_id));
    expect(expected.length).toBe(2);
  });

  it('offers workflow completion as a metric source: every workflow pooled, equal to the reference; per department; per org', async () => {
    const read = (org: TestOrg, metric: string, extra: Record<string, string> = {}) => org.client.get('/api/v1/workflow-metric-consumer/read', { metric, ...range, ...extra });
    const pooled = (evs: Ev[], wfs: string[], dept?: string) => {
      const scoped = dept ? evs.filter((x) => x.department_id === dept) : evs;
      const s = wfs.map((wf) => summary(cohort(scoped, wf)));
      const enrolled = s.reduce((a, x) => a + x.enrolled, 0);
      return { enrolled, rate: enrolled ? s.reduce((a, x) => a + x.completed, 0) / enrolled : null };
    };
    const want = pooled(events, ['onboarding', 'code-review']);
    expect(want.enrolled).toBeGreaterThan(40);
    const rate = await read(b.org, 'workflow_completion_rate');
    expect(rate.status, rate.text).toBe(200);
    expect(rate.body.value).toBeCloseTo(want.rate!, 12);
    expect((await read(b.org, 'workflow_enrolments')).body.value).toBe(want.enrolled);
    // a department: only that department's events, as the metric contract says
    const ops = pooled(events, ['onboarding', 'code-review'], 'ops');
    expect((await read(b.org, 'workflow_completion_rate', { department_id: 'ops' })).body.value).toBeCloseTo(ops.rate!, 12);
    const theirs = pooled(otherEvents, ['onboarding']);
    expect((await read(other, 'workflow_enrolments')).body.value).toBe(theirs.enrolled);
    expect((await read(other, 'workflow_completion_rate')).body.value).toBeCloseTo(theirs.rate!, 12);
    const none = await b.org.client.get('/api/v1/workflow-metric-consumer/read', { metric: 'workflow_completion_rate', from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' });
    expect(none.body.value).toBeNull();
  });

  it('bad input is a 400 naming the parameter', async () => {
    for (const [q, field] of [[{ from: TO, to: FROM }, 'from'], [{ ...range, granularity: 'minute' }, 'granularity'], [{ ...range, tz: 'Mars/Base' }, 'tz']] as const) {
      const res = await b.client.get('/api/v1/workflows/onboarding/analytics', q);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.error)).toContain(field);
    }
  });
});
