/**
 * Same-run comparison of SQL variants of the knowledge routes on one seeded org: seeds and
 * folds as `knowledge.ts` does, then, for each request file dropped in `$PIECES_DIR` (default
 * /tmp/knowledge-pieces), imports the module it names afresh and runs its exported variants
 * interleaved, printing wall and process CPU (ClickHouse runs in the process) per call and
 * whether each variant's answer equals the first's.
 *
 *   BENCH_SCALE=30 npx tsx scripts/bench/knowledge-pieces.ts
 *   echo '{"module":"/abs/variants.ts","runs":7}' > $PIECES_DIR/req-1.json   # → out-1.txt
 *
 * A variant module exports `variants: Record<string, (a, range, wm) => Promise<unknown>>`.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseTimeRange, type AnalyticsClient } from '@orrery/plugin-sdk';
import { startBenchBackend } from './backend.ts';
import { seedKnowledgeOrg } from './knowledgeSeed.ts';

const SCALE = Math.max(1, Math.floor(Number(process.env.BENCH_SCALE ?? 1)));
const DIR = process.env.PIECES_DIR ?? '/tmp/knowledge-pieces';
const NOW = new Date('2026-03-20T14:37:00Z');
const DAY = 86_400_000;
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

async function main() {
  mkdirSync(DIR, { recursive: true });
  const b = await startBenchBackend({ loadPluginFolders: true, config: { auth: { accessTokenTtlSeconds: 8 * 3600 } } });
  const s = b.kernel.services;
  const ch = s.analytics;
  await seedKnowledgeOrg(b, NOW, SCALE);
  for (let n = -1; n !== 0; ) n = (await b.foldRollups()).reduce((x, y) => x + y.rows, 0);
  log(`seeded ×${SCALE} and folded`);
  const orgId = b.org.id;
  const a: AnalyticsClient = {
    orgId,
    table: (name) => `${ch.database}.${name}`,
    async query<T>(sql: string, params?: Record<string, unknown>) {
      const r = await ch.client.query({ query: sql.replaceAll('{db}', ch.database), query_params: { ...params, org_id: orgId }, format: 'JSONEachRow' });
      return (await r.json()) as T[];
    },
    async insert() { throw new Error('read only'); },
    async command() { throw new Error('read only'); },
  };
  const wm = {
    invocations: new Date(await s.rollups.watermark('knowledge', 'invocation_hours')),
    artifacts: new Date(await s.rollups.watermark('knowledge', 'artifact_events')),
  };
  writeFileSync(`${DIR}/ready`, `${process.pid}\n`);
  for (;;) {
    const req = readdirSync(DIR).find((f) => /^req-.*\.json$/.test(f));
    if (!req) { await new Promise((r) => setTimeout(r, 500)); continue; }
    const id = req.slice(4, -5);
    const { module, runs = 5, stop } = JSON.parse(readFileSync(`${DIR}/${req}`, 'utf8'));
    renameSync(`${DIR}/${req}`, `${DIR}/done-${id}.json`);
    if (stop) break;
    const out: string[] = [];
    try {
      const m = await import(`${pathToFileURL(module).href}?v=${Date.now()}`);
      const variants = Object.entries(m.variants as Record<string, (a: AnalyticsClient, r: unknown, w: typeof wm) => Promise<unknown>>);
      const wall = new Map<string, number[]>(variants.map(([k]) => [k, []]));
      const cpu = new Map<string, number[]>(variants.map(([k]) => [k, []]));
      const answers = new Map<string, string>();
      const loads: number[] = [];
      for (let i = 0; i < runs; i++) {
        const range = parseTimeRange({ from: new Date(NOW.getTime() - 30 * DAY).toISOString(), to: new Date(NOW.getTime() - i - 1).toISOString() }, 30);
        loads.push(loadavg()[0]!);
        for (const [k, fn] of variants) {
          const c = cpuMs(), t = performance.now();
          const ans = await fn(a, range, wm);
          wall.get(k)!.push(performance.now() - t);
          cpu.get(k)!.push(cpuMs() - c);
          if (i === 0) answers.set(k, JSON.stringify(ans));
        }
      }
      const first = answers.get(variants[0]![0]);
      out.push(`×${SCALE}, ${runs} runs, load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; ms`);
      out.push(`${'variant'.padEnd(28)} wall min / median    CPU min / median   same answer`);
      for (const [k] of variants)
        out.push(`${k.padEnd(28)} ${Math.min(...wall.get(k)!).toFixed(0).padStart(6)} / ${med(wall.get(k)!).toFixed(0).padStart(6)}    ${Math.min(...cpu.get(k)!).toFixed(0).padStart(6)} / ${med(cpu.get(k)!).toFixed(0).padStart(6)}   ${answers.get(k) === first}`);
      if (m.show) out.push(...variants.map(([k]) => `${k}: ${answers.get(k)!.slice(0, 600)}`));
    } catch (e) {
      out.push(String((e as Error).stack ?? e));
    }
    writeFileSync(`${DIR}/out-${id}.tmp`, out.join('\n') + '\n');
    renameSync(`${DIR}/out-${id}.tmp`, `${DIR}/out-${id}.txt`);
  }
  await b.close();
  if (existsSync(`${DIR}/ready`)) renameSync(`${DIR}/ready`, `${DIR}/stopped`);
}

main().catch((e) => { console.error(e); process.exit(1); });
