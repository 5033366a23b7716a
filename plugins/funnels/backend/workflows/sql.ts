/**
 * Workflow analytics over `workflow_step` events (API.md "Funnels and workflows").
 *
 * The cohort is the users who enrolled in [from, to); a user's enrolment time is their
 * first enrolment in that range. Everything else about them is read from their events
 * of the same workflow at or after that time, with no upper bound: a goal reached after
 * `to` still completes an enrolment made before it.
 */
import { bucketExpr, type Granularity, type TimeRange } from '@orrery/plugin-sdk';

export interface Scope {
  /** restrict to events of these departments (null = all) */
  departments: string[] | null;
}

const t = 'toUnixTimestamp64Milli(timestamp)';

function base(events: string, scope: Scope, workflow: boolean, extra: string[] = []): string {
  const w = [
    'org_id = {org_id:String}',
    "event_type = 'workflow_step'",
    "timestamp >= toDateTime64({from:String}, 3, 'UTC')",
    "user_id != ''",
    ...(workflow ? ['workflow_id = {workflow_id:String}'] : []),
    ...(scope.departments ? ['department_id IN {departments:Array(String)}'] : []),
    ...extra,
  ];
  return `FROM ${events} WHERE ${w.join(' AND ')}`;
}

/**
 * One row per (workflow, enrolled user): enrolment time `e` (ms), the first goal after it
 * (`goal`, −1 when none) and whether an exit follows it.
 */
export function cohortSql(events: string, scope: Scope, workflow: boolean): string {
  return `SELECT workflow_id, user_id, e, dept,
      arrayMin(arrayMap(x -> x.1, arrayFilter(x -> x.2 = 'goal_reached' AND x.1 > e, outs))) AS goal0,
      arrayExists(x -> x.2 = 'goal_reached' AND x.1 > e, outs) AS has_goal,
      if(has_goal, goal0, toInt64(-1)) AS goal,
      arrayExists(x -> x.2 = 'exited' AND x.1 > e, outs) AS has_exit
    FROM (
      SELECT workflow_id, user_id,
        minIf(${t}, action = 'enrolled' AND timestamp < toDateTime64({to:String}, 3, 'UTC')) AS e,
        argMinIf(department_id, (${t}, event_id), action = 'enrolled' AND timestamp < toDateTime64({to:String}, 3, 'UTC')) AS dept,
        groupArrayIf((${t}, action), action IN ('goal_reached', 'exited')) AS outs
      ${base(events, scope, workflow)}
      GROUP BY workflow_id, user_id
      HAVING countIf(action = 'enrolled' AND timestamp < toDateTime64({to:String}, 3, 'UTC')) > 0
    )`;
}

/**
 * The same rows as `cohortSql` (plus the user's enrolment, goal and exit times since `from`:
 * `ens`, `gs`, `xs`), from per-user outcome rows (`withOutcomeSources` in rollup.ts: the rollup
 * and raw events after its watermark), whose enrolments are those in [from, to) and whose
 * goals and exits none before `from`. A user's rows are merged first. With `departments`
 * the enrolments carry their event id and department, and the enrolment is the smallest
 * (ms, event_id), as on raw events; without, they are times only (`dept` '').
 *
 * A goal or exit follows the enrolment when the latest one is later (`arrayMax` of an empty
 * array is 0, before any enrolment); only users with a later goal filter their goals for the
 * first one (`if` evaluates its branch for those rows only): lambdas over every user's
 * arrays were most of the read's cost.
 *
 * `oneWorkflow` (the rows are of the workflow `{workflow_id}` only): the rows are grouped by
 * `user_id` alone. A single string key takes ClickHouse's string hash table; with
 * `workflow_id` beside it every key is serialized first, which made the grouping of ~275 k
 * users at 10 M events 2–2.5× as costly in CPU.
 */
export function outcomeCohortSql(outcomes: string, departments: boolean, oneWorkflow = false): string {
  const enrolment = departments ? "arrayReduce('min', ens) AS first, first.1 AS e, first.3 AS dept" : "arrayMin(ens) AS e, '' AS dept";
  return `SELECT workflow_id, user_id, ens, gs, xs, ${enrolment},
      arrayMax(gs) > e AS has_goal,
      if(has_goal, arrayMin(arrayFilter(x -> x > e, gs)), toInt64(-1)) AS goal,
      arrayMax(xs) > e AS has_exit
    FROM (
      SELECT ${oneWorkflow ? '{workflow_id:String}' : 'workflow_id'} AS workflow_id, user_id, groupArrayArray(enr) AS ens, groupArrayArray(goals) AS gs, groupArrayArray(exits) AS xs
      FROM ${outcomes}
      GROUP BY ${oneWorkflow ? 'user_id' : 'workflow_id, user_id'}
      HAVING notEmpty(ens)
    )`;
}

