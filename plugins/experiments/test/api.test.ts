/**
 * The routes end to end on the embedded stores: random events are sent, and
 * every figure of the results is recomputed here from those events in plain
 * TypeScript (membership, exclusions, per-unit outcomes, per-variant values);
 * the statistics on top are the stats module's, proven in stats.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { definePlugin, exportRows, exportSourceRef, need, parseTimeRange } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { assignVariant } from '../backend/assign.ts';
import { welch, srm, sequential, holm, cuped, summarize, type Summary } from '../backend/stats/tests.ts';
import { rng } from '@orrery/backend-test-utils/random';

const START = Date.parse('2026-03-02T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

type Ev = Record<string, unknown> & { event_id: string; event_type: string; timestamp: string; user_id: string };

function summaryOf(values: number[]): Summary {
  const n = values.length;
  const mean = n ? values.reduce((a, b) => a + b, 0) / n : 0;
  const variance = n > 1 ? values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, variance };
}

/** random invocations of `agent` across versions, with noise the results must ignore */
function invocations(seed: number, opts: { n: number; users: number; versions: Record<string, { success: number; latency: number }>; prefix: string }) {
  const rand = rng(seed);
  const events: Ev[] = [];
  const names = Object.keys(opts.versions);
  for (let i = 0; i < opts.n; i++) {
    const version = names[Math.floor(rand() * names.length)]!;
    const spec = opts.versions[version]!;
    const before = rand() < 0.05; // before start_at: not in the experiment
    events.push({
      event_id: `${opts.prefix}-e${i}`,
      event_type: 'agent_invocation',
      timestamp: iso(START + (before ? -1 : 1) * Math.floor(rand() * 72 * HOUR) + (before ? -1000 : 0)),
      user_id: `u${Math.floor(rand() * opts.users)}`,
      department_id: 'd1',
      session_id: 's',
      agent_name: rand() < 0.08 ? 'other-agent' : 'reviewer',
      agent_version: version,
      invocation_id: `${opts.prefix}-inv${i}`,
      status: rand() < spec.success ? 'success' : 'failure',
      execution_time_ms: Math.round(spec.latency * (0.5 + rand())),
      input_tokens: Math.floor(rand() * 1000),
      output_tokens: Math.floor(rand() * 500),
      cost_usd: Math.round(rand() * 1e4) / 1e6,
    });
  }
  return events;
}

const baseExperiment = {
  name: 'Reviewer v2',
  agent_name: 'reviewer',
  unit: 'invocation',
  variant_field: 'agent_version',
  variants: [
    { key: 'v1', weight: 50 },
    { key: 'v2', weight: 50 },
  ],
  control: 'v1',
  metrics: [
    { name: 'success_rate', kind: 'proportion', where: { status: 'success' } },
    { name: 'latency', kind: 'mean', field: 'execution_time_ms', guardrail: true },
    { name: 'tokens', kind: 'mean', field: ['input_tokens', 'output_tokens'] },
    { name: 'accepted', kind: 'proportion', event_type: 'feedback', where: { action: 'accept' } },
  ],
  method: 'frequentist',
  start_at: iso(START),
};

/** A plugin that reads experiments' export table through the public SDK only, as exports does. */
const reader = definePlugin({
  from: import.meta.url,
  id: 'results-reader',
  version: '0.1.0',
  sdk: '^2.0.0',
  title: 'Results reader',
  description: "Reads experiments' results table",
  routePrefix: 'results-reader',
  permissions: { 'results-reader.read': ['Admin', 'Manager', 'Developer'] },
  needs: [need(exportSourceRef, '^1.0.0', { from: 'experiments' })],
  register(env) {
    env.route<{ from?: string; to?: string; limit?: number }>({
      method: 'GET',
      path: '/rows',
      permission: 'results-reader.read',
      summary: 'every row of experiments.results, page by page',
      schema: {
        querystring: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, limit: { type: 'integer', minimum: 1, default: 3 } } },
        response: { 200: { type: 'object', properties: { columns: { type: 'array', items: { type: 'string' } }, rows: { type: 'array', items: { type: 'object', additionalProperties: true } } } } },
      },
      async handler(req, ctx) {
        const source = await ctx.services.get(exportSourceRef, 'experiments');
        const rows = [];
        for await (const r of exportRows(source, 'results', { range: parseTimeRange(req.query), limit: req.query.limit ?? 3 })) rows.push(r);
        return { columns: source.tables[0]!.columns.map((c) => c.name), rows };
      },
    });
  },
});

