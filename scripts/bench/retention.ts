/**
 * Retention from the activity rollup against raw events, and cohort recomputation.
 *
 *   npx tsx scripts/bench/retention.ts                                   # 2M events, 200k users
 *   BENCH_EVENTS=10000000 BENCH_USERS=1000000 npx tsx scripts/bench/retention.ts
 *   ORRERY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/bench/retention.ts   # members in PostgreSQL, not PGlite
 *   BENCH_PLUGINS=cohorts …                                              # this plugin alone (default: every first-party plugin)
 *
 * 1. Events over the last 16 weeks are generated inside ClickHouse (integer formulas over
 *    numbers(): the rows never pass through Node), then the kernel folds the activity rollup once.
 * 2. Weekly first-time retention over 12 weekly cohorts (12 periods), through the route:
 *    `source=auto` (the bit-mask path over the rollup + raw tail), `source=sets` (the same rollup
 *    merged as quarter-hour sets per user, the previous path) and `source=raw` (the baseline over
 *    raw events), alternated, BENCH_RUNS times each; p50/p95 and the ratios are printed.
 *    Goal: p95 < 1 s from rollups. Then daily retention (28 × 14) the same way, with rolling
 *    24-hour windows (raw events) beside it.
 *    BENCH_SKIP_COHORT=1 stops after the retention figures (step 3 writes members to PGlite).
 * 3. A dynamic cohort of about BENCH_MEMBERS users (did anything in the last N days) is
 *    recomputed twice: first run (everyone joins: members and history written), second run
 *    (nothing changed). Goal: < 5 s for 100k members.
 */
import { loadavg } from 'node:os';
import { startBenchBackend } from './backend.ts';
import cohorts from '../../plugins/cohorts/backend/index.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const USERS = Number(process.env.BENCH_USERS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 100_000);
const DAYS = 16 * 7;
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const ms = (x: number) => `${Math.round(x)} ms`;
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!;

