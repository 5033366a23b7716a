/**
 * The demo org's data brought up to date on a later start (`core/src/demo/catchUp.ts`): the
 * days since the demo was written get events like the demo's own, of the people and departments
 * still there, with no event or session written twice across runs, and nothing for an org
 * without demo events. Checked against the stored rows, not against the generator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { loadDemoData } from '../src/demo/load.ts';
import { catchUpDemoData, CATCH_UP_MAX_DAYS, demoDataUpTo } from '../src/demo/catchUp.ts';

const DAY = 86_400_000;
const MINUTE = 60_000;
let b: TestBackend;
let s: any;
let loadedAt: number;

async function rows<T>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await s.analytics.client.query({ query: sql, query_params: { org: b.org.id, ...params }, format: 'JSONEachRow' });
  return (await rs.json()) as T[];
}

/** events per UTC weekday (Mon–Fri) that lies wholly inside [from, to), by the rows' timestamps */
async function weekdayCounts(from: number, to: number, receivedAt?: number) {
  const days = await rows<{ d: string; n: string }>(
    `SELECT toString(toDate(timestamp)) AS d, count() AS n FROM ${s.analytics.database}.events
      WHERE org_id = {org:String} ${receivedAt ? 'AND received_at = fromUnixTimestamp64Milli({at:Int64})' : ''}
      GROUP BY d`,
    receivedAt ? { at: receivedAt } : {},
  );
  return days
    .map((r) => ({ start: Date.parse(`${r.d}T00:00:00Z`), n: Number(r.n) }))
    .filter((r) => r.start >= from && r.start + DAY <= to && ![0, 6].includes(new Date(r.start).getUTCDay()));
}

beforeAll(async () => {
  b = await startTestBackend({ plugins: [] });
  s = b.kernel.services;
  await loadDemoData(s, await s.orgs.byId(b.org.id), { days: 14 });
  loadedAt = (await demoDataUpTo(s, await s.orgs.byId(b.org.id)))!;
}, 180_000);
afterAll(async () => {
  await b?.close();
});

