/**
 * One user's activity (`GET /users/:id/analytics`): totals, a daily series, top items of
 * each kind, sessions, and their teams and the org to compare with.
 *
 * Everything about the user comes from one statement: a single read of the user's events
 * grouped four ways at once (GROUPING SETS: the whole range, each day, each item, each
 * session). It used to be three statements (totals with the series as a subquery, the top
 * lists, the sessions), each reading the range's `user_id` column again to find the same
 * rows. The org's means and the teams' means are one statement each, run alongside it.
 */
import { bucketExpr, bucketIso, checkBuckets, type TenantContext } from '@orrery/plugin-sdk';
import { sessionShape } from './activity.ts';
import { isMemberId, round, userDirectory, where, type Filters } from './scope.ts';
import { CAPABILITY, engagementRow, teamAverages, USAGE, type UsageKind } from './usage.ts';

/** how many items of each kind the answer lists */
const TOP = 10;

/** The item an event is a use of: its kind and name, '' for events that use none. */
const KIND = `multiIf(${Object.entries(USAGE).map(([kind, u]) => `event_type = '${u.type}' AND ${u.column} != '', '${kind}'`).join(', ')}, '')`;
const NAME = `multiIf(${Object.values(USAGE).map((u) => `event_type = '${u.type}', ${u.column}`).join(', ')}, '')`;

interface UserRow {
  /** 0 for the rows of that grouping (ClickHouse's `grouping()`), 1 otherwise */
  by_day: number;
  by_item: number;
  by_session: number;
  b: string;
  kind: string;
  name: string;
  session_id: string;
  events: number;
  successes: number;
  failures: number;
  active_days: number;
  sessions: number;
  features: number;
  commands: number;
  tools: number;
  agents: number;
  diversity: number;
  first_seen: string;
  last_seen: string;
  ended_ms: number;
}

/** One read of the user's events, grouped by nothing, by day, by item and by session. */
async function userRows(ctx: TenantContext, f: Filters, userId: string): Promise<UserRow[]> {
  const w = where(f, 'user_id = {user_id:String}');
  return ctx.analytics.query<UserRow>(
    `SELECT grouping(b) AS by_day, grouping(kind, name) AS by_item, grouping(session_id) AS by_session, b, kind, name, session_id,
            count() AS events, countIf(status = 'success') AS successes, countIf(status = 'failure') AS failures,
            uniqExact(b) AS active_days,
            uniqExactIf(session_id, session_id != '') AS sessions,
            uniqExactIf(name, kind = 'feature') AS features,
            uniqExactIf(name, kind = 'command') AS commands,
            uniqExactIf(name, kind = 'tool') AS tools,
            uniqExactIf(name, kind = 'agent') AS agents,
            uniqExactIf(${CAPABILITY}, ${CAPABILITY} != '') AS diversity,
            min(timestamp) AS first_seen, max(timestamp) AS last_seen,
            maxIf(duration_ms, event_type = 'session' AND action = 'ended') AS ended_ms
       FROM (SELECT timestamp, event_type, session_id, status, action, duration_ms, feature_name, command_name, tool_name, agent_name,
                    ${bucketExpr('timestamp', 'day')} AS b, ${KIND} AS kind, ${NAME} AS name
               FROM {db}.events WHERE ${w.sql})
      GROUP BY GROUPING SETS ((), (b), (kind, name), (session_id))
      ORDER BY b, kind, events DESC, name, session_id`,
    { ...w.params, user_id: userId },
  );
}

/** The median as ClickHouse's `quantileExact(0.5)` takes it: the value at position ⌊n/2⌋ of the sorted values. */
const exactMedian = (sorted: number[]) => sorted[Math.floor(sorted.length / 2)] ?? 0;

/** The user's session figures from the per-session rows; null when the user had no session. */
function sessionFigures(f: Filters, rows: UserRow[]) {
  const durations = rows
    .filter((r) => r.session_id !== '')
    .map((r) => (Number(r.ended_ms) > 0 ? Number(r.ended_ms) : Date.parse(`${r.last_seen.replace(' ', 'T')}Z`) - Date.parse(`${r.first_seen.replace(' ', 'T')}Z`)))
    .sort((a, b) => a - b);
  if (!durations.length) return null;
  const total = durations.reduce((s, d) => s + d, 0);
  return sessionShape(f, { sessions: durations.length, users: 1, avg_ms: total / durations.length, p50_ms: exactMedian(durations), total_ms: total });
}

/** The org's means over its active users (events, active days and diversity: what the answer compares). */
async function orgMeans(ctx: TenantContext, f: Filters) {
  const all = where(f);
  const [org] = await ctx.analytics.query<Record<string, number>>(
    `SELECT count() AS users, avg(events) AS events, avg(active_days) AS active_days, avg(diversity) AS diversity
       FROM (SELECT user_id, count() AS events, uniqExact(toDate(toTimeZone(timestamp, {tz:String}))) AS active_days,
                    uniqExactIf(${CAPABILITY}, ${CAPABILITY} != '') AS diversity
               FROM {db}.events WHERE ${all.sql} GROUP BY user_id)`,
    all.params,
  );
  return { active_users: Number(org?.users ?? 0), events: round(Number(org?.events ?? 0), 2), active_days: round(Number(org?.active_days ?? 0), 2), diversity: round(Number(org?.diversity ?? 0), 2) };
}

/** The departments the user is a member of (a user known only from events belongs to none). */
async function departmentsOf(ctx: TenantContext, userId: string): Promise<string[]> {
  if (!isMemberId(userId)) return [];
  return (await ctx.directory.memberships()).filter((m) => m.userId === userId).map((m) => m.departmentId);
}

export async function userAnalytics(ctx: TenantContext, f: Filters, userId: string) {
  checkBuckets(f.range, 'day');
  const memberOf = departmentsOf(ctx, userId);
  // independent reads side by side: the two cores answer the user's and the org's statements at once
  const [rows, org, teams, dir, departmentIds] = await Promise.all([
    userRows(ctx, f, userId),
    orgMeans(ctx, f),
    memberOf.then((ids) => (ids.length ? teamAverages(ctx, f, ids) : [])),
    userDirectory(ctx, [userId]),
    memberOf,
  ]);
  const whole = rows.find((r) => r.by_day && r.by_item && r.by_session);
  const top = Object.fromEntries(Object.keys(USAGE).map((k) => [k, []])) as unknown as Record<UsageKind, Array<{ name: string; uses: number }>>;
  // item rows come ordered by kind, uses (most first), name
  for (const r of rows) if (!r.by_item && r.kind && r.name && top[r.kind as UsageKind].length < TOP) top[r.kind as UsageKind].push({ name: r.name, uses: Number(r.events) });
  return {
    user: { id: userId, email: dir.get(userId)?.email ?? null, display_name: dir.get(userId)?.display_name ?? null, department_ids: departmentIds },
    totals: whole && Number(whole.events) > 0 ? engagementRow({ ...whole, user_id: userId } as unknown as Record<string, string | number>) : null,
    sessions: sessionFigures(f, rows.filter((r) => !r.by_session)),
    series: rows
      .filter((r) => !r.by_day)
      .map((r) => ({ bucket: bucketIso(r.b, f.range.tz), events: Number(r.events), successes: Number(r.successes), failures: Number(r.failures) })),
    top,
    compare: { teams, org },
  };
}
