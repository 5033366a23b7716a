/**
 * Activity facts: active users per bucket, stickiness, sessions, breakdowns by
 * department and agent, heatmaps and lifecycle. Every function takes the
 * filters of the request and returns plain rows; the routes shape the answer.
 */
import { bucketExpr, bucketIso, checkBuckets, freshRowsSql, planSegments, usableLevels, type Granularity, type TenantContext } from '@orrery/plugin-sdk';
import { departments, round, where, type Filters } from './scope.ts';
import { ACTIVITY, LEVELS } from './rollups.ts';

const STEP: Record<string, string> = { hour: 'toIntervalHour(1)', day: 'toIntervalDay(1)', week: 'toIntervalWeek(1)', month: 'toIntervalMonth(1)' };

/**
 * Distinct active users per bucket, every bucket of the range present (zero when nobody was
 * active). Whole hours and days come from the activity rollup where its UTC buckets nest in
 * the requested ones (any zone with whole-hour offsets), the edges and the events not folded
 * yet from raw events; the user sets merge, so a user active in two pieces counts once.
 */
export async function activeUsersSeries(ctx: TenantContext, f: Filters, granularity: Granularity, source: 'rollups' | 'raw' = 'rollups') {
  checkBuckets(f.range, granularity);
  const w = where(f);
  const fromBucket = bucketExpr("toDateTime64({from:String}, 3, 'UTC')", granularity);
  const levels = source === 'raw' ? [] : usableLevels(LEVELS, { granularity, tz: f.range.tz, from: f.range.from, to: f.range.to });
  const dims = [f.departmentId ? 'department_id = {department_id:String}' : '', f.agent ? 'agent_name = {agent:String}' : ''].filter(Boolean);
  return ctx.rollups.read(ACTIVITY.name, async (watermark) => {
    const params: Record<string, unknown> = { ...w.params, watermark: watermark.getTime() };
    const arms = planSegments(f.range, levels, { watermark }).map((s, i) => {
      params[`s${i}_from`] = s.from.getTime();
      params[`s${i}_to`] = s.to.getTime();
      if (s.level) {
        return `SELECT ${bucketExpr('bucket', granularity)} AS b, users FROM {db}.${s.level.table}
           WHERE org_id = {org_id:String}${dims.map((d) => ` AND ${d}`).join('')}
             AND bucket >= toDateTime(intDiv({s${i}_from:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({s${i}_to:Int64}, 1000), 'UTC')`;
      }
      return `SELECT ${bucketExpr('timestamp', granularity)} AS b, uniqExactState(user_id) AS users FROM {db}.events
         WHERE ${w.sql}
           AND timestamp >= fromUnixTimestamp64Milli({s${i}_from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({s${i}_to:Int64}, 'UTC')
           ${s.insertedAfter ? `AND ${freshRowsSql('watermark')}` : ''}
         GROUP BY b`;
    });
    const rows = await ctx.analytics.query<{ b: string; value: number }>(
      `SELECT b, uniqExactMerge(users) AS value
         FROM (${arms.join('\n UNION ALL \n')})
        GROUP BY b
        ORDER BY b WITH FILL FROM ${fromBucket} TO toDateTime(toDateTime64({to:String}, 3, 'UTC'), {tz:String}) STEP ${STEP[granularity]}`,
      params,
    );
    return rows.map((r) => ({ bucket: bucketIso(r.b, f.range.tz), value: Number(r.value) }));
  });
}

/**
 * Headline figures of a range. Stickiness is the mean DAU over the range's days
 * divided by the distinct users of the whole range (DAU/MAU when the range is a
 * month); WAU and MAU are the distinct users of the last 7 and 30 days before `to`.
 */
export async function summary(ctx: TenantContext, f: Filters) {
  const w = where(f);
  const [row] = await ctx.analytics.query<Record<string, number>>(
    `SELECT
        uniqExact(user_id) AS active_users,
        count() AS events,
        uniqExactIf(user_id, timestamp >= toDateTime64({to:String}, 3, 'UTC') - INTERVAL 7 DAY) AS wau,
        uniqExactIf(user_id, timestamp >= toDateTime64({to:String}, 3, 'UTC') - INTERVAL 30 DAY) AS mau,
        uniqExactIf(user_id, timestamp >= toDateTime64({to:String}, 3, 'UTC') - INTERVAL 1 DAY) AS dau,
        uniqExact((user_id, toDate(toTimeZone(timestamp, {tz:String})))) AS user_days,
        uniqExact(toDate(toTimeZone(timestamp, {tz:String}))) AS days_with_activity,
        countIf(status = 'success') AS successes,
        countIf(status = 'failure') AS failures
       FROM {db}.events WHERE ${w.sql}`,
    w.params,
  );
  const days = Math.max(1, Math.round((f.range.to.getTime() - f.range.from.getTime()) / 86_400_000));
  const avgDau = Number(row!.user_days) / days;
  const active = Number(row!.active_users);
  const sessions = await sessionStats(ctx, f);
  const outcomes = Number(row!.successes) + Number(row!.failures);
  return {
    active_users: active,
    events: Number(row!.events),
    dau: Number(row!.dau),
    wau: Number(row!.wau),
    mau: Number(row!.mau),
    avg_dau: round(avgDau, 2),
    stickiness: active ? round(avgDau / active, 4) : 0,
    success_rate: outcomes ? round(Number(row!.successes) / outcomes, 4) : null,
    sessions,
  };
}

