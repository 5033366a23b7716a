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
 *   npx tsx scripts/bench/rollup-publish.ts --folds 60 --rounds 3 --gap 100 --rows 40
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    folds: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    gap: { type: 'string', default: '100' },
    // rows per table per fold: a fold of a few thousand invocations over ~16 agents
    rows: { type: 'string', default: '40' },
  },
});
const FOLDS = Number(args.folds), ROUNDS = Number(args.rounds), GAP = Number(args.gap), ROWS = Number(args.rows);

type Session = { query(sql: string, format?: string): string; close(): void };
const { Session } = (await import('chdb')) as unknown as { Session: new (path: string) => Session };

// agent-analytics' stored tables: six dimension sets by hour and by day, every dimension by day, a minute table
const BASE = ['agent_name', 'status'];
const SETS: Array<[string, string[]]> = [
  ['calls', BASE],
  ['by_error', [...BASE, 'error_type']],
  ['by_model', [...BASE, 'model_used']],
  ['by_version', [...BASE, 'agent_version']],
  ['by_prompt', [...BASE, 'prompt_template_version']],
  ['by_department', [...BASE, 'department_id']],
];
const ALL_DIMS = ['agent_name', 'status', 'error_type', 'model_used', 'agent_version', 'prompt_template_version', 'department_id'];
const TABLES: Array<{ table: string; grain: 'minute' | 'hour' | 'day'; dims: string[] }> = [
  ...SETS.flatMap(([name, dims]) => [
    { table: `${name}_1h`, grain: 'hour' as const, dims },
    { table: `${name}_1d`, grain: 'day' as const, dims },
  ]),
  { table: 'wide_1d', grain: 'day', dims: ALL_DIMS },
  { table: 'calls_1m', grain: 'minute', dims: BASE },
];
const Q = '0.5, 0.95, 0.99';
const MEASURES = [
  ['invocations', 'SimpleAggregateFunction(sum, UInt64)'],
  ['input_tokens', 'SimpleAggregateFunction(sum, UInt64)'],
  ['output_tokens', 'SimpleAggregateFunction(sum, UInt64)'],
  ['cost_usd', 'SimpleAggregateFunction(sum, Decimal(38, 9))'],
  ['latency_sum', 'SimpleAggregateFunction(sum, Float64)'],
  ['last_seen', "SimpleAggregateFunction(max, DateTime64(3, 'UTC'))"],
  ['latency', `AggregateFunction(quantilesTDigest(${Q}), Float64)`],
  ['users', 'AggregateFunction(uniqExact, String)'],
] as const;
const measureCols = MEASURES.map(([n, t]) => `${n} ${t}`).join(', ');
const dimCols = (dims: string[]) => dims.map((d) => `${d} LowCardinality(String)`).join(', ');
const partition = (grain: string) => (grain === 'day' ? 'toYear(bucket)' : 'toYYYYMM(bucket)');
const SETTINGS = 'SETTINGS index_granularity = 128, non_replicated_deduplication_window = 1000';
const TRUNC: Record<string, string> = { minute: 'toStartOfMinute', hour: 'toStartOfHour', day: 'toStartOfDay' };

const dir = mkdtempSync(join(tmpdir(), 'orrery-rollup-publish-'));
const s = new Session(dir);
s.query('CREATE DATABASE IF NOT EXISTS b');
// the fold's scratch: the delta's states by minute and every dimension
s.query(`CREATE TABLE b.delta (org_id LowCardinality(String), bucket DateTime('UTC'), ${dimCols(ALL_DIMS)}, ${measureCols}) ENGINE = Memory`);
for (const t of TABLES) {
  s.query(`CREATE TABLE b.${t.table} (org_id LowCardinality(String), bucket DateTime('UTC'), ${dimCols(t.dims)}, ${measureCols})
    ENGINE = AggregatingMergeTree PARTITION BY ${partition(t.grain)} ORDER BY (org_id, agent_name, bucket${t.dims.filter((d) => d !== 'agent_name').map((d) => `, ${d}`).join('')}) ${SETTINGS}`);
}
// every table in one: `tbl` names the logical table; a dimension a table does not have is ''
s.query(`CREATE TABLE b.combined (tbl LowCardinality(String), org_id LowCardinality(String), bucket DateTime('UTC'), ${dimCols(ALL_DIMS)}, ${measureCols})
  ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(bucket) ORDER BY (tbl, org_id, agent_name, bucket, ${ALL_DIMS.filter((d) => d !== 'agent_name').join(', ')}) ${SETTINGS}`);

