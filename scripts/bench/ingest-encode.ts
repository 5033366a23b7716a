/**
 * The loader's body encoding on the main thread: `CompactEncoder` (generated column readers, one
 * `JSON.stringify` per slice of rows, rows separated by commas) against the way it was done before
 * (each row's values looked up by column name, one `JSON.stringify` and a newline per row), on rows
 * shaped as the pipeline stores them. The two alternate in every round, on the same rows; CPU per
 * row and the ratio new ÷ before are printed per round, and whether both bodies hold the same rows.
 *
 *   npx tsx scripts/bench/ingest-encode.ts --rows 20000 --rounds 5 --reps 20
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { CompactEncoder } from '../../core/src/ingestion/encode.ts';
import { checkEvent } from '../../core/src/ingestion/validate.ts';
import { completeRow } from '../../core/src/ingestion/pipeline.ts';
import { benchEvent } from './ingestServer.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    reps: { type: 'string', default: '20' },
    slice: { type: 'string', default: '2000' },
  },
});
const N = Number(args.rows);
const SLICE = Number(args.slice);
const now = new Date().toISOString();
// built as the pipeline builds them (pipeline.ts): the parsed body, checkEvent's copy, the cost, then
// `completeRow`. How an object is built decides how fast its properties are read: rows made with object
// spread read several times slower in both encoders, which would not say what the loader sees.
const rows: Array<Record<string, unknown>> = Array.from({ length: N }, (_, i) => {
  const r = checkEvent(JSON.parse(JSON.stringify(benchEvent(i))));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const e = r.event;
  Object.assign(e, { cost_usd: 0.0081, cost_source: 'price_table' });
  return completeRow(e, randomUUID(), r.receivedVersion, r.fixes, now, 'api');
});
const tableColumns = [...new Set(rows.flatMap((r) => Object.keys(r))), 'correlation_id', 'trace_id', 'parent_invocation_id', 'cached_input_tokens'];

/** before: the columns as the union of row keys, each value looked up by name, a stringify per row */
function before(): { columns: string[]; body: Buffer } {
  const table = new Set(tableColumns);
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) for (const k in r) if (!seen.has(k)) { seen.add(k); if (table.has(k)) columns.push(k); }
  const parts: string[] = [];
  for (let o = 0; o < N; o += SLICE) {
    let chunk = '';
    for (let i = o; i < Math.min(N, o + SLICE); i++) {
      const r = rows[i]!;
      chunk += JSON.stringify(columns.map((c) => r[c] ?? null)) + '\n';
    }
    parts.push(chunk);
  }
  return { columns, body: Buffer.from(parts.join('')) };
}

const encoder = new CompactEncoder(tableColumns);
const after = () => encoder.encode(rows, { sliceRows: SLICE });

/** both bodies as cells by column name */
const cells = (columns: string[], rowsOfValues: unknown[][]) => rowsOfValues.map((v) => Object.fromEntries(columns.map((c, j) => [c, v[j]])));
{
  const a = before();
  const b = await after();
  const same = JSON.stringify(cells(a.columns, a.body.toString().trim().split('\n').map((l) => JSON.parse(l))).map((r) => Object.fromEntries(Object.entries(r).sort()))) ===
    JSON.stringify(cells(b.columns, JSON.parse(`[${b.body.toString()}]`)).map((r) => Object.fromEntries(Object.entries(r).sort())));
  console.log(`${N} rows, ${a.columns.length} columns, ${(a.body.length / N).toFixed(0)} / ${(b.body.length / N).toFixed(0)} bytes per row (before / now); same rows in both bodies: ${same}; load ${loadavg()[0]!.toFixed(1)}`);
  if (!same) process.exitCode = 1;
}

const cpuPerRow = async (f: () => unknown) => {
  const t = process.cpuUsage();
  for (let k = 0; k < Number(args.reps); k++) await f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / Number(args.reps) / N;
};
for (let k = 0; k < 3; k++) { before(); await after(); } // JIT
const ratios: number[] = [];
for (let round = 1; round <= Number(args.rounds); round++) {
  // the order alternates per round, so neither always runs second
  const [b, a] = round % 2 ? [await cpuPerRow(before), await cpuPerRow(after)] : ([await cpuPerRow(after), await cpuPerRow(before)].reverse() as [number, number]);
  ratios.push(a / b);
  console.log(`round ${round}: before ${b.toFixed(2)} µs/row, now ${a.toFixed(2)} µs/row → ${(a / b).toFixed(2)}×; load ${loadavg()[0]!.toFixed(1)}`);
}
ratios.sort((x, y) => x - y);
console.log(`median ratio now ÷ before: ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}×`);
