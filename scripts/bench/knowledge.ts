/**
 * Server time of the knowledge routes on the demo org (200 people, ~112k events over
 * 30 days, ~1k of them knowledge_artifact), or a multiple of it, against a raw-query
 * baseline measured in the same run.
 *
 *   npx tsx scripts/bench/knowledge.ts [runs=30]
 *   BENCH_SCALE=90 npx tsx scripts/bench/knowledge.ts 20     # ×90: ~10M events
 *   BENCH_ROLLUPS=off …                                       # no fold: the routes read raw events only
 *
 * Every first-party plugin is loaded. After seeding, the kernel's fold job is run to the end
 * (as it would have in production), so the routes read the rollups up to the watermark.
 *
 * Each route is asked for the last 30 days (UTC) `runs` times, one after another, every
 * answer computed: each run moves `to` back by a millisecond, so no answer is remembered
 * (invalidating the org's answers instead would make the platform recompute the answers
 * read so far in the background, timing them too).
 * Requests go through the kernel in-process (`inject`): routing, auth, handler,
 * serialisation. The baseline is the cheapest query that reads the same rows: a count of
 * the org's knowledge_artifact events in the range, straight through the ClickHouse client.
 */
import { startBenchBackend } from './backend.ts';
import { seedKnowledgeOrg } from './knowledgeSeed.ts';

const RUNS = Math.max(1, Number(process.argv[2] ?? 30));
const SCALE = Math.max(1, Math.floor(Number(process.env.BENCH_SCALE ?? 1)));
const NOW = new Date(process.env.BENCH_NOW ?? '2026-03-20T14:37:00Z');
const DAY = 86_400_000;
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, c) => a - c);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function main() {
  const t0 = performance.now();
  // every first-party plugin on, as in production
  // ×90 seeds and folds for longer than the default 15-minute access token
  const b = await startBenchBackend({ loadPluginFolders: true, config: { auth: { accessTokenTtlSeconds: 4 * 3600 } } });
  try {
    const d = await seedKnowledgeOrg(b, NOW, SCALE);
    log(`seeded ${d.events.toLocaleString('en')} events (${d.knowledge.toLocaleString('en')} knowledge_artifact, ×${SCALE}) in ${Math.round(performance.now() - t0)} ms`);
    if (process.env.BENCH_ROLLUPS !== 'off') {
      // the fold job's work, done now: every plugin's rollups take every event seeded
      const tf = performance.now();
      let folded = 0;
      for (let n = -1; n !== 0; folded += n) n = (await b.foldRollups()).reduce((x, y) => x + y.rows, 0);
      log(`rollups of every plugin folded: ${folded.toLocaleString('en')} rows in ${Math.round(performance.now() - tf)} ms`);
    } else log('BENCH_ROLLUPS=off: no fold, every row is read raw');
    const w = { from: new Date(NOW.getTime() - 30 * DAY).toISOString(), to: NOW.toISOString(), tz: 'UTC' };
    const routes: Array<[string, string, Record<string, unknown>]> = [
      ['knowledge/summary', '/api/v1/knowledge/summary', w],
      ['knowledge/experts', '/api/v1/knowledge/experts', { ...w, limit: 20 }],
      ['knowledge/flow', '/api/v1/knowledge/flow', w],
      ['knowledge/timeline (day × dept)', '/api/v1/knowledge/timeline', { ...w, granularity: 'day', by: 'department' }],
      ['knowledge/artifacts/top', '/api/v1/knowledge/artifacts/top', { ...w, sort: 'successful_reuses', limit: 20 }],
      ['knowledge/network', '/api/v1/knowledge/network', w],
      ['knowledge/transfer', '/api/v1/knowledge/transfer', { ...w, weeks: 2 }],
    ];
    const ch = b.kernel.services.analytics;
    const baselineSql = `SELECT count() AS n FROM ${ch.database}.events WHERE org_id = {org_id:String} AND event_type = 'knowledge_artifact'
      AND timestamp >= toDateTime64({from:String}, 3, 'UTC') AND timestamp < toDateTime64({to:String}, 3, 'UTC')`;
    const chTime = (x: string) => x.replace('T', ' ').replace('Z', '');
    const baseline = async () =>
      (await ch.client.query({ query: baselineSql, query_params: { org_id: b.org.id, from: chTime(w.from), to: chTime(w.to) }, format: 'JSONEachRow' })).json();

    for (const [name, path, q] of routes) {
      const res = await b.client.get(path, q);
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.text.slice(0, 300)}`);
    }
    const base: number[] = [];
    const times = new Map<string, number[]>(routes.map(([n]) => [n, []]));
    // interleaved, so that a busy moment of the shared machine hits baseline and routes alike
    for (let i = 0; i < RUNS; i++) {
      let a = performance.now();
      await baseline();
      base.push(performance.now() - a);
      const to = new Date(NOW.getTime() - i - 1).toISOString();
      for (const [name, path, q] of routes) {
        a = performance.now();
        const res = await b.client.get(path, { ...q, to });
        if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.text.slice(0, 300)}`);
        times.get(name)!.push(performance.now() - a);
      }
    }
    const f = (x: number) => x.toFixed(1).padStart(8);
    const b95 = pct(base, 95);
    console.log(`\n${RUNS} runs; ms; ×${SCALE} demo org (${d.events.toLocaleString('en')} events); range ${w.from} … ${w.to}`);
    console.log(`${'request'.padEnd(34)}      p50      p95   p95 / baseline p95`);
    console.log(`${'baseline: raw count of the rows'.padEnd(34)} ${f(pct(base, 50))} ${f(b95)}`);
    for (const [name] of routes) {
      const xs = times.get(name)!;
      console.log(`${name.padEnd(34)} ${f(pct(xs, 50))} ${f(pct(xs, 95))}   ${(pct(xs, 95) / b95).toFixed(1)}×`);
    }
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
