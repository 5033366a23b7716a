/**
 * The shape of the rules' cost over a minute: when their main-thread work and their statements
 * arrive, second by second, rather than how much there is in all.
 *
 *   npx tsx scripts/bench/alertsShape.ts [rules=1000] [seconds=60]
 *
 * The same data and rules as `alerts.ts` (60k events, counts / failure rates / p95 latencies per
 * agent, 5-minute window, interval 60 s), every rule on its own phase slot (the steady state),
 * the job every 2 s as the scheduler runs it, no dashboard requests: what is measured is the
 * rounds alone. Every second: the main thread's CPU (Linux's `schedstat`, nanoseconds, the main
 * thread only), the whole process's CPU (`process.cpuUsage`, chDB's threads included), the
 * event-loop delay (`monitorEventLoopDelay`, p99 and max of that second), the PostgreSQL
 * statements by kind (knex's `query` event) and the ClickHouse queries (the analytics client).
 * Then per round: its statements and its main-thread CPU. The summary says how bunched the
 * main-thread CPU is: the busiest second's share of the minute and the share of seconds
 * holding half of it.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { phaseSlotAfter } from '../../plugins/alerts/backend/engine.ts';
import { percentile } from './alternating.ts';
import { startBenchBackend } from './backend.ts';
import { alertBenchEvents, createBenchRules } from './alertsBenchData.ts';

const RULES = Math.max(1, Number(process.argv[2] ?? 1000));
const SECONDS = Math.max(10, Number(process.argv[3] ?? 60));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The main thread's CPU time so far in ms (`schedstat`'s first field, ns); NaN elsewhere. */
function mainThreadCpuMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/** What a PostgreSQL statement of the job is, from its SQL. */
function kindOf(sql: string): string {
  const s = sql.toLowerCase();
  const table = /"?(alert_[a-z_]+|webhook_[a-z_]+|plugin_settings|[a-z_]+)"?/.exec(s.replace(/^.*?(from|into|update|join)\s+("?[a-z_]+"?\.)?/s, ''))?.[1] ?? '?';
  const verb = s.startsWith('select') ? 'select' : s.startsWith('update') ? 'update' : s.startsWith('insert') ? (s.includes('on conflict') ? 'upsert' : 'insert') : s.startsWith('delete') ? 'delete' : s.split(' ')[0]!;
  return `${verb} ${table}`;
}

