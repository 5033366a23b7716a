/**
 * Change and anomaly conditions against references computed here from the random events
 * the test writes: the change of every group between two windows (absolute and in %),
 * and the last complete bucket against the band a trends provider (declared in the test,
 * a median ± k·MAD band) expects. Anomaly rules answer 424 naming the condition when the
 * trends plugin is off; a second org never sees the first's groups.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { definePlugin, provide, trendsRef, type AnomalyPoint, type TrendPoint, type TrendsService } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { changeValue } from '../backend/conditions.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** the band of the test's trends provider: median ± k·1.4826·MAD of the buckets before the point (MAD at least 1) */
function band(values: number[], k: number): { lower: number; upper: number; expected: number } {
  const med = median(values);
  const mad = Math.max(1, 1.4826 * median(values.map((v) => Math.abs(v - med))));
  return { expected: med, lower: med - k * mad, upper: med + k * mad };
}

const anomalies = (points: TrendPoint[], opts?: { sensitivity?: number }): AnomalyPoint[] =>
  points.map((p, i) => {
    const before = points.slice(0, i).map((x) => x.value).filter((v): v is number => v !== null);
    if (before.length < 3 || p.value === null) return { bucket: p.bucket, value: p.value, expected: null, lower: null, upper: null, anomaly: false, score: null };
    const b = band(before, opts?.sensitivity ?? 3);
    return { bucket: p.bucket, value: p.value, ...b, anomaly: p.value < b.lower || p.value > b.upper, score: null };
  });

const trendsProvider = definePlugin({
  from: import.meta.url,
  id: 'trends',
  version: '0.1.0',
  sdk: '^2.0.0',
  title: 'Trends (test provider)',
  description: 'a median/MAD band for the alert tests',
  routePrefix: 'trends-test',
  permissions: {},
  provides: [
    provide(trendsRef, (): TrendsService => ({
      smooth: () => [],
      forecast: () => {
        throw new Error('not in this test');
      },
      anomalies,
    })),
  ],
  register() {},
});

const AGENTS = ['planner', 'coder', 'reviewer', 'tester'];
type Ev = { event_id: string; event_type: string; timestamp: string; user_id: string; department_id: string; agent_name: string; status: string; execution_time_ms: number };

