/**
 * chDB alone, shaped like the platform's ingestion: one MergeTree table of events, an insert of
 * `--rate` / 4 rows every 250 ms (JSONEachRow through the raw insert, as the loader does) and
 * an aggregate over the last minutes every 2 s (as the rollup folds do), for `--seconds`. RSS
 * (anonymous and file-backed), the memory chDB tracks and jemalloc's counters are printed every
 * 10 s, then the least-squares slope of each over the last 4 minutes: what the engine's own
 * memory does at this rate, to set beside the platform's (`ingest-cpu.ts`).
 *
 *   npx tsx scripts/bench/chdb-rss.ts --rate 500 --seconds 300 [--args '["--config-file=…"]']
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '300' },
    args: { type: 'string', default: '[]' },
  },
});
const { Session } = (await import('chdb')) as unknown as { Session: new (path: string, opts?: { connectionArgs?: string[] }) => { query(sql: string, format?: string): string; insert(p: { table: string; columns: string[]; format: string; values: Buffer }): Promise<unknown>; close(): void } };
const dir = mkdtempSync(join(tmpdir(), 'orrery-chdb-rss-'));
const connectionArgs = JSON.parse(args.args) as string[];
const s = new Session(dir, connectionArgs.length ? { connectionArgs } : {});
s.query(`CREATE TABLE ev (org_id String, event_id UUID, ts DateTime64(3), department_id LowCardinality(String), user_id String, agent_name LowCardinality(String), input_tokens UInt32, output_tokens UInt32, execution_time_ms UInt32, status LowCardinality(String), payload String) ENGINE = MergeTree ORDER BY (org_id, ts, event_id)`);
const mb = (b: number) => b / 1024 ** 2;
const kb = (text: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) / 1024;
const rate = Number(args.rate), seconds = Number(args.seconds);
let n = 0;
const t0 = performance.now();
const samples: Array<{ t: number; rss: number; anon: number; file: number; tracked: number; jeResident: number; parts: number }> = [];
const sample = () => {
  const st = readFileSync('/proc/self/status', 'utf8');
  const tracked = Number(JSON.parse(s.query(`SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'`, 'JSONCompact')).data[0][0]);
  const je = s.query(`SELECT stats FROM system.jemalloc_stats`, 'TSVRaw');
  const m = /resident: (\d+)/.exec(je);
  const parts = Number(JSON.parse(s.query(`SELECT count() FROM system.parts WHERE active`, 'JSONCompact')).data[0][0]);
  samples.push({ t: (performance.now() - t0) / 1000, rss: kb(st, 'VmRSS'), anon: kb(st, 'RssAnon'), file: kb(st, 'RssFile'), tracked: mb(tracked), jeResident: m ? mb(Number(m[1])) : NaN, parts });
  const x = samples.at(-1)!;
  console.log(`${x.t.toFixed(0)}s RSS ${x.rss.toFixed(0)} (anon ${x.anon.toFixed(0)}, file ${x.file.toFixed(0)}), chDB tracked ${x.tracked.toFixed(0)}, jemalloc resident ${x.jeResident.toFixed(0)}, parts ${x.parts}, rows ${n}`);
};
const stopAt = t0 + seconds * 1000;
let next = performance.now();
let lastFold = 0, lastSample = 0;
while (performance.now() < stopAt) {
  const rows: string[] = [];
  for (let k = 0; k < rate / 4; k++, n++) {
    rows.push(JSON.stringify({ org_id: 'o1', event_id: randomUUID(), ts: new Date().toISOString().replace('T', ' ').replace('Z', ''), department_id: `dept-${n % 12}`, user_id: `user-${n % 200}`, agent_name: `agent-${n % 8}`, input_tokens: 1200, output_tokens: 300, execution_time_ms: 850, status: 'success', payload: JSON.stringify({ tools_used: ['grep', 'edit'], session_id: `s-${n % 1000}` }) }));
  }
  await s.insert({ table: 'ev', columns: ['org_id', 'event_id', 'ts', 'department_id', 'user_id', 'agent_name', 'input_tokens', 'output_tokens', 'execution_time_ms', 'status', 'payload'], format: 'JSONEachRow', values: Buffer.from(rows.join('\n') + '\n') });
  const now = performance.now();
  if (now - lastFold >= 2000) {
    lastFold = now;
    s.query(`SELECT department_id, agent_name, toStartOfMinute(ts) AS m, count(), sum(input_tokens) FROM ev WHERE org_id = 'o1' AND ts >= now() - INTERVAL 5 MINUTE GROUP BY 1, 2, 3`, 'JSONCompact');
  }
  if (now - lastSample >= 10_000) {
    lastSample = now;
    sample();
  }
  next += 250;
  await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
}
const tail = samples.filter((x) => x.t >= seconds - 240);
const slope = (f: (x: (typeof samples)[number]) => number) => {
  const pts = tail.map((x) => [x.t, f(x)] as const);
  const mt = pts.reduce((a, [t]) => a + t, 0) / pts.length, my = pts.reduce((a, [, y]) => a + y, 0) / pts.length;
  return (pts.reduce((a, [t, y]) => a + (t - mt) * (y - my), 0) / pts.reduce((a, [t]) => a + (t - mt) ** 2, 0)) * 60;
};
console.log(`${n} rows in ${seconds} s (${(n / seconds).toFixed(0)}/s); slopes over the last 240 s, MB/min: RSS ${slope((x) => x.rss).toFixed(2)}, anon ${slope((x) => x.anon).toFixed(2)}, file ${slope((x) => x.file).toFixed(2)}, chDB tracked ${slope((x) => x.tracked).toFixed(2)}, jemalloc resident ${slope((x) => x.jeResident).toFixed(2)}; load ${loadavg()[0]!.toFixed(1)}; args ${JSON.stringify(connectionArgs)}`);
s.close();
rmSync(dir, { recursive: true, force: true });
