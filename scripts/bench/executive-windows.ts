/**
 * The executive KPIs' and insights' reads: a period and the one before it read one range at a
 * time (what the KPIs run, and what the insights ran before the metrics service had
 * `runWindows`) against both ranges in one read (`runWindows`, what the insights run now; for
 * the KPIs it measured no cheaper, so they stay on two statements), alternated in the same process,
 * several rounds, with wall time and this process's CPU time (chDB runs in it) per variant.
 *
 *   npx tsx scripts/bench/executive-windows.ts            # 160,000 invocations over 30 days (about the demo month)
 *   BENCH_EVENTS=1000000 BENCH_ROUNDS=12 npx tsx scripts/bench/executive-windows.ts
 *
 * Old KPIs: two batches (7 days, the 7 before), side by side. Old insights: cost per (agent,
 * model), invocations per (agent, status) and people per department, each for both weeks: six
 * statements side by side (the old cost reads went through `run`, which may answer from the
 * metrics rollups; here all six are raw reads, so this compares statement counts over the same
 * rows, not the rollup path). New: one statement for the KPIs, two for the
 * insights (invocations and cost per agent, model and status; people per department).
 * Also GET /executive/kpis and /executive/insights through the routes (the code as it is).
 */
import { loadavg } from 'node:os';
import { startTestBackend } from '@orrery/backend-test-utils';
import type { AnalyticsClient } from '@orrery/plugin-sdk';
import executive from '../../plugins/executive/backend/index.ts';
import { KPIS } from '../../plugins/executive/backend/kpis.ts';
import { runMetricsBatch, runMetricsWindows, type MetricsQuery } from '../../plugins/metrics/backend/metricsQuery.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 160_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const DAYS = 30;
const AT = Date.parse('2026-05-20T13:30:00.000Z');
const DAY = 86_400_000;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const b = await startTestBackend({ plugins: [executive], loadPluginFolders: true, onlyPlugins: ['metrics'], config: { server: { logLevel: 'warn' } } });
try {
  const s = b.kernel.services;
  const db = s.analytics.database;
  const org = b.org.id;
  await b.org.addUser({ email: 'bench@executive.test', role: 'Developer', departments: Array.from({ length: 8 }, (_, i) => `d${i}`) });
  const deps = Array.from({ length: 8 }, (_, i) => b.org.departments.get(`d${i}`)!);
  const h = (k: number) => `intDiv(((number + ${k}) * ${[2654435761, 2246822519, 3266489917, 668265263, 374761393, 1597334677][k % 6]} + ${k * 7 + 1}) % 4294967296, 65536)`;
  await s.analytics.client.command({
    query: `INSERT INTO ${db}.events (org_id, event_id, event_type, timestamp, department_id, user_id, session_id, agent_name, agent_version, invocation_id, model_used, status, cost_usd, execution_time_ms, input_tokens, output_tokens)
      SELECT '${org}', concat('x', toString(number)), 'agent_invocation',
        fromUnixTimestamp64Milli(toInt64(${AT} - (${h(1)} * 65536 + ${h(2)}) % ${DAYS * DAY}), 'UTC'),
        [${deps.map((d) => `'${d}'`).join(',')}][${h(0)} % 8 + 1],
        concat('u', toString(${h(0)} % 200)), concat('s', toString(number % 10000)),
        concat('agent-', toString(${h(3)} % 12)), '1', concat('i', toString(number)),
        concat('model-', toString(${h(4)} % 4)),
        if(${h(5)} % 100 < 6, 'failure', 'success'),
        toDecimal64((${h(2)} % 100000) / 1000000, 9), 100 + ${h(4)} % 5000, 100, 20
      FROM numbers(${EVENTS})`,
  });
  const analytics: AnalyticsClient = {
    orgId: org,
    table: (name) => `${db}.${name}`,
    async query<T>(sql: string, params: Record<string, unknown> = {}) {
      const r = await s.analytics.client.query({ query: sql, query_params: { ...params, org_id: org }, format: 'JSONEachRow' });
      return (await r.json()) as T[];
    },
    insert: async () => undefined,
    command: async () => undefined,
  };
  const cur = { from: new Date(AT - 7 * DAY), to: new Date(AT) };
  const prev = { from: new Date(AT - 14 * DAY), to: new Date(AT - 7 * DAY) };
  const inv = 'agent_invocation';
  const kpiDefs = KPIS.flatMap((k) => k.queries) as MetricsQuery[];
  const variants: Record<string, () => Promise<unknown>> = {
    'KPIs, old (2 statements)': () => Promise.all([runMetricsBatch(analytics, kpiDefs, cur), runMetricsBatch(analytics, kpiDefs, prev)]),
    'KPIs, new (1 statement)': () => runMetricsWindows(analytics, kpiDefs, [cur, prev]),
    'insights, old (6 statements)': () =>
      Promise.all(
        [cur, prev].flatMap((r) => [
          runMetricsBatch(analytics, [{ event_type: inv, measure: 'sum', field: 'cost_usd', group_by: ['agent_name', 'model_used'] }], r),
          runMetricsBatch(analytics, [{ event_type: inv, measure: 'count', group_by: ['agent_name', 'status'] }], r),
          runMetricsBatch(analytics, [{ event_type: inv, measure: 'users', group_by: ['department_id'] }], r),
        ]),
      ),
    'insights, new (2 statements)': () =>
      runMetricsWindows(
        analytics,
        [
          { event_type: inv, measure: 'count', group_by: ['agent_name', 'model_used', 'status'] },
          { event_type: inv, measure: 'sum', field: 'cost_usd', group_by: ['agent_name', 'model_used', 'status'] },
          { event_type: inv, measure: 'users', group_by: ['department_id'] },
        ],
        [cur, prev],
      ),
    'GET /executive/kpis (route)': async () => {
      const r = await b.client.get('/api/v1/executive/kpis', { from: cur.from.toISOString(), to: cur.to.toISOString() });
      if (r.status !== 200) throw new Error(JSON.stringify(r.body));
    },
    'GET /executive/insights (route)': async () => {
      const r = await b.client.get('/api/v1/executive/insights', { at: cur.to.toISOString() });
      if (r.status !== 200) throw new Error(JSON.stringify(r.body));
    },
  };
  const names = Object.keys(variants);
  for (const n of names) await variants[n]!(); // warm-up
  const wall = new Map<string, number[]>(names.map((n) => [n, []]));
  const cpu = new Map<string, number[]>(names.map((n) => [n, []]));
  const loads = [load()];
  for (let round = 0; round < ROUNDS; round++) {
    // alternate, and flip the order every round
    for (const n of round % 2 ? [...names].reverse() : names) {
      const c = process.cpuUsage();
      const t = performance.now();
      await variants[n]!();
      wall.get(n)!.push(performance.now() - t);
      const d = process.cpuUsage(c);
      cpu.get(n)!.push((d.user + d.system) / 1000);
    }
  }
  loads.push(load());
  console.log(`${EVENTS.toLocaleString('en-US')} invocations over ${DAYS} days; ${ROUNDS} alternated rounds; load average ${loads.join(' → ')}`);
  console.log('median wall ms, median process CPU ms (chDB runs in this process):');
  for (const n of names) console.log(`  ${median(wall.get(n)!).toFixed(1).padStart(8)} ${median(cpu.get(n)!).toFixed(1).padStart(8)}  ${n}`);
  const ratio = (a: string, o: string) => `wall ${(median(wall.get(a)!) / median(wall.get(o)!)).toFixed(2)}×, CPU ${(median(cpu.get(a)!) / median(cpu.get(o)!)).toFixed(2)}×`;
  console.log(`new/old: KPIs ${ratio(names[1]!, names[0]!)}; insights' reads ${ratio(names[3]!, names[2]!)}`);
} finally {
  await b.close();
}
