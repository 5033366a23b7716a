/**
 * The quarter-hour activity rollup against raw events and the brute-force reference, on random
 * histories and random questions (fast-check): every period, zones a half or three quarters of
 * an hour off UTC with and without daylight saving, both modes and countings, chosen start and
 * return events, department scope. Events sit on quarter-hour and local-midnight edges (± 1 ms),
 * and arrive in three batches: two folded separately (several rows per user and month) and a
 * third read raw after the watermark. Then a month is rebuilt and a user's events are deleted,
 * and the answers still match.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { expectReference, type Ev, type P, type RefQuery } from './reference.ts';

const TYPES = ['session', 'command', 'agent_invocation', 'feature_use'] as const;
const DEPTS = ['dept-a', 'dept-b'];
const ZONES = ['UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'America/St_Johns', 'Europe/Berlin', 'Australia/Eucla'];
const BASE = Date.parse('2026-02-01T00:00:00Z');
const DAY = 86_400_000;
const Q = 900_000;

/** an instant in the 100 days after BASE, often on a quarter-hour edge (a local midnight is one in every zone here) or 1 ms either side of it */
const instant = fc.oneof(
  fc.integer({ min: 0, max: 100 * DAY - 1 }).map((x) => BASE + x),
  fc.tuple(fc.integer({ min: 0, max: (100 * DAY) / Q - 1 }), fc.constantFrom(-1, 0, 1)).map(([q, d]) => BASE + q * Q + d),
);

const historyArb = fc.array(
  fc.record({ user: fc.integer({ min: 0, max: 24 }), type: fc.constantFrom(...TYPES), dept: fc.constantFrom(...DEPTS), t: instant }),
  { minLength: 300, maxLength: 400 },
);

const queryArb = fc.record({
  period: fc.constantFrom<P>('hour', 'day', 'week', 'month'),
  tz: fc.constantFrom(...ZONES),
  mode: fc.constantFrom('first_time' as const, 'recurring' as const),
  counting: fc.constantFrom('exact' as const, 'on_or_after' as const),
  start_event: fc.constantFrom('any', ...TYPES),
  return_event: fc.constantFrom('any', ...TYPES),
  department: fc.option(fc.constantFrom(...DEPTS), { nil: undefined }),
  startDay: fc.integer({ min: 0, max: 60 }),
});

const SHAPE: Record<P, { days: number; periods: number }> = {
  hour: { days: 1, periods: 30 },
  day: { days: 21, periods: 20 },
  week: { days: 56, periods: 6 },
  month: { days: 62, periods: 3 },
};

type Question = typeof queryArb extends fc.Arbitrary<infer T> ? T : never;

function toQuery(x: Question): RefQuery {
  const from = BASE + x.startDay * DAY;
  return {
    from: new Date(from).toISOString(),
    to: new Date(from + SHAPE[x.period].days * DAY).toISOString(),
    tz: x.tz,
    period: x.period,
    periods: SHAPE[x.period].periods,
    mode: x.mode,
    counting: x.counting,
    start_event: x.start_event,
    return_event: x.return_event,
    ...(x.department ? { department_id: x.department } : {}),
  };
}

describe('retention from the quarter-hour rollup = raw events = brute force', () => {
  let backend: TestBackend;
  let events: Ev[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    const [history] = fc.sample(historyArb, { numRuns: 1, seed: 20 });
    events = history!.map((e, i) => ({ event_id: `p-${i}`, event_type: e.type, timestamp: new Date(e.t).toISOString(), user_id: `u${e.user}`, department_id: e.dept }));
    const rows = events.map((e) => ({ ...e, action: e.event_type === 'session' ? 'started' : '' }));
    // two folds (a user's month in two rows) and a raw tail; late events in every batch
    await backend.org.insertEvents(rows.filter((_, i) => i % 3 === 0));
    await backend.foldRollups();
    await backend.org.insertEvents(rows.filter((_, i) => i % 3 === 1));
    await backend.foldRollups();
    await backend.org.insertEvents(rows.filter((_, i) => i % 3 === 2));
  }, 300_000);
  afterAll(() => backend?.close());

  const ask = async (q: RefQuery, source: 'auto' | 'sets' | 'raw') => {
    const res = await backend.client.get('/api/v1/cohorts/retention', { ...(q as any), source });
    expect(res.status, res.text).toBe(200);
    return res.body;
  };

  it('random questions: the rollup answers every one of these zones (bit-masks and sets), and equals raw events and the reference', async () => {
    await fc.assert(
      fc.asyncProperty(queryArb, async (x) => {
        const q = toQuery(x);
        const planned = await ask(q, 'auto');
        expect(planned.source).toBe('rollup');
        // every question here fits a 64-bit mask: the fast path answers it
        expect(planned.rollup_path).toBe('masks');
        expectReference(events, q, planned);
        const sets = await ask(q, 'sets');
        expect(sets.rollup_path).toBe('sets');
        expect(sets.cohorts).toEqual(planned.cohorts);
        const raw = await ask(q, 'raw');
        expect(raw.source).toBe('raw');
        expect(planned.cohorts).toEqual(raw.cohorts);
      }),
      { numRuns: 30, seed: 2026 },
    );
  }, 600_000);

  it('recurring cohorts broken down by department: rollup = raw', async () => {
    const q = { from: '2026-02-02T00:00:00Z', to: '2026-04-27T00:00:00Z', tz: 'Asia/Kathmandu', period: 'week', periods: 5, mode: 'recurring', counting: 'exact', breakdown: 'department' };
    const planned = await backend.client.get('/api/v1/cohorts/retention', q);
    const raw = await backend.client.get('/api/v1/cohorts/retention', { ...q, source: 'raw' });
    expect(planned.body.source).toBe('rollup');
    expect(planned.body.breakdown).toEqual(raw.body.breakdown);
    expect(planned.body.breakdown.some((b: any) => b.cohorts.some((c: any) => c.size > 0))).toBe(true);
  });

  it('a rebuilt month and a deleted user: the month-grained rollup still matches the reference', async () => {
    await backend.foldRollups();
    const q = toQuery({ period: 'day', tz: 'Asia/Kolkata', mode: 'first_time', counting: 'exact', start_event: 'any', return_event: 'any', department: undefined, startDay: 25 });
    // a refresh of March's first day and a half rebuilds the whole of March (its rows are by
    // month): deleting March's rows and putting back only those days would lose the rest
    const refresh = await backend.client.post('/api/v1/admin/materialized-views/refresh', { plugin: 'cohorts', from: '2026-03-01T00:00:00Z', to: '2026-03-02T12:00:00Z' });
    expect(refresh.status, refresh.text).toBe(202);
    let task = refresh.body;
    for (let i = 0; i < 600 && task.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      task = (await backend.client.get(`/api/v1/admin/materialized-views/refresh/${refresh.body.id}`)).body;
    }
    expect(task.status).toBe('done');
    expect(task.rows).toBe(events.filter((e) => e.timestamp >= '2026-03-01' && e.timestamp < '2026-04-01').length);
    const after = await ask(q, 'auto');
    expect(after.source).toBe('rollup');
    expectReference(events, q, after);

    const gone = 'u3';
    const del = await backend.client.delete(`/api/v1/events/users/${gone}`);
    expect(del.status, del.text).toBeLessThan(300);
    const left = events.filter((e) => e.user_id !== gone);
    for (const tz of ['UTC', 'Asia/Kolkata']) {
      const x = { ...q, tz };
      const res = await ask(x, 'auto');
      expect(res.source).toBe('rollup');
      expectReference(left, x, res);
    }
  }, 300_000);
});
