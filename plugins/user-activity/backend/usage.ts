/**
 * Usage of features, commands, tools and agents, usage diversity, and the
 * per-user engagement rows (ranking, user-to-team comparison).
 */
import type { TenantContext } from '@orrery/plugin-sdk';
import { departmentMembers, departments, HIDDEN_HAVING, round, userDirectory, where, type Filters } from './scope.ts';
import { RANKING_SORTS } from '../widgets.ts';

export type UsageKind = 'feature' | 'command' | 'tool' | 'agent';
export const USAGE: Record<UsageKind, { type: string; column: string }> = {
  feature: { type: 'feature_use', column: 'feature_name' },
  command: { type: 'command', column: 'command_name' },
  tool: { type: 'tool_call', column: 'tool_name' },
  agent: { type: 'agent_invocation', column: 'agent_name' },
};

/** One "capability" per thing a user can use, so diversity counts features, commands, tools and agents alike. */
export const CAPABILITY = `multiIf(
  event_type = 'feature_use', concat('feature:', feature_name),
  event_type = 'command', concat('command:', command_name),
  event_type = 'tool_call', concat('tool:', tool_name),
  event_type = 'agent_invocation', concat('agent:', agent_name), '')`;

/**
 * Items of one kind with uses, users and success rate, and the diversity of use:
 * the mean and median number of distinct items per active user, and Pielou's
 * evenness of the org's use (Shannon entropy over ln k: 1 = every item used
 * equally, near 0 = one item dominates).
 */
export async function usage(ctx: TenantContext, f: Filters, kind: UsageKind, limit: number) {
  const q = usageQuery(f, kind);
  return usageAnswer(kind, await ctx.analytics.query<UsageRow>(q.sql, q.params), limit);
}

export type UsageRow = Record<string, string | number> & { div: [number, number, number] };

/**
 * The usage query of one kind. `alsoSelect` adds scalars that ride along on
 * every row (the command overview puts its sequences there), so a widget that
 * needs more than the items still waits for chDB once.
 */
export function usageQuery(f: Filters, kind: UsageKind, alsoWith = '', alsoSelect = '') {
  const u = USAGE[kind];
  const w = where(f, `event_type = '${u.type}' AND ${u.column} != ''`);
  // one round trip: the diversity figures ride along as a scalar subquery (the
  // same per-user count as before), so the route waits for chDB once, not twice
  return {
    sql: `WITH (SELECT tuple(avg(n), quantileExact(0.5)(n), count())
             FROM (SELECT user_id, uniqExact(${u.column}) AS n FROM {db}.events WHERE ${w.sql} GROUP BY user_id)) AS diversity_of_users${alsoWith ? `,
${alsoWith}` : ''}
     SELECT ${u.column} AS name, count() AS uses, uniqExact(user_id) AS users, uniqExact(department_id) AS departments,
            countIf(status = 'success') AS successes, countIf(status = 'failure') AS failures, any(diversity_of_users) AS div${alsoSelect ? `, ${alsoSelect}` : ''}
       FROM {db}.events WHERE ${w.sql} GROUP BY name ORDER BY uses DESC, name`,
    params: w.params,
  };
}

/** The answer of `/usage` (and `/commands`) from the rows of `usageQuery`. */
export function usageAnswer(kind: UsageKind, items: UsageRow[], limit: number) {
  const d = items[0]?.div;
  const div = d ? { mean: d[0], median: d[1], users: d[2] } : undefined;
  const total = items.reduce((s, r) => s + Number(r.uses), 0);
  const entropy = items.reduce((h, r) => {
    const p = Number(r.uses) / total;
    return p > 0 ? h - p * Math.log(p) : h;
  }, 0);
  return {
    kind,
    items: items.slice(0, limit).map((r) => {
      const outcomes = Number(r.successes) + Number(r.failures);
      return {
        name: String(r.name),
        uses: Number(r.uses),
        users: Number(r.users),
        departments: Number(r.departments),
        share: total ? round(Number(r.uses) / total, 4) : 0,
        success_rate: outcomes ? round(Number(r.successes) / outcomes, 4) : null,
      };
    }),
    distinct_items: items.length,
    diversity: {
      mean_items_per_user: round(Number(div?.mean ?? 0), 2),
      median_items_per_user: Number(div?.median ?? 0),
      users: Number(div?.users ?? 0),
      evenness: items.length > 1 ? round(entropy / Math.log(items.length), 4) : items.length ? 0 : null,
    },
  };
}

const ENGAGEMENT_COLUMNS = `
  count() AS events,
  uniqExact(toDate(toTimeZone(timestamp, {tz:String}))) AS active_days,
  uniqExactIf(session_id, session_id != '') AS sessions,
  uniqExactIf(feature_name, event_type = 'feature_use' AND feature_name != '') AS features,
  uniqExactIf(command_name, event_type = 'command' AND command_name != '') AS commands,
  uniqExactIf(tool_name, event_type = 'tool_call' AND tool_name != '') AS tools,
  uniqExactIf(agent_name, event_type = 'agent_invocation' AND agent_name != '') AS agents,
  uniqExactIf(${CAPABILITY}, ${CAPABILITY} != '') AS diversity,
  countIf(status = 'success') AS successes,
  countIf(status = 'failure') AS failures,
  max(timestamp) AS last_seen`;

