/**
 * Derived per-key state over a declared rollup: rows that are a function of all of one key's
 * rollup rows (every bucket), which the kernel re-derives for the keys a fold touches.
 *
 * Why: a rollup aggregates each fold's delta by bucket, so a property of an event that depends
 * on the key's other events ("the previous enrolment of this user", "the first goal after this
 * enrolment") cannot be folded in: a late event changes it for events folded long before. A
 * derived table holds such properties as plain rows; after a fold publishes its delta the
 * kernel deletes the derived rows of every key in that delta and inserts them again from the
 * key's merged rollup rows, inside the same publish, so a reader under `ctx.rollups.read`
 * sees the rollup and its derived rows at the same watermark. A read then scans derived rows
 * for the keys with no event after the watermark, and merges the few keys of the raw tail
 * itself (their `keysAfterSql`).
 *
 *   derived: [{ table: 'wf_outcomes', from: 'wf_1d', keys: ['workflow_id', 'user_id'],
 *     columns: [{ name: 't', type: 'Int64' }, …], orderBy: ['workflow_id', 't'],
 *     select: 'SELECT org_id, workflow_id, user_id, … FROM {rows} GROUP BY org_id, workflow_id, user_id …' }]
 */
import type { RollupDecl } from './rollupsDecl.ts';

export interface DerivedState {
  /** the table of derived rows (a MergeTree the kernel rewrites key by key) */
  table: string;
  /** the stored rollup table the rows are derived from (all of a key's buckets) */
  from: string;
  /** dimensions of `from` that make a key: a key's rows are always re-derived together */
  keys: readonly string[];
  /** the derived columns, after `org_id` and the keys */
  columns: ReadonlyArray<{ name: string; type: string }>;
  /** the sort key after `org_id` (keys or columns) */
  orderBy: readonly string[];
  /**
   * A SELECT of `org_id`, the keys, then the columns, in that order, over `{rows}`: a subquery
   * of the `from` table's rows (unmerged: group them) of the keys being re-derived.
   */
  select: string;
  /** an `Int64` column of ms: retention's expiry deletes the rows before its horizon by it */
  timeColumn?: string;
}

/** The scratch table of the keys a fold touches (Memory, emptied after each use). */
export const derivedKeysTable = (s: DerivedState) => `${s.table}__keys`;

/** Column names of a derived table, in its order. */
export const derivedColumns = (s: DerivedState) => ['org_id', ...s.keys, ...s.columns.map((c) => c.name)];

/** Checks the derived states of a declaration against its tables (called by `defineRollup`). */
export function checkDerived(d: RollupDecl) {
  for (const s of d.derived ?? []) {
    const from = d.tables.find((t) => t.table === s.from);
    if (!from || from.stored === false) throw new Error(`rollup ${d.name}: derived ${s.table} reads ${s.from}, which is not a stored table of it`);
    const lost = s.keys.filter((k) => !from.dims.includes(k));
    if (!s.keys.length || lost.length) throw new Error(`rollup ${d.name}: derived ${s.table} needs keys among the dimensions of ${s.from} (${lost.join(', ') || 'none given'})`);
    if (!s.select.includes('{rows}')) throw new Error(`rollup ${d.name}: derived ${s.table}'s select must read {rows}`);
    const names = new Set(derivedColumns(s));
    const unknown = s.orderBy.filter((c) => !names.has(c));
    if (unknown.length) throw new Error(`rollup ${d.name}: derived ${s.table} sorts by unknown columns ${unknown.join(', ')}`);
    if (s.timeColumn && !s.columns.some((c) => c.name === s.timeColumn)) throw new Error(`rollup ${d.name}: derived ${s.table} has no column ${s.timeColumn}`);
  }
}

