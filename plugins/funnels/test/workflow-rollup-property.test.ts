/**
 * The workflow summary, series and departments from the enrolment rollup against the
 * brute-force reference and `source=raw`, on random histories and random questions
 * (fast-check). Each history is a fresh workflow of a few users whose enrolments, goals and
 * exits sit around a daylight-saving change (Europe/Berlin, America/New_York), often on an hour
 * edge or 1 ms beside it, and arrive in three batches: the first folded, the second folded
 * after it (late events, also earlier than the user's folded ones, for users already in the
 * rollup) and the third read raw after the watermark, so a user's enrolment, goals and exits
 * often sit in different batches and pieces (day and hour rows, raw companions, the open end),
 * and some users enrolled only before `from` or at `to`. The ranges start and end anywhere
 * (to the millisecond) within ±3 days of the change; the series is asked hourly, daily and
 * weekly in the zone of the change or in UTC. The users without events in the tail answer from
 * the derived outcome rows, the others merged per user; after the tail is folded, all of them
 * from the derived rows, and the answer must not move.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import type { Ev } from './reference.ts';
import { H, cohort, series, summary, byDept } from './workflow-reference.ts';
import { expectSummary } from './expectSummary.ts';

const iso = (ms: number) => new Date(ms).toISOString();
/** daylight-saving changes: Europe/Berlin 2026-03-29 01:00 UTC, America/New_York 2026-03-08 07:00 UTC */
const CHANGES = [
  { tz: 'Europe/Berlin', at: Date.parse('2026-03-29T01:00:00Z') },
  { tz: 'America/New_York', at: Date.parse('2026-03-08T07:00:00Z') },
];
const SPAN = 3 * 24 * H;

/** an offset from the change within ±3 days, often on an hour edge or 1 ms beside it */
const offsetArb = fc.oneof(
  fc.integer({ min: -SPAN, max: SPAN - 1 }),
  fc.tuple(fc.integer({ min: -72, max: 71 }), fc.constantFrom(-1, 0, 1)).map(([h, d]) => h * H + d),
);
const historyArb = fc.array(
  fc.record({
    user: fc.integer({ min: 0, max: 7 }),
    action: fc.constantFrom('enrolled', 'enrolled', 'goal_reached', 'exited', 'step_entered'),
    at: offsetArb,
    dept: fc.constantFrom('eng', 'ops'),
    batch: fc.integer({ min: 0, max: 2 }),
  }),
  { minLength: 5, maxLength: 40 },
);
const caseArb = fc.record({
  change: fc.integer({ min: 0, max: 1 }),
  history: historyArb,
  from: offsetArb,
  length: fc.integer({ min: 1, max: 2 * SPAN }),
  granularity: fc.constantFrom('hour' as const, 'day' as const, 'week' as const),
  utc: fc.boolean(),
});

describe('workflow figures from the enrolment rollup, property-based', () => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
  }, 120_000);
  afterAll(() => b?.close());

  const fold = async () => (await b.foldRollups()).filter((f) => f.plugin === 'funnels').reduce((x, f) => x + f.rows, 0);

  it('random histories in three batches (two folds, a raw tail), random ranges around a daylight-saving change', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const wf = `prop-${n++}`;
        const { tz, at } = CHANGES[c.change]!;
        const events: Array<Ev & { batch: number }> = c.history.map((x, i) => ({
          event_id: `${wf}-${String(i).padStart(3, '0')}`,
          event_type: 'workflow_step',
          action: x.action,
          workflow_id: wf,
          timestamp: iso(at + x.at),
          user_id: `u${x.user}`,
          session_id: `u${x.user}-s`,
          department_id: x.dept,
          batch: x.batch,
        }));
        for (let k = 0; k < 3; k++) {
          const batch = events.filter((x) => x.batch === k).map(({ batch: _, ...x }) => x);
          if (batch.length) await b.org.insertEvents(batch);
          if (k < 2) await fold();
        }
        const from = at + c.from;
        const to = from + c.length;
        const zone = c.utc ? 'UTC' : tz;
        const label = `${wf} ${iso(from)}…${iso(to)} ${c.granularity} ${zone}`;
        const query = { from: iso(from), to: iso(to), granularity: c.granularity, tz: zone };
        const headers = { headers: { 'cache-control': 'no-cache' } };
        const res = await b.client.get(`/api/v1/workflows/${wf}/analytics`, query, headers);
        expect(res.status, res.text).toBe(200);
        const want = cohort(events, wf, from, to);
        expectSummary(res.body.summary, summary(want), label);
        expect(res.body.series, label).toEqual(series(events, wf, from, to, c.granularity, zone));
        const raw = await b.client.get(`/api/v1/workflows/${wf}/analytics`, { ...query, source: 'raw' }, headers);
        expect(raw.body, label).toEqual(res.body);
        const depts = await b.client.get(`/api/v1/workflows/${wf}/analytics/departments`, { from: iso(from), to: iso(to) }, headers);
        expect(depts.status, depts.text).toBe(200);
        const perDept = byDept(want);
        expect(depts.body.departments.map((d: { department_id: string }) => d.department_id), label).toEqual(perDept.map((d) => d.department_id));
        depts.body.departments.forEach((d: Record<string, unknown>, i: number) => expectSummary(d, perDept[i]!, `${label} ${d.department_id}`));
        // the list: every workflow of the org so far, from the derived rows of all of them (and per
        // user for the tail's users), equal to the per-user merge and to the reference for this one
        const list = await b.client.get('/api/v1/workflows', { from: iso(from), to: iso(to) }, headers);
        expect(list.status, list.text).toBe(200);
        const mine = list.body.workflows.find((w: { workflow_id: string }) => w.workflow_id === wf);
        const s = summary(want);
        if (s.enrolled) expectSummary(mine, { enrolled: s.enrolled, active: s.currently_active, completed: s.completed, exited: s.exited, conversion_rate: s.conversion_rate }, `${label} list`);
        else expect(mine, `${label} list`).toBeUndefined();
        const listMerged = await b.client.get('/api/v1/workflows', { from: iso(from), to: iso(to), source: 'merge' }, headers);
        expect(list.body, `${label} list merge`).toEqual(listMerged.body);
        // the rollup merged per user (no derived outcome rows) gives the same answer
        const merged = await b.client.get(`/api/v1/workflows/${wf}/analytics`, { ...query, source: 'merge' }, headers);
        expect(merged.body, `${label} merge`).toEqual(res.body);
        // the tail folded: every user of the workflow now answers from the derived outcome rows
        await fold();
        const derived = await b.client.get(`/api/v1/workflows/${wf}/analytics`, query, headers);
        expect(derived.body, `${label} all derived`).toEqual(res.body);
      }),
      { numRuns: 25, seed: 1905, endOnFailure: true },
    );
  }, 600_000);
});
