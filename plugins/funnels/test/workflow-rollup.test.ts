/**
 * The workflow figures read from the enrolment rollup (events folded up to the watermark,
 * raw events after it) against the brute-force reference and against `source=raw`: every
 * user's events are split over two folds and an unfolded tail, ranges start and end inside
 * hours, and hand-made edges sit inside the hour `from` cuts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { rng, type Ev } from './reference.ts';
import { H, START, cohort, generate, series, summary, byDept } from './workflow-reference.ts';
import { expectSummary } from './expectSummary.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const FROM = Date.parse('2026-03-27T05:30:00.000Z');
const TO = Date.parse('2026-04-01T07:00:00.000Z');

/** Edges the rollup's hour rows hold on both sides of `from`, `to` and the watermark (workflow `edge`). */
function edges(): Ev[] {
  const e = (id: string, user: string, action: string, t: number, dept = 'eng'): Ev => ({
    event_id: id,
    event_type: 'workflow_step',
    action,
    workflow_id: 'edge',
    timestamp: iso(t),
    user_id: user,
    session_id: `${user}-s`,
    department_id: dept,
  });
  const m = 60_000;
  return [
    // an enrolment and a goal in the hour `from` cuts, before it; the user's enrolment is the later one
    e('edge-01', 'cut', 'enrolled', FROM - 20 * m),
    e('edge-02', 'cut', 'goal_reached', FROM - 10 * m),
    e('edge-03', 'cut', 'enrolled', FROM + 10 * m, 'ops'),
    e('edge-04', 'cut', 'goal_reached', FROM + 20 * m),
    // two enrolments at one instant: the smaller event id names the department; a goal at that
    // instant is not later, an exit after it is
    e('edge-06', 'tie', 'enrolled', FROM + 15 * m, 'ops'),
    e('edge-05', 'tie', 'enrolled', FROM + 15 * m, 'eng'),
    e('edge-07', 'tie', 'goal_reached', FROM + 15 * m),
    e('edge-08', 'tie', 'exited', FROM + 16 * m),
    // enrolled a millisecond before `to`, the goal two days after it: completed
    e('edge-09', 'late', 'enrolled', TO - 1),
    e('edge-10', 'late', 'goal_reached', TO + 48 * H),
    // enrolled at `to`: not in the range
    e('edge-11', 'after', 'enrolled', TO),
    e('edge-12', 'after', 'goal_reached', TO + 1),
    // an enrolment before `from` only, a goal inside: not in the cohort
    e('edge-13', 'before', 'enrolled', FROM - 1),
    e('edge-14', 'before', 'goal_reached', FROM + 1),
  ];
}

