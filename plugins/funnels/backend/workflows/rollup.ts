/**
 * The enrolment rollup: per org, workflow, user, department and UTC hour (and day, derived
 * from the hours), the exact times of the user's `enrolled`, `goal_reached` and `exited`
 * events, as arrays (the enrolments with their `event_id`, for the tie-break of two
 * enrolments at one instant).
 *
 * Why per user and with exact times: a workflow figure is about each user's first enrolment
 * in [from, to) and the first goal strictly after it, and no per-bucket counter says whether a
 * goal follows an enrolment of another bucket, or which enrolment of an hour cut by `from`
 * comes first. A user's row of an hour holds the times themselves, so the read filters them
 * against `from`, `to` and the enrolment time to the millisecond: every answer is the one raw
 * events give, whatever range or zone is asked, and the ranges' edges need no special case.
 * A user's few enrolment, goal and exit events of a day are one row instead of every step
 * event of the workflow, which is what the raw path has to scan and group.
 *
 * Declared with the SDK's `defineRollup`: the kernel folds it off the insert path from its
 * watermark on `inserted_at` (late events included); reads take the rollup for every event
 * stored up to the watermark and raw events after it (`planSegments` with the watermark),
 * inside `ctx.rollups.read`, so no fold publishes while a read runs.
 */
import {
  GRAIN_MS,
  badRequest,
  currentRawHorizon,
  defineRollup,
  derivedDdl,
  dimensionType,
  freshRowsSql,
  keysAfterSql,
  planSegments,
  rollupDdl,
  type ChMigration,
  type RollupLevel,
  type TenantContext,
  type TimeRange,
} from '@orrery/plugin-sdk';
import type { Scope } from './sql.ts';
import { OLD_OUTCOMES_TABLE, OUTCOMES_TABLE, OUTCOME_COLUMNS, OUTCOMES_SELECT, outcomeRowsSql } from './outcomes.ts';

const MS = 'toUnixTimestamp64Milli(timestamp)';
/** the actions whose times decide a user's standing in a workflow */
const OUTCOME_ACTIONS = "action IN ('enrolled', 'goal_reached', 'exited')";

export const ENROLMENTS = defineRollup({
  name: 'workflow_enrolments',
  source: 'events',
  filter: `event_type = 'workflow_step' AND user_id != '' AND ${OUTCOME_ACTIONS}`,
  // per-user activity: kept for the org's user-activity period
  retention: 'user_activity',
  dimensions: ['workflow_id', 'user_id', 'department_id'],
  // a row per person: a plain string, not a per-part dictionary of a million values
  highCardinality: ['user_id'],
  // a read is about one workflow (or all): its rows sit together
  leading: ['workflow_id'],
  measures: [
    { name: 'enrolments', type: 'SimpleAggregateFunction(groupArrayArray, Array(Tuple(Int64, String)))', expr: `groupArrayIf((${MS}, event_id), action = 'enrolled')` },
    { name: 'goals', type: 'SimpleAggregateFunction(groupArrayArray, Array(Int64))', expr: `groupArrayIf(${MS}, action = 'goal_reached')` },
    { name: 'exits', type: 'SimpleAggregateFunction(groupArrayArray, Array(Int64))', expr: `groupArrayIf(${MS}, action = 'exited')` },
  ],
  tables: [
    { table: 'funnels_wf_enrolments_1h', grain: 'hour', dims: ['workflow_id', 'user_id', 'department_id'] },
    { table: 'funnels_wf_enrolments_1d', grain: 'day', dims: ['workflow_id', 'user_id', 'department_id'], from: 'funnels_wf_enrolments_1h' },
  ],
  derived: [
    {
      // one row per outcome event of a (workflow, user), with what the summary needs to know
      // about it from the user's other events (outcomes.ts)
      table: OUTCOMES_TABLE,
      from: 'funnels_wf_enrolments_1d',
      keys: ['workflow_id', 'user_id'],
      columns: OUTCOME_COLUMNS,
      // a read takes one workflow's events in [from, to)
      orderBy: ['workflow_id', 't'],
      timeColumn: 't',
      select: OUTCOMES_SELECT,
    },
  ],
});

export const chMigrations: ChMigration[] = [
  { name: '0001_workflow_enrolments_rollup', statements: rollupDdl({ ...ENROLMENTS, derived: [] }) },
  { name: '0002_workflow_outcomes', statements: derivedDdl(ENROLMENTS, (k) => dimensionType(ENROLMENTS, k)) },
  {
    // the outcome rows with the enrolment's department, in a table of their own (outcomes.ts)
    name: '0003_workflow_outcomes_departments',
    statements: [...derivedDdl(ENROLMENTS, (k) => dimensionType(ENROLMENTS, k)), `DROP TABLE IF EXISTS {db}.${OLD_OUTCOMES_TABLE}{cluster}`, `DROP TABLE IF EXISTS {db}.${OLD_OUTCOMES_TABLE}__keys{cluster}`],
  },
];

