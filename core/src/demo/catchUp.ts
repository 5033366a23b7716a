/**
 * Keeps the demo org's data current. The demo month is written once, on the first start; a
 * platform started again a week later would show "Last 7 days" nearly empty. On each later
 * start the days since the demo data was last written are generated, as the end of the demo
 * month goes on (the same people, departments, agents and habits), so the demo reads as an org
 * still at work.
 *
 * Only an org holding demo events is touched (their ids start with `demo-`), and only people
 * and departments of the demo that are still there get events. Each run writes its events
 * with `received_at` set to the moment it generated up to, which is where the next run starts:
 * a session is written by the run in whose span it began, so nothing is written twice.
 */
import type { Org } from '@orrery/plugin-sdk';
import { DEMO_DEPARTMENTS, demoEvents, demoUsers } from './generate.ts';
import { insertDemoEvents, type DemoDataDeps } from './load.ts';

/** a gap shorter than this is left for a later start */
export const CATCH_UP_MIN_GAP_MS = 10 * 60_000;
/** at most this far back: an older demo gets its last days, not every day since */
export const CATCH_UP_MAX_DAYS = 30;
const DAY = 86_400_000;

export interface CatchUp {
  /** the demo data was up to here (the span's start, exclusive) */
  from: Date;
  to: Date;
  events: number;
}

/** When the org's demo events were last generated up to; null when the org holds none. */
export async function demoDataUpTo(s: DemoDataDeps, org: Org): Promise<number | null> {
  const rs = await s.analytics.client.query({
    query: `SELECT toUnixTimestamp64Milli(max(received_at)) AS upto, count() AS n
              FROM ${s.analytics.database}.events
             WHERE org_id = {org:String} AND startsWith(event_id, 'demo-')`,
    query_params: { org: org.id },
    format: 'JSONEachRow',
  });
  const [row] = (await rs.json()) as Array<{ upto: string | number; n: string | number }>;
  return row && Number(row.n) > 0 ? Number(row.upto) : null;
}

export async function catchUpDemoData(s: DemoDataDeps, org: Org, now = Date.now()): Promise<CatchUp | null> {
  const upTo = await demoDataUpTo(s, org);
  if (upTo === null || now - upTo < CATCH_UP_MIN_GAP_MS) return null;
  const from = Math.max(upTo, now - CATCH_UP_MAX_DAYS * DAY);

  // the demo's people and departments as they are now, by the demo's own emails and names
  const members = await s.knex
    .withSchema('public')
    .table('memberships')
    .join('users', 'users.id', 'memberships.user_id')
    .where({ 'memberships.org_id': org.id, 'memberships.active': true })
    .select('users.id', 'users.email');
  const idByEmail = new Map(members.map((m: { id: string; email: string }) => [m.email.toLowerCase(), m.id]));
  const departments = await s.knex.withSchema(org.schema).table('departments').select('id', 'name');
  const deptByName = new Map(departments.map((d: { id: string; name: string }) => [d.name, d.id]));
  const departmentIds = DEMO_DEPARTMENTS.map((d) => deptByName.get(d.name) ?? '');
  const users = demoUsers((i) => String(i))
    .filter((u) => idByEmail.has(u.email) && departmentIds[u.department])
    .map((u) => ({ ...u, id: idByEmail.get(u.email)! }));
  if (!users.length) return null;

  // whole days from the one the demo stopped in; a seed of this run's own, so ids are new
  const dayStart = Math.floor(from / DAY) * DAY;
  const seed = 100 + (Math.floor(now / 60_000) % 1_000_000_000);
  const batches = demoEvents(users, departmentIds, new Date(dayStart), new Date(now), seed, { progress: 1 });
  const events = await insertDemoEvents(s, org, sessionsBetween(batches, from, now), () => true, now);
  return { from: new Date(from), to: new Date(now), events };
}

/**
 * The sessions that began after `from`, each with its events up to `to`: a session begun
 * before `from` belongs to the run that wrote that time.
 */
export function* sessionsBetween(batches: Iterable<Record<string, unknown>[]>, from: number, to: number): Generator<Record<string, unknown>[]> {
  for (const batch of batches) {
    const began = new Map<unknown, number>();
    for (const e of batch) {
      const t = e.timestamp as number;
      const first = began.get(e.session_id);
      if (first === undefined || t < first) began.set(e.session_id, t);
    }
    yield batch.filter((e) => began.get(e.session_id)! > from && (e.timestamp as number) <= to);
  }
}
