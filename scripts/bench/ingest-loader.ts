/**
 * Insert sizes the loader makes at a given arrival rate, the log real (LMDB, fsync) and the
 * insert simulated by a wait of the engine's measured wall time, for loader settings side by
 * side. With the engine's fixed CPU per insert (the `engine` line of ingest.ts) this gives the
 * fixed insert cost per event of each setting without a platform or a load generator.
 *
 *   npx tsx scripts/bench/ingest-loader.ts --rate 4600 --seconds 5 --insert-ms 39 \
 *     --variants '[{"busyDelayMs":0},{}]'
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EventLog } from '../../core/src/ingestion/log.ts';
import { Loader } from '../../core/src/ingestion/loader.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '4600' },
    seconds: { type: 'string', default: '5' },
    'insert-ms': { type: 'string', default: '39' },
    'fixed-cpu-ms': { type: 'string', default: '8.8' },
    variants: { type: 'string', default: '[{"busyDelayMs":0},{}]' },
  },
});
type Row = { org_id: string; event_id: string };
// the platform's defaults (core/src/ingestion/index.ts); a variant overrides some
const defaults = { batchSize: 20_000, maxDelayMs: 50, busyRows: 100, busyDelayMs: 150, targetRows: 2000 };

async function once(v: Partial<typeof defaults>) {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-loader-bench-'));
  const log = new EventLog<Row>({ path: dir, maxBacklogRows: 10_000_000, retainMs: 0 });
  const sizes: number[] = [];
  const visible: number[] = [];
  const appendedAt = new Map<string, number>();
  const loader = new Loader<Row>({
    log, ...defaults, ...v,
    insert: (rows) => new Promise((r) => setTimeout(r, Number(args['insert-ms']))).then(() => void sizes.push(rows.length)),
    onLoaded: (rows) => { const now = Date.now(); for (const r of rows) visible.push(now - appendedAt.get(r.event_id)!); },
    onError: () => {},
  });
  loader.start();
  const rate = Number(args.rate);
  const appends: Promise<number>[] = [];
  let n = 0;
  const t0 = Date.now();
  // one append per request, as the single route makes them, at the offered rate (in 5 ms ticks)
  while (Date.now() - t0 < Number(args.seconds) * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * rate);
    for (; n < due; n++) {
      const id = `e${n}`;
      appendedAt.set(id, Date.now());
      appends.push(log.append([{ org_id: 'o', event_id: id }]));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(appends);
  await loader.stop(true);
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  const avg = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  visible.sort((a, b) => a - b);
  return { inserts: sizes.length, avg, fixedUs: (Number(args['fixed-cpu-ms']) * 1000) / avg, p50: visible[Math.floor(visible.length * 0.5)]!, p99: visible[Math.floor(visible.length * 0.99)]! };
}

// a first run warms the module and the disk cache up; its figures are not printed
await once(JSON.parse(args.variants)[0] ?? {});
console.log(`loader at ${args.rate} appends/s for ${args.seconds} s, inserts simulated at ${args['insert-ms']} ms, load ${loadavg()[0]!.toFixed(1)}`);
for (const v of JSON.parse(args.variants) as Array<Partial<typeof defaults>>) {
  const r = await once(v);
  console.log(`${JSON.stringify(v)}: ${r.inserts} inserts, avg ${Math.round(r.avg)} rows → fixed engine CPU ${r.fixedUs.toFixed(1)} µs/event; appended → loaded p50 ${r.p50} ms, p99 ${r.p99} ms`);
}
