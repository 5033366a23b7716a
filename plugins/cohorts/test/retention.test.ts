import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { cohortIds, periodId, referenceRetention, referenceRolling, rng, type Ev, type P, type RefQuery } from './reference.ts';

const TYPES = ['session', 'command', 'agent_invocation'] as const;
const DAY = 86_400_000;

/** Users who start at a random moment (some before the queried range) and come back less and less. */
function randomEvents(seed: number, prefix: string, depts: string[]): Ev[] {
  const r = rng(seed);
  const base = Date.parse('2025-12-15T00:00:00Z');
  const events: Ev[] = [];
  let n = 0;
  for (let u = 0; u < 45; u++) {
    const user = `${prefix}-u${u}`;
    const home = depts[Math.floor(r() * depts.length)]!;
    let t = base + Math.floor(r() * 120 * DAY);
    const activity = 0.3 + r() * 0.6;
    while (t < base + 140 * DAY && n < 5000) {
      events.push({
        event_id: `${prefix}-e${n++}`,
        event_type: TYPES[Math.floor(r() * TYPES.length)]!,
        timestamp: new Date(t).toISOString(),
        user_id: user,
        department_id: r() < 0.85 ? home : depts[Math.floor(r() * depts.length)]!,
      });
      if (r() > activity) break;
      // mostly hours to a few days later, sometimes weeks: crosses midnights, week and month ends
      t += r() < 0.7 ? Math.floor(r() * 3 * DAY) : Math.floor(r() * 25 * DAY);
    }
  }
  return events;
}

const toRows = (events: Ev[]) => events.map((e) => ({ ...e, action: e.event_type === 'session' ? 'started' : '' }));

function compare(events: Ev[], q: RefQuery, body: any) {
  const ref = referenceRetention(events, q);
  const ids = cohortIds(Date.parse(q.from), Date.parse(q.to), q.period, q.tz);
  expect(body.cohorts.map((c: any) => periodId(Date.parse(c.cohort), q.period, q.tz))).toEqual(ids);
  for (const c of body.cohorts) {
    // the label is the instant the period starts
    expect(periodId(Date.parse(c.cohort) - 1, q.period, q.tz)).not.toBe(periodId(Date.parse(c.cohort), q.period, q.tz));
    const want = ref.get(periodId(Date.parse(c.cohort), q.period, q.tz))!;
    expect({ cohort: c.cohort, size: c.size, retained: c.retained }).toEqual({ cohort: c.cohort, size: want.size, retained: want.retained });
    c.rates.forEach((rate: number, k: number) => expect(rate).toBeCloseTo(want.size ? want.retained[k]! / want.size : 0, 9));
  }
  return ref;
}