const merged = MEASURES.map(([n, t]) => (t.startsWith('Simple') ? `${/sum/.test(t) ? 'sum' : 'max'}(${n}) AS ${n}` : `${n === 'latency' ? `quantilesTDigestMergeState(${Q})` : 'uniqExactMergeState'}(${n}) AS ${n}`)).join(', ');
const selectOf = (t: (typeof TABLES)[number], withTbl: boolean) =>
  `SELECT ${withTbl ? `'${t.table}' AS tbl, ` : ''}org_id, ${TRUNC[t.grain]}(bucket) AS bucket, ${ALL_DIMS.map((d) => (t.dims.includes(d) ? d : withTbl ? `'' AS ${d}` : null)).filter(Boolean).join(', ')}, ${merged}
   FROM b.delta GROUP BY org_id, bucket${t.dims.map((d) => `, ${d}`).join('')}`;
const colsOf = (t: (typeof TABLES)[number]) => ['org_id', 'bucket', ...t.dims, ...MEASURES.map(([n]) => n)].join(', ');
const combinedCols = ['tbl', 'org_id', 'bucket', ...ALL_DIMS, ...MEASURES.map(([n]) => n)].join(', ');

let fold = 0;
/** the next fold's delta: ROWS minutes × agents' worth of states, a minute later than the last */
function fillDelta() {
  fold++;
  s.query('TRUNCATE TABLE b.delta');
  s.query(`INSERT INTO b.delta SELECT 'org-1', toDateTime('2026-12-01 00:00:00', 'UTC') + ${fold * 60} + (number % 2) * 60,
      concat('agent-', toString(number % 16)), if(number % 7 = 0, 'failure', 'success'), if(number % 7 = 0, 'timeout', ''),
      ['claude-sonnet-4-5', 'claude-haiku-4-5'][number % 2 + 1], concat('v', toString(number % 3)), concat('t', toString(number % 4)), concat('d', toString(number % 8)),
      1 + number % 5, 1000 * (1 + number % 5), 300, toDecimal128(0.01, 9), 1200.5, now64(3), quantilesTDigestState(${Q})(toFloat64(number)), uniqExactState(toString(number))
    FROM numbers(${ROWS}) GROUP BY number`);
}

const layouts = {
  /** today: a statement and a part per stored table */
  'per table (14 inserts)': (token: string) => {
    for (const t of TABLES) s.query(`INSERT INTO b.${t.table} (${colsOf(t)}) SETTINGS insert_deduplication_token = '${token}:${t.table}' ${selectOf(t, false)}`);
  },
  /** one statement and one part for all 14 */
  'one table (1 insert)': (token: string) => {
    s.query(`INSERT INTO b.combined (${combinedCols}) SETTINGS insert_deduplication_token = '${token}' ${TABLES.map((t) => selectOf(t, true)).join(' UNION ALL ')}`);
  },
};

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

console.log(`one fold's publish of agent-analytics' 14 tables, ${ROWS} delta rows per fold, ${FOLDS} folds ${GAP} ms apart per run; load ${loadavg()[0]!.toFixed(1)}`);
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
// the two layouts hold the same states: the same folds published both ways, then every logical table's keys,
// sums, distinct users and p95 read from each
for (const t of [...TABLES.map((x) => x.table), 'combined']) s.query(`TRUNCATE TABLE b.${t}`);
for (let i = 0; i < 5; i++) {
  fillDelta();
  layouts['per table (14 inserts)'](`check-${i}`);
  layouts['one table (1 insert)'](`check-${i}`);
}
for (const t of TABLES) {
  const read = (from: string) =>
    s.query(`SELECT ${t.dims.join(', ')}, bucket, sum(invocations), sum(cost_usd), uniqExactMerge(users), quantilesTDigestMerge(${Q})(latency)[2]
      FROM ${from} GROUP BY ${t.dims.join(', ')}, bucket ORDER BY ${t.dims.join(', ')}, bucket`, 'TSV');
  const one = read(`b.${t.table}`), all = read(`(SELECT * FROM b.combined WHERE tbl = '${t.table}')`);
  if (one !== all || !one.trim()) throw new Error(`${t.table}: the layouts differ\n${one.slice(0, 500)}\n---\n${all.slice(0, 500)}`);
}
console.log('checked: the combined table answers what the 14 tables answer (keys, sums, distinct users, p95 per logical table)');
s.close();
rmSync(dir, { recursive: true, force: true });
