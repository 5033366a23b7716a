/**
 * Derived per-key state over a declared rollup (plugin-sdk rollupsDerived.ts) against a real
 * kernel: a probe rollup keeps each user's event times per agent and hour (and day), and a
 * derived table holds one row per event of the user — its time, the user's previous and next
 * event and their count — re-derived by the kernel for the users a fold touches. After every
 * step the table is compared with the same rows computed in TypeScript from the events the
 * test sent (brute force over all of a user's events), never with the kernel's SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import { DAY_MS, defineRollup, definePlugin, foldPlan, rollupDdl } from '@orrery/plugin-sdk';
import { rng } from '@orrery/backend-test-utils/random';

const TIMES = defineRollup({
  name: 'times',
  source: 'events',
  filter: "event_type = 'agent_invocation' AND user_id != ''",
  dimensions: ['user_id', 'agent_name'],
  highCardinality: ['user_id'],
  measures: [{ name: 'times', type: 'SimpleAggregateFunction(groupArrayArray, Array(Int64))', expr: 'groupArray(toUnixTimestamp64Milli(timestamp))' }],
  tables: [
    { table: 'probe_times_1h', grain: 'hour', dims: ['user_id', 'agent_name'] },
    { table: 'probe_times_1d', grain: 'day', dims: ['user_id', 'agent_name'], from: 'probe_times_1h' },
  ],
  derived: [
    {
      table: 'probe_user_events',
      from: 'probe_times_1d',
      // a user's rows over every agent and day are derived together
      keys: ['user_id'],
      columns: [
        { name: 't', type: 'Int64' },
        { name: 'prev', type: 'Int64' },
        { name: 'next', type: 'Int64' },
        { name: 'n', type: 'UInt32' },
      ],
      orderBy: ['t', 'user_id'],
      timeColumn: 't',
      select: `SELECT org_id, user_id, x.1 AS t, x.2 AS prev, x.3 AS next, toUInt32(length(ts)) AS n FROM (
          SELECT org_id, user_id, arraySort(groupArrayArray(CAST(times, 'Array(Int64)'))) AS ts FROM {rows} GROUP BY org_id, user_id
        ) ARRAY JOIN arrayMap(i -> (ts[i], if(i > 1, ts[i - 1], toInt64(-1)), if(i < length(ts), ts[i + 1], toInt64(-1))), arrayEnumerate(ts)) AS x`,
    },
  ],
});

const probe = definePlugin({
  id: 'derived-probe',
  version: '1.0.0',
  sdk: '^1.0.0 || ^2.0.0',
  title: 'Derived probe',
  description: 'per-user derived rows over a rollup',
  routePrefix: 'derived-probe',
  permissions: {},
  migrations: { clickhouse: [{ name: '0001_times', statements: rollupDdl(TIMES) }] },
  rollups: [TIMES],
  register() {},
});

const START = Date.UTC(2026, 2, 1);
const SPAN = 4 * DAY_MS;

type Ev = { event_id: string; event_type: string; timestamp: string; user_id: string; agent_name: string };
type Row = { user_id: string; t: number; prev: number; next: number; n: number };

let serial = 0;
function events(seed: number, count: number, users: readonly string[], span: [number, number] = [START, START + SPAN]): Ev[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => ({
    event_id: `d${seed}-${serial++}`,
    event_type: r() < 0.9 ? 'agent_invocation' : 'tool_call',
    timestamp: new Date(span[0] + Math.floor(r() * (span[1] - span[0]))).toISOString(),
    user_id: users[Math.floor(r() * users.length)]!,
    agent_name: r() < 0.5 ? 'planner' : 'coder',
  }));
}

/** every user's rows re-derived from all of their events, whatever order they came in */
function reference(evs: readonly Ev[]): Row[] {
  const by = new Map<string, number[]>();
  for (const e of evs) if (e.event_type === 'agent_invocation') by.set(e.user_id, [...(by.get(e.user_id) ?? []), Date.parse(e.timestamp)]);
  const out: Row[] = [];
  for (const [user_id, times] of by) {
    const ts = times.sort((a, b) => a - b);
    ts.forEach((t, i) => out.push({ user_id, t, prev: i > 0 ? ts[i - 1]! : -1, next: i < ts.length - 1 ? ts[i + 1]! : -1, n: ts.length }));
  }
  return sortRows(out);
}
const sortRows = (rows: Row[]) => rows.sort((a, b) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : a.t - b.t || a.prev - b.prev));

