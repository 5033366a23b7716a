/**
 * What adoption offers other plugins: its scores and support flags as metrics
 * (alerts, trends, reports read them), and the flagged users as a cohort
 * (retention, funnels and experiments filter by it). Both are computed by the
 * same code as the plugin's own routes, for the last day of the range asked.
 */
import { cohortFilterRef, defineCohortFilters, defineMetricSource, metricSourceRef, provide, type TenantContext, type TimeRange } from '@orrery/plugin-sdk';
import { loadDirectory } from './directory.ts';
import { openOn, rollup } from './reports.ts';
import { loadSettings } from './settings.ts';

/** the range's last day (`to` is exclusive) */
const lastDay = (r: TimeRange) => new Date(r.to.getTime() - 1).toISOString().slice(0, 10);

async function figures(ctx: TenantContext, range: TimeRange, departmentId?: string) {
  const r = await rollup(ctx, await loadSettings(ctx), await loadDirectory(ctx), lastDay(range));
  if (!departmentId) return { score: r.org.score, flagged: r.org.flagged };
  const d = r.departments.find((x) => x.department_id === departmentId);
  // a department under the minimum group size is suppressed: no number for it
  if (!d || d.suppressed) return { score: null, flagged: null };
  return { score: d.score, flagged: d.flagged };
}

export const adoptionMetrics = provide(metricSourceRef, (ctx) =>
  defineMetricSource([
    {
      name: 'adoption_score',
      title: 'Adoption score',
      description: "Mean adoption score (0–100) of the scored users on the range's last day",
      unit: 'score',
      better: 'higher',
      read: async (q) => (await figures(ctx, q.range, q.departmentId)).score,
    },
    {
      name: 'flagged_users',
      title: 'Users flagged for support',
      description: "Scored users with a support flag open on the range's last day",
      unit: 'users',
      better: 'lower',
      read: async (q) => (await figures(ctx, q.range, q.departmentId)).flagged,
    },
  ]),
);

export const adoptionCohorts = provide(cohortFilterRef, (ctx) =>
  defineCohortFilters([
    {
      name: 'flagged',
      title: 'Flagged for support',
      description: "Users with a support flag open on the range's last day",
      resolve: async (q) => [...(await openOn(ctx, lastDay(q.range)))],
    },
  ]),
);
