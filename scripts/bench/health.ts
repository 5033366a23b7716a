/**
 * What the platform's watching of itself costs on the hot paths: the same ingestion and
 * dashboard workloads against two kernels in one process, one as shipped (per-answer
 * recording on, the usage check on every ingestion request) and one with both off
 * (`health.recording: false`, `usage.enabled: false`), in alternating rounds so that the
 * machine's load falls on both alike. Requests go through fastify's inject (no sockets),
 * so the fixed costs of the network are left out and the ratio is the harsher one.
 *
 *   npx tsx scripts/bench/health.ts [rounds=3]
 *
 * Besides the end-to-end ratios (wall and CPU, noisy on a shared machine) it times the
 * recording's own per-answer work alone and relates it to a widget request's CPU.
 *
 * Ingestion: batches of 100 events (the log acknowledges, as in production). Dashboard: a
 * dashboard's worth of widget requests at once (8 GETs, each a ClickHouse query over the
 * org's events), repeated. Goal from the issue: recording costs under 3% (ratio ≥ 0.97).
 */
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { definePlugin } from '@orrery/plugin-sdk';
import healthPlugin from '../../plugins/platform-health/backend/index.ts';

const rounds = Math.max(1, Number(process.argv[2] ?? 3));
const INGEST_BATCHES = 30;
const BATCH = 100;
const DASHBOARDS = 25;
const WIDGETS = 8;

/** a widget-like route: one tenant-bound ClickHouse query per request */
const widgetProbe = definePlugin({
  id: 'bench-widget',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Bench widget',
  description: 'a widget-like route',
  routePrefix: 'bench-widget',
  permissions: { 'bench-widget.read': ['Admin'] },
  register(env) {
    env.route({
      method: 'GET',
      path: '/count',
      permission: 'bench-widget.read',
      summary: 'events per type',
      schema: { querystring: { type: 'object', properties: { i: { type: 'integer' } } }, response: { 200: { type: 'object', properties: { rows: { type: 'array' } } } } },
      handler: async (_req, ctx) => ({ rows: await ctx.analytics.query(`SELECT event_type, count() AS n FROM ${ctx.analytics.table('events')} WHERE org_id = {org_id:String} GROUP BY event_type`) }),
    });
  },
});

async function start(on: boolean): Promise<{ b: TestBackend; hook: string }> {
  const b = await startTestBackend({
    plugins: [healthPlugin, widgetProbe],
    config: {
      health: { recording: on },
      usage: { enabled: on },
      ingestion: { ackAfter: 'log' },
      rateLimits: { enabled: false },
      server: { logLevel: 'warn' },
    },
  });
  return { b, hook: await b.org.hookToken() };
}

let seq = 0;
/** One unit of work, with its wall and CPU time (the process's, chDB's threads included). */
async function timed(fn: () => Promise<void>) {
  const c = process.cpuUsage();
  const t = performance.now();
  await fn();
  const u = process.cpuUsage(c);
  return { wall: performance.now() - t, cpu: (u.user + u.system) / 1000 };
}

async function ingestBatch(k: { b: TestBackend; hook: string }) {
  const events = Array.from({ length: BATCH }, () => ({
    event_id: `b-${seq++}`,
    event_type: 'command',
    command_name: '/deploy',
    status: 'success',
    user_id: `u${seq % 50}`,
    department_id: 'd1',
    session_id: `s${seq % 200}`,
    timestamp: new Date().toISOString(),
  }));
  const r = await k.b.kernel.app.inject({ method: 'POST', url: '/api/v1/events/batch', headers: { authorization: `Bearer ${k.hook}`, 'content-type': 'application/json' }, payload: JSON.stringify({ events }) });
  if (r.statusCode !== 200) throw new Error(`ingest: ${r.statusCode} ${r.body}`);
}

let widgetSeq = 0;
async function dashboard(k: { b: TestBackend }) {
  const answers = await Promise.all(Array.from({ length: WIDGETS }, () => k.b.client.get('/api/v1/bench-widget/count', { i: widgetSeq++ })));
  for (const a of answers) if (a.status !== 200) throw new Error(`dashboard: ${a.status} ${a.text}`);
}

/**
 * The recording's own work per answer, timed alone: what it adds to every request (the
 * answer's windows, the org's API count, and the timing of one PostgreSQL and one
 * ClickHouse query, as a widget request makes).
 */
