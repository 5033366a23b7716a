/**
 * The activity rollup: one row per org, event type, user, department and UTC
 * hour in which the user had such an event. Retention only asks "did this
 * user do X in that period", so an hour of activity is one row however many
 * events it held.
 *
 * Maintained by a job from a watermark on `received_at` (when the platform
 * took the event, not when it happened), so late events are rolled up too.
 * Reads take the rollup for everything received before the watermark and raw
 * events after it: an answer never waits for the job. Nothing rides on the
 * insert (no materialized view).
 *
 * Hours are UTC, so the rollup answers for zones whose offset is a whole number
 * of hours over the range asked; others (e.g. +05:30) read raw events.
 */
import { zoneOffsets, type ChMigration, type TenantContext } from '@orrery/plugin-sdk';

export const ROLLUP = 'cohorts_user_hours';

export const chMigrations: ChMigration[] = [
  {
    name: '0001_user_hours',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.${ROLLUP}{cluster} (
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
];

const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const EPOCH = '1970-01-01 00:00:00.000';

interface RollupSettings { rollup_watermark?: string }

/** Rolls up what was received since the last run (less `lagMs`, for inserts still on their way). */
export async function rollUp(ctx: TenantContext, lagMs: number, now = Date.now()) {
  const settings = await ctx.settings.get<RollupSettings>();
  const from = settings.rollup_watermark ?? EPOCH;
  const to = chTime(now - lagMs);
  if (to <= from) return { from, to: from, rows: 0 };
  await ctx.analytics.command(
    `INSERT INTO {db}.${ROLLUP} (org_id, event_type, user_id, department_id, hour)
     SELECT org_id, event_type, user_id, department_id, toStartOfHour(timestamp) AS hour
       FROM ${ctx.analytics.table('events')}
      WHERE org_id = {org_id:String} AND user_id != ''
        AND received_at >= toDateTime64({from:String}, 3, 'UTC') AND received_at < toDateTime64({to:String}, 3, 'UTC')
      GROUP BY org_id, event_type, user_id, department_id, hour`,
    { from, to },
  );
  await ctx.settings.set<RollupSettings>({ ...settings, rollup_watermark: to });
  return { from, to };
}

export type Source = 'auto' | 'raw';

/**
 * A subquery with the columns retention reads (`org_id, event_type, user_id,
 * department_id, timestamp`): rollup + raw tail when the zone allows it, else raw
 * events. Params it needs are added to `params`.
 */
export async function activitySource(ctx: TenantContext, tz: string, span: { from: Date; to: Date }, source: Source, params: Record<string, unknown>): Promise<{ sql: string; rollup: boolean }> {
  const events = ctx.analytics.table('events');
  const wholeHours = zoneOffsets(tz, span.from, span.to).every((o) => o % 3_600_000 === 0);
  const watermark = source === 'raw' || !wholeHours ? undefined : (await ctx.settings.get<RollupSettings>()).rollup_watermark;
  if (!watermark) return { sql: events, rollup: false };
  params.rollup_watermark = watermark;
  return {
    rollup: true,
    sql: `(SELECT org_id, event_type, user_id, department_id, toDateTime64(hour, 3, 'UTC') AS timestamp
             FROM {db}.${ROLLUP} WHERE org_id = {org_id:String}
           UNION ALL
           SELECT org_id, event_type, user_id, department_id, toDateTime64(toStartOfHour(timestamp), 3, 'UTC') AS timestamp
             FROM ${events} WHERE org_id = {org_id:String} AND received_at >= toDateTime64({rollup_watermark:String}, 3, 'UTC'))`,
  };
}
