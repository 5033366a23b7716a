/**
 * 1,000-event batches until visible, against the raw chDB insert of the same rows, alternated:
 * each round runs the platform's batch phase once per variant (a fresh server, every
 * first-party plugin on, as `ingest.ts` starts it) and then the raw insert in this process, so
 * every ratio compares figures taken within the same minute or two on a shared machine.
 *
 * Per variant and round it prints: events/s until the last row is visible in ClickHouse
 * (answered 2xx and loaded), server CPU per event by thread group (main thread, V8's helpers,
 * chDB's threads), the loader's inserts; per round the raw insert (JSONCompactEachRow from the loader's encoder, handed to chDB as one Buffer, in
 * inserts as large as the loader's, as `ingest.ts` measures it) with its CPU per row.
 *
 *   npx tsx scripts/bench/ingest-batch.ts --batches 60 --rounds 3 --variants '[{"root":"/tmp/before"},{}]'
 *
 * BENCH_CPU_PROF=<dir> writes a CPU profile of each server's main thread.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchEvent, startIngestServer, threadCpu, type Variant, stopServer } from './ingestServer.ts';

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '60' },
    senders: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '2' },
    plugins: { type: 'string', default: 'all' },
    variants: { type: 'string', default: '[{}]' },
  },
});
const PASSWORD = 'Bench-passw0rd-orrery!';
async function platform(v: Variant, bodies: string[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'orrery-batch-'));
  const { child, url } = await startIngestServer(dataDir, v, args.plugins);
  try {
    const access = (await (await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@bench.local', password: PASSWORD }) })).json()).access_token;
    const hook = (await (await fetch(`${url}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` }, body: JSON.stringify({ name: 'bench', kind: 'hook' }) })).json()).token;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${hook}` };
    const metric = async (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${access}` } })).text())?.[1] ?? 0);
    const inserts0 = await metric('orrery_ingest_commit_seconds_count');
    const rows0 = await metric('orrery_ingest_batch_rows_sum');
    const la0 = loadavg()[0]!;
    const cpu0 = threadCpu(child.pid!);
    let next = 0;
    let accepted = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: Number(args.senders) }, async () => {
      while (next < bodies.length) {
        const r = await fetch(`${url}/api/v1/events/batch`, { method: 'POST', headers, body: bodies[next++]! });
        accepted += ((await r.json()) as { accepted?: number }).accepted ?? 0;
      }
    }));
    const ackSecs = (performance.now() - t0) / 1000;
    while (((await (await fetch(`${url}/ready`)).json()).ingestion?.backlog_rows ?? 0) > 0) await new Promise((r) => setTimeout(r, 10));
    const secs = (performance.now() - t0) / 1000;
    const cpu1 = threadCpu(child.pid!);
    const per: Record<string, number> = {};
    let total = 0;
    for (const [g, ms] of cpu1) {
      const d = ms - (cpu0.get(g) ?? 0);
      total += d;
      per[g] = Number(((d * 1000) / Math.max(1, accepted)).toFixed(1));
    }
    const inserts = (await metric('orrery_ingest_commit_seconds_count')) - inserts0;
    const rows = (await metric('orrery_ingest_batch_rows_sum')) - rows0;
    const st = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const mb = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(st)?.[1] ?? 0) / 1024);
    const rss = `RSS ${mb('VmRSS')} MB (anon ${mb('RssAnon')}, file ${mb('RssFile')}, peak ${mb('VmHWM')})`;
    return { rss, rate: accepted / secs, answered: accepted / ackSecs, accepted, cpuUs: (total * 1000) / Math.max(1, accepted), per, inserts, rowsPerInsert: rows / Math.max(1, inserts), load: `${la0.toFixed(1)}→${loadavg()[0]!.toFixed(1)}` };
  } finally {
    await stopServer(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// the raw insert: one chDB session for the whole run, the events table (and the plugins' ClickHouse migrations, as ingest.ts)
const rawDir = mkdtempSync(join(tmpdir(), 'orrery-batch-raw-'));
const { createClient } = await import('@clickhouse/client');
const { createChdbConnection } = await import('chdb/connection');
const { events: eventsTable } = await import('../../core/src/ingestion/migrations/0001_events.ts');
const { renderDdl } = await import('../../core/src/storage/migrations.ts');
const { CompactEncoder } = await import('../../core/src/ingestion/encode.ts');
const chConnection = createChdbConnection({ path: join(rawDir, 'ch') });
const ch = createClient({ connection: chConnection as any, clickhouse_settings: { date_time_input_format: 'best_effort' } } as any);
await ch.command({ query: 'CREATE DATABASE IF NOT EXISTS bench_raw' });
for (const stmt of eventsTable.statements) await ch.command({ query: renderDdl(stmt, 'bench_raw', null) });
const pluginIds = args.plugins === 'none' ? [] : readdirSync(join(import.meta.dirname, '../../plugins'), { withFileTypes: true }).filter((d) => d.isDirectory() && (args.plugins === 'all' || args.plugins.split(',').includes(d.name))).map((d) => d.name);
for (const id of pluginIds) {
  let decl: { migrations?: { clickhouse?: Array<{ statements: string[] }> } };
  try { decl = (await import(`../../plugins/${id}/backend/index.ts`)).default; } catch { continue; }
  for (const m of decl.migrations?.clickhouse ?? []) for (const stmt of m.statements) await ch.command({ query: renderDdl(stmt, 'bench_raw', null) });
}

async function raw(n: number, per: number) {
  const now = new Date().toISOString();
  const flat = Array.from({ length: n }, (_, i) => ({ ...benchEvent(i), org_id: 'org-bench', action: '', fixes: [], schema_version: 2, received_schema_version: 2, received_at: now, source: 'batch', cost_usd: 0.0081, cost_source: 'computed' }));
  const la0 = loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // the loader's way in: its encoder, and the Buffer handed to chDB as it is
  const encoder = new CompactEncoder(Object.keys(flat[0]!));
  for (let o = 0; o < flat.length; o += per) {
    const { columns, body } = await encoder.encode(flat.slice(o, o + per), { sliceRows: 2000 });
    await (chConnection as unknown as { chdb: { rawInsert(p: unknown): Promise<unknown> } }).chdb.rawInsert({ table: 'bench_raw.events', columns, format: 'JSONCompactEachRow', values: body, settings: { date_time_input_format: 'best_effort' } });
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: n / secs, cpuUs: (cpu.user + cpu.system) / n, load: `${la0.toFixed(1)}→${loadavg()[0]!.toFixed(1)}` };
}

const variants = JSON.parse(args.variants) as Variant[];
const nBatches = Number(args.batches);
console.log(`1,000-event batches until visible vs raw chDB insert, ${nBatches} batches, ${args.senders} senders, plugins: ${args.plugins}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const ratios = variants.map(() => [] as number[]);
const cpus = variants.map(() => [] as number[]);
try {
  for (let round = 0; round < Number(args.rounds); round++) {
    let per = 0;
    const got: Array<Awaited<ReturnType<typeof platform>>> = [];
    for (const v of variants) {
      const bodies = Array.from({ length: nBatches }, (_, b) => JSON.stringify({ events: Array.from({ length: 1000 }, (_, i) => benchEvent(b * 1000 + i)) }));
      const r = await platform(v, bodies);
      got.push(r);
      per = Math.max(per, r.rowsPerInsert);
      console.log(`round ${round + 1} ${JSON.stringify(v)}: ${Math.round(r.rate)} events/s until visible (${Math.round(r.answered)}/s answered), server CPU ${r.cpuUs.toFixed(1)} µs/event (${Object.entries(r.per).map(([g, us]) => `${g} ${us}`).join(', ')}); ${r.inserts} inserts of ${Math.round(r.rowsPerInsert)} rows; ${r.rss}; load ${r.load}`);
    }
    const rowsPer = Math.max(1000, Math.round(per / 1000) * 1000);
    const rr = await raw(nBatches * 1000, rowsPer);
    console.log(`round ${round + 1} raw insert: ${Math.round(rr.rate)} rows/s (${rowsPer}/insert), CPU ${rr.cpuUs.toFixed(1)} µs/row; load ${rr.load}`);
    got.forEach((r, k) => {
      ratios[k]!.push(r.rate / rr.rate);
      cpus[k]!.push(r.cpuUs);
    });
    console.log(`round ${round + 1} ratios to raw: ${got.map((r) => (r.rate / rr.rate).toFixed(2)).join(' / ')}`);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [k, v] of variants.entries()) console.log(`${JSON.stringify(v)}: ratio to raw mean ${mean(ratios[k]!).toFixed(2)} (${ratios[k]!.map((x) => x.toFixed(2)).join(', ')}), server CPU mean ${mean(cpus[k]!).toFixed(1)} µs/event, ${(mean(cpus[k]!) / mean(cpus[0]!)).toFixed(2)} of the first variant`);
} finally {
  await ch.close();
  rmSync(rawDir, { recursive: true, force: true });
}
