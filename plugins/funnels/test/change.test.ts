/**
 * The effect of a workflow change (`GET /workflows/{id}/analytics/change`) against a reference
 * computed here from random enrolments whose conversion rises at the change date and whose
 * step list changes (step b goes, step d comes). The p-values are checked against a normal
 * tail integrated numerically here, not against the plugin's formula.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { rng, type Ev } from './reference.ts';

const DAY = 86_400_000;
const AT = Math.floor((Date.now() - 20 * DAY) / 1000) * 1000;

function generate(seed: number, users: number, lift: number): Ev[] {
  const r = rng(seed);
  const out: Ev[] = [];
  let id = 0;
  const push = (user: string, action: string, t: number, extra: Record<string, unknown> = {}) =>
    out.push({ event_id: `c${seed}-${id++}`, event_type: 'workflow_step', action, workflow_id: 'rev', timestamp: new Date(t).toISOString(), user_id: user, session_id: `${user}-s`, department_id: 'eng', ...extra });
  for (let u = 0; u < users; u++) {
    const user = `user-${u}`;
    const runs = r() < 0.15 ? 2 : 1;
    for (let k = 0; k < runs; k++) {
      let t = AT - 17 * DAY + Math.floor(r() * 34 * DAY);
      push(user, 'enrolled', t);
      const after = t >= AT;
      const steps = after ? ['a', 'c', 'd'] : ['a', 'b', 'c'];
      for (const [i, s] of steps.entries()) {
        if (r() < 0.1) continue;
        t += Math.floor(r() * 2 * DAY);
        push(user, 'step_entered', t, { workflow_step: s, step_index: i + 1 });
        if (r() < (after ? 0.8 : 0.6)) push(user, 'step_completed', (t += Math.floor(r() * DAY)), { workflow_step: s, step_index: i + 1 });
      }
      if (r() < (after ? 0.3 + lift : 0.3)) push(user, 'goal_reached', t + Math.floor(r() * 4 * DAY));
      else if (r() < 0.5) push(user, 'exited', t + 1000);
    }
  }
  return out;
}

/** Simpson's rule over the normal density: P(|Z| ≥ |z|). */
function twoSidedP(z: number): number {
  const n = 20_000;
  const b = Math.abs(z);
  const f = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  let s = f(0) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f((i * b) / n);
  return 2 * (0.5 - (s * b) / (3 * n));
}

/** `now` is the instant the answer was computed (its `after.to` tells it when the side is cut at now − completion days). */
function reference(events: Ev[], days: number, completionDays: number, now = Date.now()) {
  const win = completionDays * DAY;
  const from = AT - days * DAY;
  const to = Math.min(AT + days * DAY, now - win);
  const first = new Map<string, number>();
  for (const e of events) {
    const t = Date.parse(e.timestamp);
    if (e.action === 'enrolled' && t >= from && t < to && (!first.has(e.user_id) || t < first.get(e.user_id)!)) first.set(e.user_id, t);
  }
  const side = (after: boolean) => {
    const people = [...first].filter(([, e]) => (e >= AT) === after);
    const ok = people.filter(([u, e]) => events.some((x) => x.user_id === u && x.action === 'goal_reached' && Date.parse(x.timestamp) > e && Date.parse(x.timestamp) - e <= win));
    const steps = new Map<string, { entered: number; completed: number }>();
    for (const [u, e] of people) {
      const mine = events.filter((x) => x.user_id === u && x.workflow_step && Date.parse(x.timestamp) >= e && Date.parse(x.timestamp) <= e + win);
      for (const s of new Set(mine.map((x) => x.workflow_step as string))) {
        const entered = mine.some((x) => x.workflow_step === s && x.action === 'step_entered');
        const completed = entered && mine.some((x) => x.workflow_step === s && x.action === 'step_completed');
        const c = steps.get(s) ?? { entered: 0, completed: 0 };
        if (entered) c.entered++;
        if (completed) c.completed++;
        steps.set(s, c);
      }
    }
    return { enrolled: people.length, completed: ok.length, steps };
  };
  return { before: side(false), after: side(true), from, to };
}

function expectTest(got: any, kA: number, nA: number, kB: number, nB: number) {
  const pA = kA / nA;
  const pB = kB / nB;
  const se = Math.sqrt((pA * (1 - pA)) / nA + (pB * (1 - pB)) / nB);
  expect(got.absolute_difference).toBeCloseTo(pB - pA, 12);
  expect(got.p_value).toBeCloseTo(twoSidedP((pB - pA) / se), 8);
  expect(got.ci_low).toBeCloseTo(pB - pA - 1.959963984540054 * se, 9);
  expect(got.ci_high).toBeCloseTo(pB - pA + 1.959963984540054 * se, 9);
  expect(got.significant).toBe(got.p_value < 0.05);
}

