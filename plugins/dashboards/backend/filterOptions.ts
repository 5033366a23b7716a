/**
 * What the dashboard filters bar offers (`GET /api/v1/dashboards/filter-options`).
 *
 * Departments come from the kernel's directory (`ctx.directory`), by role: an Admin picks any
 * department of the org, a Manager the departments they manage (their own when they manage
 * none), a Developer their own. Agents are the agent names the org's `agent_invocation` events
 * carried over the last `days` (90 by default), busiest first, asked through the metrics
 * query service (`metricsQueryRef`, which applies the caller's department scope); without the
 * metrics plugin the list is empty and the portal's free text still filters.
 */
import { HttpError, badRequest, forbidden, metricsQueryRef, type Caller, type TenantContext } from '@orrery/plugin-sdk';

export const FILTER_OPTION_DAYS = 90;
/** at most this many agents in the picker (the busiest); free text reaches the rest */
export const MAX_AGENTS = 500;

export interface FilterOptionsQuery {
  department_id?: string;
  days?: number;
}

export const filterOptionsQuery = {
  type: 'object',
  properties: {
    department_id: { type: 'string', minLength: 1, maxLength: 64 },
    days: { type: 'integer', minimum: 1, maximum: 730 },
  },
  additionalProperties: false,
} as const;

export const filterOptionsAnswer = {
  type: 'object',
  required: ['departments', 'agents', 'agents_source'],
  properties: {
    departments: { type: 'array', items: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } } },
    agents: { type: 'array', items: { type: 'object', required: ['name', 'events'], properties: { name: { type: 'string' }, events: { type: 'number' } } } },
    /** `metrics` when the names came from the metrics query, `none` when no metrics service is on */
    agents_source: { type: 'string', enum: ['metrics', 'none'] },
  },
} as const;

/** The departments `c` may pick, by name. */
export async function pickableDepartments(ctx: TenantContext, c: Caller): Promise<Array<{ id: string; name: string }>> {
  const all = await ctx.directory.departments();
  const managed = c.departments.filter((d) => d.manager).map((d) => d.id);
  const allowed =
    c.role === 'Admin' ? null
    : c.role === 'Manager' && managed.length ? new Set(managed)
    : new Set(c.departments.map((d) => d.id));
  return all.filter((d) => !allowed || allowed.has(d.id)).map((d) => ({ id: d.id, name: d.name }));
}

/** Agent names with their number of invocations over the last `days`, busiest first; null without a metrics service. */
export async function pickableAgents(ctx: TenantContext, days: number, departmentId?: string): Promise<Array<{ name: string; events: number }> | null> {
  let metrics;
  try {
    metrics = await ctx.services.get(metricsQueryRef);
  } catch (err) {
    if (err instanceof HttpError && err.statusCode === 424) return null; // the metrics plugin is off for the org
    throw err;
  }
  // whole hours, so that the same picker asked twice within the hour is the same question
  const to = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
  const from = new Date(to.getTime() - days * 86_400_000);
  const answer = await metrics.run({
    event_type: 'agent_invocation',
    measure: 'count',
    group_by: ['agent_name'],
    from: from.toISOString(),
    to: to.toISOString(),
    ...(departmentId ? { department_id: departmentId } : {}),
  });
  return answer.series
    .map((s) => ({ name: String(s.group.agent_name ?? ''), events: Number(s.total ?? 0) }))
    .filter((a) => a.name !== '' && a.events > 0)
    .sort((a, b) => b.events - a.events || a.name.localeCompare(b.name))
    .slice(0, MAX_AGENTS);
}

export async function filterOptions(ctx: TenantContext, q: FilterOptionsQuery) {
  const c = ctx.caller;
  if (!c) throw forbidden('a signed-in user is required');
  const departments = await pickableDepartments(ctx, c);
  if (q.department_id && !(await ctx.directory.departments()).some((d) => d.id === q.department_id))
    throw badRequest(`department_id: no department "${q.department_id}" in this organization`, { field: 'department_id' });
  const agents = await pickableAgents(ctx, q.days ?? FILTER_OPTION_DAYS, q.department_id);
  return { departments, agents: agents ?? [], agents_source: agents ? 'metrics' as const : 'none' as const };
}
