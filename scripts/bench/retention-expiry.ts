/**
 * What expiring one org's old raw events costs on the embedded engine (chDB), by each way
 * ClickHouse offers, on the kernel's events table: the retention job uses a lightweight
 * `DELETE FROM` per org and `DROP PARTITION` for months every org has expired
 * (core/src/retention/README.md). Each way runs on a fresh copy of the same rows; the figure is
 * the time until the rows are gone from reads, and the ratio is against `DROP PARTITION`
 * (a metadata operation) measured in the same run.
 *
 *   npx tsx scripts/bench/retention-expiry.ts [--rows 600000] [--orgs 4] [--months 6]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { events as eventsTable } from '../../core/src/ingestion/migrations/0001_events.ts';
import { renderDdl } from '../../core/src/storage/migrations.ts';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '600000' }, orgs: { type: 'string', default: '4' }, months: { type: 'string', default: '6' } } });
const ROWS = Number(args.rows), ORGS = Number(args.orgs), MONTHS = Number(args.months);
const DAY = 86_400_000;

const dir = mkdtempSync(join(tmpdir(), 'bench-retention-'));
const ch = createClient({ connection: createChdbConnection({ path: dir }) as never, clickhouse_settings: { date_time_input_format: 'best_effort' } } as never);
const q = async (query: string) => ((await (await ch.query({ query, format: 'JSONEachRow' })).json()) as Array<Record<string, string>>);

const now = Date.UTC(2026, 11, 1);
const span = MONTHS * 30 * DAY;
const rows = Array.from({ length: ROWS }, (_, i) => ({
  org_id: `org-${i % ORGS}`,
  event_id: randomUUID(),
  event_type: 'agent_invocation',
  timestamp: new Date(now - span + Math.floor(Math.random() * span)).toISOString().replace('T', ' ').replace('Z', ''),
  user_id: `u${i % 500}`,
  agent_name: `agent-${i % 8}`,
  input_tokens: i % 5000,
  status: 'success',
}));
// the org expired and its horizon: everything of org-0 older than 90 days
const horizon = new Date(now - 90 * DAY).toISOString().replace('T', ' ').replace('Z', '');
const oldMonth = new Date(now - span + 5 * DAY);
const month = `${oldMonth.getUTCFullYear()}${String(oldMonth.getUTCMonth() + 1).padStart(2, '0')}`;

async function table(db: string) {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.command({ query: `CREATE DATABASE ${db}` });
  for (const s of eventsTable.statements) await ch.command({ query: renderDdl(s, db, null) });
  await ch.command({ query: `ALTER TABLE ${db}.events ADD COLUMN IF NOT EXISTS inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)` });
  for (let i = 0; i < rows.length; i += 50_000) await ch.insert({ table: `${db}.events`, values: rows.slice(i, i + 50_000), format: 'JSONEachRow' });
  await ch.command({ query: `OPTIMIZE TABLE ${db}.events FINAL` });
}

async function timed(label: string, db: string, sql: string, check: string, expectGone: number) {
  await table(db);
  const before = Number((await q(`SELECT count() AS n FROM ${db}.events WHERE ${check}`))[0]!.n);
  const t0 = performance.now();
  await ch.command({ query: sql, clickhouse_settings: { mutations_sync: '2' } as never });
  const ms = performance.now() - t0;
  const after = Number((await q(`SELECT count() AS n FROM ${db}.events WHERE ${check}`))[0]!.n);
  if (after !== 0 || before !== expectGone) throw new Error(`${label}: ${before} rows matched, ${after} left; expected ${expectGone} and 0`);
  return { label, ms, rows: before };
}

const org0Old = rows.filter((r) => r.org_id === 'org-0' && r.timestamp < horizon).length;
const inMonth = rows.filter((r) => r.timestamp.slice(0, 7).replace('-', '') === month).length;
console.log(`retention expiry on chDB — ${ROWS.toLocaleString()} events, ${ORGS} orgs, ${MONTHS} months; load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const results = [
  await timed('DROP PARTITION (one month, every org)', 'bench_ret_drop', `ALTER TABLE bench_ret_drop.events DROP PARTITION ${month}`, `toYYYYMM(timestamp) = ${month}`, inMonth),
  await timed('DELETE FROM (lightweight), one org past 90 days', 'bench_ret_lw', `DELETE FROM bench_ret_lw.events WHERE org_id = 'org-0' AND timestamp < '${horizon}'`, `org_id = 'org-0' AND timestamp < '${horizon}'`, org0Old),
  await timed('ALTER TABLE DELETE (mutation), the same rows', 'bench_ret_mut', `ALTER TABLE bench_ret_mut.events DELETE WHERE org_id = 'org-0' AND timestamp < '${horizon}'`, `org_id = 'org-0' AND timestamp < '${horizon}'`, org0Old),
];
const base = results[0]!.ms;
for (const r of results) console.log(`${r.label.padEnd(50)} ${r.rows.toLocaleString().padStart(9)} rows gone in ${r.ms.toFixed(0).padStart(6)} ms  (${(r.ms / base).toFixed(1)}× the partition drop; ${((r.rows / r.ms) * 1000).toFixed(0)} rows/s)`);
await ch.close();
rmSync(dir, { recursive: true, force: true });
