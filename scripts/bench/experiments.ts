/**
 * Experiment results over 1 M invocations.
 *
 *   npx tsx scripts/bench/experiments.ts                  # 1,000,000 invocations, 20 timed runs each
 *   BENCH_EVENTS=3000000 BENCH_RUNS=30 npx tsx scripts/bench/experiments.ts
 *
 * Invocations of one agent with three versions (two in the experiment, one not)
 * and 20,000 users are generated inside ClickHouse from numbers(), so the rows
 * never pass through Node. Then `GET /api/v1/experiments/{key}/results` is timed
 * (p50/p95 over the runs, after one warm-up) for
 *   1. unit `invocation` (membership and outcome in one scan), metric success rate;
 *   2. unit `user` (membership per user, outcomes joined after first exposure), with CUPED;
 * each against a baseline run in the same process: the bare per-variant
 * aggregation of (1) written by hand and sent straight to chDB, no route, no
 * statistics. Goal: results p95 < 500 ms. Every first-party plugin is loaded (as
 * `npm start` does); the machine's load average is printed with the figures.
 */
import { loadavg } from 'node:os';
import { startBenchBackend } from './backend.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const USERS = 20_000;
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

async function time(label: string, runs: number, fn: () => Promise<void>) {
  await fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = performance.now();
    await fn();
    t.push(performance.now() - a);
  }
  const p50 = quantile(t, 0.5);
  const p95 = quantile(t, 0.95);
  log(`${label}: p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms over ${runs} runs`);
  return { p50, p95 };
}

async function main() {
  const b = await startBenchBackend({ loadPluginFolders: true });
  log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  try {
    const s = b.kernel.services;
    const db = s.analytics.database;
    const h = (k: number) => `intDiv(((number + ${k}) * ${[2654435761, 2246822519, 3266489917, 668265263][k % 4]} + ${k * 7 + 1}) % 4294967296, 65536)`;
    const start = Date.now() - 28 * 86_400_000;
    const t0 = performance.now();
    await s.analytics.client.command({
      query: `INSERT INTO ${db}.events (org_id, event_id, event_type, timestamp, department_id, user_id, session_id, agent_name, agent_version, invocation_id, status, execution_time_ms, input_tokens, output_tokens)
        SELECT '${b.org.id}', concat('b', toString(number)), 'agent_invocation',
          fromUnixTimestamp64Milli(toInt64(${start - 7 * 86_400_000} + ${h(1)} * 65536 % ${35 * 86_400_000})),
          concat('dept-', toString(${h(0)} % 20)),
          concat('u', toString(${h(0)} % ${USERS})),
          's',
          'reviewer',
          ['v1', 'v2', 'v3'][(${h(0)} % ${USERS}) % 3 + 1],
          concat('inv', toString(number)),
          if(${h(2)} % 1000 < if((${h(0)} % ${USERS}) % 3 = 1, 830, 800), 'success', 'failure'),
          500 + ${h(3)} % 3000,
          ${h(2)} % 2000,
          ${h(3)} % 800
        FROM numbers(${EVENTS})`,
    });
    log(`loaded ${EVENTS.toLocaleString()} invocations of ${USERS.toLocaleString()} users in ${(performance.now() - t0).toFixed(0)} ms`);

    const base = {
      name: 'Reviewer v2',
      agent_name: 'reviewer',
      variant_field: 'agent_version',
      variants: [
        { key: 'v1', weight: 50 },
        { key: 'v2', weight: 50 },
      ],
      control: 'v1',
      metrics: [
        { name: 'success_rate', kind: 'proportion', where: { status: 'success' } },
        { name: 'latency', kind: 'mean', field: 'execution_time_ms', guardrail: true },
      ],
      method: 'sequential',
      start_at: new Date(start).toISOString(),
    };
    for (const [key, extra] of [['by-invocation', { unit: 'invocation' }], ['by-user', { unit: 'user', cuped: true }]] as const) {
      const r = await b.client.post('/api/v1/experiments', { ...base, key, ...extra });
      if (r.status !== 200) throw new Error(`create ${key}: ${r.status} ${r.text}`);
    }

    // baseline: the per-variant sums of experiment 1 straight to chDB, nothing around it
    const baselineSql = `SELECT agent_version AS variant, count() AS n, countIf(status = 'success') AS s
      FROM ${db}.events
      WHERE org_id = '${b.org.id}' AND event_type = 'agent_invocation' AND agent_name = 'reviewer'
        AND timestamp >= fromUnixTimestamp64Milli(${start}) AND agent_version IN ('v1', 'v2')
      GROUP BY variant`;
    const baseline = await time('baseline: per-variant sums by hand, straight to chDB', RUNS, async () => {
      await (await s.analytics.client.query({ query: baselineSql, format: 'JSONEachRow' })).json();
    });
    for (const key of ['by-invocation', 'by-user']) {
      let units = 0;
      const r = await time(`GET /experiments/${key}/results?metric=success_rate (+ latency guardrail)`, RUNS, async () => {
        const res = await b.client.get(`/api/v1/experiments/${key}/results`, { metric: 'success_rate' });
        if (res.status !== 200) throw new Error(`results ${key}: ${res.status} ${res.text}`);
        units = res.body.variants.reduce((a: number, v: { units: number }) => a + v.units, 0);
      });
      log(`  ${key}: ${units.toLocaleString()} units; load average ${loadavg()[0]!.toFixed(1)}; p95 ${(r.p95 / baseline.p95).toFixed(1)}× the baseline's; goal p95 < 500 ms: ${r.p95 < 500 ? 'met' : 'MISSED'}`);
    }
  } finally {
    await b.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
