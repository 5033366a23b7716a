/**
 * Ingestion benchmark, the platform as `npm start` runs it (every first-party plugin on,
 * embedded stores) unless `--plugins` names fewer (`--plugins none`: the bare kernel). One run prints:
 *  1. single-event HTTP: events/s answered 2xx (each in the durable log) by POST /api/v1/events,
 *     and the same load against a bare fastify route with the same JSON schema and no work;
 *     then how long the loader took to bring the backlog into ClickHouse;
 *  2. batch: events/s through POST /api/v1/events/batch in 1,000-event batches, counted until
 *     the last one is visible in ClickHouse, and the raw insert rate of the same rows into the
 *     same table (same views) in the loader's format and insert size;
 *  3. latency from the 2xx to the event being visible to a query and to a socket.io client;
 *     rollup lag (now − watermark of the kernel's rollup fold, sampled by the fold job);
 *  4. peak RSS of the server processes and of this one, the backlog at the end;
 *  5. a sustained run (`--sustain` seconds, 300 by default; 0 skips it) at the single-event rate
 *     measured in 1 (or `--sustain-rate`): RSS, backlog and loader lag sampled every 10 s.
 *
 *   npx tsx scripts/bench/ingest.ts [--seconds 10] [--connections 256] [--batches 300] [--sustain 300]
 *
 * Servers run as child processes (this file with --serve kernel|bare) so the load
 * generator does not share their event loop; on a 2-core machine each side gets about
 * one core. The raw insert and latency phases run in this process, after the others.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { startFlags, stopServer, slope, FLAT_MB_PER_MIN } from './ingestServer.ts';

const SELF = fileURLToPath(import.meta.url);
const PASSWORD = 'Bench-passw0rd-orrery!';
const allPlugins = () => readdirSync(join(import.meta.dirname, '../../plugins'), { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(import.meta.dirname, '../../plugins', d.name, 'backend/index.ts'))).map((d) => d.name);
const pluginList = (v: string | undefined) => (v === 'all' ? allPlugins() : v === 'none' ? [] : (v ?? '').split(',').map((x) => x.trim()).filter(Boolean));
const { values: args } = parseArgs({
  options: {
    serve: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '256' },
    batches: { type: 'string', default: '300' },
    samples: { type: 'string', default: '200' },
    // plugins to load in the platform: 'all' (as npm start), 'none', or a list (agent-analytics,…);
    // their materialized views over the events table run inside every insert (the raw figure gets the same views)
    plugins: { type: 'string', default: 'all' },
    sustain: { type: 'string', default: '300' },
    'sustain-rate': { type: 'string', default: '' },
  },
});

const cpuTotalMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

function event(i = 0): Record<string, unknown> {
  return {
    event_id: randomUUID(),
    event_type: 'agent_invocation',
    timestamp: new Date().toISOString(),
    department_id: `dept-${i % 12}`,
    user_id: `user-${i % 200}`,
    session_id: `s-${i % 1000}`,
    agent_name: `agent-${i % 8}`,
    agent_version: '1.0.0',
    invocation_id: randomUUID(),
    model_used: 'claude-sonnet-4-5',
    input_tokens: 1200,
    output_tokens: 300,
    execution_time_ms: 850,
    status: 'success',
    tools_used: ['grep', 'edit'],
  };
}

// ------------------------------------------------------------------ servers --

async function serveKernel() {
  const plugins = pluginList(process.env.BENCH_PLUGINS);
  const { createKernel } = await import('../../core/src/kernel.ts');
  const { kernelModules } = await import('../../core/src/modules.ts');
  const { ingestionModule } = await import('../../core/src/ingestion/index.ts');
  const kernel = await createKernel({
    load: {
      file: '/nonexistent/app-config.yaml',
      overrides: {
        server: { host: '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 0), logLevel: 'warn' },
        storage: { dataDir: process.env.DATA_DIR },
        bootstrap: { org: 'bench', adminEmail: 'admin@bench.local', adminPassword: PASSWORD, demoData: false },
        // ingestion settings to try (JSON), e.g. BENCH_INGESTION='{"maxConcurrentInserts":1}'
        ingestion: JSON.parse(process.env.BENCH_INGESTION || '{}'),
        // other configuration sections to try (JSON), e.g. BENCH_CONFIG='{"rollups":{"everySeconds":4}}'
        ...JSON.parse(process.env.BENCH_CONFIG || '{}'),
      },
    },
    ...(process.env.BENCH_PLUGINS === 'all' ? {} : plugins.length ? { onlyPlugins: plugins } : { pluginRoots: [] }),
    modules: kernelModules.some((m) => m.name === 'ingestion') ? [] : [ingestionModule],
  });
  const url = await kernel.listen();
  // measure the steady state: every job's first run after start (adoption's backfill of the past
  // weeks, the first rollup folds, …) is over before any load is sent; how long that took is printed
  const settle0 = performance.now();
  const host = (kernel.services as unknown as { pluginHost: { jobsFirstRuns(): Promise<void> } }).pluginHost;
  await Promise.race([host.jobsFirstRuns(), new Promise((r) => setTimeout(r, 120_000))]);
  const settledMs = Math.round(performance.now() - settle0);
  // BENCH_PG_COUNT=1: count the PostgreSQL statements run from here on (after the first runs), by text,
  // and print the most frequent to stderr on exit: what the platform asks PostgreSQL while it ingests
  if (process.env.BENCH_PG_COUNT) {
    const knex = (kernel.services as unknown as { storage: { knex: import('knex').Knex } }).storage.knex;
    // by text: how many, and the milliseconds from sending each to its answer (the embedded
    // PostgreSQL runs on this thread, so that is near its CPU cost here)
    const counts = new Map<string, { n: number; ms: number }>();
    const started = new Map<string, { sql: string; at: number }>();
    type Q = { sql: string; __knexQueryUid: string };
    knex.on('query', (q: Q) => started.set(q.__knexQueryUid, { sql: q.sql, at: performance.now() }));
    const done = (_r: unknown, q: Q) => {
      const s = started.get(q.__knexQueryUid);
      if (!s) return;
      started.delete(q.__knexQueryUid);
      const c = counts.get(s.sql) ?? { n: 0, ms: 0 };
      c.n++;
      c.ms += performance.now() - s.at;
      counts.set(s.sql, c);
    };
    knex.on('query-response', done);
    knex.on('query-error', done);
    process.on('SIGTERM', () => {
      const top = [...counts].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
      const all = [...counts.values()].reduce((a, c) => ({ n: a.n + c.n, ms: a.ms + c.ms }), { n: 0, ms: 0 });
      process.stderr.write(`PostgreSQL statements after the first runs: ${all.n}, ${Math.round(all.ms)} ms; by time taken (count, ms, text):\n${top.map(([q, c]) => `${String(c.n).padStart(7)} ${String(Math.round(c.ms)).padStart(7)}  ${q.replace(/\s+/g, ' ').slice(0, 150)}`).join('\n')}\n`);
    });
  }
  // which materialized views an events insert feeds, so the printed figures say what they include
  const analytics = (kernel.services as unknown as { analytics: { client: import('@clickhouse/client').ClickHouseClient; database: string } }).analytics;
  const mvs = (await (await analytics.client.query({
    query: `SELECT name FROM system.tables WHERE database = {db:String} AND engine = 'MaterializedView' ORDER BY name`,
    query_params: { db: analytics.database }, format: 'JSONCompactEachRow',
  })).json()) as Array<[string]>;
  process.stdout.write(JSON.stringify({ url, mvs: mvs.map(([n]) => n), settledMs }) + '\n');
  // BENCH_MEM_PROBE=<ms>: every <ms>, one `{"mem": …}` line on stdout with what the embedded
  // ClickHouse holds (its memory tracker, caches, parts, jemalloc's counters) and V8's heap
  if (Number(process.env.BENCH_MEM_PROBE) > 0) {
    const probe = setInterval(() => void memProbe(analytics.client).then((mem) => process.stdout.write(JSON.stringify({ mem }) + '\n'), () => {}), Number(process.env.BENCH_MEM_PROBE));
    probe.unref();
    // the live heap: V8's used size right after its last full (mark-compact) collection
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (((e as unknown as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) liveAfterMajorGc = process.memoryUsage().heapUsed;
    }).observe({ entryTypes: ['gc'] });
  }
  process.on('SIGTERM', () => void kernel.close().then(() => process.exit(0)));
}

let liveAfterMajorGc = NaN;
/** MB figures of the embedded ClickHouse and of V8, for the sustained-run benches */
async function memProbe(client: import('@clickhouse/client').ClickHouseClient): Promise<Record<string, number>> {
  const mb = (b: number) => Math.round((b / 1024 ** 2) * 10) / 10;
  const rows = async (query: string) => (await (await client.query({ query, format: 'JSONEachRow' })).json()) as Array<Record<string, string | number>>;
  const out: Record<string, number> = {};
  for (const r of await rows(`SELECT metric, value FROM system.metrics WHERE metric IN ('MemoryTracking', 'MarkCacheBytes', 'PrimaryIndexCacheBytes', 'UncompressedCacheBytes', 'QueryCacheBytes', 'IndexMarkCacheBytes', 'MergesMutationsMemoryTracking', 'GlobalThread')`)) {
    out[String(r.metric)] = r.metric === 'GlobalThread' ? Number(r.value) : mb(Number(r.value));
  }
  const [p] = await rows(`SELECT count() AS parts, sum(bytes_on_disk) AS disk, sum(primary_key_bytes_in_memory_allocated) AS pk, sum(marks_bytes) AS marks FROM system.parts WHERE active`);
  out.activeParts = Number(p!.parts);
  out.partsDisk = mb(Number(p!.disk));
  out.partsPk = mb(Number(p!.pk));
  out.inactiveParts = Number((await rows(`SELECT count() AS n FROM system.parts WHERE NOT active`))[0]!.n);
  const [je] = await rows(`SELECT stats FROM system.jemalloc_stats`);
  const m = /Allocated: (\d+), active: (\d+), metadata: (\d+).*?resident: (\d+), mapped: (\d+), retained: (\d+)/.exec(String(je?.stats ?? ''));
  if (m) Object.assign(out, { jeAllocated: mb(+m[1]!), jeActive: mb(+m[2]!), jeMetadata: mb(+m[3]!), jeResident: mb(+m[4]!), jeMapped: mb(+m[5]!), jeRetained: mb(+m[6]!) });
  const h = process.memoryUsage();
  Object.assign(out, { heapUsed: mb(h.heapUsed), heapTotal: mb(h.heapTotal), external: mb(h.external), arrayBuffers: mb(h.arrayBuffers) });
  out.liveAfterMajorGc = mb(liveAfterMajorGc);
  return out;
}

