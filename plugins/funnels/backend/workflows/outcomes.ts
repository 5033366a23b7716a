/**
 * The per-event outcome rows derived from the enrolment rollup (an SDK derived state, which
 * the kernel re-derives for the (workflow, user) keys each fold touches): the summary and its
 * series become a scan of one workflow's events in [from, to) with no per-user merge.
 *
 * Why these columns answer the cohort exactly. A user's cohort enrolment for [from, to) is
 * their first enrolment in it: the enrolment at `t` whose previous enrolment `prev` (−1 for
 * none) satisfies prev < from ≤ t < to, one per user (of two at one instant, only the one
 * sorted first has prev < t). Its outcome is the user's first goal after `t` (`goal`) and
 * whether an exit follows (`exit_after`). In the series a bucket counts distinct users:
 * - enrolments in [from, to) whose previous enrolment is before `from` or in another bucket;
 * - goals (exits) at `t` < to that follow the user's cohort enrolment, i.e. whose latest
 *   enrolment strictly before them (`enr_before`) is at or after `from`, and whose previous goal
 *   (exit) is not itself such a one in the same bucket (`prev`, `prev_enr_before`).
 * Events inserted after the rollup's watermark are not in these rows: the users they touch are
 * read the old way (merged per user, `withOutcomeSources`) and left out of the scan.
 */
import { bucketExpr, type Granularity } from '@orrery/plugin-sdk';

/**
 * `_v2`: the rows carry the enrolment's department (`dept`). A new table rather than a column
 * added in place: the kernel derives a derived table it has not listed as complete from the whole
 * rollup at the next fold, and reads use the per-user merge until then, so no row is ever read
 * with an empty department. Migration 0003 drops the table before it.
 */
export const OUTCOMES_TABLE = 'funnels_wf_outcomes_v2';
export const OLD_OUTCOMES_TABLE = 'funnels_wf_outcomes';

export const OUTCOME_COLUMNS = [
  /** 0 enrolment, 1 goal, 2 exit */
  { name: 'kind', type: 'UInt8' },
  /** the event's time, ms */
  { name: 't', type: 'Int64' },
  /** the user's previous event of the same kind, −1 for none */
  { name: 'prev', type: 'Int64' },
  /** enrolments: the first goal after `t`, −1 for none */
  { name: 'goal', type: 'Int64' },
  /** enrolments: an exit follows `t` */
  { name: 'exit_after', type: 'UInt8' },
  /** goals and exits: the latest enrolment strictly before `t`, −1 for none */
  { name: 'enr_before', type: 'Int64' },
  /** goals and exits: the same for `prev` */
  { name: 'prev_enr_before', type: 'Int64' },
  /** enrolments: the department on the enrolment event ('' for goals and exits) */
  { name: 'dept', type: 'LowCardinality(String)' },
];

const NONE = 'toInt64(-1)';
const lastEnrolmentBefore = (x: string) => `if(arrayExists(e -> e < ${x}, es), arrayLast(e -> e < ${x}, es), ${NONE})`;
/** the rows of one kind, from a sorted array of its times */
const kindRows = (kind: number, times: string) =>
  `arrayMap(i -> (toUInt8(${kind}), ${times}[i], if(i > 1, ${times}[i - 1], ${NONE}), ` +
  (kind === 0
    ? `if(arrayExists(g -> g > es[i], gs), arrayFirst(g -> g > es[i], gs), ${NONE}), toUInt8(arrayExists(x -> x > es[i], xs)), ${NONE}, ${NONE}, ds[i]`
    : `${NONE}, toUInt8(0), ${lastEnrolmentBefore(`${times}[i]`)}, if(i > 1, ${lastEnrolmentBefore(`${times}[i - 1]`)}, ${NONE}), ''`) +
  `), arrayEnumerate(${times}))`;

/** One key's merged rollup rows → its outcome rows (the derived state's SELECT over `{rows}`). */
export const OUTCOMES_SELECT = `SELECT org_id, workflow_id, user_id, o.1 AS kind, o.2 AS t, o.3 AS prev, o.4 AS goal, o.5 AS exit_after, o.6 AS enr_before, o.7 AS prev_enr_before, o.8 AS dept
  FROM (
    SELECT org_id, workflow_id, user_id,
      -- (ms, event_id, department) sorted: of two enrolments at one instant the smaller event id
      -- comes first, the one a cohort takes (as on raw events)
      arraySort(groupArrayArray(arrayMap(x -> (x.1, x.2, toString(department_id)), CAST(enrolments, 'Array(Tuple(Int64, String))')))) AS ets,
      arrayMap(x -> x.1, ets) AS es,
      arrayMap(x -> x.3, ets) AS ds,
      arraySort(groupArrayArray(CAST(goals, 'Array(Int64)'))) AS gs,
      arraySort(groupArrayArray(CAST(exits, 'Array(Int64)'))) AS xs
    FROM {rows}
    GROUP BY org_id, workflow_id, user_id
  )
  ARRAY JOIN arrayConcat(${kindRows(0, 'es')}, ${kindRows(1, 'gs')}, ${kindRows(2, 'xs')}) AS o`;

/**
 * One workflow's outcome rows with `t` in [from, to) (`oneWorkflow`), or every workflow's of the
 * org, except the users `{tail_users}` (the ones with events after the watermark, read per user
 * instead).
 */
export function outcomeRowsSql(withTail: boolean, oneWorkflow = true): string {
  return `(SELECT workflow_id, kind, t, prev, goal, exit_after, enr_before, prev_enr_before, dept FROM {db}.${OUTCOMES_TABLE}
    WHERE org_id = {org_id:String} ${oneWorkflow ? 'AND workflow_id = {workflow_id:String}' : ''} AND t >= {from_ms:Int64} AND t < {to_ms:Int64}
      ${withTail ? 'AND user_id NOT IN {tail_users:Array(String)}' : ''})`;
}

/** The cohort rows (`e, goal, has_goal, has_exit`) among the outcome rows. */
export function outcomeCohortRowsSql(rows: string): string {
  return `SELECT workflow_id, dept, t AS e, goal, goal > t AS has_goal, exit_after AS has_exit FROM ${rows} WHERE kind = 0 AND prev < {from_ms:Int64}`;
}

/**
 * The pairs `(b, k, e, goal, has_goal, has_exit)` of `summaryFromPairsSql` from the outcome rows:
 * `k` 0–2 the series' enrolments, goals and exits (one per user and bucket), 3 a cohort row.
 * One scan: a row yields none, one or (a cohort enrolment) two pairs, and the zone conversion of
 * `prev` runs only for the rows whose `prev` may share their bucket (two scans, one for the
 * cohort rows, took 1.1–1.4× the CPU at 3 M events).
 */
export function outcomePairsSql(rows: string, granularity: Granularity): string {
  const bucket = (c: string) => bucketExpr(`fromUnixTimestamp64Milli(${c}, 'UTC')`, granularity);
  return `SELECT ${bucket('t')} AS b,
      arrayJoin(multiIf(
        kind = 0 AND prev < {from_ms:Int64}, [toUInt8(0), toUInt8(3)],
        kind = 0, if(${bucket('prev')} != b, [toUInt8(0)], []),
        enr_before >= {from_ms:Int64} AND (prev_enr_before < {from_ms:Int64} OR ${bucket('prev')} != b), [kind],
        [])) AS k,
      t AS e, goal, goal > t AS has_goal, exit_after AS has_exit
    FROM ${rows}`;
}
