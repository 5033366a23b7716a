/**
 * What ingestion keeps in memory per accepted event, measured without a load generator: the
 * platform (every first-party plugin on, embedded stores, as `ingest.ts` starts it) runs in this
 * process, `--events` single events go through `POST /api/v1/events` by `inject` (no sockets),
 * the loader catches up, and the live V8 heap after a full collection is compared with the one
 * before the events. Run with `--expose-gc`:
 *
 *   node --expose-gc --import tsx scripts/bench/ingest-memory.ts --events 50000
 *
 * Pass the same command to another checkout to compare (its `scripts/bench/ingest-memory.ts`
 * may not exist: copy this file there).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '50000' }, concurrency: { type: 'string', default: '64' } } });
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const PASSWORD = 'Bench-passw0rd-orrery!';

const dataDir = mkdtempSync(join(tmpdir(), 'orrery-mem-'));
const { createKernel } = await import('../../core/src/kernel.ts');
const { kernelModules } = await import('../../core/src/modules.ts');
const { ingestionModule } = await import('../../core/src/ingestion/index.ts');
const kernel = await createKernel({
  load: {
    file: '/nonexistent/app-config.yaml',
    overrides: {
      server: { host: '127.0.0.1', port: 0, logLevel: 'warn' },
      storage: { dataDir },
      bootstrap: { org: 'bench', adminEmail: 'admin@bench.local', adminPassword: PASSWORD, demoData: false },
    },
  },
  modules: kernelModules.some((m) => m.name === 'ingestion') ? [] : [ingestionModule],
});
await kernel.listen();
const app = kernel.app as unknown as import('fastify').FastifyInstance;
const host = (kernel.services as unknown as { pluginHost: { jobsFirstRuns(): Promise<void> } }).pluginHost;
await host.jobsFirstRuns();

const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'admin@bench.local', password: PASSWORD } });
const access = login.json().access_token as string;
const hook = (await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { authorization: `Bearer ${access}` }, payload: { name: 'bench', kind: 'hook' } })).json().token as string;

function event(i: number) {
  return {
    event_id: randomUUID(), event_type: 'agent_invocation', timestamp: new Date().toISOString(),
    department_id: `dept-${i % 12}`, user_id: `user-${i % 200}`, session_id: `s-${i % 1000}`, agent_name: `agent-${i % 8}`,
    agent_version: '1.0.0', invocation_id: randomUUID(), model_used: 'claude-sonnet-4-5', input_tokens: 1200, output_tokens: 300,
    execution_time_ms: 850, status: 'success', tools_used: ['grep', 'edit'],
  };
}
const ready = async () => (await app.inject({ method: 'GET', url: '/ready' })).json().ingestion ?? { backlog_rows: 0 };
async function settle() {
  while ((await ready()).backlog_rows > 0) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  for (let k = 0; k < 3; k++) { gc!(); await new Promise((r) => setImmediate(r)); }
  return process.memoryUsage();
}

// a first round warms every code path and cache, so the measured round holds only what events leave behind
const n = Number(args.events);
let sent = 0, accepted = 0;
async function send(count: number) {
  const end = sent + count;
  await Promise.all(Array.from({ length: Number(args.concurrency) }, async () => {
    while (sent < end) {
      const r = await app.inject({ method: 'POST', url: '/api/v1/events', headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' }, payload: JSON.stringify(event(sent++)) });
      if (r.statusCode === 202) accepted++;
    }
  }));
}
await send(Math.min(5000, n));
const m0 = await settle();
const a0 = accepted;
const t0 = performance.now();
await send(n);
const secs = (performance.now() - t0) / 1000;
const m1 = await settle();
const got = accepted - a0;
const mb = (b: number) => (b / 1024 ** 2).toFixed(1);
console.log(`${got} events accepted in ${secs.toFixed(1)} s (inject, ${args.concurrency} at a time), loaded, then a full collection:`);
console.log(`  V8 heap used ${mb(m0.heapUsed)} → ${mb(m1.heapUsed)} MB: ${(((m1.heapUsed - m0.heapUsed) / got)).toFixed(0)} bytes per event kept`);
console.log(`  external ${mb(m0.external)} → ${mb(m1.external)} MB, RSS ${mb(m0.rss)} → ${mb(m1.rss)} MB`);
await kernel.close();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
