/**
 * Data lifecycle per org against a real kernel (PGlite + chDB). A probe plugin declares an
 * aggregate rollup (minute → hour → day) and a per-user activity rollup, and answers through
 * the SDK planner. Eight months of random events for two orgs; every expected figure is
 * counted in TypeScript from the generated events, never with the kernel's SQL.
 *
 * What it proves: raw events past the org's horizon are deleted (and only that org's), a
 * six-month question answers the same before and after (rollups outlive raw events), ranges
 * that start before the raw horizon are answered from rollups only (edges widened to whole
 * minutes), aggregates and user-activity rows expire at their own horizons, a late event older
 * than the horizon stays until a fold has it, whole expired partitions are dropped, and the
 * policy route validates, is Admin-only and audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import { DAY_MS, HOUR_MS, MINUTE_MS, badRequest, defineRollup, definePlugin, freshRowsSql, planSegments, rollupDdl, type RollupLevel } from '@orrery/plugin-sdk';

const CALLS = defineRollup({
  name: 'calls',
  source: 'events',
  filter: "event_type = 'agent_invocation'",
  dimensions: ['agent_name', 'status'],
  measures: [
    { name: 'n', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' },
    { name: 'tokens', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'sum(input_tokens)' },
  ],
  tables: [
    { table: 'lc_calls_1m', grain: 'minute', dims: ['agent_name', 'status'] },
    { table: 'lc_calls_1h', grain: 'hour', dims: ['agent_name'], from: 'lc_calls_1m' },
    { table: 'lc_calls_1d', grain: 'day', dims: ['agent_name'], from: 'lc_calls_1h' },
  ],
});
const USERS = defineRollup({
  name: 'users',
  source: 'events',
  filter: "user_id != ''",
  retention: 'user_activity',
  dimensions: ['user_id'],
  measures: [{ name: 'n', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' }],
  tables: [{ table: 'lc_users_1d', grain: 'day', dims: ['user_id'] }],
});

interface Level extends RollupLevel {
  table: string;
}
const CALL_LEVELS: Level[] = [
  { table: 'lc_calls_1d', stepMs: DAY_MS },
  { table: 'lc_calls_1h', stepMs: HOUR_MS },
  { table: 'lc_calls_1m', stepMs: MINUTE_MS },
];
const USER_LEVELS: Level[] = [{ table: 'lc_users_1d', stepMs: DAY_MS }];

const range = { type: 'object', required: ['from', 'to'], properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' } } };

const probe = definePlugin({
  id: 'lifecycle-probe',
  version: '1.0.0',
  sdk: '^1.0.0 || ^2.0.0',
  title: 'Lifecycle probe',
  description: 'totals per agent and active users through declared rollups',
  routePrefix: 'lifecycle-probe',
  permissions: { 'lifecycle-probe.read': ['Admin', 'Manager', 'Developer'] },
  migrations: { clickhouse: [{ name: '0001_rollups', statements: [...rollupDdl(CALLS), ...rollupDdl(USERS)] }] },
  rollups: [CALLS, USERS],
  register(env) {
    env.route({
      method: 'GET',
      path: '/totals',
      permission: 'lifecycle-probe.read',
      summary: 'invocations and tokens per agent over [from, to)',
      schema: { querystring: range, response: { 200: { type: 'object', properties: { agents: { type: 'array', items: { type: 'object', additionalProperties: true } } } } } },
      async handler(req, ctx) {
        const from = new Date(req.query.from), to = new Date(req.query.to);
        if (!(to > from)) throw badRequest('to must be after from', { field: 'to' });
        return ctx.rollups.read('calls', async (watermark) => {
          const params: Record<string, unknown> = { w: watermark.getTime() };
          // the planner takes the org's raw horizon from the read it runs in
          const arms = planSegments({ from, to }, CALL_LEVELS, { watermark }).map((s, i) => {
            params[`f${i}`] = s.from.getTime();
            params[`t${i}`] = s.to.getTime();
            return s.level
              ? `SELECT agent_name, n, tokens FROM {db}.${s.level.table} WHERE org_id = {org_id:String}
                   AND bucket >= toDateTime(intDiv({f${i}:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({t${i}:Int64}, 1000), 'UTC')`
              : `SELECT agent_name, count() AS n, sum(input_tokens) AS tokens FROM {db}.events
                 WHERE org_id = {org_id:String} AND event_type = 'agent_invocation'
                   AND timestamp >= fromUnixTimestamp64Milli({f${i}:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({t${i}:Int64}, 'UTC')
                   ${s.insertedAfter ? `AND ${freshRowsSql('w')}` : ''}
                 GROUP BY agent_name`;
          });
          const rows = await ctx.analytics.query<{ agent_name: string; n: string; tokens: string }>(
            `SELECT agent_name, sum(n) AS n, sum(tokens) AS tokens FROM (${arms.join(' UNION ALL ')}) GROUP BY agent_name ORDER BY agent_name`,
            params,
          );
          return { agents: rows.map((r) => ({ agent_name: r.agent_name, n: Number(r.n), tokens: Number(r.tokens) })) };
        });
      },
    });
    env.route({
      method: 'GET',
      path: '/active-users',
      permission: 'lifecycle-probe.read',
      summary: 'distinct users over [from, to) (whole UTC days)',
      schema: { querystring: range, response: { 200: { type: 'object', properties: { users: { type: 'integer' } } } } },
      async handler(req, ctx) {
        const from = new Date(req.query.from), to = new Date(req.query.to);
        return ctx.rollups.read('users', async (watermark) => {
          const params: Record<string, unknown> = { w: watermark.getTime() };
          const arms = planSegments({ from, to }, USER_LEVELS, { watermark }).map((s, i) => {
            params[`f${i}`] = s.from.getTime();
            params[`t${i}`] = s.to.getTime();
            return s.level
              ? `SELECT user_id FROM {db}.${s.level.table} WHERE org_id = {org_id:String}
                   AND bucket >= toDateTime(intDiv({f${i}:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({t${i}:Int64}, 1000), 'UTC')`
              : `SELECT user_id FROM {db}.events WHERE org_id = {org_id:String} AND user_id != ''
                   AND timestamp >= fromUnixTimestamp64Milli({f${i}:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({t${i}:Int64}, 'UTC')
                   ${s.insertedAfter ? `AND ${freshRowsSql('w')}` : ''}`;
          });
          const [r] = await ctx.analytics.query<{ users: string }>(`SELECT uniqExact(user_id) AS users FROM (${arms.join(' UNION ALL ')})`, params);
          return { users: Number(r?.users ?? 0) };
        });
      },
    });
    env.route({
      method: 'GET',
      path: '/horizons',
      permission: 'lifecycle-probe.read',
      summary: "the org's retention as a plugin sees it",
      schema: { response: { 200: { type: 'object', additionalProperties: true } } },
      async handler(_req, ctx) {
        const h = await ctx.retention();
        return { policy: h.policy, raw_events_from: h.rawEventsFrom.toISOString(), aggregates_from: h.aggregatesFrom.toISOString(), user_activity_from: h.userActivityFrom.toISOString() };
      },
    });
  },
});

// ---- random events and the brute-force reference ----------------------------------------

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOW = Date.now();
const TODAY = Math.floor(NOW / DAY_MS) * DAY_MS;
const SPAN_DAYS = 240;
const AGENTS = ['planner', 'coder', 'reviewer'];

type Ev = { event_id: string; event_type: string; timestamp: string; user_id: string; agent_name: string; status: string; input_tokens: number };

let serial = 0;
function events(seed: number, count: number, span: [number, number] = [TODAY - SPAN_DAYS * DAY_MS, NOW - MINUTE_MS]): Ev[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => ({
    event_id: `lc${seed}-${serial++}`,
    event_type: r() < 0.85 ? 'agent_invocation' : 'tool_call',
    timestamp: new Date(span[0] + Math.floor(r() * (span[1] - span[0]))).toISOString(),
    user_id: `u${Math.floor(r() * 40)}`,
    agent_name: AGENTS[Math.floor(r() * AGENTS.length)]!,
    status: r() < 0.8 ? 'success' : 'failure',
    input_tokens: Math.floor(r() * 5000),
  }));
}

const ts = (e: Ev) => Date.parse(e.timestamp);

function totalsRef(evs: readonly Ev[], from: number, to: number) {
  const by = new Map<string, { n: number; tokens: number }>();
  for (const e of evs) {
    const t = ts(e);
    if (e.event_type !== 'agent_invocation' || t < from || t >= to) continue;
    const g = by.get(e.agent_name) ?? { n: 0, tokens: 0 };
    g.n++;
    g.tokens += e.input_tokens;
    by.set(e.agent_name, g);
  }
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([agent_name, g]) => ({ agent_name, ...g }));
}

const usersRef = (evs: readonly Ev[], from: number, to: number) => new Set(evs.filter((e) => ts(e) >= from && ts(e) < to).map((e) => e.user_id)).size;

/** the raw horizon org A is given (raw_events_days: 60) */
const HORIZON_A = TODAY - 60 * DAY_MS;

