/**
 * The filters every user-activity query shares, and the department visibility
 * rule for per-user rows. Kept in one place so that no route can forget the
 * restricted-department rule or the tenant binding.
 */
import { badRequest, forbidden, parseTimeRange, type TenantContext, type TimeRange } from '@orrery/plugin-sdk';

export interface Filters {
  range: TimeRange;
  departmentId?: string;
  agent?: string;
}

export const filterQuerySchema = {
  department_id: { type: 'string', maxLength: 64, description: 'only events recorded in this department' },
  agent: { type: 'string', maxLength: 200, description: 'only events of this agent (agent_name)' },
} as const;

export function filters(q: { from?: string; to?: string; tz?: string; department_id?: string; agent?: string }, defaultDays = 30): Filters {
  return { range: parseTimeRange(q, defaultDays), departmentId: q.department_id || undefined, agent: q.agent || undefined };
}

/**
 * WHERE clause over `{db}.events` for a filter set; the params go with it.
 * `from`/`to` are bound as strings and parsed as UTC, so the server's own zone
 * never matters.
 */
export function where(f: Filters, extra = ''): { sql: string; params: Record<string, unknown> } {
  const parts = [
    'org_id = {org_id:String}',
    "timestamp >= toDateTime64({from:String}, 3, 'UTC')",
    "timestamp < toDateTime64({to:String}, 3, 'UTC')",
    "user_id != ''",
  ];
  const params: Record<string, unknown> = { from: f.range.fromCh, to: f.range.toCh, tz: f.range.tz };
  if (f.departmentId) {
    parts.push('department_id = {department_id:String}');
    params.department_id = f.departmentId;
  }
  if (f.agent) {
    parts.push('agent_name = {agent:String}');
    params.agent = f.agent;
  }
  if (extra) parts.push(extra);
  return { sql: parts.join(' AND '), params };
}

export interface Department {
  id: string;
  name: string;
  restricted: boolean;
}

export async function departments(ctx: TenantContext): Promise<Department[]> {
  return ctx.directory.departments();
}

export async function departmentMembers(ctx: TenantContext): Promise<Array<{ department_id: string; user_id: string; manager: boolean }>> {
  return (await ctx.directory.memberships()).map((m) => ({ department_id: m.departmentId, user_id: m.userId, manager: m.manager }));
}

/**
 * Whether an id can belong to a member of the org (a UUID). Events name their users with
 * any string (`u-42`, an email…); only members are in the directory tables, whose uuid
 * columns reject anything else.
 */
export const isMemberId = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

/** Names and emails of the org's users (active members), by id. */
export async function userDirectory(ctx: TenantContext, ids?: string[]): Promise<Map<string, { email: string; display_name: string }>> {
  const rows = await ctx.directory.members({ ids, includeInactive: true });
  return new Map(rows.map((r) => [r.id, { email: r.email, display_name: r.displayName }]));
}

/**
 * Per-user rows the caller may not see: members of restricted departments the
 * caller does not manage (Admins see everything). Returned both as users and
 * as department ids, because an event carries the department it happened in
 * and a user may have left that department since.
 */
export async function hiddenScope(ctx: TenantContext): Promise<{ users: string[]; departments: string[] }> {
  const visible = await ctx.visibleUserDepartments();
  if (visible === null) return { users: [], departments: [] };
  const allow = new Set(visible);
  const hiddenDepts = (await departments(ctx)).filter((d) => !allow.has(d.id)).map((d) => d.id);
  if (!hiddenDepts.length) return { users: [], departments: [] };
  const members = new Set((await ctx.directory.memberships({ departmentIds: hiddenDepts })).map((m) => m.userId));
  const self = ctx.caller?.userId;
  return { users: [...members].filter((u) => u !== self), departments: hiddenDepts };
}

/** SQL (for a GROUP BY user_id) that drops hidden users; bind `hidden_users` and `hidden_depts`. */
export const HIDDEN_HAVING = 'user_id NOT IN {hidden_users:Array(String)} AND countIf(department_id IN {hidden_depts:Array(String)}) = 0';

export async function assertMayView(ctx: TenantContext, userId: string) {
  if (!ctx.caller) throw forbidden('a signed-in user is required');
  if (ctx.caller.userId === userId) return;
  const hidden = await hiddenScope(ctx);
  if (hidden.users.includes(userId)) throw forbidden('this user belongs to a restricted department you do not manage', { user_id: userId });
}

export function limitParam(v: unknown, def: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`limit must be an integer from 1 to ${max}`, { field: 'limit' });
  return n;
}

export const round = (x: number, digits = 3) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
