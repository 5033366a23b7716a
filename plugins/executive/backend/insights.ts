/**
 * Insights in plain words, computed from the data by fixed rules (no language model).
 * Each compares the 7 days before `at` with the 7 days before those, and carries its
 * evidence (the numbers it was computed from) and a link to the chart that shows it:
 * the metrics "Metric" widget with the query and range to draw.
 *
 * Rules and thresholds (README.md → Insights):
 * - cost: total cost changed by at least COST_CHANGE (20%) and the two weeks together cost
 *   at least COST_MIN_USD; the (agent, model) pair whose cost moved most in that direction
 *   is named with its share of the change.
 * - adoption: a department's people using agents changed by at least ADOPTION_CHANGE (25%),
 *   with at least ADOPTION_MIN_USERS in one of the two weeks.
 * - errors: an agent's failure rate rose by at least ERROR_JUMP (5 points), with at least
 *   ERROR_MIN_INVOCATIONS invocations in each week.
 * - budgets: a budget is over, or projected to end the month over.
 */
import { metricsQueryRef, type MetricsQueryDefinition, type MetricsSeries, type TenantContext } from '@orrery/plugin-sdk';
import { budgetStates, visibleBudgets } from './budgets.ts';
import { DAY_MS } from './cost.ts';

export const THRESHOLDS = {
  COST_CHANGE: 0.2,
  COST_MIN_USD: 1,
  ADOPTION_CHANGE: 0.25,
  ADOPTION_MIN_USERS: 5,
  ERROR_JUMP: 0.05,
  ERROR_MIN_INVOCATIONS: 20,
} as const;

export type Severity = 'critical' | 'warning' | 'info';

export interface Insight {
  id: string;
  kind: 'cost_change' | 'adoption_change' | 'error_rate_jump' | 'budget';
  severity: Severity;
  direction: 'up' | 'down';
  text: string;
  evidence: Record<string, unknown>;
  link: { widget: string; title: string; options: { title: string; chart: 'line' | 'bar'; query: MetricsQueryDefinition }; from: string; to: string } | { widget: string; title: string; options: Record<string, unknown> };
}