async function main() {
  // every first-party plugin, as `npm start` runs (BENCH_PLUGINS=cohorts: this plugin alone, whose fold is all the run waits for)
  const only = process.env.BENCH_PLUGINS === 'cohorts';
  // a long load outlasts the default 15-minute access token
  const config = { auth: { accessTokenTtlSeconds: 6 * 3600 } };
  const b = await startBenchBackend(only ? { plugins: [cohorts], config } : { loadPluginFolders: true, config });
  log(`plugins: ${only ? 'cohorts only' : 'every first-party plugin'}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  try {
    const s = b.kernel.services;
    // agent work comes in bursts: every event belongs to a session of about an hour, a user has
    // ~8 sessions; a user starts on a day of the 16 weeks and has sessions over a stretch after it
    // whose length shrinks for most (a decaying retention curve)
    const session = `(cityHash64(number, 1) % ${USERS * 8})`;
    const user = `(${session} % ${USERS})`;
    const start = `(cityHash64(${user}, 2) % ${DAYS * 86400})`;
    const stretch = `(cityHash64(${session}, 3) % greatest(1, (${DAYS * 86400} - ${start}) * (${user} % 4 + 1) / 4))`;
    const h = (k: number) => `cityHash64(number, ${k + 10})`;
    const t0 = performance.now();
    await s.analytics.client.command({
      query: `INSERT INTO ${s.analytics.database}.events (org_id, event_id, event_type, action, timestamp, department_id, user_id)
        SELECT '${b.org.id}', concat('b', toString(number)),
          ['agent_invocation', 'command', 'session', 'feature_use'][${h(2)} % 4 + 1], '',
          now64(3) - toIntervalSecond(${DAYS * 86400}) + toIntervalSecond(least(${DAYS * 86400 - 1}, ${start} + ${stretch} + cityHash64(number, 4) % 3600)),
          concat('dept-', toString(${user} % 40)), concat('u', toString(${user}))
        FROM numbers(${EVENTS})`,
      clickhouse_settings: { max_insert_threads: 2 },
    });
    const t1 = performance.now();
    const [{ users, events }] = (await (
      await s.analytics.client.query({ query: `SELECT uniqExact(user_id) AS users, count() AS events FROM ${s.analytics.database}.events WHERE org_id = '${b.org.id}'`, format: 'JSONEachRow' })
    ).json()) as Array<{ users: number; events: number }>;
    log(`loaded ${Number(events).toLocaleString()} events of ${Number(users).toLocaleString()} users over ${DAYS} days in ${ms(t1 - t0)}`);

    const r0 = performance.now();
    await b.foldRollups();
    const [{ rows, parts }] = (await (
      await s.analytics.client.query({
        query: `SELECT count() AS rows, (SELECT count() FROM system.parts WHERE database = '${s.analytics.database}' AND table = 'cohorts_user_months' AND active) AS parts
                  FROM ${s.analytics.database}.cohorts_user_months WHERE org_id = '${b.org.id}'`,
        format: 'JSONEachRow',
      })
    ).json()) as Array<{ rows: number; parts: number }>;
    log(`rollup fold: ${ms(performance.now() - r0)} → ${Number(rows).toLocaleString()} user-month rows in ${parts} parts (${(Number(events) / Number(rows)).toFixed(2)} events per row)`);

    // 12 weekly cohorts: from the Monday 12 weeks ago to this Monday
    const monday = new Date();
    monday.setUTCHours(0, 0, 0, 0);
    monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
    const q = { from: new Date(monday.getTime() - 12 * 7 * 86_400_000).toISOString(), to: monday.toISOString(), period: 'week', periods: 12, mode: 'first_time', start_event: 'any', return_event: 'any' };
    // three answers to one question, alternated: the bit-mask fast path (auto), the same rollup
    // merged as quarter-hour sets per user (the previous path), raw events (the baseline)
    const SOURCES = ['auto', 'sets', 'raw'] as const;
    const times: Record<string, number[]> = { auto: [], sets: [], raw: [] };
    // chDB runs in this process: its CPU time per request is a figure the machine's load moves far less than wall time
    const cpu: Record<string, number[]> = { auto: [], sets: [], raw: [] };
    let first: unknown = null;
    for (let i = 0; i < RUNS + 1; i++) {
      for (const source of SOURCES) {
        const a = performance.now();
        const c0 = process.cpuUsage();
        const res = await b.client.get('/api/v1/cohorts/retention', { ...q, source });
        const took = performance.now() - a;
        const c1 = process.cpuUsage(c0);
        if (res.status !== 200) throw new Error(`retention failed: ${res.status} ${res.text}`);
        if (source === 'auto' && res.body.rollup_path !== 'masks') throw new Error('the bit-mask path was not used');
        if (source === 'sets' && res.body.rollup_path !== 'sets') throw new Error('the sets path was not used');
        // the three must agree, or the timing means nothing
        if (first === null) first = res.body.cohorts;
        else if (JSON.stringify(first) !== JSON.stringify(res.body.cohorts)) throw new Error(`answers differ (${source})`);
        if (i > 0) {
          times[source]!.push(took); // the first round warms caches
          cpu[source]!.push((c1.user + c1.system) / 1000);
        }
      }
    }
    const stat = (src: string) => ({ p50: pct(times[src]!, 0.5), p95: pct(times[src]!, 0.95) });
    const [m, st, rw] = [stat('auto'), stat('sets'), stat('raw')];
    log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    log(
      `weekly retention, 12 cohorts × 12 periods, ${RUNS} runs each: bit-masks p50 ${ms(m.p50)} p95 ${ms(m.p95)}; rollup sets p50 ${ms(st.p50)} p95 ${ms(st.p95)}; ` +
        `raw events p50 ${ms(rw.p50)} p95 ${ms(rw.p95)}; masks/sets p95 ${(m.p95 / st.p95).toFixed(2)}×, masks/raw p95 ${(m.p95 / rw.p95).toFixed(2)}×, sets/raw p95 ${(st.p95 / rw.p95).toFixed(2)}×; ` +
        `goal p95 < 1 s: ${m.p95 < 1000 ? 'met' : 'MISSED'}`,
    );
    const cpu50 = (src: string) => pct(cpu[src]!, 0.5);
    log(
      `  CPU time per request (median, all threads): bit-masks ${ms(cpu50('auto'))}, rollup sets ${ms(cpu50('sets'))}, raw events ${ms(cpu50('raw'))}; ` +
        `masks/sets ${(cpu50('auto') / cpu50('sets')).toFixed(2)}×, masks/raw ${(cpu50('auto') / cpu50('raw')).toFixed(2)}×`,
    );

    // daily retention over rolling 24-hour windows (raw events: the hourly rollup has no instants) against calendar days from the rollup
    {
      const dq = { from: new Date(monday.getTime() - 28 * 86_400_000).toISOString(), to: monday.toISOString(), period: 'day', periods: 14, mode: 'first_time', start_event: 'any', return_event: 'any' };
      const t: Record<string, number[]> = { calendar: [], sets: [], rolling: [] };
      const asks = { calendar: { windows: 'calendar' }, sets: { windows: 'calendar', source: 'sets' }, rolling: { windows: 'rolling' } } as const;
      for (let i = 0; i < RUNS + 1; i++)
        for (const [name, extra] of Object.entries(asks)) {
          const a = performance.now();
          const res = await b.client.get('/api/v1/cohorts/retention', { ...dq, ...extra });
          if (res.status !== 200) throw new Error(`retention failed: ${res.status} ${res.text}`);
          if (i > 0) t[name]!.push(performance.now() - a);
        }
      const p95 = (k: string) => pct(t[k]!, 0.95);
      log(
        `daily retention, 28 cohorts × 14 days, ${RUNS} runs each: calendar bit-masks p50 ${ms(pct(t.calendar!, 0.5))} p95 ${ms(p95('calendar'))}; calendar rollup sets p50 ${ms(pct(t.sets!, 0.5))} p95 ${ms(p95('sets'))}; ` +
          `rolling 24 h (raw) p50 ${ms(pct(t.rolling!, 0.5))} p95 ${ms(p95('rolling'))}; masks/sets p95 ${(p95('calendar') / p95('sets')).toFixed(2)}×, rolling/masks p95 ${(p95('rolling') / p95('calendar')).toFixed(2)}×`,
      );
    }

    if (process.env.BENCH_SKIP_COHORT === '1') return;
    // pick a window whose active users are about MEMBERS
    let days = 7;
    for (const d of [1, 2, 3, 5, 7, 10, 14, 21, 28, 42, 56, 84, 112]) {
      const [{ n }] = (await (
        await s.analytics.client.query({
          query: `SELECT uniqExact(user_id) AS n FROM ${s.analytics.database}.events WHERE org_id = '${b.org.id}' AND timestamp >= now64(3) - toIntervalDay(${d})`,
          format: 'JSONEachRow',
        })
      ).json()) as Array<{ n: number }>;
      days = d;
      if (Number(n) >= MEMBERS) break;
    }
    const made = await b.client.post('/api/v1/cohorts', { name: 'bench active', kind: 'dynamic', criteria: [{ kind: 'performed', event_type: 'any', min_count: 1, days }] });
    if (made.status !== 200) throw new Error(`cohort failed: ${made.text}`);
    log(`dynamic cohort "did anything in the last ${days} days": ${made.body.size.toLocaleString()} members at creation`);
    for (const label of ['recompute (few changes)', 'recompute again']) {
      const a = performance.now();
      const r = await b.client.post(`/api/v1/cohorts/${made.body.id}/recompute`, {});
      const took = performance.now() - a;
      log(`${label}: ${ms(took)} for ${r.body.size.toLocaleString()} members (joined ${r.body.joined}, left ${r.body.left}; find ${ms(r.body.ms.evaluate)}, store ${ms(r.body.ms.store)}); goal < 5 s: ${took < 5000 ? 'met' : 'MISSED'}`);
    }
    // everyone joining at once: the cohort emptied (as of long ago), then brought back
    await b.client.post(`/api/v1/cohorts/${made.body.id}/recompute`, { as_of: '2000-01-01T00:00:00Z' });
    const a = performance.now();
    const r = await b.client.post(`/api/v1/cohorts/${made.body.id}/recompute`, {});
    const took = performance.now() - a;
    log(`recompute where all ${r.body.joined.toLocaleString()} join: ${ms(took)} (find ${ms(r.body.ms.evaluate)}, store ${ms(r.body.ms.store)}); goal < 5 s: ${took < 5000 ? 'met' : 'MISSED'}`);
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
