/**
 * What adoption offers other plugins: its scores and support flags as metrics
 * (alerts, trends, reports read them), the flagged users as a cohort
 * (retention, funnels and experiments filter by it), and the support report's
 * tables as export sources (flags by department and signal, interventions and
 * their effectiveness). All are computed by the same code as the plugin's own
 * routes: metrics and cohort for the last day of the range asked, the export
 * tables for the days the range covers.
 */
import {
  cohortFilterRef,
  defineCohortFilters,
  defineExportSource,
  defineMetricSource,
  exportSourceRef,
  metricSourceRef,
  provide,
  userScoreRef,
  type ExportColumn,
  type ExportPage,
  type ExportPageQuery,
  type TenantContext,
  type TimeRange,
  type UserScoreService,
} from '@orrery/plugin-sdk';
import { loadDirectory } from './directory.ts';
import { effectiveness, flagReport, heatmap, openOn, rollup } from './reports.ts';
import { KINDS } from './score.ts';
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

/** The UTC days a range covers: its first day, and the day after its last (exclusive). */
export function daysOf(r: TimeRange) {
  return { from: r.from.toISOString().slice(0, 10), to: new Date(Date.parse(`${lastDay(r)}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10) };
}

/**
 * The figures of adoption's report routes are for `adoption.manage` (Admins and Managers) and
 * jobs; anyone else reads these tables empty. Not a 403: a file is streamed page by page and
 * its headers are gone before the first page is read.
 */
function mayManage(ctx: TenantContext) {
  const role = ctx.caller?.role;
  return !role || role === 'Admin' || role === 'Manager';
}

/** A small table answered whole and cut into pages by position (the cursor is the offset). */
function paged(rows: Array<Record<string, unknown>>, q: ExportPageQuery): ExportPage {
  const at = Number(q.cursor ?? 0) || 0;
  const page = rows.slice(at, at + q.limit);
  return { rows: page, next: at + q.limit < rows.length ? String(at + q.limit) : null };
}

const FLAG_COLUMNS: ExportColumn[] = [
  { name: 'department_id', type: 'string' },
  { name: 'department', type: 'string' },
  { name: 'department_size', type: 'number' },
  { name: 'signal', type: 'string', description: "the flag's kind: struggling, slipping, not_started or light_use" },
  { name: 'flagged_users', type: 'number', description: 'users flagged in the period whose latest flag of the period is of this kind; empty when suppressed' },
  { name: 'suppressed', type: 'boolean', description: 'the department has fewer users than the minimum group size' },
];

const INTERVENTION_COLUMNS: ExportColumn[] = [
  { name: 'intervention_id', type: 'string' },
  { name: 'key', type: 'string' },
  { name: 'title', type: 'string' },
  { name: 'users', type: 'number', description: 'users given it for a flag raised in the period' },
  { name: 'assigned', type: 'number' },
  { name: 'shown', type: 'number' },
  { name: 'followed', type: 'number' },
  { name: 'dismissed', type: 'number' },
  { name: 'resolved', type: 'number', description: 'assignments whose flag was resolved within `within_days` days' },
  { name: 'within_days', type: 'number' },
  { name: 'effectiveness', type: 'number', description: 'share resolved within the days among the assignments followed' },
  { name: 'lift', type: 'number', description: 'effectiveness minus the share resolved among those not followed' },
  { name: 'suppressed', type: 'boolean', description: 'given to fewer users than the minimum group size' },
];

const HEATMAP_COLUMNS: ExportColumn[] = [
  { name: 'department_id', type: 'string' },
  { name: 'department', type: 'string' },
  { name: 'week', type: 'string', description: 'the Monday the week starts on (UTC)' },
  { name: 'users', type: 'number', description: 'scored users of the department in the week' },
  { name: 'score', type: 'number', description: 'mean adoption score of their scored days; empty when suppressed' },
  { name: 'flagged', type: 'number', description: 'users with a support flag open on one of their scored days; empty when suppressed' },
  { name: 'flagged_share', type: 'number', description: 'flagged ÷ users; empty when suppressed' },
  { name: 'suppressed', type: 'boolean', description: 'fewer users than the minimum group size' },
];

/** Rows of `support_heatmap`: the cells of `GET /heatmap` (departments × weeks) for the range's days. */
export async function heatmapRows(ctx: TenantContext, range: TimeRange) {
  if (!mayManage(ctx)) return [];
  const { from, to } = daysOf(range);
  const cells = await heatmap(ctx, await loadSettings(ctx), await loadDirectory(ctx), from, to);
  return cells.map((c: any) => ({
    department_id: c.department_id,
    department: c.name,
    week: String(c.week).slice(0, 10),
    users: c.users,
    score: c.suppressed ? null : c.score,
    flagged: c.suppressed ? null : c.flagged,
    flagged_share: c.suppressed ? null : c.flagged_share,
    suppressed: !!c.suppressed,
  }));
}

/** Rows of `flags_by_signal`: per department (by name) and kind, as `GET /reports/weekly|monthly` counts them. */
export async function flagsBySignal(ctx: TenantContext, range: TimeRange) {
  if (!mayManage(ctx)) return [];
  const s = await loadSettings(ctx);
  const dir = await loadDirectory(ctx);
  const { from, to } = daysOf(range);
  const report = await flagReport(ctx, s, dir, from, to, null, false, true);
  const rows: Array<Record<string, unknown>> = [];
  const depts = [...report.by_department].sort((a, b) => String(a.name ?? '').localeCompare(String(b.name ?? '')));
  for (const d of depts) {
    for (const kind of KINDS) {
      rows.push({
        department_id: d.department_id,
        department: d.name,
        department_size: d.department_size,
        signal: kind,
        flagged_users: d.suppressed ? null : d.by_kind[kind],
        suppressed: d.suppressed,
      });
    }
  }
  return rows;
}

/** Rows of `interventions`: `by_intervention` of `GET /effectiveness` for the range's days and the org's recovery window. */
export async function interventionRows(ctx: TenantContext, range: TimeRange) {
  if (!mayManage(ctx)) return [];
  const s = await loadSettings(ctx);
  const { from, to } = daysOf(range);
  const e = await effectiveness(ctx, s, from, to, s.effectivenessDays);
  return e.by_intervention.map((r) => ({
    intervention_id: r.intervention_id,
    key: r.key,
    title: r.title,
    users: r.users,
    assigned: r.suppressed ? null : r.assigned,
    shown: r.suppressed ? null : r.shown,
    followed: r.suppressed ? null : r.followed,
    dismissed: r.suppressed ? null : r.dismissed,
    resolved: r.suppressed ? null : r.resolved,
    within_days: e.within_days,
    effectiveness: r.suppressed ? null : r.effectiveness,
    lift: r.suppressed ? null : r.lift,
    suppressed: r.suppressed,
  }));
}

export const adoptionExports = provide(exportSourceRef, (ctx) =>
  defineExportSource([
    {
      name: 'flags_by_signal',
      title: 'Users flagged for support by department and signal',
      columns: FLAG_COLUMNS,
      page: async (q) => paged(await flagsBySignal(ctx, q.range), q),
    },
    {
      name: 'interventions',
      title: 'Interventions and their effectiveness',
      columns: INTERVENTION_COLUMNS,
      page: async (q) => paged(await interventionRows(ctx, q.range), q),
    },
    {
      name: 'support_heatmap',
      title: 'Support need by department and week (the heat map)',
      columns: HEATMAP_COLUMNS,
      page: async (q) => paged(await heatmapRows(ctx, q.range), q),
    },
  ]),
);
