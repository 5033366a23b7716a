/**
 * The activity rollup: one row per org, event type, user, department and UTC
 * hour in which the user had such an event. Retention only asks "did this
 * user do X in that period", so an hour of activity is one row however many
 * events it held.
 *
 * Declared with the SDK's `defineRollup`: the kernel folds it off the insert
 * path from its watermark on `inserted_at` (late events are folded too), and
 * reads take the rollup for every event stored up to the watermark and raw
 * events after it: an answer never waits for a fold.
 *
 * Hours are UTC, so the rollup answers for zones whose offset is a whole number
 * of hours over the range asked; others (e.g. +05:30) read raw events.
 */
import { defineRollup, freshRowsSql, rollupDdl, zoneOffsets, type ChMigration, type TenantContext } from '@orrery/plugin-sdk';

export const ACTIVITY = defineRollup({
  name: 'user_hours',
  source: 'events',
  filter: "user_id != ''",
  // one row per user and hour: user-activity data, kept for the org's user-activity period
  retention: 'user_activity',
  dimensions: ['event_type', 'user_id', 'department_id'],
  leading: ['event_type', 'user_id'],
  measures: [{ name: 'events', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' }],
  tables: [{ table: 'cohorts_user_hours_1h', grain: 'hour', dims: ['event_type', 'user_id', 'department_id'] }],
});
const ROLLUP = 'cohorts_user_hours_1h';

/** the table the plugin's own job used to fill (0001), kept in the list so that its name stays taken */
const OLD = 'cohorts_user_hours';

export const chMigrations: ChMigration[] = [
  {
    name: '0001_user_hours',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.${OLD}{cluster} (
        org_id LowCardinality(String),
        event_type LowCardinality(String),
        user_id String,
        department_id LowCardinality(String),
        hour DateTime('UTC')
      ) ENGINE = {engine:ReplacingMergeTree}
      PARTITION BY toYYYYMM(hour)
      ORDER BY (org_id, event_type, user_id, hour, department_id)`,
    ],
  },
  // the kernel folds the declared rollup now; the job-filled table goes
  { name: '0002_user_hours_rollup', statements: [`DROP TABLE IF EXISTS {db}.${OLD}{cluster}`, ...rollupDdl(ACTIVITY)] },
];

export type Source = 'auto' | 'raw';

/**
 * A subquery with the columns retention reads (`org_id, event_type, user_id,
 * department_id, timestamp`): rollup + raw tail when the zone allows it, else raw
 * events. Params it needs are added to `params`.
 */
export async function activitySource(ctx: TenantContext, tz: string, span: { from: Date; to: Date }, source: Source, params: Record<string, unknown>): Promise<{ sql: string; rollup: boolean }> {
  const events = ctx.analytics.table('events');
  const wholeHours = zoneOffsets(tz, span.from, span.to).every((o) => o % 3_600_000 === 0);
  if (source === 'raw' || !wholeHours) return { sql: events, rollup: false };
  // The query runs after this read returns, so a fold may publish in between: rows of that
  // fold are then in the rollup and read raw as well. Retention asks only whether a user had
  // an event in an hour, so a row seen twice changes no answer.
  const watermark = await ctx.rollups.read(ACTIVITY.name, async (w) => w);
  if (watermark.getTime() <= 0) return { sql: events, rollup: false };
  params.rollup_watermark_ms = watermark.getTime();
  return {
    rollup: true,
    sql: `(SELECT org_id, event_type, user_id, department_id, toDateTime64(bucket, 3, 'UTC') AS timestamp
             FROM {db}.${ROLLUP} WHERE org_id = {org_id:String}
           UNION ALL
           SELECT org_id, event_type, user_id, department_id, toDateTime64(toStartOfHour(timestamp), 3, 'UTC') AS timestamp
             FROM ${events} WHERE org_id = {org_id:String} AND user_id != '' AND ${freshRowsSql('rollup_watermark_ms')})`,
  };
}
