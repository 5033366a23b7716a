/**
 * What a fold's publish would cost with fewer parts, on chDB alone: agent-analytics' 14 stored
 * tables shaped as `rollupDdl` makes them (AggregatingMergeTree, its partitions and sort key,
 * a deduplication window), each given its rows by its own `INSERT … SELECT` from a Memory
 * scratch table, as a fold publishes today — against the same rows written by one insert into
 * one table that holds all 14 (a `tbl` column first in the sort key, every dimension). The
 * process's CPU (every thread: the statements and the merges that follow them) is measured over
 * `--folds` publishes a round apart by `--gap` ms, the two layouts alternated over `--rounds`.
 * This measures the lever `core/src/ingestion/README.md` names (fewer tables written per fold);
 * the platform does not use the combined layout.
 *
 *   npx tsx scripts/bench/rollup-publish.ts --folds 60 --rounds 3 --gap 100 --rows 5000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { columnsOf, deltaTable, dimensionType, mergeExpr, rollupDdl, rootOf, storedTables } from '@orrery/plugin-sdk';
import { INVOCATIONS } from '../../plugins/agent-analytics/backend/rollups.ts';

const { values: args } = parseArgs({
  options: {
    folds: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    gap: { type: 'string', default: '100' },
    // raw invocations per fold: 2 s at a few thousand events/s
    rows: { type: 'string', default: '5000' },
  },
});
const FOLDS = Number(args.folds), ROUNDS = Number(args.rounds), GAP = Number(args.gap), ROWS = Number(args.rows);

type Session = { query(sql: string, format?: string): string; close(): void };
const { Session } = (await import('chdb')) as unknown as { Session: new (path: string) => Session };

// agent-analytics' declaration, and its tables as the SDK writes them: the 14 stored tables and the root's scratch
const D = INVOCATIONS;
const ROOT = rootOf(D);
const TABLES = storedTables(D);
const DIMS = D.dimensions;
const MEASURES = D.measures;
const fill = (sql: string) => sql.replaceAll('{db}', 'b').replaceAll('{cluster}', '').replace(/\{engine:(\w+)\}/g, '$1');
const TRUNC: Record<string, string> = { minute: 'toStartOfMinute', hour: 'toStartOfHour', day: 'toStartOfDay', month: 'toStartOfMonth' };

const dir = mkdtempSync(join(tmpdir(), 'orrery-rollup-publish-'));
const s = new Session(dir);
s.query('CREATE DATABASE IF NOT EXISTS b');
for (const sql of rollupDdl(D)) s.query(fill(sql));
// the raw invocations of one fold, which the root's scratch aggregates by minute (the fold's compute step)
s.query(`CREATE TABLE b.src (org_id String, timestamp DateTime64(3, 'UTC'), user_id String, input_tokens UInt32, output_tokens UInt32, cost_usd Decimal(18, 9),
  execution_time_ms Float64, ${DIMS.map((d) => `${d} String`).join(', ')}) ENGINE = Memory`);
// every stored table in one: `tbl` names the logical table, first in the sort key; a dimension a table does not have is ''
s.query(`CREATE TABLE b.combined (tbl LowCardinality(String), org_id LowCardinality(String), bucket DateTime('UTC'),
    ${DIMS.map((d) => `${d} ${dimensionType(D, d)}`).join(', ')}, ${MEASURES.map((m) => `${m.name} ${m.type}`).join(', ')})
  ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(bucket) ORDER BY (tbl, org_id, ${(D.leading ?? []).join(', ')}, bucket, ${DIMS.filter((d) => !(D.leading ?? []).includes(d)).join(', ')})
  SETTINGS index_granularity = ${D.indexGranularity ?? 128}, non_replicated_deduplication_window = 1000`);

/**
 * A table's rows of this fold, from the root's scratch, as the fold derives them; for the combined
 * table with `tbl` and blanks. Columns in the order the insert names them (an insert's SELECT is
 * matched by position).
 */
const selectOf = (t: (typeof TABLES)[number], combined: boolean) =>
  `SELECT ${combined ? `'${t.table}' AS tbl, ` : ''}org_id, ${TRUNC[t.grain]}(bucket) AS b__bucket,
     ${(combined ? DIMS.map((d) => (t.dims.includes(d) ? d : `'' AS ${d}`)) : t.dims).join(', ')}, ${MEASURES.map((m) => `${mergeExpr(m)} AS ${m.name}`).join(', ')}
   FROM b.${deltaTable(ROOT)} GROUP BY org_id, b__bucket${t.dims.map((d) => `, ${d}`).join('')}`;
const combinedCols = ['tbl', ...columnsOf(D, { ...ROOT, dims: DIMS })].join(', ');

