/**
 * The durable ingestion log: an event is answered 2xx once it is here, and a
 * loader moves the log into ClickHouse in large inserts afterwards.
 *
 * Stored in LMDB (lmdb-js): a memory-mapped B-tree with ACID transactions whose
 * writes the library batches into one transaction per event turn and commits
 * (with fsync: `overlappingSync` is off, so a commit's promise resolves only
 * once it is on disk) on its own thread. Requests that arrive together share
 * one commit: that is the group commit. Reads are synchronous and cheap, which
 * is what the dedup lookup of every request needs.
 *
 * Three databases in one environment:
 * - `entries`: sequence number → `{ t: append ms, rows }` (one entry per request's rows),
 *   for entries not loaded yet;
 * - `retained`: sequence number → `{ t, ids }`, the ids of loaded entries (below);
 * - `meta`: `loaded` (the last sequence number stored in ClickHouse), `pending` (the range
 *   the loader is inserting: after a crash it is inserted again with the same
 *   deduplication token, so ClickHouse drops the copy) and `id` (this log's identity,
 *   part of every token).
 *
 * The log is also the index of recent ids (dedup across restarts): an in-memory
 * hash index (`idIndex.ts`) over the ids of every entry the log holds, loaded or
 * not, filled at append and rebuilt from both databases when the log opens.
 *
 * Loaded entries are kept `retainMs` (the window in which the log answers dedup
 * lookups by itself), then removed with their ids (`pruneAll`, run every few
 * seconds): LMDB puts the freed pages on its free list and the next commits reuse
 * them, so the file (and the part of RSS that maps it) stays bounded instead of
 * growing with every event.
 *
 * A loaded entry only has to answer "is this id here?" from then on, so the
 * position commit moves it, in the same transaction, from `entries` to `retained`
 * as its ids alone (`[org, event, org, event, …]`, ~90 bytes an event instead of
 * ~1 KB): what the retention keeps is then retention × rate × ~0.1 KB, and a prune
 * reads ids instead of whole events. It is a move, not a rewrite in place: LMDB
 * merges pages on deletes only, so entries shrunk in place would keep their
 * pages a fifteenth full.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { IdIndex, idHash } from './idIndex.ts';

export interface LogEntry<R> {
  /** append time, ms */
  t: number;
  rows: R[];
}

/** A loaded entry as it is retained: its append time and its rows' ids, `[org, event, org, event, …]`. */
interface RetainedEntry {
  t: number;
  ids: string[];
}

/** The ids of rows, `[org, event, org, event, …]`. */
function idsOf(rows: ReadonlyArray<{ org_id: string; event_id: string }>): string[] {
  const ids = new Array<string>(rows.length * 2);
  for (let i = 0; i < rows.length; i++) {
    ids[2 * i] = rows[i]!.org_id;
    ids[2 * i + 1] = rows[i]!.event_id;
  }
  return ids;
}

export interface LogRange {
  first: number;
  last: number;
  /** rows in the range (when known) */
  rows?: number;
  /** `nextRange` took as many rows as it may: waiting would not make the range larger */
  full?: boolean;
}

export class BacklogFullError extends Error {
  constructor(readonly backlogRows: number, readonly limit: number) {
    super(`ingestion backlog is full (${backlogRows} rows waiting for the loader, limit ${limit})`);
  }
}

export interface EventLogOptions {
  path: string;
  /** rows appended but not loaded above which appends are refused */
  maxBacklogRows: number;
  /** how long loaded entries (and their ids) stay in the log, ms */
  retainMs: number;
  /** LMDB map size, bytes (the file grows up to it) */
  mapSize?: number;
}

