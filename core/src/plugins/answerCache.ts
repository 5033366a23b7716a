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
 *
 * A plugin whose routes also read its own rows says when it wrote them (`ctx.answersChanged()`):
 * that moves only its own answers on, so a dashboard saving its layout does not make every
 * analytics answer stale.
 *
 * Answers somebody is looking at are kept fresh: when the org's data changes, the answers
 * read since they were last computed are computed again in the background, one at a time,
 * shortly after the change. A widget refetching on a live notice, or a dashboard opened
 * again, then finds the new answer ready (or joins its computation when it is under way)
 * instead of every widget computing at once. An answer nobody read since its last refresh
 * is not refreshed again, so background work follows what people actually look at.
 */
export interface AnswerCacheOptions {
  /** entries kept on this node, least recently used dropped first */
  maxEntries: number;
  /** wait after a change before refreshing, so a burst of commits costs one refresh; 0 = no refresh */
  refreshDelayMs: number;
  /** answers refreshed per org and round, most recently used first */
  refreshPerRound: number;
}

/** How an answer came: computed for this request, remembered from an earlier one, or refreshed in the background. */
export type AnswerSource = 'computed' | 'remembered' | 'refreshed';

interface Entry {
  orgId: string;
  pluginId: string;
  /** `<org data version>.<plugin data version>` when it was computed */
  version: string;
  expires: number;
  maxAgeMs: number;
  value: unknown;
  compute: () => Promise<unknown>;
  source: 'computed' | 'refreshed';
  /** served since it was last computed: worth refreshing when the data changes */
  read: boolean;
}

interface OrgRefresh {
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  again: boolean;
}

const DEFAULTS: AnswerCacheOptions = { maxEntries: 2000, refreshDelayMs: 150, refreshPerRound: 64 };

export class AnswerCache {
  private readonly opts: AnswerCacheOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly versions = new Map<string, number>();
  /** computations under way, joined by identical requests for the same data version */
  private readonly pending = new Map<string, { version: string; promise: Promise<unknown> }>();
  private readonly refreshes = new Map<string, OrgRefresh>();
  private stopped = false;
  /** for /metrics and the benchmarks */
  readonly stats = { hits: 0, misses: 0, joined: 0, refreshed: 0 };

  constructor(opts: Partial<AnswerCacheOptions> = {}) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  private bump(scope: string) {
    this.versions.set(scope, (this.versions.get(scope) ?? 0) + 1);
  }

  /** The data version an answer of `pluginId` in `orgId` is computed against. */
  private version(orgId: string, pluginId: string) {
    return `${this.versions.get(orgId) ?? 0}.${this.versions.get(`${orgId}\u0000${pluginId}`) ?? 0}`;
  }

  /**
   * The org's events changed (no `pluginId`), or what one plugin's answers read did: answers
   * computed before now are not served again; the read ones are refreshed.
   */
  changed(orgId: string, pluginId?: string) {
    this.bump(pluginId ? `${orgId}\u0000${pluginId}` : orgId);
    if (this.opts.refreshDelayMs > 0 && !this.stopped) this.scheduleRefresh(pluginId ? `${orgId}\u0000${pluginId}\u0000` : `${orgId}\u0000`);
  }

