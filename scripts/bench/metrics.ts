/**
 * The metrics query at scale: p50/p95 of a grouped hourly query over 7 days from raw
 * events, through `POST /api/v1/metrics/query`, against the same SQL run directly on
 * chDB in the same run (the baseline: what the route adds is validation, bucket filling,
 * JSON and HTTP).
 *
 *   npx tsx scripts/bench/metrics.ts                       # 2M events over 30 days
 *   BENCH_EVENTS=10000000 BENCH_RUNS=30 npx tsx scripts/bench/metrics.ts
 */
import { startBenchBackend } from './backend.ts';
import metrics from '../../plugins/metrics/backend/index.ts';
import { compileMetricsQuery } from '../../plugins/metrics/backend/metricsQuery.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const DAYS = 30;
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function main() {
  const b = await startBenchBackend({ plugins: [metrics] });
  try {
    const s = b.kernel.services;
    const h = (k: number) => `intDiv(((number + ${k}) * ${[2654435761, 2246822519, 3266489917, 668265263][k % 4]} + ${k * 7 + 1}) % 4294967296, 65536)`;
    const t0 = performance.now();
    await s.analytics.client.command({
      query: `INSERT INTO ${s.analytics.database}.events (org_id, event_id, event_type, timestamp, department_id, user_id, agent_name, model_used, status, execution_time_ms, input_tokens, output_tokens, cost_usd)
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
    log(`${EVENTS.toLocaleString('en')} events over ${DAYS} days inserted in ${Math.round(performance.now() - t0)} ms`);

    const to = new Date();
    const from = new Date(to.getTime() - 7 * 86_400_000);
    const queries = [
      { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'], granularity: 'hour' },
      { event_type: 'agent_invocation', measure: 'p95', field: 'execution_time_ms', group_by: ['agent_name'], granularity: 'hour' },
      { event_type: 'agent_invocation', measure: 'rate', rate_where: { status: 'failure' }, group_by: ['model_used'], granularity: 'hour', tz: 'Europe/Berlin' },
    ] as const;
    for (const q of queries) {
      const body = { ...q, from: from.toISOString(), to: to.toISOString() };
      // the route answers with two ClickHouse queries (totals, then buckets): the baseline runs both
      const whole = compileMetricsQuery({ ...(q as any), granularity: undefined }, { from, to }, `${s.analytics.database}.events`);
      const buckets = compileMetricsQuery(q as any, { from, to }, `${s.analytics.database}.events`);
      const direct = async () => {
        for (const c of [whole, buckets]) {
          const r = await s.analytics.client.query({ query: c.sql, query_params: { ...c.params, org_id: b.org.id }, format: 'JSONEachRow' });
          await r.json();
        }
      };
      await b.client.post('/api/v1/metrics/query', body);
      await direct();
      const viaRoute: number[] = [];
      const viaSql: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        let t = performance.now();
        const res = await b.client.post('/api/v1/metrics/query', body);
        if (res.status !== 200) throw new Error(JSON.stringify(res.body));
        viaRoute.push(performance.now() - t);
        t = performance.now();
        await direct();
        viaSql.push(performance.now() - t);
      }
      const label = `${q.measure}${'field' in q ? `(${q.field})` : ''} by ${q.group_by.join(',')} hourly over 7 days${'tz' in q ? ` in ${q.tz}` : ''}`;
      log(`${label}: route p50 ${pct(viaRoute, 0.5).toFixed(1)} ms, p95 ${pct(viaRoute, 0.95).toFixed(1)} ms; direct SQL p50 ${pct(viaSql, 0.5).toFixed(1)} ms, p95 ${pct(viaSql, 0.95).toFixed(1)} ms; ratio p50 ${(pct(viaRoute, 0.5) / pct(viaSql, 0.5)).toFixed(2)}×, p95 ${(pct(viaRoute, 0.95) / pct(viaSql, 0.95)).toFixed(2)}×`);
    }
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