export class EventLog<R extends { org_id: string; event_id: string }> {
  private readonly root: RootDatabase;
  private readonly entries: Database<LogEntry<R>, number>;
  private readonly retained: Database<RetainedEntry, number>;
  /** recent ids (appended, being appended, or loaded and retained) → their entry's sequence number */
  private readonly index = new IdIndex();
  /** the ids of the last entry read back from LMDB to check an index hit (a resent batch hits the same entry row after row) */
  private lastRead: { seq: number; ids: string[] | undefined } | null = null;
  private readonly meta: Database<unknown, string>;
  /** this log's identity (deduplication tokens) */
  readonly id: string;
  private seq: number;
  /** every entry up to here is committed (appends commit in the order they were made) */
  private committedSeq: number;
  private loadedSeq: number;
  /** rows appended (or being appended) and not loaded yet */
  private backlog = 0;
  /** rows of entries appended by this process and not loaded yet: the loader takes them from here */
  private readonly fresh = new Map<number, R[]>();
  /** appended entries not yet loaded: seq → (append ms, rows) for the lag figure */
  private readonly waiting = new Map<number, number>();
  readonly stats = { appends: 0, appendedRows: 0, refused: 0, pruned: 0 };
  /** called after each committed append (the loader's wake-up) */
  onAppend: (() => void) | null = null;

  constructor(private readonly o: EventLogOptions) {
    mkdirSync(o.path, { recursive: true });
    this.root = open({ path: o.path, overlappingSync: false, maxDbs: 4, mapSize: o.mapSize ?? 8 * 1024 ** 3 });
    this.entries = this.root.openDB<LogEntry<R>, number>({ name: 'entries' });
    this.retained = this.root.openDB<RetainedEntry, number>({ name: 'retained' });
    this.meta = this.root.openDB<unknown, string>({ name: 'meta' });
    let id = this.meta.get('id') as string | undefined;
    if (!id) {
      id = randomUUID();
      this.meta.putSync('id', id);
    }
    this.id = id;
    this.loadedSeq = Number(this.meta.get('loaded') ?? 0);
    let last = 0;
    for (const k of this.entries.getKeys({ reverse: true, limit: 1 })) last = k as number;
    this.seq = Math.max(last, this.loadedSeq);
    this.committedSeq = this.seq;
    for (const { key, value } of this.retained.getRange()) {
      for (let i = 0; i < value.ids.length; i += 2) this.index.add(idHash(value.ids[i]!, value.ids[i + 1]!), key);
    }
    // entries at or below the position are loaded ones a log written before `retained` existed kept whole
    for (const { key, value } of this.entries.getRange()) {
      for (const r of value.rows) this.index.add(idHash(r.org_id, r.event_id), key);
      if (key > this.loadedSeq) {
        this.backlog += value.rows.length;
        this.waiting.set(key, value.t);
      }
    }
  }

  /** Is this event id in the log (appended, being appended, or loaded and still retained)? */
  has(orgId: string, eventId: string): boolean {
    return this.entryOf(orgId, eventId, idHash(orgId, eventId)) >= 0;
  }

  /** The sequence number of the entry holding this event, or -1: index hits are checked against the entry's rows. */
  private entryOf(orgId: string, eventId: string, hash: number): number {
    return this.index.find(hash, (seq) => {
      const fresh = this.fresh.get(seq);
      if (fresh) {
        for (const r of fresh) if (r.event_id === eventId && r.org_id === orgId) return true;
        return false;
      }
      if (this.lastRead?.seq !== seq) {
        // Both databases, whatever the position says: the position commit moves an entry from
        // `entries` to `retained` in one transaction, and reads see that transaction before its
        // promise lets `loadedSeq` move. Read by the position alone, an entry just loaded was in
        // neither place for that moment, and a resend of its events was taken as new (stored
        // twice). `retained` is read last again, so a snapshot moving between two reads still finds it.
        const loaded = seq <= this.loadedSeq;
        let kept = loaded ? this.retained.get(seq) : undefined;
        const rows = kept ? undefined : this.entries.get(seq)?.rows;
        if (!kept && !rows) kept = this.retained.get(seq);
        this.lastRead = { seq, ids: kept ? kept.ids : rows && idsOf(rows) };
      }
      const ids = this.lastRead.ids;
      if (ids) for (let i = 0; i < ids.length; i += 2) if (ids[i + 1] === eventId && ids[i] === orgId) return true;
      return false;
    });
  }

  /** ids held by the index, and the bytes of its table */
  get indexStats() {
    return { ids: this.index.size, bytes: this.index.bytes };
  }

