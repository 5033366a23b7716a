/**
 * The last minutes of events, per minute (`GET /api/v1/dashboards/live/recent`): what the live
 * event stream widget shows before the bus brings anything, so a page opened on a quiet moment
 * still says what just happened, and when the last event came if nothing did.
 *
 * The scope is the bus's: the whole org, or one department the caller belongs to (an Admin:
 * any), narrowed as the metrics query narrows (a restricted department's events only for its
 * managers and Admins). Minutes are by event time, each event counted once by its id.
 */
import { badRequest, forbidden, type Caller, type TenantContext } from '@orrery/plugin-sdk';

export const RECENT_DEFAULT_MINUTES = 15;
export const RECENT_MAX_MINUTES = 60;
/** how far back `last_event_at` looks (one partition or two): older than this reads as "none lately" */
export const LAST_EVENT_LOOKBACK_DAYS = 30;
/** agent names kept per minute, the busiest first */
export const AGENTS_PER_MINUTE = 3;

const MINUTE = 60_000;

export interface RecentQuery {
  minutes?: number;
  department_id?: string;
}

export interface RecentMinute {
  /** the minute's start, ISO */
  at: string;
  count: number;
  types: Record<string, number>;
  agents: string[];
}

export interface RecentAnswer {
  from: string;
  to: string;
  minutes: RecentMinute[];
  /** the newest event of the scope over the last 30 days, whatever the window; null when none */
  last_event_at: string | null;
}

export const recentQuery = {
  type: 'object',
  properties: {
    minutes: { type: 'integer', minimum: 1, maximum: RECENT_MAX_MINUTES, default: RECENT_DEFAULT_MINUTES },
    department_id: { type: 'string', minLength: 1, maxLength: 64 },
  },
  additionalProperties: false,
} as const;

export const recentAnswer = {
  type: 'object',
  required: ['from', 'to', 'minutes', 'last_event_at'],
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    minutes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['at', 'count', 'types', 'agents'],
        properties: {
          at: { type: 'string', format: 'date-time' },
          count: { type: 'integer' },
          types: { type: 'object', additionalProperties: { type: 'integer' } },
          agents: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    last_event_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

/** Whether `c` receives the bus's messages of `departmentId`: its members, and every Admin. */
function maySeeDepartment(c: Caller, departmentId: string): boolean {
  return c.role === 'Admin' || c.departments.some((d) => d.id === departmentId);
}

export async function recentActivity(ctx: TenantContext, q: RecentQuery, now = Date.now()): Promise<RecentAnswer> {
  const c = ctx.caller;
  if (!c) throw forbidden('a signed-in user is required');
  const span = q.minutes ?? RECENT_DEFAULT_MINUTES;
  const params: Record<string, unknown> = {};
  let dept = '';
  if (q.department_id) {
    if (!(await ctx.directory.departments()).some((d) => d.id === q.department_id))
      throw badRequest(`department_id: no department "${q.department_id}" in this organization`, { field: 'department_id' });
    if (!maySeeDepartment(c, q.department_id)) throw forbidden(`you are not a member of department ${q.department_id}`, { field: 'department_id' });
    dept = ' AND department_id = {department_id:String}';
    params.department_id = q.department_id;
  }
  const visible = await ctx.directory.visibleDepartments();
  if (visible) {
    dept += ' AND department_id IN {visible_departments:Array(String)}';
    params.visible_departments = visible;
  }
  // whole minutes: the current one (still filling) and the `span - 1` before it
  const to = (Math.floor(now / MINUTE) + 1) * MINUTE;
  const from = to - span * MINUTE;
  params.from_ms = from;
  params.to_ms = to;
  params.since_ms = now - LAST_EVENT_LOOKBACK_DAYS * 86_400_000;
  const events = ctx.analytics.table('events');
  const inRange = `timestamp >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')`;
  // one row per (minute, type, agent); the minute's figures are put together below
  const rows = await ctx.analytics.query<MinuteRow & { last: string | number }>(
    `SELECT toUnixTimestamp(toStartOfMinute(timestamp)) * 1000 AS m, event_type, agent_name, uniqExact(event_id) AS n,
            toUnixTimestamp64Milli(max(timestamp)) AS last
       FROM ${events}
      WHERE org_id = {org_id:String} AND ${inRange}${dept}
      GROUP BY m, event_type, agent_name`,
    params,
  );
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    minutes: foldMinutes(rows),
    // the window's newest event when it has one; only an empty window looks further back
    last_event_at: rows.length ? new Date(Math.max(...rows.map((r) => Number(r.last)))).toISOString() : await lastEventBefore(ctx, params, dept),
  };
}

/** The newest event of the scope over the lookback, before the window's end; null when none. */
async function lastEventBefore(ctx: TenantContext, params: Record<string, unknown>, dept: string): Promise<string | null> {
  const [last] = await ctx.analytics.query<{ last: string | number; n: string | number }>(
    `SELECT toUnixTimestamp64Milli(max(timestamp)) AS last, count() AS n
       FROM ${ctx.analytics.table('events')}
      WHERE org_id = {org_id:String} AND timestamp >= fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')
        AND timestamp < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')${dept}`,
    params,
  );
  return Number(last?.n ?? 0) > 0 ? new Date(Number(last!.last)).toISOString() : null;
}

type MinuteRow = { m: string | number; event_type: string; agent_name: string; n: string | number };

/** The minutes, oldest first, from rows of (minute, type, agent, events). */
export function foldMinutes(rows: MinuteRow[]): RecentMinute[] {
  const byMinute = new Map<number, { count: number; types: Record<string, number>; agents: Map<string, number> }>();
  for (const r of rows) {
    const m = Number(r.m);
    const n = Number(r.n);
    let e = byMinute.get(m);
    if (!e) byMinute.set(m, (e = { count: 0, types: {}, agents: new Map() }));
    e.count += n;
    e.types[r.event_type] = (e.types[r.event_type] ?? 0) + n;
    if (r.agent_name) e.agents.set(r.agent_name, (e.agents.get(r.agent_name) ?? 0) + n);
  }
  return [...byMinute.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([m, e]) => ({
      at: new Date(m).toISOString(),
      count: e.count,
      types: e.types,
      agents: [...e.agents.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, AGENTS_PER_MINUTE).map(([name]) => name),
    }));
}