async function serveBare() {
  const Fastify = (await import('fastify')).default;
  const { eventSchema } = await import('../../core/src/ingestion/schema/jsonSchema.ts');
  const { EVENT_TYPES, CURRENT_SCHEMA_VERSION } = await import('../../plugin-sdk/src/events/catalog.ts');
  const addFormats = (await import('ajv-formats')).default as any;
  const app = Fastify({ logger: false, ajv: { plugins: [addFormats] } });
  const oneOf = EVENT_TYPES.map((t) => {
    const { $id: _id, ...s } = eventSchema(t, CURRENT_SCHEMA_VERSION) as Record<string, unknown>;
    return s;
  });
  // the same strict schemas the real route documents, validated by fastify, and no other work
  app.post('/api/v1/events', { schema: { body: { oneOf }, response: { 202: { type: 'object', properties: { event_id: { type: 'string' } } } } } }, async (req, reply) =>
    reply.status(202).send({ event_id: (req.body as { event_id: string }).event_id }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(JSON.stringify({ url }) + '\n');
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

// ------------------------------------------------------------------ helpers --

function start(kind: 'kernel' | 'bare', dataDir: string): Promise<{ child: ChildProcess; url: string; mvs: string[]; settledMs: number }> {
  const child = spawn(process.execPath, [...(kind === 'kernel' ? startFlags(join(import.meta.dirname, '../..')) : []), ...(process.env.BENCH_CPU_PROF && kind === 'kernel' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), '--import', 'tsx', SELF, '--serve', kind], { env: { ...process.env, DATA_DIR: dataDir, BENCH_PLUGINS: args.plugins }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) {
        const j = JSON.parse(line) as { url: string; mvs?: string[]; settledMs?: number };
        ok({ child, url: j.url, mvs: j.mvs ?? [], settledMs: j.settledMs ?? 0 });
      }
    });
    child.once('exit', (c) => fail(new Error(`${kind} server exited (${c})`)));
  });
}

