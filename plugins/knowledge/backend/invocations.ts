/**
 * The invocation rollup: per org, user and UTC hour, the agent invocations' count, their
 * successes, and the (timestamp, success) pairs themselves. The two routes that look at what
 * reusers did with agents (`artifacts/top`'s follow-ups, `transfer`'s before/after rates) read
 * it instead of scanning a month of raw invocations.
 *
 * Why the pairs: both routes ask about windows that start at an arbitrary millisecond (a reuse,
 * a first reuse). Whole hours inside a window are answered by the counts; the hours a window
 * cuts through by the pairs of those few (user, hour) rows, which the sort key
 * (org, user, hour) finds without reading the others. Answers stay exact.
 *
 * Declared with the SDK's `defineRollup`: the kernel folds it from its watermark on
 * `inserted_at`, off the insert path; a read takes the rollup for the rows up to the
 * watermark and raw events inserted after it (`fresh` below), so nothing is missed or counted
 * twice.
 */
import { defineRollup, freshRowsSql, rollupDdl, type ChMigration } from '@orrery/plugin-sdk';

export const INVOCATION_HOURS = defineRollup({
  name: 'invocation_hours',
  source: 'events',
  filter: "event_type = 'agent_invocation' AND user_id != ''",
  // one row per user and hour: user-activity data, kept for the org's user-activity period
  retention: 'user_activity',
  dimensions: ['user_id'],
  leading: ['user_id'],
  measures: [
    { name: 'invocations', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' },
    { name: 'successes', type: 'SimpleAggregateFunction(sum, UInt64)', expr: "countIf(status = 'success')" },
    { name: 'calls', type: "AggregateFunction(groupArray, Tuple(DateTime64(3, 'UTC'), UInt8))", expr: "groupArrayState((timestamp, toUInt8(status = 'success')))" },
  ],
  tables: [{ table: 'knowledge_invocation_hours', grain: 'hour', dims: ['user_id'] }],
});
const TABLE = 'knowledge_invocation_hours';

export const chMigrations: ChMigration[] = [{ name: '0001_invocation_hours', statements: rollupDdl(INVOCATION_HOURS) }];

/** Bind `wm` (the watermark, ms) with these. */
const FRESH = `org_id = {org_id:String} AND event_type = 'agent_invocation' AND user_id != '' AND ${freshRowsSql('wm')}`;

/**
 * Per (user, hour) counts — `user_id, bucket, invocations, successes` — for the users in
 * `usersSql` and hours in [`fromSql`, `toSql`): the rollup's rows plus the raw rows inserted
 * after the watermark (a (user, hour) may come from both; callers sum).
 */
export function hourCounts(usersSql: string, fromSql: string, toSql: string): string {
  return `
    SELECT user_id, bucket, sum(invocations) AS invocations, sum(successes) AS successes
    FROM {db}.${TABLE}
    WHERE org_id = {org_id:String} AND user_id IN (${usersSql}) AND bucket >= ${fromSql} AND bucket < ${toSql}
    GROUP BY user_id, bucket
    UNION ALL
    SELECT user_id, toDateTime(toStartOfHour(timestamp), 'UTC') AS bucket, count() AS invocations, countIf(status = 'success') AS successes
    FROM {db}.events
    WHERE ${FRESH} AND user_id IN (${usersSql}) AND timestamp >= ${fromSql} AND timestamp < ${toSql}
    GROUP BY user_id, bucket`;
}

/**
 * The (timestamp, success) pairs of the (user, hour) pairs that `pairsSql` yields (columns
 * `user_id, bucket`), for hours in [`fromSql`, `toSql`): `user_id, bucket, calls`. Rows from the
 * rollup and from the fresh raw events are separate (callers look at each).
 */
export function hourCalls(pairsSql: string, fromSql: string, toSql: string): string {
  return `
    SELECT user_id, bucket, groupArrayMerge(calls) AS calls
    FROM {db}.${TABLE}
    WHERE org_id = {org_id:String} AND (user_id, bucket) IN (${pairsSql}) AND bucket >= ${fromSql} AND bucket < ${toSql}
    GROUP BY user_id, bucket
    UNION ALL
    SELECT user_id, toDateTime(toStartOfHour(timestamp), 'UTC') AS bucket, groupArray((timestamp, toUInt8(status = 'success'))) AS calls
    FROM {db}.events
    WHERE ${FRESH} AND timestamp >= ${fromSql} AND timestamp < ${toSql} AND (user_id, toDateTime(toStartOfHour(timestamp), 'UTC')) IN (${pairsSql})
    GROUP BY user_id, bucket`;
}
