/**
 * The plugin's ClickHouse rollups: AggregatingMergeTree tables per set of
 * dimensions and bucket width (minute, hour, day), declared once
 * (`INVOCATIONS`) and kept up to date by the kernel off the insert path: a job
 * folds the invocations inserted since its watermark into the finest table
 * (every dimension, per minute) and derives the others from its states
 * (a one-level cascade). The read path (query.ts) merges rollup
 * rows with the raw events inserted after the watermark, so answers are exact
 * and fresh. Nothing runs per insert.
 *
 * Why states and not numbers: a p95 of hourly p95s is not a p95, and the
 * number of users over a week is not the sum of daily users. Each row keeps
 * the t-digest of its latencies and the exact set of its users, so any set of
 * rows (a day, a week, one model, one department) merges into the right figure.
 * Counts, tokens and cost are plain sums (SimpleAggregateFunction): exact and
 * cheap.
 *
 * Why buckets by event time: a fold takes rows by when they were inserted,
 * whatever their timestamps, so a late event is added to the bucket it
 * happened in.
 */
import type { ChMigration, RollupMeasure, RollupTable } from '@orrery/plugin-sdk';
import { GRAIN_MS, defineRollup, rollupDdl, type RollupLevel } from '@orrery/plugin-sdk';

/** Columns an invocation can be sliced by without going back to raw events. */
export const DIMENSIONS = ['agent_name', 'agent_version', 'model_used', 'prompt_template_version', 'department_id', 'status', 'error_type'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** The quantile levels every latency state answers (t-digest; see README). */
export const QUANTILES = [0.5, 0.75, 0.95, 0.99] as const;
const Q = QUANTILES.join(', ');

export interface Level extends RollupLevel {
  table: string;
  dims: readonly Dimension[];
  /** only for series of this granularity (the minute level: see below) */
  onlyFor?: 'minute';
}

/**
 * Tables of migrations 0001/0002, kept only so that 0003 can name what it drops.
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
 *
 * The root of the cascade (`agent_calls_wide_1m`, every dimension per minute)
 * is what the fold aggregates raw events into; it holds nearly a row per
 * event, so it is a scratch table only (`stored: false`): each fold's delta
 * passes through it to the other tables and is dropped.
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
const ROOT = 'agent_calls_wide_1m';
const TABLES: RollupTable[] = [
  // passes each fold's invocations down the cascade; not stored (nearly a row per event)
  { table: ROOT, grain: 'minute', dims: DIMENSIONS, stored: false },
  ...SETS.flatMap(([name, dims]): RollupTable[] => [
    { table: `${name}_1h`, grain: 'hour', dims, from: ROOT },
    // from the root as well, not from the hour table: a fold is a handful of rows per table,
    // and each scratch table more costs a statement of fixed cost twice per fold
    { table: `${name}_1d`, grain: 'day', dims, from: ROOT },
  ]),
  { table: 'agent_calls_wide_1d', grain: 'day', dims: DIMENSIONS, from: ROOT },
  { table: 'agent_calls_1m', grain: 'minute', dims: BASE, from: ROOT },
];

/**
 * The measures, as the states a raw-event query produces. The fold and the
 * read path's raw pieces use this one list, so a rollup row and a raw piece
 * always merge.
 */
const MEASURE_LIST: RollupMeasure[] = [
  { name: 'invocations', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' },
  { name: 'input_tokens', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'sum(input_tokens)' },
  { name: 'output_tokens', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'sum(output_tokens)' },
  { name: 'cost_usd', type: 'SimpleAggregateFunction(sum, Decimal(38, 9))', expr: 'sum(cost_usd)' },
  { name: 'latency_sum', type: 'SimpleAggregateFunction(sum, Float64)', expr: 'sum(execution_time_ms)' },
  { name: 'last_seen', type: "SimpleAggregateFunction(max, DateTime64(3, 'UTC'))", expr: 'max(timestamp)' },
  { name: 'latency', type: `AggregateFunction(quantilesTDigest(${Q}), Float64)`, expr: `quantilesTDigestState(${Q})(execution_time_ms)` },
  { name: 'users', type: 'AggregateFunction(uniqExact, String)', expr: 'uniqExactState(user_id)' },
];

/** Agent invocations, declared for the kernel to maintain (see the SDK's rollupsDecl.ts). */
export const INVOCATIONS = defineRollup({
  name: 'invocations',
  source: 'events',
  filter: "event_type = 'agent_invocation'",
  dimensions: DIMENSIONS,
  leading: ['agent_name'],
  measures: MEASURE_LIST,
  tables: TABLES,
  // small granules: a read deserializes whole granules of states, and one agent's week is a few hundred rows
  indexGranularity: 128,
});

const level = (t: RollupTable): Level => ({
  table: t.table,
  stepMs: GRAIN_MS[t.grain],
  dims: t.dims as readonly Dimension[],
  ...(t.grain === 'minute' ? { onlyFor: 'minute' as const } : {}),
});
/** The tables the read path chooses from (all but the root). */
export const LEVELS: readonly Level[] = INVOCATIONS.tables.filter((t) => t.from).map(level);

/** The states of MEASURE_LIST over raw events (the read path's raw pieces). */
export const RAW_STATES = MEASURE_LIST.map((m) => `${m.expr} AS ${m.name}`).join(',\n      ');

/** The plain sums of RAW_STATES, for questions that ask for counts only. */
export const RAW_COUNTS = MEASURE_LIST.filter((m) => m.type.startsWith('Simple')).map((m) => `${m.expr} AS ${m.name}`).join(',\n      ');

/** Drops a table of 0001/0002 and its view (the view first, so no insert feeds a half-dropped pair). */
const dropLegacy = (t: string) => [`DROP VIEW IF EXISTS {db}.${t}_mv{cluster}`, `DROP TABLE IF EXISTS {db}.${t}{cluster}`];

/** The 14 tables 0003 made, each fed by a materialized view on every insert. */
const VIEW_TABLES = [...SETS.flatMap(([name]) => [`${name}_1d`, `${name}_1h`]), 'agent_calls_wide_1d', 'agent_calls_1m'];

/**
 * 0001–0003 made tables fed by materialized views (15 parts written per insert into
 * `events`). They stay recorded; a new install runs only their drops. 0004 drops the views
 * and their tables and makes the declared tables, which the kernel fills from the first
 * fold (watermark 0: every stored invocation); until then reads take raw events.
 */
export const clickhouseMigrations: ChMigration[] = [
  { name: '0001_agent_invocation_rollups', statements: [] },
  { name: '0002_narrow_rollups', statements: [] },
  { name: '0003_rollups_per_dimension_set', statements: LEGACY_TABLES.flatMap(dropLegacy) },
  {
    name: '0004_rollups_off_the_insert_path',
    statements: [...VIEW_TABLES.flatMap((t) => [`DROP VIEW IF EXISTS {db}.${t}_mv{cluster}`, `DROP TABLE IF EXISTS {db}.${t}{cluster}`]), ...rollupDdl(INVOCATIONS)],
  },
];

/** The smallest table holding every agent folded so far (existence checks: 404 for an unknown agent). */
export const AGENT_INDEX_TABLE = 'agent_calls_1d';
