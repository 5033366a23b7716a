/**
 * The cohort figures of workflows (list, summary and series, per department), read from the
 * enrolment rollup and the raw events after its watermark (rollup.ts), or from raw events
 * only (`source: 'raw'`, the reference the rollup is checked and timed against).
 */
import type { Granularity, TenantContext, TimeRange } from '@orrery/plugin-sdk';
import { withOutcomeSources, type Source } from './rollup.ts';
import { cohortPairsSql, departmentsSql, listSql, outcomeCohortSql, summaryFromPairsSql, summarySql, workflowParams, type Scope } from './sql.ts';
import { outcomeCohortRowsSql, outcomePairsSql } from './outcomes.ts';

export type SummaryRow = { enrolled: unknown; completed: unknown; exited: unknown; median_ms: unknown; avg_ms: unknown };
export type SeriesRow = { bucket: string; enrolled: unknown; completed: unknown; exited: unknown };

const unionOf = (parts: Array<string | null>) => parts.filter((x): x is string => x !== null).join('\n    UNION ALL\n    ');

/**
 * Every workflow with enrolments in the range: from the derived outcome rows of every workflow
 * where they are current (a user's cohort enrolment per workflow is one row, no merge), plus
 * the per-user rows of the users with events after the watermark (all users when the derived
 * rows cannot answer: `merge`, a department scope, more than the tail's limit).
 */
export function readList(ctx: TenantContext, range: TimeRange, scope: Scope, source: Source = 'auto') {
  const params = workflowParams(range, null, scope);
  return withOutcomeSources(ctx, range, null, scope, source, params, false, ({ merged, derived }) => {
    const rows = unionOf([
      merged && `SELECT workflow_id, e, goal, has_goal, has_exit FROM (${outcomeCohortSql(merged, false)})`,
      derived && `SELECT workflow_id, e, goal, has_goal, has_exit FROM (${outcomeCohortRowsSql(derived)})`,
    ]);
    return ctx.analytics.query<SummaryRow & { workflow_id: string }>(listSql(rows), params);
  });
}

/**
 * One workflow's summary, and its series when a granularity is given (one query): from the
 * derived outcome rows where they are current, plus the per-user rows of the users with events
 * after the watermark (all users when the derived rows cannot answer).
 */
export function readSummary(ctx: TenantContext, range: TimeRange, workflowId: string, scope: Scope, granularity: Granularity | null, source: Source = 'auto') {
  const params = workflowParams(range, workflowId, scope);
  return withOutcomeSources(ctx, range, workflowId, scope, source, params, false, async ({ merged, derived }) => {
    const cohort = merged && outcomeCohortSql(merged, false, true);
    if (!granularity) {
      const rows = unionOf([cohort && `SELECT e, goal, has_goal, has_exit FROM (${cohort})`, derived && `SELECT e, goal, has_goal, has_exit FROM (${outcomeCohortRowsSql(derived)})`]);
      return { summary: (await ctx.analytics.query<SummaryRow>(summarySql(rows), params))[0], series: [] as SeriesRow[] };
    }
    const pairs = unionOf([cohort && cohortPairsSql(cohort, granularity), derived && outcomePairsSql(derived, granularity)]);
    const rows = await ctx.analytics.query<SummaryRow & { bucket: string | null; enrolled_users: unknown; completed_users: unknown; exited_users: unknown }>(summaryFromPairsSql(pairs), params);
    return {
      summary: rows.find((r) => r.bucket === null),
      series: rows.filter((r) => r.bucket !== null).map((r): SeriesRow => ({ bucket: r.bucket!, enrolled: r.enrolled_users, completed: r.completed_users, exited: r.exited_users })),
    };
  });
}

/**
 * One workflow's summary per department of the enrolment: the cohort rows of the derived outcome
 * rows carry the department of the enrolment event, the tail's users merged per user as before.
 */
export function readDepartments(ctx: TenantContext, range: TimeRange, workflowId: string, scope: Scope, source: Source = 'auto') {
  const params = workflowParams(range, workflowId, scope);
  return withOutcomeSources(ctx, range, workflowId, scope, source, params, true, ({ merged, derived }) => {
    const rows = unionOf([
      merged && `SELECT dept, e, goal, has_goal, has_exit FROM (${outcomeCohortSql(merged, true, true)})`,
      derived && `SELECT dept, e, goal, has_goal, has_exit FROM (${outcomeCohortRowsSql(derived)})`,
    ]);
    return ctx.analytics.query<SummaryRow & { department_id: string }>(departmentsSql(rows), params);
  });
}
