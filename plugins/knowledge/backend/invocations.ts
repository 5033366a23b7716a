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
import { NEVER } from './artifacts.ts';

const EPOCH = "toDateTime64(0, 3, 'UTC')";
/** the milliseconds of a DateTime64(3) since the start of its UTC hour, as UInt32 */
export const MS_IN_HOUR = (x: string) => `toUInt32(toUnixTimestamp64Milli(${x}) % 3600000)`;
/** a call as `call_codes` holds it: milliseconds into its hour × 2, + 1 if it succeeded */
const CALL_CODE = `toUInt32(${MS_IN_HOUR('timestamp')} * 2 + (status = 'success'))`;

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
    // the pairs as aggregate states, as the first tables kept them (migrations 0002 and 0004 fill later columns from them)
    { name: 'calls', type: "AggregateFunction(groupArray, Tuple(DateTime64(3, 'UTC'), UInt8))", expr: "groupArrayState((timestamp, toUInt8(status = 'success')))" },
    // each call as one UInt32, its milliseconds into the hour × 2 + 1 if it succeeded: the pairs
    // (plain arrays of (DateTime64, UInt8), 9 bytes a call, migration 0004) were read for every
    // hour of `transfer`'s span and copied through its join; 4 bytes a call, and the cut of an
    // hour by a window is an integer compare against the bound's milliseconds into that hour
    { name: 'call_codes', type: 'SimpleAggregateFunction(groupArrayArray, Array(UInt32))', expr: `groupArray(${CALL_CODE})` },
    // the hour's first and last success (NEVER / EPOCH without one): enough to tell whether a
    // success follows an instant within the hour, without reading the pairs
    { name: 'first_success', type: "SimpleAggregateFunction(min, DateTime64(3, 'UTC'))", expr: `min(if(status = 'success', timestamp, ${NEVER}))` },
    { name: 'last_success', type: "SimpleAggregateFunction(max, DateTime64(3, 'UTC'))", expr: `max(if(status = 'success', timestamp, ${EPOCH}))` },
  ],
  tables: [{ table: 'knowledge_invocation_hours', grain: 'hour', dims: ['user_id'] }],
});
const TABLE = 'knowledge_invocation_hours';

/**
 * Tables made by 0001 before the success bounds existed get them, filled from the pairs they
 * hold (a new table has them from 0001: the statements then change nothing).
 */
const successBounds: ChMigration = {
  name: '0002_invocation_success_bounds',
  statements: [
    `ALTER TABLE {db}.${TABLE}{cluster} ADD COLUMN IF NOT EXISTS first_success SimpleAggregateFunction(min, DateTime64(3, 'UTC')) DEFAULT ${NEVER}`,
    `ALTER TABLE {db}.${TABLE}{cluster} ADD COLUMN IF NOT EXISTS last_success SimpleAggregateFunction(max, DateTime64(3, 'UTC')) DEFAULT ${EPOCH}`,
    `ALTER TABLE {db}.${TABLE}{cluster} UPDATE
       first_success = arrayMin(arrayMap(x -> if(x.2 = 1, x.1, ${NEVER}), arrayPushBack(finalizeAggregation(calls), (${NEVER}, toUInt8(0))))),
       last_success = arrayMax(arrayMap(x -> if(x.2 = 1, x.1, ${EPOCH}), arrayPushBack(finalizeAggregation(calls), (${EPOCH}, toUInt8(0)))))
     WHERE first_success = ${NEVER} AND last_success = ${EPOCH} SETTINGS mutations_sync = 2`,
  ],
};

/**
 * Tables made before the pairs were kept as a plain array get the column, filled from the
 * aggregate states they hold (a new table has it from 0001: the update then changes nothing).
 */
const plainPairs: ChMigration = {
  name: '0004_invocation_call_pairs',
  statements: [
    `ALTER TABLE {db}.${TABLE}{cluster} ADD COLUMN IF NOT EXISTS call_pairs SimpleAggregateFunction(groupArrayArray, Array(Tuple(DateTime64(3, 'UTC'), UInt8)))`,
    `ALTER TABLE {db}.${TABLE}{cluster} UPDATE call_pairs = finalizeAggregation(calls) WHERE empty(call_pairs) AND invocations > 0 SETTINGS mutations_sync = 2`,
  ],
};

