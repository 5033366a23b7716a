/**
 * Where the time of a planned metrics query goes: after the same data as metrics.ts, each
 * arm of the planned SQL (rollup pieces, raw edges, rows after the watermark) alone, with
 * `EXPLAIN indexes = 1`, the parts of each table, and rows/bytes read per arm.
 *
 *   BENCH_EVENTS=1000000 npx tsx scripts/bench/metrics-explain.ts
 */
import { startBenchBackend } from './backend.ts';
import metrics from '../../plugins/metrics/backend/index.ts';
import { compilePlanned } from '../../plugins/metrics/backend/planner.ts';
import { compileMetricsQuery } from '../../plugins/metrics/backend/metricsQuery.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const DAYS = 30;
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function main() {
  const b = await startBenchBackend({ plugins: [metrics] });
  try {
    const s = b.kernel.services;
    const db = s.analytics.database;
    const h = (k: number) => `intDiv(((number + ${k}) * ${[2654435761, 2246822519, 3266489917, 668265263][k % 4]} + ${k * 7 + 1}) % 4294967296, 65536)`;
    let t = performance.now();
    await s.analytics.client.command({
      query: `INSERT INTO ${db}.events (org_id, event_id, event_type, timestamp, department_id, user_id, agent_name, model_used, status, execution_time_ms, input_tokens, output_tokens, cost_usd)
        SELECT '${b.org.id}', concat('b', toString(number)), 'agent_invocation',
          now64(3) - toIntervalSecond(${h(1)} * 65536 % ${DAYS * 86400}),
          concat('dept-', toString(${h(0)} % 20)), concat('u', toString(${h(0)} % 5000)),
          ['coder', 'reviewer', 'planner', 'sql', 'search', 'triage'][${h(2)} % 6 + 1],
          ['m-small', 'm-large', 'm-mini'][${h(3)} % 3 + 1],
          if(${h(3)} % 100 < 7, 'failure', 'success'),
          (${h(2)} % 5000) + 0.5, ${h(1)} % 3000, ${h(0)} % 800, toDecimal64((${h(3)} % 1000) / 100000, 9)
        FROM numbers(${EVENTS})`,
      clickhouse_settings: { max_insert_threads: 2 },
    });
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
    const query = { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'], granularity: 'hour' } as any;
    const planned = compilePlanned(query, { from, to }, table, watermark, null)!;
    const raw = compileMetricsQuery(query, { from, to }, table('events'));
    const time = async (label: string, sql: string, params: Record<string, unknown>) => {
      await q(sql, params);
      const xs: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t0 = performance.now();
        await q(sql, params);
        xs.push(performance.now() - t0);
      }
      xs.sort((a, b) => a - b);
      log(`${label}: median ${xs[3]!.toFixed(1)} ms, min ${xs[0]!.toFixed(1)} ms`);
    };
    await time('planned, whole', planned.sql, planned.params);
    await time('raw, whole', raw.sql, raw.params);
    const inner = planned.sql.slice(planned.sql.indexOf('FROM (') + 6, planned.sql.lastIndexOf(')'));
    const arms = inner.split('UNION ALL');
    for (const [i, arm] of arms.entries()) {
      await time(`arm ${i} (${/FROM (\S+)/.exec(arm)![1]}${arm.includes('inserted_at') ? ', fresh' : ''})`, arm, planned.params);
      const ex = await q(`EXPLAIN indexes = 1 ${arm}`, planned.params);
      console.log(ex.map((r) => r.explain).join('\n'));
    }
    console.log(planned.sql);
  } finally {
    await b.close();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
