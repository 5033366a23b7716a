/**
 * The log on its own: what is appended survives a reopen (ids, backlog, order), ranges cover the
 * log once and in order, a full backlog refuses without writing, pruning forgets loaded ids only.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog, BacklogFullError } from '../log.ts';
import { Loader } from '../loader.ts';

type Row = { org_id: string; event_id: string; n: number };

describe('EventLog', () => {
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
});
