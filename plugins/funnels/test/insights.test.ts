/**
 * The funnel drill-downs (people who dropped, what they did next, time to convert,
 * conversion by entry date) against the per-unit attempts of the exhaustive reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { referenceDetail, rng, type Ev, type RefFunnel } from './reference.ts';

const T0 = Date.parse('2026-05-04T10:00:00.000Z');
const S = 1000;
const iso = (ms: number) => new Date(ms).toISOString();

function events(seed: number, users: number): Ev[] {
  const r = rng(seed);
  const out: Ev[] = [];
  for (let u = 0; u < users; u++) {
    const n = 4 + Math.floor(r() * 10);
    for (let i = 0; i < n; i++) {
      const t = T0 + Math.floor(r() * 3 * 86400) * S;
      const k = r();
      const e: { event_type: string; [field: string]: string } =
        k < 0.5
          ? { event_type: 'command', command_name: ['a', 'b', 'c'][Math.floor(r() * 3)]! }
          : k < 0.8
            ? { event_type: 'feature_use', feature_name: ['x', 'y'][Math.floor(r() * 2)]! }
            : { event_type: 'workflow_step', action: 'exited', workflow_id: 'w1' };
      out.push({ ...e, event_id: `i-${u}-${i}`, timestamp: iso(t), user_id: `user-${String(u).padStart(2, '0')}`, session_id: `s-${u}`, department_id: 'eng' });
    }
  }
  return out;
}

const label = (e: Ev) =>
  `${e.event_type}${e.action ? `:${e.action}` : ''}${[e.command_name, e.feature_name, e.tool_name, e.workflow_id, e.agent_name].find((v) => v) ? ` ${[e.command_name, e.feature_name, e.tool_name, e.workflow_id, e.agent_name].find((v) => v)}` : ''}`;

/** quantile with linear interpolation between closest ranks (PERCENTILE.INC) */
function quantileInc(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return s[lo]! + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? 0) - s[lo]!);
}

