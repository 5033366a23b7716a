/**
 * What funnels offers other plugins: workflow completion as a metric source,
 * computed by the same SQL as `GET /workflows` (each user's first enrolment
 * in the range per workflow; completed = a later `goal_reached`, events after
 * the range included).
 */
import { defineMetricSource, metricSourceRef, provide, type MetricQuery, type TenantContext } from '@orrery/plugin-sdk';
import type { Scope } from './workflows/sql.ts';
import { readList } from './workflows/figures.ts';

async function totals(ctx: TenantContext, q: MetricQuery) {
  const scope: Scope = { departments: q.departmentId ? [q.departmentId] : null };
  const rows = await readList(ctx, q.range, scope);
  let enrolled = 0;
  let completed = 0;
  for (const r of rows) {
    enrolled += Number(r.enrolled ?? 0);
    completed += Number(r.completed ?? 0);
  }
  return { enrolled, completed };
}

export const funnelMetrics = provide(metricSourceRef, (ctx) =>
  defineMetricSource([
    {
      name: 'workflow_completion_rate',
      title: 'Workflow completion rate',
      description: 'Enrolments in the range (a user’s first per workflow) that reached the goal later ÷ enrolments, over every workflow',
      unit: 'ratio',
      better: 'higher',
      read: async (q) => {
        const t = await totals(ctx, q);
        return t.enrolled ? t.completed / t.enrolled : null;
      },
    },
    {
      name: 'workflow_enrolments',
      title: 'Workflow enrolments',
      description: 'Users enrolled in a workflow in the range, counted once per workflow',
      unit: 'count',
      better: 'neither',
      read: async (q) => (await totals(ctx, q)).enrolled,
    },
  ]),
);
