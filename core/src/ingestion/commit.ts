/**
 * Group commit: requests hand their rows to one committer per process, which
 * inserts them into ClickHouse in batches (size or delay, whichever first) and
 * resolves each request's promise only when the insert holding its rows has
 * returned. That is what lets the route answer 2xx only after the commit
 * without paying one insert per request.
 *
 * While an insert is running the queue keeps filling, so under load batches
 * grow by themselves and the insert rate follows the arrival rate.
 */

export interface CommitRow {
  org_id: string;
  event_id: string;
  [column: string]: unknown;
}

export interface CommitterOptions<R extends CommitRow> {
  batchSize: number;
  maxDelayMs: number;
  /** inserts in flight at once (1 for the embedded engine, more for a server) */
  maxConcurrent: number;
  insert(rows: R[]): Promise<void>;
  /**
   * Keys (`org_id\u0000event_id`) of rows already stored. Run once per batch,
   * right before the insert: it catches a resend whose first copy was
   * committed before a restart that emptied an in-process dedup store.
   */
  alreadyStored?(rows: R[]): Promise<Set<string>>;
  onCommitted?(rows: R[], startedAt: number): void;
  onError?(err: unknown, rows: R[]): void;
}

interface Entry<R> {
  rows: R[];
  resolve(dups: Set<string>): void;
  reject(err: unknown): void;
}

export const rowKey = (orgId: string, eventId: string) => `${orgId}\u0000${eventId}`;

export class GroupCommitter<R extends CommitRow> {
  private queue: Entry<R>[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  /** counters for /metrics and the benchmark */
  readonly stats = { batches: 0, rows: 0, maxBatch: 0, failures: 0 };

  private inserting = 0;
  private slotWaiters: Array<() => void> = [];

  constructor(private readonly o: CommitterOptions<R>) {}

  /** At most maxConcurrent inserts at once; batches wait their turn in arrival order. */
  private async insertSlot(fn: () => Promise<void>) {
    if (this.inserting >= this.o.maxConcurrent) await new Promise<void>((r) => this.slotWaiters.push(r));
    this.inserting++;
    try {
      await fn();
    } finally {
      this.inserting--;
      this.slotWaiters.shift()?.();
    }
  }

  /** Resolves with the keys of rows found already stored (not inserted again) once the batch is committed. */
  submit(rows: R[]): Promise<Set<string>> {
    if (rows.length === 0) return Promise.resolve(new Set());
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.queued += rows.length;
      // Nothing being written: waiting would only add latency, so write now. While an insert
      // runs, rows gather until it ends, the batch is full or maxDelayMs passes.
      if (this.queued >= this.o.batchSize || this.inflight === 0) this.kick();
      else if (!this.timer) this.timer = setTimeout(() => this.onTimer(), this.o.maxDelayMs);
    });
  }

  get pendingRows() {
    return this.queued;
  }

  /** Waits until everything queued so far is committed (used on shutdown). */
  async drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.kick();
    if (this.queued === 0 && this.inflight === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private onTimer() {
    this.timer = null;
    this.kick();
  }

  private kick() {
    // one more batch than inserts may be in flight: its dedup check overlaps the running insert
    while (this.inflight < this.o.maxConcurrent + (this.o.alreadyStored ? 1 : 0) && this.queue.length) {
      const take: Entry<R>[] = [];
      let n = 0;
      while (this.queue.length && (n === 0 || n + this.queue[0]!.rows.length <= this.o.batchSize)) {
        const e = this.queue.shift()!;
        take.push(e);
        n += e.rows.length;
      }
      this.queued -= n;
      this.inflight++;
      void this.flush(take).finally(() => {
        this.inflight--;
        // rows that queued during this insert have already waited as long as it took: send them now
        // rather than on the timer (natural group commit: batch size follows the load)
        if (this.queue.length) this.kick();
        if (this.queued === 0 && this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
    if (this.queue.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private async flush(entries: Entry<R>[]) {
    const startedAt = Date.now();
    const all = entries.length === 1 ? entries[0]!.rows : entries.flatMap((e) => e.rows);
    try {
      const stored = this.o.alreadyStored ? await this.o.alreadyStored(all) : new Set<string>();
      const rows = stored.size ? all.filter((r) => !stored.has(rowKey(r.org_id, r.event_id))) : all;
      if (rows.length) await this.insertSlot(() => this.o.insert(rows));
      this.stats.batches++;
      this.stats.rows += rows.length;
      if (rows.length > this.stats.maxBatch) this.stats.maxBatch = rows.length;
      for (const e of entries) e.resolve(stored);
      if (rows.length) this.o.onCommitted?.(rows, startedAt);
    } catch (err) {
      this.stats.failures++;
      this.o.onError?.(err, all);
      for (const e of entries) e.reject(err);
    }
  }
}
