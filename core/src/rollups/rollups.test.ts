/**
 * Declared rollups against a real kernel (PGlite + chDB): a probe plugin declares a cascade
 * (minute root → hour → day, and a narrower day table from the root) and answers totals
 * through the SDK planner. Every expected figure is counted in TypeScript from the random
 * events the test sent, never with the plugin's SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  badRequest,
  cascadeOrder,
  defineRollup,
  definePlugin,
  foldPlan,
  freshRowsSql,
  planSegments,
  rollupDdl,
  type RollupLevel,
} from '@orrery/plugin-sdk';
import { rng } from '@orrery/backend-test-utils/random';

const CALLS = defineRollup({
  name: 'calls',
  source: 'events',
  filter: "event_type = 'agent_invocation'",
  dimensions: ['agent_name', 'status', 'model_used'],
  leading: ['agent_name'],
  measures: [
    { name: 'n', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' },
    { name: 'tokens', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'sum(input_tokens)' },
    { name: 'users', type: 'AggregateFunction(uniqExact, String)', expr: 'uniqExactState(user_id)' },
  ],
  // listed children first: the declaration puts them in dependency order
  tables: [
    { table: 'probe_calls_1d', grain: 'day', dims: ['agent_name'], from: 'probe_calls_1h' },
    { table: 'probe_calls_1h', grain: 'hour', dims: ['agent_name', 'status'], from: 'probe_calls_1m' },
    { table: 'probe_calls_1m', grain: 'minute', dims: ['agent_name', 'status', 'model_used'] },
    { table: 'probe_models_1d', grain: 'day', dims: ['model_used'], from: 'probe_calls_1m' },
  ],
});

interface Level extends RollupLevel {
  table: string;
}
const LEVELS: Level[] = [
  { table: 'probe_calls_1d', stepMs: DAY_MS },
  { table: 'probe_calls_1h', stepMs: HOUR_MS },
  { table: 'probe_calls_1m', stepMs: MINUTE_MS },
];

const probe = definePlugin({
  id: 'rollup-probe',
  version: '1.0.0',
  sdk: '^1.0.0 || ^2.0.0',
  title: 'Rollup probe',
  description: 'totals per agent through declared rollups',
  routePrefix: 'rollup-probe',
  permissions: { 'rollup-probe.read': ['Admin', 'Manager', 'Developer'] },
  migrations: { clickhouse: [{ name: '0001_calls', statements: rollupDdl(CALLS) }] },
  rollups: [CALLS],
  register(env) {
    env.route({
      method: 'GET',
      path: '/totals',
      permission: 'rollup-probe.read',
      summary: 'totals per agent over [from, to)',
      schema: {
        querystring: {
          type: 'object',
          required: ['from', 'to'],
          properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, source: { type: 'string', enum: ['rollups', 'raw'] } },
        },
        response: { 200: { type: 'object', properties: { watermark: { type: 'string' }, agents: { type: 'array', items: { type: 'object', additionalProperties: true } } } } },
      },
      async handler(req, ctx) {
        const from = new Date(req.query.from), to = new Date(req.query.to);
        if (!(to > from)) throw badRequest('to must be after from', { field: 'to' });
        return ctx.rollups.read('calls', async (watermark) => {
          const params: Record<string, unknown> = { w: watermark.getTime() };
          const arms = planSegments({ from, to }, req.query.source === 'raw' ? [] : LEVELS, { watermark }).map((s, i) => {
            params[`f${i}`] = s.from.getTime();
            params[`t${i}`] = s.to.getTime();
            return s.level
              ? `SELECT agent_name, n, tokens, users FROM {db}.${s.level.table} WHERE org_id = {org_id:String}
                   AND bucket >= toDateTime(intDiv({f${i}:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({t${i}:Int64}, 1000), 'UTC')`
              : `SELECT agent_name, count() AS n, sum(input_tokens) AS tokens, uniqExactState(user_id) AS users FROM {db}.events
                 WHERE org_id = {org_id:String} AND event_type = 'agent_invocation'
                   AND timestamp >= fromUnixTimestamp64Milli({f${i}:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({t${i}:Int64}, 'UTC')
                   ${s.insertedAfter ? `AND ${freshRowsSql('w')}` : ''}
                 GROUP BY agent_name`;
          });
          const rows = await ctx.analytics.query<{ agent_name: string; n: string; tokens: string; users: string }>(
            `SELECT agent_name, sum(n) AS n, sum(tokens) AS tokens, uniqExactMerge(users) AS users FROM (${arms.join(' UNION ALL ')})
             GROUP BY agent_name ORDER BY agent_name SETTINGS prefer_column_name_to_alias = 1`,
            params,
          );
          return { watermark: watermark.toISOString(), agents: rows.map((r) => ({ agent_name: r.agent_name, n: Number(r.n), tokens: Number(r.tokens), users: Number(r.users) })) };
        });
      },
    });
  },
});

// ---- random events and the brute-force reference ----------------------------------------

const START = Date.UTC(2026, 2, 1);
const SPAN = 4 * DAY_MS;
const AGENTS = ['planner', 'coder', 'reviewer', 'triage'];
const MODELS = ['m-small', 'm-large', 'm-mid'];

type Ev = {
  event_id: string;
  event_type: string;
  timestamp: string;
  user_id: string;
  agent_name: string;
  status: string;
  model_used: string;
  input_tokens: number;
};

let serial = 0;
function events(seed: number, count: number, opts: { span?: [number, number] } = {}): Ev[] {
  const r = rng(seed);
  const [lo, hi] = opts.span ?? [START, START + SPAN];
  return Array.from({ length: count }, () => {
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    return {
      event_id: `e${seed}-${serial++}`,
      // a few other event types the rollup's filter must leave out
      event_type: r() < 0.9 ? 'agent_invocation' : 'tool_call',
      timestamp: new Date(lo + Math.floor(r() * (hi - lo))).toISOString(),
      user_id: `u${Math.floor(r() * 12)}`,
      agent_name: pick(AGENTS),
      status: r() < 0.8 ? 'success' : 'failure',
      model_used: pick(MODELS),
      input_tokens: Math.floor(r() * 5000),
    };
  });
}

function reference(evs: readonly Ev[], from: number, to: number) {
  const by = new Map<string, { n: number; tokens: number; users: Set<string> }>();
  for (const e of evs) {
    const t = Date.parse(e.timestamp);
    if (e.event_type !== 'agent_invocation' || t < from || t >= to) continue;
    const g = by.get(e.agent_name) ?? { n: 0, tokens: 0, users: new Set() };
    g.n++;
    g.tokens += e.input_tokens;
    g.users.add(e.user_id);
    by.set(e.agent_name, g);
  }
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([agent_name, g]) => ({ agent_name, n: g.n, tokens: g.tokens, users: g.users.size }));
}

/** random ranges with edges at odd seconds and milliseconds, so raw edges, minutes, hours and days all answer */
function ranges(seed: number, count: number): Array<[number, number]> {
  const r = rng(seed);
  const out: Array<[number, number]> = [[START - DAY_MS, START + SPAN + DAY_MS]];
  for (let i = 0; i < count; i++) {
    const a = START - HOUR_MS + Math.floor(r() * (SPAN + 2 * HOUR_MS));
    const len = Math.floor(r() ** 2 * SPAN) + 1;
    out.push([a, a + len]);
  }
  return out;
}

