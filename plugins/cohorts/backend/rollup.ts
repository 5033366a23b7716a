/**
 * The activity rollup: one row per org, user, department and UTC month, holding the
 * quarter-hours (15-minute steps since 1970, `q`) in which the user had an event — one set
 * for any event and one per event type. Retention asks only "did this user do X in that
 * period" and "when first", so a user's month is one row however many events it held, and a
 * retention query reads about one row per user and month instead of every event.
 *
 * Quarter-hours, not UTC hours or days: every zone in use today is a whole number of
 * quarter-hours off UTC (+05:30, +05:45, −09:30 included), so a local hour, day, week or
 * month is a union of whole quarter-hours and the rollup answers those periods exactly in
 * any such zone. A zone that is not (historic local mean times) reads raw events.
 *
 * Declared with the SDK's `defineRollup`: the kernel folds it off the insert path from its
 * watermark on `inserted_at` (late events are folded too), and reads take the rollup for
 * every event stored up to the watermark plus raw events after it: an answer never waits for
 * a fold. The sets are `groupUniqArrayArray` columns (plain arrays, merged by union), which
 * read back far faster than serialized bitmaps or hash-set states.
 */
import { EVENT_TYPES, defineRollup, dropRollupDdl, freshRowsSql, rollupDdl, zoneOffsets, type ChMigration, type TenantContext } from '@orrery/plugin-sdk';

/** quarter-hour number of an instant column (UInt32 until 2106) */
export const QUARTER_SQL = (column: string) => `toUInt32(intDiv(toUnixTimestamp(${column}), 900))`;
/** the instant a quarter-hour number starts, as a DateTime */
export const quarterStartSql = (q: string) => `toDateTime(toUInt32(${q}) * 900, 'UTC')`;
export const QUARTER_MS = 900_000;

/** the measure column holding the quarter-hours of one event type, or of any event */
export const quartersColumn = (eventType: string) => (eventType === 'any' ? 'q_any' : `q_${eventType}`);

const set = (name: string, cond: string | null) => ({
  name,
  type: 'SimpleAggregateFunction(groupUniqArrayArray, Array(UInt32))',
  expr: cond ? `groupUniqArrayIf(${QUARTER_SQL('timestamp')}, ${cond})` : `groupUniqArray(${QUARTER_SQL('timestamp')})`,
});

export const ACTIVITY = defineRollup({
  name: 'user_months',
  source: 'events',
  filter: "user_id != ''",
  // per-user activity, kept for the org's user-activity period
  retention: 'user_activity',
  dimensions: ['user_id', 'department_id'],
  // a million distinct users: plain strings read and group several times faster than LowCardinality
  highCardinality: ['user_id'],
  leading: ['user_id'],
  measures: [set('q_any', null), ...EVENT_TYPES.map((t) => set(quartersColumn(t.type), `event_type = '${t.type}'`))],
  tables: [{ table: 'cohorts_user_months', grain: 'month', dims: ['user_id', 'department_id'] }],
});
export const ROLLUP = 'cohorts_user_months';

/** the hourly rollup this one replaces (0002): dropped by 0003 */
const HOURLY = defineRollup({
  name: 'user_hours',
  source: 'events',
  dimensions: ['event_type', 'user_id', 'department_id'],
  measures: [{ name: 'events', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' }],
  tables: [{ table: 'cohorts_user_hours_1h', grain: 'hour', dims: ['event_type', 'user_id', 'department_id'] }],
});

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
  { name: '0002_user_hours_rollup', statements: [`DROP TABLE IF EXISTS {db}.${OLD}{cluster}`, ...rollupDdl(HOURLY)] },
  // one row per user and month instead of per user, event type and hour
  { name: '0003_user_months_rollup', statements: [...dropRollupDdl(HOURLY), ...rollupDdl(ACTIVITY)] },
  // user_id as a plain String (`highCardinality`): rewrites the column in place, so the rows
  // and the rollup's watermark stay (0003 on a fresh install already makes it a String)
  { name: '0004_user_id_string', statements: [`ALTER TABLE {db}.${ROLLUP}{cluster} MODIFY COLUMN user_id String`] },
];

/** `sets` reads the rollup like `auto` but merges its sets per user (the general path) */
export type Source = 'auto' | 'sets' | 'raw';

/**
 * Per user and department, the quarter-hours of their start and return events (columns
 * `user_id, department_id, s, r`, arrays of quarter-hour numbers) from the rollup plus the
 * raw events stored after its watermark — or null when the zone is not a whole number of
 * quarter-hours off UTC over the span, or `source` is `raw`. Params it needs go in `params`.
 */
export async function activitySets(
  ctx: TenantContext,
  tz: string,
  span: { from: Date; to: Date },
  source: Source,
  events: { start: string; ret: string; where: string[] },
  params: Record<string, unknown>,
): Promise<string | null> {
  if (source === 'raw') return null;
  if (!zoneOffsets(tz, span.from, span.to).every((o) => o % QUARTER_MS === 0)) return null;
  // The query runs after this read returns, so a fold may publish in between: rows of that
  // fold are then in the rollup and read raw as well. The sets are unions, so a quarter-hour
  // seen twice changes no answer.
  const watermark = await ctx.rollups.read(ACTIVITY.name, async (w) => w);
  if (watermark.getTime() <= 0) return null;
  params.rollup_watermark_ms = watermark.getTime();
  const where = events.where.join(' AND ');
  const rawSet = (type: string) => (type === 'any' ? `groupUniqArray(${QUARTER_SQL('timestamp')})` : `groupUniqArrayIf(${QUARTER_SQL('timestamp')}, event_type = '${type}')`);
  // CAST: a SimpleAggregateFunction column and a plain array have no common type in a UNION
  const col = (type: string) => `CAST(${quartersColumn(type)}, 'Array(UInt32)')`;
  return `(SELECT user_id, department_id, ${col(events.start)} AS s, ${col(events.ret)} AS r
             FROM {db}.${ROLLUP} WHERE ${where}
           UNION ALL
           SELECT user_id, department_id, ${rawSet(events.start)} AS s, ${rawSet(events.ret)} AS r
             FROM ${ctx.analytics.table('events')} WHERE ${where} AND ${freshRowsSql('rollup_watermark_ms')}
            GROUP BY user_id, department_id)`;
}
