/**
 * The event client for agent hosts: `track()` is cheap and never throws on
 * network trouble; events are batched, retried with exponential backoff and
 * full jitter, and — with a `bufferDir` — journaled to disk first, so events
 * tracked before a crash or restart of the host are sent when it comes back.
 *
 * Resends are idempotent: an event's `event_id` is fixed when it is tracked
 * and written to the journal with it, so the server recognises a resend of an
 * event it already committed (answer `duplicate`) and stores it once.
 *
 * The journal is two append-only files: `events.jsonl` (tracked events) and
 * `acked.txt` (ids the server has answered for). Pending = events − acked.
 * Both are compacted when everything is acknowledged or the ack log grows.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OrreryEvent, QueuedEvent } from './events.ts';

export interface EventClientOptions {
  /** base URL of the Orrery server, e.g. http://localhost:7007 */
  url: string;
  /** a hook token (POST /api/v1/tokens with kind "hook") */
  token: string;
  /** folder for the on-disk buffer; without it, events live in memory only */
  bufferDir?: string;
  /** events per request (≤ 10,000) */
  batchSize?: number;
  /** how long a tracked event may wait for its batch */
  flushIntervalMs?: number;
  /** first retry delay and cap (exponential with full jitter in between) */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** per-request timeout */
  timeoutMs?: number;
  /** in-memory cap; beyond it the oldest events are dropped (and reported) */
  maxQueue?: number;
  /** events the server refused for good (invalid → quarantined there, or wrong org) */
  onRejected?(event: QueuedEvent, error: { code: string; message: string; details?: unknown }): void;
  /** transport problems (the events are kept and retried) */
  onError?(err: Error): void;
  fetch?: typeof fetch;
}

export interface EventClientStats {
  tracked: number;
  sent: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  retries: number;
  requests: number;
  dropped: number;
}

interface BatchAnswer {
  accepted: number;
  rejected: number;
  results: Array<{ event_id: string | null; status: 'accepted' | 'duplicate' | 'invalid' | 'rejected' | 'retry'; error?: { code: string; message: string; details?: unknown } }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Exponential backoff with full jitter (AWS architecture blog): spreads retries of many hosts. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

export class EventClient {
  private queue: QueuedEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private closed = false;
  private attempt = 0;
  private ackedSinceCompaction = 0;
  private readonly o: Required<Omit<EventClientOptions, 'bufferDir' | 'onRejected' | 'onError' | 'fetch'>> & EventClientOptions;
  readonly stats: EventClientStats = { tracked: 0, sent: 0, accepted: 0, duplicates: 0, rejected: 0, retries: 0, requests: 0, dropped: 0 };

  constructor(opts: EventClientOptions) {
    this.o = { batchSize: 500, flushIntervalMs: 1000, retryBaseMs: 250, retryMaxMs: 30_000, timeoutMs: 30_000, maxQueue: 1_000_000, ...opts };
    this.o.url = this.o.url.replace(/\/+$/, '');
    if (this.o.bufferDir) this.recover();
  }

  private get journal() {
    return join(this.o.bufferDir!, 'events.jsonl');
  }
  private get acks() {
    return join(this.o.bufferDir!, 'acked.txt');
  }

  /** Reloads events tracked but never acknowledged by a previous process. */
  private recover() {
    mkdirSync(this.o.bufferDir!, { recursive: true });
    if (!existsSync(this.journal)) return;
    const acked = new Set(existsSync(this.acks) ? readFileSync(this.acks, 'utf8').split('\n').filter(Boolean) : []);
    for (const line of readFileSync(this.journal, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as QueuedEvent;
        if (!acked.has(e.event_id)) this.queue.push(e);
      } catch {
        // a line torn by a crash mid-write: the event was never acknowledged to the caller's process either
      }
    }
    this.compact();
    if (this.queue.length) this.schedule(0);
  }

  /** Rewrites the journal with only the pending events (temp file + rename: never half-written). */
  private compact() {
    if (!this.o.bufferDir) return;
    const tmp = `${this.journal}.tmp`;
    writeFileSync(tmp, this.queue.map((e) => JSON.stringify(e) + '\n').join(''));
    renameSync(tmp, this.journal);
    writeFileSync(this.acks, '');
    this.ackedSinceCompaction = 0;
  }

