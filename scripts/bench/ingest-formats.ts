/**
 * Which input format loads the events table fastest in embedded chDB.
 *
 *   npx tsx scripts/bench/ingest-formats.ts [--rows 100000] [--batch 5000]
 *
 * Two measures per format, on the events table of core/src/ingestion/migrations/0001_events.ts, rows shaped like
 * the pipeline's (agent invocations, ~20 fields set):
 * - engine: `INSERT INTO events SELECT * FROM file(..., <format>)` from files ClickHouse wrote
 *   itself, so only the engine's parse + part write is timed (every format chDB reads);
 * - from node: the loader's actual path, JS encoding + chDB's insert of a Buffer (only the text
 *   formats chdb-node accepts from memory: JSONEachRow, JSONCompactEachRow, TSV, CSV).
 * Batches of --batch rows, one insert each; rows/s and the ratio to JSONEachRow printed.
 * Last, whether a load blocks the event loop: the longest gap of a 1 ms timer while a
 * 20,000-row insert runs from the main thread (chDB's async call), and the JS encoding time
 * of those rows (which does run on the main thread).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { events } from '../../core/src/ingestion/migrations/0001_events.ts';
import { renderDdl } from '../../core/src/storage/migrations.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const ROWS = Number(args.get('rows') ?? 100_000);
const BATCH = Number(args.get('batch') ?? 5000);

const require = createRequire(import.meta.url);
const { Session } = require('chdb') as { Session: new (path: string) => { queryAsync(q: string, o?: unknown): Promise<{ text(): string }>; insert(p: unknown): Promise<unknown>; cleanup(): void } };
const dir = mkdtempSync(join(tmpdir(), 'orrery-formats-'));
const s = new Session(join(dir, 'ch'));
const q = (sql: string) => s.queryAsync(sql, { format: 'CSV' }).then((r) => r.text());
const ddl = (table: string) => renderDdl(events.statements[0]!, 'bench', null).replace('bench.events', `bench.${table}`);

function row(i: number): Record<string, unknown> {
  const t = Date.now() - (i % 86_400) * 1000;
  return {
    org_id: 'org-' + (i % 3), event_id: randomUUID(), event_type: 'agent_invocation', timestamp: new Date(t).toISOString().replace('T', ' ').replace('Z', ''),
    received_at: new Date().toISOString().replace('T', ' ').replace('Z', ''), department_id: 'eng', user_id: 'u-' + (i % 500), session_id: 's-' + (i % 2000),
    schema_version: 2, received_schema_version: 2, fixes: i % 10 ? [] : ['input_tokens:numeric_string'], agent_name: 'agent-' + (i % 12), agent_version: '1.4.0',
    invocation_id: randomUUID(), model_used: 'claude-sonnet-4-5', input_tokens: 1000 + (i % 700), output_tokens: 200 + (i % 300), execution_time_ms: 900.5,
    status: i % 20 ? 'success' : 'error', tools_used: ['read', 'grep'], cost_usd: '0.004500000', cost_source: 'default', source: 'api',
  };
}

const time = async (fn: () => Promise<unknown>) => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

await q('CREATE DATABASE IF NOT EXISTS bench');
await q(ddl('src'));
const rows = Array.from({ length: ROWS }, (_, i) => row(i));
const columns = Object.keys(rows[0]!);
for (let i = 0; i < ROWS; i += BATCH) {
  await s.insert({ table: 'bench.src', format: 'JSONEachRow', values: Buffer.from(rows.slice(i, i + BATCH).map((r) => JSON.stringify(r)).join('\n')) });
}
const colList = columns.join(', ');
const out: Array<[string, number]> = [];
const engineFormats = ['JSONEachRow', 'JSONCompactEachRow', 'TSV', 'CSV', 'RowBinary', 'Native', 'Arrow', 'Parquet'];
for (const f of engineFormats) {
  // files per batch, written by ClickHouse in the format
  const n = Math.ceil(ROWS / BATCH);
  for (let b = 0; b < n; b++) {
    await q(`INSERT INTO FUNCTION file('${dir}/in-${f}-${b}.dat', ${f}) SELECT ${colList} FROM bench.src ORDER BY event_id LIMIT ${BATCH} OFFSET ${b * BATCH}`);
  }
  await q(ddl(`dst_${f}`));
  const structure = (await q(`SELECT arrayStringConcat(groupArray(name || ' ' || type), ', ') FROM (SELECT name, type FROM system.columns WHERE database = 'bench' AND table = 'src' AND name IN (${columns.map((c) => `'${c}'`).join(',')}) ORDER BY position)`)).trim().replace(/^"|"$/g, '').replaceAll("'", "\\'");
  const ms = await time(async () => {
    for (let b = 0; b < n; b++) await q(`INSERT INTO bench.dst_${f} (${colList}) SELECT ${colList} FROM file('${dir}/in-${f}-${b}.dat', ${f}, '${structure}')`);
  });
  out.push([`engine  ${f}`, (ROWS / ms) * 1000]);
}
for (const f of ['JSONEachRow', 'JSONCompactEachRow', 'TSV', 'CSV'] as const) {
  await q(ddl(`node_${f}`));
  const enc = (batch: Record<string, unknown>[]): Buffer => {
    if (f === 'JSONEachRow') return Buffer.from(batch.map((r) => JSON.stringify(r)).join('\n'));
    if (f === 'JSONCompactEachRow') return Buffer.from(batch.map((r) => JSON.stringify(columns.map((c) => r[c] ?? null))).join('\n'));
    const esc = (v: unknown): string => {
      if (Array.isArray(v)) return f === 'TSV' ? `[${v.map((x) => `'${String(x).replace(/[\\']/g, '\\$&')}'`).join(',')}]` : `"[${v.map((x) => `'${String(x).replace(/[\\']/g, '\\$&')}'`).join(',')}]"`;
      const str = String(v ?? '');
      return f === 'TSV' ? str.replace(/[\\\t\n]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\\\')) : `"${str.replace(/"/g, '""')}"`;
    };
    return Buffer.from(batch.map((r) => columns.map((c) => esc(r[c])).join(f === 'TSV' ? '\t' : ',')).join('\n'));
  };
  let encMs = 0;
  const ms = await time(async () => {
    for (let i = 0; i < ROWS; i += BATCH) {
      const t0 = performance.now();
      const body = enc(rows.slice(i, i + BATCH));
      encMs += performance.now() - t0;
      await s.insert({ table: `bench.node_${f}`, format: f, columns, values: body });
    }
  });
  out.push([`node    ${f} (JS encoding ${((encMs * 1000) / ROWS).toFixed(2)} µs/row)`, (ROWS / ms) * 1000]);
}
const base = out.find(([k]) => k.startsWith('engine  JSONEachRow'))![1];
console.log(`${ROWS.toLocaleString('en')} rows, ${BATCH.toLocaleString('en')} per insert, ${columns.length} columns set of the events table`);
for (const [k, v] of out) console.log(`${k.padEnd(58)} ${Math.round(v).toLocaleString('en').padStart(9)} rows/s  ${(v / base).toFixed(2)}× engine JSONEachRow`);
for (const f of ['JSONEachRow', 'JSONCompactEachRow', 'TSV', 'CSV']) {
  const c = (await q(`SELECT count() FROM bench.node_${f}`)).trim();
  if (Number(c) !== ROWS) throw new Error(`node ${f}: ${c} rows stored, expected ${ROWS}`);
}
{
  const big = rows.slice(0, Math.min(20_000, ROWS));
  const t0 = performance.now();
  const body = Buffer.from(big.map((r) => JSON.stringify(columns.map((c) => r[c] ?? null))).join('\n'));
  const encodeMs = performance.now() - t0;
  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  const insertMs = await time(() => s.insert({ table: 'bench.node_JSONCompactEachRow', format: 'JSONCompactEachRow', columns, values: body }));
  clearInterval(timer);
  console.log(`event loop during a ${big.length.toLocaleString('en')}-row JSONCompactEachRow insert from the main thread: insert ${insertMs.toFixed(0)} ms, longest timer gap ${maxGap.toFixed(1)} ms; encoding the rows on the main thread ${encodeMs.toFixed(1)} ms`);
}
s.cleanup();
rmSync(dir, { recursive: true, force: true });
