/**
 * The trends routes over HTTP, on events generated here: series are checked against the
 * counts computed from those events (smoothing by brute force, forecast buckets and bands,
 * an injected spike day found), multivariate agent anomalies against features computed from
 * the events, bad input (400 naming the field), another org's data never showing, and the
 * `trendsRef` service reached by another plugin through the loader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import { definePlugin, need, trendsRef } from '@orrery/plugin-sdk';
import plugin from '../backend/index.ts';
import { mulberry32 } from '../backend/models/random.ts';
import { gaussian } from './synthetic.ts';

const DAY = 86_400_000;
const FROM = Date.parse('2026-08-03T00:00:00Z'); // a Monday
const DAYS = 56;
const TO = FROM + DAYS * DAY;
const iso = (ms: number) => new Date(ms).toISOString();
const AGENTS = ['planner', 'coder', 'reviewer', 'tester', 'writer', 'search', 'triage', 'summarizer', 'translator', 'router', 'sql', 'docs'];
const WEEKLY = [1.0, 1.1, 1.05, 1.0, 0.9, 0.35, 0.3]; // Monday … Sunday
const SPIKE_DAY = 38;

type Ev = Record<string, unknown> & { timestamp: string; agent_name: string; status: string; execution_time_ms: number; cost_usd: number };

/** Invocations per day following a trend × weekly season with noise; one day has four times as many. */
function makeDays(seed: number, base: number): number[] {
  const z = gaussian(mulberry32(seed));
  return Array.from({ length: DAYS }, (_, d) => {
    const mean = (base + d * 0.5) * WEEKLY[d % 7]!;
    const c = Math.max(1, Math.round(mean + Math.sqrt(mean) * z()));
    return d === SPIKE_DAY ? c * 4 : c;
  });
}

function makeEvents(seed: number, tag: string, perDay: number[]): Ev[] {
  const rand = mulberry32(seed);
  const out: Ev[] = [];
  perDay.forEach((count, d) => {
    for (let i = 0; i < count; i++) {
      const agent = AGENTS[Math.floor(rand() * AGENTS.length)]!;
      // "sql" is the odd one out: slow, failing and expensive at once
      const odd = agent === 'sql';
      out.push({
        event_id: `${tag}-${d}-${i}`,
        event_type: 'agent_invocation',
        timestamp: iso(FROM + d * DAY + Math.floor(rand() * DAY)),
        user_id: `u${Math.floor(rand() * 20)}`,
        department_id: 'd1',
        session_id: `s${i % 9}`,
        agent_name: agent,
        agent_version: '1',
        invocation_id: `${tag}-inv-${d}-${i}`,
        model_used: 'm',
        input_tokens: 100,
        output_tokens: 50,
        execution_time_ms: Math.round((odd ? 6000 : 1000) * (0.8 + 0.4 * rand())),
        cost_usd: Math.round((odd ? 0.09 : 0.01) * (0.8 + 0.4 * rand()) * 1e6) / 1e6,
        status: rand() < (odd ? 0.45 : 0.05) ? 'failure' : 'success',
      });
    }
  });
  return out;
}

/** Count per UTC day, from the events themselves. */
function countsByDay(events: Ev[]): number[] {
  const c = new Array(DAYS).fill(0);
  for (const e of events) c[Math.floor((Date.parse(e.timestamp) - FROM) / DAY)]++;
  return c;
}

const query = (over: Record<string, unknown> = {}) => ({ event_type: 'agent_invocation', measure: 'count', granularity: 'day', from: iso(FROM), to: iso(TO), ...over });

// a plugin that only needs the trends service: the contract, reached through the loader
const consumer = definePlugin({
  id: 'trends-consumer',
  version: '0.0.1',
  sdk: '^2.0.0',
  title: 'Trends consumer (test)',
  description: 'calls trendsRef',
  routePrefix: 'trends-consumer',
  permissions: { 'trends-consumer.read': ['Admin'] },
  needs: [need(trendsRef, '^1.0.0')],
  register(env) {
    env.route({
      method: 'POST',
      path: '/forecast',
      permission: 'trends-consumer.read',
      summary: 'forecast through the service',
      schema: { response: { 200: { type: 'object', additionalProperties: true } } },
      async handler(req, ctx) {
        const svc = await ctx.services.get(trendsRef);
        const body = req.body as { points: Array<{ bucket: string; value: number | null }>; horizon: number };
        return { forecast: svc.forecast(body.points, { horizon: body.horizon }), smooth: svc.smooth(body.points, 'sma', 3), anomalies: svc.anomalies(body.points) };
      },
    });
  },
});

