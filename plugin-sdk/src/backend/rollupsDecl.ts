/**
 * Declared rollups: a plugin says what it aggregates, the kernel keeps it up to date.
 *
 * A declaration names a source (the kernel's `events` table), a filter, the dimensions, the
 * measures as aggregate states, and its tables: one root at the finest grain holding every
 * dimension, fed from raw events, and derived tables (coarser grains, fewer dimensions),
 * each fed from the table it names in `from`. Nothing runs per insert: a kernel job folds the
 * events inserted since the last run (by `inserted_at`, which ClickHouse stamps at insert) into
 * the root and passes the same delta down the cascade in dependency order, so each raw row
 * is read once however many tables there are.
 *
 * Reads stay exact and fresh with the watermark W the job reached: a rollup table holds
 * exactly the events with `inserted_at <= W`; the rest are read raw (`inserted_at > W`) for
 * the same range and merged (see `planSegments` with `watermark`). A late event, whatever
 * its timestamp, is in a rollup or in that raw remainder, never in both.
 *
 *   export const CALLS = defineRollup({ name: 'calls', filter: "event_type = 'agent_invocation'", … });
 *   definePlugin({ rollups: [CALLS], migrations: { clickhouse: [{ name: '0001', statements: rollupDdl(CALLS) }] }, … });
 *   const rows = await ctx.rollups.read('calls', (w) => query(ctx.analytics, w));
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from './rollups.ts';
import { checkDerived, derivePlan, derivedDdl, derivedKeysTable, type DerivePlan, type DerivedState } from './rollupsDerived.ts';

export * from './rollupsDerived.ts';

/**
 * `month`: UTC calendar months, for rollups that keep one row per key over a long span (a
 * per-user activity set); a month's row is rebuilt whole (`rebuildSpan`) and expires with its
 * first day, like every bucket.
 */
export type RollupGrain = 'minute' | 'hour' | 'day' | 'month';

/** a grain's length; a month counts as 31 days (only the order of grains uses it) */
export const GRAIN_MS: Record<RollupGrain, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS, month: 31 * DAY_MS };
const TRUNCATE: Record<RollupGrain, (col: string) => string> = {
  minute: (c) => `toStartOfMinute(${c})`,
  hour: (c) => `toStartOfHour(${c})`,
  day: (c) => `toStartOfDay(${c})`,
  month: (c) => `toDateTime(toStartOfMonth(${c}), 'UTC')`,
};

/**
 * The UTC span `[a, b)` widened to whole buckets of the coarsest stored table: a rebuild deletes
 * rows by bucket, so it must recompute every event of each bucket it touches.
 */
export function rebuildSpan(d: RollupDecl, a: number, b: number): [number, number] {
  const day = (t: number, up: boolean) => (up ? Math.ceil(t / DAY_MS) : Math.floor(t / DAY_MS)) * DAY_MS;
  if (!storedTables(d).some((t) => t.grain === 'month')) return [day(a, false), day(b, true)];
  const start = new Date(a);
  const end = new Date(b - 1);
  return [Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1), Date.UTC(end.getUTCFullYear(), end.getUTCMonth() + 1, 1)];
}

export interface RollupMeasure {
  name: string;
  /**
   * Column type: `SimpleAggregateFunction(sum|max|min|any, T)` or `AggregateFunction(f(params), T)`.
   * The cascade re-aggregates a simple function with itself and a state with `fMergeState`.
   */
  type: string;
  /** the expression over the source that yields this column, e.g. `count()`, `uniqExactState(user_id)` */
  expr: string;
}

export interface RollupTable {
  table: string;
  grain: RollupGrain;
  /** a subset of the declaration's dimensions (all of them for the root) */
  dims: readonly string[];
  /** the table this one is derived from (finer or equal grain, a superset of dims); none for the root */
  from?: string;
  /**
   * `false`: the table only passes each fold's delta down the cascade and is never stored (a
   * root as fine as the raw events, which no read uses, would cost as much as them). Default true.
   */
  stored?: boolean;
}