interface Level extends RollupLevel {
  table: string;
}
const LEVELS: readonly Level[] = ENROLMENTS.tables.map((t) => ({ table: t.table, stepMs: GRAIN_MS[t.grain] }));

/**
 * Goals and exits after `to` still count, so the pieces run from `from` to here (a day
 * boundary, inside DateTime's range), and one raw piece takes whatever lies beyond.
 */
const OPEN_END = Date.UTC(2100, 0, 1);

/**
 * `auto`: the derived outcome rows where a read can use them (the summary, the list and the
 * departments; not a department scope, which filters goals and exits too), else the rollup's
 * per-user rows; `merge`: the rollup's per-user rows only (the read before the derived rows,
 * kept to check and time them against); `raw`: raw events only.
 */
export type Source = 'auto' | 'merge' | 'raw';

/** above this many users with events after the watermark, the read merges every user instead */
const MAX_TAIL_USERS = 1000;

// a SimpleAggregateFunction column and a plain array have no common type in a UNION
const ENROLMENTS_COLUMN = "CAST(enrolments, 'Array(Tuple(Int64, String))')";

/**
 * Runs `fn` with a subquery of per-user rows — `workflow_id, user_id, enr` (enrolments: ms,
 * or with `departments` `(ms, event_id, department_id)`), `goals`, `exits` (ms) — holding the
 * outcome events of the workflow (or of all, `workflowId` null): the enrolments in [from, to)
 * and the goals and exits at or after `from` (none earlier), from the rollup up to its
 * watermark and raw events after it; `source: 'raw'` reads raw events only. A user may have
 * several rows (one per piece, bucket and department): readers group them.
 *
 * Why the times come clipped: the cohort query can then take a user's first enrolment, and
 * whether a goal or an exit follows it, with `arrayMin` / `arrayMax` over the merged arrays
 * instead of filtering every user's arrays with lambdas, which cost as much as the rest of
 * the read together. So the range is planned as two parts: [from, to) with enrolments and
 * [to, …) without them (rows of only enrolments there are skipped); when the planner widens
 * a piece past its part's edges (the rollup-only part before the org's raw-event horizon,
 * widened to whole hours), the rows are clipped here instead. A bucket read by both parts
 * repeats its goals and exits, which no reader counts twice (first goal, whether one
 * follows, distinct users per bucket).
 * `params` gets the parameters the subquery names.
 *
 * With `source: 'auto'` and no department scope, `fn` also gets the derived outcome rows
 * (outcomes.ts) as `derived`: a subquery of the workflow's (or every workflow's, `workflowId`
 * null) outcome events in [from, to) of the users with no event after the watermark; `merged`
 * then holds the per-user rows of the other users only (`{tail_users}`), or is null when there
 * are none. `source: 'merge'` gives `merged` only (every user), `raw` raw events only, and a 400
 * naming `source` for a range that starts before the org's raw horizon.
 */
