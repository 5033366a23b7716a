/**
 * The plugin's ClickHouse rollups: AggregatingMergeTree tables per set of
 * dimensions and bucket width (minute, hour, day), each fed by a materialized
 * view over the kernel's `events` table and backfilled from the rows already
 * there.
 *
 * Why states and not numbers: a p95 of hourly p95s is not a p95, and the
 * number of users over a week is not the sum of daily users. Each row keeps
 * the t-digest of its latencies and the exact set of its users, so any set of
 * rows (a day, a week, one model, one department) merges into the right figure.
 * Counts, tokens and cost are plain sums (SimpleAggregateFunction): exact and
 * cheap.
 *
 * Why buckets by event time: a materialized view sees each insert, whatever
 * its timestamps, so a late event is added to the bucket it happened in.
 */
import type { ChMigration } from '@orrery/plugin-sdk';
import { DAY_MS, HOUR_MS, MINUTE_MS, type RollupLevel } from '@orrery/plugin-sdk';

/** Columns an invocation can be sliced by without going back to raw events. */
export const DIMENSIONS = ['agent_name', 'agent_version', 'model_used', 'prompt_template_version', 'department_id', 'status', 'error_type'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** The quantile levels every latency state answers (t-digest; see README). */
export const QUANTILES = [0.5, 0.75, 0.95, 0.99] as const;
const Q = QUANTILES.join(', ');

export interface Level extends RollupLevel {
  table: string;
  /** ClickHouse function that truncates a timestamp to this level's bucket */
  truncate: string;
  dims: readonly Dimension[];
  partition: string;
  /** only for series of this granularity (the minute level: see below) */
  onlyFor?: 'minute';
}

/**
 * Migration 0001/0002 tables, kept only so that 0003 can name what it drops.
 * They had the default index granularity (8192 rows): a question about one
 * agent's week read, and deserialized, whole granules of every agent's
 * t-digest and user-set states.
 */
const LEGACY_TABLES = ['agent_invocations_1d', 'agent_invocations_1h', 'agent_invocations_1m', 'agent_invocations_narrow_1d', 'agent_invocations_narrow_1h'];

/**
 * One rollup per set of dimensions a dashboard question slices by, each at
 * hour and day width. What a rollup read costs is the number of
 * aggregate states merged (a t-digest and a user set per row), so each
 * question should merge the fewest rows that hold its dimensions:
 *
 * - `agent_name, status`: the agent list, leaderboard and series (16 rows per
 *   hour per org with 8 agents);
 * - `+ error_type`: error breakdowns and trends;
 * - `+ model_used` / `agent_version` / `prompt_template_version` /
 *   `department_id`: one breakdown, one filter or the detail route's lists;
 * - every dimension (days only): two or more of the above at once. An hour of
 *   that table holds nearly a row per event, so its hours are read from raw
 *   events instead.
 *
 * Minutes keep only `agent_name, status` and serve minute series only: at the
 * edges of a longer range, 59 minutes of raw events (about 10k rows at 10M
 * events a month) aggregate faster than 59 × 16 minute states merge.
 */
const BASE: readonly Dimension[] = ['agent_name', 'status'];
const SETS: ReadonlyArray<[string, readonly Dimension[]]> = [
  ['agent_calls', BASE],
  ['agent_calls_by_error', [...BASE, 'error_type']],
  ['agent_calls_by_model', [...BASE, 'model_used']],
  ['agent_calls_by_version', [...BASE, 'agent_version']],
  ['agent_calls_by_prompt', [...BASE, 'prompt_template_version']],
  ['agent_calls_by_department', [...BASE, 'department_id']],
];
const day = (name: string, dims: readonly Dimension[]): Level => ({ table: `${name}_1d`, stepMs: DAY_MS, truncate: 'toStartOfDay', dims, partition: 'toYear(bucket)' });
const hour = (name: string, dims: readonly Dimension[]): Level => ({ table: `${name}_1h`, stepMs: HOUR_MS, truncate: 'toStartOfHour', dims, partition: 'toYYYYMM(bucket)' });
export const LEVELS: readonly Level[] = [
  ...SETS.flatMap(([name, dims]) => [day(name, dims), hour(name, dims)]),
  day('agent_calls_wide', DIMENSIONS),
  { table: 'agent_calls_1m', stepMs: MINUTE_MS, truncate: 'toStartOfMinute', dims: BASE, partition: 'toYYYYMM(bucket)', onlyFor: 'minute' },
];

/**
 * The measures, as the states a raw-event query produces. The materialized
 * views, the backfill and the read path's raw edges all use this one list, so
 * a rollup row and a raw edge always merge.
 */
export const RAW_STATES = `count() AS invocations,
      sum(input_tokens) AS input_tokens,
      sum(output_tokens) AS output_tokens,
      sum(cost_usd) AS cost_usd,
      sum(execution_time_ms) AS latency_sum,
      max(timestamp) AS last_seen,
      quantilesTDigestState(${Q})(execution_time_ms) AS latency,
      uniqExactState(user_id) AS users`;

/** The plain sums of RAW_STATES, for questions that ask for counts only. */
export const RAW_COUNTS = RAW_STATES.split(',\n').filter((c) => !/State\(/.test(c)).join(',\n');

const MEASURES = 'invocations, input_tokens, output_tokens, cost_usd, latency_sum, last_seen, latency, users';

function levelDdl(l: Level): string[] {
  const rest = l.dims.filter((d) => d !== 'agent_name').join(', ');
  const dims = l.dims.map((d) => `${d} LowCardinality(String)`).join(',\n      ');
  const selectRows = `SELECT org_id, agent_name, ${l.truncate}(timestamp) AS bucket, ${rest},
      ${RAW_STATES}
    FROM {db}.events
    WHERE event_type = 'agent_invocation'
    GROUP BY org_id, agent_name, bucket, ${rest}`;
  return [
    `CREATE TABLE IF NOT EXISTS {db}.${l.table}{cluster} (
      org_id LowCardinality(String),
      bucket DateTime('UTC'),
      ${dims},
      invocations SimpleAggregateFunction(sum, UInt64),
      input_tokens SimpleAggregateFunction(sum, UInt64),
      output_tokens SimpleAggregateFunction(sum, UInt64),
      cost_usd SimpleAggregateFunction(sum, Decimal(38, 9)),
      latency_sum SimpleAggregateFunction(sum, Float64),
      last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
      latency AggregateFunction(quantilesTDigest(${Q}), Float64),
      users AggregateFunction(uniqExact, String)
    ) ENGINE = {engine:AggregatingMergeTree}
    PARTITION BY ${l.partition}
    ORDER BY (org_id, agent_name, bucket, ${rest})
    -- small granules: a read deserializes whole granules of states, and one agent's week is a few hundred rows
    SETTINGS index_granularity = 128`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.${l.table}_mv{cluster} TO {db}.${l.table} AS ${selectRows}`,
    // Migrations run before the kernel accepts events, so nothing is inserted
    // between the view's creation and this copy: no row is counted twice or
    // missed. Emptying first makes a re-run after a crash mid-copy safe.
    `TRUNCATE TABLE IF EXISTS {db}.${l.table}{cluster}`,
    // by name, not position: the select lists agent_name before bucket, the table after
    `INSERT INTO {db}.${l.table} (org_id, agent_name, bucket, ${rest}, ${MEASURES}) ${selectRows}`,
  ];
}

/** Drops a table of 0001/0002 and its view (the view first, so no insert feeds a half-dropped pair). */
const dropLegacy = (t: string) => [`DROP VIEW IF EXISTS {db}.${t}_mv{cluster}`, `DROP TABLE IF EXISTS {db}.${t}{cluster}`];

/**
 * 0001 and 0002 made the legacy tables. They are emptied rather than removed:
 * an install that ran them keeps its record, and 0003 drops what they made; a
 * new install records them as done without building tables only to drop them.
 */
export const clickhouseMigrations: ChMigration[] = [
  { name: '0001_agent_invocation_rollups', statements: [] },
  { name: '0002_narrow_rollups', statements: [] },
  { name: '0003_rollups_per_dimension_set', statements: [...LEGACY_TABLES.flatMap(dropLegacy), ...LEVELS.flatMap(levelDdl)] },
];

/** The smallest table holding every agent ever seen (existence checks: 404 for an unknown agent). */
export const AGENT_INDEX_TABLE = 'agent_calls_1d';