export interface RollupDecl {
  /** unique within the plugin; names the watermark and `ctx.rollups.read(name, …)` */
  name: string;
  /** only the kernel's `events` table for now */
  source: 'events';
  /** SQL condition over the source's columns */
  filter?: string;
  /** source columns the rollup can group by (String columns of `events`), stored as `LowCardinality(String)` */
  dimensions: readonly string[];
  /**
   * dimensions stored as plain `String` instead: those with very many distinct values (a user
   * id). LowCardinality keeps a dictionary per part; with a million users it no longer fits its
   * limits, and reading and grouping such a column took several times as long as plain strings
   * (a million-user group by: ~6 s against ~0.9 s on the same rows).
   */
  highCardinality?: readonly string[];
  /** dimensions that come before the bucket in each table's sort key (those present in the table) */
  leading?: readonly string[];
  measures: readonly RollupMeasure[];
  /** the root (no `from`) first or anywhere; derived tables name their parent */
  tables: readonly RollupTable[];
  /** sort key granularity of the tables (small granules: a read deserializes whole granules of states) */
  indexGranularity?: number;
  /**
   * which of the org's retention horizons the tables' rows follow (see retention.ts):
   * `aggregates` (default, 2 years unless the org says otherwise) or `user_activity` (1 year),
   * for rollups that hold per-user activity
   */
  retention?: 'aggregates' | 'user_activity';
  /**
   * per-key derived tables over one of the stored tables (rollupsDerived.ts): re-derived by
   * the kernel, for the keys each fold touches, inside the fold's publish
   */
  derived?: readonly DerivedState[];
}

/** Checks a declaration and returns it (tables in dependency order: every parent before its children). */
export function defineRollup(d: RollupDecl): RollupDecl {
  const roots = d.tables.filter((t) => !t.from);
  if (roots.length !== 1) throw new Error(`rollup ${d.name}: exactly one root table (without "from") expected, found ${roots.length}`);
  const root = roots[0]!;
  const missing = d.dimensions.filter((x) => !root.dims.includes(x));
  if (missing.length) throw new Error(`rollup ${d.name}: the root ${root.table} must hold every dimension; missing ${missing.join(', ')}`);
  const byName = new Map(d.tables.map((t) => [t.table, t]));
  if (byName.size !== d.tables.length) throw new Error(`rollup ${d.name}: table names must be unique`);
  for (const t of d.tables) {
    const unknown = t.dims.filter((x) => !d.dimensions.includes(x));
    if (unknown.length) throw new Error(`rollup ${d.name}: ${t.table} has undeclared dimensions ${unknown.join(', ')}`);
    if (!t.from) continue;
    const p = byName.get(t.from);
    if (!p) throw new Error(`rollup ${d.name}: ${t.table} is derived from unknown table ${t.from}`);
    if (GRAIN_MS[p.grain] > GRAIN_MS[t.grain]) throw new Error(`rollup ${d.name}: ${t.table} (${t.grain}) cannot come from the coarser ${p.table} (${p.grain})`);
    const lost = t.dims.filter((x) => !p.dims.includes(x));
    if (lost.length) throw new Error(`rollup ${d.name}: ${t.table} needs ${lost.join(', ')}, which its parent ${p.table} does not hold`);
  }
  for (const t of d.tables) {
    if (t.stored === false && !d.tables.some((c) => c.from === t.table)) throw new Error(`rollup ${d.name}: ${t.table} is neither stored nor a parent of another table`);
  }
  const notDims = (d.highCardinality ?? []).filter((x) => !d.dimensions.includes(x));
  if (notDims.length) throw new Error(`rollup ${d.name}: highCardinality names ${notDims.join(', ')}, which are not dimensions`);
  for (const m of d.measures) mergeExpr(m); // throws on a type the cascade cannot re-aggregate
  checkDerived(d);
  return { ...d, tables: cascadeOrder(d.tables) };
}