describe('GET /api/v1/cohorts/retention', () => {
  let backend: TestBackend;
  let other: TestOrg;
  const events = randomEvents(7, 'a', ['dept-a', 'dept-b']);
  // the second org uses the same user and department names: nothing of it may show in the first
  const otherEvents = randomEvents(99, 'a', ['dept-a', 'dept-b']).map((e) => ({ ...e, event_id: `o-${e.event_id}` }));

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    other = await backend.createOrg('cohorts-other');
    // most events are rolled up; the rest arrive after the job ran and are read raw
    const cut = Math.floor(events.length * 0.8);
    await backend.org.insertEvents(toRows(events.filter((_, i) => i % 5 !== 0)));
    await other.insertEvents(toRows(otherEvents.slice(0, cut)));
    await backend.foldRollups();
    await backend.org.insertEvents(toRows(events.filter((_, i) => i % 5 === 0)));
    await other.insertEvents(toRows(otherEvents.slice(cut)));
  }, 60_000);
  afterAll(() => backend?.close());

  const cases: Array<{ period: P; periods: number; from: string; to: string }> = [
    { period: 'day', periods: 40, from: '2026-02-20T00:00:00Z', to: '2026-03-20T00:00:00Z' },
    { period: 'week', periods: 8, from: '2026-01-25T10:00:00Z', to: '2026-03-31T00:00:00Z' },
    { period: 'month', periods: 3, from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' },
  ];
  const zones = ['UTC', 'Asia/Kolkata', 'America/New_York'];

  for (const c of cases)
    for (const tz of zones)
      it(`${c.period} cohorts in ${tz}: both modes, both countings, start/return events and department scope match the reference`, async () => {
        const r = rng(c.periods * 31 + tz.length);
        for (const mode of ['first_time', 'recurring'] as const)
          for (const counting of ['exact', 'on_or_after'] as const) {
            const q: RefQuery = {
              ...c,
              tz,
              mode,
              counting,
              start_event: r() < 0.5 ? 'any' : TYPES[Math.floor(r() * 3)]!,
              return_event: r() < 0.5 ? 'any' : TYPES[Math.floor(r() * 3)]!,
              ...(r() < 0.4 ? { department_id: 'dept-b' } : {}),
            };
            const res = await backend.client.get('/api/v1/cohorts/retention', q as any);
            expect(res.status, res.text).toBe(200);
            // quarter-hours answer every zone here, +05:30 included
            expect(res.body.source).toBe('rollup');
            const ref = compare(events, q, res.body);
            // the data are not trivial: some cohort has members and some returns
            expect([...ref.values()].some((x) => x.size > 0)).toBe(true);
          }
      }, 60_000);

  it('hourly periods across a daylight-saving change and in a half-hour zone', async () => {
    for (const tz of ['Europe/Berlin', 'Asia/Kolkata', 'UTC'])
      for (const mode of ['first_time', 'recurring'] as const) {
        const q: RefQuery = { from: '2026-03-28T20:00:00Z', to: '2026-03-30T02:00:00Z', tz, period: 'hour', periods: 30, mode, counting: 'exact', start_event: 'any', return_event: 'any' };
        const res = await backend.client.get('/api/v1/cohorts/retention', q as any);
        expect(res.status, res.text).toBe(200);
        compare(events, q, res.body);
      }
  });

  it('rolling windows: returns counted by hours since the user\'s own start, for hour/day/week, both modes and countings, in UTC and +05:30', async () => {
    const L = { hour: 3_600_000, day: DAY, week: 7 * DAY } as const;
    const cases = [
      { period: 'day' as const, periods: 20, from: '2026-02-10T00:00:00Z', to: '2026-03-10T00:00:00Z' },
      { period: 'week' as const, periods: 6, from: '2026-01-05T00:00:00Z', to: '2026-03-16T00:00:00Z' },
      { period: 'hour' as const, periods: 30, from: '2026-03-01T00:00:00Z', to: '2026-03-03T00:00:00Z' },
    ];
    const r = rng(2024);
    let differs = false;
    for (const c of cases)
      for (const tz of ['UTC', 'Asia/Kolkata'])
        for (const mode of ['first_time', 'recurring'] as const)
          for (const counting of ['exact', 'on_or_after'] as const) {
            const q: RefQuery = { ...c, tz, mode, counting, start_event: r() < 0.5 ? 'any' : TYPES[Math.floor(r() * 3)]!, return_event: 'any', ...(r() < 0.3 ? { department_id: 'dept-a' } : {}) };
            const res = await backend.client.get('/api/v1/cohorts/retention', { ...q, windows: 'rolling' } as any);
            expect(res.status, res.text).toBe(200);
            expect(res.body).toMatchObject({ windows: 'rolling', source: 'raw' });
            const want = referenceRolling(events, q, L[c.period]);
            const calendar = referenceRetention(events, q);
            expect(res.body.cohorts.map((x: any) => periodId(Date.parse(x.cohort), q.period, q.tz))).toEqual(cohortIds(Date.parse(q.from), Date.parse(q.to), q.period, q.tz));
            for (const row of res.body.cohorts) {
              const id = periodId(Date.parse(row.cohort), q.period, q.tz);
              expect(row.retained, `${c.period} ${tz} ${mode} ${counting} ${row.cohort}`).toEqual(want.get(id)!.retained);
              row.rates.forEach((x: number, k: number) => expect(x).toBeCloseTo(row.size ? row.retained[k] / row.size : 0, 9));
              if (JSON.stringify(calendar.get(id)!.retained) !== JSON.stringify(row.retained)) differs = true;
            }
          }
    // the random data tell rolling windows from calendar periods
    expect(differs).toBe(true);
    // the other org's same-named users and departments are not counted
    const q: RefQuery = { ...cases[0]!, tz: 'UTC', mode: 'first_time', counting: 'exact', start_event: 'any', return_event: 'any' };
    const theirs = await other.client.get('/api/v1/cohorts/retention', { ...q, windows: 'rolling' } as any);
    const want = referenceRolling(otherEvents, q, DAY);
    for (const row of theirs.body.cohorts) expect(row.retained).toEqual(want.get(periodId(Date.parse(row.cohort), 'day', 'UTC'))!.retained);
  });

  it('rolling windows by hand: a start at 23:00 and a return at 01:00 is day 1 on the calendar, day 0 rolling', async () => {
    const o = await backend.createOrg('cohorts-rolling');
    const ev = (id: string, u: string, t: string) => ({ event_id: `rw-${id}`, event_type: 'command', action: '', timestamp: t, user_id: u, department_id: 'x' });
    await o.insertEvents([
      ev('1', 'late', '2026-05-04T23:00:00Z'), ev('2', 'late', '2026-05-05T01:00:00Z'), ev('3', 'late', '2026-05-06T00:30:00Z'),
      ev('4', 'early', '2026-05-04T01:00:00Z'), ev('5', 'early', '2026-05-05T00:59:59.999Z'), ev('6', 'early', '2026-05-05T01:00:00Z'),
    ]);
    const q = { from: '2026-05-04T00:00:00Z', to: '2026-05-05T00:00:00Z', period: 'day', periods: 3 };
    const cal = await o.client.get('/api/v1/cohorts/retention', q);
    const roll = await o.client.get('/api/v1/cohorts/retention', { ...q, windows: 'rolling' });
    expect(cal.body.cohorts[0].retained).toEqual([2, 2, 1]);
    // late: +2 h is window 0, +25.5 h window 1; early: +23:59:59.999 is window 0, +24 h exactly is window 1
    expect(roll.body.cohorts[0].retained).toEqual([2, 2, 0]);
  });

  it('the rollup and raw events give the same answers', async () => {
    for (const period of ['day', 'week', 'month'] as const) {
      const q = { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', tz: 'Europe/Berlin', period, periods: 5, mode: 'recurring', counting: 'on_or_after', breakdown: 'department' };
      const auto = await backend.client.get('/api/v1/cohorts/retention', q);
      const raw = await backend.client.get('/api/v1/cohorts/retention', { ...q, source: 'raw' });
      expect([auto.body.source, raw.body.source]).toEqual(['rollup', 'raw']);
      expect(auto.body.cohorts).toEqual(raw.body.cohorts);
      expect(auto.body.breakdown).toEqual(raw.body.breakdown);
    }
  });

  it('first_time counts a user whose first event is before `from` in no cohort', async () => {
    const early = events.filter((e) => e.timestamp < '2026-01-01');
    const earlyUsers = new Set(early.map((e) => e.user_id));
    expect(earlyUsers.size).toBeGreaterThan(0);
    const q = { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z', period: 'month', periods: 2, mode: 'first_time', start_event: 'any', return_event: 'any' };
    const res = await backend.client.get('/api/v1/cohorts/retention', q);
    const total = res.body.cohorts.reduce((a: number, c: any) => a + c.size, 0);
    const everyone = new Set(events.map((e) => e.user_id));
    const later = [...everyone].filter((u) => !earlyUsers.has(u) && events.some((e) => e.user_id === u && e.timestamp < '2026-04-01'));
    expect(total).toBe(later.length);
  });

  it('breakdown by department: each department table matches the reference over users whose start event was there', async () => {
    const q: RefQuery = { from: '2026-01-05T00:00:00Z', to: '2026-03-02T00:00:00Z', tz: 'UTC', period: 'week', periods: 6, mode: 'recurring', counting: 'exact', start_event: 'any', return_event: 'any' };
    const res = await backend.client.get('/api/v1/cohorts/retention', { ...q, breakdown: 'department' } as any);
    expect(res.status, res.text).toBe(200);
    compare(events, q, res.body);
    expect(res.body.breakdown.map((b: any) => b.department_id)).toEqual(['dept-a', 'dept-b']);
    for (const b of res.body.breakdown) {
      // a member of the department's cohort started there; they return anywhere
      const starts = events.filter((e) => e.department_id === b.department_id);
      for (const c of b.cohorts) {
        const id = periodId(Date.parse(c.cohort), 'week', 'UTC');
        const users = new Set(starts.filter((e) => periodId(Date.parse(e.timestamp), 'week', 'UTC') === id).map((e) => e.user_id));
        const want = referenceRetention(events, { ...q, users }).get(id)!;
        expect(c.size).toBe(want.size);
        expect(c.retained).toEqual(want.retained);
      }
    }
  });

  it('PostHog worked example: returns on day 1 and day 5, one never → exact and on-or-after rates', async () => {
    const t0 = Date.parse('2026-06-01T09:00:00Z');
    const ev = (id: string, u: string, d: number) => ({ event_id: `ph-${id}`, event_type: 'session', action: 'started', timestamp: new Date(t0 + d * DAY).toISOString(), user_id: u, department_id: 'ph' });
    const ph = await backend.createOrg('cohorts-posthog');
    await ph.insertEvents([ev('1', 'p1', 0), ev('2', 'p2', 0), ev('3', 'p3', 0), ev('4', 'p1', 1), ev('5', 'p2', 5)]);
    const q = { from: '2026-06-01T00:00:00Z', to: '2026-06-02T00:00:00Z', period: 'day', periods: 7, start_event: 'session', return_event: 'session' };
    const exact = await ph.client.get('/api/v1/cohorts/retention', q);
    expect(exact.body.cohorts).toHaveLength(1);
    expect(exact.body.cohorts[0].rates.map((x: number) => Math.round(x * 1000) / 10)).toEqual([100, 33.3, 0, 0, 0, 33.3, 0]);
    const unbounded = await ph.client.get('/api/v1/cohorts/retention', { ...q, counting: 'on_or_after' });
    expect(unbounded.body.cohorts[0].rates.map((x: number) => Math.round(x * 1000) / 10)).toEqual([100, 66.7, 33.3, 33.3, 33.3, 33.3, 0]);
  });

  it('periods that have not started are left out: recent cohorts have shorter rows', async () => {
    const recent = await backend.createOrg('cohorts-recent');
    const today = Math.floor(Date.now() / DAY) * DAY;
    const rows = [0, 1, 2, 3, 4].flatMap((d) => [
      { event_id: `r-${d}-a`, event_type: 'command', timestamp: new Date(today - d * DAY + 60_000).toISOString(), user_id: `ru${d}`, department_id: 'x' },
      { event_id: `r-${d}-b`, event_type: 'command', timestamp: new Date(today - d * DAY + 120_000).toISOString(), user_id: 'steady', department_id: 'x' },
    ]);
    await recent.insertEvents(rows);
    const res = await recent.client.get('/api/v1/cohorts/retention', { from: new Date(today - 4 * DAY).toISOString(), to: new Date(today + 3 * DAY).toISOString(), period: 'day', periods: 10, mode: 'recurring' });
    expect(res.status, res.text).toBe(200);
    // five cohorts (days −4 … today); the ones after today have not started
    expect(res.body.cohorts.map((c: any) => c.retained.length)).toEqual([5, 4, 3, 2, 1]);
    // "steady" is in every daily cohort and came back every later day
    expect(res.body.cohorts.map((c: any) => c.retained.slice(1))).toEqual([[1, 1, 1, 1], [1, 1, 1], [1, 1], [1], []]);
    const trend = await recent.client.get('/api/v1/cohorts/retention/trend', { from: new Date(today - 4 * DAY).toISOString(), to: new Date(today + DAY).toISOString(), period: 'day', n: 2, mode: 'recurring' });
    expect(trend.status, trend.text).toBe(200);
    expect(trend.body.points.map((p: any) => [p.size, p.retained])).toEqual([[2, 1], [2, 1], [2, 1]]);
  });

  it('the trend is the n-th column of successive cohorts', async () => {
    const q = { from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z', tz: 'Asia/Kolkata', period: 'day', periods: 8, mode: 'first_time', start_event: 'any', return_event: 'any' } as const;
    const table = await backend.client.get('/api/v1/cohorts/retention', q);
    const trend = await backend.client.get('/api/v1/cohorts/retention/trend', { ...q, n: 7 });
    const ref = referenceRetention(events, { ...q, counting: 'exact' });
    expect(trend.body.points.map((p: any) => p.retained)).toEqual(table.body.cohorts.map((c: any) => ref.get(periodId(Date.parse(c.cohort), 'day', q.tz))!.retained[7]));
  });

  it('answers each org from its own events only', async () => {
    const q: RefQuery = { from: '2026-01-05T00:00:00Z', to: '2026-03-02T00:00:00Z', tz: 'UTC', period: 'week', periods: 4, mode: 'first_time', counting: 'exact', start_event: 'any', return_event: 'any' };
    const mine = await backend.client.get('/api/v1/cohorts/retention', q as any);
    const theirs = await other.client.get('/api/v1/cohorts/retention', q as any);
    compare(events, q, mine.body);
    compare(otherEvents, q, theirs.body);
    expect(mine.body.cohorts).not.toEqual(theirs.body.cohorts);
  });

  it('bad input is a 400 naming the field', async () => {
    const bad = async (q: Record<string, unknown>, field: string) => {
      const res = await backend.client.get('/api/v1/cohorts/retention', q);
      expect(res.status, res.text).toBe(400);
      expect(JSON.stringify(res.body.error)).toContain(field);
    };
    await bad({ period: 'fortnight' }, 'period');
    await bad({ periods: 0 }, 'periods');
    await bad({ periods: 'many' }, 'periods');
    await bad({ mode: 'sometimes' }, 'mode');
    await bad({ start_event: 'no_such_event' }, 'start_event');
    await bad({ return_event: 'nope' }, 'return_event');
    await bad({ tz: 'Mars/Olympus' }, 'tz');
    await bad({ from: 'yesterday' }, 'from');
    await bad({ from: '2026-03-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }, 'from');
    await bad({ from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z', period: 'day' }, 'from');
    await bad({ counting: 'sometimes' }, 'counting');
    await bad({ cohort_id: 'not-a-uuid' }, 'cohort_id');
    await bad({ surprise: 1 }, 'surprise');
    await bad({ windows: 'sliding' }, 'windows');
    await bad({ windows: 'rolling', period: 'month' }, 'windows');
    await bad({ windows: 'rolling', spend: true }, 'windows');
  });
});