describe('funnel drill-downs', () => {
  let b: TestBackend;
  const data = events(5, 60);
  const funnels: RefFunnel[] = [
    { steps: [{ event_type: 'command', where: { command_name: 'a' } }, { event_type: 'feature_use' }, { event_type: 'command', where: { command_name: 'c' } }], from: iso(T0), to: iso(T0 + 2 * 86400 * S), window_seconds: 86400 },
    { steps: [{ event_type: 'feature_use', where: { feature_name: 'x' } }, { event_type: 'command' }, { event_type: 'command', where: { command_name: 'b' } }], from: iso(T0 + 3600 * S), to: iso(T0 + 3 * 86400 * S), window_seconds: 6 * 3600, order: 'strict' },
  ];

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
    await b.org.insertEvents(data);
  });
  afterAll(() => b?.close());

  it('people: exactly the units that reached step − 1 and not step, latest first; Admins and Managers only', async () => {
    for (const f of funnels) {
      const { units } = referenceDetail(f, data);
      for (const step of [1, 2]) {
        const res = await b.client.post('/api/v1/funnels/query/people', { ...f, step, limit: 500 });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const expected = [...units.entries()]
          .filter(([, a]) => a.reach === step - 1)
          .map(([unit, a]) => ({ unit, reached_step: step - 1, last_step_at: iso(a.path[step - 1]!) }))
          .sort((x, y) => y.last_step_at.localeCompare(x.last_step_at) || x.unit.localeCompare(y.unit));
        expect(res.body.total).toBe(expected.length);
        expect(res.body.people).toEqual(expected);
        expect(expected.length).toBeGreaterThan(0);
      }
    }
    const limited = await b.client.post('/api/v1/funnels/query/people', { ...funnels[0], step: 1, limit: 2 });
    expect(limited.body.people.length).toBe(2);
    const dev = await b.org.addUser({ email: 'dev@insights.local', role: 'Developer' });
    expect((await dev.post('/api/v1/funnels/query/people', { ...funnels[0], step: 1 })).status).toBe(403);
    const mgr = await b.org.addUser({ email: 'mgr@insights.local', role: 'Manager' });
    expect((await mgr.post('/api/v1/funnels/query/people', { ...funnels[0], step: 1 })).status).toBe(200);
  });

  it('next events: the first two events after the last reached step, inside the attempt window', async () => {
    for (const f of funnels) {
      const { units, byUnit } = referenceDetail(f, data);
      const W = f.window_seconds! * 1000;
      for (const step of [1, 2]) {
        const res = await b.client.post('/api/v1/funnels/query/next-events', { ...f, step });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const firsts = new Map<string, number>();
        let dropped = 0;
        for (const [unit, a] of units) {
          if (a.reach !== step - 1) continue;
          dropped++;
          const last = a.path[step - 1]!;
          const next = byUnit.get(unit)!.filter((e) => e.t > last && e.t <= a.t0 + W);
          const first = next[0] ? label(next[0]) : '(nothing)';
          firsts.set(first, (firsts.get(first) ?? 0) + 1);
        }
        expect(res.body.dropped).toBe(dropped);
        const expected = [...firsts.entries()].map(([event, units]) => ({ event, units })).sort((x, y) => y.units - x.units || x.event.localeCompare(y.event));
        expect(res.body.next).toEqual(expected);
        const fromStep = res.body.links.filter((l: any) => l.source === `step ${step - 1}`).reduce((s: number, l: any) => s + l.units, 0);
        expect(fromStep).toBe(dropped);
      }
    }
  });

  it('time to convert: exact quantiles and power-of-two bins over the units that reached the later step', async () => {
    for (const f of funnels) {
      const { units } = referenceDetail(f, data);
      for (const [a, z] of [[0, 2], [1, 2], [0, 1]] as const) {
        const res = await b.client.post('/api/v1/funnels/query/time-to-convert', { ...f, from_step: a, to_step: z });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const secs = [...units.values()].filter((u) => u.reach >= z).map((u) => (u.path[z]! - u.path[a]!) / 1000);
        expect(res.body.units).toBe(secs.length);
        expect(secs.length).toBeGreaterThan(0);
        expect(res.body.median_seconds).toBeCloseTo(quantileInc(secs, 0.5), 6);
        expect(res.body.p90_seconds).toBeCloseTo(quantileInc(secs, 0.9), 6);
        expect(res.body.avg_seconds).toBeCloseTo(secs.reduce((p, q) => p + q, 0) / secs.length, 6);
        const bins = new Map<number, number>();
        for (const s of secs) {
          const from = s < 1 ? 0 : 2 ** Math.floor(Math.log2(s));
          bins.set(from, (bins.get(from) ?? 0) + 1);
        }
        expect(res.body.bins.map((x: any) => [x.from_seconds, x.units])).toEqual([...bins.entries()].sort((p, q) => p[0] - q[0]));
      }
    }
  });

  it('conversion over time: units by the UTC day and hour of their attempt, and how many converted', async () => {
    for (const f of funnels) {
      const { units } = referenceDetail(f, data);
      for (const [g, ms] of [['day', 86400 * S], ['hour', 3600 * S]] as const) {
        const res = await b.client.post('/api/v1/funnels/query/trends', { ...f, granularity: g });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const buckets = new Map<string, { entered: number; converted: number }>();
        for (const u of units.values()) {
          const k = iso(Math.floor(u.t0 / ms) * ms);
          const v = buckets.get(k) ?? { entered: 0, converted: 0 };
          v.entered++;
          if (u.reach === f.steps.length - 1) v.converted++;
          buckets.set(k, v);
        }
        const expected = [...buckets.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([bucket, v]) => ({ bucket, ...v, conversion_rate: v.converted / v.entered }));
        expect(res.body.series).toEqual(expected);
      }
    }
  });

  it('bad steps are a 400 naming the field', async () => {
    const res = await b.client.post('/api/v1/funnels/query/time-to-convert', { ...funnels[0], from_step: 2, to_step: 1 });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error)).toContain('to_step');
    const people = await b.client.post('/api/v1/funnels/query/people', { ...funnels[0], step: 7 });
    expect(people.status).toBe(400);
    expect(JSON.stringify(people.body.error)).toContain('step');
  });
});
