/**
 * Growth rates and period comparisons over HTTP, on random events generated here: every window's
 * value (a count, distinct users, a p95 and an average) and every paired bucket is recomputed
 * from the events by brute force; percentiles are compared within the store's quantile error.
 * Pure helpers (month arithmetic, change) are property-tested.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { changePct, earlierRange, monthEarlier } from '../backend/routes/growth.ts';
import { mulberry32 } from '../backend/models/random.ts';

const DAY = 86_400_000;
const TO = Date.parse('2026-10-15T06:00:00Z');
const SPAN = 75 * DAY; // covers two months before TO
const iso = (ms: number) => new Date(ms).toISOString();

type Ev = Record<string, unknown> & { event_id: string; event_type: string; timestamp: string; user_id: string; department_id: string; session_id: string; agent_name: string; agent_version: string; invocation_id: string; model_used: string; input_tokens: number; output_tokens: number; execution_time_ms: number; cost_usd: number; status: string };

function makeEvents(seed: number, tag: string, n: number): Ev[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    // more events lately, so growth is not zero
    const age = Math.floor(SPAN * Math.pow(r(), 1.4));
    return {
      event_id: `${tag}-${i}`,
      event_type: 'agent_invocation',
      timestamp: iso(TO - 1 - age),
      user_id: `u${Math.floor(r() * 30)}`,
      department_id: 'd1',
      session_id: `s${i % 7}`,
      agent_name: r() < 0.5 ? 'planner' : 'coder',
      agent_version: '1',
      invocation_id: `${tag}-inv-${i}`,
      model_used: 'm',
      input_tokens: 10,
      output_tokens: 5,
      execution_time_ms: Math.round(100 + r() * 4000),
      cost_usd: 0.01,
      status: r() < 0.1 ? 'failure' : 'success',
    };
  });
}

const inRange = (events: Ev[], from: number, to: number) => events.filter((e) => Date.parse(e.timestamp) >= from && Date.parse(e.timestamp) < to);
const count = (events: Ev[], from: number, to: number) => inRange(events, from, to).length;
const users = (events: Ev[], from: number, to: number) => new Set(inRange(events, from, to).map((e) => e.user_id)).size;
const avg = (events: Ev[], from: number, to: number) => {
  const xs = inRange(events, from, to).map((e) => e.execution_time_ms);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
};
const pct = (cur: number | null, prev: number | null) => (cur === null || prev === null || prev === 0 ? null : ((cur - prev) / Math.abs(prev)) * 100);

describe('growth rates and comparisons', () => {
  let backend: TestBackend;
  let other: TestOrg;
  let events: Ev[];
  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'] });
    events = makeEvents(7, 'g', 3000);
    await backend.org.insertEvents(events);
    other = await backend.createOrg('trends-growth-other');
    await other.insertEvents(makeEvents(8, 'o', 500));
  }, 120_000);
  afterAll(() => backend?.close());

  it('day, week and month over the one before, for a count, distinct users and an average', async () => {
    const windows = { day: [TO - DAY, TO - 2 * DAY], week: [TO - 7 * DAY, TO - 14 * DAY], month: [monthEarlier(TO), monthEarlier(TO, 2)] } as const;
    for (const [measure, ref] of [['count', count], ['users', users], ['avg', avg]] as const) {
      const r = await backend.client.post('/api/v1/trends/growth', { query: { event_type: 'agent_invocation', measure, ...(measure === 'avg' ? { field: 'execution_time_ms' } : {}), to: iso(TO) } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.rates.map((x: any) => x.period)).toEqual(['day', 'week', 'month']);
      for (const rate of r.body.rates) {
        const [mid, start] = windows[rate.period as keyof typeof windows];
        const cur = ref(events, mid, TO);
        const prev = ref(events, start, mid);
        expect(rate.current).toEqual({ from: iso(mid), to: iso(TO), value: expect.any(Number) });
        expect(rate.current.value).toBeCloseTo(cur ?? NaN, 6);
        expect(rate.previous.value).toBeCloseTo(prev ?? NaN, 6);
        const want = pct(cur, prev);
        if (want === null) expect(rate.change_pct).toBeNull();
        else expect(rate.change_pct).toBeCloseTo(want, 6);
      }
    }
  });

  it('compares a range with the period before it, in total and bucket by bucket', async () => {
    const from = TO - 14 * DAY;
    const r = await backend.client.post('/api/v1/trends/compare', { query: { event_type: 'agent_invocation', measure: 'count', granularity: 'day', from: iso(from), to: iso(TO) } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const cur = count(events, from, TO);
    const prev = count(events, from - 14 * DAY, from);
    expect(r.body.current).toEqual({ from: iso(from), to: iso(TO), value: cur });
    expect(r.body.previous).toEqual({ from: iso(from - 14 * DAY), to: iso(from), value: prev });
    expect(r.body.change).toBe(cur - prev);
    expect(r.body.change_pct).toBeCloseTo(pct(cur, prev)!, 9);
    // TO is 06:00 UTC: day buckets are calendar days, so the range spans 15 of them
    const first = Math.floor(from / DAY) * DAY;
    const firstPrev = Math.floor((from - 14 * DAY) / DAY) * DAY;
    expect(r.body.points.length).toBe(15);
    r.body.points.forEach((p: any, i: number) => {
      expect(p.bucket).toBe(iso(first + i * DAY));
      expect(p.value).toBe(count(events, Math.max(from, first + i * DAY), Math.min(TO, first + (i + 1) * DAY)));
      expect(p.previous_bucket).toBe(iso(firstPrev + i * DAY));
      expect(p.previous_value).toBe(count(events, Math.max(from - 14 * DAY, firstPrev + i * DAY), Math.min(from, firstPrev + (i + 1) * DAY)));
    });
  });

  it('compares with a chosen range, and with the same range a year earlier (no data then: no change to speak of)', async () => {
    const from = TO - 7 * DAY;
    const chosen = { from: iso(TO - 40 * DAY), to: iso(TO - 33 * DAY) };
    const r = await backend.client.post('/api/v1/trends/compare', { query: { event_type: 'agent_invocation', measure: 'users', from: iso(from), to: iso(TO) }, compare: chosen });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.current.value).toBe(users(events, from, TO));
    expect(r.body.previous).toEqual({ ...chosen, value: users(events, TO - 40 * DAY, TO - 33 * DAY) });
    expect(r.body.points).toEqual([]);
    const y = await backend.client.post('/api/v1/trends/compare', { query: { event_type: 'agent_invocation', measure: 'count', from: iso(from), to: iso(TO) }, compare: 'previous_year' });
    expect(y.status).toBe(200);
    expect(y.body.previous).toEqual({ from: iso(monthEarlier(from, 12)), to: iso(monthEarlier(TO, 12)), value: 0 });
    expect(y.body.change_pct).toBeNull();
  });

  it('answers bad input with a 400 naming the field', async () => {
    const q = { event_type: 'agent_invocation', measure: 'count', from: iso(TO - DAY), to: iso(TO) };
    const cases: Array<[string, unknown, string]> = [
      ['/compare', { query: { ...q, group_by: ['agent_name'] } }, 'group_by'],
      ['/compare', { query: { ...q, from: iso(TO), to: iso(TO - DAY) } }, 'from'],
      ['/compare', { query: q, compare: { from: iso(TO), to: iso(TO - DAY) } }, 'compare'],
      ['/compare', { query: q, compare: 'last_decade' }, 'compare'],
      ['/compare', { query: { ...q, measure: 'avg', field: 'no_such_field' } }, 'field'],
      ['/growth', { query: { event_type: 'agent_invocation', measure: 'count', to: 'yesterday' } }, 'to'],
      ['/growth', { query: { event_type: 'no_such_type', measure: 'count' } }, 'event_type'],
      ['/growth', {}, 'query'],
    ];
    for (const [path, body, field] of cases) {
      const r = await backend.client.post(`/api/v1/trends${path}`, body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(JSON.stringify(r.body.error), `${path} ${JSON.stringify(body)}`).toContain(field);
    }
  });

  it('never counts another org’s events', async () => {
    const r = await other.client.post('/api/v1/trends/growth', { query: { event_type: 'agent_invocation', measure: 'count', to: iso(TO) } });
    expect(r.status).toBe(200);
    const mine = makeEvents(8, 'o', 500);
    expect(r.body.rates[1].current.value).toBe(count(mine, TO - 7 * DAY, TO));
  });

  it('month arithmetic and change, for any instant and values', () => {
    fc.assert(fc.property(fc.integer({ min: Date.parse('2000-01-01'), max: Date.parse('2100-01-01') }), fc.integer({ min: 1, max: 24 }), (ms, k) => {
      const e = new Date(monthEarlier(ms, k));
      const d = new Date(ms);
      const months = (d.getUTCFullYear() - e.getUTCFullYear()) * 12 + d.getUTCMonth() - e.getUTCMonth();
      expect(months).toBe(k);
      expect(e.getUTCDate()).toBeLessThanOrEqual(d.getUTCDate());
      expect(e.getUTCHours() * 3600e3 + e.getUTCMinutes() * 60e3 + e.getUTCSeconds() * 1e3 + e.getUTCMilliseconds()).toBe(ms % DAY);
    }));
    fc.assert(fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: -1e9, max: 1e9 }), (a, b) => {
      const c = changePct(a, b);
      if (b === 0) expect(c).toBeNull();
      else expect(c! * Math.abs(b) / 100 + b).toBeCloseTo(a, 3);
    }));
    const r = earlierRange(10, 30, 'previous_period');
    expect(r).toEqual({ from: -10, to: 10 });
  });
});
