/**
 * Anomaly rules against the real trends plugin (its seasonal decomposition, not a band
 * declared here). Two agents follow the same minute-by-minute seasonal pattern (a peak every
 * sixth minute) with random noise; one of them gets a spike in the last complete minute. The
 * reference is computed here from the events the test sends: per-minute counts, and a
 * seasonal-naive judgement (the median of the same phase in earlier seasons ± k·1.4826·MAD of
 * the earlier residuals). The rule must fire for exactly the groups the reference flags, with
 * the count the reference counts, and stay normal on the seasonal peak — which a flat band
 * (median ± k·MAD of all earlier minutes, seasonality ignored) would have flagged.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';

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
const robustScale = (xs: number[]) => {
  const m = median(xs);
  return Math.max(1, 1.4826 * median(xs.map((x) => Math.abs(x - m))));
};

const MIN = 60_000;
const PERIOD = 6;
const BUCKETS = 8 * PERIOD;
const SENSITIVITY = 4;
/** events per minute by phase: quiet minutes and a peak every sixth minute */
const PATTERN = [6, 5, 7, 6, 5, 36];

/** The seasonal-naive reference for the last value of a series of complete minutes. */
function seasonalReference(values: number[]) {
  const last = values.length - 1;
  const samePhase = (i: number) => values.filter((_, j) => j < last && j % PERIOD === i % PERIOD && j !== i);
  const residuals = values.slice(0, last).map((v, i) => v - median(samePhase(i)));
  const expected = median(samePhase(last));
  const scale = robustScale(residuals);
  return { expected, breach: Math.abs(values[last]! - expected) > SENSITIVITY * scale };
}

/** The same judgement with seasonality ignored: what a plain band over all earlier minutes says. */
function flatBreach(values: number[]) {
  const before = values.slice(0, -1);
  const m = median(before);
  return Math.abs(values[values.length - 1]! - m) > SENSITIVITY * robustScale(before);
}

describe('anomaly rules with the real trends plugin', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics', 'trends'] });
  }, 300_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('fires on an injected spike and stays normal on the seasonal pattern, as the reference says', async () => {
    // start early in a minute so that the evaluation reads the minutes the test laid out
    if (Date.now() % MIN > 35_000) await new Promise((r) => setTimeout(r, MIN - (Date.now() % MIN) + 500));
    const start = Math.floor(Date.now() / MIN) * MIN;
    const r = rng(91);
    const agents = { 'seasonal-a': false, 'seasonal-b': false, 'spiky': true } as Record<string, boolean>;
    const events: Array<Record<string, unknown>> = [];
    let seq = 0;
    for (const [agent, spike] of Object.entries(agents)) {
      for (let k = 0; k < BUCKETS; k++) {
        const bucketStart = start - (BUCKETS - k) * MIN;
        const base = PATTERN[k % PERIOD]!;
        const n = spike && k === BUCKETS - 1 ? base * 3 + 20 : Math.max(0, base + Math.floor(r() * 3) - 1);
        for (let i = 0; i < n; i++)
          events.push({
            event_id: `season-${seq++}`,
            event_type: 'agent_invocation',
            timestamp: new Date(bucketStart + 500 + Math.floor(r() * (MIN - 1000))).toISOString(),
            user_id: `u${Math.floor(r() * 4)}`,
            department_id: 'd1',
            agent_name: agent,
            status: 'success',
            execution_time_ms: 100,
          });
      }
      // the current minute is incomplete and never read: a burst there changes nothing
      for (let i = 0; i < 80; i++) events.push({ event_id: `season-${seq++}`, event_type: 'agent_invocation', timestamp: new Date(start + 100).toISOString(), user_id: 'u0', department_id: 'd1', agent_name: agent, status: 'success', execution_time_ms: 100 });
    }
    await backend.org.insertEvents(events);

    const body = {
      name: 'unusual agent traffic',
      query: { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'], where: { agent_name: Object.keys(agents) } },
      window_seconds: BUCKETS * 60,
      condition: { kind: 'anomaly', op: 'outside', granularity: 'minute', sensitivity: SENSITIVITY },
      interval_seconds: 60,
      for_seconds: 0,
    };
    const created = await backend.client.post('/api/v1/alerts/rules', body);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    await backend.runJob('alerts', 'tick');
    const rule = (await backend.client.get(`/api/v1/alerts/rules/${created.body.id}`)).body;
    const evalMinute = Math.floor(Date.parse(rule.last_eval_at) / MIN) * MIN;
    expect(evalMinute).toBe(start);

    // the reference: count the events per agent and minute over the window's complete minutes
    const counts = (agent: string) =>
      Array.from({ length: BUCKETS }, (_, k) => {
        const from = evalMinute - (BUCKETS - k) * MIN;
        return events.filter((e) => e.agent_name === agent && Date.parse(e.timestamp as string) >= from && Date.parse(e.timestamp as string) < from + MIN).length;
      });
    const expectedFiring: Record<string, number> = {};
    for (const agent of Object.keys(agents)) {
      const values = counts(agent);
      const ref = seasonalReference(values);
      if (ref.breach) expectedFiring[agent] = values[values.length - 1]!;
      // the seasonal peak is what makes this test worth having: a flat band would flag it
      if (!agents[agent]) expect(flatBreach(values), `${agent}: the peak minute stands out of a flat band`).toBe(true);
    }
    expect(Object.keys(expectedFiring)).toEqual(['spiky']);

    const firing = Object.fromEntries(rule.instances.filter((i: any) => i.state === 'firing').map((i: any) => [i.labels.agent_name, i.value]));
    expect(firing).toEqual(expectedFiring);
    expect(rule.state).toBe('firing');

    // what the editor's preview shows: the band the trends plugin drew holds the seasonal peak and its expectation
    const preview = await backend.client.post('/api/v1/alerts/preview', { query: body.query, window_seconds: body.window_seconds, condition: body.condition });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    if (Math.floor(Date.now() / MIN) * MIN === evalMinute) {
      expect(preview.body.observations).toHaveLength(Object.keys(agents).length);
      for (const o of preview.body.observations) {
        const values = counts(o.group.agent_name);
        const last = values[values.length - 1]!;
        expect(o.value).toBe(last);
        expect(o.breach).toBe(o.group.agent_name in expectedFiring);
        if (!(o.group.agent_name in expectedFiring)) {
          const ref = seasonalReference(values);
          expect(o.lower).toBeLessThanOrEqual(Math.min(ref.expected, last));
          expect(o.upper).toBeGreaterThanOrEqual(Math.max(ref.expected, last));
        } else expect(last).toBeGreaterThan(o.upper);
      }
    }
  }, 300_000);
});
