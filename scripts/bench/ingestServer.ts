/**
 * What the ingestion CPU and batch benches share: the event they send, the per-thread CPU of
 * the server process, and starting the platform as `ingest.ts --serve kernel` does (optionally
 * from another checkout, `root`, so old and new code can be alternated).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

const INGEST = join(import.meta.dirname, 'ingest.ts');

/** one variant of the server: ingestion config overrides, another checkout, extra environment, node flags */
export interface Variant { ingestion?: object; root?: string; env?: Record<string, string>; node?: string[] }

/** the agent invocation both benches send, varied by `i` */
export function benchEvent(i: number): Record<string, unknown> {
  return {
    event_id: randomUUID(), event_type: 'agent_invocation', timestamp: new Date().toISOString(),
    department_id: `dept-${i % 12}`, user_id: `user-${i % 200}`, session_id: `s-${i % 1000}`, agent_name: `agent-${i % 8}`,
    agent_version: '1.0.0', invocation_id: randomUUID(), model_used: 'claude-sonnet-4-5', input_tokens: 1200, output_tokens: 300,
    execution_time_ms: 850, status: 'success', tools_used: ['grep', 'edit'],
  };
}

/** CPU ms per thread group of a process */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try { stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'); } catch { continue; }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(f[11]) + Number(f[12])) * 10;
    // V8's platform workers (concurrent GC, compilation) are named "V8 …"; threads that keep the
    // process's name are native threads that did not name themselves (chDB's pools among them)
    const group = Number(tid) === pid ? 'main' : /^V8 /.test(name) ? 'v8-helpers' : /^libuv/.test(name) ? 'libuv' : name === 'node' ? 'unnamed' : 'chdb-named';
    out.set(group, (out.get(group) ?? 0) + ms);
  }
  return out;
}

/** the flags between `node` and the script in a checkout's `npm start` */
export function startFlags(root: string): string[] {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  return /^node\s+(.*?)\s*\S+\.m?[jt]s\b/.exec(start)?.[1]?.split(/\s+/).filter((f) => f.startsWith('--')) ?? [];
}

/** least-squares slope of y against t (per second) */
export function slope(pts: Array<[number, number]>): number {
  const ok = pts.filter(([, y]) => Number.isFinite(y));
  const n = ok.length;
  if (n < 3) return NaN;
  const mt = ok.reduce((a, [t]) => a + t, 0) / n, my = ok.reduce((a, [, y]) => a + y, 0) / n;
  const num = ok.reduce((a, [t, y]) => a + (t - mt) * (y - my), 0), den = ok.reduce((a, [t]) => a + (t - mt) ** 2, 0);
  return den ? num / den : NaN;
}

/** A sustained run's RSS is flat when its least-squares slope over the last 4 minutes is under this (MB/min). */
export const FLAT_MB_PER_MIN = 2;

/**
 * SIGTERM, then SIGKILL if the server has not exited `graceMs` later: a server once hung inside
 * the native engine's exit handlers after its clean stop (everything closed), and a bench should
 * report, not wait forever.
 */
export async function stopServer(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    console.error(`server ${child.pid} had not exited ${graceMs / 1000} s after SIGTERM: killed`);
    child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Start the platform with `plugins` on (`all`, `none` or a list); resolves with its URL. */
export function startIngestServer(dataDir: string, v: Variant, plugins: string): Promise<{ child: ChildProcess; url: string }> {
  // the node flags `npm start` of that checkout gives (its package.json), unless the variant names its own
  const node = v.node ?? startFlags(v.root ?? process.cwd());
  // BENCH_CPU_PROF=<dir>: the server writes a CPU profile of its main thread there on exit
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...node, ...prof, '--import', 'tsx', v.root ? join(v.root, 'scripts/bench/ingest.ts') : INGEST, '--serve', 'kernel'], {
    cwd: v.root ?? process.cwd(),
    env: { ...process.env, ...v.env, DATA_DIR: dataDir, BENCH_PLUGINS: plugins, BENCH_INGESTION: JSON.stringify(v.ingestion ?? {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) ok({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.once('exit', (c) => fail(new Error(`server exited (${c})`)));
  });
}
