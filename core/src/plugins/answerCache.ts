/**
 * Remembered answers of analytics routes that opt in (`cache` on a route declaration).
 *
 * A dashboard asks the same questions again and again — every reload, every tab, every
 * time range picked twice — and on a quiet org the events behind them have not changed.
 * An answer is kept per org, caller (user, role and departments: what the caller may
 * see) and exact request, and is served only while the org's data is unchanged since it
 * was computed: every commit of events for the org, a right-to-be-forgotten delete and
 * a plugin switch move the org's data version on, on this node at once and on the
 * others through the bus. So a widget that refetches because events arrived always gets
 * an answer that includes them. A maximum age bounds what the version cannot see (a
 * department re-assigned in PostgreSQL, the clock moving a relative range along).
 */
export interface AnswerCacheOptions {
  /** entries kept on this node, least recently used dropped first */
  maxEntries: number;
}

interface Entry {
  version: number;
  expires: number;
  value: unknown;
}

export class AnswerCache {
  private readonly entries = new Map<string, Entry>();
  private readonly versions = new Map<string, number>();
  /** hits and misses, for /metrics and the benchmarks */
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly opts: AnswerCacheOptions = { maxEntries: 2000 }) {}

  /** The org's data changed: answers computed before now are not served again. */
  changed(orgId: string) {
    this.versions.set(orgId, (this.versions.get(orgId) ?? 0) + 1);
  }

  /** Forget everything (a test, or a node that lost its bus connection). */
  clear() {
    this.entries.clear();
  }

  /**
   * The remembered answer for `key` in `orgId`, or `compute()`'s, remembered when the
   * org's data did not change while it ran.
   */
  async get(orgId: string, key: string, maxAgeMs: number, compute: () => Promise<unknown>): Promise<{ value: unknown; hit: boolean }> {
    const fullKey = `${orgId}\u0000${key}`;
    const version = this.versions.get(orgId) ?? 0;
    const now = Date.now();
    const e = this.entries.get(fullKey);
    if (e && e.version === version && e.expires > now) {
      // refresh its place in the LRU order
      this.entries.delete(fullKey);
      this.entries.set(fullKey, e);
      this.stats.hits++;
      return { value: e.value, hit: true };
    }
    this.stats.misses++;
    const value = await compute();
    // a commit that landed while the answer was computed may or may not be in it: keep it only if none did
    if ((this.versions.get(orgId) ?? 0) === version) {
      this.entries.delete(fullKey);
      this.entries.set(fullKey, { version, expires: now + maxAgeMs, value });
      while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return { value, hit: false };
  }

  get size() {
    return this.entries.size;
  }
}
