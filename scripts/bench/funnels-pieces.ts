/**
 * Same-run comparison of SQL variants of the funnel query on one seeded org (the pattern of
 * `knowledge-pieces.ts`): seeds the events of `funnels.ts` once, then, for each request file
 * dropped in `$PIECES_DIR` (default /tmp/funnels-pieces), imports the module it names afresh and
 * runs its exported variants interleaved, printing wall and process CPU (ClickHouse runs in the
 * process) per call and whether each variant's answer equals the first's.
 *
 *   BENCH_EVENTS=2000000 BENCH_USERS=200000 npx tsx scripts/bench/funnels-pieces.ts
 *   echo '{"module":"/abs/variants.ts","runs":7,"steps":5}' > $PIECES_DIR/req-1.json   # → out-1.txt
 *
 * A variant module exports `variants: Record<string, (run, plan, events) => Promise<unknown>>`:
 * `run(sql, params)` answers JSON rows, `plan` is the planned `steps`-step ordered funnel of
 * `funnels.ts` over the 30 days, `events` the events table.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { startBenchBackend } from './backend.ts';
import funnels from '../../plugins/funnels/backend/index.ts';
import { planFunnel, type FunnelPlan } from '../../plugins/funnels/backend/funnel/spec.ts';
import { FUNNEL_BENCH_DAYS, FUNNEL_BENCH_END, seedFunnelEvents } from './funnelsSeed.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const USERS = Number(process.env.BENCH_USERS ?? 200_000);
const DIR = process.env.PIECES_DIR ?? '/tmp/funnels-pieces';
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)} load ${loadavg()[0]!.toFixed(1)}] ${msg}`);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

export type Run = (sql: string, params: Record<string, unknown>) => Promise<unknown[]>;

async function main() {
  mkdirSync(DIR, { recursive: true });
  const b = await startBenchBackend({ plugins: [funnels] });
  const ch = b.kernel.services.analytics;
  const t0 = performance.now();
  await seedFunnelEvents(b, EVENTS, USERS);
  log(`seeded ${EVENTS.toLocaleString('en')} events of ${USERS.toLocaleString('en')} users in ${Math.round(performance.now() - t0)} ms`);
  const orgId = b.org.id;
  const run: Run = async (sql, params) => {
    const r = await ch.client.query({ query: sql, query_params: { ...params, org_id: orgId }, format: 'JSONEachRow' });
    return (await r.json()) as unknown[];
  };
  const events = `${ch.database}.events`;
  const plan = (n: number): FunnelPlan =>
    planFunnel({
      steps: Array.from({ length: n }, (_, i) => ({ event_type: 'command', where: { command_name: `/c${i % 10}` } })),
      from: new Date(FUNNEL_BENCH_END - FUNNEL_BENCH_DAYS * 86_400_000).toISOString(),
      to: new Date(FUNNEL_BENCH_END).toISOString(),
      window_seconds: 7 * 86400,
      order: 'ordered',
    } as Parameters<typeof planFunnel>[0]);
  writeFileSync(`${DIR}/ready`, `${process.pid}\n`);
  for (;;) {
    const req = readdirSync(DIR).find((f) => /^req-.*\.json$/.test(f));
    if (!req) { await new Promise((r) => setTimeout(r, 500)); continue; }
    const id = req.slice(4, -5);
    const { module, runs = 5, steps = 5, stop } = JSON.parse(readFileSync(`${DIR}/${req}`, 'utf8'));
    renameSync(`${DIR}/${req}`, `${DIR}/done-${id}.json`);
    if (stop) break;
    const out: string[] = [];
    try {
      const m = await import(`${pathToFileURL(module).href}?v=${Date.now()}`);
      const variants = Object.entries(m.variants as Record<string, (run: Run, plan: FunnelPlan, events: string) => Promise<unknown>>);
      const wall = new Map<string, number[]>(variants.map(([k]) => [k, []]));
      const cpu = new Map<string, number[]>(variants.map(([k]) => [k, []]));
      const answers = new Map<string, string>();
      const loads: number[] = [];
      const p = plan(steps);
      for (let i = 0; i < runs; i++) {
        loads.push(loadavg()[0]!);
        // alternate the order too, so that neither variant always runs right after the other
        for (const [k, fn] of i % 2 ? [...variants].reverse() : variants) {
          const c = cpuMs(), t = performance.now();
          const ans = await fn(run, p, events);
          wall.get(k)!.push(performance.now() - t);
          cpu.get(k)!.push(cpuMs() - c);
          if (i === 0) answers.set(k, JSON.stringify(ans));
        }
      }
      const first = variants[0]![0];
      out.push(`${EVENTS} events, ${USERS} users, ${steps} steps, ${runs} runs, load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; ms`);
      out.push(`${'variant'.padEnd(28)} wall min / median    CPU min / median   CPU ratio   same answer`);
      for (const [k] of variants)
        out.push(`${k.padEnd(28)} ${Math.min(...wall.get(k)!).toFixed(0).padStart(6)} / ${med(wall.get(k)!).toFixed(0).padStart(6)}    ${Math.min(...cpu.get(k)!).toFixed(0).padStart(6)} / ${med(cpu.get(k)!).toFixed(0).padStart(6)}   ${(med(cpu.get(k)!) / med(cpu.get(first)!)).toFixed(2)}×   ${answers.get(k) === answers.get(first)}`);
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