describe('workflow change effect', () => {
  let b: TestBackend;
  let other: TestOrg;
  const events = generate(7, 400, 0.3);
  const flat = generate(8, 300, 0);

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
    other = await b.createOrg('change-other');
    await b.org.insertEvents(events as any);
    // the other org: the same user and workflow ids, no change at all
    await other.insertEvents(flat.map((e) => ({ ...e, event_id: `o-${e.event_id}` })) as any);
  }, 180_000);
  afterAll(() => b?.close());

  it('conversion and step completion before and after, with the test, match the reference', async () => {
    for (const [days, cd] of [[14, 7], [10, 3]] as const) {
      const res = await b.client.get('/api/v1/workflows/rev/analytics/change', { at: new Date(AT).toISOString(), days, completion_days: cd });
      expect(res.status, res.text).toBe(200);
      const answeredAt = Date.parse(res.body.after.to) + cd * DAY;
      if (AT + days * DAY > Date.now() - cd * DAY) expect(Math.abs(answeredAt - Date.now())).toBeLessThan(60_000);
      const want = reference(events, days, cd, Math.min(answeredAt, Date.now()));
      expect(res.body.before).toMatchObject({ from: new Date(want.from).toISOString(), to: new Date(AT).toISOString(), enrolled: want.before.enrolled, completed: want.before.completed });
      expect(res.body.after).toMatchObject({ from: new Date(AT).toISOString(), to: new Date(want.to).toISOString(), enrolled: want.after.enrolled, completed: want.after.completed });
      expect(want.before.enrolled).toBeGreaterThan(50);
      expectTest(res.body.conversion, want.before.completed, want.before.enrolled, want.after.completed, want.after.enrolled);
      for (const s of res.body.steps) {
        const wb = want.before.steps.get(s.step) ?? { entered: 0, completed: 0 };
        const wa = want.after.steps.get(s.step) ?? { entered: 0, completed: 0 };
        expect({ step: s.step, before: [s.before.entered, s.before.completed], after: [s.after.entered, s.after.completed] }).toEqual({ step: s.step, before: [wb.entered, wb.completed], after: [wa.entered, wa.completed] });
        if (wb.entered && wa.entered && wb.completed < wb.entered) expectTest(s.test, wb.completed, wb.entered, wa.completed, wa.entered);
      }
      expect(res.body.steps.map((s: any) => s.step).sort()).toEqual([...new Set([...want.before.steps.keys(), ...want.after.steps.keys()])].sort());
      // b is gone after the change; d is new, though people who enrolled before it and again after may have met it within their window
      const seen = (m: Map<string, { entered: number }>) => [...m].filter(([, v]) => v.entered > 0).map(([k]) => k);
      const added = seen(want.after.steps).filter((x) => !seen(want.before.steps).includes(x));
      expect(res.body.step_list).toMatchObject({ added, removed: ['b'] });
      expect(res.body.steps.find((x: any) => x.step === 'd').after.entered).toBeGreaterThan(res.body.steps.find((x: any) => x.step === 'd').before.entered * 5);
    }
    // the generated lift is found
    const big = await b.client.get('/api/v1/workflows/rev/analytics/change', { at: new Date(AT).toISOString(), days: 14 });
    expect(big.body.conversion.significant).toBe(true);
    expect(big.body.conversion.absolute_difference).toBeGreaterThan(0);
  });

  it("another org's same-named workflow answers from its own events", async () => {
    const res = await other.client.get('/api/v1/workflows/rev/analytics/change', { at: new Date(AT).toISOString(), days: 14 });
    const want = reference(flat, 14, 7, Date.parse(res.body.after.to) + 7 * DAY);
    expect([res.body.before.enrolled, res.body.before.completed, res.body.after.enrolled, res.body.after.completed]).toEqual([want.before.enrolled, want.before.completed, want.after.enrolled, want.after.completed]);
    expectTest(res.body.conversion, want.before.completed, want.before.enrolled, want.after.completed, want.after.enrolled);
  });

  it('bad input is a 400 naming the field', async () => {
    for (const [q, field] of [
      [{}, 'at'],
      [{ at: 'yesterday' }, 'at'],
      [{ at: new Date(Date.now() - DAY).toISOString() }, 'at'],
      [{ at: new Date(AT).toISOString(), days: 0 }, 'days'],
      [{ at: new Date(AT).toISOString(), completion_days: 91 }, 'completion_days'],
      [{ at: new Date(AT).toISOString(), alpha: 0 }, 'alpha'],
    ] as const) {
      const res = await b.client.get('/api/v1/workflows/rev/analytics/change', q);
      expect(res.status, JSON.stringify(q)).toBe(400);
      expect(JSON.stringify(res.body.error), JSON.stringify(q)).toContain(field);
    }
  });
});