const pct = (x: number) => `${Math.round(Math.abs(x) * 100)}%`;
const usd = (x: number) => `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

const chart = (title: string, query: MetricsQueryDefinition, from: Date, to: Date, chartKind: 'line' | 'bar' = 'line') => ({
  widget: 'metrics/metric',
  title,
  options: { title, chart: chartKind, query },
  from: from.toISOString(),
  to: to.toISOString(),
});

export interface InsightWindows {
  at: Date;
  current: { from: Date; to: Date };
  previous: { from: Date; to: Date };
}

export function windowsOf(at: Date): InsightWindows {
  const mid = new Date(at.getTime() - 7 * DAY_MS);
  return { at, current: { from: mid, to: at }, previous: { from: new Date(mid.getTime() - 7 * DAY_MS), to: mid } };
}

/**
 * What the cost, error and adoption rules read, for both weeks at once: two ClickHouse
 * queries (invocations and cost per agent, model and status; people per department) through
 * the metrics service's `runWindows`, which reads the two weeks' events once.
 */
interface Weeks {
  /** per week: invocations and cost per (agent, model, status) */
  calls: Record<'current' | 'previous', MetricsSeries[]>;
  cost: Record<'current' | 'previous', MetricsSeries[]>;
  /** per week: distinct people with an invocation, per department */
  users: Record<'current' | 'previous', MetricsSeries[]>;
}

const INVOCATION_GROUPS = ['agent_name', 'model_used', 'status'];
async function readWeeks(ctx: TenantContext, w: InsightWindows): Promise<Weeks> {
  const metrics = await ctx.services.get(metricsQueryRef);
  const queries: MetricsQueryDefinition[] = [
    { event_type: 'agent_invocation', measure: 'count', group_by: INVOCATION_GROUPS },
    { event_type: 'agent_invocation', measure: 'sum', field: 'cost_usd', group_by: INVOCATION_GROUPS },
    { event_type: 'agent_invocation', measure: 'users', group_by: ['department_id'] },
  ];
  const [cur, prev] = await metrics.runWindows(queries, [w.current, w.previous]);
  return {
    calls: { current: cur![0] ?? [], previous: prev![0] ?? [] },
    cost: { current: cur![1] ?? [], previous: prev![1] ?? [] },
    users: { current: cur![2] ?? [], previous: prev![2] ?? [] },
  };
}

function costInsight(weeks: Weeks, w: InsightWindows): Insight[] {
  const key = (g: Record<string, string>) => `${g.agent_name ?? ''}\u0000${g.model_used ?? ''}`;
  const pairs = new Map<string, { agent_name: string; model_used: string; current: number; previous: number }>();
  for (const side of ['current', 'previous'] as const)
    for (const r of weeks.cost[side]) {
      const k = key(r.group);
      const p = pairs.get(k) ?? { agent_name: r.group.agent_name ?? '', model_used: r.group.model_used ?? '', current: 0, previous: 0 };
      p[side] += r.total ?? 0;
      pairs.set(k, p);
    }
  const current = [...pairs.values()].reduce((s, p) => s + p.current, 0);
  const previous = [...pairs.values()].reduce((s, p) => s + p.previous, 0);
  if (previous <= 0 || current + previous < THRESHOLDS.COST_MIN_USD) return [];
  const change = (current - previous) / previous;
  if (Math.abs(change) < THRESHOLDS.COST_CHANGE) return [];
  const delta = current - previous;
  const up = delta > 0;
  // the pair that moved most in the direction of the change (ties: by name)
  const top = [...pairs.values()].sort((a, b) => (up ? b.current - b.previous - (a.current - a.previous) : a.current - a.previous - (b.current - b.previous)) || key({ agent_name: a.agent_name, model_used: a.model_used }).localeCompare(key({ agent_name: b.agent_name, model_used: b.model_used })))[0]!;
  const topDelta = top.current - top.previous;
  const share = topDelta / delta;
  let text = `Cost ${up ? 'rose' : 'fell'} ${pct(change)} week over week (${usd(previous)} → ${usd(current)})`;
  if (share > 0) text += share > 1 ? `; ${top.agent_name} on ${top.model_used} ${up ? 'added' : 'saved'} ${usd(Math.abs(topDelta))}, more than the whole ${up ? 'rise' : 'fall'}` : `, ${pct(share)} of it from ${top.agent_name} on ${top.model_used}`;
  return [
    {
      id: 'cost_change',
      kind: 'cost_change',
      severity: up ? 'warning' : 'info',
      direction: up ? 'up' : 'down',
      text: `${text}.`,
      evidence: { current_usd: current, previous_usd: previous, change, top: { agent_name: top.agent_name, model_used: top.model_used, current_usd: top.current, previous_usd: top.previous, delta_usd: topDelta, share_of_change: share } },
      link: chart('Cost per day by agent and model', { event_type: 'agent_invocation', measure: 'sum', field: 'cost_usd', group_by: ['agent_name', 'model_used'], granularity: 'day' }, w.previous.from, w.current.to),
    },
  ];
}

async function adoptionInsights(ctx: TenantContext, weeks: Weeks, w: InsightWindows): Promise<Insight[]> {
  const users = new Map<string, { current: number; previous: number }>();
  for (const side of ['current', 'previous'] as const)
    for (const s of weeks.users[side]) {
      const d = s.group.department_id ?? '';
      const u = users.get(d) ?? { current: 0, previous: 0 };
      u[side] += s.total ?? 0;
      users.set(d, u);
    }
  const names = await ctx.directory.departmentNames();
  const out: Insight[] = [];
  for (const [dep, u] of [...users.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (!dep || Math.max(u.current, u.previous) < THRESHOLDS.ADOPTION_MIN_USERS || u.previous === 0) continue;
    const change = (u.current - u.previous) / u.previous;
    if (Math.abs(change) < THRESHOLDS.ADOPTION_CHANGE) continue;
    const name = names.get(dep) ?? dep;
    const up = change > 0;
    out.push({
      id: `adoption_change:${dep}`,
      kind: 'adoption_change',
      severity: up ? 'info' : 'warning',
      direction: up ? 'up' : 'down',
      text: `People using agents in ${name} ${up ? 'rose' : 'fell'} ${pct(change)} week over week (${u.previous} → ${u.current}).`,
      evidence: { department_id: dep, department_name: name, current_users: u.current, previous_users: u.previous, change },
      link: chart(`People using agents in ${name}`, { event_type: 'agent_invocation', measure: 'users', department_id: dep, granularity: 'day' }, w.previous.from, w.current.to),
    });
  }
  return out;
}

function errorInsights(weeks: Weeks, w: InsightWindows): Insight[] {
  const agents = new Map<string, { cur: [number, number]; prev: [number, number] }>();
  for (const [list, side] of [[weeks.calls.current, 'cur'], [weeks.calls.previous, 'prev']] as const)
    for (const s of list) {
      const a = agents.get(s.group.agent_name ?? '') ?? { cur: [0, 0], prev: [0, 0] };
      const n = s.total ?? 0;
      a[side][1] += n;
      if (s.group.status === 'failure') a[side][0] += n;
      agents.set(s.group.agent_name ?? '', a);
    }
  const out: Insight[] = [];
  for (const [agent, a] of [...agents.entries()].sort((x, y) => x[0].localeCompare(y[0]))) {
    if (a.cur[1] < THRESHOLDS.ERROR_MIN_INVOCATIONS || a.prev[1] < THRESHOLDS.ERROR_MIN_INVOCATIONS) continue;
    const rc = a.cur[0] / a.cur[1];
    const rp = a.prev[0] / a.prev[1];
    if (rc - rp < THRESHOLDS.ERROR_JUMP) continue;
    out.push({
      id: `error_rate_jump:${agent}`,
      kind: 'error_rate_jump',
      severity: rc >= 0.2 ? 'critical' : 'warning',
      direction: 'up',
      text: `Error rate of ${agent} rose from ${(rp * 100).toFixed(1)}% to ${(rc * 100).toFixed(1)}% week over week (${a.cur[0]} of ${a.cur[1]} invocations failed).`,
      evidence: { agent_name: agent, current_rate: rc, previous_rate: rp, current_failures: a.cur[0], current_invocations: a.cur[1], previous_failures: a.prev[0], previous_invocations: a.prev[1], change_points: rc - rp },
      link: chart(`Error rate of ${agent}`, { event_type: 'agent_invocation', measure: 'rate', rate_where: { status: 'failure' }, where: { agent_name: agent }, granularity: 'day' }, w.previous.from, w.current.to),
    });
  }
  return out;
}

async function budgetInsights(ctx: TenantContext, w: InsightWindows): Promise<Insight[]> {
  const out: Insight[] = [];
  const list = await visibleBudgets(ctx);
  const states = await budgetStates(ctx, list, w.at);
  for (const [i, b] of list.entries()) {
    const s = states[i]!;
    if (s.status === 'on_track') continue;
    const text =
      s.status === 'over'
        ? `Budget “${b.name}” is over: ${usd(s.spent_usd)} spent of ${usd(b.amount_usd)} (${pct(s.share)}).`
        : `Budget “${b.name}” is projected to end the month at ${usd(s.projected_usd)}, ${usd(s.projected_overspend_usd)} over its ${usd(b.amount_usd)}.`;
    out.push({
      id: `budget:${b.id}`,
      kind: 'budget',
      severity: s.status === 'over' ? 'critical' : 'warning',
      direction: 'up',
      text,
      evidence: { budget_id: b.id, name: b.name, scope: b.scope, scope_id: b.scope_id, amount_usd: b.amount_usd, spent_usd: s.spent_usd, projected_usd: s.projected_usd, burn_rate_usd_per_day: s.burn_rate_usd_per_day, status: s.status },
      link: { widget: 'executive/budget-burn-down', title: `Burn-down of ${b.name}`, options: { budget: b.id } },
    });
  }
  return out;
}

const RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

export async function computeInsights(ctx: TenantContext, at: Date) {
  const w = windowsOf(at);
  const [budgets, weeks] = await Promise.all([budgetInsights(ctx, w), readWeeks(ctx, w)]);
  const groups = [budgets, errorInsights(weeks, w), costInsight(weeks, w), await adoptionInsights(ctx, weeks, w)];
  const insights = groups.flat().sort((a, b) => RANK[a.severity] - RANK[b.severity]);
  return {
    as_of: at.toISOString(),
    current: { from: w.current.from.toISOString(), to: w.current.to.toISOString() },
    previous: { from: w.previous.from.toISOString(), to: w.previous.to.toISOString() },
    thresholds: THRESHOLDS,
    insights,
  };
}
