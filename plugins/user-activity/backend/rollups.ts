/**
 * The plugin's one rollup: distinct users and events per hour and per day, by department and
 * agent (the two filters every route takes), kept by the kernel off the insert path. Active
 * users per day, week or month (`/metrics/dau`, the series of `/users/activity`) merge these
 * user sets instead of reading every event of the range: a month of days is 30 states per
 * department × agent instead of every event.
 *
 * An event counts for a user when it has a user (`user_id != ''`), whatever its type (API.md:
 * "active" is any event). `user_id` itself is no dimension: per-user routes read raw events.
 */
import { DAY_MS, HOUR_MS, defineRollup, rollupDdl, type ChMigration, type RollupLevel } from '@orrery/plugin-sdk';

export const ACTIVITY = defineRollup({
  name: 'activity',
  source: 'events',
  filter: "user_id != ''",
  // per-user activity: kept for the org's user-activity period (1 year by default), not 2 years
  retention: 'user_activity',
  dimensions: ['department_id', 'agent_name'],
  measures: [
    { name: 'events', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' },
    { name: 'users', type: 'AggregateFunction(uniqExact, String)', expr: 'uniqExactState(user_id)' },
  ],
  tables: [
    { table: 'user_activity_1h', grain: 'hour', dims: ['department_id', 'agent_name'] },
    { table: 'user_activity_1d', grain: 'day', dims: ['department_id', 'agent_name'], from: 'user_activity_1h' },
  ],
});

export interface Level extends RollupLevel {
  table: string;
}
export const LEVELS: readonly Level[] = [
  { table: 'user_activity_1d', stepMs: DAY_MS },
  { table: 'user_activity_1h', stepMs: HOUR_MS },
];

export const clickhouseMigrations: ChMigration[] = [{ name: '0001_activity_rollups', statements: rollupDdl(ACTIVITY) }];