const peakRss = (pid: number | 'self') => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
};

/** CPU time (user + system, ms) a process has used so far: shows which side of the load is the limit. */
const cpuMs = (pid: number | 'self') => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

const stop = (child: ChildProcess) => stopServer(child);

async function login(url: string) {
  const r = await (await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@bench.local', password: PASSWORD }) })).json();
  return r.access_token as string;
}

async function hookToken(url: string, access: string) {
  const t = await (await fetch(`${url}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` }, body: JSON.stringify({ name: 'bench', kind: 'hook' }) })).json();
  return t.token as string;
}

async function cannon(url: string, headers: Record<string, string>, serverPid: number) {
  const autocannon = (await import('autocannon')).default;
  let i = 0;
  const cpu0 = cpuMs(serverPid);
  const result = await autocannon({
    url: `${url}/api/v1/events`,
    method: 'POST',
    connections: Number(args.connections),
    duration: Number(args.seconds),
    headers: { 'content-type': 'application/json', ...headers },
    // a fresh event per request: the real route would answer a repeated id with 409
    requests: [{ setupRequest: (req: any) => ({ ...req, body: JSON.stringify(event(i++)) }) }],
  });
  const ok = (result as any)['2xx'] as number;
  const secs = result.duration || Number(args.seconds);
  const cpu = cpuMs(serverPid) - cpu0;
  return { rate: ok / secs, ok, cpuPerReq: (cpu * 1000) / Math.max(1, ok), cores: cpu / 1000 / secs, non2xx: result.non2xx, errors: result.errors, p99: result.latency.p99, p50: result.latency.p50 };
}

