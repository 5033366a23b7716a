/**
 * The derived outcome rows (backend/workflows/outcomes.ts) on hand-made histories whose answer
 * depends on a user's other events in the same bucket: two enrolments of a user in one bucket,
 * a goal before the user's first enrolment in the range in the bucket of a later goal, an exit
 * between two enrolments, a tie of two enrolments at one instant. All folded (every user
 * answers from the derived rows), compared with the brute-force reference and `source=raw`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import type { Ev } from './reference.ts';
import { H, START, cohort, series, summary } from './workflow-reference.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const WF = 'outcomes-edges';

/** user → [action, hours after START (fractions allowed)] */
const HISTORY: Record<string, Array<[string, number]>> = {
  twice: [['enrolled', 2], ['enrolled', 5], ['goal_reached', 6], ['goal_reached', 7]],
  goalFirst: [['enrolled', -30], ['goal_reached', 3], ['enrolled', 4], ['goal_reached', 9], ['exited', 10]],
  exitBetween: [['enrolled', 1], ['exited', 1.5], ['enrolled', 3], ['exited', 20], ['goal_reached', 50]],
  tie: [['enrolled', 8], ['enrolled', 8], ['goal_reached', 8], ['goal_reached', 8.5]],
  before: [['enrolled', -2], ['goal_reached', 1], ['exited', 2]],
  late: [['enrolled', 30], ['goal_reached', 31], ['goal_reached', 30.5]],
};

describe('workflow summary from the derived outcome rows', () => {
  let b: TestBackend;
  const events: Ev[] = [];
  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
    let i = 0;
    for (const [user, acts] of Object.entries(HISTORY)) {
      for (const [action, h] of acts) {
        events.push({ event_id: `oe-${String(i++).padStart(3, '0')}`, event_type: 'workflow_step', action, workflow_id: WF, timestamp: iso(START + h * H), user_id: user, session_id: `${user}-s`, department_id: 'eng' });
      }
    }
    await b.org.insertEvents(events);
    await b.foldRollups();
  }, 120_000);
  afterAll(() => b?.close());

  const cases: Array<[number, number, 'hour' | 'day' | 'week', string]> = [
    [0, 24, 'day', 'UTC'],
    [0, 24, 'hour', 'UTC'],
    [2.5, 40, 'day', 'UTC'],
    [-1, 60, 'week', 'UTC'],
    [3.5, 35, 'day', 'Asia/Kolkata'],
    [0, 24 * 3, 'day', 'America/New_York'],
    [8, 8.75, 'hour', 'UTC'],
  ];
  for (const [a, z, g, tz] of cases) {
    it(`[START+${a}h, START+${z}h) ${g} ${tz}`, async () => {
      const from = START + a * H, to = START + z * H;
      const query = { from: iso(from), to: iso(to), granularity: g, tz };
      const headers = { headers: { 'cache-control': 'no-cache' } };
      const res = await b.client.get(`/api/v1/workflows/${WF}/analytics`, query, headers);
      expect(res.status, res.text).toBe(200);
      const want = summary(cohort(events, WF, from, to));
      for (const [k, v] of Object.entries(want)) {
        if (typeof v === 'number') expect(res.body.summary[k], k).toBeCloseTo(v, 6);
        else expect(res.body.summary[k], k).toEqual(v);
      }
      expect(res.body.series).toEqual(series(events, WF, from, to, g, tz));
      const raw = await b.client.get(`/api/v1/workflows/${WF}/analytics`, { ...query, source: 'raw' }, headers);
      expect(raw.body).toEqual(res.body);
    });
  }
});