describe('declared rollups', () => {
  let b: TestBackend;
  let other: TestOrg;
  const sentA: Ev[] = [];
  const sentOther: Ev[] = [];

  const totals = async (client: TestBackend['client'], from: number, to: number, source?: 'raw') => {
    const res = await client.get('/api/v1/rollup-probe/totals', { from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...(source ? { source } : {}) });
    expect(res.status, res.text).toBe(200);
    return res.body.agents;
  };
  const expectExact = async (seed: number, label: string) => {
    for (const [from, to] of ranges(seed, 12)) {
      const expected = reference(sentA, from, to);
      expect(await totals(b.client, from, to), `${label} [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`).toEqual(expected);
    }
    // the other org, with the same agent names, sees its own only
    expect(await totals(other.client, START - DAY_MS, START + SPAN + DAY_MS)).toEqual(reference(sentOther, START - DAY_MS, START + SPAN + DAY_MS));
  };
  const rollupRows = async (table: string, orgId: string) => {
    const rs = await b.kernel.services.analytics.client.query({
      query: `SELECT count() AS n FROM ${b.kernel.services.analytics.database}.${table} WHERE org_id = {o:String}`,
      query_params: { o: orgId },
      format: 'JSONEachRow',
    });
    return Number(((await rs.json()) as Array<{ n: string }>)[0]!.n);
  };

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [probe] });
    other = await b.createOrg('other-co');
  });
  afterAll(() => b?.close());

  it('puts tables in dependency order and derives each from its parent', () => {
    expect(CALLS.tables.map((t) => t.table)).toEqual(['probe_calls_1m', 'probe_calls_1h', 'probe_models_1d', 'probe_calls_1d']);
    const plan = foldPlan(CALLS, '1');
    // raw events are read once, into the root's scratch table; every other table reads its parent's
    expect(plan.compute.filter((c) => /FROM \{db\}\.events/.test(c.sql)).map((c) => c.table)).toEqual(['probe_calls_1m__delta']);
    expect(plan.compute.find((c) => c.table === 'probe_calls_1h__delta')!.sql).toMatch(/FROM \{db\}\.probe_calls_1m__delta/);
    expect(plan.publish.find((p) => p.table === 'probe_calls_1d')!.sql).toMatch(/FROM \{db\}\.probe_calls_1h__delta/);
    expect(plan.publish.find((p) => p.table === 'probe_models_1d')!.sql).toMatch(/FROM \{db\}\.probe_calls_1m__delta/);
    expect(plan.publish.every((p) => !/FROM \{db\}\.events/.test(p.sql))).toBe(true);
    expect(() => cascadeOrder([{ table: 'a', grain: 'day', dims: [], from: 'b' }, { table: 'b', grain: 'day', dims: [], from: 'a' }])).toThrow(/cycle/);
    expect(() => defineRollup({ ...CALLS, tables: [...CALLS.tables, { table: 'x_1m', grain: 'minute', dims: ['agent_name'], from: 'probe_calls_1h' }] })).toThrow(/coarser/);
    expect(() => defineRollup({ ...CALLS, tables: [...CALLS.tables, { table: 'x_1d', grain: 'day', dims: ['model_used'], from: 'probe_calls_1h' }] })).toThrow(/does not hold/);
  });

  it('answers exactly before the first fold (raw events only)', async () => {
    sentA.push(...events(1, 1500));
    sentOther.push(...events(2, 400));
    await b.org.insertEvents(sentA);
    await other.insertEvents(sentOther);
    expect(await b.kernel.services.rollups.watermark('rollup-probe', 'calls')).toBe(0);
    await expectExact(10, 'unfolded');
  });

  it('folds once and incrementally: a second fold with nothing new folds nothing', async () => {
    const first = await b.foldRollups();
    const invocations = [...sentA, ...sentOther].filter((e) => e.event_type === 'agent_invocation').length;
    expect(first.reduce((n, r) => n + r.rows, 0)).toBe(invocations);
    const again = await b.foldRollups();
    expect(again.reduce((n, r) => n + r.rows, 0)).toBe(0);
    expect(again[0]!.to_ms).toBeGreaterThanOrEqual(first[0]!.to_ms);
    // the cascade filled every table; the day tables hold at most a row per (agent, day) or (model, day)
    expect(await rollupRows('probe_calls_1m', b.org.id)).toBeGreaterThan(0);
    const days = 5; // START .. START + 4 days, whole UTC days
    expect(await rollupRows('probe_calls_1d', b.org.id)).toBeLessThanOrEqual(AGENTS.length * days);
    expect(await rollupRows('probe_models_1d', b.org.id)).toBeLessThanOrEqual(MODELS.length * days);
    await expectExact(11, 'folded');
    // and rollups equal raw events for the same question
    const raw = await totals(b.client, START, START + SPAN, 'raw');
    expect(await totals(b.client, START, START + SPAN)).toEqual(raw);
  });

  it('stays exact with late events of old timestamps inserted after the watermark moved, before and after the next fold', async () => {
    const late = events(3, 600, { span: [START, START + DAY_MS] }); // all on the first day, long folded
    sentA.push(...late);
    await b.org.insertEvents(late);
    await expectExact(12, 'late, unfolded');
    const r = await b.foldRollups();
    expect(r.reduce((n, x) => n + x.rows, 0)).toBe(late.filter((e) => e.event_type === 'agent_invocation').length);
    await expectExact(13, 'late, folded');
  });

  it('adds nothing twice when a fold is redone after a crash between publishing and moving the watermark', async () => {
    const more = events(4, 300);
    sentA.push(...more);
    await b.org.insertEvents(more);
    const knex = b.kernel.services.knex;
    const before = await knex.withSchema('public').table('rollup_watermarks').where({ plugin_id: 'rollup-probe', rollup: 'calls' }).first();
    const [done] = await b.foldRollups();
    expect(done!.rows).toBe(more.filter((e) => e.event_type === 'agent_invocation').length);
    // as if the process died after the tables got their rows but before the watermark was written
    await knex.withSchema('public').table('rollup_watermarks').where({ plugin_id: 'rollup-probe', rollup: 'calls' })
      .update({ watermark_ms: before.watermark_ms, pending_to_ms: done!.to_ms });
    const svc = b.kernel.services.rollups as any;
    svc.marks.set('rollup-probe/calls', Number(before.watermark_ms));
    const [redo] = await b.foldRollups();
    expect([redo!.from_ms, redo!.to_ms]).toEqual([Number(before.watermark_ms), done!.to_ms]);
    await expectExact(14, 'redone fold');
  });

  /**
   * A kill inside a publish: the engine writes each table's part and the record of its token one
   * after the other, so the crash can leave parts without their records (a redo with the same
   * token would count the window twice) or records without their parts (a redo with the same
   * token would be dropped: the window lost). Both are set up by hand on the real engine, with
   * the tables' merges stopped so that the fold's parts stay apart.
   */
  describe('a fold redone after a kill inside its publish', () => {
    const ch = () => b.kernel.services.analytics;
    const stored = () => CALLS.tables.map((t) => t.table);
    const parts = async (table: string) => {
      const rs = await ch().client.query({ query: `SELECT name FROM system.parts WHERE database = {db:String} AND table = {t:String} AND active`, query_params: { db: ch().database, t: table }, format: 'JSONEachRow' });
      return new Set(((await rs.json()) as Array<{ name: string }>).map((r) => r.name));
    };
    /** folds new events, then sets the ledger back as the crash left it; `damage` runs on the fold's own parts */
    const crashedFold = async (seed: number, damage: (table: string, newParts: string[]) => Promise<void>) => {
      const more = events(seed, 300);
      sentA.push(...more);
      await b.org.insertEvents(more);
      const knex = b.kernel.services.knex;
      const before = await knex.withSchema('public').table('rollup_watermarks').where({ plugin_id: 'rollup-probe', rollup: 'calls' }).first();
      let done: Awaited<ReturnType<typeof b.foldRollups>>[number] | undefined;
      for (const t of stored()) await ch().client.command({ query: `SYSTEM STOP MERGES ${ch().database}.${t}` });
      try {
        const old = new Map(await Promise.all(stored().map(async (t) => [t, await parts(t)] as const)));
        [done] = await b.foldRollups();
        expect(done!.rows).toBe(more.filter((e) => e.event_type === 'agent_invocation').length);
        const fresh = new Map(await Promise.all(stored().map(async (t) => [t, [...(await parts(t))].filter((p) => !old.get(t)!.has(p))] as const)));
        // merges (and so mutations, deletes included) run again before the damage and the redo
        for (const t of stored()) await ch().client.command({ query: `SYSTEM START MERGES ${ch().database}.${t}` });
        for (const t of stored()) await damage(t, fresh.get(t)!);
      } finally {
        for (const t of stored()) await ch().client.command({ query: `SYSTEM START MERGES ${ch().database}.${t}` });
      }
      {
        await knex.withSchema('public').table('rollup_watermarks').where({ plugin_id: 'rollup-probe', rollup: 'calls' })
          .update({ watermark_ms: before.watermark_ms, pending_to_ms: done!.to_ms });
        (b.kernel.services.rollups as any).marks.set('rollup-probe/calls', Number(before.watermark_ms));
        const [redo] = await b.foldRollups();
        expect([redo!.from_ms, redo!.to_ms]).toEqual([Number(before.watermark_ms), done!.to_ms]);
      }
    };

    it('parts kept, their token records lost: the window is counted once', async () => {
      await crashedFold(21, async (table, newParts) => {
        expect(newParts.length, table).toBeGreaterThan(0);
        // a window of 0 forgets every recorded token; the table's own window comes back after
        await ch().client.command({ query: `ALTER TABLE ${ch().database}.${table} MODIFY SETTING non_replicated_deduplication_window = 0` });
        await ch().client.command({ query: `ALTER TABLE ${ch().database}.${table} MODIFY SETTING non_replicated_deduplication_window = 1000` });
      });
      await expectExact(16, 'redone after parts without records');
    });

    it('token records kept, their parts lost: the window is not dropped', async () => {
      await crashedFold(22, async (table, newParts) => {
        expect(newParts.length, table).toBeGreaterThan(0);
        await ch().client.command({ query: `DELETE FROM ${ch().database}.${table} WHERE _part IN (${newParts.map((p) => `'${p}'`).join(', ')})` });
      });
      await expectExact(17, 'redone after records without parts');
    });
  });

  it('purges a deleted user from every rollup (user sets included), in this org only', async () => {
    await b.foldRollups();
    const victim = 'u3';
    expect(sentA.some((e) => e.user_id === victim)).toBe(true);
    const res = await b.client.delete(`/api/v1/events/users/${victim}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.deleted_events).toBe(sentA.filter((e) => e.user_id === victim).length);
    sentA.splice(0, sentA.length, ...sentA.filter((e) => e.user_id !== victim));
    await expectExact(15, 'after delete');
    // the day tables no longer count the user: user sets rebuilt, not just the counts
    const rs = await b.kernel.services.analytics.client.query({
      query: `SELECT uniqExactMerge(users) AS u FROM ${b.kernel.services.analytics.database}.probe_models_1d WHERE org_id = {o:String}`,
      query_params: { o: b.org.id },
      format: 'JSONEachRow',
    });
    expect(Number(((await rs.json()) as Array<{ u: string }>)[0]!.u)).toBe(new Set(sentA.filter((e) => e.event_type === 'agent_invocation').map((e) => e.user_id)).size);
  });

  it('rebuilds a plugin’s rollups for a range on an Admin’s request, with progress, and checks its input', async () => {
    const from = new Date(START + 5 * HOUR_MS).toISOString(), to = new Date(START + 2 * DAY_MS + 1).toISOString();
    const res = await b.client.post('/api/v1/admin/materialized-views/refresh', { plugin: 'rollup-probe', from, to });
    expect(res.status, res.text).toBe(202);
    expect(res.body.progress.total).toBe(3); // three whole UTC days cover the range
    let task = res.body;
    for (let i = 0; i < 100 && task.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      task = (await b.client.get(`/api/v1/admin/materialized-views/refresh/${res.body.id}`)).body;
    }
    expect(task.status).toBe('done');
    expect(task.progress).toEqual({ done: 3, total: 3 });
    expect(task.rows).toBe(sentA.filter((e) => e.event_type === 'agent_invocation' && Date.parse(e.timestamp) < START + 3 * DAY_MS).length);
    await expectExact(16, 'after refresh');

    const bad = await b.client.post('/api/v1/admin/materialized-views/refresh', { plugin: 'rollup-probe', from: to, to: from });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('to');
    const unknown = await b.client.post('/api/v1/admin/materialized-views/refresh', { plugin: 'nope', from, to });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.details.field).toBe('plugin');
    const missing = await b.client.post('/api/v1/admin/materialized-views/refresh', { plugin: 'rollup-probe', from });
    expect(missing.status).toBe(400);
    const dev = await b.org.addUser({ email: 'dev@test-org.local', role: 'Developer' });
    expect((await dev.post('/api/v1/admin/materialized-views/refresh', { plugin: 'rollup-probe', from, to })).status).toBe(403);
    // another org's Admin cannot read this org's task
    expect((await other.client.get(`/api/v1/admin/materialized-views/refresh/${res.body.id}`)).status).toBe(404);

    const status = await b.client.get('/api/v1/admin/materialized-views');
    expect(status.status).toBe(200);
    expect(status.body.rollups[0]).toMatchObject({ plugin: 'rollup-probe', rollup: 'calls' });
    expect(status.body.rollups[0].tables.map((t: any) => t.from)).toEqual([null, 'probe_calls_1m', 'probe_calls_1m', 'probe_calls_1h']);
  });
});
