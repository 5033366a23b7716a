/**
 * The loader: moves the ingestion log into ClickHouse in large inserts, in log
 * order, exactly once.
 *
 * Each round takes the committed entries after the loaded position, up to
 * `batchSize` rows (waiting up to `maxDelayMs` from the oldest one for more when
 * the batch is small), records that range as pending in the log, inserts it with
 * `insert_deduplication_token = <log id>:<first>-<last>`, then moves the
 * position past it. A crash between the insert and the position commit leaves
 * the range pending: the next start inserts that range again, and must store
 * only what the first insert did not.
 *
 * The token alone cannot promise that on a plain MergeTree (the embedded engine,
 * a single server; the table keeps its recent tokens,
 * `non_replicated_deduplication_window`, migration 0003): the part and the record
 * of its token are two writes, and a process killed between them leaves a part
 * without its record (the range would be stored twice) or, in older engines, a
 * record without its part (the range would be dropped as a repeat and lost). So
 * a range inserted again is first checked against the table (`missingOf`): only
 * its rows not stored are inserted. When none is stored the original token is
 * kept (a server may still be finishing the dead process's insert, and then
 * drops one of the two), and what is still missing after that insert goes in
 * under a token of its own. Every row of the log is stored once however the
 * process dies.
 *
 * Only after the position commit are rows announced (`onLoaded`: bus, answer
 * caches, plugin handlers): events become visible when they are in ClickHouse.
 *
 * With `prepare` (the insert's encoding), a full range that follows the one being
 * inserted is encoded meanwhile, so under heavy traffic the engine is not left idle
 * while the next body is built on a busy event loop. Only the encoding runs ahead:
 * ranges are still marked pending, inserted and committed one at a time, in order.
 *
 * Test hook: `ORRERY_TEST_CRASH_AFTER_INSERT=1` kills the process with SIGKILL
 * right after the first insert of a run whose range ends at or after the
 * `ORRERY_TEST_CRASH_AFTER_SEQ` sequence number (default 1).
 */
import type { EventLog, LogRange } from './log.ts';

export interface LoaderOptions<R extends { org_id: string; event_id: string }, P = unknown> {
  log: EventLog<R>;
  batchSize: number;
  maxDelayMs: number;
  /**
   * Busy traffic: a batch that gathered at least `busyRows` rows in its `maxDelayMs` keeps
   * gathering up to `busyDelayMs` after its oldest row, or until it holds `targetRows`.
   * Each insert costs the engine a fixed ~9 ms of CPU whatever its size (a part written),
   * so at thousands of events a second a few more inserts of a few hundred rows each are
   * CPU taken from the requests; at low rates the short delay keeps events visible sooner.
   * Off when `busyDelayMs <= maxDelayMs`.
   */
  busyRows?: number;
  busyDelayMs?: number;
  targetRows?: number;
  /** retry delay after a failed insert, ms */
  retryMs?: number;
  /** Builds a range's insert (its encoded body): run ahead for the next full range while an insert is under way. */
  prepare?(rows: R[]): Promise<P>;
  /** Inserts the range's rows; `prepared` is `prepare`'s result for these rows, when there is one. */
  insert(rows: R[], token: string, prepared?: P): Promise<void>;
  /**
   * Of the rows of a range inserted again after a crash, those not stored yet (looked up in
   * the table). Without it a range is inserted again as a whole and only the token guards it.
   */
  missingOf?(rows: R[]): Promise<R[]>;
  onLoaded(rows: R[], range: LogRange): void;
  onError(err: unknown, range: LogRange): void;
}

/** The range after the one being inserted, its insert built meanwhile. */
interface Ahead<R, P> {
  range: LogRange;
  rows: R[];
  prepared: Promise<P>;
}

export class Loader<R extends { org_id: string; event_id: string }, P = unknown> {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private idle = false;
  /** sleeping while a small batch gathers company: woken early once it reaches targetRows */
  private gathering = false;
  private waiters: Array<{ seq: number; resolve(): void; reject(err: unknown): void }> = [];
  readonly stats = {
    inserts: 0, rows: 0, maxRows: 0, failures: 0, preparedAhead: 0, lastInsertMs: 0, lastLoadedAt: 0,
    /** ranges inserted again after a crash; of their rows, those found already stored and left out */
    redone: 0, redoneStoredRows: 0,
  };

  constructor(private readonly o: LoaderOptions<R, P>) {}

  start() {
    if (this.running) return;
    this.running = true;
    // an append wakes the loader only when it is idle; a batch gathering company sleeps its delay out
    const target = this.o.targetRows ?? Infinity;
    this.o.log.onAppend = () => (this.idle || (this.gathering && this.o.log.backlogRows >= target)) && this.poke();
    this.loop = this.run();
  }