const summaryColumns = `count() AS enrolled, countIf(has_goal) AS completed, countIf(NOT has_goal AND has_exit) AS exited,
    quantileExactInclusiveIf(0.5)(goal - e, has_goal) AS median_ms, avgIf(goal - e, has_goal) AS avg_ms`;

/** Per workflow over a cohort subquery (`outcomeCohortSql` or `cohortSql` of every workflow). */
export function listSql(cohort: string): string {
  return `SELECT workflow_id, ${summaryColumns} FROM (${cohort}) GROUP BY workflow_id ORDER BY enrolled DESC, workflow_id`;
}

/** The summary per department of the enrolment (the department on the user's first enrolment event in range). */
export function departmentsSql(cohort: string): string {
  return `SELECT dept AS department_id, ${summaryColumns} FROM (${cohort}) GROUP BY dept ORDER BY enrolled DESC, dept`;
}

export function summarySql(cohort: string): string {
  return `SELECT ${summaryColumns} FROM (${cohort})`;
}

/**
 * The summary and the series in one pass over the cohort (`outcomeCohortSql` without
 * departments, whose rows carry the times): the row with a null bucket is the summary
 * (one entry per user); the others are the series, distinct users per bucket (in `tz`) of
 * the event's own timestamp within [from, to): every enrolment of a cohort user, and their
 * goals and exits later than their enrolment (filtered only for users who have one).
 *
 * Why each user's (bucket, kind) pairs are made distinct in the user's own row: a bucket then
 * holds each user at most once per kind, so `count` gives its distinct users. `uniqExact` of
 * the user id per bucket built three hash sets of ~100 k strings at 10 M events, about as much
 * CPU as the rest of the read.
 */
export function summarySeriesSql(cohort: string, granularity: Granularity): string {
  return summaryFromPairsSql(cohortPairsSql(cohort, granularity));
}

/** A cohort's pairs `(b, k, e, goal, has_goal, has_exit)`: `k` 0–2 its series (distinct per user, bucket and kind), 3 the user's summary row. */
export function cohortPairsSql(cohort: string, granularity: Granularity): string {
  return `SELECT p.1 AS b, p.2 AS k, e, goal, has_goal, has_exit FROM (
      SELECT e, goal, has_goal, has_exit, arrayJoin(arrayDistinct(arrayMap(x -> (${bucketExpr("fromUnixTimestamp64Milli(x.1, 'UTC')", granularity)}, x.2), arrayConcat(
          [(e, 3)],
          arrayZip(ens, arrayWithConstant(length(ens), 0)),
          if(has_goal, arrayMap(x -> (x, 1), arrayFilter(x -> x > e AND x < {to_ms:Int64}, gs)), []),
          if(has_exit, arrayMap(x -> (x, 2), arrayFilter(x -> x > e AND x < {to_ms:Int64}, xs)), []))))) AS p
      FROM (${cohort})
    )`;
}

/** The summary (the row with a null bucket) and the series from pairs of `cohortPairsSql` (or of outcomes.ts). */
export function summaryFromPairsSql(pairs: string): string {
  const summary = 'k = 3';
  return `SELECT if(${summary}, NULL, b) AS bucket,
      countIf(k = 0) AS enrolled_users, countIf(k = 1) AS completed_users, countIf(k = 2) AS exited_users,
      countIf(${summary}) AS enrolled, countIf(${summary} AND has_goal) AS completed, countIf(${summary} AND NOT has_goal AND has_exit) AS exited,
      quantileExactInclusiveIf(0.5)(goal - e, ${summary} AND has_goal) AS median_ms, avgIf(goal - e, ${summary} AND has_goal) AS avg_ms
    FROM (${pairs})
    GROUP BY bucket ORDER BY bucket`;
}

/** The workflow's events (with `t` in ms) of its enrolled users, each with their enrolment time `e` (raw events). */
function joined(events: string, scope: Scope, extra: string[], columns: string): string {
  return `(SELECT user_id, ${columns}, ${t} AS t ${base(events, scope, true, extra)}) AS ev
    INNER JOIN (SELECT user_id, e FROM (${cohortSql(events, scope, true)})) AS c USING (user_id)`;
}

