/**
 * What cohorts offers other plugins, computed by its own code:
 *  - metric sources: period-n retention (first-time cohorts, any event, exact
 *    counting) of the cohorts that start in the range, weighted by their size:
 *    Σ retained[n] ÷ Σ size over the cohorts whose period n has begun;
 *  - cohort filters: every saved cohort of the org by its id, resolved to its
 *    current members (the membership table the recompute job keeps).
 */
import { cohortFilterRef, defineCohortFilters, defineMetricSource, metricSourceRef, provide, type MetricQuery, type TenantContext } from '@orrery/plugin-sdk';
import { retention } from './retention.ts';
import { membersOf, toRecord } from './cohorts.ts';
import { COHORTS } from './store.ts';
import type { Period } from './periods.ts';

/** Size-weighted period-n retention of the period cohorts starting in the range; null without members. */
export async function periodRetention(ctx: TenantContext, q: MetricQuery, period: Period, n: number): Promise<number | null> {
  const answer = await retention(ctx, {
    from: q.range.from,
    to: q.range.to,
    tz: 'UTC',
    period,
    periods: n + 1,
    startEvent: 'any',
    returnEvent: 'any',
    mode: 'first_time',
    counting: 'exact',
    departmentId: q.departmentId,
    breakdown: false,
  });
  let size = 0;
  let kept = 0;
  for (const c of answer.cohorts) {
    if (c.retained.length <= n) continue;
    size += c.size;
    kept += c.retained[n]!;
  }
  return size ? kept / size : null;
}

const RETENTION: Array<{ name: string; title: string; period: Period; n: number }> = [
  { name: 'day1_retention', title: 'Day-1 retention', period: 'day', n: 1 },
  { name: 'day7_retention', title: 'Day-7 retention', period: 'day', n: 7 },
  { name: 'week1_retention', title: 'Week-1 retention', period: 'week', n: 1 },
  { name: 'month1_retention', title: 'Month-1 retention', period: 'month', n: 1 },
];

export const cohortMetrics = provide(metricSourceRef, (ctx) =>
  defineMetricSource(
    RETENTION.map((m) => ({
      name: m.name,
      title: m.title,
      description: `Share of each ${m.period}'s new users (first event ever, UTC ${m.period}s starting in the range) active again exactly ${m.n} ${m.period} later, weighted by cohort size`,
      unit: 'ratio' as const,
      better: 'higher' as const,
      read: (q: MetricQuery) => periodRetention(ctx, q, m.period, m.n),
    })),
  ),
);

export const cohortFilters = provide(cohortFilterRef, async (ctx) => {
  const rows: Array<Record<string, unknown>> = await ctx.db.table(COHORTS).select('*').orderBy('created_at');
  const saved = rows.map(toRecord);
  return defineCohortFilters(
    saved.map((c) => ({
      name: String(c.id),
      title: c.name,
      description: c.description || `${c.kind} cohort "${c.name}"`,
      resolve: () => membersOf(ctx, String(c.id)),
    })),
  );
});
