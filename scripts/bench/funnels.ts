/**
 * Funnels and workflow analytics at scale, each against a baseline in the same run.
 *
 *   npx tsx scripts/bench/funnels.ts                                   # 2M events, 200k users
 *   BENCH_EVENTS=10000000 BENCH_USERS=1000000 npx tsx scripts/bench/funnels.ts   # the issue's size
 *   BENCH_STEPS=5 BENCH_RUNS=3 …                                         # only the 5-step funnel, 3 runs
 *
 * Events are generated inside ClickHouse (integer formulas over numbers(), the rows never
 * pass through Node): commands /c0…/c9, feature uses and workflow runs over 30 days.
 * Timing starts once the engine has no merge running after the bulk load (and again after the
 * fold; the wait is printed), and each funnel gets one untimed, printed first run, as a deployment's
 * queries meet a store in its steady state, not one still merging 10 M freshly written rows.
 * Then, through the real route (HTTP inject, auth, validation, JSON):
 *   1. a 5-step ordered funnel over 30 days, runs × BENCH_RUNS, p50/p95;
 *   2. a 20-step ordered funnel;
 *   3. GET /workflows/{id}/analytics (summary + daily series), computed fresh each run, from
 *      the enrolment rollup (folded before timing) and from raw events (`source=raw`), the
 *      two alternated; the two answers must be equal;
 *   4. GET /workflows (the list) and …/analytics/departments the same way: `auto` (the list from
 *      the derived outcome rows), `merge` (per-user rows of the rollup) and `raw`, alternated.
 * Baselines, same data, same run: ClickHouse's `windowFunnel` on the same steps and window
 * (it has no per-step windows, exclusions, times or anchors in a range, so it answers an
 * easier question), and for 3 the raw path and a plain count of the workflow's events.
 */
