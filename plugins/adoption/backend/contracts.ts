/**
 * What adoption offers other plugins: its scores and support flags as metrics
 * (alerts, trends, reports read them), and the flagged users as a cohort
 * (retention, funnels and experiments filter by it). Both are computed by the
 * same code as the plugin's own routes, for the last day of the range asked.
 */
import { cohortFilterRef, defineCohortFilters, defineMetricSource, metricSourceRef, provide, userScoreRef, type TenantContext, type TimeRange, type UserScoreService } from '@orrery/plugin-sdk';
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

/**
 * Each user's adoption score by day (`userScoreRef`): the scores of the latest scored day
 * at or before the day asked, as `GET /scores?day` stores them. Cohorts take score bands from it.
 */
export const adoptionUserScores = provide(userScoreRef, (ctx): UserScoreService => ({
  title: 'Adoption score',
  min: 0,
  max: 100,
  async scores({ day, userIds }) {
    const latest = (await ctx.db.table('adoption_scores').where('day', '<=', day).first(ctx.db.raw(`to_char(max(day), 'YYYY-MM-DD') as day`))) as { day: string | null } | undefined;
    if (!latest?.day) return [];
    const q = ctx.db.table('adoption_scores').where({ day: latest.day });
    if (userIds) q.whereIn('user_id', [...userIds]);
    const rows = (await q.select('user_id', 'score')) as Array<{ user_id: string; score: number | string }>;
    return rows.map((r) => ({ userId: r.user_id, score: Number(r.score), day: latest.day! }));
  },
}));