  /** Stops after the current round. With `drain`, loads everything committed so far first. */
  async stop(drain = true, drainTimeoutMs = 30_000): Promise<void> {
    if (drain && this.running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.waitFor(this.o.log.lastSeq).catch(() => undefined),
        new Promise<void>((r) => (timer = setTimeout(r, drainTimeoutMs))),
      ]);
      clearTimeout(timer);
    }
    this.running = false;
    this.o.log.onAppend = null;
    this.poke();
    await this.loop;
    for (const w of this.waiters.splice(0)) w.reject(new Error('loader stopped'));
  }

  /** Resolves once every entry up to `seq` is loaded. */
  waitFor(seq: number): Promise<void> {
    if (this.o.log.loaded >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.poke();
    });
  }

  private poke() {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /**
   * How long a range should still wait for company before its insert (<= 0: load it now): a
   * small batch waits up to maxDelayMs after its oldest row was appended; busy traffic waits
   * on, up to busyDelayMs or targetRows (see LoaderOptions.busyRows).
   */
  private waitLeft(range: LogRange): { left: number; busy: boolean } {
    const since = this.o.log.appendedAt(range.first);
    const gathered = range.rows ?? 0;
    if (gathered >= this.o.batchSize || since === undefined || this.waiters.length > 0) return { left: 0, busy: false };
    const age = Date.now() - since;
    const left = this.o.maxDelayMs - age;
    const busy = left <= 0 && gathered >= (this.o.busyRows ?? Infinity) && gathered < (this.o.targetRows ?? Infinity);
    return busy ? { left: (this.o.busyDelayMs ?? 0) - age, busy } : { left, busy };
  }

  /** The range after `current`, its insert built now, when it is full (it would not grow by waiting). */
  private readAhead(current: LogRange): Ahead<R, P> | null {
    if (!this.o.prepare) return null;
    const range = this.o.log.nextRange(this.o.batchSize, current.last);
    if (!range?.full) return null;
    const rows = this.o.log.rowsOf(range);
    const prepared = this.o.prepare(rows);
    // a failure is met when the range's turn comes (its insert fails and is retried)
    prepared.catch(() => {});
    return { range, rows, prepared };
  }

  /** A range a crash interrupted: insert what of it is not stored (see the header). */
  private async insertAgain(rows: R[], token: string) {
    const missing = await this.o.missingOf!(rows);
    this.stats.redoneStoredRows += rows.length - missing.length;
    if (missing.length === 0) return;
    let rest = missing;
    if (missing.length === rows.length) {
      await this.o.insert(rows, token, await this.o.prepare?.(rows));
      rest = await this.o.missingOf!(rows);
      if (rest.length === 0) return;
    }
    // a token no block can have had: none of these rows is stored, so none may be dropped
    const own = `${token}:rest:${Date.now().toString(36)}:${Math.random().toString(36).slice(2)}`;
    await this.o.insert(rest, own, await this.o.prepare?.(rest));
  }

  private async run() {
    const log = this.o.log;
    const crashSeq = process.env.ORRERY_TEST_CRASH_AFTER_INSERT === '1' ? Number(process.env.ORRERY_TEST_CRASH_AFTER_SEQ ?? 1) : 0;
    let ahead: Ahead<R, P> | null = null;
    while (this.running) {
      let range = log.pendingRange();
      const redo = range !== null;
      if (!range) {
        if (ahead && ahead.range.first === log.loaded + 1) range = ahead.range;
        else {
          ahead = null;
          range = log.nextRange(this.o.batchSize);
          if (!range) {
            this.idle = true;
            await this.sleep(1000);
            this.idle = false;
            continue;
          }
          const { left, busy } = this.waitLeft(range);
          if (left > 0) {
            this.gathering = busy;
            await this.sleep(left);
            this.gathering = false;
            continue;
          }
        }
        await log.markPending(range);
      }
      const built = ahead && ahead.range.first === range.first && ahead.range.last === range.last ? ahead : null;
      ahead = null;
      const rows = built ? built.rows : log.rowsOf(range);
      const token = `${log.id}:${range.first}-${range.last}`;
      try {
        const t0 = performance.now();
        if (rows.length && redo && this.o.missingOf) await this.insertAgain(rows, token);
        else if (rows.length) {
          const prepared = built ? await built.prepared : await this.o.prepare?.(rows);
          const inserting = this.o.insert(rows, token, prepared);
          // the engine inserts this range on its own threads: build the next one meanwhile
          ahead = this.readAhead(range);
          if (ahead) this.stats.preparedAhead++;
          await inserting;
        }
        this.stats.lastInsertMs = performance.now() - t0;
      } catch (err) {
        ahead = null;
        this.stats.failures++;
        this.o.onError(err, range);
        // the range stays pending: retried with the same token, so a write that did land is dropped
        await this.sleep(this.o.retryMs ?? 1000);
        continue;
      }
      if (crashSeq && range.last >= crashSeq) process.kill(process.pid, 'SIGKILL');
      await log.commitLoaded(range);
      this.stats.inserts++;
      this.stats.rows += rows.length;
      if (redo) this.stats.redone++;
      if (rows.length > this.stats.maxRows) this.stats.maxRows = rows.length;
      this.stats.lastLoadedAt = Date.now();
      if (rows.length) this.o.onLoaded(rows, range);
      if (this.waiters.length) {
        const done = this.waiters.filter((w) => w.seq <= log.loaded);
        this.waiters = this.waiters.filter((w) => w.seq > log.loaded);
        for (const w of done) w.resolve();
      }
    }
  }
}