  /**
   * The org's answers may no longer be computed as they were (its plugins were switched,
   * a caller's role or departments changed): drop them instead of refreshing them.
   */
  forget(orgId: string) {
    this.bump(orgId);
    const prefix = `${orgId}\u0000`;
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  /** Forget everything (a test, or a node that lost its bus connection). */
  clear() {
    this.entries.clear();
  }

  /** No more background work (the node is stopping). */
  stop() {
    this.stopped = true;
    for (const r of this.refreshes.values()) if (r.timer) clearTimeout(r.timer);
    this.refreshes.clear();
  }

  /** Resolves when no refresh is scheduled or running (tests, benchmarks). */
  async settled(): Promise<void> {
    for (;;) {
      const busy = [...this.refreshes.values()].filter((r) => r.timer || r.running);
      if (!busy.length) return;
      await Promise.all(busy.map((r) => r.running ?? new Promise((res) => setTimeout(res, this.opts.refreshDelayMs))));
    }
  }

  /**
   * The remembered answer for `key` in `orgId`, or `compute()`'s, remembered when the
   * org's data did not change while it ran. `fresh` skips the remembered answer (a client
   * that sent `Cache-Control: no-cache`), and its answer replaces it.
   */
  async get(orgId: string, pluginId: string, key: string, maxAgeMs: number, compute: () => Promise<unknown>, opts: { fresh?: boolean } = {}): Promise<{ value: unknown; hit: boolean; source: AnswerSource }> {
    const fullKey = `${orgId}\u0000${pluginId}\u0000${key}`;
    const version = this.version(orgId, pluginId);
    const e = this.entries.get(fullKey);
    if (!opts.fresh && e && e.version === version && e.expires > Date.now()) {
      // refresh its place in the LRU order
      this.entries.delete(fullKey);
      this.entries.set(fullKey, e);
      e.read = true;
      this.stats.hits++;
      return { value: e.value, hit: true, source: e.source === 'refreshed' ? 'refreshed' : 'remembered' };
    }
    const under = this.pending.get(fullKey);
    if (!opts.fresh && under && under.version === version) {
      // the same answer is being computed since the last change: wait for it instead of computing it twice
      this.stats.joined++;
      const value = await under.promise;
      const stored = this.entries.get(fullKey);
      if (stored?.version === version) stored.read = true;
      return { value, hit: false, source: 'computed' };
    }
    this.stats.misses++;
    const value = await this.compute(orgId, pluginId, fullKey, maxAgeMs, compute, 'computed');
    return { value, hit: false, source: 'computed' };
  }

  /** Runs `compute` as the one computation of `fullKey` for the current version and keeps its answer. */
  private compute(orgId: string, pluginId: string, fullKey: string, maxAgeMs: number, compute: () => Promise<unknown>, source: Entry['source']): Promise<unknown> {
    const version = this.version(orgId, pluginId);
    const started = Date.now();
    const promise = compute().then((value) => {
      // a commit that landed while the answer was computed may or may not be in it: keep it only if none did
      if (this.version(orgId, pluginId) === version) {
        this.entries.delete(fullKey);
        this.entries.set(fullKey, { orgId, pluginId, version, expires: started + maxAgeMs, maxAgeMs, value, compute, source, read: source === 'computed' });
        while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      }
      return value;
    });
    const mine = { version, promise };
    this.pending.set(fullKey, mine);
    const done = () => { if (this.pending.get(fullKey) === mine) this.pending.delete(fullKey); };
    promise.then(done, done);
    return promise;
  }

  /** Schedules a refresh of the answers whose keys start with `prefix` (an org's, or one plugin's in an org). */
  private scheduleRefresh(prefix: string) {
    let r = this.refreshes.get(prefix);
    if (!r) this.refreshes.set(prefix, (r = { timer: null, running: null, again: false }));
    if (r.running) {
      r.again = true; // the round under way computes for an older version: go again after it
      return;
    }
    if (r.timer) return;
    const state = r;
    r.timer = setTimeout(() => {
      state.timer = null;
      state.running = this.refreshRound(prefix).finally(() => {
        state.running = null;
        if (state.again && !this.stopped) {
          state.again = false;
          this.scheduleRefresh(prefix);
        } else if (!state.timer) this.refreshes.delete(prefix);
      });
    }, this.opts.refreshDelayMs);
    r.timer.unref?.();
  }

  /** Recomputes the answers under `prefix` read since their last computation, most recently used first, one at a time. */
  private async refreshRound(prefix: string) {
    const now = Date.now();
    const due: Array<[string, Entry, string]> = [];
    for (const [k, e] of this.entries) {
      if (!k.startsWith(prefix) || !e.read || e.expires <= now) continue;
      const version = this.version(e.orgId, e.pluginId);
      if (e.version !== version) due.push([k, e, version]);
    }
    for (const [k, e, version] of due.reverse().slice(0, this.opts.refreshPerRound)) {
      // the data moved on again: this answer would be stale at once; the next round starts over
      if (this.stopped || this.version(e.orgId, e.pluginId) !== version) return;
      if (this.entries.get(k) !== e || this.pending.get(k)?.version === version) continue; // a request got there first
      this.stats.refreshed++;
      await this.compute(e.orgId, e.pluginId, k, e.maxAgeMs, e.compute, 'refreshed').catch(() => {
        this.entries.delete(k); // it failed in the background: the next request computes it and sees the error
      });
    }
  }

  get size() {
    return this.entries.size;
  }
}