const USERS = Array.from({ length: 15 }, (_, i) => `u${i}`);

describe('derived per-key state over a rollup', () => {
  let b: TestBackend;
  let other: TestOrg;
  const sentA: Ev[] = [];
  const sentOther: Ev[] = [];

  const query = async <T,>(sql: string, params: Record<string, unknown> = {}) => {
    const { client, database } = b.kernel.services.analytics;
    const rs = await client.query({ query: sql.replaceAll('{db}', database), query_params: params, format: 'JSONEachRow' });
    return (await rs.json()) as T[];
  };
  const derivedRows = async (orgId: string) =>
    sortRows(
      (await query<Record<string, string>>(`SELECT user_id, t, prev, next, n FROM {db}.probe_user_events WHERE org_id = {o:String}`, { o: orgId })).map((r) => ({
        user_id: r.user_id!,
        t: Number(r.t),
        prev: Number(r.prev),
        next: Number(r.next),
        n: Number(r.n),
      })),
    );
  const expectDerived = async (label: string, a: readonly Ev[] = sentA, o: readonly Ev[] = sentOther) => {
    expect(await derivedRows(b.org.id), label).toEqual(reference(a));
    expect(await derivedRows(other.id), `${label}, other org`).toEqual(reference(o));
  };

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [probe] });
    other = await b.createOrg('other-co');
  });
  afterAll(() => b?.close());

  it('plans the key set before the publish and the replacement inside it', () => {
    const plan = foldPlan(TIMES, '1');
    expect(plan.derive).toHaveLength(1);
    expect(plan.derive[0]!.keys).toMatch(/INSERT INTO \{db\}\.probe_user_events__keys/);
    expect(plan.derive[0]!.delete).toMatch(/^DELETE FROM \{db\}\.probe_user_events\{cluster\} WHERE \(org_id, user_id\) IN/);
    expect(plan.derive[0]!.insert).toMatch(/FROM \{db\}\.probe_times_1d WHERE \(org_id, user_id\) IN/);
    expect(plan.clear).toContain('TRUNCATE TABLE IF EXISTS {db}.probe_user_events__keys');
    expect(() => defineRollup({ ...TIMES, derived: [{ ...TIMES.derived![0]!, keys: ['model_used'] }] })).toThrow(/keys among/);
    expect(() => defineRollup({ ...TIMES, derived: [{ ...TIMES.derived![0]!, from: 'nope' }] })).toThrow(/not a stored table/);
    expect(() => defineRollup({ ...TIMES, derived: [{ ...TIMES.derived![0]!, select: 'SELECT 1' }] })).toThrow(/\{rows\}/);
  });

  it('re-derives exactly the touched keys over random deltas, late events of derived keys included', async () => {
    const r = rng(77);
    for (let round = 0; round < 6; round++) {
      // a few users per delta, some already derived, with times anywhere in the span (late: earlier than their folded ones)
      const users = USERS.filter(() => r() < 0.3);
      const span: [number, number] = round % 2 ? [START, START + DAY_MS] : [START, START + SPAN];
      const delta = events(100 + round, 20 + Math.floor(r() * 80), users.length ? users : ['u0'], span);
      const otherDelta = events(200 + round, 15, USERS.slice(0, 4), span);
      const before = [...sentA];
      sentA.push(...delta);
      sentOther.push(...otherDelta);
      await b.org.insertEvents(delta);
      await other.insertEvents(otherDelta);
      // not folded yet: the derived rows are those of the watermark, the delta not in them
      await expectDerived(`round ${round}, before the fold`, before, sentOther.slice(0, sentOther.length - otherDelta.length));
      await b.foldRollups();
      await expectDerived(`round ${round}, folded`);
    }
  });

  it('lists the derived table as complete to readers, and derives a table added to a rollup with rows whole', async () => {
    const svc = b.kernel.services.rollups as any;
    const seen = await svc.reader('derived-probe').read('times', async (_w: Date, state: { derived: ReadonlySet<string> }) => [...state.derived]);
    expect(seen).toEqual(['probe_user_events']);
    // as if the table had just been declared over the rollup's existing rows
    await b.kernel.services.knex.withSchema('public').table('rollup_derived').where({ plugin_id: 'derived-probe' }).delete();
    svc.derivedReady.clear();
    await query(`TRUNCATE TABLE {db}.probe_user_events`);
    expect(await svc.reader('derived-probe').read('times', async (_w: Date, state: { derived: ReadonlySet<string> }) => state.derived.size)).toBe(0);
    await b.foldRollups();
    await expectDerived('derived whole');
  });

  it('re-derives the keys of a rebuilt range, also a key left with no event there', async () => {
    const solo = events(300, 12, ['solo'], [START + DAY_MS, START + 2 * DAY_MS]);
    sentA.push(...solo);
    await b.org.insertEvents(solo);
    await b.foldRollups();
    await expectDerived('solo folded');
    // a correction of raw events: the solo user's events and one other user's go away on that day
    const { client, database } = b.kernel.services.analytics;
    const gone = (e: Ev) => (e.user_id === 'solo' || e.user_id === 'u1') && Date.parse(e.timestamp) >= START + DAY_MS && Date.parse(e.timestamp) < START + 2 * DAY_MS;
    await client.command({
      query: `DELETE FROM ${database}.events WHERE org_id = {o:String} AND user_id IN ('solo', 'u1') AND timestamp >= fromUnixTimestamp64Milli({a:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({b:Int64}, 'UTC')`,
      query_params: { o: b.org.id, a: START + DAY_MS, b: START + 2 * DAY_MS },
    });
    sentA.splice(0, sentA.length, ...sentA.filter((e) => !gone(e)));
    const res = await b.client.post('/api/v1/admin/materialized-views/refresh', { plugin: 'derived-probe', from: new Date(START + DAY_MS).toISOString(), to: new Date(START + 2 * DAY_MS).toISOString() });
    expect(res.status, res.text).toBe(202);
    let task = res.body;
    for (let i = 0; i < 100 && task.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      task = (await b.client.get(`/api/v1/admin/materialized-views/refresh/${res.body.id}`)).body;
    }
    expect(task.status, task.error).toBe('done');
    await expectDerived('after the rebuild');
  });

  it('purges a deleted user’s derived rows, in this org only', async () => {
    const res = await b.client.delete('/api/v1/events/users/u2');
    expect(res.status, res.text).toBe(200);
    sentA.splice(0, sentA.length, ...sentA.filter((e) => e.user_id !== 'u2'));
    await expectDerived('after the purge');
  });

  it("derives again, at retention's expiry, the keys that lose rows: no row names an expired event", async () => {
    // the probe rollup keeps aggregates: two days of them, one of raw events, expired at START + 4 d 1 h
    const put = await b.client.put('/api/v1/admin/retention', { raw_events_days: 1, aggregates_days: 2 });
    expect(put.status, put.text).toBe(200);
    const cut = START + 2 * DAY_MS;
    // the data has users with events on both sides of the cut (whose `prev` would name an expired one)
    expect(sentA.some((e) => Date.parse(e.timestamp) < cut) && sentA.some((e) => Date.parse(e.timestamp) >= cut)).toBe(true);
    await b.kernel.services.retention.expireAll(new Date(START + 4 * DAY_MS + 3_600_000));
    await expectDerived('after the expiry', sentA.filter((e) => Date.parse(e.timestamp) >= cut));
  });
});