/** random ranges with edges at odd seconds, most of them starting before A's raw horizon */
const RANGES: Array<[number, number]> = (() => {
  const r = rng(5);
  return Array.from({ length: 12 }, () => {
    const from = TODAY - SPAN_DAYS * DAY_MS + Math.floor(r() * (SPAN_DAYS - 1) * DAY_MS) + 17_123;
    return [from, Math.min(NOW, from + Math.floor(r() ** 2 * 200 * DAY_MS) + 41_777)] as [number, number];
  });
})();

/**
 * Events in the minute around each range edge before the horizon: some just outside the range
 * (the widened answer counts them), some just inside (a raw read of expired events would miss them).
 */
function edgeEvents(): Ev[] {
  const out: Ev[] = [];
  for (const [from, to] of RANGES) {
    for (const edge of [from, to]) {
      if (edge >= HORIZON_A || edge % MINUTE_MS === 0) continue;
      const lo = Math.floor(edge / MINUTE_MS) * MINUTE_MS, hi = lo + MINUTE_MS;
      const [a] = events(edge % 1000, 1, [lo, edge]), [c] = events((edge % 1000) + 1, 1, [edge, hi]);
      out.push({ ...a!, event_type: 'agent_invocation' }, { ...c!, event_type: 'agent_invocation' });
    }
  }
  return out;
}