function hookCostNs(b: TestBackend): number {
  const h = b.kernel.services.health;
  const info = { classKey: 'class:api', pluginKey: 'plugin:bench-widget', routeKey: 'route:GET /api/v1/bench-widget/count', query: true };
  const org = b.org.id;
  const n = 200_000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    h.collector.request(info, org, 3 + (i % 50), 200);
    h.usage.apiCall(org);
    h.collector.storeQuery('database', 0.4 + (i % 7) / 10);
    h.collector.storeQuery('analytics', 2 + (i % 11));
  }
  const ns = Number(process.hrtime.bigint() - t) / n;
  h.collector.takeOrg(org);
  return ns;
}

/** The usage check of one ingestion request (the org's count is in memory), timed alone. */
async function admitCostNs(b: TestBackend): Promise<number> {
  const usage = b.kernel.services.health.usage;
  const org = { id: b.org.id, slug: b.org.slug, name: b.org.slug, schema: b.org.schema };
  await usage.admit(org, 1);
  const n = 100_000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await usage.admit(org, 1);
  return Number(process.hrtime.bigint() - t) / n;
}

async function main() {
  const on = await start(true);
  const off = await start(false);
  const acc = { ingest: { on: { wall: 0, cpu: 0 }, off: { wall: 0, cpu: 0 } }, dash: { on: { wall: 0, cpu: 0 }, off: { wall: 0, cpu: 0 } } };
  const add = (a: { wall: number; cpu: number }, x: { wall: number; cpu: number }) => {
    a.wall += x.wall;
    a.cpu += x.cpu;
  };
  // warm-up (JIT, first queries), not counted
  for (let i = 0; i < 5; i++) for (const k of [on, off]) await ingestBatch(k);
  for (let i = 0; i < 5; i++) for (const k of [on, off]) await dashboard(k);
  // finely interleaved, alternating which goes first: the machine's load falls on both alike
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < INGEST_BATCHES; i++)
      for (const k of (r + i) % 2 ? [off, on] : [on, off]) add(k === on ? acc.ingest.on : acc.ingest.off, await timed(() => ingestBatch(k)));
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < DASHBOARDS; i++)
      for (const k of (r + i) % 2 ? [off, on] : [on, off]) add(k === on ? acc.dash.on : acc.dash.off, await timed(() => dashboard(k)));
  await on.b.runJob('platform-health', 'sample');
  const stats = (await on.b.client.get('/api/v1/admin/system/stats')).body;
  const hookNs = hookCostNs(on.b);
  const admitNs = await admitCostNs(on.b);

  const events = rounds * INGEST_BATCHES * BATCH;
  const requests = rounds * DASHBOARDS * WIDGETS;
  const f0 = (x: number) => x.toFixed(0);
  const f3 = (x: number) => x.toFixed(3);
  const { loadavg } = await import('node:os');
  console.log(`health bench: ${rounds} rounds, ${events} events and ${requests} widget requests per kernel; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const i = acc.ingest;
  console.log(`ingestion (${BATCH}-event batches): on ${f0(events / (i.on.wall / 1000))} events/s, off ${f0(events / (i.off.wall / 1000))} events/s → throughput ratio ${f3(i.off.wall / i.on.wall)}; CPU per event on ${f0((i.on.cpu * 1000) / events)} µs, off ${f0((i.off.cpu * 1000) / events)} µs → ratio ${f3(i.off.cpu / i.on.cpu)}`);
  const d = acc.dash;
  console.log(`dashboard (${WIDGETS} widget requests at once): on ${f0(requests / (d.on.wall / 1000))} req/s, off ${f0(requests / (d.off.wall / 1000))} req/s → throughput ratio ${f3(d.off.wall / d.on.wall)}; CPU per request on ${f0((d.on.cpu * 1000) / requests)} µs, off ${f0((d.off.cpu * 1000) / requests)} µs → ratio ${f3(d.off.cpu / d.on.cpu)}`);
  const perReqOff = (d.off.cpu * 1e6) / requests;
  console.log(`recording alone: ${f0(hookNs)} ns per answer = ${((hookNs / perReqOff) * 100).toFixed(2)}% of a widget request's CPU (${f0(perReqOff / 1000)} µs) → ratio ${f3(perReqOff / (perReqOff + hookNs))}`);
  const perBatchOff = (i.off.cpu * 1e6) / (rounds * INGEST_BATCHES);
  console.log(`usage check alone: ${f0(admitNs)} ns per ingestion request + ${f0(hookNs)} ns recording = ${(((admitNs + hookNs) / perBatchOff) * 100).toFixed(3)}% of a ${BATCH}-event batch's CPU (${f0(perBatchOff / 1000)} µs) → ratio ${f3(perBatchOff / (perBatchOff + admitNs + hookNs))}`);
  console.log(`goal: ratio ≥ 0.97 (recording costs under 3%). The "on" kernel counted ${stats.ingestion.accepted_since_start} events and sampled its series.`);
  await on.b.close();
  await off.b.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