/** DDL of a declaration's derived tables and their key scratch tables. */
export function derivedDdl(d: RollupDecl, keyType: (dim: string) => string): string[] {
  return (d.derived ?? []).flatMap((s) => {
    const keys = s.keys.map((k) => `${k} ${keyType(k)}`);
    return [
      // no deduplication window: a re-derivation inserts rows equal to ones it just deleted
      `CREATE TABLE IF NOT EXISTS {db}.${s.table}{cluster} (
      ${['org_id LowCardinality(String)', ...keys, ...s.columns.map((c) => `${c.name} ${c.type}`)].join(',\n      ')}
    ) ENGINE = {engine:MergeTree}
    ORDER BY (${['org_id', ...s.orderBy].join(', ')})
    SETTINGS index_granularity = ${d.indexGranularity ?? 128}`,
      `CREATE TABLE IF NOT EXISTS {db}.${derivedKeysTable(s)}{cluster} (${['org_id LowCardinality(String)', ...keys].join(', ')}) ENGINE = Memory`,
    ];
  });
}

export interface DerivePlan {
  table: string;
  /** fills the key scratch table (before the publish) */
  keys: string;
  /** inside the publish, after the rollup tables: the keys' old rows out, their new rows in */
  delete: string;
  insert: string;
  clear: string;
}

/**
 * The statements that re-derive the keys of a fold or rebuild. `sourceRows`: the condition on
 * the source that selects what is folded; `storedRows`: for a rebuild, a condition on the
 * rollup's tables (`org_id`, `bucket`) whose keys are re-derived too (a rebuild may drop a
 * key's rows, and then no source row names it).
 */
export function derivePlan(d: RollupDecl, sourceRows: string, storedRows?: string): DerivePlan[] {
  return (d.derived ?? []).map((s) => {
    const key = ['org_id', ...s.keys].join(', ');
    const touched = `(${key}) IN (SELECT ${key} FROM {db}.${derivedKeysTable(s)})`;
    const fromSource = `SELECT DISTINCT ${key} FROM {db}.${d.source} WHERE (${d.filter ?? '1'}) AND (${sourceRows})`;
    const fromStored = storedRows ? ` UNION DISTINCT SELECT DISTINCT ${key} FROM {db}.${s.from} WHERE ${storedRows}` : '';
    const cols = derivedColumns(s).join(', ');
    return {
      table: s.table,
      keys: `INSERT INTO {db}.${derivedKeysTable(s)} (${key}) SELECT ${key} FROM (${fromSource}${fromStored})`,
      delete: `DELETE FROM {db}.${s.table}{cluster} WHERE ${touched}`,
      insert: `INSERT INTO {db}.${s.table} (${cols}) SELECT ${cols} FROM (${s.select.replaceAll('{rows}', `(SELECT * FROM {db}.${s.from} WHERE ${touched})`)})`,
      clear: `TRUNCATE TABLE IF EXISTS {db}.${derivedKeysTable(s)}`,
    };
  });
}

/** Every key derived again from the whole `from` table (a derived table added to a rollup that already holds rows). */
export function deriveAllPlan(d: RollupDecl): Array<{ table: string; truncate: string; insert: string }> {
  return (d.derived ?? []).map((s) => {
    const cols = derivedColumns(s).join(', ');
    return {
      table: s.table,
      truncate: `TRUNCATE TABLE IF EXISTS {db}.${s.table}{cluster}`,
      insert: `INSERT INTO {db}.${s.table} (${cols}) SELECT ${cols} FROM (${s.select.replaceAll('{rows}', `{db}.${s.from}`)})`,
    };
  });
}

/**
 * SQL: the keys (of `state`) with a source row inserted after the watermark `{param:Int64}` and
 * matching `where` (source columns): the keys a read merges itself, their derived rows being
 * behind. `source` is the source table's name as the plugin reads it (`ctx.analytics.table`);
 * `where` should bound the source's `timestamp` from below where the read can.
 */
export function keysAfterSql(d: RollupDecl, state: DerivedState, source: string, param: string, where: string): string {
  return `SELECT DISTINCT ${state.keys.join(', ')} FROM ${source}
    WHERE (${d.filter ?? '1'}) AND (${where}) AND inserted_at > fromUnixTimestamp64Milli({${param}:Int64}, 'UTC')`;
}
