/**
 * The log on its own: what is appended survives a reopen (ids, backlog, order), ranges cover the
 * log once and in order, a full backlog refuses without writing, pruning forgets loaded ids only.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { EventLog, BacklogFullError } from '../log.ts';
import { Loader } from '../loader.ts';

type Row = { org_id: string; event_id: string; n: number };

describe('EventLog', () => {
  it('a close with appends still queued commits them first, and refuses appends after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-log-'));
    try {
      let log = new EventLog<Row>({ path: dir, maxBacklogRows: 10_000, retainMs: 0 });
      // appends of requests still in flight when the stop begins: queued, not yet written
      const appends = Array.from({ length: 50 }, (_, i) => log.append([{ org_id: 'o', event_id: `e${i}`, n: i }]));
      await log.close();
      const seqs = await Promise.all(appends);
      expect(new Set(seqs).size).toBe(50);
      await expect(log.append([{ org_id: 'o', event_id: 'late', n: 99 }])).rejects.toThrow(/closing/);
      // what each append resolved for is on disk
      log = new EventLog<Row>({ path: dir, maxBacklogRows: 10_000, retainMs: 0 });
      expect(log.backlogRows).toBe(50);
      for (let i = 0; i < 50; i++) expect(log.has('o', `e${i}`)).toBe(true);
      expect(log.has('o', 'late')).toBe(false);
      await log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps appended rows, ids and the position across a reopen; ranges cover the log once, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-log-'));
    try {
      let log = new EventLog<Row>({ path: dir, maxBacklogRows: 10_000, retainMs: 0 });
      const sent: Row[] = [];
      let n = 0;
      // random request sizes, appended concurrently as requests would be
      await Promise.all(Array.from({ length: 120 }, () => {
        const rows = Array.from({ length: 1 + Math.floor(Math.random() * 30) }, () => ({ org_id: `o${n % 3}`, event_id: `e${n}`, n: n++ }));
        sent.push(...rows);
        return log.append(rows);
      }));
      expect(log.backlogRows).toBe(sent.length);
      const first = log.nextRange(100)!;
      await log.markPending(first);
      await log.close();

      log = new EventLog<Row>({ path: dir, maxBacklogRows: 10_000, retainMs: 0 });
      expect(log.backlogRows).toBe(sent.length);
      for (const r of sent) expect(log.has(r.org_id, r.event_id)).toBe(true);
      expect(log.has('o1', 'e0')).toBe(false); // e0 belongs to o0: ids are per org
      expect(log.pendingRange()).toEqual({ first: first.first, last: first.last });

      const loaded: Row[] = [];
      for (let r = log.pendingRange() ?? log.nextRange(100); r; r = log.nextRange(100)) {
        loaded.push(...log.rowsOf(r));
        await log.commitLoaded(r);
        expect(log.pendingRange()).toBeNull();
      }
      expect(loaded.map((r) => r.n).sort((a, b) => a - b)).toEqual(sent.map((r) => r.n).sort((a, b) => a - b));
      expect(new Set(loaded.map((r) => `${r.org_id}/${r.event_id}`)).size).toBe(sent.length);
      expect(log.backlogRows).toBe(0);

      // retention 0: every loaded entry and its ids go
      const removed = await log.prune(Date.now() + 1);
      expect(removed).toBe(120);
      for (const r of sent.slice(0, 50)) expect(log.has(r.org_id, r.event_id)).toBe(false);
      await log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers ids by their rows, not their hash: 60,000 ids appended, 60,000 others never taken for them, before and after a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-log-'));
    try {
      let log = new EventLog<Row>({ path: dir, maxBacklogRows: 100_000, retainMs: 60_000 });
      const rand = () => Math.random().toString(36).slice(2);
      const sent = Array.from({ length: 60_000 }, (_, n) => ({ org_id: `o${n % 2}`, event_id: rand() + rand(), n }));
      // 60,000 × 60,000 pairs over 2^32 hashes: ~0.8 of a colliding pair expected, so the rows check runs
      const others = Array.from({ length: 60_000 }, () => ({ org: `o${Math.floor(Math.random() * 2)}`, id: rand() + rand() }));
      for (let o = 0; o < sent.length; o += 1000) await log.append(sent.slice(o, o + 1000));
      const check = () => {
        for (const r of sent) expect(log.has(r.org_id, r.event_id)).toBe(true);
        expect(others.filter((x) => log.has(x.org, x.id))).toEqual([]);
      };
      check();
      await log.commitLoaded(log.nextRange(30_000)!);
      check(); // half of them now read back from LMDB, not from memory
      await log.close();
      log = new EventLog<Row>({ path: dir, maxBacklogRows: 100_000, retainMs: 60_000 });
      check();
      // the loaded half kept only its ids; the other half is still whole, and still to load
      expect(log.backlogRows).toBe(30_000);
      expect(log.rowsOf(log.nextRange(100_000)!)).toEqual(sent.slice(30_000));
      await log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a log written before loaded entries moved to `retained`: their ids still answer, a prune removes them, the backlog loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-log-'));
    try {
      // the older layout: every entry whole in `entries`, the position in `meta`
      const old = open({ path: dir, overlappingSync: false, maxDbs: 4 });
      const entries = old.openDB<{ t: number; rows: Row[] }, number>({ name: 'entries' });
      const meta = old.openDB<unknown, string>({ name: 'meta' });
      const rows = (seq: number): Row[] => [{ org_id: 'o', event_id: `old${seq}`, n: seq }];
      await old.transaction(() => {
        for (let seq = 1; seq <= 10; seq++) entries.put(seq, { t: 1_000 + seq, rows: rows(seq) });
        meta.put('id', 'old-log');
        meta.put('loaded', 6);
      });
      await old.close();

      const log = new EventLog<Row>({ path: dir, maxBacklogRows: 100, retainMs: 60_000 });
      for (let seq = 1; seq <= 10; seq++) expect(log.has('o', `old${seq}`)).toBe(true);
      expect(log.backlogRows).toBe(4);
      const rest = log.nextRange(100)!;
      expect(log.rowsOf(rest)).toEqual([7, 8, 9, 10].flatMap(rows));
      await log.commitLoaded(rest);
      // old whole entries (1–6) and moved ones (7–10) alike go once past the retention
      expect(await log.pruneAll(1_000 + 5 + 60_000)).toBe(5);
      for (let seq = 1; seq <= 10; seq++) expect(log.has('o', `old${seq}`)).toBe(seq > 5);
      expect(await log.pruneAll(Date.now() + 60_001)).toBe(5);
      expect(log.footprint().entries).toBe(0);
      await log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers for ids of a range while its position commit moves it, and after (a reopened log reads them from LMDB)', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'orrery-log-'));
      try {
        let log = new EventLog<Row>({ path: dir, maxBacklogRows: 1_000_000, retainMs: 60_000 });
        const ids: string[] = [];
        for (let e = 0; e < 40; e++) {
          const rows = Array.from({ length: 50 }, (_, i) => ({ org_id: 'o', event_id: `r${round}-${e}-${i}`, n: i }));
          ids.push(...rows.map((r) => r.event_id));
          await log.append(rows);
        }
        await log.close();
        // reopened: nothing is in this process's memory, every lookup reads the databases
        log = new EventLog<Row>({ path: dir, maxBacklogRows: 1_000_000, retainMs: 60_000 });
        const range = log.nextRange(1_000_000)!;
        let done = false;
        const commit = log.commitLoaded(range).then(() => (done = true));
        const missed = new Set<string>();
        let turns = 0;
        // asked on every turn while the commit is under way (its write lands on LMDB's thread)
        while (!done) {
          for (const id of ids) if (!log.has('o', id)) missed.add(id);
          turns++;
          await new Promise((r) => setImmediate(r));
        }
        await commit;
        for (const id of ids) if (!log.has('o', id)) missed.add(id);
        expect([...missed].slice(0, 5), `missed during ${turns} turns of the commit`).toEqual([]);
        expect(log.loaded).toBe(range.last);
        await log.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('refuses an append past the backlog bound without writing it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-log-'));
    try {
      const log = new EventLog<Row>({ path: dir, maxBacklogRows: 10, retainMs: 60_000 });
      await log.append(Array.from({ length: 8 }, (_, i) => ({ org_id: 'o', event_id: `a${i}`, n: i })));
      await expect(log.append([{ org_id: 'o', event_id: 'b0', n: 0 }, { org_id: 'o', event_id: 'b1', n: 1 }, { org_id: 'o', event_id: 'b2', n: 2 }])).rejects.toBeInstanceOf(BacklogFullError);
      expect(log.has('o', 'b0')).toBe(false);
      expect(log.backlogRows).toBe(8);
      expect(log.stats.refused).toBe(3);
      const r = log.nextRange(1000)!;
      await log.commitLoaded(r);
      await log.append([{ org_id: 'o', event_id: 'b0', n: 0 }]);
      expect(log.backlogRows).toBe(1);
      // retained: loaded ids still answer
      await log.prune();
      expect(log.has('o', 'a3')).toBe(true);
      await log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('EventLog pruning', () => {
  type Padded = Row & { pad: string };
  const rowsFrom = (n: number, k: number): Padded[] => Array.from({ length: k }, (_, i) => ({ org_id: 'o', event_id: `e${n + i}`, n: n + i, pad: 'x'.repeat(400) }));

  it('keeps the file at what the retention holds: loaded entries keep their ids only, freed pages are reused, without pruning it grows with every id', async () => {
    const fileAfter: Record<'pruned' | 'kept', number[]> = { pruned: [], kept: [] };
    for (const mode of ['pruned', 'kept'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'orrery-log-'));
      const log = new EventLog<Padded>({ path: dir, maxBacklogRows: 1e9, retainMs: 0 });
      try {
        let n = 0;
        for (let round = 0; round < 20; round++) {
          // 200 requests of 5 events, loaded, then (pruned mode) removed: a steady stream through the log
          await Promise.all(Array.from({ length: 200 }, () => log.append(rowsFrom((n += 5) - 5, 5))));
          await log.commitLoaded(log.nextRange(1e9)!);
          if (mode === 'pruned') expect(await log.pruneAll(Date.now() + 1, 150)).toBe(200);
          fileAfter[mode].push(log.footprint().fileBytes);
        }
        const fp = log.footprint();
        expect(fp.entries).toBe(mode === 'pruned' ? 0 : 4000);
      } finally {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const { pruned, kept } = fileAfter;
    // kept: the file grows round after round, by the loaded entries' ids only — well under a
    // fifth of the ~400 KB of rows each round appends (their pages are freed at the load and reused)
    const roundBytes = 1000 * 400;
    for (let i = 2; i < 20; i++) expect(kept[i]!).toBeGreaterThan(kept[i - 1]!);
    expect((kept[19]! - kept[1]!) / 18).toBeLessThan(roundBytes / 5);
    // pruned: the file stops growing after the first rounds (pages freed by a prune are reused)
    expect(Math.max(...pruned.slice(5))).toBeLessThanOrEqual(pruned[4]! * 1.1);
    expect(pruned[19]!).toBeLessThan(kept[19]!);
  });

  it('forgets exactly the ids of loaded entries past the retention (random appends, loads and prunes against a model)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-log-'));
    const retainMs = 1_000;
    const log = new EventLog<Row>({ path: dir, maxBacklogRows: 1e9, retainMs });
    let seed = 7;
    const rand = (k: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % k;
    // the model: per id, its entry and the clock just before and after its append; ids known gone
    const model = new Map<string, { seq: number; before: number; after: number }>();
    const gone = new Set<string>();
    let loaded = 0;
    let n = 0;
    try {
      for (let step = 0; step < 300; step++) {
        const op = rand(10);
        if (op < 6) {
          const before = Date.now();
          const rows = Array.from({ length: 1 + rand(4) }, () => ({ org_id: 'o', event_id: `e${n}`, n: n++ }));
          const seq = await log.append(rows);
          for (const r of rows) model.set(r.event_id, { seq, before, after: Date.now() });
        } else if (op < 8) {
          const r = log.nextRange(1 + rand(20));
          if (r) {
            await log.commitLoaded(r);
            loaded = r.last;
          }
        } else {
          // "now" on either side of the retention boundary of what was appended so far, small chunks
          const now = Date.now() + rand(3) * retainMs - retainMs / 2;
          await log.pruneAll(now, 1 + rand(7));
          const cutoff = now - retainMs;
          for (const [id, v] of model) {
            if (gone.has(id)) expect(log.has('o', id)).toBe(false);
            else if (v.seq <= loaded && v.after <= cutoff) {
              expect(log.has('o', id)).toBe(false);
              gone.add(id);
            } else if (v.seq > loaded || v.before > cutoff) expect(log.has('o', id)).toBe(true);
            else if (!log.has('o', id)) gone.add(id); // appended across the boundary: either is right
          }
        }
      }
      expect(gone.size).toBeGreaterThan(0);
      // far in the future every loaded id is gone and every id not loaded is still there
      await log.pruneAll(Date.now() + 10 * retainMs);
      for (const [id, v] of model) expect(log.has('o', id)).toBe(v.seq > loaded);
      expect([...model.values()].some((v) => v.seq > loaded)).toBe(true);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Loader', () => {
  /** Appends `perTick` rows every `everyMs` for `forMs`, with a loader of the given options; returns the insert sizes. */
  async function run(opts: { busyRows?: number; busyDelayMs?: number; targetRows?: number }, traffic: { perTick: number; everyMs: number; forMs: number }) {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-loader-'));
    const log = new EventLog<Row>({ path: dir, maxBacklogRows: 1_000_000, retainMs: 0 });
    const inserts: Row[][] = [];
    const loader = new Loader<Row>({ log, batchSize: 20_000, maxDelayMs: 20, ...opts, insert: async (rows) => void inserts.push(rows), onLoaded: () => {}, onError: () => {} });
    loader.start();
    let n = 0;
    const sent: Row[] = [];
    const appends: Promise<number>[] = [];
    try {
      for (const end = Date.now() + traffic.forMs; Date.now() < end; await new Promise((r) => setTimeout(r, traffic.everyMs))) {
        const rows = Array.from({ length: traffic.perTick }, () => ({ org_id: 'o', event_id: `e${n}`, n: n++ }));
        sent.push(...rows);
        appends.push(log.append(rows));
      }
      await Promise.all(appends);
      await loader.stop(true);
      // every row loaded once, in log order, whatever the insert sizes
      expect(inserts.flat().map((r) => r.n)).toEqual(sent.map((r) => r.n));
      return inserts.map((i) => i.length);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  /**
   * A backlog of `entries` appends of 1,000 rows, loaded in ranges of `batchSize` by a loader
   * whose insert takes a few ms on a timer (as the engine works on its own threads); `failPrepare`
   * makes that call of `prepare` (1-based) reject. Returns what the loader was asked to do.
   */
  async function backlog(o: { entries: number; batchSize: number; failPrepare?: number }) {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-loader-'));
    const log = new EventLog<Row>({ path: dir, maxBacklogRows: 1_000_000, retainMs: 0 });
    const sent: Row[] = [];
    for (let e = 0; e < o.entries; e++) {
      const rows = Array.from({ length: 1000 }, (_, i) => ({ org_id: 'o', event_id: `e${e}-${i}`, n: e * 1000 + i }));
      sent.push(...rows);
      await log.append(rows);
    }
    const inserted: Array<{ rows: Row[]; token: string; body: string }> = [];
    const errors: unknown[] = [];
    let inFlight = false;
    let prepares = 0;
    let preparedDuringInsert = 0;
    const loader = new Loader<Row, string>({
      log, batchSize: o.batchSize, maxDelayMs: 20, retryMs: 5,
      async prepare(rows) {
        if (++prepares === o.failPrepare) throw new Error('encoding failed');
        if (inFlight) preparedDuringInsert++;
        await new Promise((r) => setImmediate(r));
        return rows.map((r) => r.n).join(',');
      },
      async insert(rows, token, body) {
        inFlight = true;
        await new Promise((r) => setTimeout(r, 3));
        inFlight = false;
        inserted.push({ rows, token, body: body! });
      },
      onLoaded: () => {},
      onError: (err) => void errors.push(err),
    });
    try {
      loader.start();
      await loader.stop(true);
      return { sent, inserted, errors, preparedDuringInsert, stats: loader.stats, loaded: log.loaded, lastSeq: log.lastSeq };
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('builds the next full range while one is inserted, and still loads every row once, in order, with its own body', async () => {
    const r = await backlog({ entries: 12, batchSize: 2000 });
    expect(r.inserted.flatMap((i) => i.rows).map((x) => x.n)).toEqual(r.sent.map((x) => x.n));
    // each insert got the body built from exactly its rows, and its own dedup token
    for (const i of r.inserted) expect(i.body).toBe(i.rows.map((x) => x.n).join(','));
    expect(new Set(r.inserted.map((i) => i.token)).size).toBe(r.inserted.length);
    expect(r.inserted.map((i) => i.rows.length)).toEqual([2000, 2000, 2000, 2000, 2000, 2000]);
    // every range after the first was built while the one before it was being inserted
    expect(r.stats.preparedAhead).toBe(5);
    expect(r.preparedDuringInsert).toBe(5);
    expect(r.loaded).toBe(r.lastSeq);
  });

  it('a range whose read-ahead build failed is built again and inserted: nothing lost, nothing twice', async () => {
    // the second prepare is the read-ahead of the second range
    const r = await backlog({ entries: 6, batchSize: 2000, failPrepare: 2 });
    expect(r.errors).toHaveLength(1);
    expect(r.inserted.flatMap((i) => i.rows).map((x) => x.n)).toEqual(r.sent.map((x) => x.n));
    for (const i of r.inserted) expect(i.body).toBe(i.rows.map((x) => x.n).join(','));
    expect(r.stats.failures).toBe(1);
    expect(r.loaded).toBe(r.lastSeq);
  });

  it('reads ahead only a full range: a young, small one is left to gather company', async () => {
    const r = await backlog({ entries: 3, batchSize: 2000 });
    // 2,000 then the last 1,000: the second is not full, so it was not built ahead
    expect(r.inserted.map((i) => i.rows.length)).toEqual([2000, 1000]);
    expect(r.stats.preparedAhead).toBe(0);
    expect(r.inserted.flatMap((i) => i.rows).map((x) => x.n)).toEqual(r.sent.map((x) => x.n));
  });

  it('gathers busy traffic into larger inserts, bounded by targetRows, and leaves sparse traffic to the short delay', async () => {
    const busy = { perTick: 20, everyMs: 2, forMs: 600 };
    const short = await run({}, busy);
    const gathered = await run({ busyRows: 50, busyDelayMs: 200, targetRows: 1500 }, busy);
    expect(mean(gathered)).toBeGreaterThan(1.5 * mean(short));
    // the target ends the wait: no insert runs far past it (one append turn of rows at most)
    expect(Math.max(...gathered)).toBeLessThan(1500 + 400);
    // sparse traffic never reaches busyRows: it is loaded after maxDelayMs as before
    const sparse = await run({ busyRows: 50, busyDelayMs: 5000, targetRows: 1500 }, { perTick: 1, everyMs: 10, forMs: 300 });
    expect(Math.max(...sparse)).toBeLessThan(50);
  }, 30_000);

  /**
   * A range left pending by a crash, against a model of a plain MergeTree: parts hold rows, and a
   * separate record of tokens drops an insert whose token it holds. The crash left any mix of the
   * two writes of the first insert (split into partition parts, each with its own token suffix):
   * a part with its record, a part without it, a record without its part, or neither.
   */
  it('a range a crash interrupted is stored exactly once whatever mix of parts and token records the crash left', async () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 40; trial++) {
      const dir = mkdtempSync(join(tmpdir(), 'orrery-redo-'));
      const log = new EventLog<Row>({ path: dir, maxBacklogRows: 1_000_000, retainMs: 0 });
      try {
        const sent: Row[] = [];
        for (let e = 0; e < 1 + Math.floor(rand() * 4); e++) {
          const rows = Array.from({ length: 1 + Math.floor(rand() * 300) }, (_, i) => ({ org_id: 'o', event_id: `t${trial}-${e}-${i}`, n: sent.length + i }));
          sent.push(...rows);
          await log.append(rows);
        }
        const range = log.nextRange(1_000_000)!;
        await log.markPending(range);
        const token = `${log.id}:${range.first}-${range.last}`;

        // the table; the first insert was split in parts of up to 100 rows (partitions), each left in one of four states
        const stored = new Map<string, number>();
        const tokens = new Set<string>();
        const put = (rows: Row[]) => rows.forEach((r) => stored.set(r.event_id, (stored.get(r.event_id) ?? 0) + 1));
        const states: string[] = [];
        for (let o = 0, part = 0; o < sent.length; o += 100, part++) {
          const state = (['both', 'part only', 'record only', 'neither'] as const)[Math.floor(rand() * 4)]!;
          states.push(state);
          if (state === 'both' || state === 'part only') put(sent.slice(o, o + 100));
          if (state === 'both' || state === 'record only') tokens.add(`${token}_${part}`);
        }
        const inserts: string[] = [];
        const loader = new Loader<Row>({
          log, batchSize: 1_000_000, maxDelayMs: 0, retryMs: 5,
          async insert(rows, tok) {
            inserts.push(tok);
            for (let o = 0, part = 0; o < rows.length; o += 100, part++) {
              if (tokens.has(`${tok}_${part}`)) continue; // dropped as a repeat
              tokens.add(`${tok}_${part}`);
              put(rows.slice(o, o + 100));
            }
          },
          missingOf: async (rows) => rows.filter((r) => !stored.has(r.event_id)),
          onLoaded: () => {},
          onError: (err) => {
            throw err;
          },
        });
        loader.start();
        await loader.stop(true);

        const wrong = sent.filter((r) => stored.get(r.event_id) !== 1).map((r) => `${r.event_id}×${stored.get(r.event_id) ?? 0}`);
        expect(wrong, `parts left as ${states.join(', ')}`).toEqual([]);
        expect(stored.size).toBe(sent.length);
        expect(log.pendingRange()).toBeNull();
        expect(log.loaded).toBe(range.last);
        expect(loader.stats.redone).toBe(1);
        expect(loader.stats.redoneStoredRows).toBe(states.reduce((a, st, i) => a + (st === 'both' || st === 'part only' ? Math.min(100, sent.length - 100 * i) : 0), 0));
        // nothing stored: the original token is tried first (a server may still finish the first insert)
        if (states.every((st) => st === 'neither' || st === 'record only')) expect(inserts[0]).toBe(token);
      } finally {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