/**
 * Sessions: a session is a distinct session_id. Its duration is the
 * `duration_ms` of its `ended` event when there is one, else the span between
 * its first and last event (hosts that never send `ended` still get a length).
 */
export async function sessionStats(ctx: TenantContext, f: Filters) {
  return (await sessionRows(ctx, f, false)).get('') ?? sessionShape(f, { sessions: 0, users: 0 });
}

export function sessionShape(f: Filters, r: Record<string, number | string>) {
  const weeks = Math.max(1, (f.range.to.getTime() - f.range.from.getTime()) / (7 * 86_400_000));
  return {
    sessions: Number(r.sessions),
    avg_minutes: round(Number(r.avg_ms || 0) / 60_000, 2),
    median_minutes: round(Number(r.p50_ms || 0) / 60_000, 2),
    total_minutes: round(Number(r.total_ms || 0) / 60_000, 2),
    sessions_per_user_per_week: Number(r.users) ? round(Number(r.sessions) / Number(r.users) / weeks, 2) : 0,
  };
}

async function sessionRows(ctx: TenantContext, f: Filters, perUser: boolean, userId?: string) {
  const w = where(f, userId ? "session_id != '' AND user_id = {user_id:String}" : "session_id != ''");
  if (userId) w.params.user_id = userId;
  const rows = await ctx.analytics.query<Record<string, number | string>>(
    `SELECT ${perUser ? 'user_id,' : ''}
        count() AS sessions,
        uniqExact(user_id) AS users,
        avg(dur) AS avg_ms,
        quantileExact(0.5)(dur) AS p50_ms,
        sum(dur) AS total_ms
       FROM (
         SELECT user_id, session_id,
           toFloat64(if(maxIf(duration_ms, event_type = 'session' AND action = 'ended') > 0,
              maxIf(duration_ms, event_type = 'session' AND action = 'ended'),
              toFloat64(dateDiff('millisecond', min(timestamp), max(timestamp))))) AS dur
         FROM {db}.events WHERE ${w.sql}
         GROUP BY user_id, session_id)
      ${perUser ? 'GROUP BY user_id' : ''}`,
    w.params,
  );
  return new Map(rows.map((r) => [perUser ? String(r.user_id) : '', sessionShape(f, r)]));
}

interface BreakdownFigures { active_users: number; dau: number; avg_dau: number; stickiness: number; events: number; success_rate: number | null }
export type DepartmentRow = BreakdownFigures & { department_id: string; name: string | null };
export type AgentRow = BreakdownFigures & { agent: string };

/** Active users, mean DAU, stickiness and events per department (by the department on the event) or per agent. */
export async function breakdown(ctx: TenantContext, f: Filters, by: 'department_id'): Promise<DepartmentRow[]>;
export async function breakdown(ctx: TenantContext, f: Filters, by: 'agent_name'): Promise<AgentRow[]>;
export async function breakdown(ctx: TenantContext, f: Filters, by: 'department_id' | 'agent_name'): Promise<Array<DepartmentRow | AgentRow>> {
  const w = where(f, `${by} != ''`);
  const days = Math.max(1, Math.round((f.range.to.getTime() - f.range.from.getTime()) / 86_400_000));
  const rows = await ctx.analytics.query<Record<string, string | number>>(
    `SELECT ${by} AS key, uniqExact(user_id) AS active_users, count() AS events,
            uniqExact((user_id, toDate(toTimeZone(timestamp, {tz:String})))) AS user_days,
            uniqExactIf(user_id, timestamp >= toDateTime64({to:String}, 3, 'UTC') - INTERVAL 1 DAY) AS dau,
            countIf(status = 'success') AS successes, countIf(status = 'failure') AS failures
       FROM {db}.events WHERE ${w.sql} GROUP BY key ORDER BY active_users DESC, key`,
    w.params,
  );
  const names = by === 'department_id' ? new Map((await departments(ctx)).map((d) => [d.id, d.name])) : null;
  return rows.map((r) => {
    const active = Number(r.active_users);
    const avgDau = Number(r.user_days) / days;
    const outcomes = Number(r.successes) + Number(r.failures);
    const label: { department_id: string; name: string | null } | { agent: string } = names ? { department_id: String(r.key), name: names.get(String(r.key)) ?? null } : { agent: String(r.key) };
    return {
      ...label,
      active_users: active,
      dau: Number(r.dau),
      avg_dau: round(avgDau, 2),
      stickiness: active ? round(avgDau / active, 4) : 0,
      events: Number(r.events),
      success_rate: outcomes ? round(Number(r.successes) / outcomes, 4) : null,
    };
  });
}

