/**
 * The metrics query at scale: p50/p95 of grouped hourly queries over 7 days through
 * `POST /api/v1/metrics/query`, read by the planner (the plugin's rollup for whole hours,
 * raw events for the edges and what the fold has not reached) and from raw events only
 * (`?rollups=false`), each against the same SQL run directly on chDB in the same run (the
 * baseline: what the route adds is validation, the watermark, bucket filling, JSON and HTTP).
 * The route asks ClickHouse once per answer (totals and buckets in one scan), and so does the baseline.
 *
 *   npx tsx scripts/bench/metrics.ts                       # 2M events over 30 days
 *   BENCH_EVENTS=10000000 BENCH_RUNS=30 npx tsx scripts/bench/metrics.ts
 */
import { loadavg } from 'node:os';
import { startBenchBackend } from './backend.ts';
import metrics from '../../plugins/metrics/backend/index.ts';
import { compileMetricsQuery, groupingSetsSql, type CompiledQuery } from '../../plugins/metrics/backend/metricsQuery.ts';
import { compilePlanned } from '../../plugins/metrics/backend/planner.ts';
import { BENCH_DAYS, BENCH_QUERIES, insertBenchEvents } from './metricsData.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const COMPUTED = { 'cache-control': 'no-cache' };
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function main() {
  const b = await startBenchBackend({ plugins: [metrics] });
  try {
    const s = b.kernel.services;
    const t0 = performance.now();
    await insertBenchEvents(s.analytics.client, s.analytics.database, b.org.id, EVENTS);
    log(`${EVENTS.toLocaleString('en')} events over ${BENCH_DAYS} days inserted in ${Math.round(performance.now() - t0)} ms`);

    let t1 = performance.now();
    const folds = (await b.foldRollups()).filter((f) => f.plugin === 'metrics');
    const watermark = new Date(Math.max(...folds.map((f) => f.to_ms)));
    log(`folded into the metrics rollup in ${Math.round(performance.now() - t1)} ms (${folds.reduce((a, f) => a + f.rows, 0).toLocaleString('en')} rows written)`);

    // an access token lasts 15 minutes, less than inserting and folding 10 M events take on a
    // busy machine: the questions are asked by an Admin logged in now
    const client = await b.org.addUser({ email: `metrics-bench-${Date.now()}@test-org.local`, role: 'Admin' });

    const to = new Date();
    const from = new Date(to.getTime() - 7 * 86_400_000);
    const queries = BENCH_QUERIES;
    const table = (n: string) => `${s.analytics.database}.${n}`;
    const run = async (cs: CompiledQuery[]) => {
      for (const c of cs) {
        // with the settings the route adds to it (one thread for a planned statement)
        const settings = (c.settings ?? '').replace(/^,\s*/, '');
        const r = await s.analytics.client.query({ query: settings ? `${c.sql}\n SETTINGS ${settings}` : c.sql, query_params: { ...c.params, org_id: b.org.id }, format: 'JSONEachRow' });
        await r.json();
      }
    };
    const figures: string[] = [];
    for (const q of queries) {
      const body = { ...q, from: from.toISOString(), to: to.toISOString() };
      const label = `${q.measure}${'field' in q ? `(${q.field})` : ''} by ${q.group_by.join(',')} hourly over 7 days${'tz' in q ? ` in ${q.tz}` : ''}`;
      // the route answers with one ClickHouse query (totals and buckets in one scan, grouping
      // sets): each baseline runs that statement directly
      const oneScan = (c: CompiledQuery | null): CompiledQuery | null => (c ? { ...c, sql: groupingSetsSql(c.sql)! } : null);
      const rawSql = [oneScan(compileMetricsQuery(q as any, { from, to }, table('events')))!];
      const plannedSql = [oneScan(compilePlanned(q as any, { from, to }, table, watermark, null))];
      const modes = [
        ...(plannedSql.every((c) => c) ? [{ name: 'rollups', path: '/api/v1/metrics/query', sql: plannedSql as CompiledQuery[], goal: 100 }] : []),
        { name: 'raw', path: '/api/v1/metrics/query?rollups=false', sql: rawSql, goal: 500 },
      ];
      if (!plannedSql.every((c) => c)) log(`${label}: no rollup answers it exactly (exact quantiles read raw events)`);
      for (const m of modes) {
        await client.post(m.path, body, COMPUTED);
        await run(m.sql);
        const viaRoute: number[] = [];
        const viaSql: number[] = [];
        // CPU time of this process (chDB runs in it, and so does the route): what an answer
        // costs whatever the machine's load, where wall time on a busy machine is mostly waiting
        const cpuRoute: number[] = [];
        const cpuSql: number[] = [];
        const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
        for (let i = 0; i < RUNS; i++) {
          let c0 = process.cpuUsage();
          t1 = performance.now();
          // computed now, not the answer the route remembers from the last run (Cache-Control: no-cache)
          const res = await client.post(m.path, body, COMPUTED);
          if (res.status !== 200) throw new Error(JSON.stringify(res.body));
          viaRoute.push(performance.now() - t1);
          cpuRoute.push(cpuMs(process.cpuUsage(c0)));
          c0 = process.cpuUsage();
          t1 = performance.now();
          await run(m.sql);
          viaSql.push(performance.now() - t1);
          cpuSql.push(cpuMs(process.cpuUsage(c0)));
        }
        // what a dashboard opened again gets until new events arrive: the remembered answer
        await client.post(m.path, body);
        const remembered: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          t1 = performance.now();
          const res = await client.post(m.path, body);
          if (res.headers['x-orrery-answer'] !== 'remembered') throw new Error(`expected a remembered answer, got ${res.headers['x-orrery-answer']}`);
          remembered.push(performance.now() - t1);
        }
        const line = `${label}, ${m.name}: remembered p95 ${pct(remembered, 0.95).toFixed(1)} ms; computed route p50 ${pct(viaRoute, 0.5).toFixed(1)} ms, p95 ${pct(viaRoute, 0.95).toFixed(1)} ms (goal < ${m.goal} ms: ${pct(viaRoute, 0.95) < m.goal ? 'met' : 'MISSED'}); direct SQL p50 ${pct(viaSql, 0.5).toFixed(1)} ms, p95 ${pct(viaSql, 0.95).toFixed(1)} ms; ratio p50 ${(pct(viaRoute, 0.5) / pct(viaSql, 0.5)).toFixed(2)}×, p95 ${(pct(viaRoute, 0.95) / pct(viaSql, 0.95)).toFixed(2)}×; CPU median route ${pct(cpuRoute, 0.5).toFixed(1)} ms, SQL ${pct(cpuSql, 0.5).toFixed(1)} ms (${(pct(cpuRoute, 0.5) / pct(cpuSql, 0.5)).toFixed(2)}×); load ${loadavg()[0]!.toFixed(1)}`;
        log(line);
        figures.push(line);
      }
    }
    // A dashboard's Metric widgets mount together: the questions above asked side by side, one
    // request each (as widgets did), against one POST /query/batch (as they do now); computed answers
    {
      const bodies = queries.map((q) => ({ ...q, from: from.toISOString(), to: to.toISOString() }));
      const each: number[] = [];
      const batch: number[] = [];
      const cpuEach: number[] = [];
      const cpuBatch: number[] = [];
      const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
      for (let i = 0; i < RUNS; i++) {
        let c0 = process.cpuUsage();
        t1 = performance.now();
        const alone = await Promise.all(bodies.map((body) => client.post('/api/v1/metrics/query', body, COMPUTED)));
        each.push(performance.now() - t1);
        cpuEach.push(cpuMs(process.cpuUsage(c0)));
        c0 = process.cpuUsage();
        t1 = performance.now();
        const res = await client.post('/api/v1/metrics/query/batch', { queries: bodies }, COMPUTED);
        batch.push(performance.now() - t1);
        cpuBatch.push(cpuMs(process.cpuUsage(c0)));
        if (res.status !== 200 || JSON.stringify(res.body.answers) !== JSON.stringify(alone.map((a) => a.body))) throw new Error('the batch answered otherwise than the questions alone');
      }
      const line = `the ${bodies.length} questions as a dashboard asks them: ${bodies.length} requests side by side p50 ${pct(each, 0.5).toFixed(1)} ms, p95 ${pct(each, 0.95).toFixed(1)} ms, CPU median ${pct(cpuEach, 0.5).toFixed(1)} ms; one batch request p50 ${pct(batch, 0.5).toFixed(1)} ms, p95 ${pct(batch, 0.95).toFixed(1)} ms, CPU median ${pct(cpuBatch, 0.5).toFixed(1)} ms (batch / separate: wall p50 ${(pct(batch, 0.5) / pct(each, 0.5)).toFixed(2)}×, CPU ${(pct(cpuBatch, 0.5) / pct(cpuEach, 0.5)).toFixed(2)}×); load ${loadavg()[0]!.toFixed(1)}`;
      log(line);
      figures.push(line);
    }
    console.log(`\n${EVENTS.toLocaleString('en')} events, ${RUNS} runs each:\n${figures.join('\n')}`);
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