/** What a user is compared on (a team's or the org's means): the engagement figures these means need, and no more. */
export const COMPARED_COLUMNS = `
  count() AS events,
  uniqExact(toDate(toTimeZone(timestamp, {tz:String}))) AS active_days,
  uniqExactIf(session_id, session_id != '') AS sessions,
  uniqExactIf(${CAPABILITY}, ${CAPABILITY} != '') AS diversity,
  countIf(status = 'success') AS successes,
  countIf(status = 'failure') AS failures`;

export interface EngagementRow {
  user_id: string;
  events: number;
  active_days: number;
  sessions: number;
  features: number;
  commands: number;
  tools: number;
  agents: number;
  diversity: number;
  success_rate: number | null;
  last_seen: string;
}

export function engagementRow(r: Record<string, string | number>): EngagementRow {
  const outcomes = Number(r.successes) + Number(r.failures);
  return {
    user_id: String(r.user_id),
    events: Number(r.events),
    active_days: Number(r.active_days),
    sessions: Number(r.sessions),
    features: Number(r.features),
    commands: Number(r.commands),
    tools: Number(r.tools),
    agents: Number(r.agents),
    diversity: Number(r.diversity),
    success_rate: outcomes ? round(Number(r.successes) / outcomes, 4) : null,
    last_seen: `${String(r.last_seen).replace(' ', 'T')}Z`,
  };
}

export const SORTS = RANKING_SORTS;
export type Sort = (typeof SORTS)[number];

/**
 * Per-user engagement (the ranking), without the users the caller may not see,
 * plus each department's mean over its active users (the team to compare with).
 */
export async function engagement(ctx: TenantContext, f: Filters, sort: Sort, limit: number, hidden: { users: string[]; departments: string[] }) {
  const w = where(f);
  const rows = (
    await ctx.analytics.query<Record<string, string | number>>(
      `SELECT user_id, ${ENGAGEMENT_COLUMNS}
         FROM {db}.events WHERE ${w.sql}
        GROUP BY user_id HAVING ${HIDDEN_HAVING}`,
      { ...w.params, hidden_users: hidden.users, hidden_depts: hidden.departments },
    )
  ).map(engagementRow);
  const key = (r: EngagementRow) => (sort === 'success_rate' ? (r.success_rate ?? -1) : r[sort]);
  rows.sort((a, b) => key(b) - key(a) || b.events - a.events || a.user_id.localeCompare(b.user_id));
  const top = rows.slice(0, limit);
  const dir = await userDirectory(ctx, top.map((r) => r.user_id));
  const teams = await teamAverages(ctx, f);
  const members = await departmentMembers(ctx);
  const deptsOf = new Map<string, string[]>();
  for (const m of members) deptsOf.set(m.user_id, [...(deptsOf.get(m.user_id) ?? []), m.department_id]);
  return {
    users: top.map((r, i) => ({
      rank: i + 1,
      ...r,
      email: dir.get(r.user_id)?.email ?? null,
      display_name: dir.get(r.user_id)?.display_name ?? null,
      department_ids: deptsOf.get(r.user_id) ?? [],
    })),
    total_users: rows.length,
    teams,
  };
}

/** Mean engagement of each department's active users (by the department on the event): what a user is compared with. */
export async function teamAverages(ctx: TenantContext, f: Filters, only?: string[]) {
  const w = where(f, only ? "department_id != '' AND department_id IN {only:Array(String)}" : "department_id != ''");
  if (only) w.params.only = only;
  const rows = await ctx.analytics.query<Record<string, string | number>>(
    `SELECT department_id, count() AS users, avg(events) AS events, avg(active_days) AS active_days, avg(sessions) AS sessions,
            avg(diversity) AS diversity, sum(successes) AS successes, sum(failures) AS failures
       FROM (SELECT department_id, user_id, ${COMPARED_COLUMNS} FROM {db}.events WHERE ${w.sql} GROUP BY department_id, user_id)
      GROUP BY department_id ORDER BY department_id`,
    w.params,
  );
  const names = new Map((await departments(ctx)).map((d) => [d.id, d.name]));
  return rows.map((r) => {
    const outcomes = Number(r.successes) + Number(r.failures);
    return {
      department_id: String(r.department_id),
      name: names.get(String(r.department_id)) ?? null,
      active_users: Number(r.users),
      events: round(Number(r.events), 2),
      active_days: round(Number(r.active_days), 2),
      sessions: round(Number(r.sessions), 2),
      diversity: round(Number(r.diversity), 2),
      success_rate: outcomes ? round(Number(r.successes) / outcomes, 4) : null,
    };
  });
}