describe('change and anomaly conditions', () => {
  let backend: TestBackend;
  let other: TestOrg;
  let seq = 0;
  const ev = (agent: string, at: number, r: () => number): Ev => ({
    event_id: `cond-${seq++}`,
    event_type: 'agent_invocation',
    timestamp: new Date(at).toISOString(),
    user_id: `u${Math.floor(r() * 5)}`,
    department_id: 'd1',
    agent_name: agent,
    status: r() < 0.3 ? 'failure' : 'success',
    execution_time_ms: Math.round(100 + r() * 900),
  });

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin, trendsProvider], loadPluginFolders: true, onlyPlugins: ['metrics'] });
    other = await backend.createOrg('alerts-cond-other');
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('change and change_percent equal the difference of the two windows computed from the events, per group', async () => {
    const r = rng(22);
    const now = Date.now();
    const W = 600_000;
    const events: Ev[] = [];
    // away from the window edges so that the few seconds until the evaluation do not move an event across one
    const inCurrent = () => now - 30_000 - r() * (W - 90_000);
    const inPrevious = () => now - W - 30_000 - r() * (W - 90_000);
    const counts: Record<string, { cur: number[]; prev: number[] }> = {};
    for (const a of AGENTS) counts[a] = { cur: [], prev: [] };
    // 'tester' only in the previous window, 'reviewer' only in the current one: missing groups count as 0 / no value
    for (const a of AGENTS) {
      const nCur = a === 'tester' ? 0 : 1 + Math.floor(r() * 12);
      const nPrev = a === 'reviewer' ? 0 : 1 + Math.floor(r() * 12);
      for (let i = 0; i < nCur; i++) {
        const e = ev(a, inCurrent(), r);
        events.push(e);
        counts[a]!.cur.push(e.execution_time_ms);
      }
      for (let i = 0; i < nPrev; i++) {
        const e = ev(a, inPrevious(), r);
        events.push(e);
        counts[a]!.prev.push(e.execution_time_ms);
      }
    }
    // an event of the other org and one older than both windows must change nothing
    await other.insertEvents([ev('planner', now - 60_000, r), ev('intruder', now - 60_000, r)]);
    events.push(ev('planner', now - 3 * W, r));
    await backend.org.insertEvents(events);

    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
    const refCount = Object.fromEntries(AGENTS.map((a) => [a, changeRef(counts[a]!.cur.length, counts[a]!.prev.length)]));
    function changeRef(c: number, p: number) {
      return { abs: c - p, pct: p === 0 ? (c === 0 ? 0 : null) : (100 * (c - p)) / p };
    }
    // the reference for the percent change of a mean, without the module's helper
    const refMeanPct = Object.fromEntries(
      AGENTS.map((a) => {
        const c = mean(counts[a]!.cur);
        const p = mean(counts[a]!.prev);
        return [a, c === null || p === null ? null : p === 0 ? null : (100 * (c - p)) / Math.abs(p)];
      }),
    );
    expect(changeValue(3, 0, true)).toBeNull();

    const c = backend.client;
    const threshold = 2;
    const abs = await c.post('/api/v1/alerts/rules', {
      name: 'more failures than before',
      query: { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'] },
      window_seconds: W / 1000,
      condition: { kind: 'change', op: 'gt', threshold },
      interval_seconds: 60,
    });
    expect(abs.status, JSON.stringify(abs.body)).toBe(200);
    const pct = await c.post('/api/v1/alerts/rules', {
      name: 'latency up',
      query: { event_type: 'agent_invocation', measure: 'avg', field: 'execution_time_ms', group_by: ['agent_name'] },
      window_seconds: W / 1000,
      condition: { kind: 'change_percent', op: 'outside', threshold: -10, threshold2: 10 },
      interval_seconds: 60,
    });
    expect(pct.status, JSON.stringify(pct.body)).toBe(200);
    await backend.runJob('alerts', 'tick');

    // the rule's instances: firing exactly where the reference change breaches, with its value
    const absRule = (await c.get(`/api/v1/alerts/rules/${abs.body.id}`)).body;
    const firing = Object.fromEntries(absRule.instances.filter((i: any) => i.state === 'firing').map((i: any) => [i.labels.agent_name, i.value]));
    const expectedFiring = Object.fromEntries(AGENTS.filter((a) => refCount[a]!.abs > threshold).map((a) => [a, refCount[a]!.abs]));
    expect(firing).toEqual(expectedFiring);
    expect(absRule.instances.every((i: any) => i.labels.agent_name !== 'intruder')).toBe(true);

    const pctRule = (await c.get(`/api/v1/alerts/rules/${pct.body.id}`)).body;
    const got = Object.fromEntries(pctRule.instances.map((i: any) => [i.labels.agent_name, { state: i.state, value: i.value }]));
    for (const a of AGENTS) {
      const ref = refMeanPct[a];
      if (ref === null) expect(got[a], a).toEqual({ state: 'nodata', value: null });
      else if (ref < -10 || ref > 10) {
        expect(got[a]?.state, a).toBe('firing');
        expect(got[a]!.value).toBeCloseTo(ref, 6);
      } else expect(got[a], a).toBeUndefined();
    }

    // the editor's preview: every group's compared value and breach, the same references
    const prev = await c.post('/api/v1/alerts/preview', {
      query: { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'] },
      window_seconds: W / 1000,
      condition: { kind: 'change_percent', op: 'gt', threshold: 25 },
    });
    expect(prev.status).toBe(200);
    const obs = Object.fromEntries(prev.body.observations.map((o: any) => [o.group.agent_name, o]));
    expect(Object.keys(obs).sort()).toEqual([...AGENTS].sort());
    for (const a of AGENTS) {
      const ref = refCount[a]!.pct;
      if (ref === null) expect(obs[a].value, a).toBeNull();
      else {
        expect(obs[a].value, a).toBeCloseTo(ref, 9);
        expect(obs[a].breach, a).toBe(ref > 25);
      }
    }
  });

  it('anomaly: the last complete bucket against the expected band of the buckets before it', async () => {
    const r = rng(23);
    const c = backend.client;
    const MIN = 60_000;
    const BUCKETS = 15;
    // events per agent per minute: a steady level, with a spike (or a drop) in the last complete minute for some
    const start = Math.floor(Date.now() / MIN) * MIN;
    const shape: Record<string, 'spike' | 'drop' | 'steady'> = { planner: 'spike', coder: 'steady', reviewer: 'drop', tester: 'steady' };
    const events: Ev[] = [];
    for (const a of AGENTS) {
      const level = 8 + Math.floor(r() * 6);
      for (let b = BUCKETS + 2; b >= 1; b--) {
        const last = b === 1;
        const n = last && shape[a] === 'spike' ? level * 4 : last && shape[a] === 'drop' ? 0 : level + Math.floor(r() * 3) - 1;
        for (let i = 0; i < n; i++) events.push(ev(`anomaly-${a}`, start - b * MIN + 1000 + Math.floor(r() * (MIN - 2000)), r));
      }
      // events of the current (incomplete) minute are not read
      for (let i = 0; i < 50; i++) events.push(ev(`anomaly-${a}`, start + 10, r));
    }
    await backend.org.insertEvents(events);
    const body = {
      name: 'unusual traffic',
      // the agents of this test only (the first test's events are in the same minutes)
      query: { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'], where: { agent_name: AGENTS.map((a) => `anomaly-${a}`) } },
      window_seconds: BUCKETS * 60,
      condition: { kind: 'anomaly', op: 'outside', granularity: 'minute', sensitivity: 4 },
      interval_seconds: 60,
    };
    const created = await c.post('/api/v1/alerts/rules', body);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    await backend.runJob('alerts', 'tick');
    const rule = (await c.get(`/api/v1/alerts/rules/${created.body.id}`)).body;
    // the reference: bucket the events by minute over the complete minutes before the evaluation
    const evalMinute = Math.floor(Date.parse(rule.last_eval_at) / MIN) * MIN;
    const buckets = (agent: string) =>
      Array.from({ length: BUCKETS }, (_, k) => {
        const from = evalMinute - (BUCKETS - k) * MIN;
        return events.filter((e) => e.agent_name === `anomaly-${agent}` && Date.parse(e.timestamp) >= from && Date.parse(e.timestamp) < from + MIN).length;
      });
    const expected: Record<string, number> = {};
    for (const a of AGENTS) {
      const vals = buckets(a);
      const last = vals[vals.length - 1]!;
      const b = band(vals.slice(0, -1), 4);
      if (last < b.lower || last > b.upper) expected[`anomaly-${a}`] = last;
    }
    if (evalMinute === start) expect(Object.keys(expected).sort()).toEqual(['anomaly-planner', 'anomaly-reviewer']);
    const firing = Object.fromEntries(rule.instances.filter((i: any) => i.state === 'firing').map((i: any) => [i.labels.agent_name, i.value]));
    expect(firing).toEqual(expected);

    // gt only fires above the band: the drop is not an alert
    const up = await c.post('/api/v1/alerts/preview', { ...body, name: undefined, interval_seconds: undefined, condition: { ...body.condition, op: 'gt' } });
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    for (const o of up.body.observations) {
      const vals = buckets(o.group.agent_name.replace(/^anomaly-/, ''));
      const b = band(vals.slice(0, -1), 4);
      if (Math.floor(Date.now() / MIN) * MIN !== evalMinute) continue; // the minute moved on: a different reference
      expect(o.value).toBe(vals[vals.length - 1]);
      expect(o.lower).toBeCloseTo(b.lower, 9);
      expect(o.upper).toBeCloseTo(b.upper, 9);
      expect(o.breach).toBe(vals[vals.length - 1]! > b.upper);
    }
  });

  it('refuses bad kind-specific input with a 400 naming the field, and anomaly rules with a 424 while trends is off', async () => {
    const c = backend.client;
    const base = { name: 'x', query: { event_type: 'agent_invocation', measure: 'count' }, window_seconds: 3600, interval_seconds: 60 };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, condition: { kind: 'anomaly', op: 'outside' } }, 'condition.granularity'],
      [{ ...base, condition: { kind: 'anomaly', op: 'inside', granularity: 'minute' } }, 'condition.op'],
      [{ ...base, condition: { kind: 'anomaly', op: 'gt', granularity: 'minute', recovery_threshold: 3 } }, 'condition.recovery_threshold'],
      [{ ...base, window_seconds: 3600, condition: { kind: 'anomaly', op: 'gt', granularity: 'hour' } }, 'window_seconds'],
      [{ ...base, condition: { kind: 'change', op: 'gt' } }, 'condition.threshold'],
      [{ ...base, condition: { kind: 'change_percent', op: 'gt', threshold: 5, granularity: 'hour' } }, 'condition.granularity'],
    ];
    for (const [body, field] of cases) {
      const res = await c.post('/api/v1/alerts/rules', body);
      expect(res.status, field).toBe(400);
      expect(res.body.error.details.field, JSON.stringify(res.body)).toBe(field);
    }
    const bad = await c.post('/api/v1/alerts/rules', { ...base, condition: { kind: 'sideways', op: 'gt', threshold: 1 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('kind');

    const anomaly = { ...base, condition: { kind: 'anomaly', op: 'gt', granularity: 'minute' } };
    expect((await other.client.post('/api/v1/alerts/rules', anomaly)).status).toBe(200);
    expect((await other.client.put('/api/v1/admin/plugins/trends', { enabled: false })).status).toBe(200);
    const off = await other.client.post('/api/v1/alerts/rules', anomaly);
    expect(off.status).toBe(424);
    expect(off.body.error).toMatchObject({ code: 'trends_unavailable', details: { field: 'condition.kind' } });
    // the rule made before evaluates into the error state, saying why
    await backend.runJob('alerts', 'tick');
    const rules = (await other.client.get('/api/v1/alerts/rules')).body.rules;
    expect(rules.map((x: any) => x.state)).toEqual(['error']);
    expect(rules[0].last_error).toContain('trends');
    // threshold rules are untouched by the trends plugin being off
    expect((await other.client.post('/api/v1/alerts/rules', { ...base, condition: { op: 'gt', threshold: 1 } })).status).toBe(200);
  });
});
