/**
 * What user-activity offers other plugins: active users as metrics (from
 * `summary`, the same code as the plugin's summary route) and the users active
 * in a range as a cohort.
 */
import { cohortFilterRef, defineCohortFilters, defineMetricSource, metricSourceRef, provide, type MetricQuery, type TenantContext } from '@orrery/plugin-sdk';
import { summary } from './activity.ts';
import { where } from './scope.ts';

const headline = (ctx: TenantContext, q: MetricQuery) => summary(ctx, { range: q.range, departmentId: q.departmentId });

export const activityMetrics = provide(metricSourceRef, (ctx) =>
  defineMetricSource([
    {
      name: 'dau',
      title: 'Daily active users',
      description: 'Distinct users with an event in the last 24 hours before the end of the range',
      unit: 'users',
      better: 'higher',
      read: async (q) => (await headline(ctx, q)).dau,
    },
    {
      name: 'avg_dau',
      title: 'Mean daily active users',
      description: 'Distinct (user, day) pairs over the range ÷ days of the range',
      unit: 'users',
      better: 'higher',
      read: async (q) => (await headline(ctx, q)).avg_dau,
    },
    {
      name: 'active_users',
      title: 'Active users',
      description: 'Distinct users with an event in the range',
      unit: 'users',
      better: 'higher',
      read: async (q) => (await headline(ctx, q)).active_users,
    },
  ]),
);

export const activityCohorts = provide(cohortFilterRef, (ctx) =>
  defineCohortFilters([
    {
      name: 'active',
      title: 'Active in the range',
      description: 'Users with at least one event in the range',
      async resolve(q) {
        const w = where({ range: q.range });
        const rows = await ctx.analytics.query<{ user_id: string }>(`SELECT DISTINCT user_id FROM {db}.events WHERE ${w.sql}`, w.params);
        return rows.map((r) => r.user_id);
      },
    },
  ]),
);
