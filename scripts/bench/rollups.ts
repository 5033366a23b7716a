/**
 * Rollup lag and route latency while events keep arriving.
 *
 * Starts the kernel with agent-analytics and user-activity (embedded stores, the fold job on its
 * schedule), loads a base of invocations and folds them, then inserts `--rate` invocations a
 * second (timestamps spread over the last 30 days, so most are late) for `--seconds`, and
 * meanwhile samples:
 *
 * - rollup lag: now − watermark of each rollup, every 200 ms (the watermark is now − grace when
 *   a fold starts, so the lag is at least the grace, plus the wait for the next fold, plus its
 *   duration);
 * - the `/api/v1/agents` route over 7 days (computed each time: `Cache-Control: no-cache`) and
 *   the same question on raw events only, in the same run.
 *
 *   npx tsx scripts/bench/rollups.ts [--base 500000] [--rate 2000] [--seconds 60] [--grace 2000] [--every 2]
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { startTestBackend } from '@orrery/backend-test-utils';
import agents from '../../plugins/agent-analytics/backend/index.ts';
import userActivity from '../../plugins/user-activity/backend/index.ts';
import { invocationMetrics } from '../../plugins/agent-analytics/backend/query.ts';

const { values: args } = parseArgs({
  options: { base: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' }, grace: { type: 'string' }, every: { type: 'string' } },
});
const num = (v: string | undefined, d: number, name: string) => {
  const n = Number(v ?? d);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: expected a number ≥ 0, got ${v}`);
  return n;
};
const BASE = num(args.base, 500_000, 'base');
const RATE = num(args.rate, 2000, 'rate');
const SECONDS = num(args.seconds, 60, 'seconds');
const GRACE = num(args.grace, 2000, 'grace');
const EVERY = num(args.every, 2, 'every');

const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};
const f = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : '–');

async function main() {
  const b = await startTestBackend({
    plugins: [agents, userActivity],
    listen: true,
    scheduleJobs: true,
    config: { rollups: { graceMs: GRACE, everySeconds: EVERY } },
  });
  const s = b.kernel.services;
  const db = s.analytics.database as string;
  let serial = 0;
  const insert = async (n: number) => {
    const off = serial;
    serial += n;
    await s.analytics.client.command({
      query: `INSERT INTO ${db}.events (org_id, event_id, event_type, timestamp, user_id, department_id, agent_name, agent_version, model_used,
                prompt_template_version, status, error_type, input_tokens, output_tokens, execution_time_ms, cost_usd)
              SELECT {org:String}, concat('b', toString(number + ${off})), 'agent_invocation', now64(3) - toIntervalMillisecond(rand() % ${30 * 86_400_000}),
                concat('u', toString(rand(1) % 500)), concat('d', toString(rand(2) % 8)), concat('agent-', toString(rand(3) % 8)), concat('v', toString(rand(4) % 3)),
                ['m-small', 'm-mid', 'm-large'][rand(5) % 3 + 1], concat('p', toString(rand(6) % 4)), if(rand(7) % 10 = 0, 'failure', 'success'),
                if(rand(7) % 10 = 0, 'timeout', ''), rand(8) % 4000, rand(9) % 2000, rand(10) % 5000, toDecimal64((rand(11) % 1000) / 100000, 9)
              FROM numbers(${n})`,
      query_params: { org: b.org.id },
    });
  };

  log(`loading ${BASE.toLocaleString()} base invocations; the scheduled folds take them`);
  for (let done = 0; done < BASE; done += 250_000) await insert(Math.min(250_000, BASE - done));
  // caught up: both watermarks past the end of the load (the folds run on their timer meanwhile)
  const loaded = Date.now();
  const t0 = performance.now();
  for (;;) {
    const w = await Promise.all([s.rollups.watermark('agent-analytics', 'invocations'), s.rollups.watermark('user-activity', 'activity')]);
    if (Math.min(...w) >= loaded) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const catchUp = (performance.now() - t0) / 1000;
  log(`caught up ${catchUp.toFixed(1)} s after the load ended (${BASE.toLocaleString()} invocations, two rollups)`);

  const lag: Record<string, number[]> = {};
  const route: number[] = [];
  const raw: number[] = [];
  const now = () => new Date();
  const week = () => ({ from: new Date(Date.now() - 7 * 86_400_000).toISOString(), to: now().toISOString() });
  let stop = false;
  const analytics = s.analytics.forOrg(b.org.id, 'bench');

  const ingest = (async () => {
    const tick = 100;
    while (!stop) {
      const t = performance.now();
      await insert(Math.max(1, Math.round((RATE * tick) / 1000)));
      await new Promise((r) => setTimeout(r, Math.max(0, tick - (performance.now() - t))));
    }
  })();
  const sample = (async () => {
    while (!stop) {
      for (const [plugin, rollup] of [['agent-analytics', 'invocations'], ['user-activity', 'activity']] as const) {
        (lag[`${plugin}/${rollup}`] ??= []).push(Date.now() - (await s.rollups.watermark(plugin, rollup)));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const reads = (async () => {
    while (!stop) {
      const q = week();
      let t = performance.now();
      const res = await b.client.get('/api/v1/agents', q, { headers: { 'cache-control': 'no-cache' } });
      if (res.status !== 200) throw new Error(`/api/v1/agents: ${res.status} ${res.text}`);
      route.push(performance.now() - t);
      t = performance.now();
      const range = { from: new Date(q.from), to: new Date(q.to), fromCh: q.from.replace('T', ' ').replace('Z', ''), toCh: q.to.replace('T', ' ').replace('Z', ''), tz: 'UTC' };
      await invocationMetrics(analytics, { range, filters: {}, groupBy: ['agent_name'], source: 'raw' }, new Date(0));
      raw.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  log(`inserting ${RATE.toLocaleString()} invocations/s for ${SECONDS} s (grace ${GRACE} ms, a fold every ${EVERY} s); load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stop = true;
  await Promise.all([ingest, sample, reads]);
  const status = await s.rollups.status();

  console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (1, 5, 15 min; other processes share the 2 cores)`);
  console.log(`events inserted during the run: ${(serial - BASE).toLocaleString()} (${Math.round((serial - BASE) / SECONDS).toLocaleString()}/s asked ${RATE.toLocaleString()}/s)`);
  for (const [k, xs] of Object.entries(lag)) console.log(`rollup lag ${k.padEnd(32)} p50 ${f(pct(xs, 0.5))} ms  p99 ${f(pct(xs, 0.99))} ms  max ${f(Math.max(...xs))} ms  (${xs.length} samples)`);
  console.log(`lag at the end of each fold (now − watermark)   p50 ${f(status.lag_ms.p50 ?? NaN)} ms  p99 ${f(status.lag_ms.p99 ?? NaN)} ms`);
  console.log(`GET /api/v1/agents, 7 days (rollups + fresh raw)  p50 ${f(pct(route, 0.5))} ms  p95 ${f(pct(route, 0.95))} ms  (${route.length} requests, inject, client-side)`);
  console.log(`same question on raw events only              p50 ${f(pct(raw, 0.5))} ms  p95 ${f(pct(raw, 0.95))} ms  → raw/route p50 ${(pct(raw, 0.5) / pct(route, 0.5)).toFixed(1)}×`);
  await b.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
