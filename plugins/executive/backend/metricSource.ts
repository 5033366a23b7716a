/**
 * Budgets as a metric source (`metricSourceRef`), so alert rules, the explorer and
 * reports can watch them. A budget is a state at an instant, not a sum over a range:
 * every metric here is taken at the range's end (`to`, the evaluation time of an alert
 * rule), over the calendar month holding it. With a department, only that department's
 * budgets (and its cost) count.
 */
import { defineMetricSource, metricSourceRef, provide, type MetricQuery, type TenantContext } from '@orrery/plugin-sdk';
import { budgetStates, visibleBudgets } from './budgets.ts';
import { burnOf, costOf, monthOf } from './cost.ts';

async function states(ctx: TenantContext, q: MetricQuery) {
  return budgetStates(ctx, await visibleBudgets(ctx, { departmentId: q.departmentId }), q.range.to);
}

export const budgetMetrics = provide(metricSourceRef, (ctx) =>
  defineMetricSource([
    {
      name: 'budget_used_ratio',
      title: 'Budget used (highest)',
      description: 'The highest spent ÷ amount among the budgets (of the department, when one is given) in the month holding the range’s end; null without budgets',
      unit: 'ratio',
      better: 'lower',
      read: async (q) => {
        const s = await states(ctx, q);
        return s.length ? Math.max(...s.map((x) => x.share)) : null;
      },
    },
    {
      name: 'projected_overspend_usd',
      title: 'Projected overspend',
      description: 'Sum over the budgets of how far the projected month-end spend exceeds the amount (0 when none does); null without budgets',
      unit: 'usd',
      better: 'lower',
      read: async (q) => {
        const s = await states(ctx, q);
        return s.length ? s.reduce((sum, x) => sum + x.projected_overspend_usd, 0) : null;
      },
    },
    {
      name: 'projected_month_spend_usd',
      title: 'Projected month-end spend',
      description: 'Spend so far in the month holding the range’s end, plus the month-to-date daily burn rate times the days left',
      unit: 'usd',
      better: 'lower',
      read: async (q) => {
        const p = monthOf(q.range.to);
        return burnOf(await costOf(ctx, p.start, p.at, q.departmentId ? { department_id: q.departmentId } : {}), p).projected_usd;
      },
    },
  ]),
);
