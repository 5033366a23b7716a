/**
 * The plugin against a real kernel (embedded PGlite + chDB) through the SDK
 * harness. Every expected figure is computed from the generated events in
 * TypeScript (fixtures.ts), never with the plugin's SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { buildTrees } from '../backend/routes/chains.ts';
import { invocationMetricsBatch, previousPeriod } from '../backend/query.ts';
import {
  DAYS,
  START,
  expectedOf,
  generate,
  groupBy,
  inRange,
  localBucket,
  quantileBounds,
  type Expected,
  type Invocation,
} from './fixtures.ts';

const HOUR = 3_600_000;
const { invocations, toolCalls } = generate();
// edges that cut through days, hours and minutes, so every source of the read path is used
const FROM = new Date(START + 5 * HOUR + 17 * 60_000 + 41_250);
const TO = new Date(START + (DAYS * 24 - 7) * HOUR - 3 * 60_000 - 12_500);
const range = { from: FROM.toISOString(), to: TO.toISOString() };
const inWindow = invocations.filter((e) => inRange(e, FROM, TO));

/** Counts exactly, cost to the nano-dollar, quantiles within the documented t-digest bound. */
function expectMetrics(actual: Record<string, any>, expected: Expected) {
  expect(actual.invocations).toBe(expected.invocations);
  expect(actual.successes).toBe(expected.successes);
  expect(actual.failures).toBe(expected.failures);
  expect(actual.input_tokens).toBe(expected.input_tokens);
  expect(actual.output_tokens).toBe(expected.output_tokens);
  expect(actual.cost_usd).toBeCloseTo(expected.cost_usd, 6);
  expect(actual.active_users).toBe(expected.active_users);
  expect(actual.success_rate).toBeCloseTo(expected.successes / expected.invocations, 12);
  for (const [field, q] of [['p50_ms', 0.5], ['p75_ms', 0.75], ['p95_ms', 0.95], ['p99_ms', 0.99]] as const) {
    const [lo, hi] = quantileBounds(expected.latencies, q);
    expect(actual[field], `${field} of ${expected.invocations}`).toBeGreaterThanOrEqual(lo - 0.05);
    expect(actual[field], `${field} of ${expected.invocations}`).toBeLessThanOrEqual(hi + 0.05);
  }
}