export async function withOutcomeSources<T>(
  ctx: TenantContext,
  range: TimeRange,
  workflowId: string | null,
  scope: Scope,
  source: Source,
  params: Record<string, unknown>,
  departments: boolean,
  fn: (s: { merged: string | null; derived: string | null }) => Promise<T>,
): Promise<T> {
  const events = ctx.analytics.table('events');
  const dims = [
    'org_id = {org_id:String}',
    ...(workflowId !== null ? ['workflow_id = {workflow_id:String}'] : []),
    ...(scope.departments ? ['department_id IN {departments:Array(String)}'] : []),
  ];
  const noEnrolments = departments ? "CAST([], 'Array(Tuple(Int64, String, String))')" : "CAST([], 'Array(Int64)')";
  const rawPiece = (i: number, p: Piece) =>
    `SELECT workflow_id, user_id, ${!p.enrolments ? noEnrolments : departments ? `arrayMap(x -> (x.1, x.2, department_id), groupArrayIf((${MS}, event_id), action = 'enrolled'))` : `groupArrayIf(${MS}, action = 'enrolled')`} AS enr,
        groupArrayIf(${MS}, action = 'goal_reached') AS goals, groupArrayIf(${MS}, action = 'exited') AS exits
      FROM ${events}
      WHERE ${[...dims, `(${ENROLMENTS.filter})`, ...(p.enrolments ? [] : ["action != 'enrolled'"]), `timestamp >= fromUnixTimestamp64Milli({p${i}_from:Int64}, 'UTC')`].join(' AND ')}
        ${p.to !== null ? `AND timestamp < fromUnixTimestamp64Milli({p${i}_to:Int64}, 'UTC')` : ''}
        ${p.fresh ? `AND ${freshRowsSql('outcomes_watermark')}` : ''}
      GROUP BY workflow_id, user_id, department_id`;
  const rollupPiece = (i: number, table: string, p: Piece) =>
    `SELECT workflow_id, user_id, ${!p.enrolments ? noEnrolments : departments ? `arrayMap(x -> (x.1, x.2, department_id), ${ENROLMENTS_COLUMN})` : `tupleElement(${ENROLMENTS_COLUMN}, 1)`} AS enr,
        CAST(goals, 'Array(Int64)') AS goals, CAST(exits, 'Array(Int64)') AS exits
      FROM {db}.${table}
      WHERE ${[...dims, ...(p.enrolments ? [] : ['(notEmpty(goals) OR notEmpty(exits))']), `bucket >= toDateTime(intDiv({p${i}_from:Int64}, 1000), 'UTC')`, `bucket < toDateTime(intDiv({p${i}_to:Int64}, 1000), 'UTC')`].join(' AND ')}`;
  const from = range.from.getTime();
  const to = range.to.getTime();
  const union = (pieces: Piece[]) =>
    pieces
      .map((p, i) => {
        params[`p${i}_from`] = p.from;
        if (p.to !== null) params[`p${i}_to`] = p.to;
        return p.table ? rollupPiece(i, p.table, p) : rawPiece(i, p);
      })
      .join('\n  UNION ALL\n  ');
  // the enrolments in [from, to), the goals and exits from `from` on (for the few pieces that reach past their part)
  const clipped = (rows: string) =>
    `(SELECT workflow_id, user_id, arrayFilter(x -> ${departments ? 'x.1' : 'x'} >= {from_ms:Int64} AND ${departments ? 'x.1' : 'x'} < {to_ms:Int64}, enr) AS enr,
        arrayFilter(x -> x >= {from_ms:Int64}, goals) AS goals, arrayFilter(x -> x >= {from_ms:Int64}, exits) AS exits
      FROM (${rows}))`;

  if (source === 'raw') {
    // Raw events before the org's raw horizon have expired while the rollup keeps them (rollups
    // outlive raw events by design): there the rollup's answer is the one that survives, and a
    // raw read would silently count fewer enrolments. Raw events from `from` on are all there
    // (expiry deletes only what lies before the horizon), so a range starting at or after it is
    // answered exactly.
    return ctx.rollups.read(ENROLMENTS.name, async () => {
      const horizon = currentRawHorizon();
      if (horizon && from < horizon.getTime()) {
        throw badRequest(`raw events before ${horizon.toISOString()} have expired; source=auto or merge answers from the rollup there`, { field: 'source', raw_events_from: horizon.toISOString() });
      }
      return fn({ merged: `(${union([{ table: null, from, to, enrolments: true, fresh: false }, { table: null, from: to, to: null, enrolments: false, fresh: false }])})`, derived: null });
    });
  }
  return ctx.rollups.read(ENROLMENTS.name, async (watermark, state) => {
    params.outcomes_watermark = watermark.getTime();
    let derived: string | null = null;
    if (source === 'auto' && !scope.departments && state.derived.has(OUTCOMES_TABLE)) {
      // the users whose derived rows are behind: events of theirs from `from` on came after the watermark
      // (an earlier late event changes no answer for this range: outcomes.ts); for every workflow (the
      // list) a user with such events in any workflow is read per user in all of them
      const since = `org_id = {org_id:String} ${workflowId !== null ? 'AND workflow_id = {workflow_id:String}' : ''} AND timestamp >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')`;
      const tail = await ctx.analytics.query<{ user_id: string }>(`SELECT DISTINCT user_id FROM (${keysAfterSql(ENROLMENTS, ENROLMENTS.derived![0]!, events, 'outcomes_watermark', since)}) LIMIT ${MAX_TAIL_USERS + 1}`, params);
      if (tail.length <= MAX_TAIL_USERS) {
        params.tail_users = tail.map((r) => r.user_id);
        derived = outcomeRowsSql(tail.length > 0, workflowId !== null);
        if (!tail.length) return fn({ merged: null, derived });
        dims.push('user_id IN {tail_users:Array(String)}');
      }
    }
    const end = Math.max(OPEN_END, to);
    const part = (partFrom: number, partTo: number, enrolments: boolean): Piece[] =>
      partFrom >= partTo
        ? []
        : planSegments({ from: new Date(partFrom), to: new Date(partTo) }, LEVELS, { watermark }).map((s) => ({
            table: s.level?.table ?? null,
            from: s.from.getTime(),
            to: s.to.getTime(),
            enrolments,
            fresh: Boolean(s.insertedAfter),
            widened: s.from.getTime() < partFrom || s.to.getTime() > partTo,
          }));
    const pieces = [...part(from, to, true), ...part(to, end, false), { table: null, from: end, to: null, enrolments: false, fresh: false }];
    const rows = union(pieces);
    return fn({ merged: pieces.some((p) => p.widened) ? clipped(rows) : `(${rows})`, derived });
  });
}

interface Piece {
  /** the rollup table read, or null for raw events */
  table: string | null;
  from: number;
  /** null: open end */
  to: number | null;
  /** whether the piece's enrolments count (those in [from, to) only) */
  enrolments: boolean;
  /** raw rows inserted after the watermark only (a rollup piece's companion) */
  fresh: boolean;
  /** the planner reached past the part's edges (before the raw-event horizon) */
  widened?: boolean;
}
