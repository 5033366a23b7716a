/**
 * The metrics plugin's own rollup of every event type (declared for the kernel to fold off
 * the insert path, see the SDK's rollupsDecl.ts), so that the metrics query can answer from
 * aggregate states where they hold the question exactly (planner.ts) and from raw events
 * otherwise. Other plugins' rollups are theirs and never read here.
 *
 * What a row holds, per bucket and dimension values: the number of events, the exact set of
 * users (`uniqExact` state) and, for each rolled-up numeric field, its sum, min and max.
 * That answers count, users, sum, avg (sum / count), min, max and rate (when `rate_where`
 * names only dimensions) exactly; exact quantiles need every value and always read raw events.
 *
 * Tables: one set of dimensions per way a chart slices events, at hour and day width; the
 * read takes the table with the fewest dimensions that still holds the question's groups and
 * filters (fewest states to merge). The minute root holds nearly a row per event, so it is a
 * scratch step of the fold only (`stored: false`), and minute series read raw events.
 */
import { DAY_MS, HOUR_MS, defineRollup, rollupDdl, type ChMigration, type RollupLevel, type RollupMeasure, type RollupTable } from '@orrery/plugin-sdk';

/** Columns of `events` a metrics rollup can group and filter by. */
export const DIMENSIONS = ['event_type', 'action', 'status', 'agent_name', 'model_used', 'department_id'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Numeric fields whose sum, min and max are rolled up (others read raw events). */
export const ROLLED_FIELDS = ['execution_time_ms', 'cost_usd', 'input_tokens', 'output_tokens', 'cached_input_tokens', 'duration_ms', 'metric_value', 'rating', 'lines_changed'] as const;

export interface Level extends RollupLevel {
  table: string;
  dims: readonly Dimension[];
}

const BASE: readonly Dimension[] = ['event_type', 'action', 'status', 'agent_name'];
const SETS: ReadonlyArray<[string, readonly Dimension[], Array<'hour' | 'day'>]> = [
  ['metrics_ev', BASE, ['hour', 'day']],
  ['metrics_ev_model', [...BASE, 'model_used'], ['hour', 'day']],
  ['metrics_ev_dept', [...BASE, 'department_id'], ['hour', 'day']],
  // every dimension: an hour of it holds nearly a row per event, so days only
  ['metrics_ev_wide', DIMENSIONS, ['day']],
];
const ROOT = 'metrics_ev_root_1m';

const TABLES: RollupTable[] = [
  { table: ROOT, grain: 'minute', dims: DIMENSIONS, stored: false },
  ...SETS.flatMap(([name, dims, grains]) => grains.map((grain): RollupTable => ({ table: `${name}_${grain === 'hour' ? '1h' : '1d'}`, grain, dims, from: ROOT }))),
];

export const sumCol = (f: string) => `sum__${f}`;
export const minCol = (f: string) => `min__${f}`;
export const maxCol = (f: string) => `max__${f}`;

const MEASURES: RollupMeasure[] = [
  { name: 'n', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' },
  { name: 'users', type: 'AggregateFunction(uniqExact, String)', expr: 'uniqExactState(user_id)' },
  ...ROLLED_FIELDS.flatMap((f): RollupMeasure[] => [
    { name: sumCol(f), type: 'SimpleAggregateFunction(sum, Float64)', expr: `sum(toFloat64(${f}))` },
    { name: minCol(f), type: 'SimpleAggregateFunction(min, Float64)', expr: `min(toFloat64(${f}))` },
    { name: maxCol(f), type: 'SimpleAggregateFunction(max, Float64)', expr: `max(toFloat64(${f}))` },
  ]),
];

/** Every event, by the dimensions above (see the SDK's `defineRollup`). */
export const EVENTS_ROLLUP = defineRollup({
  name: 'events',
  source: 'events',
  dimensions: DIMENSIONS,
  leading: ['event_type'],
  measures: MEASURES,
  tables: TABLES,
  indexGranularity: 128,
});

/** The stored tables the planner chooses from. */
export const LEVELS: readonly Level[] = EVENTS_ROLLUP.tables
  .filter((t) => t.from)
  .map((t) => ({ table: t.table, stepMs: t.grain === 'hour' ? HOUR_MS : DAY_MS, dims: t.dims as readonly Dimension[] }));

export const clickhouseMigrations: ChMigration[] = [{ name: '0001_metrics_events_rollup', statements: rollupDdl(EVENTS_ROLLUP) }];