describe('bringing the demo data up to date', () => {
  it('leaves a short gap alone', async () => {
    const org = await s.orgs.byId(b.org.id);
    expect(Math.abs(loadedAt - Date.now())).toBeLessThan(5 * MINUTE);
    expect(await catchUpDemoData(s, org, loadedAt + 5 * MINUTE)).toBeNull();
    expect(await demoDataUpTo(s, org)).toBe(loadedAt);
  });

  it('writes the days since, like the demo\'s own days, with nothing twice', async () => {
    const org = await s.orgs.byId(b.org.id);
    const now1 = loadedAt + 9 * DAY + 3 * 3_600_000;
    const r = await catchUpDemoData(s, org, now1);
    expect(r).not.toBeNull();
    expect(r!.from.getTime()).toBe(loadedAt);
    expect(r!.to.getTime()).toBe(now1);
    expect(await demoDataUpTo(s, org)).toBe(now1);

    const [written] = await rows<{ n: string; first: string; last: string }>(
      `SELECT count() AS n, toUnixTimestamp64Milli(min(timestamp)) AS first, toUnixTimestamp64Milli(max(timestamp)) AS last
         FROM ${s.analytics.database}.events WHERE org_id = {org:String} AND received_at = fromUnixTimestamp64Milli({at:Int64})`,
      { at: now1 },
    );
    expect(Number(written!.n)).toBe(r!.events);
    expect(r!.events).toBeGreaterThan(10_000);
    expect(Number(written!.first)).toBeGreaterThan(loadedAt);
    expect(Number(written!.last)).toBeLessThanOrEqual(now1);

    // every event id once in the whole org
    const [ids] = await rows<{ n: string; u: string }>(`SELECT count() AS n, uniqExact(event_id) AS u FROM ${s.analytics.database}.events WHERE org_id = {org:String}`);
    expect(Number(ids!.u)).toBe(Number(ids!.n));
    // a session is written by one run only, and begins after the demo's data stopped
    const sessions = await rows<{ session_id: string; runs: string; began: string }>(
      `SELECT session_id, uniqExact(received_at) AS runs, toUnixTimestamp64Milli(min(timestamp)) AS began
         FROM ${s.analytics.database}.events WHERE org_id = {org:String} AND session_id != '' GROUP BY session_id
        HAVING max(received_at) = fromUnixTimestamp64Milli({at:Int64})`,
      { at: now1 },
    );
    expect(sessions.length).toBeGreaterThan(500);
    for (const x of sessions) {
      expect(Number(x.runs)).toBe(1);
      expect(Number(x.began)).toBeGreaterThan(loadedAt);
    }

    // only the org's people and departments
    const people = new Set((await s.knex.withSchema('public').table('memberships').where({ org_id: b.org.id }).select('user_id')).map((m: { user_id: string }) => m.user_id));
    const depts = new Set((await s.knex.withSchema(org.schema).table('departments').select('id')).map((d: { id: string }) => d.id));
    const used = await rows<{ user_id: string; department_id: string }>(
      `SELECT DISTINCT user_id, department_id FROM ${s.analytics.database}.events WHERE org_id = {org:String} AND received_at = fromUnixTimestamp64Milli({at:Int64})`,
      { at: now1 },
    );
    expect(used.length).toBeGreaterThan(100);
    for (const u of used) {
      expect(people.has(u.user_id), u.user_id).toBe(true);
      expect(depts.has(u.department_id), u.department_id).toBe(true);
    }

    // a working day of the new span is as busy as one of the demo's own (within half and twice)
    const before = await weekdayCounts(loadedAt - 14 * DAY, loadedAt);
    const after = await weekdayCounts(loadedAt, now1, now1);
    expect(before.length).toBeGreaterThanOrEqual(6);
    expect(after.length).toBeGreaterThanOrEqual(4);
    const mean = before.reduce((a, d) => a + d.n, 0) / before.length;
    for (const d of after) {
      expect(d.n, new Date(d.start).toISOString()).toBeGreaterThan(mean * 0.5);
      expect(d.n, new Date(d.start).toISOString()).toBeLessThan(mean * 2);
    }
  });

  it('gives nobody who left new events, and starts the next run where this one stopped', async () => {
    const org = await s.orgs.byId(b.org.id);
    const now1 = (await demoDataUpTo(s, org))!;
    // the busiest person of the last run leaves the org
    const [busiest] = await rows<{ user_id: string }>(
      `SELECT user_id FROM ${s.analytics.database}.events WHERE org_id = {org:String} AND received_at = fromUnixTimestamp64Milli({at:Int64})
        GROUP BY user_id ORDER BY count() DESC LIMIT 1`,
      { at: now1 },
    );
    await s.knex.withSchema('public').table('memberships').where({ org_id: b.org.id, user_id: busiest!.user_id }).update({ active: false });

    const now2 = now1 + 2 * DAY;
    const r = await catchUpDemoData(s, org, now2);
    expect(r!.from.getTime()).toBe(now1);
    const [mine] = await rows<{ n: string }>(
      `SELECT count() AS n FROM ${s.analytics.database}.events WHERE org_id = {org:String} AND user_id = {u:String} AND received_at = fromUnixTimestamp64Milli({at:Int64})`,
      { u: busiest!.user_id, at: now2 },
    );
    expect(Number(mine!.n)).toBe(0);
    const [span] = await rows<{ first: string; n: string }>(
      `SELECT toUnixTimestamp64Milli(min(timestamp)) AS first, count() AS n FROM ${s.analytics.database}.events
        WHERE org_id = {org:String} AND received_at = fromUnixTimestamp64Milli({at:Int64})`,
      { at: now2 },
    );
    expect(Number(span!.n)).toBe(r!.events);
    expect(Number(span!.first)).toBeGreaterThan(now1);
  });

  it('reaches back at most 30 days after a long pause', async () => {
    const org = await s.orgs.byId(b.org.id);
    const now2 = (await demoDataUpTo(s, org))!;
    const now3 = now2 + 75 * DAY;
    const r = await catchUpDemoData(s, org, now3);
    expect(r!.from.getTime()).toBe(now3 - CATCH_UP_MAX_DAYS * DAY);
    const [first] = await rows<{ t: string }>(
      `SELECT toUnixTimestamp64Milli(min(timestamp)) AS t FROM ${s.analytics.database}.events WHERE org_id = {org:String} AND received_at = fromUnixTimestamp64Milli({at:Int64})`,
      { at: now3 },
    );
    expect(Number(first!.t)).toBeGreaterThan(now3 - CATCH_UP_MAX_DAYS * DAY);
  });

  it('leaves an org without demo events alone', async () => {
    const other = await b.createOrg('no-demo');
    await other.insertEvents([{ event_id: 'real-1', event_type: 'agent_invocation', timestamp: new Date(Date.now() - 3 * DAY).toISOString(), user_id: 'u', department_id: 'd', agent_name: 'a', status: 'success' }]);
    const org = await s.orgs.byId(other.id);
    expect(await demoDataUpTo(s, org)).toBeNull();
    expect(await catchUpDemoData(s, org, Date.now() + 20 * DAY)).toBeNull();
    const rs = await s.analytics.client.query({ query: `SELECT count() AS n FROM ${s.analytics.database}.events WHERE org_id = {org:String}`, query_params: { org: other.id }, format: 'JSONEachRow' });
    expect(Number(((await rs.json()) as Array<{ n: string }>)[0]!.n)).toBe(1);
  });
});
