/**
 * What this plugin offers other plugins (the explorer, alerts, trends, reports): two
 * metric sources through the SDK's `metricSourceRef`, computed by the same SQL as
 * `GET /summary`. A department's figure follows the summary route's privacy rule: for
 * a caller who may not see individuals, a department with fewer people than the
 * minimum group size has no number (null).
 */
import { defineMetricSource, metricSourceRef, provide, type MetricQuery, type TenantContext } from '@orrery/plugin-sdk';
import { individualScope, loadSettings } from './privacy.ts';
import { summary } from './queries.ts';

async function figures(ctx: TenantContext, q: MetricQuery) {
  const s = await summary(ctx.analytics, q.range, q.departmentId);
  if (!q.departmentId) return s;
  const settings = await loadSettings(ctx);
  const min = (await individualScope(ctx, settings)) ? 0 : settings.privacy.minGroupSize;
  return s.users < min ? null : s;
}

export const knowledgeMetrics = provide(metricSourceRef, (ctx) =>
  defineMetricSource([
    {
      name: 'reuse_rate',
      title: 'Knowledge reuse rate',
      description: 'Of the artifacts created in the range, the share reused at least once (at any later time) by someone other than the author',
      unit: 'ratio',
      better: 'higher',
      read: async (q) => (await figures(ctx, q))?.reuse_rate ?? null,
    },
    {
      name: 'cross_department_reuse_rate',
      title: 'Cross-department reuse rate',
      description: "Of the artifacts created in the range, the share reused by someone else whose reuse event carries another department than the author's",
      unit: 'ratio',
      better: 'higher',
      read: async (q) => (await figures(ctx, q))?.cross_department_reuse_rate ?? null,
    },
    {
      name: 'artifacts_created',
      title: 'Knowledge artifacts created',
      description: '`knowledge_artifact` events with action `created` in the range',
      unit: 'count',
      better: 'higher',
      read: async (q) => (await figures(ctx, q))?.created ?? null,
    },
  ]),
);
