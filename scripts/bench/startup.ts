/**
 * Cold start to /ready on the embedded defaults, with demo data already
 * loaded, and the idle process's memory. Baseline in the same run: a bare
 * fastify process answering /ready, started the same way.
 *
 *   npx tsx scripts/bench/startup.ts [runs=3]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const runs = Number(process.argv[2] ?? 3);
const dataDir = mkdtempSync(join(tmpdir(), 'orrery-bench-startup-'));
let port = 7400 + Math.floor(Math.random() * 400);

function start(cmd: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, cmd, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function untilReady(url: string, child: ChildProcess, limitMs = 120_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.status === 200) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out');
}

const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

async function stop(child: ChildProcess) {
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

const orrery = (p: number) => start(['--import', 'tsx', 'core/src/main.ts'], { PORT: String(p), ORRERY_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ORRERY_ADMIN_PASSWORD: 'Bench-password-2026!' });

const bare = join(dataDir, 'bare.mjs');
writeFileSync(bare, `import Fastify from '${join(root, 'node_modules', 'fastify', 'fastify.js')}';\nconst app = Fastify();\napp.get('/ready', async () => ({ status: 'ready' }));\nawait app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });\n`);

console.log('loading demo data into a fresh data folder (first start)…');
{
  const p = port++;
  const c = orrery(p);
  const ms = await untilReady(`http://127.0.0.1:${p}/ready`, c, 300_000);
  console.log(`first start incl. migrations and demo data: ${ms.toFixed(0)} ms`);
  await stop(c);
}

const orreryTimes: number[] = [];
const bareTimes: number[] = [];
let idleRss = 0;
let bareRss = 0;
for (let i = 0; i < runs; i++) {
  const p = port++;
  const c = orrery(p);
  orreryTimes.push(await untilReady(`http://127.0.0.1:${p}/ready`, c));
  await new Promise((r) => setTimeout(r, 3000));
  idleRss = Math.max(idleRss, rssMb(c.pid!));
  await stop(c);
  const q = port++;
  const b = start([bare], { PORT: String(q) });
  bareTimes.push(await untilReady(`http://127.0.0.1:${q}/ready`, b));
  await new Promise((r) => setTimeout(r, 1000));
  bareRss = Math.max(bareRss, rssMb(b.pid!));
  await stop(b);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const o = median(orreryTimes);
const b = median(bareTimes);
console.log(`cold start to /ready (demo data loaded), median of ${runs}: ${o.toFixed(0)} ms  (goal < 3000 ms)`);
console.log(`bare fastify to /ready, same run:          ${b.toFixed(0)} ms  → ratio ${(o / b).toFixed(2)}×`);
console.log(`idle RSS: ${idleRss.toFixed(0)} MB (bare fastify ${bareRss.toFixed(0)} MB → ratio ${(idleRss / bareRss).toFixed(2)}×)`);
rmSync(dataDir, { recursive: true, force: true });
