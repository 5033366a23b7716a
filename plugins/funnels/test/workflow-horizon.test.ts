/**
 * Workflow figures around the org's data-lifecycle horizons, against the brute-force reference.
 *
 * Raw events are kept one day and per-user activity (the enrolment rollup and its derived
 * outcome rows) two: after the expiry the raw events before the raw horizon are gone while the
 * rollup still holds them (rollups outlive raw events by design, so the rollup's answer is the
 * one that survives), and every row before the user-activity horizon is gone. The reference is
 * therefore every event at or after the user-activity horizon, and every event inserted after
 * the expiry (not yet expired, wherever its time). Random users with several enrolments, goals
 * and exits, often on an hour edge or beside a horizon, arrive in three batches: two folded
 * before the expiry, one after it left as a raw tail after the watermark (then folded too).
 *
 * Checked on random ranges, most starting before a horizon and many with the watermark's tail
 * inside: `source=auto` (derived outcome rows, and per user for the tail's users) and `merge`
 * equal the reference; `raw` equals it from the raw horizon on and is a 400 naming `source`
 * before it (its events there have expired). Without the re-derivation of the keys that lose rows
 * at the expiry, a user enrolled before the user-activity horizon and again after it keeps
 * derived rows naming the expired enrolment, and drops out of `auto`'s cohort of a range that
 * starts before the horizon.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { rng, type Ev } from './reference.ts';
import { H, START, cohort, series, summary, byDept } from './workflow-reference.ts';
import { expectSummary } from './expectSummary.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 24 * H;
/** expiry at START + 4 d 5 h: raw events kept 1 day, user activity 2 */
const NOW = START + 4 * DAY + 5 * H;
const RAW_CUT = START + 3 * DAY;
const USER_CUT = START + 2 * DAY;
const WORKFLOWS = ['alpha', 'beta'];
const ACTIONS = ['enrolled', 'enrolled', 'goal_reached', 'exited', 'step_entered'];

type Batched = Ev & { batch: number };

/** random histories over [START, START + 5 d), times often on an hour edge or ±1 ms beside a horizon */
function history(seed: number): Batched[] {
  const r = rng(seed);
  const out: Batched[] = [];
  const time = () => {
    const x = r();
    if (x < 0.3) return START + Math.floor(r() * 5 * DAY);
    if (x < 0.6) return START + Math.floor(r() * 120) * H + [-1, 0, 1][Math.floor(r() * 3)]!;
    const cut = r() < 0.5 ? USER_CUT : RAW_CUT;
    return cut + Math.floor((r() - 0.5) * 6 * H);
  };
  let id = 0;
  for (let u = 0; u < 24; u++) {
    for (const wf of WORKFLOWS) {
      const n = 2 + Math.floor(r() * 8);
      for (let i = 0; i < n; i++) {
        out.push({
          event_id: `h${seed}-${String(id++).padStart(4, '0')}`,
          event_type: 'workflow_step',
          action: ACTIONS[Math.floor(r() * ACTIONS.length)]!,
          workflow_id: wf,
          timestamp: iso(time()),
          user_id: `user-${u}`,
          session_id: `user-${u}-s`,
          department_id: r() < 0.5 ? 'eng' : 'ops',
          batch: Math.floor(r() * 3),
        });
      }
    }
  }
  // hand-made: enrolled before the user-activity horizon (expires) and again after it, a goal later
  const e = (n: string, user: string, action: string, t: number, batch = 0): Batched => ({
    event_id: `edge-${n}`, event_type: 'workflow_step', action, workflow_id: 'alpha', timestamp: iso(t), user_id: user, session_id: `${user}-s`, department_id: 'eng', batch,
  });
  out.push(e('1', 'twice', 'enrolled', USER_CUT - H), e('2', 'twice', 'enrolled', USER_CUT + H), e('3', 'twice', 'goal_reached', USER_CUT + 2 * H));
  // a goal after the horizon whose enrolment expired: in no cohort, in no series
  out.push(e('4', 'orphan', 'enrolled', USER_CUT - 2 * H), e('5', 'orphan', 'goal_reached', USER_CUT + 3 * H));
  // enrolled between the two horizons (raw expired, rollup kept), completed after the raw horizon
  out.push(e('6', 'between', 'enrolled', RAW_CUT - 2 * H, 1), e('7', 'between', 'goal_reached', RAW_CUT + 2 * H, 2));
  return out;
}

