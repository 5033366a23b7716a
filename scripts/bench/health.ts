/**
 * What the platform's watching of itself costs on the hot paths: the same ingestion and
 * dashboard workloads against two kernels in one process, one as shipped (per-answer
 * recording on, the usage check on every ingestion request) and one with both off
 * (`health.recording: false`, `usage.enabled: false`), in alternating rounds so that the
 * machine's load falls on both alike. Requests go through fastify's inject (no sockets),
 * so the fixed costs of the network are left out and the ratio is the harsher one.
 *
 *   npx tsx scripts/bench/health.ts [rounds=4]
 *
 * Ingestion: batches of 100 events (the log acknowledges, as in production). Dashboard: a
 * dashboard's worth of widget requests at once (8 GETs, each a ClickHouse query over the
 * org's events), repeated. Goal from the issue: recording costs under 3% (ratio ≥ 0.97).
 */
import { startTestBackend, type TestBackend } from '@orrery/plugin-sdk/testing';
import { definePlugin } from '@orrery/plugin-sdk';
import healthPlugin from '../../plugins/platform-health/backend/index.ts';

const rounds = Math.max(1, Number(process.argv[2] ?? 4));
const INGEST_BATCHES = 60;
const BATCH = 100;
const DASHBOARDS = 40;
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
async function ingest(k: { b: TestBackend; hook: string }): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < INGEST_BATCHES; i++) {
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
  return (INGEST_BATCHES * BATCH) / ((performance.now() - t) / 1000);
}

async function dashboard(k: { b: TestBackend }): Promise<number> {
  const t = performance.now();
  for (let d = 0; d < DASHBOARDS; d++) {
    const answers = await Promise.all(Array.from({ length: WIDGETS }, (_, i) => k.b.client.get('/api/v1/bench-widget/count', { i: d * WIDGETS + i })));
    for (const a of answers) if (a.status !== 200) throw new Error(`dashboard: ${a.status} ${a.text}`);
  }
  return (DASHBOARDS * WIDGETS) / ((performance.now() - t) / 1000);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main() {
  const on = await start(true);
  const off = await start(false);
  const res = { ingest: { on: [] as number[], off: [] as number[] }, dash: { on: [] as number[], off: [] as number[] } };
  // a warm-up round for each (JIT, first queries), not counted
  await ingest(on);
  await ingest(off);
  await dashboard(on);
  await dashboard(off);
  for (let r = 0; r < rounds; r++) {
    // alternate which goes first, so a trend in the machine's load does not favour one
    const order = r % 2 ? [off, on] : [on, off];
    for (const k of order) (k === on ? res.ingest.on : res.ingest.off).push(await ingest(k));
    for (const k of order) (k === on ? res.dash.on : res.dash.off).push(await dashboard(k));
  }
  // the recording kernel must have recorded: the sampler writes its series
  await on.b.runJob('platform-health', 'sample');
  const stats = (await on.b.client.get('/api/v1/admin/system/stats')).body;
  const fmt = (x: number) => x.toFixed(0);
  const iOn = median(res.ingest.on);
  const iOff = median(res.ingest.off);
  const dOn = median(res.dash.on);
  const dOff = median(res.dash.off);
  console.log(`health bench, ${rounds} rounds (medians), load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`ingestion, ${BATCH}-event batches: recording on ${fmt(iOn)} events/s, off ${fmt(iOff)} events/s → ratio ${(iOn / iOff).toFixed(3)}  (rounds on: ${res.ingest.on.map(fmt).join(', ')}; off: ${res.ingest.off.map(fmt).join(', ')})`);
  console.log(`dashboard, ${WIDGETS} widget requests at once: recording on ${fmt(dOn)} req/s, off ${fmt(dOff)} req/s → ratio ${(dOn / dOff).toFixed(3)}  (rounds on: ${res.dash.on.map(fmt).join(', ')}; off: ${res.dash.off.map(fmt).join(', ')})`);
  console.log(`goal: ratio ≥ 0.97 (recording costs under 3%). Recorded on the "on" kernel: ${stats.ingestion.accepted_since_start} events counted, answer cache hit ratio ${stats.caches.answers.hit_ratio}`);
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
