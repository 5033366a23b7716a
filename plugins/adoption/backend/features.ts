/**
 * Reads every input of the score and the triggers for a set of users (or the
 * whole org) in one pass over the events: the current window, the same window
 * a week earlier, the last 24 hours, and the expertise lookback. One GROUP BY
 * user_id scan, so that scoring 10,000 users stays one query.
 */
import type { TenantContext } from '@orrery/plugin-sdk';
import type { UserFeatures } from './score.ts';

/** How far back the expertise criteria look (successful workflows, features used successfully). */
export const LOOKBACK_DAYS = 90;

const CAPABILITY = `multiIf(
  event_type = 'feature_use', concat('feature:', feature_name),
  event_type = 'command', concat('command:', command_name),
  event_type = 'tool_call', concat('tool:', tool_name),
  event_type = 'agent_invocation', concat('agent:', agent_name), '')`;

function windowColumns(prefix: string, cond: string) {
  return `
    uniqExactIf(toDate(timestamp), ${cond}) AS ${prefix}active_days,
    countIf(${cond}) AS ${prefix}events,
    uniqExactIf(cap, ${cond} AND cap != '') AS ${prefix}capabilities,
    countIf(${cond} AND status = 'success') AS ${prefix}successes,
    countIf(${cond} AND status = 'failure') AS ${prefix}failures,
    countIf(${cond} AND event_type = 'workflow_step' AND action = 'enrolled') AS ${prefix}wf_enrolled,
    countIf(${cond} AND event_type = 'workflow_step' AND action = 'goal_reached') AS ${prefix}wf_completed`;
}

/**
 * Features of each user with any event in the lookback ending at `end`
 * (exclusive). The window is the `windowDays` UTC calendar days that end with
 * the day of `end` (today counts while it runs); "a week earlier" is the same
 * window shifted back 7 days; the 24 hours are the 24 hours before `end`.
 */
export async function readFeatures(ctx: TenantContext, end: Date, windowDays: number, users: string[] | null): Promise<{ features: UserFeatures[]; orgAverageEvents: number; activeEvents: Map<string, number> }> {
  const lookback = Math.max(LOOKBACK_DAYS, windowDays + 7);
  const params: Record<string, unknown> = { end: end.toISOString().replace('T', ' ').replace('Z', ''), w: windowDays, lb: lookback };
  if (users) params.users = users;
  const inWindow = 'timestamp >= w0';
  const inBefore = 'timestamp >= pw0 AND timestamp < pe';
  const rows = await ctx.analytics.query<Record<string, number | string>>(
    `WITH toDateTime64({end:String}, 3, 'UTC') AS e,
          toDateTime64(toDate(e - toIntervalMillisecond(1)), 3, 'UTC') - toIntervalDay({w:UInt16} - 1) AS w0,
          e - toIntervalDay(7) AS pe,
          w0 - toIntervalDay(7) AS pw0,
          e - toIntervalDay(1) AS d24
     SELECT user_id,
       ${windowColumns('', inWindow)},
       ${windowColumns('b_', inBefore)},
       uniqExactIf(command_name, ${inWindow} AND event_type = 'command' AND command_name != '') AS commands,
       greatest(
         toInt64(countIf(${inWindow} AND event_type = 'workflow_step' AND action = 'enrolled'))
           - toInt64(countIf(${inWindow} AND event_type = 'workflow_step' AND action = 'goal_reached')),
         toInt64(countIf(${inWindow} AND event_type = 'workflow_step' AND (action = 'exited' OR status = 'failure')))) AS wf_incomplete_or_failed,
       countIf(timestamp >= d24 AND status = 'success') AS successes_24h,
       countIf(timestamp >= d24 AND status = 'failure') AS failures_24h,
       countIf(event_type = 'workflow_step' AND action = 'goal_reached') AS workflows_completed_total,
       uniqExactIf(feature_name, event_type = 'feature_use' AND feature_name != '' AND status != 'failure') AS features_succeeded_total,
       groupUniqArrayIf(department_id, ${inWindow} AND department_id != '') AS event_departments
     FROM (SELECT *, ${CAPABILITY} AS cap FROM {db}.events
            WHERE org_id = {org_id:String} AND user_id != ''
              AND timestamp >= toDateTime64({end:String}, 3, 'UTC') - toIntervalDay({lb:UInt16})
              AND timestamp < toDateTime64({end:String}, 3, 'UTC')
              ${users ? 'AND user_id IN {users:Array(String)}' : ''})
     GROUP BY user_id`,
    params,
  );
  const n = (v: unknown) => Number(v ?? 0);
  const features = rows.map((r) => ({
    user_id: String(r.user_id),
    now: { active_days: n(r.active_days), events: n(r.events), capabilities: n(r.capabilities), successes: n(r.successes), failures: n(r.failures), wf_enrolled: n(r.wf_enrolled), wf_completed: n(r.wf_completed) },
    before: { active_days: n(r.b_active_days), events: n(r.b_events), capabilities: n(r.b_capabilities), successes: n(r.b_successes), failures: n(r.b_failures), wf_enrolled: n(r.b_wf_enrolled), wf_completed: n(r.b_wf_completed) },
    commands: n(r.commands),
    wf_incomplete_or_failed: n(r.wf_incomplete_or_failed),
    successes_24h: n(r.successes_24h),
    failures_24h: n(r.failures_24h),
    workflows_completed_total: n(r.workflows_completed_total),
    features_succeeded_total: n(r.features_succeeded_total),
    departments: (r.event_departments as unknown as string[]) ?? [],
  }));
  // events in the window of every active user of the org: the usage baselines (mean or median,
  // org-wide or per department) are computed from them
  const activeEvents = new Map<string, number>();
  if (users) {
    const counts = await ctx.analytics.query<{ user_id: string; c: number }>(
      `SELECT user_id, count() AS c FROM {db}.events
         WHERE org_id = {org_id:String} AND user_id != ''
           AND timestamp >= toDateTime64(toDate(toDateTime64({end:String}, 3, 'UTC') - toIntervalMillisecond(1)), 3, 'UTC') - toIntervalDay({w:UInt16} - 1)
           AND timestamp < toDateTime64({end:String}, 3, 'UTC')
         GROUP BY user_id`,
      params,
    );
    for (const r of counts) activeEvents.set(String(r.user_id), Number(r.c));
  } else {
    for (const f of features) if (f.now.events > 0) activeEvents.set(f.user_id, f.now.events);
  }
  const all = [...activeEvents.values()];
  const orgAverageEvents = all.length ? all.reduce((s, x) => s + x, 0) / all.length : 0;
  return { features, orgAverageEvents, activeEvents };
}

/** Features of a user with no events at all: every count zero. */
export function emptyFeatures(userId: string): UserFeatures {
  const z = { active_days: 0, events: 0, capabilities: 0, successes: 0, failures: 0, wf_enrolled: 0, wf_completed: 0 };
  return { user_id: userId, now: { ...z }, before: { ...z }, commands: 0, wf_incomplete_or_failed: 0, successes_24h: 0, failures_24h: 0, workflows_completed_total: 0, features_succeeded_total: 0, departments: [] };
}