/** Tables with every parent before its children (throws on a cycle). */
export function cascadeOrder(tables: readonly RollupTable[]): RollupTable[] {
  const out: RollupTable[] = [];
  const done = new Set<string>();
  let rest = [...tables];
  while (rest.length) {
    const ready = rest.filter((t) => !t.from || done.has(t.from));
    if (!ready.length) throw new Error(`rollup tables form a cycle: ${rest.map((t) => t.table).join(', ')}`);
    for (const t of ready) {
      out.push(t);
      done.add(t.table);
    }
    rest = rest.filter((t) => !done.has(t.table));
  }
  return out;
}

/** How a measure column of a parent table is re-aggregated into a child. */
export function mergeExpr(m: RollupMeasure): string {
  const simple = /^SimpleAggregateFunction\(\s*(\w+)\s*,/.exec(m.type);
  if (simple) return `${simple[1]}(${m.name})`;
  const state = /^AggregateFunction\(\s*(\w+)\s*(\([^)]*\))?\s*,/.exec(m.type);
  if (state) return `${state[1]}MergeState${state[2] ?? ''}(${m.name})`;
  throw new Error(`rollup measure ${m.name}: type ${m.type} is neither SimpleAggregateFunction nor AggregateFunction`);
}

export const rootOf = (d: RollupDecl): RollupTable => d.tables.find((t) => !t.from)!;
/** The scratch table a parent's delta waits in during a fold (children read it). */
export const deltaTable = (t: RollupTable) => `${t.table}__delta`;
const isParent = (d: RollupDecl, t: RollupTable) => d.tables.some((c) => c.from === t.table);
/** The tables that hold rows (reads, rebuilds and deletes see only these). */
export const storedTables = (d: RollupDecl) => d.tables.filter((t) => t.stored !== false);

function sortKey(d: RollupDecl, t: RollupTable): string[] {
  const lead = (d.leading ?? []).filter((x) => t.dims.includes(x));
  return ['org_id', ...lead, 'bucket', ...t.dims.filter((x) => !lead.includes(x))];
}

/** the column type of a dimension in the rollup's tables */
export const dimensionType = (d: RollupDecl, dim: string) => (d.highCardinality?.includes(dim) ? 'String' : 'LowCardinality(String)');

function columnsDdl(d: RollupDecl, t: RollupTable): string {
  return [
    'org_id LowCardinality(String)',
    "bucket DateTime('UTC')",
    ...t.dims.map((x) => `${x} ${dimensionType(d, x)}`),
    ...d.measures.map((m) => `${m.name} ${m.type}`),
  ].join(',\n      ');
}

/** Column names of a table, in its order (inserts name them: a SELECT's order need not match). */
export const columnsOf = (d: RollupDecl, t: RollupTable) => ['org_id', 'bucket', ...t.dims, ...d.measures.map((m) => m.name)];

/**
 * The DDL of a declaration's tables, for the plugin's ClickHouse migration: an
 * AggregatingMergeTree per table, and a Memory scratch table per parent of the cascade.
 * Inserts carry a deduplication token, so a fold redone after a crash adds nothing twice.
 */
export function rollupDdl(d: RollupDecl): string[] {
  const out: string[] = [];
  for (const t of d.tables) {
    if (t.stored !== false) out.push(`CREATE TABLE IF NOT EXISTS {db}.${t.table}{cluster} (
      ${columnsDdl(d, t)}
    ) ENGINE = {engine:AggregatingMergeTree}
    PARTITION BY ${t.grain === 'day' || t.grain === 'month' ? 'toYear(bucket)' : 'toYYYYMM(bucket)'}
    ORDER BY (${sortKey(d, t).join(', ')})
    SETTINGS index_granularity = ${d.indexGranularity ?? 128}, non_replicated_deduplication_window = 1000`);
    if (isParent(d, t)) out.push(`CREATE TABLE IF NOT EXISTS {db}.${deltaTable(t)}{cluster} (${columnsDdl(d, t)}) ENGINE = Memory`);
  }
  return [...out, ...derivedDdl(d, (k) => dimensionType(d, k))];
}

/** The statements of a declaration's tables, to drop them (a plugin's later migration). */
export const dropRollupDdl = (d: RollupDecl): string[] => [
  ...d.tables.flatMap((t) => [`DROP TABLE IF EXISTS {db}.${t.table}{cluster}`, `DROP TABLE IF EXISTS {db}.${deltaTable(t)}{cluster}`]),
  ...(d.derived ?? []).flatMap((s) => [`DROP TABLE IF EXISTS {db}.${s.table}{cluster}`, `DROP TABLE IF EXISTS {db}.${derivedKeysTable(s)}{cluster}`]),
];

/**
 * One fold, as SQL the kernel runs in order (`{db}` filled in). `rows` is the condition on the
 * source that selects what is folded (an `inserted_at` window, or an org and time range for a
 * rebuild). `compute` fills the parents' scratch tables; `publish` writes every table (the
 * only statements readers can see); `derive` re-derives the derived tables' touched keys (see
 * rollupsDerived.ts: its `keys` run with `compute`, its `delete` and `insert` after `publish`
 * under the same gate); `clear` empties the scratch tables. `storedRows` (a rebuild): a condition
 * on the stored tables whose keys are re-derived as well.
 */
export function foldPlan(
  d: RollupDecl,
  rows: string,
  storedRows?: string,
): { compute: Array<{ table: string; sql: string }>; publish: Array<{ table: string; sql: string }>; derive: DerivePlan[]; clear: string[] } {
  const compute: Array<{ table: string; sql: string }> = [];
  const publish: Array<{ table: string; sql: string }> = [];
  const clear: string[] = [];
  for (const t of d.tables) {
    const cols = columnsOf(d, t);
    const parent = t.from ? d.tables.find((p) => p.table === t.from)! : null;
    // positional insert with aliases that shadow no column: `sum(cost) AS cost` would make
    // ClickHouse read the alias inside the aggregate
    const dims = t.dims.map((x) => `, ${x}`).join('');
    const measures = d.measures.map((m) => `${parent ? mergeExpr(m) : m.expr} AS m__${m.name}`).join(', ');
    const select = parent
      ? `SELECT org_id, ${TRUNCATE[t.grain]('bucket')} AS b__bucket${dims}, ${measures}
         FROM {db}.${deltaTable(parent)}
         GROUP BY org_id, b__bucket${dims}`
      : `SELECT org_id, ${TRUNCATE[t.grain]('timestamp')} AS b__bucket${dims}, ${measures}
         FROM {db}.${d.source}
         WHERE (${d.filter ?? '1'}) AND (${rows})
         GROUP BY org_id, b__bucket${dims}`;
    const into = (target: string) => `INSERT INTO {db}.${target} (${cols.join(', ')}) ${select}`;
    if (isParent(d, t)) {
      compute.push({ table: deltaTable(t), sql: into(deltaTable(t)) });
      if (t.stored !== false) publish.push({ table: t.table, sql: `INSERT INTO {db}.${t.table} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM {db}.${deltaTable(t)}` });
      clear.push(`TRUNCATE TABLE IF EXISTS {db}.${deltaTable(t)}`);
    } else {
      publish.push({ table: t.table, sql: into(t.table) });
    }
  }
  const derive = derivePlan(d, rows, storedRows);
  return { compute, publish, derive, clear: [...clear, ...derive.map((x) => x.clear)] };
}

/** What a plugin gets to read its rollups consistently (`ctx.rollups`). */
export interface RollupReader {
  /**
   * Runs `fn` with the watermark of the plugin's rollup `name`: the rollup tables hold exactly
   * the source rows with `inserted_at <= watermark`, and no fold publishes while `fn` runs.
   * `planSegments` called inside `fn` reads no raw events before the point the org's raw-event
   * expiry has reached (retention.ts). `state.derived`: the rollup's derived tables that hold
   * every key as of the watermark (a derived table added to a rollup with rows is filled by the
   * next fold; until then it is not listed and reads take another way).
   */
  read<T>(name: string, fn: (watermark: Date, state: { derived: ReadonlySet<string> }) => Promise<T>): Promise<T>;
}

/** SQL condition: a source row not yet in the rollups of watermark `param` (a `{param:Int64}` of ms). */
export const freshRowsSql = (param: string) => `inserted_at > fromUnixTimestamp64Milli({${param}:Int64}, 'UTC')`;