describe('workflow figures before the lifecycle horizons', () => {
  let b: TestBackend;
  const events = history(1919);
  const fold = async () => (await b.foldRollups()).filter((f) => f.plugin === 'funnels').reduce((x, f) => x + f.rows, 0);
  const strip = (xs: Batched[]): Ev[] => xs.map(({ batch: _, ...x }) => x);
  /** what the org still holds after the expiry */
  const kept = strip(events.filter((x) => Date.parse(x.timestamp) >= USER_CUT || x.batch === 2));
  const headers = { headers: { 'cache-control': 'no-cache' } };

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
    for (const k of [0, 1]) {
      await b.org.insertEvents(strip(events.filter((x) => x.batch === k)));
      expect(await fold()).toBeGreaterThan(0);
    }
    const put = await b.client.put('/api/v1/admin/retention', { raw_events_days: 1, user_activity_days: 2 });
    expect(put.status, put.text).toBe(200);
    await b.kernel.services.retention.expireAll(new Date(NOW));
    expect(Date.parse((await b.client.get('/api/v1/admin/retention')).body.raw_expired_before)).toBe(RAW_CUT);
    await b.org.insertEvents(strip(events.filter((x) => x.batch === 2)));
  }, 120_000);
  afterAll(() => b?.close());


  /** random ranges over the data, most starting before one of the horizons */
  const ranges = (seed: number, n: number) => {
    const r = rng(seed);
    return Array.from({ length: n }, (_, i) => {
      const from = i < 2 ? USER_CUT - DAY + i * 7 : START + Math.floor(r() * 4.5 * DAY);
      return { from, to: from + 1 + Math.floor(r() * 3 * DAY), g: (['hour', 'day', 'week'] as const)[i % 3]!, tz: i % 2 ? 'Europe/Berlin' : 'UTC' };
    });
  };

  const check = async (label0: string, seed: number) => {
    const rs = ranges(seed, 12);
    expect(rs.filter((x) => x.from < USER_CUT).length).toBeGreaterThan(2);
    expect(rs.filter((x) => x.from >= RAW_CUT).length).toBeGreaterThan(0);
    for (const { from, to, g, tz } of rs) {
      const query = { from: iso(from), to: iso(to), granularity: g, tz };
      for (const wf of WORKFLOWS) {
        const label = `${label0} ${wf} ${iso(from)}…${iso(to)} ${g} ${tz}`;
        const want = cohort(kept, wf, from, to);
        const res = await b.client.get(`/api/v1/workflows/${wf}/analytics`, query, headers);
        expect(res.status, res.text).toBe(200);
        expectSummary(res.body.summary, summary(want), label);
        expect(res.body.series, label).toEqual(series(kept, wf, from, to, g, tz));
        const merged = await b.client.get(`/api/v1/workflows/${wf}/analytics`, { ...query, source: 'merge' }, headers);
        expect(merged.body, `${label} merge`).toEqual(res.body);
        const raw = await b.client.get(`/api/v1/workflows/${wf}/analytics`, { ...query, source: 'raw' }, headers);
        if (from >= RAW_CUT) expect(raw.body, `${label} raw`).toEqual(res.body);
        else {
          expect(raw.status, `${label} raw`).toBe(400);
          expect(raw.body.error.details.field).toBe('source');
        }
        const depts = await b.client.get(`/api/v1/workflows/${wf}/analytics/departments`, { from: iso(from), to: iso(to) }, headers);
        expect(depts.status, depts.text).toBe(200);
        const perDept = byDept(want);
        expect(depts.body.departments.map((d: { department_id: string }) => d.department_id), label).toEqual(perDept.map((d) => d.department_id));
        depts.body.departments.forEach((d: Record<string, unknown>, i: number) => expectSummary(d, perDept[i]!, `${label} ${d.department_id}`));
      }
      const list = await b.client.get('/api/v1/workflows', { from: iso(from), to: iso(to) }, headers);
      expect(list.status, list.text).toBe(200);
      const wantList = WORKFLOWS.map((wf) => ({ workflow_id: wf, ...summary(cohort(kept, wf, from, to)) })).filter((w) => w.enrolled > 0);
      for (const w of wantList) {
        const got = list.body.workflows.find((x: { workflow_id: string }) => x.workflow_id === w.workflow_id);
        expect(got, `${label0} list ${w.workflow_id}`).toBeDefined();
        expectSummary(got, { enrolled: w.enrolled, active: w.currently_active, completed: w.completed, exited: w.exited, conversion_rate: w.conversion_rate }, `${label0} list ${w.workflow_id}`);
      }
      expect(list.body.workflows.length, `${label0} list`).toBe(wantList.length);
    }
  };

  it('the hand-made users: a second enrolment after the user-activity horizon is the cohort enrolment', async () => {
    const from = USER_CUT - DAY;
    const to = USER_CUT + DAY;
    const res = await b.client.get('/api/v1/workflows/alpha/analytics', { from: iso(from), to: iso(to), granularity: 'day' }, headers);
    const want = cohort(kept, 'alpha', from, to);
    expect(want.get('twice')).toMatchObject({ e: USER_CUT + H, goal: USER_CUT + 2 * H });
    expect(want.has('orphan')).toBe(false);
    expectSummary(res.body.summary, summary(want), 'hand-made');
  }, 60_000);

  it('with the tail after the watermark: auto and merge equal the reference, raw from its horizon on', () => check('tail', 77), 600_000);

  it('after the tail is folded: the same', async () => {
    expect(await fold()).toBeGreaterThan(0);
    await check('folded', 78);
  }, 600_000);
});
