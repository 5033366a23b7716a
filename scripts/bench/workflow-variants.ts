/**
 * Variants of the workflow summary's SQL, timed alternated in one process on the funnels
 * bench's data (funnelsSeed.ts), so that a shared machine's load weighs on all of them alike.
 *
 *   BENCH_EVENTS=10000000 BENCH_USERS=1000000 npx tsx scripts/bench/workflow-variants.ts
 *
 * Generates the events once and folds the rollups, then captures the query that
 * `GET /workflows/onboarding/analytics` (30 days, daily series) sends and writes it, with its
 * parameters, to `$VARIANTS_DIR` (default `.tmp/workflow-variants`) as `v0-current.sql` and
 * `params.json`. Write other `v*.sql` files there (`{db}` stands for the database; the
 * `scripts/bench/workflow-variants/` folder holds the ones measured in the funnels README), then
 * `echo 5 > $VARIANTS_DIR/go`: every `v*.sql` runs in turn, 5 rounds, and each prints its wall
 * clock p50/p95, the process's CPU time per query (median; chDB runs in this process), both as
 * ratios to the first file, the load average and a hash of its answer. `touch $VARIANTS_DIR/stop`
 * ends the process. Generating 10 M events takes about a minute on a quiet machine (14 under load
 * 30), which is why one process serves many variants.
 */
import { loadavg } from 'node:os';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { startBenchBackend } from './backend.ts';
import { FUNNEL_BENCH_DAYS as DAYS, FUNNEL_BENCH_END as END, seedFunnelEvents } from './funnelsSeed.ts';
import funnels from '../../plugins/funnels/backend/index.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const USERS = Number(process.env.BENCH_USERS ?? 200_000);
const DIR = process.env.VARIANTS_DIR ?? '.tmp/workflow-variants';
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)} load ${loadavg().map((x) => x.toFixed(1)).join(' ')}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => sorted(xs)[Math.min(xs.length - 1, Math.ceil(0.95 * xs.length) - 1)]!;

interface Query {
  query: string;
  query_params?: Record<string, unknown>;
  format?: string;
}

async function main() {
  mkdirSync(DIR, { recursive: true });
  const b = await startBenchBackend({ plugins: [funnels], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
  try {
    const s = b.kernel.services;
    const db = s.analytics.database;
    const t0 = performance.now();
    await seedFunnelEvents(b, EVENTS, USERS);
    log(`generated ${EVENTS.toLocaleString('en')} events of ${USERS.toLocaleString('en')} users in ${Math.round(performance.now() - t0)} ms`);
    let folded = 0;
    for (let n = -1; n !== 0; folded += n) n = (await b.foldRollups()).filter((f) => f.plugin === 'funnels').reduce((x, y) => x + y.rows, 0);
    log(`folded ${folded.toLocaleString('en')} outcome events`);

    // the route's own query, captured on its way to chDB
    const ch = s.analytics.client as unknown as { query: (q: Query) => Promise<{ json: () => Promise<unknown> }> };
    const run = ch.query.bind(ch);
    let captured: Query | null = null;
    let tailKeys: Query | null = null;
    ch.query = (q) => {
      if (q.query.includes('enrolled_users')) captured = q;
      // the derived read's first query: the users with events after the rollup's watermark
      if (q.query.includes('SELECT DISTINCT') && q.query.includes('inserted_at >')) tailKeys = q;
      return run(q);
    };
    const client = await b.org.addUser({ email: `bench-${Date.now()}@example.com`, role: 'Admin' });
    const range = { from: new Date(END - DAYS * 86_400_000).toISOString(), to: new Date(END).toISOString() };
    const res = await client.get('/api/v1/workflows/onboarding/analytics', { ...range, granularity: 'day' }, { headers: { 'cache-control': 'no-cache' } });
    if (res.status !== 200 || !captured) throw new Error(`the route's query was not captured: ${res.status}`);
    const q = captured as Query;
    writeFileSync(`${DIR}/v0-current.sql`, q.query.replaceAll(`${db}.`, '{db}.'));
    if (tailKeys) writeFileSync(`${DIR}/vt-tail-keys.sql`, (tailKeys as Query).query.replaceAll(`${db}.`, '{db}.'));
    // the per-user merge (the read before the derived outcome rows), for comparison
    captured = null;
    await client.get('/api/v1/workflows/onboarding/analytics', { ...range, granularity: 'day', source: 'merge' }, { headers: { 'cache-control': 'no-cache' } });
    if (captured) writeFileSync(`${DIR}/vm-merge.sql`, (captured as Query).query.replaceAll(`${db}.`, '{db}.'));
    ch.query = run;
    // one parameter set serves every file: the merge's piece parameters beside the derived read's
    const allParams = { ...((captured as Query | null)?.query_params ?? {}), ...(q.query_params ?? {}) };
    writeFileSync(`${DIR}/params.json`, JSON.stringify(allParams, null, 1));
    log(`ready: ${DIR}/v0-current.sql; enrolled ${(res.body as { summary: { enrolled: number } }).summary.enrolled}`);

    while (!existsSync(`${DIR}/stop`)) {
      if (!existsSync(`${DIR}/go`)) {
        await sleep(500);
        continue;
      }
      const rounds = Number(readFileSync(`${DIR}/go`, 'utf8').trim()) || 5;
      unlinkSync(`${DIR}/go`);
      const files = readdirSync(DIR).filter((f) => /^v.*\.sql$/.test(f)).sort();
      const params = JSON.parse(readFileSync(`${DIR}/params.json`, 'utf8')) as Record<string, unknown>;
      const acc = new Map<string, { t: number[]; c: number[]; hash: string; err: string }>(files.map((f) => [f, { t: [], c: [], hash: '', err: '' }]));
      for (let i = 0; i < rounds; i++) {
        for (const f of files) {
          const a = acc.get(f)!;
          const sql = readFileSync(`${DIR}/${f}`, 'utf8').replaceAll('{db}.', `${db}.`);
          const t = performance.now();
          const c = process.cpuUsage();
          try {
            const rows = await (await run({ query: sql, query_params: params, format: 'JSONEachRow' })).json();
            a.hash = createHash('md5').update(JSON.stringify(rows)).digest('hex').slice(0, 8);
          } catch (e) {
            a.err = String(e).slice(0, 200);
          }
          const u = process.cpuUsage(c);
          a.t.push(performance.now() - t);
          a.c.push((u.user + u.system) / 1000);
        }
      }
      const base = acc.get(files[0]!)!;
      for (const [f, a] of acc) {
        log(
          `${f}: p50 ${Math.round(median(a.t))} ms, p95 ${Math.round(p95(a.t))} ms, CPU median ${Math.round(median(a.c))} ms ` +
            `(${(median(a.c) / median(base.c)).toFixed(2)}× CPU, ${(median(a.t) / median(base.t)).toFixed(2)}× p50) answer ${a.hash} ${a.err}`,
        );
      }
    }
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
