/**
 * Where the time of a planned metrics query goes: after the same data as metrics.ts, for each
 * question of metrics.ts, the planned statement whole and each of its arms (rollup pieces, raw
 * edges, rows after the watermark) alone, with `EXPLAIN indexes = 1` of each arm, the parts of
 * each table, and for every statement its wall time and its CPU time. chDB runs inside this
 * process, so the process's CPU time over a statement is what the statement cost, whatever the
 * load of the machine: the figure to compare on a shared machine (wall time is mostly waiting
 * for a core there).
 *
 *   BENCH_EVENTS=1000000 npx tsx scripts/bench/metrics-explain.ts
 *   BENCH_EXPLAIN=1 …  also prints EXPLAIN indexes = 1 of every arm
 */
import { loadavg } from 'node:os';
import { startBenchBackend } from './backend.ts';
import metrics from '../../plugins/metrics/backend/index.ts';
import { compilePlanned } from '../../plugins/metrics/backend/planner.ts';
import { compileMetricsQuery, groupingSetsSql } from '../../plugins/metrics/backend/metricsQuery.ts';
import { BENCH_QUERIES, insertBenchEvents } from './metricsData.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function main() {
  const b = await startBenchBackend({ plugins: [metrics] });
  try {
    const s = b.kernel.services;
    const db = s.analytics.database;
    let t = performance.now();
    await insertBenchEvents(s.analytics.client, db, b.org.id, EVENTS);
    log(`inserted ${EVENTS} in ${Math.round(performance.now() - t)} ms`);
    t = performance.now();
    const folds = (await b.foldRollups()).filter((f) => f.plugin === 'metrics');
    const watermark = new Date(Math.max(...folds.map((f) => f.to_ms)));
    log(`folded in ${Math.round(performance.now() - t)} ms`);
    const q = async (sql: string, params: Record<string, unknown> = {}) => {
      const r = await s.analytics.client.query({ query: sql, query_params: { ...params, org_id: b.org.id }, format: 'JSONEachRow' });
      return (await r.json()) as any[];
    };
    for (const row of await q(`SELECT table, count() AS parts, sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts WHERE database = '${db}' AND active AND (table = 'events' OR table LIKE 'metrics_ev%') GROUP BY table ORDER BY table`)) log(`parts ${JSON.stringify(row)}`);
    const to = new Date();
    const from = new Date(to.getTime() - 7 * 86_400_000);
    const table = (n: string) => `${db}.${n}`;
    /** median wall and CPU time (ms) of a statement over RUNS runs, after one warm-up */
    const time = async (label: string, sql: string, params: Record<string, unknown>) => {
      await q(sql, params);
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await q(sql, params);
        wall.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      log(`  ${label.padEnd(44)} wall median ${med(wall).toFixed(1).padStart(7)} ms, min ${Math.min(...wall).toFixed(1).padStart(7)} ms; CPU median ${med(cpu).toFixed(1).padStart(7)} ms`);
      return med(cpu);
    };
    const load = () => loadavg()[0]!.toFixed(1);
    for (const query of BENCH_QUERIES) {
      log(`${JSON.stringify(query)} (load ${load()})`);
      const planned = compilePlanned(query as any, { from, to }, table, watermark, null);
      const raw = compileMetricsQuery(query as any, { from, to }, table('events'));
      const rawCpu = await time('raw, one scan (the route\'s statement)', groupingSetsSql(raw.sql)!, raw.params);
      if (!planned) {
        log('  no rollup answers it');
        continue;
      }
      const plannedCpu = await time('planned, one scan (the route\'s statement)', `${groupingSetsSql(planned.sql)!}${planned.settings ? ` SETTINGS ${planned.settings.replace(/^,\s*/, '')}` : ''}`, planned.params);
      await time('planned, one scan, default threads', groupingSetsSql(planned.sql)!, planned.params);
      await time('planned, EXPLAIN PLAN only (analysis, no reads)', `EXPLAIN PLAN ${groupingSetsSql(planned.sql)!}`, planned.params);
      log(`  planned / raw CPU: ${(plannedCpu / rawCpu).toFixed(2)}×`);
      const inner = planned.sql.slice(planned.sql.indexOf('FROM (') + 6, planned.sql.lastIndexOf(')'));
      for (const [i, arm] of inner.split('UNION ALL').entries()) {
        await time(`arm ${i} (${/FROM \S+\.(\S+)/.exec(arm)![1]}${arm.includes('inserted_at') ? ', fresh' : ''})`, arm, planned.params);
        if (process.env.BENCH_EXPLAIN) console.log((await q(`EXPLAIN indexes = 1 ${arm}`, planned.params)).map((r) => r.explain).join('\n'));
      }
    }
  } finally {
    await b.close();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