import { loadavg } from 'node:os';
import { startBenchBackend } from './backend.ts';
import funnels from '../../plugins/funnels/backend/index.ts';
import { FUNNEL_BENCH_DAYS, FUNNEL_BENCH_END, seedFunnelEvents } from './funnelsSeed.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const USERS = Number(process.env.BENCH_USERS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** which funnel sizes to time (`BENCH_STEPS=5` skips the 20-step one, `none` both) */
const STEP_SIZES = (process.env.BENCH_STEPS ?? '5,20').split(',').map(Number).filter((n) => n >= 2);
// the load average with every line: on a shared machine it says how much the wall clock is stretched
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)} load ${loadavg()[0]!.toFixed(1)}] ${msg}`);

const quantile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
};

async function timed(runs: number, fn: () => Promise<unknown>) {
  const times: number[] = [];
  const cpu: number[] = [];
  let last: unknown;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    last = await fn();
    const used = process.cpuUsage(c);
    times.push(performance.now() - t);
    // chDB runs in this process: its CPU per query is stretched far less by the load than the wall clock
    cpu.push((used.user + used.system) / 1000);
  }
  return { p50: quantile(times, 0.5), p95: quantile(times, 0.95), cpu: quantile(cpu, 0.5), last };
}

/**
 * Waits (up to `maxMs`) until ClickHouse has no merge running: a bulk load of 10 M rows leaves
 * the engine merging its parts for a while, which a deployment's steady state does not have;
 * the wait is printed with the time it took.
 */
async function settle(s: { analytics: { client: { query(o: { query: string; format: 'JSONEachRow' }): Promise<{ json(): Promise<unknown> }> } } }, what: string, maxMs = 120_000) {
  const t = performance.now();
  let n: number;
  for (;;) {
    const rows = (await (await s.analytics.client.query({ query: 'SELECT count() AS n FROM system.merges', format: 'JSONEachRow' })).json()) as Array<{ n: string }>;
    n = Number(rows[0]?.n ?? 0);
    if (n === 0 || performance.now() - t > maxMs) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  log(`${what}: ${n === 0 ? 'no merge running' : `${n} merges still running`} after ${Math.round(performance.now() - t)} ms`);
}

async function main() {
  const b = await startBenchBackend({ plugins: [funnels], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
  try {
    const s = b.kernel.services;
    const db = s.analytics.database;
    const org = b.org.id;
    const end = FUNNEL_BENCH_END;
    const DAYS = FUNNEL_BENCH_DAYS;
    const t0 = performance.now();
    await seedFunnelEvents(b, EVENTS, USERS);
    log(`generated ${EVENTS.toLocaleString()} events of ${USERS.toLocaleString()} users over ${DAYS} days in ${Math.round(performance.now() - t0)} ms`);

    // generating 10 M events on a loaded machine can outlast the Admin's access token
    const client = await b.org.addUser({ email: `bench-${Date.now()}@example.com`, role: 'Admin' });
    const range = { from: new Date(end - DAYS * 86_400_000).toISOString(), to: new Date(end).toISOString() };
    const steps = (n: number) => Array.from({ length: n }, (_, i) => ({ event_type: 'command', where: { command_name: `/c${i % 10}` } }));
    const windowSeconds = 7 * 86400;
    const baseline = async (n: number) => {
      const conds = steps(n).map((st) => `event_type = 'command' AND command_name = '${st.where.command_name}'`);
      const res = await s.analytics.client.query({
        query: `SELECT level, count() AS units FROM (
            SELECT user_id, windowFunnel(${windowSeconds})(toDateTime(timestamp), ${conds.join(', ')}) AS level
            FROM ${db}.events WHERE org_id = '${org}' AND event_type = 'command'
              AND timestamp >= toDateTime64('${range.from.slice(0, 19).replace('T', ' ')}', 3, 'UTC')
              AND timestamp < toDateTime64('${range.to.slice(0, 19).replace('T', ' ')}', 3, 'UTC') + INTERVAL ${windowSeconds} SECOND
            GROUP BY user_id) WHERE level > 0 GROUP BY level ORDER BY level`,
        format: 'JSONEachRow',
      });
      return res.json();
    };
    await settle(s, 'after the load');
    for (const n of STEP_SIZES) {
      const body = { steps: steps(n), ...range, window_seconds: windowSeconds, order: 'ordered' };
      const query = async () => {
        const r = await client.post('/api/v1/funnels/query', body);
        if (r.status !== 200) throw new Error(JSON.stringify(r.body));
        return r.body;
      };
      // one untimed run of each first (the first read of the columns' marks and pages), printed
      const cold = await timed(1, query);
      const coldBase = await timed(1, () => baseline(n));
      log(`${n}-step funnel, first (cold) run: ${Math.round(cold.p50)} ms, windowFunnel ${Math.round(coldBase.p50)} ms`);
      const mine = await timed(RUNS, query);
      const base = await timed(RUNS, () => baseline(n));
      const counts = (mine.last as { steps: Array<{ count: number }> }).steps.map((x) => x.count);
      log(`${n}-step funnel, 30 days: p50 ${Math.round(mine.p50)} ms, p95 ${Math.round(mine.p95)} ms | windowFunnel p50 ${Math.round(base.p50)} ms, p95 ${Math.round(base.p95)} ms | ratio p95 ${(mine.p95 / base.p95).toFixed(2)}× | CPU per query median ${Math.round(mine.cpu)} ms, windowFunnel ${Math.round(base.cpu)} ms (${(mine.cpu / base.cpu).toFixed(2)}×) | step counts ${counts.slice(0, 6).join(', ')}${n > 6 ? ', …' : ''}`);
    }

    // the kernel's job would have folded these long ago: fold them all before timing the rollup reads
    const tf = performance.now();
    let folded = 0;
    for (let n = -1; n !== 0; folded += n) n = (await b.foldRollups()).filter((f) => f.plugin === 'funnels').reduce((x, y) => x + y.rows, 0);
    log(`enrolment rollup folded: ${folded.toLocaleString('en')} outcome events in ${Math.round(performance.now() - tf)} ms`);
    await settle(s, 'after the fold');
    // the process's CPU time per request as well: chDB runs in this process, so it counts the
    // query's work, which the machine's load stretches far less than the wall clock
    const workflowSummaryOnce = async (source: 'auto' | 'merge' | 'raw') => {
      const t = performance.now();
      const c = process.cpuUsage();
      const r = await client.get('/api/v1/workflows/onboarding/analytics', { ...range, granularity: 'day', source }, { headers: { 'cache-control': 'no-cache' } });
      if (r.status !== 200) throw new Error(JSON.stringify(r.body));
      const cpu = process.cpuUsage(c);
      return { ms: performance.now() - t, cpu: (cpu.user + cpu.system) / 1000, body: r.body };
    };
    // alternate the two so that the machine's load weighs on both alike
    const rolled = { times: [] as number[], cpu: [] as number[], last: null as unknown };
    const raw = { times: [] as number[], cpu: [] as number[], last: null as unknown };
    // `merge`: the rollup's per-user rows merged at read time, the read before the derived outcome rows
    const merged = { times: [] as number[], cpu: [] as number[], last: null as unknown };
    for (let i = 0; i < RUNS; i++) {
      for (const [source, acc] of [['auto', rolled], ['merge', merged], ['raw', raw]] as const) {
        const one = await workflowSummaryOnce(source);
        acc.times.push(one.ms);
        acc.cpu.push(one.cpu);
        acc.last = one.body;
      }
    }
    const wfBase = await timed(RUNS, async () =>
      (
        await s.analytics.client.query({
          query: `SELECT action, count() FROM ${db}.events WHERE org_id = '${org}' AND event_type = 'workflow_step' AND workflow_id = 'onboarding' GROUP BY action`,
          format: 'JSONEachRow',
        })
      ).json(),
    );
    const same = JSON.stringify(rolled.last) === JSON.stringify(raw.last) && JSON.stringify(merged.last) === JSON.stringify(raw.last);
    const summary = (rolled.last as { summary: Record<string, number> }).summary;
    const p = (xs: number[], q: number) => Math.round(quantile(xs, q));
    log(
      `workflow summary + daily series: rollup p50 ${p(rolled.times, 0.5)} ms, p95 ${p(rolled.times, 0.95)} ms | raw events p50 ${p(raw.times, 0.5)} ms, p95 ${p(raw.times, 0.95)} ms | ` +
        `ratio p95 rollup/raw ${(quantile(rolled.times, 0.95) / quantile(raw.times, 0.95)).toFixed(3)}× | ` +
        `CPU per request median: rollup ${p(rolled.cpu, 0.5)} ms, raw ${p(raw.cpu, 0.5)} ms (${(quantile(rolled.cpu, 0.5) / quantile(raw.cpu, 0.5)).toFixed(3)}×) | count by action p95 ${Math.round(wfBase.p95)} ms | ` +
        `enrolled ${summary.enrolled}, completed ${summary.completed} | rollup answer ${same ? '=' : '≠'} raw answer`,
    );
    log(
      `derived outcome rows (auto) against the per-user merge (merge), alternated: p50 ${p(rolled.times, 0.5)} / ${p(merged.times, 0.5)} ms, p95 ${p(rolled.times, 0.95)} / ${p(merged.times, 0.95)} ms ` +
        `(${(quantile(rolled.times, 0.95) / quantile(merged.times, 0.95)).toFixed(3)}×), CPU per request median ${p(rolled.cpu, 0.5)} / ${p(merged.cpu, 0.5)} ms (${(quantile(rolled.cpu, 0.5) / quantile(merged.cpu, 0.5)).toFixed(3)}×) | load ${loadavg()[0]!.toFixed(1)}`,
    );
    if (!same) throw new Error('the rollup answer differs from the raw one');

    // 4. the list and the departments, the same way: derived outcome rows (auto) against the
    // per-user merge and raw events, alternated (order reversed every other round)
    for (const [name, path, query] of [
      ['workflow list', '/api/v1/workflows', range],
      ['departments', '/api/v1/workflows/onboarding/analytics/departments', range],
    ] as const) {
      const acc = { auto: { times: [] as number[], cpu: [] as number[], body: '' }, merge: { times: [] as number[], cpu: [] as number[], body: '' }, raw: { times: [] as number[], cpu: [] as number[], body: '' } };
      const order = ['auto', 'merge', 'raw'] as const;
      for (let i = 0; i < RUNS; i++) {
        for (const source of i % 2 ? [...order].reverse() : order) {
          const t = performance.now();
          const c = process.cpuUsage();
          const r = await client.get(path, { ...query, source }, { headers: { 'cache-control': 'no-cache' } });
          if (r.status !== 200) throw new Error(JSON.stringify(r.body));
          const cpu = process.cpuUsage(c);
          acc[source].times.push(performance.now() - t);
          acc[source].cpu.push((cpu.user + cpu.system) / 1000);
          acc[source].body = JSON.stringify(r.body);
        }
      }
      const equal = acc.auto.body === acc.merge.body && acc.merge.body === acc.raw.body;
      const fig = (k: keyof typeof acc) => `p50 ${p(acc[k].times, 0.5)} ms, p95 ${p(acc[k].times, 0.95)} ms, CPU median ${p(acc[k].cpu, 0.5)} ms`;
      log(
        `${name}: auto ${fig('auto')} | merge ${fig('merge')} | raw ${fig('raw')} | auto/merge p95 ${(quantile(acc.auto.times, 0.95) / quantile(acc.merge.times, 0.95)).toFixed(3)}×, ` +
          `CPU ${(quantile(acc.auto.cpu, 0.5) / quantile(acc.merge.cpu, 0.5)).toFixed(3)}× | answers ${equal ? 'equal' : 'DIFFER'} | load ${loadavg()[0]!.toFixed(1)}`,
      );
      if (!equal) throw new Error(`${name}: the answers of auto, merge and raw differ`);
    }
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