async function main() {
  const b = await startBenchBackend({ loadPluginFolders: true, config: { rateLimits: { enabled: false } } });
  try {
    const now = Date.now();
    const events = alertBenchEvents(now);
    await b.org.insertEvents(events);
    const c = b.client;
    await createBenchRules(c, RULES);
    const schema = b.org.schema;
    const knex = b.kernel.services.knex;
    // every rule on its own phase slot: the steady state, not the burst after a bulk unpause
    const rows: Array<{ id: string; interval_seconds: number }> = await knex.withSchema(schema).table('alert_rules').select('id', 'interval_seconds');
    const at = new Date();
    for (const r of rows) await knex.withSchema(schema).table('alert_rules').where({ id: r.id }).update({ paused: false, next_eval_at: phaseSlotAfter(r.id, r.interval_seconds, at) });

    // statements, stamped with the second they were sent in and the round they belong to
    let t0 = performance.now();
    let round = -1;
    // `cpu`: the main thread's CPU from sending a statement to its answer (embedded PostgreSQL runs it on this thread)
    const statements: Array<{ sec: number; round: number; kind: string; ms: number; cpu: number }> = [];
    const open = new Map<string, { started: number; cpu: number; entry: (typeof statements)[number] }>();
    knex.on('query', (q: { sql: string; __knexQueryUid: string }) => {
      const entry = { sec: Math.floor((performance.now() - t0) / 1000), round, kind: kindOf(q.sql), ms: NaN, cpu: NaN };
      statements.push(entry);
      open.set(q.__knexQueryUid, { started: performance.now(), cpu: mainThreadCpuMs(), entry });
    });
    const done = (_: unknown, q: { __knexQueryUid: string }) => {
      const o = open.get(q.__knexQueryUid);
      if (o) {
        o.entry.ms = performance.now() - o.started;
        o.entry.cpu = mainThreadCpuMs() - o.cpu;
      }
      open.delete(q.__knexQueryUid);
    };
    knex.on('query-response', done);
    knex.on('query-error', done);
    const ch = b.kernel.services.analytics.client;
    const chQuery = ch.query.bind(ch);
    ch.query = async (params: { query: string }) => {
      const entry = { sec: Math.floor((performance.now() - t0) / 1000), round, kind: /max_threads\s*=\s*1/.test(params.query) ? 'chDB read (background)' : 'chDB read', ms: NaN, cpu: NaN };
      statements.push(entry);
      const started = performance.now();
      try {
        return await chQuery(params);
      } finally {
        entry.ms = performance.now() - started;
      }
    };

    // a warm-up minute, unmeasured: every rule evaluated once (instances, runs rows exist)
    const tickLoop = async (until: number, onRound?: (r: { start: number; end: number; cpu: number; evaluated: number }) => void) => {
      while (performance.now() < until) {
        const a = performance.now();
        const cpu = mainThreadCpuMs();
        const r = await b.runJob('alerts', 'tick');
        const evaluated = Object.values(r).reduce((n: number, v) => n + ((v as any)?.evaluated ?? 0), 0);
        onRound?.({ start: a - t0, end: performance.now() - t0, cpu: mainThreadCpuMs() - cpu, evaluated });
        await sleep(2000 - ((performance.now() - a) % 2000));
      }
    };
    await tickLoop(performance.now() + 62_000);
    statements.length = 0;

    const perSecond: Array<{ cpu: number; proc: number; p99: number; max: number }> = [];
    const rounds: Array<{ start: number; end: number; cpu: number; evaluated: number }> = [];
    t0 = performance.now();
    let lastCpu = mainThreadCpuMs();
    let lastProc = process.cpuUsage();
    let h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const sampler = setInterval(() => {
      h.disable();
      const cpu = mainThreadCpuMs();
      const proc = process.cpuUsage(lastProc);
      perSecond.push({ cpu: cpu - lastCpu, proc: (proc.user + proc.system) / 1000, p99: h.percentile(99) / 1e6, max: h.max / 1e6 });
      lastCpu = cpu;
      lastProc = process.cpuUsage();
      h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
    }, 1000);
    const load0 = loadavg()[0]!;
    const origRun = b.runJob;
    let n = 0;
    b.runJob = async (p: string, j: string) => {
      round = n++;
      try {
        return await origRun(p, j);
      } finally {
        round = -1;
      }
    };
    await tickLoop(t0 + SECONDS * 1000, (r) => rounds.push(r));
    clearInterval(sampler);
    h.disable();

    console.log(`${RULES} rules, ${SECONDS} s of rounds alone (job every 2 s); load (1 min) ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}\n`);
    console.log('sec  rounds(evaluated)  main-CPU ms  process-CPU ms  loop-delay p99/max ms  statements');
    for (let s = 0; s < perSecond.length; s++) {
      const x = perSecond[s]!;
      const inSec = rounds.filter((r) => r.start < (s + 1) * 1000 && r.end > s * 1000);
      const st = statements.filter((q) => q.sec === s);
      const counts = new Map<string, number>();
      for (const q of st) counts.set(q.kind, (counts.get(q.kind) ?? 0) + 1);
      console.log(
        `${String(s).padStart(3)}  ${inSec.map((r) => r.evaluated).join(',').padEnd(17)}  ${x.cpu.toFixed(1).padStart(11)}  ${x.proc.toFixed(0).padStart(14)}  ${`${x.p99.toFixed(1)}/${x.max.toFixed(1)}`.padStart(21)}  ${[...counts].map(([k, v]) => `${k}×${v}`).join(', ')}`,
      );
    }
    const cpus = perSecond.map((x) => x.cpu);
    const total = cpus.reduce((a, x) => a + x, 0);
    const sorted = [...cpus].sort((a, x) => x - a);
    let acc = 0;
    let k = 0;
    while (acc < total / 2) acc += sorted[k++]!;
    const busy = rounds.filter((r) => r.evaluated > 0);
    console.log(`\nmain-thread CPU ${total.toFixed(0)} ms in ${perSecond.length} s (${((total / perSecond.length) * 60).toFixed(0)} ms a minute); busiest second ${sorted[0]!.toFixed(1)} ms (${((100 * sorted[0]!) / total).toFixed(0)} %); half of it in ${k} of ${perSecond.length} seconds; per second p50 ${percentile(cpus, 50).toFixed(1)} ms, p95 ${percentile(cpus, 95).toFixed(1)} ms`);
    console.log(`process CPU (all threads) ${(perSecond.reduce((a, x) => a + x.proc, 0) / perSecond.length * 60).toFixed(0)} ms a minute; event-loop delay: max of the seconds' p99 ${Math.max(...perSecond.map((x) => x.p99)).toFixed(1)} ms, median ${percentile(perSecond.map((x) => x.p99), 50).toFixed(1)} ms, max ${Math.max(...perSecond.map((x) => x.max)).toFixed(1)} ms`);
    console.log(`rounds: ${rounds.length}, ${busy.length} evaluating (${busy.map((r) => r.evaluated).join(', ')}); main-thread CPU of an evaluating round p50 ${percentile(busy.map((r) => r.cpu), 50).toFixed(1)} ms, max ${Math.max(...busy.map((r) => r.cpu)).toFixed(1)} ms, of an idle round p50 ${rounds.some((r) => !r.evaluated) ? `${percentile(rounds.filter((r) => !r.evaluated).map((r) => r.cpu), 50).toFixed(1)} ms` : '— (none)'}; wall of an evaluating round p50 ${percentile(busy.map((r) => r.end - r.start), 50).toFixed(0)} ms`);
    const byKind = new Map<string, Array<{ ms: number; cpu: number }>>();
    for (const q of statements.filter((q) => q.round >= 0)) byKind.set(q.kind, [...(byKind.get(q.kind) ?? []), q]);
    const sum = (v: Array<{ ms: number; cpu: number }>, f: 'ms' | 'cpu') => v.reduce((n, x) => n + (Number.isNaN(x[f]) ? 0 : x[f]), 0);
    console.log(`statements of the rounds in ${SECONDS} s (count; wall ms in all, longest; PostgreSQL's main-thread CPU in all, longest — chDB's runs off the thread):`);
    for (const [k, v] of [...byKind].sort((a, x) => sum(x[1], 'cpu') - sum(a[1], 'cpu')))
      console.log(`  ${k.padEnd(26)} ${String(v.length).padStart(3)}; ${sum(v, 'ms').toFixed(0).padStart(5)} ms, ${Math.max(...v.map((x) => x.ms)).toFixed(1).padStart(6)} ms; CPU ${sum(v, 'cpu').toFixed(1).padStart(6)} ms, ${Math.max(...v.map((x) => (Number.isNaN(x.cpu) ? 0 : x.cpu))).toFixed(1).padStart(5)} ms`);
    const evaluating = new Set(busy.map((r) => rounds.indexOf(r)));
    const perRound = (set: (i: number) => boolean) => statements.filter((q) => q.round >= 0 && set(q.round)).length;
    console.log(`statements per round: evaluating ${(perRound((i) => evaluating.has(i)) / Math.max(1, busy.length)).toFixed(1)}, idle ${(perRound((i) => !evaluating.has(i)) / Math.max(1, rounds.length - busy.length)).toFixed(1)}`);
  } finally {
    await b.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