let fold = 0;
/** the next fold: ROWS raw invocations a minute later than the last, aggregated into the root's scratch */
function fillDelta() {
  fold++;
  s.query('TRUNCATE TABLE b.src');
  s.query(`TRUNCATE TABLE b.${deltaTable(ROOT)}`);
  const dim: Record<string, string> = {
    agent_name: "concat('agent-', toString(number % 16))",
    status: "if(number % 7 = 0, 'failure', 'success')",
    error_type: "if(number % 7 = 0, 'timeout', '')",
    model_used: "['claude-sonnet-4-5', 'claude-haiku-4-5'][number % 2 + 1]",
    agent_version: "concat('1.', toString(number % 3))",
    prompt_template_version: "concat('v', toString(number % 4))",
    department_id: "concat('d', toString(number % 8))",
  };
  s.query(`INSERT INTO b.src SELECT 'org-1', toDateTime64('2026-12-01 00:00:00', 3, 'UTC') + ${fold * 60} + number % 90, concat('u', toString(number % 50)),
      100 + number % 900, 50 + number % 300, toDecimal64(0.001 * (number % 20), 9), 200 + (number * 37) % 4000,
      ${DIMS.map((d) => dim[d] ?? "''").join(', ')} FROM numbers(${ROWS})`);
  s.query(fill(`INSERT INTO {db}.${deltaTable(ROOT)} (${columnsOf(D, ROOT).join(', ')})
    SELECT org_id, toStartOfMinute(timestamp) AS bucket, ${ROOT.dims.join(', ')}, ${MEASURES.map((m) => `${m.expr} AS ${m.name}`).join(', ')}
    FROM b.src GROUP BY org_id, bucket, ${ROOT.dims.join(', ')}`));
}

const layouts = {
  /** today: a statement and a part per stored table */
  'per table': (token: string) => {
    for (const t of TABLES) s.query(`INSERT INTO b.${t.table} (${columnsOf(D, t).join(', ')}) SETTINGS insert_deduplication_token = '${token}:${t.table}' ${selectOf(t, false)}`);
  },
  /** one statement and one part for all 14 */
  'one table': (token: string) => {
    s.query(`INSERT INTO b.combined (${combinedCols}) SETTINGS insert_deduplication_token = '${token}' ${TABLES.map((t) => selectOf(t, true)).join(' UNION ALL ')}`);
  },
};

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

console.log(`one fold's publish of agent-analytics' ${TABLES.length} stored tables, ${ROWS} invocations per fold, ${FOLDS} folds ${GAP} ms apart per run; load ${loadavg()[0]!.toFixed(1)}`);
const results = new Map<string, number[]>();
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, publish] of Object.entries(layouts)) {
    // the delta's own cost is the same for both: measured apart and left out
    let deltaMs = 0;
    const c0 = cpuMs(), t0 = performance.now();
    for (let i = 0; i < FOLDS; i++) {
      const d0 = cpuMs();
      fillDelta();
      deltaMs += cpuMs() - d0;
      publish(`fold-${round}-${i}`);
      await sleep(GAP); // the merges that follow run in the gap, and are counted
    }
    const perFold = (cpuMs() - c0 - deltaMs) / FOLDS;
    const parts = JSON.parse(s.query(`SELECT count() FROM system.parts WHERE database = 'b' AND active`, 'JSONCompact')).data[0][0];
    (results.get(name) ?? results.set(name, []).get(name)!).push(perFold);
    console.log(`round ${round} ${name}: ${perFold.toFixed(1)} ms of CPU per fold (statements and merges), wall ${((performance.now() - t0) / FOLDS - GAP).toFixed(1)} ms per fold besides the gap; active parts ${parts}; load ${loadavg()[0]!.toFixed(1)}`);
  }
}
const [a, b] = [...results.values()];
const ratios = a!.map((x, i) => b![i]! / x);
console.log(`one table / per table, by round: ${ratios.map((r) => r.toFixed(2)).join(', ')}`);
// the two layouts hold the same states: the same folds published both ways, then every logical table's keys
// and measures read from each
for (const t of [...TABLES.map((x) => x.table), 'combined']) s.query(`TRUNCATE TABLE b.${t}`);
for (let i = 0; i < 5; i++) {
  fillDelta();
  layouts['per table'](`check-${i}`);
  layouts['one table'](`check-${i}`);
}
for (const t of TABLES) {
  const read = (from: string) =>
    s.query(`SELECT ${t.dims.join(', ')}, bucket, ${MEASURES.map((m) => (m.type.startsWith('Simple') ? mergeExpr(m) : `finalizeAggregation(${mergeExpr(m)})`)).join(', ')}
      FROM ${from} GROUP BY ${t.dims.join(', ')}, bucket ORDER BY ${t.dims.join(', ')}, bucket`, 'TSV');
  const one = read(`b.${t.table}`), all = read(`(SELECT * FROM b.combined WHERE tbl = '${t.table}')`);
  if (one !== all || !one.trim()) throw new Error(`${t.table}: the layouts differ\n${one.slice(0, 500)}\n---\n${all.slice(0, 500)}`);
}
console.log(`checked: the combined table answers what the ${TABLES.length} tables answer (every key and measure of each)`);
s.close();
rmSync(dir, { recursive: true, force: true });