describe('agent-analytics', () => {
  let b: TestBackend;
  let other: TestOrg;

  beforeAll(async () => {
    // listening, so that a socket.io client can watch the live topic as a widget does
    b = await startTestBackend({ plugins: [plugin], listen: true });
    other = await b.createOrg('other-co');
    // two thirds folded into the rollups, then the rest inserted after the watermark moved: late
    // events of every age, which reads must take raw until the next fold
    const late = invocations.filter((_, i) => i % 3 === 0);
    await b.org.insertEvents([...invocations.filter((_, i) => i % 3 !== 0), ...toolCalls]);
    await b.foldRollups();
    await b.org.insertEvents(late);
    // the other org: an agent of its own, and noise under a name org A also uses
    await other.insertEvents(generate(7).invocations.slice(0, 300).map((e) => ({ ...e, agent_name: e.agent_name === 'planner' ? 'secret-agent' : e.agent_name })));
  });
  afterAll(() => b?.close());

  it('lists agents with exact counts, tokens, cost and users, and quantiles within the t-digest bound', async () => {
    const res = await b.client.get('/api/v1/agents', range);
    expect(res.status).toBe(200);
    const expected = groupBy(inWindow, (e) => e.agent_name);
    expect(res.body.agents.map((a: any) => a.name).sort()).toEqual([...expected.keys()].sort());
    for (const a of res.body.agents) expectMetrics(a, expectedOf(expected.get(a.name)!));
  });

  it('answers an hourly series in UTC that matches raw counting bucket by bucket', async () => {
    const res = await b.client.get('/api/v1/agents/reviewer/analytics', { ...range, granularity: 'hour' });
    expect(res.status).toBe(200);
    const mine = inWindow.filter((e) => e.agent_name === 'reviewer');
    const expected = groupBy(mine, (e) => new Date(Math.floor(Date.parse(e.timestamp) / HOUR) * HOUR).toISOString());
    expect(res.body.series.map((s: any) => s.bucket)).toEqual([...expected.keys()].sort());
    for (const s of res.body.series) expectMetrics(s, expectedOf(expected.get(s.bucket)!));
  });

  it.each(['America/New_York', 'Asia/Kolkata', 'UTC'])('answers daily buckets in %s (hour rollups only nest in whole-hour zones)', async (tz) => {
    const res = await b.client.get('/api/v1/agents/triage/analytics', { ...range, granularity: 'day', tz });
    expect(res.status).toBe(200);
    const mine = inWindow.filter((e) => e.agent_name === 'triage');
    const expected = groupBy(mine, (e) => localBucket(Date.parse(e.timestamp), 'day', tz));
    expect(res.body.series.map((s: any) => localBucket(Date.parse(s.bucket), 'day', tz))).toEqual([...expected.keys()].sort());
    for (const s of res.body.series) {
      // a bucket starts at local midnight
      expect(localBucket(Date.parse(s.bucket) - 1, 'day', tz)).not.toBe(localBucket(Date.parse(s.bucket), 'day', tz));
      expectMetrics(s, expectedOf(expected.get(localBucket(Date.parse(s.bucket), 'day', tz))!));
    }
  });

  it('answers the busiest agents’ series in one request', async () => {
    const res = await b.client.get('/api/v1/agents/series', { ...range, granularity: 'day', top: 2 });
    const counts = [...groupBy(inWindow, (e) => e.agent_name)].sort((x, y) => y[1].length - x[1].length);
    expect(res.body.agents.map((a: any) => a.name)).toEqual(counts.slice(0, 2).map(([n]) => n));
    for (const a of res.body.agents) expect(a.series.reduce((x: number, p: any) => x + p.invocations, 0)).toBe(counts.find(([n]) => n === a.name)![1].length);
    // counts only: the same counts, sums and buckets; percentiles and users left out
    const lean = await b.client.get('/api/v1/agents/series', { ...range, granularity: 'day', top: 2, measures: 'counts' });
    expect(lean.status).toBe(200);
    const strip = (body: any) => body.agents.map((a: any) => ({ ...a, series: a.series.map((p: any) => ({ ...p, p50_ms: null, p75_ms: null, p95_ms: null, p99_ms: null, active_users: null })) }));
    expect(lean.body.agents).toEqual(strip(res.body));
    expect(lean.body.agents[0].series[0].invocations).toBeGreaterThan(0);
  });

  it('answers leaderboard and breakdown with counts only when asked, except what the ranking needs', async () => {
    const lean = (m: any) => (m ? { ...m, p50_ms: null, p75_ms: null, p95_ms: null, p99_ms: null, active_users: null } : m);
    for (const [path, query, list] of [
      ['/api/v1/agents/leaderboard', { ...range, metric: 'success_rate', compare: 'previous_period' }, 'agents'],
      ['/api/v1/agents/breakdown', { ...range, by: 'model', compare: 'previous_period' }, 'groups'],
    ] as const) {
      const full = await b.client.get(path, query);
      const counts = await b.client.get(path, { ...query, measures: 'counts' });
      expect(counts.status, counts.text).toBe(200);
      expect(counts.body[list].length).toBeGreaterThan(0);
      expect(counts.body[list]).toEqual(full.body[list].map((x: any) => ({ ...lean(x), previous: lean(x.previous) })));
    }
    // ranking by p95 keeps the percentiles whatever was asked
    const p95 = await b.client.get('/api/v1/agents/leaderboard', { ...range, metric: 'p95_latency', measures: 'counts' });
    expect(p95.body.agents[0].p95_ms).toBeGreaterThan(0);
    expect(p95.body.agents[0].value).toBe(p95.body.agents[0].p95_ms);
  });

  it('starts weeks on Monday', async () => {
    const res = await b.client.get('/api/v1/agents/planner/analytics', { from: '2026-02-25T00:00:00Z', to: '2026-03-10T00:00:00Z', granularity: 'week' });
    expect(res.body.series.map((s: any) => s.bucket)).toEqual(['2026-03-02T00:00:00.000Z']);
    expect(res.body.series[0].invocations).toBe(invocations.filter((e) => e.agent_name === 'planner').length);
  });

  it('applies every filter, reading raw events for a user filter', async () => {
    const cases: Array<[Record<string, string>, (e: Invocation) => boolean]> = [
      [{ model: 'small-model', department_id: 'dept-ops' }, (e) => e.model_used === 'small-model' && e.department_id === 'dept-ops'],
      [{ version: '2.0.3', prompt_version: 'v8' }, (e) => e.agent_version === '2.0.3' && e.prompt_template_version === 'v8'],
      [{ status: 'failure' }, (e) => e.status === 'failure'],
      [{ user_id: 'user-3' }, (e) => e.user_id === 'user-3'],
    ];
    for (const [filter, keep] of cases) {
      const res = await b.client.get('/api/v1/agents', { ...range, ...filter });
      const expected = groupBy(inWindow.filter(keep), (e) => e.agent_name);
      expect(res.body.agents.length, JSON.stringify(filter)).toBe(expected.size);
      for (const a of res.body.agents) expectMetrics(a, expectedOf(expected.get(a.name)!));
    }
  });

  it('compares with the previous period of the same length', async () => {
    const from = new Date(START + 36 * HOUR);
    const to = new Date(START + 60 * HOUR);
    const res = await b.client.get('/api/v1/agents', { from: from.toISOString(), to: to.toISOString(), compare: 'previous_period' });
    expect(res.body.compare).toEqual({ from: new Date(START + 12 * HOUR).toISOString(), to: from.toISOString(), tz: 'UTC' });
    for (const a of res.body.agents) {
      const prev = invocations.filter((e) => e.agent_name === a.name && inRange(e, new Date(START + 12 * HOUR), from));
      expectMetrics(a.previous, expectedOf(prev));
    }
  });

  it('answers a batch whose questions share reads exactly, overlapping ranges included', async () => {
    const analytics = b.kernel.services.analytics.forOrg(b.org.id);
    const ch = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    const at = (from: number, to: number) => ({ from: new Date(from), to: new Date(to), fromCh: ch(from), toCh: ch(to), tz: 'UTC' });
    // minute and second edges, so raw events, hours and (for `whole`) a day answer each range
    const current = at(START + 26 * HOUR + 13 * 60_000 + 5_500, START + 50 * HOUR - 7 * 60_000 - 2_250);
    const before = previousPeriod(current); // adjacent: shares every read with `current`
    const whole = at(FROM.getTime(), TO.getTime()); // overlaps `current`: must not share its rows
    const byAgent = { filters: {}, groupBy: ['agent_name'] as const };
    const watermark = new Date(await b.kernel.services.rollups.watermark('agent-analytics', 'invocations'));
    expect(watermark.getTime()).toBeGreaterThan(0);
    const answers = await invocationMetricsBatch(analytics, [
      { ...byAgent, range: current },
      { ...byAgent, range: before },
      { ...byAgent, range: whole },
      { ...byAgent, range: current, granularity: 'hour' },
    ], watermark);
    for (const [i, r] of [current, before, whole].entries()) {
      const expected = groupBy(invocations.filter((e) => inRange(e, r.from, r.to)), (e) => e.agent_name);
      expect(answers[i]!.map((a) => a.agent_name).sort(), `question ${i}`).toEqual([...expected.keys()].sort());
      for (const a of answers[i]!) expectMetrics(a, expectedOf(expected.get(a.agent_name!)!));
    }
    const hourly = groupBy(invocations.filter((e) => inRange(e, current.from, current.to)), (e) => `${new Date(Math.floor(Date.parse(e.timestamp) / HOUR) * HOUR).toISOString()} ${e.agent_name}`);
    expect(answers[3]!.length).toBe(hourly.size);
    for (const a of answers[3]!) expectMetrics(a, expectedOf(hourly.get(`${a.bucket} ${a.agent_name}`)!));
  });

  it('breaks errors down by type with share, rate and last seen', async () => {
    const res = await b.client.get('/api/v1/agents/planner/errors', range);
    expect(res.status).toBe(200);
    const mine = inWindow.filter((e) => e.agent_name === 'planner');
    const failed = mine.filter((e) => e.status === 'failure');
    expect(res.body.invocations).toBe(mine.length);
    expect(res.body.failures).toBe(failed.length);
    const byType = groupBy(failed, (e) => e.error_type);
    expect(res.body.errors).toHaveLength(byType.size);
    for (const err of res.body.errors) {
      const rows = byType.get(err.error_type)!;
      expect(err.count).toBe(rows.length);
      expect(err.share).toBeCloseTo(rows.length / failed.length, 12);
      expect(err.rate).toBeCloseTo(rows.length / mine.length, 12);
      expect(err.last_seen).toBe(rows.map((r) => r.timestamp).sort().at(-1));
    }
    expect(res.body.trend.reduce((a: number, t: any) => a + t.count, 0)).toBe(failed.length);
    expect(res.body.recent[0].invocation_id).toBe(failed.sort((x, y) => y.timestamp.localeCompare(x.timestamp))[0]!.invocation_id);

    const drill = await b.client.get(`/api/v1/agents/planner/invocations/${res.body.recent[0].invocation_id}`);
    expect(drill.status).toBe(200);
    expect(drill.body.invocation.status).toBe('failure');
    expect(drill.body.children.length).toBe(invocations.filter((e) => e.parent_invocation_id === res.body.recent[0].invocation_id).length);
  });

  it('ranks the leaderboard by each metric', async () => {
    const expected = [...groupBy(inWindow, (e) => e.agent_name)].map(([name, rows]) => ({ name, ...expectedOf(rows) }));
    // equal values rank by name
    const ranked = (key: (a: (typeof expected)[number]) => number) => [...expected].sort((x, y) => key(x) - key(y) || (x.name < y.name ? -1 : 1)).map((a) => a.name);
    const bySuccess = await b.client.get('/api/v1/agents/leaderboard', { ...range, metric: 'success_rate' });
    expect(bySuccess.body.agents.map((a: any) => a.name)).toEqual(ranked((a) => -a.successes / a.invocations));
    const byCost = await b.client.get('/api/v1/agents/leaderboard', { ...range, metric: 'cost_efficiency' });
    expect(byCost.body.agents.map((a: any) => a.name)).toEqual(ranked((a) => a.cost_usd / a.successes));
    const byFailures = await b.client.get('/api/v1/agents/leaderboard', { ...range, metric: 'failures' });
    const failuresOf = new Map(expected.map((a) => [a.name, a.failures]));
    expect(byFailures.body.agents.map((a: any) => [a.name, a.value])).toEqual(ranked((a) => -a.failures).map((n) => [n, failuresOf.get(n)]));
    expect(new Set(failuresOf.values()).size, 'the data should rank agents by different failure counts').toBeGreaterThan(1);
    expect(byCost.body.agents[0].rank).toBe(1);
    expect((await b.client.get('/api/v1/agents/leaderboard', { ...range, metric: 'vibes' })).status).toBe(400);
  });

  it('shows an agent’s versions and models, and compares its models', async () => {
    const detail = await b.client.get('/api/v1/agents/reviewer', range);
    const mine = inWindow.filter((e) => e.agent_name === 'reviewer');
    expectMetrics(detail.body.totals, expectedOf(mine));
    for (const v of detail.body.versions) expectMetrics(v, expectedOf(mine.filter((e) => e.agent_version === v.value)));
    expect(detail.body.models.map((m: any) => m.value).sort()).toEqual(['big-model', 'small-model']);
    const cmp = await b.client.get('/api/v1/agents/reviewer/compare', { ...range, by: 'model' });
    expect(cmp.body.baseline).toBe(cmp.body.variants[0].value);
    for (const v of cmp.body.variants) expectMetrics(v, expectedOf(mine.filter((e) => e.model_used === v.value)));
    const dept = await b.client.get('/api/v1/agents/breakdown', { ...range, by: 'department' });
    for (const g of dept.body.groups) expectMetrics(g, expectedOf(inWindow.filter((e) => e.department_id === g.value)));
  });

  it('reports tool usage with and without each tool, and flags the failing one', async () => {
    const res = await b.client.get('/api/v1/agents/triage/tools', range);
    const mine = inWindow.filter((e) => e.agent_name === 'triage');
    const calls = toolCalls.filter((c) => c.agent_name === 'triage' && inRange(c, FROM, TO));
    for (const t of res.body.tools) {
      const withTool = mine.filter((e) => e.tools_used.includes(t.tool));
      const without = mine.filter((e) => !e.tools_used.includes(t.tool));
      const mineCalls = calls.filter((c) => c.tool_name === t.tool);
      expect(t.calls).toBe(mineCalls.length);
      expect(t.failures).toBe(mineCalls.filter((c) => c.status === 'failure').length);
      expect(t.invocations_with).toBe(withTool.length);
      expect(t.success_rate_with).toBeCloseTo(withTool.filter((e) => e.status === 'success').length / withTool.length, 12);
      expect(t.success_rate_without).toBeCloseTo(without.filter((e) => e.status === 'success').length / without.length, 12);
      const mean = (xs: Invocation[]) => xs.reduce((a, e) => a + e.execution_time_ms, 0) / xs.length;
      expect(t.latency_added_ms).toBeCloseTo(mean(withTool) - mean(without), 0);
    }
    expect(res.body.tools.find((t: any) => t.tool === 'flaky_api').flags).toContain('failing');
    expect(res.body.tools.find((t: any) => t.tool === 'search_kb').flags).not.toContain('failing');
  });

  it('builds chains: depth, fan-out, critical path and failure points', async () => {
    const res = await b.client.get('/api/v1/agents/chains', range);
    expect(res.status).toBe(200);
    const ids = new Set(inWindow.map((e) => e.invocation_id));
    const roots = inWindow.filter((e) => e.agent_name === 'planner' && !e.parent_invocation_id);
    // every planner in the window spawned children at most 350 ms later; the window cuts at most one chain at each edge
    const complete = roots.filter((r) => invocations.filter((c) => c.parent_invocation_id === r.invocation_id).every((c) => ids.has(c.invocation_id)));
    expect(Math.abs(res.body.chains - complete.length)).toBeLessThanOrEqual(1);
    expect(res.body.depth.max).toBe(3);
    expect(res.body.fan_out.max).toBe(3);
    expect(res.body.edges.filter((e: any) => e.kind === 'agent').every((e: any) => e.source_depth >= 1)).toBe(true);
    const toPlanner = res.body.edges.filter((e: any) => e.kind === 'agent' && e.source === 'planner').reduce((a: number, e: any) => a + e.count, 0);
    expect(Math.abs(toPlanner - invocations.filter((c) => c.parent_invocation_id && roots.some((r) => r.invocation_id === c.parent_invocation_id)).length)).toBeLessThanOrEqual(3);
    // failure points share sums to one over failed chains
    expect(res.body.failure_points.reduce((a: number, f: any) => a + f.chains, 0)).toBe(res.body.failed_chains);
  });

  it('computes the critical path as the chain of last-ending children', () => {
    const node = (id: string, parent: string, agent: string, start: number, ms: number, status = 'success') => ({
      invocation_id: id, parent_invocation_id: parent, agent_name: agent, status, start, execution_time_ms: ms,
      department_id: '', user_id: '', model_used: '', agent_version: '', prompt_template_version: '',
    });
    const [tree] = buildTrees([
      node('r', '', 'planner', 0, 1000),
      node('a', 'r', 'reviewer', 10, 500),
      node('b', 'r', 'triage', 20, 2000, 'failure'),
      node('c', 'a', 'triage', 30, 100, 'failure'),
    ]);
    expect(tree!.depth).toBe(3);
    expect(tree!.maxFanOut).toBe(2);
    expect(tree!.latencyMs).toBe(2020);
    expect(tree!.criticalPath).toEqual(['planner', 'triage']);
    expect(tree!.firstFailure!.invocation_id).toBe('b');
  });

  it('recommends a cheaper model that kept the success rate, with its evidence', async () => {
    const res = await b.client.get('/api/v1/agents/recommendations', range);
    expect(res.status).toBe(200);
    const swap = res.body.recommendations.find((r: any) => r.kind === 'model_swap' && r.agent === 'reviewer');
    const mine = inWindow.filter((e) => e.agent_name === 'reviewer');
    const big = expectedOf(mine.filter((e) => e.model_used === 'big-model'));
    const small = expectedOf(mine.filter((e) => e.model_used === 'small-model'));
    if (small.successes / small.invocations >= big.successes / big.invocations - 0.01) {
      expect(swap.evidence.candidate.value).toBe('small-model');
      expect(swap.evidence.current.invocations).toBe(big.invocations);
      expect(swap.impact.value).toBeGreaterThan(0);
    }
    expect(res.body.recommendations.some((r: any) => r.kind === 'failing_tool' && r.evidence.tool === 'flaky_api')).toBe(true);
  });

  it('puts a late event into the bucket it happened in', async () => {
    const at = new Date(START + 30 * HOUR + 123_456);
    const q = { from: new Date(START + 30 * HOUR).toISOString(), to: new Date(START + 31 * HOUR).toISOString(), granularity: 'hour' };
    const before = (await b.client.get('/api/v1/agents/triage/analytics', q)).body.series[0]?.invocations ?? 0;
    await b.org.insertEvents([{ ...invocations.find((e) => e.agent_name === 'triage')!, event_id: 'late-1', invocation_id: 'late-1', timestamp: at.toISOString() }]);
    const after = await b.client.get('/api/v1/agents/triage/analytics', q);
    expect(after.body.series[0].invocations).toBe(before + 1);
    const day = await b.client.get('/api/v1/agents/triage/analytics', { from: new Date(START + 24 * HOUR).toISOString(), to: new Date(START + 48 * HOUR).toISOString(), granularity: 'day' });
    expect(day.body.series[0].invocations).toBe(invocations.filter((e) => e.agent_name === 'triage' && inRange(e, new Date(START + 24 * HOUR), new Date(START + 48 * HOUR))).length + 1);
  });

  it('answers an empty range with empty arrays', async () => {
    const empty = { from: '2020-01-01T00:00:00Z', to: '2020-01-08T00:00:00Z' };
    expect((await b.client.get('/api/v1/agents', empty)).body.agents).toEqual([]);
    const series = await b.client.get('/api/v1/agents/reviewer/analytics', { ...empty, granularity: 'day' });
    expect(series.status).toBe(200);
    expect(series.body.series).toEqual([]);
    const errors = await b.client.get('/api/v1/agents/reviewer/errors', empty);
    expect(errors.body).toMatchObject({ invocations: 0, failures: 0, errors: [], trend: [], recent: [] });
    expect((await b.client.get('/api/v1/agents/chains', empty)).body.chains).toBe(0);
    expect((await b.client.get('/api/v1/agents/reviewer/tools', empty)).body.tools).toEqual([]);
    expect((await b.client.get('/api/v1/agents/recommendations', empty)).body.recommendations).toEqual([]);
  });

  it('refuses a bad granularity and a minute series over the bucket limit with a 400', async () => {
    const bad = await b.client.get('/api/v1/agents/reviewer/analytics', { ...range, granularity: 'fortnight' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/granularity/);
    const long = await b.client.get('/api/v1/agents/reviewer/analytics', { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', granularity: 'minute' });
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe('range_too_large');
    expect(long.body.error.message).toMatch(/5000 buckets/);
    expect((await b.client.get('/api/v1/agents', { from: TO.toISOString(), to: FROM.toISOString() })).status).toBe(400);
  });

  it('answers 404 for an unknown agent and for another org’s agent', async () => {
    for (const path of ['/api/v1/agents/nobody', '/api/v1/agents/nobody/analytics', '/api/v1/agents/nobody/errors', '/api/v1/agents/nobody/tools']) {
      const r = await b.client.get(path, range);
      expect(r.status, path).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await b.client.get('/api/v1/agents/secret-agent', range)).status).toBe(404);
    expect((await other.client.get('/api/v1/agents/planner/analytics', range)).status).toBe(404);
    // the other org only sees its own rows, under names both orgs use
    const theirs = await other.client.get('/api/v1/agents', { from: new Date(START).toISOString(), to: new Date(START + DAYS * 24 * HOUR).toISOString() });
    expect(theirs.body.agents.map((a: any) => a.name).sort()).toEqual(expect.arrayContaining(['secret-agent']));
    expect(theirs.body.agents.reduce((a: number, x: any) => a + x.invocations, 0)).toBe(300);
  });

  /** Posts invocations through the kernel's ingestion route, as an agent's hook does. */
  async function postEvents(events: Array<Record<string, unknown>>) {
    const hook = await b.org.hookToken();
    const res = await b.kernel.app.inject({
      method: 'POST',
      url: '/api/v1/events/batch',
      headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ events }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse(res.body).accepted, res.body).toBe(events.length);
  }
  /** An invocation as a sender writes it: no org (the token names it), no cost (ingestion prices it), no empty optional fields, no parent. */
  const sent = (base: Invocation, id: string, at: Date, extra: Partial<Invocation> = {}) => {
    const { cost_usd: _cost, parent_invocation_id: _parent, ...fields } = { ...base, ...extra, event_id: id, invocation_id: id, timestamp: at.toISOString() };
    return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ''));
  };

  it('publishes a coalesced live notice on the socket when invocations are posted over HTTP', async () => {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = io(b.url!, { auth: { token: b.client.token }, transports: ['websocket'], reconnection: false });
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
    const got: any[] = [];
    socket.on('bus', (m) => {
      if (m.topic === 'agent-analytics.invocations') got.push(m);
    });
    try {
      const base = invocations.find((e) => e.status === 'failure')!;
      await postEvents([0, 1, 2].map((i) => sent(base, `live-${i}`, new Date())));
      await expect.poll(() => got.reduce((a, m) => a + m.payload.invocations, 0), { timeout: 5000 }).toBe(3);
      expect(got[0].orgId).toBe(b.org.id);
      expect(got.reduce((a, m) => a + m.payload.failures, 0)).toBe(3);
      // one request, one commit, one notice: the window coalesces whatever arrives while it is open
      expect(got).toHaveLength(1);
      expect(got[0].payload.agents[base.agent_name]).toEqual({ invocations: 3, failures: 3 });
    } finally {
      socket.close();
    }
  });

  it('counts an invocation posted over HTTP in GET /agents', async () => {
    const at = new Date();
    const base = invocations.find((e) => e.status === 'success')!;
    await postEvents([sent(base, 'http-1', at, { agent_name: 'http-agent', input_tokens: 1234, output_tokens: 567, execution_time_ms: 789 })]);
    const window = { from: new Date(at.getTime() - HOUR).toISOString(), to: new Date(at.getTime() + HOUR).toISOString() };
    const res = await b.client.get('/api/v1/agents', window);
    expect(res.status).toBe(200);
    const agent = res.body.agents.find((a: any) => a.name === 'http-agent');
    expect(agent).toMatchObject({ invocations: 1, successes: 1, failures: 0, input_tokens: 1234, output_tokens: 567, p50_ms: 789, active_users: 1 });
  });
  it('answers a repeated request from memory until events for the org are committed, per caller and org', async () => {
    const at = new Date();
    const window = { from: new Date(at.getTime() - HOUR).toISOString(), to: new Date(at.getTime() + HOUR).toISOString(), granularity: 'hour' };
    const first = await b.client.get('/api/v1/agents/series', window);
    expect(first.status).toBe(200);
    expect(first.headers['x-orrery-answer']).toBe('computed');
    const again = await b.client.get('/api/v1/agents/series', window);
    expect(again.headers['x-orrery-answer']).toBe('remembered');
    expect(again.body).toEqual(first.body);
    // another caller, and another org's Admin, asking the same thing get answers of their own
    const developer = await b.org.addUser({ email: 'dev-remember@example.com', role: 'Developer' });
    expect((await developer.get('/api/v1/agents/series', window)).headers['x-orrery-answer']).toBe('computed');
    const theirs = await other.client.get('/api/v1/agents/series', window);
    expect(theirs.headers['x-orrery-answer']).toBe('computed');
    expect(JSON.stringify(theirs.body)).not.toContain('remember-agent');
    // a committed event moves the org's data on: the next answer is computed and counts it
    const total = (body: any) => body.agents.reduce((a: number, x: any) => a + x.series.reduce((c: number, p: any) => c + p.invocations, 0), 0);
    const before = total(again.body);
    const base = invocations.find((e) => e.status === 'success')!;
    await postEvents([sent(base, 'remember-1', at, { agent_name: 'remember-agent' })]);
    const after = await b.client.get('/api/v1/agents/series', window);
    // computed for this request, or by the background refresh of the answer read above when it was quicker
    expect(['computed', 'refreshed']).toContain(after.headers['x-orrery-answer']);
    expect(total(after.body)).toBe(before + 1);
    expect(after.body.agents.map((a: any) => a.name)).toContain('remember-agent');
    // the other org's remembered answer was not touched by org A's commit
    expect((await other.client.get('/api/v1/agents/series', window)).headers['x-orrery-answer']).toBe('remembered');
  });
  it('refreshes an answer somebody read as soon as events are committed, and computes on request with no-cache', async () => {
    const at = new Date();
    const window = { from: new Date(at.getTime() - HOUR).toISOString(), to: new Date(at.getTime() + 2 * HOUR).toISOString(), granularity: 'hour' };
    const answers = b.kernel.services.pluginHost.answers;
    const count = (body: any) => body.agents.find((a: any) => a.name === 'refresh-agent')?.series.reduce((c: number, p: any) => c + p.invocations, 0) ?? 0;
    const first = await b.client.get('/api/v1/agents/series', window);
    expect(count(first.body)).toBe(0);
    const base = invocations.find((e) => e.status === 'success')!;
    await postEvents([sent(base, 'refresh-1', at, { agent_name: 'refresh-agent' })]);
    await answers.settled();
    const next = await b.client.get('/api/v1/agents/series', window);
    expect(next.headers['x-orrery-answer']).toBe('refreshed');
    expect(count(next.body)).toBe(1);
    // the client may insist on an answer computed now
    const forced = await b.client.get('/api/v1/agents/series', window, { headers: { 'cache-control': 'no-cache' } });
    expect(forced.headers['x-orrery-answer']).toBe('computed');
    expect(forced.body).toEqual(next.body);
    const metrics = await b.client.get('/metrics');
    expect(metrics.text).toMatch(/orrery_route_answers_total\{outcome="refreshed"\} [1-9]/);
  });
});