/** Hour of day × weekday (1 = Monday) in the range's zone: events and distinct users per cell. */
export async function hourWeekdayHeatmap(ctx: TenantContext, f: Filters) {
  const w = where(f);
  const rows = await ctx.analytics.query<{ weekday: number; hour: number; events: number; users: number }>(
    `SELECT toDayOfWeek(toTimeZone(timestamp, {tz:String})) AS weekday, toHour(toTimeZone(timestamp, {tz:String})) AS hour,
            count() AS events, uniqExact(user_id) AS users
       FROM {db}.events WHERE ${w.sql} GROUP BY weekday, hour ORDER BY weekday, hour`,
    w.params,
  );
  return rows.map((r) => ({ weekday: Number(r.weekday), hour: Number(r.hour), events: Number(r.events), users: Number(r.users) }));
}

/** Department × week (Monday starts): distinct active users and events per cell. */
export async function departmentWeekHeatmap(ctx: TenantContext, f: Filters) {
  const w = where(f, "department_id != ''");
  const rows = await ctx.analytics.query<{ department_id: string; week: string; users: number; events: number }>(
    `SELECT department_id, ${bucketExpr('timestamp', 'week')} AS week, uniqExact(user_id) AS users, count() AS events
       FROM {db}.events WHERE ${w.sql} GROUP BY department_id, week ORDER BY department_id, week`,
    w.params,
  );
  const names = new Map((await departments(ctx)).map((d) => [d.id, d.name]));
  return rows.map((r) => ({
    department_id: r.department_id,
    name: names.get(r.department_id) ?? null,
    week: bucketIso(r.week, f.range.tz),
    users: Number(r.users),
    events: Number(r.events),
  }));
}

/**
 * Lifecycle per bucket, the usual growth-accounting split. For each bucket B:
 * new = first event ever falls in B; returning = active in B and in the bucket
 * before; resurrected = active in B, not in the bucket before, seen before that;
 * dormant = active in the bucket before and not in B (reported as a count, not
 * an active user).
 */
export async function lifecycle(ctx: TenantContext, f: Filters, granularity: 'day' | 'week' | 'month') {
  checkBuckets(f.range, granularity);
  const w = where(f);
  const b = bucketExpr('timestamp', granularity);
  const fromBucket = bucketExpr("toDateTime64({from:String}, 3, 'UTC')", granularity);
  const step = { day: 'INTERVAL 1 DAY', week: 'INTERVAL 1 WEEK', month: 'INTERVAL 1 MONTH' }[granularity];
  // history before `from` matters: it tells new from resurrected, and the bucket
  // just before `from` tells returning from resurrected in the first bucket
  const rows = await ctx.analytics.query<{ buckets: string[]; first_seen: string; prev: string }>(
    `WITH ${fromBucket} - ${step} AS prev_b
     SELECT user_id, arraySort(groupUniqArrayIf(toString(b), b >= prev_b)) AS buckets, toString(min(b)) AS first_seen, toString(any(prev_b)) AS prev
       FROM (
         SELECT user_id, ${b} AS b FROM {db}.events
          WHERE org_id = {org_id:String} AND user_id != '' AND timestamp < toDateTime64({to:String}, 3, 'UTC')
            ${f.departmentId ? 'AND department_id = {department_id:String}' : ''} ${f.agent ? 'AND agent_name = {agent:String}' : ''})
      GROUP BY user_id
     HAVING length(buckets) > 0`,
    w.params,
  );
  const keys = (await activeUsersSeries(ctx, f, granularity)).map((x) => x.bucket);
  const iso = (v: string) => bucketIso(v, f.range.tz);
  const out = new Map(keys.map((k) => [k, { bucket: k, new: 0, returning: 0, resurrected: 0, dormant: 0 }]));
  for (const r of rows) {
    const active = new Set(r.buckets.map(iso));
    const first = iso(r.first_seen);
    const before = iso(r.prev);
    keys.forEach((k, i) => {
      const cell = out.get(k)!;
      const wasActive = active.has(i > 0 ? keys[i - 1]! : before);
      if (active.has(k)) {
        if (first === k) cell.new++;
        else if (wasActive) cell.returning++;
        else cell.resurrected++;
      } else if (wasActive) cell.dormant++;
    });
  }
  return [...out.values()];
}