describe('experiments API', () => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin, reader] });
  }, 60_000);
  afterAll(() => backend?.close());

  it('results by invocation from agent_version equal a reference computed from the events', async () => {
    const events = invocations(1, { n: 3000, users: 300, prefix: 'a', versions: { v1: { success: 0.8, latency: 1000 }, v2: { success: 0.86, latency: 1100 }, v3: { success: 0.5, latency: 10 } } });
    // an invocation logged twice under two versions: each event is a unit of its own version
    const dup = events.find((e) => e.agent_name === 'reviewer' && e.agent_version === 'v1' && Date.parse(e.timestamp) >= START)!;
    events.push({ ...dup, event_id: 'a-dup', agent_version: 'v2' });
    // feedback on some invocations (acceptance rate reads it by invocation_id)
    const rand = rng(99);
    const feedback: Ev[] = events
      .filter(() => rand() < 0.3)
      .map((e, i) => ({ event_id: `a-f${i}`, event_type: 'feedback', action: rand() < (e.agent_version === 'v2' ? 0.7 : 0.5) ? 'accept' : 'reject', timestamp: iso(Date.parse(e.timestamp) + 1000), user_id: e.user_id, invocation_id: e.invocation_id, agent_name: e.agent_name }));
    await backend.org.insertEvents([...events, ...feedback]);
    const created = await backend.client.post('/api/v1/experiments', { ...baseExperiment, key: 'reviewer-v2' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ key: 'reviewer-v2', id: expect.any(String) });

    // reference: membership and outcomes straight from the events
    const inExp = events.filter((e) => e.agent_name === 'reviewer' && Date.parse(e.timestamp) >= START && ['v1', 'v2'].includes(e.agent_version as string));
    const units: Array<[string, Ev[]]> = inExp.map((e) => [e.event_id, [e]]);
    const check = async (metric: string, outcome: (es: Ev[]) => number | null) => {
      const res = await backend.client.get('/api/v1/experiments/reviewer-v2/results', { metric });
      expect(res.status).toBe(200);
      const ref = new Map<string, number[]>([['v1', []], ['v2', []]]);
      const assigned = new Map<string, number>([['v1', 0], ['v2', 0]]);
      for (const [, es] of units) {
        const v = es[0]!.agent_version as string;
        assigned.set(v, assigned.get(v)! + 1);
        const y = outcome(es);
        if (y !== null) ref.get(v)!.push(y);
      }
      const sums = ['v1', 'v2'].map((v) => summaryOf(ref.get(v)!));
      expect(res.body.excluded_units).toBe(0);
      res.body.variants.forEach((row: any, i: number) => {
        expect(row.key).toBe(['v1', 'v2'][i]);
        expect(row.units).toBe(sums[i]!.n);
        expect(row.assigned).toBe(assigned.get(row.key));
        expect(row.value).toBeCloseTo(sums[i]!.mean, 9);
      });
      const w = welch(sums[0]!, sums[1]!, 0.05);
      const c = res.body.comparisons[0];
      expect(c.variant).toBe('v2');
      expect(c.absolute_difference).toBeCloseTo(sums[1]!.mean - sums[0]!.mean, 9);
      expect(c.relative_lift).toBeCloseTo((sums[1]!.mean - sums[0]!.mean) / sums[0]!.mean, 9);
      expect(c.p_value).toBeCloseTo(w.pValue, 9);
      expect(c.ci_low).toBeCloseTo(w.ciLow, 6);
      expect(c.ci_high).toBeCloseTo(w.ciHigh, 6);
      const s = srm([assigned.get('v1')!, assigned.get('v2')!], [50, 50]);
      expect(res.body.srm.p_value).toBeCloseTo(s.pValue, 9);
      expect(res.body.srm.mismatch).toBe(s.pValue < 0.001);
      expect(['ship', 'keep_control', 'keep_running', 'inconclusive']).toContain(res.body.recommendation.decision);
      expect(res.body.recommendation.text.length).toBeGreaterThan(10);
      return res.body;
    };
    const share = (es: Ev[]) => es.filter((e) => e.status === 'success').length / es.length;
    const meanOf = (f: (e: Ev) => number) => (es: Ev[]) => es.reduce((a, e) => a + f(e), 0) / es.length;
    await check('success_rate', share);
    const latency = await check('latency', meanOf((e) => e.execution_time_ms as number));
    expect(latency.metric.higher_is_better).toBe(false);
    await check('tokens', meanOf((e) => (e.input_tokens as number) + (e.output_tokens as number)));

    // the export table: one row per metric × variant, the same figures as the reference, read in pages of 3
    const table = await backend.client.get('/api/v1/results-reader/rows', { from: iso(START - 24 * HOUR), to: iso(START + 30 * 24 * HOUR) });
    expect(table.status, table.text).toBe(200);
    const mine = table.body.rows.filter((r: any) => r.experiment === 'reviewer-v2');
    expect(mine.map((r: any) => `${r.metric}/${r.variant}`)).toEqual(baseExperiment.metrics.flatMap((m) => ['v1', 'v2'].map((v) => `${m.name}/${v}`)));
    const outcomes: Record<string, (es: Ev[]) => number | null> = { success_rate: share, latency: meanOf((e) => e.execution_time_ms as number), tokens: meanOf((e) => (e.input_tokens as number) + (e.output_tokens as number)) };
    for (const [metric, outcome] of Object.entries(outcomes)) {
      const values = new Map<string, number[]>([['v1', []], ['v2', []]]);
      for (const [, es] of units) values.get(es[0]!.agent_version as string)!.push(outcome(es)!);
      const sums = ['v1', 'v2'].map((v) => summaryOf(values.get(v)!));
      const w = welch(sums[0]!, sums[1]!, 0.05);
      ['v1', 'v2'].forEach((v, i) => {
        const row = mine.find((r: any) => r.metric === metric && r.variant === v);
        expect(row.assigned, `${metric}/${v}`).toBe(values.get(v)!.length);
        expect(row.units).toBe(sums[i]!.n);
        expect(row.value).toBeCloseTo(sums[i]!.mean, 9);
        expect(row.control).toBe(v === 'v1');
        if (v === 'v2') {
          expect(row.relative_lift).toBeCloseTo((sums[1]!.mean - sums[0]!.mean) / sums[0]!.mean, 9);
          expect(row.p_value).toBeCloseTo(w.pValue, 9);
        } else expect(row.relative_lift).toBeNull();
      });
    }
    // a range before the experiment began holds none of its rows
    const before = await backend.client.get('/api/v1/results-reader/rows', { from: iso(START - 48 * HOUR), to: iso(START - 24 * HOUR) });
    expect(before.body.rows.filter((r: any) => r.experiment === 'reviewer-v2')).toEqual([]);
    await check('accepted', (es) => {
      const ids = new Set(es.map((e) => e.invocation_id));
      const fs = feedback.filter((f) => ids.has(f.invocation_id));
      return fs.length ? fs.filter((f) => f.action === 'accept').length / fs.length : null;
    });
  });

  it('by user: variant from the first invocations, users in two variants excluded, outcomes after first exposure; CUPED', async () => {
    const rand = rng(4);
    const events: Ev[] = [];
    const users = 400;
    const truth = new Map<string, { versions: Set<string>; first: number }>();
    for (let u = 0; u < users; u++) {
      const user = `cu${u}`;
      const skill = rand(); // what CUPED's covariate captures
      const version = rand() < 0.5 ? 'v1' : 'v2';
      const mixed = rand() < 0.04;
      const first = START + Math.floor(rand() * 48 * HOUR);
      const total = 2 + Math.floor(rand() * 6);
      for (let k = 0; k < total; k++) {
        const ts = first + k * HOUR;
        const v = mixed && k === 1 ? (version === 'v1' ? 'v2' : 'v1') : version;
        events.push({ event_id: `c-${u}-${k}`, event_type: 'agent_invocation', timestamp: iso(ts), user_id: user, agent_name: 'planner', agent_version: v, invocation_id: `c-${u}-${k}`, status: rand() < 0.1 + 0.8 * skill + (v === 'v2' ? 0.05 : 0) ? 'success' : 'failure', execution_time_ms: 100 });
      }
      // the same agent before the experiment: the covariate's window (and not in the outcome)
      for (let k = 0; k < 10; k++) {
        events.push({ event_id: `c-${u}-pre${k}`, event_type: 'agent_invocation', timestamp: iso(START - (k + 1) * 24 * HOUR + 7 * HOUR), user_id: user, agent_name: 'planner', agent_version: 'v0', invocation_id: `c-${u}-pre${k}`, status: rand() < 0.1 + 0.8 * skill ? 'success' : 'failure', execution_time_ms: 100 });
      }
      truth.set(user, { versions: new Set(events.filter((e) => e.user_id === user && e.agent_version !== 'v0').map((e) => e.agent_version as string)), first });
    }
    await backend.org.insertEvents(events);
    const def = { ...baseExperiment, key: 'planner-users', agent_name: 'planner', unit: 'user', metrics: [{ name: 'success_rate', kind: 'proportion', where: { status: 'success' } }] };
    expect((await backend.client.post('/api/v1/experiments', def)).status).toBe(200);
    const res = await backend.client.get('/api/v1/experiments/planner-users/results', { metric: 'success_rate' });
    expect(res.status).toBe(200);
    const kept = [...truth.entries()].filter(([, t]) => t.versions.size === 1);
    expect(res.body.excluded_units).toBe(users - kept.length);
    const outcome = (user: string, from: number, to: number) => {
      const es = events.filter((e) => e.user_id === user && Date.parse(e.timestamp) >= from && Date.parse(e.timestamp) < to);
      return es.length ? es.filter((e) => e.status === 'success').length / es.length : 0;
    };
    const y = new Map<string, number[]>([['v1', []], ['v2', []]]);
    for (const [user, t] of kept) y.get([...t.versions][0]!)!.push(outcome(user, t.first, Infinity));
    res.body.variants.forEach((row: any) => {
      const s = summaryOf(y.get(row.key)!);
      expect(row.units).toBe(s.n);
      expect(row.value).toBeCloseTo(s.mean, 9);
    });

    // CUPED: the same metric over the 14 days before each user's first exposure
    const cupedDef = { ...def, cuped: true };
    const put = await backend.client.put('/api/v1/experiments/planner-users', (({ key: _k, ...rest }) => rest)(cupedDef));
    expect(put.status).toBe(200);
    const adj = await backend.client.get('/api/v1/experiments/planner-users/results', { metric: 'success_rate' });
    const rows = kept.map(([user, t]) => ({ v: [...t.versions][0]!, y: outcome(user, t.first, Infinity), x: outcome(user, t.first - 14 * 24 * HOUR, t.first) }));
    // θ and the adjusted means by hand
    let cov = 0;
    let vx = 0;
    for (const v of ['v1', 'v2']) {
      const r = rows.filter((x) => x.v === v);
      const mx = r.reduce((a, x) => a + x.x, 0) / r.length;
      const my = r.reduce((a, x) => a + x.y, 0) / r.length;
      for (const x of r) {
        cov += (x.x - mx) * (x.y - my);
        vx += (x.x - mx) ** 2;
      }
    }
    const theta = cov / vx;
    const meanX = rows.reduce((a, x) => a + x.x, 0) / rows.length;
    expect(adj.body.cuped.theta).toBeCloseTo(theta, 9);
    adj.body.variants.forEach((row: any) => {
      const s = summaryOf(rows.filter((x) => x.v === row.key).map((x) => x.y - theta * (x.x - meanX)));
      expect(row.value).toBeCloseTo(s.mean, 9);
    });
    expect(adj.body.cuped.variance_reduction).toBeGreaterThan(0.05);
    // narrower interval than without CUPED
    const width = (b: any) => b.comparisons[0].ci_high - b.comparisons[0].ci_low;
    expect(width(adj.body)).toBeLessThan(width(res.body));
    // the moments path agrees with the module's CUPED on the same rows
    const ref = cuped(['v1', 'v2'].map((v) => {
      const r = rows.filter((x) => x.v === v);
      return { n: r.length, sumY: r.reduce((a, x) => a + x.y, 0), sumY2: r.reduce((a, x) => a + x.y * x.y, 0), sumX: r.reduce((a, x) => a + x.x, 0), sumX2: r.reduce((a, x) => a + x.x * x.x, 0), sumXY: r.reduce((a, x) => a + x.x * x.y, 0) };
    }));
    expect(ref.theta).toBeCloseTo(theta, 9);
  });

  it('assignment is deterministic and weighted; exposures drive membership; offline exposures are accepted', async () => {
    const def = {
      key: 'onboarding-flow',
      name: 'Onboarding workflow',
      workflow_id: 'onboarding',
      unit: 'user',
      variants: [
        { key: 'control', weight: 20 },
        { key: 'short', weight: 30 },
        { key: 'guided', weight: 50 },
      ],
      control: 'control',
      metrics: [{ name: 'converted', kind: 'proportion', event_type: 'workflow_step', where: { workflow_id: 'onboarding', action: 'goal_reached' }, aggregate: 'any' }],
      method: 'sequential',
      start_at: iso(Date.now() - 24 * HOUR),
    };
    expect((await backend.client.post('/api/v1/experiments', def)).status).toBe(200);
    // the route answers what the hash says, every time
    const seen = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      const a = await backend.client.get('/api/v1/experiments/onboarding-flow/assignment', { unit_id: `w${i}` });
      expect(a.status).toBe(200);
      expect(a.body.recorded).toBe(true);
      expect(a.body.variant).toBe(assignVariant('onboarding-flow', `w${i}`, def.variants));
      seen.set(`w${i}`, a.body.variant);
    }
    const again = await backend.client.get('/api/v1/experiments/onboarding-flow/assignment', { unit_id: 'w7', record: false });
    expect(again.body).toEqual({ variant: seen.get('w7'), experiment: 'onboarding-flow', recorded: false, in_audience: true });
    // offline clients: same hash, exposures sent in a batch
    const offline = Array.from({ length: 900 }, (_, i) => `o${i}`);
    const sent = await backend.client.post('/api/v1/experiments/onboarding-flow/exposures', {
      exposures: offline.map((u) => ({ unit_id: u, variant: assignVariant('onboarding-flow', u, def.variants), timestamp: iso(Date.now() - HOUR) })),
    });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ accepted: 900, outside_audience: 0 });
    for (const u of offline) seen.set(u, assignVariant('onboarding-flow', u, def.variants));
    // conversions: some users reach the goal after exposure; a goal before exposure does not count
    const rand = rng(12);
    const goals: Ev[] = [];
    for (const [u, v] of seen) {
      const p = v === 'guided' ? 0.5 : v === 'short' ? 0.35 : 0.3;
      if (rand() < p) goals.push({ event_id: `g-${u}`, event_type: 'workflow_step', action: 'goal_reached', workflow_id: 'onboarding', timestamp: iso(Date.now() + 60_000), user_id: u });
      if (rand() < 0.2) goals.push({ event_id: `gpre-${u}`, event_type: 'workflow_step', action: 'goal_reached', workflow_id: 'onboarding', timestamp: iso(Date.now() - 2 * HOUR), user_id: u });
    }
    await backend.org.insertEvents(goals);
    const res = await backend.client.get('/api/v1/experiments/onboarding-flow/results', { metric: 'converted' });
    expect(res.status).toBe(200);
    const converted = new Set(goals.filter((g) => Date.parse(g.timestamp as string) > Date.now()).map((g) => g.user_id));
    const per = new Map<string, number[]>(def.variants.map((v) => [v.key, []]));
    for (const [u, v] of seen) per.get(v)!.push(converted.has(u) ? 1 : 0);
    const sums = def.variants.map((v) => summaryOf(per.get(v.key)!));
    res.body.variants.forEach((row: any, i: number) => {
      expect(row.units).toBe(sums[i]!.n);
      expect(row.value).toBeCloseTo(sums[i]!.mean, 9);
    });
    // two treatments: Holm over both, sequential p-values adjusted the same way
    const ws = [1, 2].map((i) => welch(sums[0]!, sums[i]!, 0.05).pValue);
    const adjusted = holm(ws);
    res.body.comparisons.forEach((c: any, i: number) => expect(c.p_value_adjusted).toBeCloseTo(adjusted[i]!, 9));
    const seqAdj = holm([1, 2].map((i) => sequential(sums[0]!, sums[i]!, 0.05, 5000).pValue));
    res.body.sequential.forEach((s: any, i: number) => expect(s.p_value).toBeCloseTo(seqAdj[i]!, 9));
    expect(res.body.srm.p_value).toBeCloseTo(srm(sums.map((s) => s.n), [20, 30, 50]).pValue, 9);
  });

  it('assignment shares match the weights', () => {
    const variants = [
      { key: 'a', weight: 10 },
      { key: 'b', weight: 25 },
      { key: 'c', weight: 65 },
    ];
    const counts = new Map(variants.map((v) => [v.key, 0]));
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const v = assignVariant('shares', `unit-${i}`, variants);
      counts.set(v, counts.get(v)! + 1);
    }
    const observed = variants.map((v) => counts.get(v.key)!);
    variants.forEach((v, i) => expect(Math.abs(observed[i]! / n - v.weight / 100)).toBeLessThan(0.01));
    expect(srm(observed, variants.map((v) => v.weight)).pValue).toBeGreaterThan(0.001);
    // another key reshuffles the units: assignment of two experiments is independent
    let same = 0;
    for (let i = 0; i < 10_000; i++) if (assignVariant('shares', `unit-${i}`, variants) === assignVariant('other', `unit-${i}`, variants)) same++;
    const expectedSame = 0.1 ** 2 + 0.25 ** 2 + 0.65 ** 2;
    expect(Math.abs(same / 10_000 - expectedSame)).toBeLessThan(0.02);
  });

  it('recommends: ship a clear winner, but not past a guardrail, nor before the minimum sample, nor through an SRM', async () => {
    const mk = (prefix: string, agent: string, counts: Record<string, number>, success: Record<string, number>, latency: Record<string, number>) => {
      const rand = rng(prefix.length * 31);
      const out: Ev[] = [];
      let i = 0;
      for (const [v, n] of Object.entries(counts)) {
        for (let k = 0; k < n; k++, i++) {
          out.push({ event_id: `${prefix}-${i}`, event_type: 'agent_invocation', timestamp: iso(START + (i % 200) * 60_000), user_id: `r${i % 50}`, agent_name: agent, agent_version: v, invocation_id: `${prefix}-${i}`, status: rand() < success[v]! ? 'success' : 'failure', execution_time_ms: latency[v]! * (0.9 + 0.2 * rand()) });
        }
      }
      return out;
    };
    const def = (key: string, agent: string) => ({ ...baseExperiment, key, agent_name: agent, metrics: baseExperiment.metrics.slice(0, 2) });
    await backend.org.insertEvents([
      ...mk('ship', 'ship-agent', { v1: 2000, v2: 2000 }, { v1: 0.7, v2: 0.8 }, { v1: 1000, v2: 1000 }),
      ...mk('guard', 'guard-agent', { v1: 2000, v2: 2000 }, { v1: 0.7, v2: 0.8 }, { v1: 1000, v2: 1500 }),
      ...mk('early', 'early-agent', { v1: 40, v2: 40 }, { v1: 0.5, v2: 0.9 }, { v1: 1000, v2: 1000 }),
      ...mk('srm', 'srm-agent', { v1: 2700, v2: 2300 }, { v1: 0.7, v2: 0.8 }, { v1: 1000, v2: 1000 }),
    ]);
    for (const k of ['ship', 'guard', 'early', 'srm']) expect((await backend.client.post('/api/v1/experiments', def(k, `${k}-agent`))).status).toBe(200);
    const rec = async (k: string) => (await backend.client.get(`/api/v1/experiments/${k}/results`, { metric: 'success_rate' })).body;
    const ship = await rec('ship');
    expect(ship.recommendation).toMatchObject({ decision: 'ship', variant: 'v2' });
    const guard = await rec('guard');
    expect(guard.comparisons[0].significant).toBe(true);
    expect(guard.guardrails).toEqual([expect.objectContaining({ metric: 'latency', variant: 'v2', regression: true })]);
    expect(guard.recommendation.decision).toBe('keep_control');
    expect(guard.recommendation.text).toContain('latency');
    const early = await rec('early');
    expect(early.comparisons[0].p_value).toBeLessThan(0.05); // significant, and still no winner
    expect(early.recommendation.decision).toBe('keep_running');
    const srmRes = await rec('srm');
    expect(srmRes.srm.mismatch).toBe(true);
    expect(srmRes.recommendation.decision).toBe('inconclusive');
    expect(srmRes.recommendation.text).toMatch(/ratio mismatch/i);
  });

  it('answers 400 naming the field for bad input, 404/409 where due, and keeps orgs apart', async () => {
    const bad = async (body: Record<string, unknown>, field: string) => {
      const r = await backend.client.post('/api/v1/experiments', { ...baseExperiment, key: 'bad', ...body });
      expect(r.status).toBe(400);
      expect(r.body.error.details.field ?? JSON.stringify(r.body.error.details)).toContain(field);
      return r;
    };
    await bad({ variants: [{ key: 'v1', weight: 50 }, { key: 'v2', weight: 40 }] }, 'variants');
    await bad({ control: 'v9' }, 'control');
    await bad({ metrics: [{ name: 'x', kind: 'proportion', where: { no_such_field: 1 } }] }, 'metrics[0].where.no_such_field');
    await bad({ metrics: [{ name: 'x', kind: 'mean', field: 'status' }] }, 'metrics[0].field');
    await bad({ metrics: [{ name: 'x', kind: 'mean', event_type: 'nope', field: 'a' }] }, 'metrics[0].event_type');
    await bad({ cuped: true }, 'cuped');
    const schemaBad = await backend.client.post('/api/v1/experiments', { ...baseExperiment, key: 'bad', unit: 'team' });
    expect(schemaBad.status).toBe(400);
    expect(JSON.stringify(schemaBad.body.error)).toContain('unit');

    expect((await backend.client.post('/api/v1/experiments', { ...baseExperiment, key: 'dup' })).status).toBe(200);
    expect((await backend.client.post('/api/v1/experiments', { ...baseExperiment, key: 'dup' })).status).toBe(409);
    const unknown = await backend.client.get('/api/v1/experiments/dup/results', { metric: 'nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.field).toBe('metric');
    expect((await backend.client.get('/api/v1/experiments/missing/results')).status).toBe(404);
    const dev = await backend.org.addUser({ email: 'dev@exp.local', role: 'Developer' });
    expect((await dev.post('/api/v1/experiments', { ...baseExperiment, key: 'by-dev' })).status).toBe(403);
    expect((await dev.get('/api/v1/experiments/dup/assignment', { unit_id: 'x', record: false })).status).toBe(200);

    // a second org with a same-named experiment and its own events sees only its own
    const other = await backend.createOrg('exp-other');
    expect((await other.client.get('/api/v1/experiments/reviewer-v2')).status).toBe(404);
    const events = invocations(77, { n: 300, users: 20, prefix: 'o', versions: { v1: { success: 0.5, latency: 10 }, v2: { success: 0.5, latency: 10 } } });
    await other.insertEvents(events);
    expect((await other.client.post('/api/v1/experiments', { ...baseExperiment, key: 'reviewer-v2' })).status).toBe(200);
    const theirs = await other.client.get('/api/v1/experiments/reviewer-v2/results', { metric: 'success_rate' });
    const expected = events.filter((e) => e.agent_name === 'reviewer' && Date.parse(e.timestamp) >= START).length;
    expect(theirs.body.variants.reduce((a: number, v: any) => a + v.units, 0)).toBe(expected);
    const list = await other.client.get('/api/v1/experiments');
    expect(list.body.experiments.map((e: any) => e.key)).toEqual(['reviewer-v2']);
  });

  it('lists the A/B Test Results widget in the plugin catalogue', async () => {
    const res = await backend.client.get('/api/v1/plugins');
    expect(res.status).toBe(200);
    const mine = (res.body.plugins ?? res.body).find((p: any) => p.id === 'experiments');
    expect(mine.widgets).toEqual([expect.objectContaining({ id: 'ab-test-results', title: 'A/B Test Results' })]);
    const docs = await backend.client.get('/api/docs/json');
    expect(docs.status).toBe(200);
    for (const path of ['/api/v1/experiments', '/api/v1/experiments/{key}/results', '/api/v1/experiments/{key}/assignment', '/api/v1/experiments/power']) {
      expect(Object.keys(docs.body.paths), path).toContain(path);
    }
  });

  it('lists, reads, updates and stops; the power calculator plans units and days', async () => {
    const list = await backend.client.get('/api/v1/experiments');
    expect(list.status).toBe(200);
    expect(list.body.experiments.map((e: any) => e.key)).toContain('reviewer-v2');
    const one = await backend.client.get('/api/v1/experiments/reviewer-v2');
    expect(one.body.definition).toMatchObject({ key: 'reviewer-v2', alpha: 0.05, sequential_tuning: 5000, metrics: expect.arrayContaining([expect.objectContaining({ name: 'success_rate', where: { status: 'success' } })]) });
    const stopped = await backend.client.post('/api/v1/experiments/reviewer-v2/stop');
    expect(stopped.body.status).toBe('stopped');
    expect((await backend.client.get('/api/v1/experiments/reviewer-v2/assignment', { unit_id: 'z' })).body.recorded).toBe(false);
    expect((await backend.client.get('/api/v1/experiments', { status: 'stopped' })).body.experiments.map((e: any) => e.key)).toEqual(['reviewer-v2']);

    // an experiment nobody has run yet answers, and asks to keep running
    expect((await backend.client.post('/api/v1/experiments', { ...baseExperiment, key: 'empty', agent_name: 'nobody' })).status).toBe(200);
    const empty = await backend.client.get('/api/v1/experiments/empty/results');
    expect(empty.status).toBe(200);
    expect(empty.body.metric.name).toBe('success_rate');
    expect(empty.body.variants.map((v: any) => [v.key, v.units, v.value])).toEqual([['v1', 0, null], ['v2', 0, null]]);
    expect(empty.body.comparisons[0].p_value).toBeNull();
    expect(empty.body.srm).toMatchObject({ p_value: 1, mismatch: false });
    expect(empty.body.recommendation.decision).toBe('keep_running');
    // an update is checked like a creation
    const badPut = await backend.client.put('/api/v1/experiments/empty', { ...baseExperiment, agent_name: 'nobody', control: 'nope' });
    expect(badPut.status).toBe(400);
    expect(badPut.body.error.details.field).toBe('control');

    const plan = await backend.client.post('/api/v1/experiments/power', { kind: 'proportion', baseline: 0.1, mde: 0.2, units_per_day: 1000 });
    expect(plan.status).toBe(200);
    expect(plan.body.absolute_mde).toBeCloseTo(0.02, 12);
    expect(plan.body.units_per_variant).toBe(3839); // (z.975 + z.8)² (0.1·0.9 + 0.12·0.88) / 0.02²
    expect(plan.body.total_units).toBe(7678);
    expect(plan.body.days).toBeCloseTo(7.678, 9);
    const noSd = await backend.client.post('/api/v1/experiments/power', { kind: 'mean', baseline: 1000, mde: 0.05 });
    expect(noSd.status).toBe(400);
    expect(noSd.body.error.details.field).toBe('standard_deviation');
    // summarize is what the SQL sums feed
    expect(summarize({ n: 4, sum: 2, sumSq: 2 }).variance).toBeCloseTo(1 / 3, 12);
  });
});