/** Per step: users who entered / completed it (at or after enrolment), and time from entering to completing. */
export function stepsSql(events: string, scope: Scope): string {
  return `SELECT step, min(idx) AS step_index, countIf(te >= 0) AS entered, countIf(has_completed) AS completed,
      quantileExactInclusiveIf(0.5)(tc - te, te >= 0 AND tc >= te) AS median_ms
    FROM (
      SELECT workflow_step AS step, user_id, min(step_index) AS idx,
        if(countIf(action = 'step_entered') > 0, minIf(t, action = 'step_entered'), toInt64(-1)) AS te,
        countIf(action = 'step_completed') > 0 AS has_completed,
        groupArrayIf(t, action = 'step_completed') AS cs,
        if(arrayExists(x -> x >= te, cs), arrayMin(arrayFilter(x -> x >= te, cs)), toInt64(-1)) AS tc
      FROM ${joined(events, scope, ["action IN ('step_entered', 'step_completed')", "workflow_step != ''"], 'action, workflow_step, step_index')}
      WHERE t >= e
      GROUP BY step, user_id
    )
    GROUP BY step ORDER BY step_index, step`;
}

/** Per step and action: events, users and `duration_ms` (of events that carry one). */
export function actionsSql(events: string, scope: Scope): string {
  return `SELECT workflow_step AS step, min(step_index) AS step_index, action, count() AS events, uniqExact(user_id) AS users,
      quantileExactInclusiveIf(0.5)(duration_ms, duration_ms > 0) AS median_duration_ms, avgIf(duration_ms, duration_ms > 0) AS avg_duration_ms
    FROM ${joined(events, scope, [], 'action, workflow_step, step_index, duration_ms')}
    WHERE t >= e
    GROUP BY step, action ORDER BY step_index, step, action`;
}

/** Exits by the step they name and their reason. */
export function exitsSql(events: string, scope: Scope): string {
  return `SELECT workflow_step AS step, reason, count() AS events, uniqExact(user_id) AS users
    FROM ${joined(events, scope, ["action = 'exited'"], 'workflow_step, reason')}
    WHERE t > e
    GROUP BY step, reason ORDER BY users DESC, step, reason`;
}

/**
 * Adherence per workflow over its enrolled users: the `step_index` of each `step_entered`
 * at or after enrolment, in time order. `skipped`: an index below the highest entered was
 * never entered (indices count from the workflow's lowest); `out_of_order`: steps first
 * entered in another order than their index; `repeated`: a step entered more than once;
 * `adherent`: entered at least one step and none of the three. Users who entered no step
 * are `no_steps`.
 */
export function adherenceSql(events: string, scope: Scope, workflow: boolean): string {
  return `SELECT workflow_id, count() AS users, countIf(length(idx) = 0) AS no_steps,
      countIf(length(idx) > 0 AND NOT skipped AND NOT out_of_order AND NOT repeated) AS adherent,
      countIf(skipped) AS skipped_users, countIf(out_of_order) AS out_of_order_users, countIf(repeated) AS repeated_users
    FROM (
      SELECT workflow_id, user_id, arrayMap(x -> x.2, arraySort(x -> (x.1, x.3), groupArrayIf((t, step_index, event_id), action = 'step_entered' AND t >= e))) AS raw,
        arrayMap(i -> i - base, raw) AS idx,
        length(idx) > 0 AND length(arrayDistinct(idx)) < arrayMax(idx) + 1 AS skipped,
        arrayDistinct(idx) != arraySort(arrayDistinct(idx)) AS out_of_order,
        length(idx) > length(arrayDistinct(idx)) AS repeated
      FROM (SELECT workflow_id, user_id, action, step_index, event_id, ${t} AS t ${base(events, scope, workflow)}) AS ev
      INNER JOIN (SELECT workflow_id, user_id, e FROM (${cohortSql(events, scope, workflow)})) AS c USING (workflow_id, user_id)
      INNER JOIN (SELECT workflow_id, minIf(step_index, action IN ('step_entered', 'step_completed')) AS base ${base(events, scope, workflow)} GROUP BY workflow_id) AS b USING (workflow_id)
      GROUP BY workflow_id, user_id, base
    )
    GROUP BY workflow_id ORDER BY users DESC, workflow_id`;
}

/** Users with any event in [from, to): the denominator of participation. */
export function activeUsersSql(events: string): string {
  return `SELECT uniqExact(user_id) AS users FROM ${events}
    WHERE org_id = {org_id:String} AND timestamp >= toDateTime64({from:String}, 3, 'UTC') AND timestamp < toDateTime64({to:String}, 3, 'UTC') AND user_id != ''`;
}

export function workflowParams(range: TimeRange, workflowId: string | null, scope: Scope): Record<string, unknown> {
  return {
    from: range.fromCh,
    to: range.toCh,
    from_ms: range.from.getTime(),
    to_ms: range.to.getTime(),
    tz: range.tz,
    ...(workflowId !== null ? { workflow_id: workflowId } : {}),
    ...(scope.departments ? { departments: scope.departments } : {}),
  };
}