  get backlogRows() {
    return this.backlog;
  }
  get lastSeq() {
    return this.seq;
  }
  get loaded() {
    return this.loadedSeq;
  }
  get limit() {
    return this.o.maxBacklogRows;
  }
  /** when the entry was appended by this process (ms), if it was */
  appendedAt(seq: number): number | undefined {
    return this.waiting.get(seq);
  }
  /** age of the oldest entry not loaded yet, ms (0 when the loader has caught up) */
  lagMs(now = Date.now()): number {
    for (const t of this.waiting.values()) return Math.max(0, now - t);
    return 0;
  }

  /**
   * Appends rows durably: resolves once the transaction holding them is committed and
   * synced. Refuses (BacklogFullError) when the loader is too far behind.
   */
  async append(rows: R[]): Promise<number> {
    // the request gets "send again" (nothing of it was written), never a 2xx
    if (this.closing) throw new Error('the ingestion log is closing');
    if (this.backlog + rows.length > this.o.maxBacklogRows) {
      this.stats.refused += rows.length;
      throw new BacklogFullError(this.backlog, this.o.maxBacklogRows);
    }
    const seq = ++this.seq;
    const t = Date.now();
    const hashes = new Uint32Array(rows.length);
    for (let i = 0; i < rows.length; i++) this.index.add((hashes[i] = idHash(rows[i]!.org_id, rows[i]!.event_id)), seq);
    this.backlog += rows.length;
    this.fresh.set(seq, rows);
    this.waiting.set(seq, t);
    try {
      await this.entries.put(seq, { t, rows });
    } catch (err) {
      this.backlog -= rows.length;
      this.fresh.delete(seq);
      this.waiting.delete(seq);
      for (const h of hashes) this.index.remove(h, seq);
      throw err;
    }
    if (seq > this.committedSeq) this.committedSeq = seq;
    this.stats.appends++;
    this.stats.appendedRows += rows.length;
    this.onAppend?.();
    return seq;
  }

  /** The range an interrupted load was inserting, if any: it must be inserted again as is. */
  pendingRange(): LogRange | null {
    const p = this.meta.get('pending') as LogRange | undefined;
    return p && p.last > this.loadedSeq ? p : null;
  }

  /**
   * The next range to load: committed entries after the loaded position (or after `after`,
   * for a range read ahead while the one before it is inserted), up to `maxRows` rows (at
   * least one entry). Entries still being committed end the range.
   */
  nextRange(maxRows: number, after = this.loadedSeq): LogRange | null {
    const first = after + 1;
    const committedUpTo = this.committedSeq;
    if (first > committedUpTo) return null;
    let rows = 0;
    let last = first - 1;
    let full = false;
    for (let s = first; s <= committedUpTo; s++) {
      const n = this.fresh.get(s)?.length ?? this.entries.get(s)?.rows.length;
      // a sequence number whose append failed has no entry: step over it
      if (n === undefined) {
        last = s;
        continue;
      }
      if (rows > 0 && rows + n > maxRows) {
        full = true;
        break;
      }
      rows += n;
      last = s;
    }
    return last >= first ? { first, last, rows, full: full || rows >= maxRows } : null;
  }

  /** Records the range about to be inserted (durably, before the insert). */
  async markPending(r: LogRange): Promise<void> {
    await this.meta.put('pending', { first: r.first, last: r.last });
  }

  /** The rows of a range, in order, from memory when this process appended them. */
  rowsOf(r: LogRange): R[] {
    const out: R[] = [];
    for (let s = r.first; s <= r.last; s++) {
      const rows = this.fresh.get(s) ?? this.entries.get(s)?.rows;
      if (rows) for (const row of rows) out.push(row);
    }
    return out;
  }

