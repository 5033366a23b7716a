/**
 * The log on its own: what is appended survives a reopen (ids, backlog, order), ranges cover the
 * log once and in order, a full backlog refuses without writing, pruning forgets loaded ids only.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog, BacklogFullError } from '../log.ts';

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