describe('workflow figures from the enrolment rollup', () => {
  let b: TestBackend;
  let folded = 0;
  const events = [...generate(31, 40, ['onboarding', 'code-review']), ...edges()];

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
    // every third event per batch: two folds, then a tail the rollup does not hold yet
    for (let k = 0; k < 3; k++) {
      await b.org.insertEvents(events.filter((_, i) => i % 3 === k));
      if (k < 2) folded += (await b.foldRollups()).filter((f) => f.plugin === 'funnels').reduce((x, f) => x + f.rows, 0);
    }
  }, 300_000);
  afterAll(() => b?.close());


  it('the rollup holds two folds of outcome events', () => {
    const outcomes = events.filter((x) => ['enrolled', 'goal_reached', 'exited'].includes(x.action as string));
    expect(folded).toBe(outcomes.filter((_, i) => events.indexOf(outcomes[i]!) % 3 !== 2).length);
  });

  it('hand-made edges: an hour cut by from, a tie at one instant, a goal after to, an enrolment at to', async () => {
    const res = await b.client.get('/api/v1/workflows/edge/analytics', { from: iso(FROM), to: iso(TO), granularity: 'hour' });
    expect(res.status, res.text).toBe(200);
    const c = cohort(events, 'edge', FROM, TO);
    expect([...c.keys()].sort()).toEqual(['cut', 'late', 'tie']);
    expectSummary(res.body.summary, summary(c), 'edge');
    expect(res.body.summary).toMatchObject({ enrolled: 3, completed: 2, exited: 1, currently_active: 0, median_seconds_to_complete: (600 + 48 * 3600 + 0.001) / 2 });
    expect(res.body.series).toEqual(series(events, 'edge', FROM, TO, 'hour', 'UTC'));
    const depts = await b.client.get('/api/v1/workflows/edge/analytics/departments', { from: iso(FROM), to: iso(TO) });
    expect(depts.body.departments.map((d: any) => [d.department_id, d.enrolled])).toEqual([['eng', 2], ['ops', 1]]);
  });

  it('random ranges, zones and granularities: rollup = reference = raw events', async () => {
    const r = rng(404);
    const zones = ['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'America/New_York'];
    for (let q = 0; q < 8; q++) {
      const from = START + Math.floor(r() * 6 * 24 * H);
      const to = from + 1 + Math.floor(r() * 4 * 24 * H);
      const g = (['hour', 'day', 'week'] as const)[Math.floor(r() * 3)]!;
      const tz = zones[Math.floor(r() * zones.length)]!;
      const label = `${iso(from)}…${iso(to)} ${g} ${tz}`;
      const query = { from: iso(from), to: iso(to), granularity: g, tz };
      for (const wf of ['onboarding', 'code-review']) {
        const res = await b.client.get(`/api/v1/workflows/${wf}/analytics`, query);
        expect(res.status, res.text).toBe(200);
        expectSummary(res.body.summary, summary(cohort(events, wf, from, to)), `${label} ${wf}`);
        expect(res.body.series, label).toEqual(series(events, wf, from, to, g, tz));
        const raw = await b.client.get(`/api/v1/workflows/${wf}/analytics`, { ...query, source: 'raw' });
        expect(raw.body, label).toEqual(res.body);
      }
      const list = await b.client.get('/api/v1/workflows', { from: iso(from), to: iso(to) });
      const expected = ['onboarding', 'code-review', 'edge']
        .map((wf) => ({ workflow_id: wf, ...summary(cohort(events, wf, from, to)) }))
        .filter((w) => w.enrolled > 0)
        .sort((x, y) => y.enrolled - x.enrolled || x.workflow_id.localeCompare(y.workflow_id));
      expect(list.body.workflows.map((w: any) => [w.workflow_id, w.enrolled, w.completed, w.exited]), label).toEqual(expected.map((w) => [w.workflow_id, w.enrolled, w.completed, w.exited]));
      const depts = await b.client.get('/api/v1/workflows/onboarding/analytics/departments', { from: iso(from), to: iso(to) });
      const want = byDept(cohort(events, 'onboarding', from, to));
      expect(depts.body.departments.map((d: any) => d.department_id), label).toEqual(want.map((d) => d.department_id));
      depts.body.departments.forEach((d: any, i: number) => expectSummary(d, want[i]!, `${label} ${d.department_id}`));
    }
  }, 300_000);

  it('a fold of the tail changes no answer', async () => {
    const query = { from: iso(FROM), to: iso(TO), granularity: 'day', tz: 'Europe/Berlin' };
    const before = await b.client.get('/api/v1/workflows/onboarding/analytics', query, { headers: { 'cache-control': 'no-cache' } });
    expect((await b.foldRollups()).find((f) => f.plugin === 'funnels')!.rows).toBeGreaterThan(0);
    const after = await b.client.get('/api/v1/workflows/onboarding/analytics', query, { headers: { 'cache-control': 'no-cache' } });
    expect(after.body).toEqual(before.body);
    expectSummary(after.body.summary, summary(cohort(events, 'onboarding', FROM, TO)), 'after the last fold');
  });

  it("past the org's raw-event horizon the rollup alone answers, to the millisecond", async () => {
    // raw events kept one day: the expiry deletes every (folded) raw event before a day inside
    // the data, and reads before it take whole hours of the rollup, clipped to the range
    const put = await b.client.put('/api/v1/admin/retention', { raw_events_days: 1 });
    expect(put.status, put.text).toBe(200);
    await b.kernel.services.retention.expireAll(new Date(START + 4 * 24 * H + 5 * H));
    const horizon = Date.parse((await b.client.get('/api/v1/admin/retention')).body.raw_expired_before);
    expect(horizon).toBeGreaterThan(START);
    const r = rng(405);
    for (let q = 0; q < 6; q++) {
      const from = START + Math.floor(r() * 5 * 24 * H);
      const to = from + 1 + Math.floor(r() * 3 * 24 * H);
      const g = (['hour', 'day'] as const)[q % 2]!;
      const label = `${iso(from)}…${iso(to)} ${g} (raw from ${iso(horizon)})`;
      for (const wf of ['onboarding', 'code-review']) {
        const res = await b.client.get(`/api/v1/workflows/${wf}/analytics`, { from: iso(from), to: iso(to), granularity: g, tz: 'Europe/Berlin' }, { headers: { 'cache-control': 'no-cache' } });
        expect(res.status, res.text).toBe(200);
        expectSummary(res.body.summary, summary(cohort(events, wf, from, to)), `${label} ${wf}`);
        expect(res.body.series, label).toEqual(series(events, wf, from, to, g, 'Europe/Berlin'));
      }
      const depts = await b.client.get('/api/v1/workflows/onboarding/analytics/departments', { from: iso(from), to: iso(to) }, { headers: { 'cache-control': 'no-cache' } });
      const want = byDept(cohort(events, 'onboarding', from, to));
      expect(depts.body.departments.map((d: any) => d.department_id), label).toEqual(want.map((d) => d.department_id));
      depts.body.departments.forEach((d: any, i: number) => expectSummary(d, want[i]!, `${label} ${d.department_id}`));
    }
  }, 300_000);
});
