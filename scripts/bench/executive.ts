/**
 * The executive view at scale, against a baseline in the same run.
 *
 *   npx tsx scripts/bench/executive.ts                    # 1M invocations, 50 budgets
 *   BENCH_EVENTS=5000000 BENCH_BUDGETS=200 npx tsx scripts/bench/executive.ts
 *
 * Invocations are generated inside ClickHouse (integer formulas over numbers()) over the
 * 60 days before AT: 20 departments, 50 agents, 5 models. Budgets: one for the org, one per
 * department, the rest per agent. Then, through the real routes (HTTP inject, auth,
 * validation, JSON), computed fresh each run:
 *   1. GET /budgets?at (every budget's state: costs in one metrics batch);
 *   2. GET /executive/insights?at (two weeks compared, four rules);
 *   3. GET /executive/overview (KPIs over 7 days and the 7 before, spend, budgets, insights, alerts).
 * Baseline, same data, same run: one bare ClickHouse sum of cost_usd over the month to date —
 * the least any budget answer has to read.
 */
import { startTestBackend } from '@orrery/backend-test-utils';
import executive from '../../plugins/executive/backend/index.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BUDGETS = Math.max(22, Number(process.env.BENCH_BUDGETS ?? 50));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DAYS = 60;
const AT = Date.parse('2026-05-20T13:30:00.000Z');
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

const quantile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
};

async function timed(runs: number, fn: () => Promise<unknown>) {
  const times: number[] = [];
  let last: unknown;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    last = await fn();
    times.push(performance.now() - t);
  }
  return { p50: quantile(times, 0.5), p95: quantile(times, 0.95), last };
}

async function main() {
  const b = await startTestBackend({ plugins: [executive], loadPluginFolders: true, onlyPlugins: ['metrics'], config: { server: { logLevel: 'warn' } } });
  try {
    const s = b.kernel.services;
    const db = s.analytics.database;
    const org = b.org.id;
    await b.org.addUser({ email: 'bench@executive.test', role: 'Developer', departments: Array.from({ length: 20 }, (_, i) => `d${i}`) });
    const deps = Array.from({ length: 20 }, (_, i) => b.org.departments.get(`d${i}`)!);
    const h = (k: number) => `intDiv(((number + ${k}) * ${[2654435761, 2246822519, 3266489917, 668265263, 374761393, 1597334677][k % 6]} + ${k * 7 + 1}) % 4294967296, 65536)`;
    const t0 = performance.now();
    await s.analytics.client.command({
      query: `INSERT INTO ${db}.events (org_id, event_id, event_type, timestamp, department_id, user_id, session_id, agent_name, agent_version, invocation_id, model_used, status, cost_usd, execution_time_ms, input_tokens, output_tokens)
        SELECT '${org}', concat('x', toString(number)), 'agent_invocation',
          fromUnixTimestamp64Milli(toInt64(${AT} - (${h(1)} * 65536 + ${h(2)}) % ${DAYS * 86_400_000}), 'UTC'),
          [${deps.map((d) => `'${d}'`).join(',')}][${h(0)} % 20 + 1],
          concat('u', toString(${h(0)} % 5000)), concat('s', toString(number % 100000)),
          concat('agent-', toString(${h(3)} % 50)), '1', concat('i', toString(number)),
          concat('model-', toString(${h(4)} % 5)),
          if(${h(5)} % 100 < 6, 'failure', 'success'),
          toDecimal64((${h(2)} % 100000) / 1000000, 9), 100 + ${h(4)} % 5000, 100, 20
        FROM numbers(${EVENTS})`,
    });
    log(`${EVENTS.toLocaleString('en-US')} invocations written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const specs = [
      { name: 'org', scope: 'org' },
      ...deps.map((d, i) => ({ name: `dept ${i}`, scope: 'department', scope_id: d })),
      ...Array.from({ length: BUDGETS - 21 }, (_, i) => ({ name: `agent ${i}`, scope: 'agent', scope_id: `agent-${i % 50}` })),
    ];
    for (const [i, spec] of specs.entries()) {
      const r = await b.client.post('/api/v1/budgets', { ...spec, amount_usd: 1000 + i * 10 });
      if (r.status !== 200) throw new Error(JSON.stringify(r.body));
    }
    const at = new Date(AT).toISOString();
    const get = (path: string, q: Record<string, unknown>) => async () => {
      const r = await b.client.get(path, q);
      if (r.status !== 200) throw new Error(`${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const monthStart = '2026-05-01 00:00:00.000';
    const baseline = await timed(RUNS, async () => {
      const res = await s.analytics.client.query({
        query: `SELECT sum(cost_usd) AS c FROM ${db}.events WHERE org_id = '${org}' AND event_type = 'agent_invocation' AND timestamp >= toDateTime64('${monthStart}', 3, 'UTC') AND timestamp < toDateTime64('${at.slice(0, 23).replace('T', ' ')}', 3, 'UTC')`,
        format: 'JSONEachRow',
      });
      return res.json();
    });
    log(`baseline: one bare sum of cost over the month to date p50 ${Math.round(baseline.p50)} ms, p95 ${Math.round(baseline.p95)} ms`);
    const cases: Array<[string, () => Promise<unknown>]> = [
      [`GET /budgets (${specs.length} budgets)`, get('/api/v1/budgets', { at })],
      ['GET /executive/insights', get('/api/v1/executive/insights', { at })],
      ['GET /executive/overview', get('/api/v1/executive/overview', { from: new Date(AT - 7 * 86_400_000).toISOString(), to: at })],
    ];
    for (const [name, fn] of cases) {
      const r = await timed(RUNS, fn);
      log(`${name}: p50 ${Math.round(r.p50)} ms, p95 ${Math.round(r.p95)} ms | ratio p95 ${(r.p95 / baseline.p95).toFixed(1)}× the baseline`);
    }
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
