/**
 * Server CPU per single event, by thread, at a fixed offered rate: the figure to compare code
 * or settings by on a shared machine, where throughput says more about the neighbours than
 * about the code. The platform starts as `ingest.ts` starts it (every first-party plugin on);
 * single `POST /api/v1/events` are sent at `--rate` events/s for `--seconds`, and the CPU each
 * thread of the server used in that window (`/proc/<pid>/task/<tid>/stat`) is divided by the
 * events answered 2xx. Threads are grouped by name: the main thread (JS, the loader's
 * encoding, LMDB reads), V8's helpers (GC), chDB's (inserts, merges, rollup folds' queries),
 * libuv's pool and the rest. Runs alternate between variants (`--variants` = JSON list of
 * `{ ingestion?: BENCH_INGESTION settings, root?: another checkout of the repository }`) so
 * that each pair sees the same machine. The server's RSS and V8 heap at the end of each run are
 * printed too (what the claims and the log keep).
 *
 *   npx tsx scripts/bench/ingest-cpu.ts --rate 1000 --seconds 20 --rounds 2 \
 *     --variants '[{"root": "/tmp/before"}, {}, {"ingestion": {"loadDelayMs": 250}}]'
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchEvent, startIngestServer, threadCpu, type Variant, stopServer, slope, FLAT_MB_PER_MIN } from './ingestServer.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '1' },
    connections: { type: 'string', default: '64' },
    plugins: { type: 'string', default: 'all' },
    variants: { type: 'string', default: '[{}]' },
    // seconds of the same load sent before the measured window (first scores of new users, caches, JIT)
    warmup: { type: 'string', default: '0' },
    // print the CPU per event of each thread name (chDB's pools, merges, LMDB's writer, …)
    threads: { type: 'boolean', default: false },
  },
});
const PASSWORD = 'Bench-passw0rd-orrery!';
/** CPU ms per thread name (the main thread as `main`) */
function threadNames(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try { stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'); } catch { continue; }
    const name = Number(tid) === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * 10);
  }
  return out;
}
async function once(variant: Variant) {
  const dataDir = mkdtempSync(join(tmpdir(), 'orrery-cpu-'));
  const { child, url } = await startIngestServer(dataDir, variant, args.plugins);
  try {
    const access = (await (await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@bench.local', password: PASSWORD }) })).json()).access_token;
    const hook = (await (await fetch(`${url}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` }, body: JSON.stringify({ name: 'bench', kind: 'hook' }) })).json()).token;
    const autocannon = (await import('autocannon')).default;
    let i = 0;
    // seconds since the server started, so a CPU profile can be cut to the load window
    const age = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) - Number(readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]) / 100;
    const from = age();
    // RSS split into anonymous (heaps, claims, chDB's memory) and file-backed (the log's map, chDB's
    // parts), V8's heap from /metrics, and (this checkout's server) what chDB holds, every 10 s
    const samples: MemSample[] = [];
    let answeredSoFar = 0;
    const answered = () => answeredSoFar;
    const kb = (text: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) / 1024;
    let chdb: Record<string, number> = {};
    child.stdout!.on('data', (d: Buffer) => {
      for (const line of String(d).split('\n')) if (line.startsWith('{"mem"')) chdb = (JSON.parse(line) as { mem: Record<string, number> }).mem;
    });
    const sampler = setInterval(async () => {
      const t = age() - from;
      const st = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      let heapUsed = NaN, heapTotal = NaN, external = NaN;
      try {
        const m = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${access}` } })).text();
        const g = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(m)?.[1] ?? NaN) / 1024 ** 2;
        [heapUsed, heapTotal, external] = [g('nodejs_heap_size_used_bytes'), g('nodejs_heap_size_total_bytes'), g('nodejs_external_memory_bytes')];
      } catch { /* a busy server: the /proc figures still count */ }
      // the durable log's data file: what its loaded entries, kept `logRetainSeconds`, occupy
      let logMb = NaN;
      try { logMb = statSync(join(dataDir, 'ingest-log', 'data.mdb')).size / 1024 ** 2; } catch { /* not created (yet) */ }
      // rollup lag: now − the oldest watermark of the declared rollups
      let rollupLag = NaN;
      try {
        const mv = await (await fetch(`${url}/api/v1/admin/materialized-views`, { headers: { authorization: `Bearer ${access}` } })).json() as { rollups?: Array<{ lag_ms: number | null }> };
        rollupLag = Math.max(...(mv.rollups ?? []).map((x) => x.lag_ms ?? NaN));
      } catch { /* as above */ }
      samples.push({ t, rollupLag, rss: kb(st, 'VmRSS'), anon: kb(st, 'RssAnon'), file: kb(st, 'RssFile'), logMb, heapUsed, heapTotal, external, answered: answered(), chdb: { ...chdb } });
    }, 10_000);
    // the returned tracker is an event emitter as well as a promise of the result
    type Run = Promise<import('autocannon').Result> & { on(e: 'response', f: (c: unknown, status: number) => void): void };
    const send = (seconds: number): Run => (autocannon as any)({
      url: `${url}/api/v1/events`, method: 'POST', connections: Number(args.connections), duration: seconds, overallRate: Number(args.rate),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hook}` },
      requests: [{ setupRequest: (req: any) => ({ ...req, body: JSON.stringify(benchEvent(i++)) }) }],
    });
    if (Number(args.warmup) > 0) await send(Number(args.warmup));
    // the rollup folds: lag samples are taken one per rollup at the end of each fold
    const rollupStatus = async () => (await (await fetch(`${url}/api/v1/admin/materialized-views`, { headers: { authorization: `Bearer ${access}` } })).json()) as { lag_ms?: { p50: number | null; p99: number | null; samples: number }; peak_lag_ms?: { p50: number | null; p99: number | null }; fold_ms?: { p50: number | null; p99: number | null; samples: number }; rollups?: unknown[] };
    const folds0 = await rollupStatus().catch(() => ({}) as Awaited<ReturnType<typeof rollupStatus>>);
    const names0 = threadNames(child.pid!);
    const cpu0 = threadCpu(child.pid!);
    const la0 = loadavg()[0]!;
    const run = send(Number(args.seconds));
    run.on('response', (_c, status) => { if (status >= 200 && status < 300) answeredSoFar++; });
    const r = await run;
    clearInterval(sampler);
    const cpu1 = threadCpu(child.pid!);
    const names1 = threadNames(child.pid!);
    const window = `${from.toFixed(1)}–${age().toFixed(1)} s after the server started`;
    const ok = (r as any)['2xx'] as number;
    const per: Record<string, number> = {};
    let total = 0;
    for (const [g, ms] of cpu1) {
      const d = ms - (cpu0.get(g) ?? 0);
      total += d;
      per[g] = Math.round((d * 1000) / Math.max(1, ok));
    }
    const status = (await (await fetch(`${url}/ready`)).json()).ingestion ?? {};
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${access}` } })).text();
    const v = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const heapMb = v('nodejs_heap_size_used_bytes') / 1024 ** 2;
    const folds1 = await rollupStatus().catch(() => ({}) as Awaited<ReturnType<typeof rollupStatus>>);
    const nRollups = Math.max(1, folds1.rollups?.length ?? 1);
    const folds = `${Math.round(((folds1.lag_ms?.samples ?? 0) - (folds0.lag_ms?.samples ?? 0)) / nRollups)} folds in the window, lag after a fold p50 ${folds1.lag_ms?.p50} / p99 ${folds1.lag_ms?.p99} ms; highest, as a fold moves it, p50 ${folds1.peak_lag_ms?.p50 ?? '–'} / p99 ${folds1.peak_lag_ms?.p99 ?? '–'} ms (last 1,000 samples); a fold that took rows ran p50 ${folds1.fold_ms?.p50 ?? '–'} / p99 ${folds1.fold_ms?.p99 ?? '–'} ms`;
    const byName = [...names1].map(([n, ms]) => [n, ms - (names0.get(n) ?? 0)] as const).filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1])
      .map(([n, d]) => `${n} ${Math.round((d * 1000) / Math.max(1, ok))}`).join(', ');
    return { folds, byName, samples, window, rssMb, heapMb, ok, rate: ok / Number(args.seconds), p99: r.latency.p99, non2xx: r.non2xx, total: Math.round((total * 1000) / Math.max(1, ok)), per, inserts: v('orrery_ingest_commit_seconds_count'), rows: v('orrery_ingest_batch_rows_sum'), backlog: status.backlog_rows, load: `${la0.toFixed(1)}→${loadavg()[0]!.toFixed(1)}` };
  } finally {
    await stopServer(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface MemSample { t: number; rss: number; anon: number; file: number; logMb: number; heapUsed: number; heapTotal: number; external: number; answered: number; rollupLag: number; chdb: Record<string, number> }

function sampleLine(x: MemSample): string {
  const r = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '?' : String(Math.round(n)));
  const c = x.chdb;
  const ch = c.MemoryTracking === undefined ? '' : `; chDB ${r(c.MemoryTracking)}, je ${r(c.jeResident)}/${r(c.jeRetained)}, caches ${r((c.MarkCacheBytes ?? 0) + (c.PrimaryIndexCacheBytes ?? 0))}, parts ${r(c.activeParts)}/${r(c.inactiveParts)}, live heap ${r(c.liveAfterMajorGc)}`;
  return `${r(x.t)}s ${r(x.rss)} (anon ${r(x.anon)}, file ${r(x.file)}, log ${r(x.logMb)}, heap ${r(x.heapUsed)}/${r(x.heapTotal)}, native ${r(x.anon - x.heapTotal)}, lag ${(x.rollupLag / 1000).toFixed(1)}${ch})`;
}

/**
 * What "flat" means here: over the last 4 minutes of the run (the first minute is warm-up: the
 * log's retention, V8's and chDB's pools growing to their working size), the least-squares slope
 * of RSS is under FLAT_MB_PER_MIN, and so is the slope of the live heap after full collections
 * (a leak of JS objects shows there even when the saw-tooth hides it in RSS); the rollup lag's
 * slope is under 1 s per minute (the folds keep up). Printed beside the first-third → last-third
 * change the issue quotes.
 */
function flatness(samples: MemSample[], seconds: number): string {
  const tail = samples.filter((x) => x.t >= seconds - 240);
  const perMin = (f: (x: MemSample) => number) => slope(tail.map((x) => [x.t, f(x)])) * 60;
  const rss = perMin((x) => x.rss), anon = perMin((x) => x.anon), native = perMin((x) => x.anon - x.heapTotal), heap = perMin((x) => x.heapUsed);
  const live = perMin((x) => x.chdb.liveAfterMajorGc ?? NaN), je = perMin((x) => x.chdb.jeResident ?? NaN), lag = perMin((x) => x.rollupLag / 1000);
  const third = Math.max(1, Math.floor(samples.length / 3));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const first = avg(samples.slice(0, third).map((x) => x.rss)), last = avg(samples.slice(-third).map((x) => x.rss));
  const rate = tail.length > 1 ? (tail.at(-1)!.answered - tail[0]!.answered) / (tail.at(-1)!.t - tail[0]!.t) : NaN;
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '?');
  const flat = rss < FLAT_MB_PER_MIN && (!Number.isFinite(live) || live < FLAT_MB_PER_MIN) && (!Number.isFinite(lag) || lag < 1);
  return [
    `  slopes over the last ${Math.min(240, seconds)} s (MB/min, least squares over ${tail.length} samples, ${Math.round(rate)} events/s answered): RSS ${f(rss)} (${f((rss * 1024) / (rate * 60))} KB/event), anon ${f(anon)}, native ${f(native)}, V8 heap used ${f(heap)}, live heap after full GC ${f(live)}, chDB jemalloc resident ${f(je)}; rollup lag ${f(lag)} s/min`,
    `  RSS first third ${Math.round(first)} MB → last third ${Math.round(last)} MB (${last >= first ? '+' : ''}${(((last - first) / first) * 100).toFixed(1)} %); ${flat ? 'FLAT' : 'NOT FLAT'} (RSS and live-heap slopes < ${FLAT_MB_PER_MIN} MB/min, rollup lag < 1 s/min)`,
  ].join('\n');
}

const variants = JSON.parse(args.variants) as Variant[];
// this checkout's server reports what chDB holds every 10 s (another checkout's may not)
process.env.BENCH_MEM_PROBE ??= Number(args.seconds) >= 60 ? '10000' : '';
console.log(`server CPU per single event at ${args.rate} events/s offered for ${args.seconds} s, ${args.connections} connections, plugins: ${args.plugins}`);
const totals = variants.map(() => [] as number[]);
for (let round = 0; round < Number(args.rounds); round++) {
  for (const [k, v] of variants.entries()) {
    const r = await once(v);
    totals[k]!.push(r.total);
    console.log(`${JSON.stringify(v)}: ${r.total} µs/event (${Object.entries(r.per).map(([g, us]) => `${g} ${us}`).join(', ')}); ${Math.round(r.rate)}/s 2xx, non-2xx ${r.non2xx}, p99 ${r.p99} ms; loader ${r.inserts} inserts, avg ${Math.round(r.rows / r.inserts)} rows; backlog ${r.backlog}; RSS ${Math.round(r.rssMb)} MB, V8 heap used ${Math.round(r.heapMb)} MB; load ${r.load}; load window ${r.window}`);
    if (args.threads) console.log(`  µs/event by thread name: ${r.byName}`);
    console.log(`  rollups: ${r.folds}`);
    if (Number(args.seconds) >= 60) {
      console.log(`  every 10 s (s: RSS MB, anon, file, log file, V8 heap used/total, native = anon − heap total, rollup lag s${r.samples.some((x) => x.chdb.MemoryTracking) ? '; chDB: tracked, jemalloc resident/retained, caches mark+pk, parts active/inactive, live heap after the last full GC' : ''}):`);
      for (const x of r.samples) console.log(`    ${sampleLine(x)}`);
      console.log(flatness(r.samples, Number(args.seconds)));
    }
  }
}
if (variants.length > 1) for (const [k, v] of variants.entries()) {
  const avg = totals[k]!.reduce((a, b) => a + b, 0) / totals[k]!.length;
  const base = totals[0]!.reduce((a, b) => a + b, 0) / totals[0]!.length;
  console.log(`${JSON.stringify(v)}: mean ${Math.round(avg)} µs/event, ${(avg / base).toFixed(2)} of the first variant`);
}