/**
 * Tables made before the calls were kept as codes get the column, filled from the pairs (which
 * 0004 filled from the aggregate states on tables older still); a new table has it from 0001.
 * The fold no longer writes the pairs: rows folded from here on have codes only.
 */
const callCodes: ChMigration = {
  name: '0005_invocation_call_codes',
  statements: [
    `ALTER TABLE {db}.${TABLE}{cluster} ADD COLUMN IF NOT EXISTS call_codes SimpleAggregateFunction(groupArrayArray, Array(UInt32))`,
    `ALTER TABLE {db}.${TABLE}{cluster} UPDATE call_codes = arrayMap(x -> toUInt32(${MS_IN_HOUR('x.1')} * 2 + x.2), call_pairs) WHERE empty(call_codes) AND invocations > 0 SETTINGS mutations_sync = 2`,
  ],
};

export const invocationMigrations: ChMigration[] = [{ name: '0001_invocation_hours', statements: rollupDdl(INVOCATION_HOURS) }, successBounds];
/** after the artifact rollup's 0003, in this order */
export const invocationPairsMigration = plainPairs;
export const invocationCodesMigration = callCodes;

/** Bind `wm` (the watermark, ms) with these. */
const FRESH = `org_id = {org_id:String} AND event_type = 'agent_invocation' AND user_id != '' AND ${freshRowsSql('wm')}`;

/**
 * Every (user, hour) row with hours in [`fromSql`, `toSql`) — `user_id, bucket, invocations,
 * successes, codes` (`call_codes`: each call's milliseconds into the hour × 2 + success) — the
 * rollup's rows as stored plus the raw rows inserted after the watermark.
 * A (user, hour) may come in several rows (parts not merged yet, fresh rows), each with its own
 * counts and pairs: callers sum over rows. No user filter: reading every user's hours in the
 * span cost less than building and probing a set of the users wanted.
 */
export function hourRows(fromSql: string, toSql: string): string {
  return `
    SELECT user_id, bucket, invocations, successes, call_codes AS codes
    FROM {db}.${TABLE}
    WHERE org_id = {org_id:String} AND bucket >= ${fromSql} AND bucket < ${toSql}
    UNION ALL
    SELECT user_id, toDateTime(toStartOfHour(timestamp), 'UTC') AS bucket, count() AS invocations, countIf(status = 'success') AS successes,
           groupArray(${CALL_CODE}) AS codes
    FROM {db}.events
    WHERE ${FRESH} AND timestamp >= ${fromSql} AND timestamp < ${toSql}
    GROUP BY user_id, bucket`;
}

/**
 * Per (user, hour) first and last success — `user_id, bucket, first_success, last_success` — of
 * every user's hours with a success in [`fromSql`, `toSql`), from the rollup and the raw rows
 * inserted after the watermark. A (user, hour) may come in several rows (parts not merged yet,
 * fresh rows): callers look at each. No filter on the (user, hour) pairs wanted: building and
 * probing that set (and computing what yields it a second time) cost more than reading the few
 * small columns of every hour in the span.
 */
export function hourSuccessBounds(fromSql: string, toSql: string): string {
  return `
    SELECT user_id, bucket, first_success, last_success
    FROM {db}.${TABLE}
    WHERE org_id = {org_id:String} AND bucket >= ${fromSql} AND bucket < ${toSql} AND successes > 0
    UNION ALL
    SELECT user_id, toDateTime(toStartOfHour(timestamp), 'UTC') AS bucket,
           min(timestamp) AS first_success, max(timestamp) AS last_success
    FROM {db}.events
    WHERE ${FRESH} AND status = 'success' AND timestamp >= ${fromSql} AND timestamp < ${toSql}
    GROUP BY user_id, bucket`;
}
