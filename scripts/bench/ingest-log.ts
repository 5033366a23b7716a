/**
 * The durable log alone, as the batch route uses it, variants alternated in one process: for
 * each 1,000-row request, `has` for every id and then `append`, six requests in flight; the
 * loader's part (`nextRange`, `rowsOf`, `commitLoaded`) and pruning run beside it. Prints CPU
 * per row of the whole process (LMDB's write thread included) and of the main thread.
 *
 *   npx tsx scripts/bench/ingest-log.ts --rows 200000 --rounds 4 --roots '["/tmp/before", "."]'
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '3' }, roots: { type: 'string', default: '["."]' } } });
const mainCpuMs = () => {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const row = (i: number) => ({
  event_id: randomUUID(), event_type: 'agent_invocation', timestamp: new Date().toISOString(), department_id: `dept-${i % 12}`, user_id: `user-${i % 200}`,
  session_id: `s-${i % 1000}`, agent_name: `agent-${i % 8}`, agent_version: '1.0.0', invocation_id: randomUUID(), model_used: 'claude-sonnet-4-5',
  input_tokens: 1200, output_tokens: 300, execution_time_ms: 850, status: 'success', tools_used: ['grep', 'edit'], org_id: 'org-bench', action: '',
  fixes: [] as string[], schema_version: 2, received_schema_version: 2, received_at: new Date().toISOString(), source: 'batch', cost_usd: 0.0081, cost_source: 'computed',
});

async function once(root: string) {
  const { EventLog } = await import(join(resolve(root), 'core/src/ingestion/log.ts'));
  const dir = mkdtempSync(join(tmpdir(), 'orrery-logbench-'));
  const log = new EventLog({ path: dir, maxBacklogRows: 10_000_000, retainMs: 2_000 });
  const n = Number(args.rows);
  const requests = Array.from({ length: n / 1000 }, (_, b) => Array.from({ length: 1000 }, (_, i) => row(b * 1000 + i)));
  let loading = true;
  // the loader's bookkeeping, without an insert
  const loader = (async () => {
    while (loading || log.backlogRows > 0) {
      const r = log.nextRange(20_000);
      if (!r) { await new Promise((ok) => setTimeout(ok, 5)); continue; }
      await log.markPending(r);
      log.rowsOf(r);
      await log.commitLoaded(r);
      await log.pruneAll();
    }
  })();
  const cpu0 = process.cpuUsage();
  const main0 = mainCpuMs();
  const t0 = performance.now();
  let next = 0;
  let dups = 0;
  await Promise.all(Array.from({ length: 6 }, async () => {
    while (next < requests.length) {
      const rows = requests[next++]!;
      for (const r of rows) if (log.has(r.org_id, r.event_id)) dups++;
      await log.append(rows);
    }
  }));
  loading = false;
  await loader;
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const main = mainCpuMs() - main0;
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  if (dups) throw new Error(`${dups} new ids taken for duplicates`);
  return { usPerRow: (cpu.user + cpu.system) / n, mainUsPerRow: (main * 1000) / n, rate: n / secs };
}

const roots = JSON.parse(args.roots) as string[];
console.log(`the log alone: ${args.rows} rows in 1,000-row appends, 6 in flight; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const tot = roots.map(() => [] as number[]);
for (let round = 0; round < Number(args.rounds); round++) {
  for (const [k, root] of roots.entries()) {
    const r = await once(root);
    tot[k]!.push(r.usPerRow);
    console.log(`round ${round + 1} ${root}: ${r.usPerRow.toFixed(2)} µs CPU per row (main thread ${r.mainUsPerRow.toFixed(2)}), ${Math.round(r.rate)} rows/s; load ${loadavg()[0]!.toFixed(1)}`);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const [k, root] of roots.entries()) console.log(`${root}: mean ${mean(tot[k]!).toFixed(2)} µs per row, ${(mean(tot[k]!) / mean(tot[0]!)).toFixed(2)} of the first`);
