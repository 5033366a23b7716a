/**
 * Server time of the dashboard's data requests of user-activity and adoption, on the
 * demo org that `npm start` loads on a first start (200 people, 8 departments, ~112k
 * events over 30 days), or a multiple of it.
 *
 *   npx tsx scripts/bench/user-activity.ts [runs=30]
 *   BENCH_SCALE=90 npx tsx scripts/bench/user-activity.ts 10    # ×90: ~10M events, 18,000 people
 *   BENCH_SNAPSHOT=/tmp/ua.json npx tsx scripts/bench/user-activity.ts
 *   BENCH_ROLLUPS=off npx tsx scripts/bench/user-activity.ts    # no fold: the routes read raw events only
 *
 * Each route is asked the way its widget asks it (the dashboard's default "last 7 days",
 * minute-aligned, UTC), `runs` times one after another (p50/p95: the route alone), then
 * `runs` times all at once (a dashboard opening: the routes share the event loop and the
 * one chDB session). Requests go through the kernel in-process (`inject`), so the time is
 * the server's: routing, auth, the handler, serialisation.
 *
 * The data is deterministic (seeded generator, fixed ids, fixed dates), so the answers of
 * two runs can be compared: with BENCH_SNAPSHOT the first run writes every answer to the
 * file and later runs compare with it (volatile keys — row ids, timestamps of writes — left
 * out), which is how a faster query is shown to give the same figures.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { TEST_PASSWORD, type TestBackend, type TestClient } from '@orrery/backend-test-utils';
import { startBenchBackend } from './backend.ts';
// The bench seeds the org exactly as the demo loader does (benchmarks may use the kernel; plugins may not).
import { DEMO_DEPARTMENTS, demoEvents, demoUsers } from '../../core/src/demo/generate.ts';
import { hashPassword } from '../../core/src/auth/passwords.ts';

const RUNS = Math.max(1, Number(process.argv[2] ?? 30));
const SCALE = Math.max(1, Math.floor(Number(process.env.BENCH_SCALE ?? 1)));
const SNAPSHOT = process.env.BENCH_SNAPSHOT;
/** "now" of the bench: a minute-aligned instant, so a range is never aligned on days */
const NOW = new Date(process.env.BENCH_NOW ?? '2026-03-20T14:37:00Z');
const DAY = 86_400_000;
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const uuid = (prefix: number, i: number) => `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function seed(b: TestBackend) {
  const s = b.kernel.services;
  const org = b.org;
  const knex = s.knex;
  const deptIds = DEMO_DEPARTMENTS.map((_, i) => uuid(1, i));
  await knex.withSchema(org.schema).table('departments').insert(DEMO_DEPARTMENTS.map((d, i) => ({ id: deptIds[i], name: d.name })));
  const users = demoUsers((i) => uuid(2, i));
  const hash = await hashPassword(TEST_PASSWORD);
  const managerOf = new Set<number>();
  const rows = users.map((u) => {
    const manager = !managerOf.has(u.department);
    if (manager) managerOf.add(u.department);
    return { u, manager };
  });
  await knex.withSchema('public').table('users').insert(users.map((u) => ({ id: u.id, email: u.email, display_name: u.name, password_hash: hash })));
  await knex.withSchema('public').table('memberships').insert(rows.map(({ u, manager }) => ({ org_id: org.id, user_id: u.id, role: manager ? 'Manager' : 'Developer' })));
  await knex.withSchema(org.schema).table('department_members').insert(rows.map(({ u, manager }) => ({ department_id: deptIds[u.department], user_id: u.id, manager })));

  // the demo's 30 days end with NOW's day, and nothing after NOW (as on a first start)
  const today = Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), NOW.getUTCDate());
  const from = new Date(today - 29 * DAY);
  const batch: Record<string, unknown>[] = [];
  for (const day of demoEvents(users, deptIds, from, new Date(today + DAY))) for (const e of day) if ((e.timestamp as number) <= NOW.getTime()) batch.push(e);
  await org.insertEvents(batch);
  if (SCALE > 1) {
    // more people doing the same: copies of every event under other user, session and event ids
    const table = `${s.analytics.database}.events`;
    await s.analytics.client.command({
      query: `INSERT INTO ${table} SELECT e.* REPLACE (concat(event_id, '~', toString(n.number)) AS event_id, concat(user_id, '~', toString(n.number)) AS user_id,
                if(session_id = '', '', concat(session_id, '~', toString(n.number))) AS session_id)
                FROM ${table} AS e CROSS JOIN numbers(1, ${SCALE - 1}) AS n WHERE e.org_id = '${org.id}'`,
      clickhouse_settings: { max_insert_threads: 2 },
    });
  }
  const [{ n }] = (await (await s.analytics.client.query({ query: `SELECT count() AS n FROM ${s.analytics.database}.events WHERE org_id = '${org.id}'`, format: 'JSONEachRow' })).json()) as Array<{ n: number }>;
  // the user the person-level widgets look at: the busiest steady member of Engineering
  const heavy = users.filter((u) => u.department === 0 && u.pattern === 'steady').sort((a, c) => c.intensity - a.intensity)[0]!;
  const manager = rows.find((r) => r.manager && r.u.department === 0)!.u;
  return { events: Number(n), users: users.length * SCALE, heavy, manager };
}

interface Route {
  name: string;
  client: TestClient;
  path: string;
  query?: Record<string, unknown>;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, c) => a - c);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

const VOLATILE = new Set(['id', 'flag_id', 'raised_at', 'updated_at', 'resolved_at', 'computed_at', 'recorded_at', 'shown_at', 'notifications']);
function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE.has(k)).map(([k, x]) => [k, stable(x)]));
  // ids the harness makes at random (the Admin, the org) are not part of an answer's figures
  if (typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v) && !v.startsWith('0000000')) return '<random id>';
  return v;
}

async function main() {
  const t0 = performance.now();
  const b = await startBenchBackend({ loadPluginFolders: true, onlyPlugins: ['user-activity', 'adoption'] });
  try {
    const d = await seed(b);
    log(`seeded ${d.users.toLocaleString('en')} people, ${d.events.toLocaleString('en')} events (×${SCALE}) in ${Math.round(performance.now() - t0)} ms`);
    if (process.env.BENCH_ROLLUPS !== 'off') {
      // the fold job's work, done now: the activity rollup takes every event seeded
      const tf = performance.now();
      let folded = 0;
      for (let n = -1; n !== 0; folded += n) n = (await b.foldRollups()).reduce((x, y) => x + y.rows, 0);
      log(`rollups folded: ${folded.toLocaleString('en')} events in ${Math.round(performance.now() - tf)} ms`);
    } else log('BENCH_ROLLUPS=off: no fold, routes read raw events');
    const to = NOW.toISOString();
    const from = new Date(NOW.getTime() - 7 * DAY).toISOString();
    const days = { from: from.slice(0, 10), to: isoDay(Date.parse(to.slice(0, 10)) + DAY) };
    // adoption scores the days the widgets show (the jobs would have, day by day)
    const t1 = performance.now();
    const r = await b.client.post('/api/v1/adoption/admin/rescore', { from: days.from, to: days.to, flags: true });
    if (r.status !== 200) throw new Error(`rescore: ${r.status} ${r.text}`);
    log(`adoption scored ${days.from} … ${days.to} (flags on) in ${Math.round(performance.now() - t1)} ms`);
    const mgr = await loginAs(b, d.manager.email);
    const admin = b.client;
    const w = { from, to, tz: 'UTC' };
    const month = { from: new Date(NOW.getTime() - 30 * DAY).toISOString(), to, tz: 'UTC' };
    const routes: Route[] = [
      { name: 'metrics/dau, 30 days', client: admin, path: '/api/v1/metrics/dau', query: month },
      { name: 'metrics/dau weekly, 30 days', client: admin, path: '/api/v1/metrics/dau', query: { ...month, granularity: 'week' } },
      { name: 'users/activity', client: admin, path: '/api/v1/users/activity', query: w },
      { name: 'users/engagement', client: admin, path: '/api/v1/users/engagement', query: { ...w, sort: 'events', limit: 20 } },
      { name: 'users/me/analytics', client: admin, path: '/api/v1/users/me/analytics', query: w },
      { name: 'users/{heavy}/analytics', client: admin, path: `/api/v1/users/${d.heavy.id}/analytics`, query: w },
      { name: 'users/commands', client: admin, path: '/api/v1/users/commands', query: w },
      { name: 'users/commands/sequences', client: admin, path: '/api/v1/users/commands/sequences', query: { ...w, n: 2, limit: 5 } },
      { name: 'users/commands/patterns', client: admin, path: '/api/v1/users/commands/patterns', query: { ...w, n: 3, min_sessions: 3, limit: 5 } },
      { name: 'users/commands/overview', client: admin, path: '/api/v1/users/commands/overview', query: { ...w, limit: 10, seq_n: 2, seq_limit: 5, pattern_n: 3, min_sessions: 3, pattern_limit: 5 } },
      { name: 'users/activity/heatmap', client: admin, path: '/api/v1/users/activity/heatmap', query: { ...w, kind: 'hour_weekday' } },
      { name: 'users/activity/heatmap dept×week', client: admin, path: '/api/v1/users/activity/heatmap', query: { ...w, kind: 'department_week' } },
      { name: 'adoption/heatmap', client: admin, path: '/api/v1/adoption/heatmap', query: days },
      { name: 'adoption/flags', client: admin, path: '/api/v1/adoption/flags', query: { status: 'open' } },
      { name: 'adoption/flags (manager)', client: mgr, path: '/api/v1/adoption/flags', query: { status: 'open' } },
      { name: 'adoption/users/me (manager)', client: mgr, path: '/api/v1/adoption/users/me', query: days },
      { name: 'adoption/learning-path', client: admin, path: '/api/v1/adoption/learning-path' },
      { name: 'adoption/roi', client: admin, path: '/api/v1/adoption/roi', query: days },
    ];

    // round trips per request: every ClickHouse query and every SQL statement, with their time
    const trace = { ch: 0, chMs: 0, pg: 0 };
    const ch = b.kernel.services.analytics.client;
    const query = ch.query.bind(ch);
    ch.query = (async (p: any) => {
      const a = performance.now();
      try {
        return await query(p);
      } finally {
        trace.ch++;
        trace.chMs += performance.now() - a;
      }
    }) as typeof ch.query;
    b.kernel.services.knex.on('query', () => trace.pg++);

    const answers: Record<string, unknown> = {};
    const trips = new Map<string, string>();
    for (const rt of routes) {
      Object.assign(trace, { ch: 0, chMs: 0, pg: 0 });
      const a = performance.now();
      const res = await rt.client.get(rt.path, rt.query);
      if (res.status !== 200) throw new Error(`${rt.name}: ${res.status} ${res.text.slice(0, 300)}`);
      trips.set(rt.name, `${String(trace.ch).padStart(3)} CH (${trace.chMs.toFixed(0).padStart(4)} ms) ${String(trace.pg).padStart(3)} PG   first ${(performance.now() - a).toFixed(0)} ms`);
      answers[rt.name] = stable(res.body);
    }
    const alone = new Map<string, number[]>();
    for (const rt of routes) {
      const xs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        // every timed request is computed: as if events had just been committed, no answer is remembered
        b.kernel.services.pluginHost.dataChanged(b.org.id);
        const a = performance.now();
        await rt.client.get(rt.path, rt.query);
        xs.push(performance.now() - a);
      }
      alone.set(rt.name, xs);
    }
    const burst = new Map<string, number[]>(routes.map((rt) => [rt.name, []]));
    const whole: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      b.kernel.services.pluginHost.dataChanged(b.org.id);
      const a = performance.now();
      await Promise.all(
        routes.map(async (rt) => {
          const s = performance.now();
          await rt.client.get(rt.path, rt.query);
          burst.get(rt.name)!.push(performance.now() - s);
        }),
      );
      whole.push(performance.now() - a);
    }

    const f = (x: number) => `${x.toFixed(1).padStart(7)}`;
    console.log(`\n${RUNS} runs; ms; ×${SCALE} demo org (${d.events.toLocaleString('en')} events); range ${from} … ${to}`);
    console.log(`${'route'.padEnd(34)}   alone p50     p95   all-at-once p50     p95   round trips of one request`);
    for (const rt of routes) {
      const a = alone.get(rt.name)!;
      const c = burst.get(rt.name)!;
      console.log(`${rt.name.padEnd(34)} ${f(pct(a, 50))} ${f(pct(a, 95))}           ${f(pct(c, 50))} ${f(pct(c, 95))}   ${trips.get(rt.name)}`);
    }
    console.log(`${'(all of them at once, until the last)'.padEnd(34)} ${''.padStart(15)}           ${f(pct(whole, 50))} ${f(pct(whole, 95))}`);

    if (SNAPSHOT) {
      if (!existsSync(SNAPSHOT)) {
        writeFileSync(SNAPSHOT, JSON.stringify(answers, null, 1));
        log(`answers written to ${SNAPSHOT}`);
      } else {
        const before = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as Record<string, unknown>;
        const differ = routes.filter((rt) => JSON.stringify(before[rt.name]) !== JSON.stringify(answers[rt.name])).map((rt) => rt.name);
        log(differ.length ? `answers DIFFER from ${SNAPSHOT}: ${differ.join(', ')}` : `answers identical to ${SNAPSHOT} (${routes.length} routes)`);
        if (differ.length) {
          writeFileSync(`${SNAPSHOT}.new`, JSON.stringify(answers, null, 1));
          process.exitCode = 1;
        }
      }
    }
  } finally {
    await b.close();
  }
}

async function loginAs(b: TestBackend, email: string): Promise<TestClient> {
  const r = await b.kernel.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: TEST_PASSWORD, org: b.org.slug } });
  if (r.statusCode !== 200) throw new Error(`login as ${email}: ${r.statusCode} ${r.body}`);
  const token = JSON.parse(r.body).access_token as string;
  const get = async (path: string, query?: Record<string, unknown>) => {
    const q = new URLSearchParams(Object.entries(query ?? {}).map(([k, v]) => [k, String(v)])).toString();
    const res = await b.kernel.app.inject({ method: 'GET', url: q ? `${path}?${q}` : path, headers: { authorization: `Bearer ${token}` } });
    let body: any = res.body;
    try {
      body = JSON.parse(res.body);
    } catch {}
    return { status: res.statusCode, body, headers: res.headers as any, text: res.body };
  };
  const no = () => Promise.reject(new Error('the bench only reads'));
  return { token, get, post: no, put: no, patch: no, delete: no };
}

await main();