/** Average insert size and time, from the platform's own /metrics (operator only on the public port). */
async function commitFigures(url: string, access: string) {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${access}` } })).text();
  const v = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  const inserts = v('orrery_ingest_commit_seconds_count');
  const checks = v('orrery_ingest_dedup_check_seconds_count') || 0;
  const check = checks ? `${fmt(checks)} store lookups for dedup, avg ${((v('orrery_ingest_dedup_check_seconds_sum') / checks) * 1000).toFixed(1)} ms` : 'no store lookup needed for dedup';
  const rows = v('orrery_ingest_batch_rows_sum');
  return { inserts, rows, text: `${fmt(inserts)} inserts, avg ${(rows / inserts).toFixed(0)} rows, avg insert ${((v('orrery_ingest_commit_seconds_sum') / inserts) * 1000).toFixed(1)} ms, ${check}` };
}

/** the durable log's state, from /ready */
async function ingestionStatus(url: string): Promise<{ backlog_rows: number; loader_lag_ms: number; refused_rows: number }> {
  const r = await (await fetch(`${url}/ready`)).json();
  return r.ingestion ?? { backlog_rows: 0, loader_lag_ms: 0, refused_rows: 0 };
}

/** waits until the loader has loaded everything logged; ms waited */
async function untilLoaded(url: string, timeoutMs = 600_000): Promise<number> {
  const t0 = performance.now();
  while ((await ingestionStatus(url)).backlog_rows > 0) {
    if (performance.now() - t0 > timeoutMs) throw new Error('the loader did not catch up');
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en');

// --------------------------------------------------------------------- main --

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'orrery-bench-'));
  const out: string[] = [];
  const say = (s: string) => {
    out.push(s);
    console.log(s);
  };
  say(`ingestion benchmark — ${cpus().length} cores, node ${process.version}, ${args.connections} connections, ${args.seconds} s per run, load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  try {
    // 1. single-event HTTP vs bare fastify
    const bare = await start('bare', dataDir);
    const bareRes = await cannon(bare.url, {}, bare.child.pid!);
    const bareRss = peakRss(bare.child.pid!);
    await stop(bare.child);

    let kernel = await start('kernel', dataDir);
    const access = await login(kernel.url);
    const hook = await hookToken(kernel.url, access);
    const single = await cannon(kernel.url, { authorization: `Bearer ${hook}` }, kernel.child.pid!);
    const backlogAfterSingle = (await ingestionStatus(kernel.url)).backlog_rows;
    const drainMs = await untilLoaded(kernel.url);
    const m1 = await commitFigures(kernel.url, access);
    say(`materialized views on events: ${kernel.mvs.length ? kernel.mvs.join(', ') : 'none'} (plugins: ${args.plugins || 'none'}); load sent once every job's first run after start had finished (${(kernel.settledMs / 1000).toFixed(1)} s after listen)`);
    say(`single  POST /api/v1/events: ${fmt(single.rate)} events/s answered 2xx once in the durable log (p50 ${single.p50} ms, p99 ${single.p99} ms, non-2xx ${single.non2xx}, errors ${single.errors}); server CPU ${single.cpuPerReq.toFixed(0)} µs/event, ${single.cores.toFixed(2)} cores`);
    say(`        bare fastify route, same schema, no work: ${fmt(bareRes.rate)} req/s (server CPU ${bareRes.cpuPerReq.toFixed(0)} µs/req, ${bareRes.cores.toFixed(2)} cores) → ratio ${(single.rate / bareRes.rate).toFixed(2)}`);
    say(`        backlog when the load stopped: ${fmt(backlogAfterSingle)} rows, loaded into ClickHouse ${(drainMs / 1000).toFixed(1)} s later → ${fmt(single.ok / (single.ok / single.rate + drainMs / 1000))} events/s counted until visible`);
    say(`        loader: ${m1.text}`);

    // 2. batches of 1,000 vs raw inserts of the same rows
    const nBatches = Number(args.batches);
    const batches: Array<Record<string, unknown>[]> = Array.from({ length: nBatches }, (_, b) => Array.from({ length: 1000 }, (_, i) => event(b * 1000 + i)));
    const bodies = batches.map((events) => JSON.stringify({ events }));
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${hook}` };
    let next = 0;
    let accepted = 0;
    const batchCpu0 = cpuMs(kernel.child.pid!);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 6 }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const r = await fetch(`${kernel.url}/api/v1/events/batch`, { method: 'POST', headers, body });
        const j = await r.json();
        accepted += j.accepted ?? 0;
      }
    }));
    const ackSecs = (performance.now() - t0) / 1000;
    await untilLoaded(kernel.url);
    // sustained until visible: the clock stops when the last row is in ClickHouse, not at the last 2xx
    const batchSecs = (performance.now() - t0) / 1000;
    const batchCpu = cpuMs(kernel.child.pid!) - batchCpu0;
    const m2 = await commitFigures(kernel.url, access);
    const batchRowsPerInsert = (m2.rows - m1.rows) / Math.max(1, m2.inserts - m1.inserts);
    const batchRate = accepted / batchSecs;
    const kernelRss = peakRss(kernel.child.pid!);
    await stop(kernel.child);

    const { createClient } = await import('@clickhouse/client');
    const { createChdbConnection } = await import('chdb/connection');
    const { events: eventsTable } = await import('../../core/src/ingestion/migrations/0001_events.ts');
    const { renderDdl } = await import('../../core/src/storage/migrations.ts');
    const { CompactEncoder } = await import('../../core/src/ingestion/encode.ts');
    const chConnection = createChdbConnection({ path: join(dataDir, 'ch') });
    const ch = createClient({ connection: chConnection as any, clickhouse_settings: { date_time_input_format: 'best_effort' } } as any);
    // the loader's way in: its encoder, and the Buffer handed to chDB as it is (no client-side encoding)
    const rawCompact = async (table: string, rows: Array<Record<string, unknown>>) => {
      const { columns, body } = await new CompactEncoder(Object.keys(rows[0]!)).encode(rows, { sliceRows: 2000 });
      await (chConnection as unknown as { chdb: { rawInsert(p: unknown): Promise<unknown> } }).chdb.rawInsert({ table, columns, format: 'JSONCompactEachRow', values: body, settings: { date_time_input_format: 'best_effort' } });
    };
    // the same table, and the same materialized views when plugins were loaded
    const rawViews: string[] = [];
    const rawTable = async (database: string) => {
      await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
      for (const stmt of eventsTable.statements) await ch.command({ query: renderDdl(stmt, database, null) });
      for (const id of pluginList(args.plugins)) {
        const decl = (await import(`../../plugins/${id}/backend/index.ts`)).default as { migrations?: { clickhouse?: Array<{ statements: string[] }> } };
        for (const m of decl.migrations?.clickhouse ?? []) {
          for (const stmt of m.statements) {
            await ch.command({ query: renderDdl(stmt, database, null) });
            const mv = /MATERIALIZED VIEW IF NOT EXISTS \{db\}\.(\w+)/.exec(stmt)?.[1];
            if (mv && database === 'bench_raw_json') rawViews.push(mv);
          }
        }
      }
    };
    // the rows as the pipeline stores them (org, fixes, versions, receipt time, cost)
    const now = new Date().toISOString();
    const stored = () => batches.map((b) => b.map((e) => ({ ...e, event_id: randomUUID(), org_id: 'org-bench', action: '', fixes: [], schema_version: 2, received_schema_version: 2, received_at: now, source: 'batch', cost_usd: 0.0081, cost_source: 'computed' })));
    // (a) the obvious way: JSONEachRow objects, one insert per 1,000 rows
    await rawTable('bench_raw_json');
    let rows = stored();
    let t1 = performance.now();
    for (const r of rows) await ch.insert({ table: 'bench_raw_json.events', values: r, format: 'JSONEachRow' });
    const rawJsonRate = (rows.length * 1000) / ((performance.now() - t1) / 1000);
    // (b) the way the loader writes: JSONCompactEachRow, inserts as large as the loader made them
    await rawTable('bench_raw_compact');
    rows = stored();
    const per = Math.max(1000, Math.round(batchRowsPerInsert / 1000) * 1000);
    const flat = rows.flat();
    const compactCpu0 = process.cpuUsage();
    t1 = performance.now();
    for (let o = 0; o < flat.length; o += per) await rawCompact('bench_raw_compact.events', flat.slice(o, o + per));
    const rawCompactRate = flat.length / ((performance.now() - t1) / 1000);
    const compactCpu = process.cpuUsage(compactCpu0);
    const compactInserts = Math.ceil(flat.length / per);
    const rawRate = Math.max(rawJsonRate, rawCompactRate);
    say(`batch   POST /api/v1/events/batch (1,000/batch, 6 senders): ${fmt(batchRate)} events/s until visible in ClickHouse (${fmt(accepted)} in ${batchSecs.toFixed(2)} s; all 2xx after ${ackSecs.toFixed(2)} s → ${fmt(accepted / ackSecs)} events/s answered; server CPU ${((batchCpu * 1000) / Math.max(1, accepted)).toFixed(1)} µs/event, ${(batchCpu / 1000 / batchSecs).toFixed(2)} cores)`);
    say(`        raw insert, same rows, same table and engine (chDB), views: ${rawViews.length ? rawViews.join(', ') : 'none'}`);
    say(`          JSONEachRow, 1,000/insert: ${fmt(rawJsonRate)} rows/s; JSONCompactEachRow, ${fmt(per)}/insert: ${fmt(rawCompactRate)} rows/s`);
    say(`          ratio to the faster raw: ${(batchRate / rawRate).toFixed(2)}`);
    say(`        loader (cumulative): ${m2.text}`);

    // The engine's own floor, in this process (chDB's threads count in its CPU time): what one
    // insert costs whatever its size, and what each row adds. An insert holds at most as many
    // single events as there are connections waiting, so these two bound the single route.
    const tinyCpu0 = process.cpuUsage();
    const TINY = 40;
    for (let k = 0; k < TINY; k++) await rawCompact('bench_raw_compact.events', [{ ...flat[0]!, event_id: randomUUID() }]);
    const perInsertMs = cpuTotalMs(process.cpuUsage(tinyCpu0)) / TINY;
    const perRowUs = Math.max(0, (cpuTotalMs(compactCpu) - perInsertMs * compactInserts) * 1000) / flat.length;
    // parsing alone: the same rows into a Null-engine copy of the table (nothing written)
    await ch.command({ query: 'CREATE DATABASE IF NOT EXISTS bench_raw_null' });
    await ch.command({ query: renderDdl(eventsTable.statements[0]!, 'bench_raw_null', null).replace(/ENGINE = [\s\S]*$/, 'ENGINE = Null') });
    t1 = performance.now();
    for (let o = 0; o < flat.length; o += per) await rawCompact('bench_raw_null.events', flat.slice(o, o + per));
    const nullRate = flat.length / ((performance.now() - t1) / 1000);
    const conns = Number(args.connections);
    const enginePerEventUs = (perInsertMs * 1000) / conns + perRowUs;
    say(`engine  embedded chDB on this machine: ${perInsertMs.toFixed(1)} ms CPU per insert (any size) + ${perRowUs.toFixed(1)} µs per row; parsing alone (Null engine) ${fmt(nullRate)} rows/s`);
    say(`        → with ${conns} connections an insert holds ≤ ${conns} single events: the engine alone needs ≥ ${enginePerEventUs.toFixed(0)} µs CPU per event, ≤ ${fmt((cpus().length * 1e6) / enginePerEventUs)} events/s on all ${cpus().length} cores before any HTTP work; batches ≤ ${fmt(Math.min(nullRate, (cpus().length * 1e6) / perRowUs))} rows/s`);
    await ch.close();

    // 3. latency to query and to socket.io — the server in this process, so a query can look
    kernel = await start('kernel', dataDir);
    const access2 = await login(kernel.url);
    const hook2 = await hookToken(kernel.url, access2);
    const { io } = await import('socket.io-client');
    const socket = io(kernel.url, { auth: { token: access2 }, transports: ['websocket'] });
    await new Promise<void>((ok, fail) => { socket.once('connect', () => ok()); socket.once('connect_error', fail); });
    let onMsg: ((at: number) => void) | null = null;
    socket.on('bus', (m: { topic: string; scope: { kind: string } }) => {
      if (m.topic === 'events.committed' && m.scope.kind === 'org') onMsg?.(performance.now());
    });
    const toSocket: number[] = [];
    const toQuery: number[] = [];
    const h = { 'content-type': 'application/json', authorization: `Bearer ${hook2}` };
    // background load so the coalescing window and a busy committer are part of the figure
    let bg = true;
    const background = (async () => {
      while (bg) {
        await fetch(`${kernel.url}/api/v1/events/batch`, { method: 'POST', headers: h, body: JSON.stringify({ events: Array.from({ length: 200 }, (_, i) => event(i)) }) });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    for (let s = 0; s < Number(args.samples); s++) {
      const e = event(s);
      const seen = new Promise<number>((ok) => { onMsg = (at) => { onMsg = null; ok(at); }; });
      const r = await fetch(`${kernel.url}/api/v1/events`, { method: 'POST', headers: h, body: JSON.stringify(e) });
      const acked = performance.now();
      await r.arrayBuffer();
      // visible to a query: the first poll after the 2xx that finds the row
      for (;;) {
        const q = await fetch(`${kernel.url}/api/v1/events/${e.event_id}`, { headers: { authorization: `Bearer ${access2}` } });
        if (q.status === 200) break;
        if (q.status !== 404) throw new Error(`visibility probe answered ${q.status}`);
      }
      toQuery.push(performance.now() - acked);
      // messages already in flight for earlier events count as this one's only if they left after its commit
      const at = await Promise.race([seen, new Promise<number>((ok) => setTimeout(() => ok(NaN), 2000))]);
      toSocket.push(Math.max(0, at - acked));
      await new Promise((r) => setTimeout(r, Math.random() * 100));
    }
    bg = false;
    await background;
    socket.close();
    say(`latency 2xx → visible to a query: p50 ${pct(toQuery, 50).toFixed(1)} ms, p99 ${pct(toQuery, 99).toFixed(1)} ms (${toQuery.length} samples, under background batch load)`);
    say(`        2xx → socket.io message:  p50 ${pct(toSocket, 50).toFixed(1)} ms, p99 ${pct(toSocket, 99).toFixed(1)} ms`);
    // the kernel folds declared rollups from a watermark off the insert path; it samples their lag itself
    const mv = await (await fetch(`${kernel.url}/api/v1/admin/materialized-views`, { headers: { authorization: `Bearer ${access2}` } })).json();
    say(`        rollup lag (now − watermark, sampled by the fold job over the run): as a fold moves the watermark (its highest) p50 ${fmt(mv.peak_lag_ms?.p50 ?? NaN)} ms, p99 ${fmt(mv.peak_lag_ms?.p99 ?? NaN)} ms; right after (its lowest) p50 ${fmt(mv.lag_ms?.p50 ?? NaN)} ms, p99 ${fmt(mv.lag_ms?.p99 ?? NaN)} ms (${mv.lag_ms?.samples ?? 0} samples; grace ${mv.grace_ms} ms${mv.grace?.startsWith('embedded') ? ' and the oldest write under way' : ''}, every ${mv.every_seconds} s)`);

    // 5. sustained single events at the measured rate: do RSS, backlog and lag stay flat?
    const sustainSecs = Number(args.sustain);
    if (sustainSecs > 0) {
      const rate = Number(args['sustain-rate']) || Math.floor(single.rate);
      const autocannon = (await import('autocannon')).default;
      let i = 0;
      const samples: Array<{ t: number; rss: number; backlog: number; lag: number }> = [];
      const rssNow = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${kernel.child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
      const started = performance.now();
      const sampler = setInterval(() => {
        void ingestionStatus(kernel.url).then((st) => samples.push({ t: (performance.now() - started) / 1000, rss: rssNow(), backlog: st.backlog_rows, lag: st.loader_lag_ms }), () => undefined);
      }, 10_000);
      const run = await autocannon({
        url: `${kernel.url}/api/v1/events`, method: 'POST', connections: Number(args.connections), duration: sustainSecs, overallRate: rate,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${hook2}` },
        requests: [{ setupRequest: (req: any) => ({ ...req, body: JSON.stringify(event(i++)) }) }],
      });
      clearInterval(sampler);
      const end = await ingestionStatus(kernel.url);
      const ok = (run as any)['2xx'] as number;
      const third = Math.max(1, Math.floor(samples.length / 3));
      const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const firstRss = avg(samples.slice(0, third).map((x) => x.rss)), lastRss = avg(samples.slice(-third).map((x) => x.rss));
      say(`sustain ${sustainSecs} s at ${fmt(rate)} events/s offered: ${fmt(ok / sustainSecs)} events/s answered 2xx (p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, non-2xx ${run.non2xx}, errors ${run.errors})`);
      say(`        RSS first third avg ${fmt(firstRss)} MB, last third avg ${fmt(lastRss)} MB (${lastRss >= firstRss ? '+' : ''}${(((lastRss - firstRss) / Math.max(1, firstRss)) * 100).toFixed(1)} %), max ${fmt(Math.max(...samples.map((x) => x.rss)))} MB`);
      // the rule ingest-cpu.ts applies: the slope over the last 4 minutes (the first is warm-up), not only the two thirds
      const tail = samples.filter((x) => x.t >= sustainSecs - 240);
      const rssSlope = slope(tail.map((x) => [x.t, x.rss])) * 60, lagSlope = slope(tail.map((x) => [x.t, x.lag])) * 60;
      say(`        RSS slope over the last ${Math.min(240, sustainSecs)} s: ${rssSlope.toFixed(2)} MB/min, loader lag ${lagSlope.toFixed(0)} ms/min (least squares over ${tail.length} samples) → ${rssSlope < FLAT_MB_PER_MIN ? 'flat' : 'NOT flat'} by the rule RSS slope < ${FLAT_MB_PER_MIN} MB/min`);
      say(`        loader lag at 10 s samples: p50 ${fmt(pct(samples.map((x) => x.lag), 50))} ms, max ${fmt(Math.max(...samples.map((x) => x.lag)))} ms; backlog max ${fmt(Math.max(...samples.map((x) => x.backlog)))} rows, at the end ${fmt(end.backlog_rows)} rows`);
      say(`        samples (s: RSS MB / backlog rows / lag ms): ${samples.map((x) => `${x.t.toFixed(0)}: ${fmt(x.rss)}/${fmt(x.backlog)}/${fmt(x.lag)}`).join(', ')}`);
    }
    const endStatus = await ingestionStatus(kernel.url);
    const kernelRss2 = peakRss(kernel.child.pid!);
    await stop(kernel.child);
    say(`backlog at the end of the run: ${fmt(endStatus.backlog_rows)} rows (loader lag ${fmt(endStatus.loader_lag_ms)} ms), ${fmt(endStatus.refused_rows)} rows refused with 503 in the last server`);
    say(`load average at end ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other processes on the machine take CPU from both sides)`);
    say(`peak RSS: platform process ${fmt(Math.max(kernelRss, kernelRss2))} MB, bare fastify ${fmt(bareRss)} MB, benchmark process ${fmt(peakRss('self'))} MB`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (args.serve === 'kernel') await serveKernel();
else if (args.serve === 'bare') await serveBare();
else await main();
