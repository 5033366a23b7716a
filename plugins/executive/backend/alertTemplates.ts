/**
 * Budget alerts as rule templates the alerts plugin offers (`alertTemplatesRef`): the PRD's
 * budget alerts over this plugin's metric source. A rule made from one reads the source at
 * each evaluation; `window_seconds` only sets how often the state is looked at.
 */
import { alertTemplatesRef, provide, type AlertRuleTemplate } from '@orrery/plugin-sdk';

export const budgetTemplates: AlertRuleTemplate[] = [
  {
    key: 'executive.budget-nearly-spent',
    title: 'A budget is nearly spent',
    description: 'The most-used budget (of the org, or of a department when the rule names one) passes a share of its amount this month.',
    params: { share: { description: 'spent ÷ amount (0.8 = 80%)', default: 0.8 } },
    build: (p) => ({
      query: { source: 'executive', metric: 'budget_used_ratio' },
      window_seconds: 3600,
      condition: { op: 'gte', threshold: p.share!, recovery_threshold: Math.max(0, p.share! - 0.05) },
      interval_seconds: 300,
      no_data: 'ok',
      labels: { severity: 'warning', source: 'executive' },
      annotations: { summary: 'A budget is {{ $value }} spent' },
    }),
  },
  {
    key: 'executive.budget-projected-over',
    title: 'A budget is projected to end the month over',
    description: 'At the month-to-date burn rate, the budgets together would overspend by more than an amount at month end.',
    params: { usd: { description: 'projected overspend in USD', default: 0 } },
    build: (p) => ({
      query: { source: 'executive', metric: 'projected_overspend_usd' },
      window_seconds: 3600,
      condition: { op: 'gt', threshold: p.usd! },
      interval_seconds: 900,
      no_data: 'ok',
      labels: { severity: 'warning', source: 'executive' },
      annotations: { summary: 'Projected month-end overspend: {{ $value }} USD' },
    }),
  },
];

export const budgetAlertTemplates = provide(alertTemplatesRef, () => ({ templates: budgetTemplates }));
