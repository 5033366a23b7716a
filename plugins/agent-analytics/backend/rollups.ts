/**
 * The plugin's ClickHouse rollups: one AggregatingMergeTree table per bucket
 * width (minute, hour, day), each fed by a materialized view over the kernel's
 * `events` table and backfilled from the rows already there.
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
}

/**
 * Minute rows carry fewer dimensions: they serve minute series (at most a few
 * days) and the edges of a range, where many dimensions would make a row per
 * event. A slice by model or department at minute level reads raw events.
 */
const NARROW: readonly Dimension[] = ['agent_name', 'status', 'error_type'];
const WIDE_LEVELS: readonly Level[] = [
  { table: 'agent_invocations_1d', stepMs: DAY_MS, truncate: 'toStartOfDay', dims: DIMENSIONS, partition: 'toYear(bucket)' },
  { table: 'agent_invocations_1h', stepMs: HOUR_MS, truncate: 'toStartOfHour', dims: DIMENSIONS, partition: 'toYYYYMM(bucket)' },
  { table: 'agent_invocations_1m', stepMs: MINUTE_MS, truncate: 'toStartOfMinute', dims: NARROW, partition: 'toYYYYMM(bucket)' },
];
/**
 * The same hours and days with only the narrow dimensions. Most dashboard
 * questions (per agent, per bucket, per error type) need nothing else, and
 * these hold ~100× fewer rows than the wide ones at 10M events: the t-digest
 * and user-set merges, not the scan, are what a rollup read costs.
 */
const NARROW_LEVELS: readonly Level[] = [
  { table: 'agent_invocations_narrow_1d', stepMs: DAY_MS, truncate: 'toStartOfDay', dims: NARROW, partition: 'toYear(bucket)' },
  { table: 'agent_invocations_narrow_1h', stepMs: HOUR_MS, truncate: 'toStartOfHour', dims: NARROW, partition: 'toYYYYMM(bucket)' },
];
export const LEVELS: readonly Level[] = [...WIDE_LEVELS, ...NARROW_LEVELS];

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

function levelDdl(l: Level): string[] {
  const dims = l.dims.map((d) => `${d} LowCardinality(String)`).join(',\n      ');
  const selectRows = `SELECT org_id, agent_name, ${l.truncate}(timestamp) AS bucket, ${l.dims.filter((d) => d !== 'agent_name').join(', ')},
      ${RAW_STATES}
    FROM {db}.events
    WHERE event_type = 'agent_invocation'
    GROUP BY org_id, agent_name, bucket, ${l.dims.filter((d) => d !== 'agent_name').join(', ')}`;
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
    ORDER BY (org_id, agent_name, bucket, ${l.dims.filter((d) => d !== 'agent_name').join(', ')})`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.${l.table}_mv{cluster} TO {db}.${l.table} AS ${selectRows}`,
    // Migrations run before the kernel accepts events, so nothing is inserted
    // between the view's creation and this copy: no row is counted twice or missed.
    `INSERT INTO {db}.${l.table} ${selectRows}`,
  ];
}

export const clickhouseMigrations: ChMigration[] = [
  { name: '0001_agent_invocation_rollups', statements: WIDE_LEVELS.flatMap(levelDdl) },
  { name: '0002_narrow_rollups', statements: NARROW_LEVELS.flatMap(levelDdl) },
];

/** The smallest table holding every agent ever seen (existence checks: 404 for an unknown agent). */
export const AGENT_INDEX_TABLE = 'agent_invocations_narrow_1d';