describe('data lifecycle per org', () => {
  let b: TestBackend;
  let other: TestOrg;
  const sentA: Ev[] = [...events(11, 6000), ...edgeEvents()];
  const sentB: Ev[] = events(29, 3000);

  const iso = (ms: number) => new Date(ms).toISOString();
  const totals = async (client: TestBackend['client'], from: number, to: number) => {
    const res = await client.get('/api/v1/lifecycle-probe/totals', { from: iso(from), to: iso(to) });
    expect(res.status, res.text).toBe(200);
    return res.body.agents;
  };
  const activeUsers = async (client: TestBackend['client'], from: number, to: number) => {
    const res = await client.get('/api/v1/lifecycle-probe/active-users', { from: iso(from), to: iso(to) });
    expect(res.status, res.text).toBe(200);
    return res.body.users as number;
  };
  const rawCount = async (orgId: string, before?: number) => {
    const s = b.kernel.services;
    const rs = await s.analytics.client.query({
      query: `SELECT count() AS n FROM ${s.analytics.database}.events WHERE org_id = {org:String} ${before ? `AND timestamp < fromUnixTimestamp64Milli({t:Int64}, 'UTC')` : ''}`,
      query_params: { org: orgId, t: before ?? 0 },
      format: 'JSONEachRow',
    });
    return Number(((await rs.json()) as Array<{ n: string }>)[0]!.n);
  };

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [probe] });
    other = await b.createOrg('lifecycle-other');
    await b.org.insertEvents(sentA);
    await other.insertEvents(sentB);
    await b.foldRollups();
  }, 120_000);
  afterAll(() => b?.close());

  it('starts on the PRD defaults, shown to the Admin and to plugins through ctx.retention()', async () => {
    const res = await b.client.get('/api/v1/admin/retention');
    expect(res.status, res.text).toBe(200);
    expect(res.body.policy).toEqual({ raw_events_days: 90, aggregates_days: 730, user_activity_days: 365 });
    expect(res.body.custom).toBe(false);
    expect(res.body.horizons.raw_events_from).toBe(iso(TODAY - 90 * DAY_MS));
    expect(res.body.storage).toEqual({ mode: 'embedded', tiers: null });
    const seen = await b.client.get('/api/v1/lifecycle-probe/horizons');
    expect(seen.body).toMatchObject({ policy: res.body.policy, raw_events_from: iso(TODAY - 90 * DAY_MS), aggregates_from: iso(TODAY - 730 * DAY_MS), user_activity_from: iso(TODAY - 365 * DAY_MS) });
  });

  it('validates a policy: rollups must outlive raw events, periods are whole days ≥ 1, Admin only', async () => {
    const shorter = await b.client.put('/api/v1/admin/retention', { raw_events_days: 100, aggregates_days: 50 });
    expect(shorter.status).toBe(422);
    expect(shorter.body.error.code).toBe('invalid_retention');
    expect(shorter.body.error.details[0].field).toBe('aggregates_days');
    const users = await b.client.put('/api/v1/admin/retention', { user_activity_days: 30 });
    expect(users.status).toBe(422);
    expect(users.body.error.details[0].field).toBe('user_activity_days');
    for (const body of [{}, { raw_events_days: 0 }, { raw_events_days: 1.5 }, { raw_events_days: '30' + 'x' }, { keep: 3 }]) {
      const r = await b.client.put('/api/v1/admin/retention', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    const dev = await b.org.addUser({ email: 'dev@lifecycle.local', role: 'Developer' });
    expect((await dev.get('/api/v1/admin/retention')).status).toBe(403);
    expect((await dev.put('/api/v1/admin/retention', { raw_events_days: 10 })).status).toBe(403);
    expect((await dev.post('/api/v1/admin/retention/run', {})).status).toBe(403);
    // nothing of the refused requests was kept
    expect((await b.client.get('/api/v1/admin/retention')).body.policy.raw_events_days).toBe(90);
  });

  it("expires raw events past the org's horizon, and only that org's; rollup answers stay the same", async () => {
    const sixMonths: [number, number] = [TODAY - 180 * DAY_MS, NOW];
    const beforeA = await totals(b.client, ...sixMonths);
    expect(beforeA).toEqual(totalsRef(sentA, ...sixMonths));
    const beforeB = await totals(other.client, ...sixMonths);

    const put = await b.client.put('/api/v1/admin/retention', { raw_events_days: 60, user_activity_days: 120 });
    expect(put.status, put.text).toBe(200);
    expect(put.body.policy).toEqual({ raw_events_days: 60, aggregates_days: 730, user_activity_days: 120 });
    const audit = await b.kernel.services.knex.withSchema(b.org.schema).table('audit_log').where({ action: 'retention.update' });
    expect(audit).toHaveLength(1);
    expect(typeof audit[0].after === 'string' ? JSON.parse(audit[0].after) : audit[0].after).toEqual(put.body.policy);

    const horizon = TODAY - 60 * DAY_MS;
    const run = await b.client.post('/api/v1/admin/retention/run', {});
    expect(run.status, run.text).toBe(200);
    expect(run.body.raw_events_deleted).toBe(sentA.filter((e) => ts(e) < horizon).length);
    expect(run.body.raw_events_waiting_for_fold).toBe(0);
    expect(await rawCount(b.org.id, horizon)).toBe(0);
    expect(await rawCount(b.org.id)).toBe(sentA.filter((e) => ts(e) >= horizon).length);
    // the other org keeps its 90 days and everything of it
    expect(await rawCount(other.id)).toBe(sentB.length);

    // the six-month question: the same answer, now from rollups before the horizon
    expect(await totals(b.client, ...sixMonths)).toEqual(beforeA);
    expect(await totals(other.client, ...sixMonths)).toEqual(beforeB);
    expect((await b.client.get('/api/v1/admin/retention')).body.raw_expired_before).toBe(iso(horizon));
  });

  it('answers ranges that start before the raw horizon from rollups, edges widened to whole minutes', async () => {
    const horizon = HORIZON_A;
    expect(RANGES.filter(([from]) => from < horizon).length).toBeGreaterThan(6);
    let widened = 0;
    for (const [from, to] of RANGES) {
      const wideFrom = from < horizon ? Math.floor(from / MINUTE_MS) * MINUTE_MS : from;
      const wideTo = to < horizon ? Math.ceil(to / MINUTE_MS) * MINUTE_MS : to;
      const expected = totalsRef(sentA, wideFrom, wideTo);
      if (JSON.stringify(expected) !== JSON.stringify(totalsRef(sentA, from, to))) widened++;
      expect(await totals(b.client, from, to), `[${iso(from)}, ${iso(to)})`).toEqual(expected);
    }
    // the edge events make the widening visible: the check above tells the two readings apart
    expect(widened).toBeGreaterThan(3);
  });

  it('expires user-activity rollups at their own horizon and aggregates at theirs', async () => {
    const userHorizon = TODAY - 120 * DAY_MS;
    // the run above already applied user_activity_days = 120
    expect(await activeUsers(b.client, TODAY - SPAN_DAYS * DAY_MS, userHorizon)).toBe(0);
    expect(await activeUsers(b.client, userHorizon, TODAY)).toBe(usersRef(sentA, userHorizon, TODAY));
    expect(await activeUsers(other.client, TODAY - SPAN_DAYS * DAY_MS, TODAY)).toBe(usersRef(sentB, TODAY - SPAN_DAYS * DAY_MS, TODAY));
    // the aggregate rollups still hold the whole span
    expect(await totals(b.client, TODAY - SPAN_DAYS * DAY_MS, userHorizon)).toEqual(totalsRef(sentA, TODAY - SPAN_DAYS * DAY_MS, userHorizon));

    expect((await b.client.put('/api/v1/admin/retention', { aggregates_days: 200 })).status).toBe(200);
    const run = await b.client.post('/api/v1/admin/retention/run', {});
    expect(run.status, run.text).toBe(200);
    expect(Object.keys(run.body.rollup_rows_deleted).sort()).toEqual(['lc_calls_1d', 'lc_calls_1h', 'lc_calls_1m']);
    const aggHorizon = TODAY - 200 * DAY_MS;
    expect(await totals(b.client, TODAY - SPAN_DAYS * DAY_MS, aggHorizon)).toEqual([]);
    expect(await totals(b.client, aggHorizon, NOW)).toEqual(totalsRef(sentA, aggHorizon, NOW));
    expect(await totals(other.client, TODAY - SPAN_DAYS * DAY_MS, aggHorizon)).toEqual(totalsRef(sentB, TODAY - SPAN_DAYS * DAY_MS, aggHorizon));
  });

  it('keeps a late event older than the horizon until the rollups have folded it', async () => {
    const horizon = TODAY - 60 * DAY_MS;
    const late = events(77, 1, [horizon - 10 * DAY_MS, horizon - 9 * DAY_MS]).map((e) => ({ ...e, event_type: 'agent_invocation' }));
    await b.org.insertEvents(late);
    const first = await b.client.post('/api/v1/admin/retention/run', {});
    expect(first.body.raw_events_deleted).toBe(0);
    expect(first.body.raw_events_waiting_for_fold).toBe(1);
    // not folded yet: the planner reads it raw (the companion of the rollup pieces)
    const all = [...sentA, ...late];
    const range: [number, number] = [TODAY - 90 * DAY_MS, NOW];
    expect(await totals(b.client, ...range)).toEqual(totalsRef(all, ...range));
    await b.foldRollups();
    const second = await b.client.post('/api/v1/admin/retention/run', {});
    expect(second.body.raw_events_deleted).toBe(1);
    expect(await totals(b.client, ...range)).toEqual(totalsRef(all, ...range));
    sentA.push(...late);
  });

  it('drops whole monthly partitions every org has expired, and the answers stay', async () => {
    const s = b.kernel.services;
    const sixMonths: [number, number] = [TODAY - 180 * DAY_MS, NOW];
    const before = await totals(other.client, ...sixMonths);
    // every org on the defaults' 90 days except A (60): partitions ending before 90 days ago go
    const r = await s.retention.expireAll();
    const cut = TODAY - 90 * DAY_MS;
    const months = new Set(
      [...sentA, ...sentB]
        .filter((e) => {
          const d = new Date(ts(e));
          return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) <= cut;
        })
        .map((e) => e.timestamp.slice(0, 7).replace('-', '')),
    );
    expect(new Set(r.partitions_dropped)).toEqual(months);
    expect(months.size).toBeGreaterThan(0);
    expect(await rawCount(other.id, cut)).toBe(0);
    expect(await rawCount(other.id)).toBe(sentB.filter((e) => ts(e) >= cut).length);
    expect(await totals(other.client, ...sixMonths)).toEqual(before);
    expect(before).toEqual(totalsRef(sentB, ...sixMonths));
  });
});