describe('trends API', () => {
  let backend: TestBackend;
  let other: TestOrg;
  let events: Ev[];
  let otherEvents: Ev[];
  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin, consumer], loadPluginFolders: true, onlyPlugins: ['metrics'] });
    events = makeEvents(1, 'a', makeDays(11, 120));
    await backend.org.insertEvents(events);
    other = await backend.createOrg('trends-api-other');
    otherEvents = makeEvents(2, 'b', makeDays(22, 40));
    await other.insertEvents(otherEvents);
  }, 120_000);
  afterAll(() => backend?.close());

  it('smooths the series of the query like a brute-force SMA, EMA and WMA of the counts', async () => {
    const counts = countsByDay(events);
    for (const method of ['sma', 'ema', 'wma'] as const) {
      const w = 5;
      const r = await backend.client.post('/api/v1/trends/smooth', { query: query(), method, window: w });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.points.map((p: any) => p.bucket)).toEqual(counts.map((_, d) => iso(FROM + d * DAY)));
      expect(r.body.points.map((p: any) => p.value)).toEqual(counts);
      const want = counts.map((_, i) => {
        if (method === 'ema') {
          const a = 2 / (w + 1);
          let s = Math.pow(1 - a, i) * counts[0];
          for (let k = 0; k < i; k++) s += a * Math.pow(1 - a, k) * counts[i - k];
          return s;
        }
        if (i < w - 1) return null;
        const win = counts.slice(i - w + 1, i + 1);
        if (method === 'sma') return win.reduce((x, y) => x + y, 0) / w;
        return win.reduce((x, y, k) => x + (k + 1) * y, 0) / ((w * (w + 1)) / 2);
      });
      r.body.points.forEach((p: any, i: number) => {
        if (want[i] === null) expect(p.smoothed).toBeNull();
        else expect(p.smoothed).toBeCloseTo(want[i]!, 6);
      });
    }
  });

  it('forecasts the days after the range with a band, a weekly season and a backtest', async () => {
    const r = await backend.client.post('/api/v1/trends/forecast', { query: query(), horizon: 14, interval: 0.9 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const b = r.body;
    expect(b.history.map((p: any) => p.value)).toEqual(countsByDay(events));
    expect(b.forecast.map((p: any) => p.bucket)).toEqual(Array.from({ length: 14 }, (_, i) => iso(TO + i * DAY)));
    expect(b.seasonality.period).toBe(7);
    expect(b.seasonality.strength).toBeGreaterThan(0.5);
    expect(['holt_winters_additive', 'seasonal_naive']).toContain(b.model);
    for (const p of b.forecast) {
      expect(p.lower).toBeLessThanOrEqual(p.value);
      expect(p.upper).toBeGreaterThanOrEqual(p.value);
      expect(p.lower).toBeGreaterThanOrEqual(0);
    }
    // weekends (the season's low) forecast below weekdays
    const wk = b.forecast.filter((p: any) => [0, 6].includes(new Date(p.bucket).getUTCDay())).map((p: any) => p.value);
    const wd = b.forecast.filter((p: any) => ![0, 6].includes(new Date(p.bucket).getUTCDay())).map((p: any) => p.value);
    expect(Math.max(...wk)).toBeLessThan(Math.min(...wd));
    expect(b.backtest.baseline).toBe('seasonal_naive');
    expect(typeof b.backtest.mape).toBe('number');
    expect(typeof b.backtest.baseline_mape).toBe('number');
  });

  it('steps forecast buckets on the local calendar of the query zone', async () => {
    // Europe/Berlin leaves summer time on 2026-10-25: local midnights are 22:00Z before, 23:00Z after
    const from = '2026-09-06T22:00:00.000Z';
    const to = '2026-10-20T22:00:00.000Z';
    const r = await backend.client.post('/api/v1/trends/forecast', { query: query({ tz: 'Europe/Berlin', from, to }), horizon: 8 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.forecast.map((p: any) => p.bucket)).toEqual([
      '2026-10-20T22:00:00.000Z', '2026-10-21T22:00:00.000Z', '2026-10-22T22:00:00.000Z', '2026-10-23T22:00:00.000Z',
      '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z', '2026-10-26T23:00:00.000Z', '2026-10-27T23:00:00.000Z',
    ]);
  });

  it('marks the injected spike day, and few others', async () => {
    const r = await backend.client.post('/api/v1/trends/anomalies', { query: query() });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const flagged = r.body.points.filter((p: any) => p.anomaly).map((p: any) => p.bucket);
    expect(flagged).toContain(iso(FROM + SPIKE_DAY * DAY));
    expect(flagged.length).toBeLessThanOrEqual(3);
    const spike = r.body.points[SPIKE_DAY];
    expect(spike.value).toBeGreaterThan(spike.upper);
    expect(spike.score).toBeGreaterThan(3);
    // a lower sensitivity flags at least as many
    const loose = await backend.client.post('/api/v1/trends/anomalies', { query: query(), sensitivity: 1.5 });
    expect(loose.body.points.filter((p: any) => p.anomaly).length).toBeGreaterThanOrEqual(flagged.length);
  });

  it('answers a range without events (zeros for a count, gaps for an average) without failing', async () => {
    const empty = { from: '2020-01-06T00:00:00.000Z', to: '2020-01-20T00:00:00.000Z' };
    const f = await backend.client.post('/api/v1/trends/forecast', { query: query(empty), horizon: 3 });
    expect(f.status, JSON.stringify(f.body)).toBe(200);
    expect(f.body.history.every((p: any) => p.value === 0)).toBe(true);
    expect(f.body.forecast.map((p: any) => [p.value, p.lower, p.upper])).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    const avg = { ...empty, measure: 'avg', field: 'execution_time_ms' };
    const g = await backend.client.post('/api/v1/trends/forecast', { query: query(avg), horizon: 3 });
    expect(g.status, JSON.stringify(g.body)).toBe(200);
    expect(g.body.model).toBe('none');
    expect(g.body.forecast).toEqual([]);
    const a = await backend.client.post('/api/v1/trends/anomalies', { query: query(avg) });
    expect(a.status).toBe(200);
    expect(a.body.points.some((p: any) => p.anomaly)).toBe(false);
    const sm = await backend.client.post('/api/v1/trends/smooth', { query: query(avg), method: 'ema', window: 3 });
    expect(sm.body.points.every((p: any) => p.value === null && p.smoothed === null)).toBe(true);
  });

  it('answers per group with one group_by field', async () => {
    const r = await backend.client.post('/api/v1/trends/smooth', { query: query({ group_by: ['agent_name'] }), method: 'sma', window: 3 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.groups.map((g: any) => g.group.agent_name).sort()).toEqual([...AGENTS].sort());
    expect(r.body.group).toEqual(r.body.groups[0].group);
    const name = r.body.groups[0].group.agent_name;
    const want = countsByDay(events.filter((e) => e.agent_name === name));
    expect(r.body.groups[0].points.map((p: any) => p.value)).toEqual(want);
  });

  it('scores agents by an isolation forest, reproducibly, with features computed from the events', async () => {
    const body = { from: iso(FROM), to: iso(TO), seed: 7 };
    const r = await backend.client.post('/api/v1/trends/agent-anomalies', body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const agents = r.body.agents;
    expect(agents.map((a: any) => a.name).sort()).toEqual([...AGENTS].sort());
    expect(agents[0].name).toBe('sql');
    expect(agents[0].anomaly).toBe(true);
    expect(agents.filter((a: any) => a.anomaly).map((a: any) => a.name)).toEqual(['sql']);
    expect(agents[0].deviations.error_rate).toBeGreaterThan(3);
    for (const a of agents) {
      const mine = events.filter((e) => e.agent_name === a.name);
      expect(a.invocations).toBe(mine.length);
      expect(a.latency_ms).toBeCloseTo(mine.reduce((s, e) => s + e.execution_time_ms, 0) / mine.length, 6);
      expect(a.error_rate).toBeCloseTo(mine.filter((e) => e.status === 'failure').length / mine.length, 9);
      expect(a.cost_per_call).toBeCloseTo(mine.reduce((s, e) => s + e.cost_usd, 0) / mine.length, 9);
    }
    const again = await backend.client.post('/api/v1/trends/agent-anomalies', body);
    expect(again.body).toEqual(r.body);
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const c = backend.client;
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['/smooth', { query: query({ granularity: undefined }), method: 'sma', window: 3 }, 'query.granularity'],
      ['/forecast', { query: query({ group_by: ['agent_name', 'model_used'] }), horizon: 3 }, 'query.group_by'],
      ['/anomalies', { query: query({ event_type: 'no_such_type' }) }, 'query.event_type'],
      ['/anomalies', { query: query({ measure: 'avg', field: 'bogus' }) }, 'query.field'],
      ['/smooth', { query: query({ group_by: ['nope'] }), method: 'sma', window: 3 }, 'query.group_by[0]'],
      ['/smooth', { query: query({ from: iso(TO), to: iso(FROM) }), method: 'sma', window: 3 }, 'query.from'],
      ['/forecast', { query: query({ to: undefined }), horizon: 3 }, 'query.to'],
      ['/smooth', { query: query(), method: 'median', window: 3 }, 'method'],
      ['/smooth', { query: query(), method: 'sma', window: 0 }, 'window'],
      ['/forecast', { query: query(), horizon: 0 }, 'horizon'],
      ['/forecast', { query: query(), horizon: 3, interval: 1.5 }, 'interval'],
      ['/anomalies', { query: query(), sensitivity: -1 }, 'sensitivity'],
      ['/anomalies', { query: query({ granularity: 'fortnight' }) }, 'query.granularity'],
      ['/agent-anomalies', { from: iso(FROM) }, 'to'],
      ['/agent-anomalies', { from: iso(TO), to: iso(FROM) }, 'from'],
    ];
    for (const [path, body, field] of cases) {
      const r = await c.post(`/api/v1/trends${path}`, body);
      expect(r.status, `${path} ${field}: ${JSON.stringify(r.body)}`).toBe(400);
      const d = r.body.error.details;
      const named = Array.isArray(d) ? d.map((x: any) => x.field) : [d?.field];
      expect(named, `${path} ${JSON.stringify(r.body)}`).toContain(field);
      expect(r.body.error.message).toContain(field);
    }
  });

  it("never shows another org's events", async () => {
    const mine = await backend.client.post('/api/v1/trends/smooth', { query: query(), method: 'sma', window: 1 });
    const theirs = await other.client.post('/api/v1/trends/smooth', { query: query(), method: 'sma', window: 1 });
    expect(mine.body.points.map((p: any) => p.value)).toEqual(countsByDay(events));
    expect(theirs.body.points.map((p: any) => p.value)).toEqual(countsByDay(otherEvents));
    const agents = await other.client.post('/api/v1/trends/agent-anomalies', { from: iso(FROM), to: iso(TO) });
    for (const a of agents.body.agents) expect(a.invocations).toBe(otherEvents.filter((e) => e.agent_name === a.name).length);
    const f = await other.client.post('/api/v1/trends/forecast', { query: query(), horizon: 2 });
    expect(f.body.history.map((p: any) => p.value)).toEqual(countsByDay(otherEvents));
  });

  it('offers the models to other plugins as trendsRef', async () => {
    const points = countsByDay(events).map((value, d) => ({ bucket: iso(FROM + d * DAY), value }));
    const r = await backend.client.post('/api/v1/trends-consumer/forecast', { points, horizon: 7 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const viaRoute = await backend.client.post('/api/v1/trends/forecast', { query: query(), horizon: 7 });
    expect(r.body.forecast).toEqual(viaRoute.body);
    expect(r.body.smooth).toHaveLength(DAYS);
    expect(r.body.anomalies.filter((p: any) => p.anomaly).map((p: any) => p.bucket)).toContain(iso(FROM + SPIKE_DAY * DAY));
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await backend.client.get('/api/docs/json')).body;
    for (const p of ['/api/v1/trends/smooth', '/api/v1/trends/forecast', '/api/v1/trends/anomalies', '/api/v1/trends/agent-anomalies']) {
      expect(Object.keys(doc.paths), p).toContain(p);
      expect(doc.paths[p].post.responses['200'], p).toBeDefined();
    }
  });
});