  /** Queues an event; returns its event_id. */
  track(event: OrreryEvent): string {
    if (this.closed) throw new Error('event client is closed');
    const e = { ...event, event_id: event.event_id ?? randomUUID(), timestamp: event.timestamp ?? new Date().toISOString() } as QueuedEvent;
    // journal first: once track() returns, a crash of this process no longer loses the event
    if (this.o.bufferDir) appendFileSync(this.journal, JSON.stringify(e) + '\n');
    this.queue.push(e);
    this.stats.tracked++;
    if (this.queue.length > this.o.maxQueue) {
      const dropped = this.queue.splice(0, this.queue.length - this.o.maxQueue);
      this.stats.dropped += dropped.length;
      this.o.onError?.(new Error(`event queue over ${this.o.maxQueue}: dropped the ${dropped.length} oldest events`));
    }
    if (this.queue.length >= this.o.batchSize) this.schedule(0);
    else this.schedule(this.o.flushIntervalMs);
    return e.event_id;
  }

  get pending() {
    return this.queue.length;
  }

  private schedule(ms: number) {
    if (this.sending) return;
    if (this.timer && ms > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pump();
    }, ms);
    if (!this.closed) this.timer.unref?.();
  }

  /** Sends until the queue is empty or a send fails (then backs off and tries again). */
  private pump(): Promise<void> {
    if (this.sending) return this.sending;
    this.sending = (async () => {
      try {
        while (this.queue.length) {
          const batch = this.queue.slice(0, this.o.batchSize);
          const ok = await this.send(batch);
          if (!ok) {
            const delay = backoffDelay(this.attempt++, this.o.retryBaseMs, this.o.retryMaxMs);
            this.stats.retries++;
            await sleep(Math.max(delay, 10));
            if (this.closed && this.closeDeadline && Date.now() > this.closeDeadline) return;
            continue;
          }
          this.attempt = 0;
        }
      } finally {
        this.sending = null;
      }
    })();
    return this.sending;
  }

  private closeDeadline = 0;

  /** One request. Returns false when the whole batch must be retried. */
  private async send(batch: QueuedEvent[]): Promise<boolean> {
    const f = this.o.fetch ?? fetch;
    this.stats.requests++;
    let res: Response;
    try {
      res = await f(`${this.o.url}/api/v1/events/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.o.token}`, 'x-schema-version': '2' },
        body: JSON.stringify({ events: batch }),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (err) {
      this.o.onError?.(err as Error);
      return false;
    }
    if (res.status === 413 && batch.length > 1) {
      // too big for the server's body limit: halve the batch size and go again
      this.o.batchSize = Math.max(1, Math.floor(batch.length / 2));
      await res.body?.cancel();
      return true;
    }
    if (res.status !== 200) {
      const text = await res.text().catch(() => '');
      this.o.onError?.(new Error(`POST /api/v1/events/batch answered ${res.status}: ${text.slice(0, 300)}`));
      return false;
    }
    const answer = (await res.json()) as BatchAnswer;
    this.stats.sent += batch.length;
    const done = new Set<string>();
    const retry = new Set<string>();
    answer.results.forEach((r, i) => {
      const e = batch[i]!;
      switch (r.status) {
        case 'accepted': this.stats.accepted++; done.add(e.event_id); break;
        case 'duplicate': this.stats.duplicates++; done.add(e.event_id); break;
        case 'retry': retry.add(e.event_id); break;
        default:
          this.stats.rejected++;
          done.add(e.event_id);
          this.o.onRejected?.(e, r.error ?? { code: r.status, message: r.status });
      }
    });
    this.acknowledge(done);
    return retry.size === 0;
  }

  private acknowledge(ids: Set<string>) {
    if (ids.size === 0) return;
    this.queue = this.queue.filter((e) => !ids.has(e.event_id));
    if (!this.o.bufferDir) return;
    appendFileSync(this.acks, [...ids].join('\n') + '\n');
    this.ackedSinceCompaction += ids.size;
    if (this.queue.length === 0 || this.ackedSinceCompaction > 50_000) this.compact();
  }

  /** Sends everything queued now; resolves when the queue is empty. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.queue.length) await this.pump();
  }

  /**
   * Sends what it can within `timeoutMs`, then stops. Whatever is left stays
   * in the on-disk buffer (if any) for the next start.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    this.closeDeadline = Date.now() + timeoutMs;
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([this.flush(), sleep(timeoutMs)]);
    if (this.timer) clearTimeout(this.timer);
  }
}

export function createEventClient(opts: EventClientOptions): EventClient {
  return new EventClient(opts);
}
