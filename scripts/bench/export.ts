/**
 * The events CSV export on 1 million events: time to the last byte and the
 * server's RSS growth while it streams, through the real HTTP route (keyset
 * pages of the sort key, records written by ClickHouse as raw text), against the raw
 * chDB `SELECT … FORMAT CSVWithNames` of the same rows, columns and order in
 * the same run. Goals from the issue: under 10 s, RSS growth under 100 MB.
 * Then the Admin's dashboard as PDF, drawn by the real portal in Chromium over the same
 * events, against Chromium printing a one-line page in the same run. Goal: under 10 s.
 * Every first-party plugin is on, as `npm start` runs them.
 *
 *   NODE_OPTIONS=--expose-gc npx tsx scripts/bench/export.ts   # 1M events
 *   npx tsx scripts/bench/export.ts --events 200000  # a quicker pass (or BENCH_EVENTS)
 *
 * The events are generated inside ClickHouse (`numbers()`), 10% with text that
 * needs quoting, so nothing but the export itself goes through Node. The
 * platform runs in this process on the embedded stores in a temp folder;
 * RSS is sampled every 20 ms.
 */
import { loadavg } from 'node:os';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBenchBackend } from './backend.ts';

const { values: args } = parseArgs({ options: { events: { type: 'string' } } });
const N = Number(args.events ?? process.env.BENCH_EVENTS ?? 1_000_000);
if (!Number.isInteger(N) || N < 1000) throw new Error(`--events: expected an integer of at least 1000, got ${args.events ?? process.env.BENCH_EVENTS}`);
const T0 = Date.parse('2026-02-01T00:00:00Z');
const SPAN = 30 * 86_400_000;
const FIELDS = ['event_id', 'event_type', 'timestamp', 'department_id', 'user_id', 'agent_name', 'status', 'input_tokens', 'output_tokens', 'cost_usd', 'execution_time_ms', 'error_message'];
const MB = 1024 * 1024;
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** Samples RSS until stopped; answers the peak above the level at start. */
function rssWatch() {
  const start = process.memoryUsage().rss;
  let peak = start;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  return () => {
    clearInterval(t);
    peak = Math.max(peak, process.memoryUsage().rss);
    return { startMb: start / MB, growthMb: (peak - start) / MB };
  };
}