  /**
   * The range is in ClickHouse: move the position past it (durably), and its entries from
   * `entries` to `retained` as their ids (the same transaction: an entry is moved exactly when
   * it counts as loaded).
   */
  async commitLoaded(r: LogRange): Promise<void> {
    let rows = 0;
    await this.root.transaction(() => {
      this.meta.put('loaded', r.last);
      this.meta.remove('pending');
      for (let s = r.first; s <= r.last; s++) {
        const fresh = this.fresh.get(s);
        const stored = fresh ? undefined : this.entries.get(s);
        // a sequence number whose append failed has no entry
        if (!fresh && !stored) continue;
        const whole = fresh ?? stored!.rows;
        rows += whole.length;
        this.retained.put(s, { t: this.waiting.get(s) ?? stored!.t, ids: idsOf(whole) });
        this.entries.remove(s);
      }
    });
    this.lastRead = null;
    for (let s = r.first; s <= r.last; s++) {
      this.fresh.delete(s);
      this.waiting.delete(s);
    }
    this.loadedSeq = Math.max(this.loadedSeq, r.last);
    this.backlog = Math.max(0, this.backlog - rows);
  }

  /** Removes loaded entries older than the retention, and their ids. Returns entries removed. */
  async prune(now = Date.now(), maxEntries = 10_000): Promise<number> {
    const cutoff = now - this.o.retainMs;
    // loaded entries a log written before `retained` existed kept whole, then the retained ids
    const older = this.entries.getRange({ end: this.loadedSeq + 1, limit: maxEntries });
    const sources = [[this.entries, older.map(({ key, value }) => ({ key, t: value.t, ids: idsOf(value.rows) }))], [this.retained, this.retained.getRange({ limit: maxEntries }).map(({ key, value }) => ({ key, ...value }))]] as const;
    const doomed: Array<[Database<never, number>, number]> = [];
    for (const [db, range] of sources) {
      for (const { key, t, ids } of range) {
        if (t > cutoff || doomed.length >= maxEntries) break;
        doomed.push([db as Database<never, number>, key]);
        // only this entry's slots: an id appended again later (after a right-to-be-forgotten delete) keeps its newer one
        for (let i = 0; i < ids.length; i += 2) this.index.remove(idHash(ids[i]!, ids[i + 1]!), key);
      }
    }
    if (doomed.length === 0) return 0;
    this.lastRead = null;
    this.index.shrinkIfSparse();
    await this.root.transaction(() => {
      for (const [db, key] of doomed) db.remove(key);
    });
    this.stats.pruned += doomed.length;
    return doomed.length;
  }

  /**
   * Prunes until nothing loaded is older than the retention, `chunk` entries per transaction
   * with a turn of the event loop between them (a transaction's removes are written at its
   * commit, on LMDB's thread; the reads that find them run here). Returns entries removed.
   */
  async pruneAll(now = Date.now(), chunk = 5_000): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.prune(now, chunk);
      total += n;
      if (n < chunk) return total;
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Size of the log's data file and its pages in use, bytes (what pruning keeps bounded). */
  footprint(): { fileBytes: number; usedBytes: number; entries: number } {
    const st = this.root.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number; lastPageNumber: number };
    const dbs = [this.entries, this.retained, this.meta].map((d) => d.getStats() as { treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number; entryCount: number });
    const pages = dbs.reduce((a, d) => a + d.treeBranchPageCount + d.treeLeafPageCount + d.overflowPages, 0);
    return { fileBytes: (st.lastPageNumber + 1) * st.pageSize, usedBytes: pages * st.pageSize, entries: dbs[0]!.entryCount + dbs[1]!.entryCount };
  }

  /**
   * Forgets ids (right to be forgotten: deleted events may be sent again). In memory only: the
   * ids stay in their retained entries, so a restart within the retention knows them again.
   */
  forget(orgId: string, eventIds: string[]): void {
    for (const id of eventIds) {
      const h = idHash(orgId, id);
      for (let seq = this.entryOf(orgId, id, h); seq >= 0; seq = this.entryOf(orgId, id, h)) this.index.remove(h, seq);
    }
  }

  private closing = false;

  /**
   * Closes the log once the writes queued before the call are committed: lmdb-js starts a
   * queued write on the next turn of the event loop, and a close in between made that write fail
   * outside any promise ("The environment is already closed"), killing the process at a stop
   * under load. Appends after this call are refused.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.root.committed;
    await this.root.close();
  }
}
