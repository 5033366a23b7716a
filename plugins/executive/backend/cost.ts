/**
 * Cost over time, read through the metrics query (`metricsQueryRef`): the sum of
 * `cost_usd` of `agent_invocation` events. Never another plugin's tables.
 *
 * Burn rate and projection (documented in README.md):
 * - the period is the calendar month (UTC) holding the instant `at`, [start, end);
 * - spent = cost in [start, at);
 * - burn rate (USD/day) = spent ÷ days elapsed, (at − start) / 1 day, 0 when none elapsed;
 * - projected month-end spend = spent + burn rate × days left, (end − at) / 1 day.
 */
import { metricsQueryRef, type MetricsWhere, type TenantContext } from '@orrery/plugin-sdk';

export const DAY_MS = 86_400_000;

export interface Period {
  start: Date;
  end: Date;
  at: Date;
}

/** The calendar month (UTC) holding `at`. */
export function monthOf(at: Date): Period {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  return { start, end, at };
}

export interface Burn {
  spent_usd: number;
  burn_rate_usd_per_day: number;
  projected_usd: number;
  days_elapsed: number;
  days_left: number;
}

export function burnOf(spent: number, p: Period): Burn {
  const elapsed = (p.at.getTime() - p.start.getTime()) / DAY_MS;
  const left = (p.end.getTime() - p.at.getTime()) / DAY_MS;
  const rate = elapsed > 0 ? spent / elapsed : 0;
  return { spent_usd: spent, burn_rate_usd_per_day: rate, projected_usd: spent + rate * left, days_elapsed: elapsed, days_left: left };
}

export interface CostFilter {
  department_id?: string;
  agent_name?: string;
}

/** The metrics query of the cost of one filter (no range). */
export const costQuery = (f: CostFilter) => {
  const where: MetricsWhere = {};
  if (f.agent_name) where.agent_name = f.agent_name;
  return {
    event_type: 'agent_invocation',
    measure: 'sum' as const,
    field: 'cost_usd',
    ...(Object.keys(where).length ? { where } : {}),
    ...(f.department_id ? { department_id: f.department_id } : {}),
  };
};

/** Cost in [from, to) for one filter. */
export async function costOf(ctx: TenantContext, from: Date, to: Date, f: CostFilter = {}): Promise<number> {
  if (to <= from) return 0;
  const metrics = await ctx.services.get(metricsQueryRef);
  const a = await metrics.run({ ...costQuery(f), from: from.toISOString(), to: to.toISOString() });
  return a.series.reduce((s, x) => s + (x.total ?? 0), 0);
}

/** Cost per UTC day of [from, to) for one filter, one point per day (0 for days without cost). */
export async function dailyCost(ctx: TenantContext, from: Date, to: Date, f: CostFilter = {}): Promise<Array<{ bucket: string; value: number }>> {
  if (to <= from) return [];
  const metrics = await ctx.services.get(metricsQueryRef);
  const a = await metrics.run({ ...costQuery(f), granularity: 'day', tz: 'UTC', from: from.toISOString(), to: to.toISOString() });
  const s = a.series[0];
  return (s?.points ?? []).map((p) => ({ bucket: p.bucket, value: p.value ?? 0 }));
}

export type BurnGroup = 'org' | 'department' | 'agent' | 'model';
const GROUP_FIELD: Record<Exclude<BurnGroup, 'org'>, string> = { department: 'department_id', agent: 'agent_name', model: 'model_used' };

/** Cost in [from, to) per value of one field (or one row for the org). */
export async function costBy(ctx: TenantContext, from: Date, to: Date, by: BurnGroup | string[]): Promise<Array<{ group: Record<string, string>; cost: number }>> {
  if (to <= from) return [];
  const metrics = await ctx.services.get(metricsQueryRef);
  const group_by = Array.isArray(by) ? by : by === 'org' ? [] : [GROUP_FIELD[by]];
  const a = await metrics.run({ ...costQuery({}), ...(group_by.length ? { group_by } : {}), from: from.toISOString(), to: to.toISOString() });
  return a.series.map((s) => ({ group: s.group, cost: s.total ?? 0 }));
}

export const groupField = (by: Exclude<BurnGroup, 'org'>) => GROUP_FIELD[by];