async function main() {
  // without a collection before each phase, garbage left by the earlier phases (generation,
  // folds, the baseline) shows up as the route's RSS growth
  if (!global.gc) log('note: run with NODE_OPTIONS=--expose-gc, or RSS growth counts garbage left by earlier phases');
  const dir = mkdtempSync(join(tmpdir(), 'orrery-bench-export-'));
  const b = await startBenchBackend({ loadPluginFolders: true, listen: true, config: { rateLimits: { enabled: false }, plugins: { exports: { dir, ...(process.env.BENCH_PAGE_ROWS ? { pageRows: Number(process.env.BENCH_PAGE_ROWS) } : {}) } } } });
  try {
    const s = b.kernel.services;
    const db = s.analytics.database as string;
    const org = b.org.id;
    log(`generating ${N.toLocaleString('en')} events in ClickHouse`);
    const t0 = performance.now();
    await s.analytics.client.command({
      query: `INSERT INTO ${db}.events (org_id, event_id, event_type, timestamp, department_id, user_id, agent_name, status, input_tokens, output_tokens, cost_usd, execution_time_ms, error_message)
        SELECT '${org}', concat('e-', toString(number)),
               if(number % 4 = 0, 'tool_call', 'agent_invocation'),
               fromUnixTimestamp64Milli(toInt64(${T0} + intDiv(number * ${SPAN}, ${N})), 'UTC'),
               concat('dept-', toString(number % 12)), concat('user-', toString(number % 200)),
               ['code-reviewer','test-writer','sql-assistant','planner'][number % 4 + 1],
               if(number % 14 = 0, 'failure', 'success'),
               400 + number % 6000, 150 + number % 2500, toDecimal64((number % 1000) / 100000, 9), (number % 9000) / 3,
               if(number % 10 = 0, concat('timeout, retry "later"\\n=', toString(number % 7)), '')
        FROM numbers(${N})`,
      clickhouse_settings: { max_insert_block_size: '100000' } as never,
    });
    log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // the plugins' rollups fold the new rows now, as they long would have in a running
    // platform, so their work does not land in the export's time or memory
    const f0 = performance.now();
    await b.foldRollups();
    log(`rollups folded in ${((performance.now() - f0) / 1000).toFixed(1)} s`);
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + SPAN).toISOString();

    // baseline: ClickHouse writes the CSV itself, the same rows in the same order
    global.gc?.();
    const baseRss = rssWatch();
    const b0 = performance.now();
    const rs = await s.analytics.client.query({
      query: `SELECT ${FIELDS.map((f) => (f === 'timestamp' ? `formatDateTime(timestamp, '%Y-%m-%dT%H:%i:%S.%fZ') AS at` : f)).join(', ')}
              FROM ${db}.events WHERE org_id = {org:String} AND timestamp >= {from:DateTime64(3)} AND timestamp < {to:DateTime64(3)}
              ORDER BY event_type, timestamp, event_id`,
      query_params: { org, from: from.replace('T', ' ').replace('Z', ''), to: to.replace('T', ' ').replace('Z', '') },
      format: 'CSVWithNames',
    });
    let baseBytes = 0;
    for await (const rows of rs.stream() as AsyncIterable<Array<{ text: string }>>) for (const r of rows) baseBytes += r.text.length + 1;
    const baseMs = performance.now() - b0;
    const base = baseRss();
    log(`baseline chDB FORMAT CSV: ${(baseMs / 1000).toFixed(2)} s, ${(baseBytes / MB).toFixed(1)} MB, RSS +${base.growthMb.toFixed(0)} MB`);

    // the route, over real HTTP, read as a client would
    global.gc?.();
    const routeRss = rssWatch();
    const r0 = performance.now();
    const res = await fetch(`${b.url}/api/v1/export/csv?${new URLSearchParams({ dataset: 'events', from, to, fields: FIELDS.join(',') })}`, { headers: { authorization: `Bearer ${b.client.token}` } });
    if (!res.ok) throw new Error(`the export answered ${res.status}: ${await res.text()}`);
    let bytes = 0;
    let lines = 0;
    let firstByteMs = NaN;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - r0;
      bytes += chunk.byteLength;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
    }
    const routeMs = performance.now() - r0;
    const route = routeRss();
    // quoted cells hold a newline in 10% of the rows
    const rows = lines - 1 - Math.ceil(N / 10);

    console.log('');
    console.log(`events CSV export, ${N.toLocaleString('en')} events × ${FIELDS.length} fields (load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ${process.versions.node})`);
    console.log(`  route GET /api/v1/export/csv   ${(routeMs / 1000).toFixed(2)} s  first byte ${firstByteMs.toFixed(0)} ms  ${(bytes / MB).toFixed(1)} MB  ${Math.round(N / (routeMs / 1000)).toLocaleString('en')} rows/s  RSS ${route.startMb.toFixed(0)} MB +${route.growthMb.toFixed(0)} MB  (goal < 10 s, < +100 MB)`);
    console.log(`  baseline chDB FORMAT CSV       ${(baseMs / 1000).toFixed(2)} s  ${(baseBytes / MB).toFixed(1)} MB  RSS +${base.growthMb.toFixed(0)} MB`);
    console.log(`  ratio route / baseline         ${(routeMs / baseMs).toFixed(2)}×`);
    console.log(`  rows counted in the answer     ${rows.toLocaleString('en')} (expected ${N.toLocaleString('en')})`);
    if (rows !== N) process.exitCode = 1;

    await dashboardPdf(b, from, to);
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The Admin's dashboard as PDF through the route (3 renders), against Chromium printing a one-line page. */
async function dashboardPdf(b: { url: string | null; client: { token: string; get(path: string, q?: Record<string, unknown>): Promise<{ body: any }> } }, from: string, to: string) {
  if (!existsSync(CHROMIUM)) {
    console.log(`  dashboard PDF                  skipped: no Chromium at ${CHROMIUM}`);
    return;
  }
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const res = await fetch(`${b.url}/api/v1/export/pdf?${new URLSearchParams({ dashboard: 'mine', from, to, tz: 'UTC', paper: 'A4' })}`, { headers: { authorization: `Bearer ${b.client.token}` } });
    if (!res.ok) throw new Error(`the PDF route answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    bytes = (await res.arrayBuffer()).byteLength;
    times.push(performance.now() - t);
  }
  // how many widgets the renderer waited for: the audit entry of the last render says
  const audit = (await b.client.get('/api/v1/audit', { limit: 20 })).body;
  const entry = (audit.entries as Array<{ action: string; after?: unknown }>).find((e) => e.action.endsWith('export.pdf'));
  const after = (typeof entry?.after === 'string' ? JSON.parse(entry.after) : entry?.after) as { widgets?: number } | undefined;
  const widgets = after?.widgets ?? '?';
  // baseline: the same Chromium printing a one-line page to PDF (start, render, print, exit)
  const dir = mkdtempSync(join(tmpdir(), 'orrery-bench-pdf-'));
  const base: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await promisify(execFile)(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, `p${i}`)}`, `--print-to-pdf=${join(dir, `b${i}.pdf`)}`, 'data:text/html,<h1>Orrery</h1>']);
    base.push(performance.now() - t);
  }
  rmSync(dir, { recursive: true, force: true });
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  console.log(`  dashboard PDF (Admin, ${widgets} widgets, A4)  median ${(med(times) / 1000).toFixed(2)} s, slowest ${(Math.max(...times) / 1000).toFixed(2)} s of 3, ${(bytes / 1024).toFixed(0)} KB  (goal < 10 s)`);
  console.log(`  baseline Chromium one-line PDF median ${(med(base) / 1000).toFixed(2)} s → ratio ${(med(times) / med(base)).toFixed(2)}×  (load average ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
}

await main();
