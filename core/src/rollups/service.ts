/**
 * Keeps the plugins' declared rollups (plugin-sdk rollupsDecl.ts) up to date off the insert path.
 *
 * A fold takes the source rows with `inserted_at` in (W, W'] — W the watermark reached so far,
 * W' = now − grace on ClickHouse's clock — aggregates them once into the root's scratch table,
 * derives every other table from its parent's scratch rows in dependency order, then publishes
 * (inserts into the real tables) and moves W to W'. Readers take the watermark under a gate that
 * a publish closes, so a reader never sees rows of a fold together with the watermark before it.
 *
 * Crash safety: W' is written down (`pending_to_ms`) before anything is published, and a fold
 * after a restart redoes that same window: it first puts the buckets the window touches back to
 * W (`undoWindow`, a rebuild from raw), since what a kill inside a publish left cannot be told
 * from the tokens, then folds the window under a token of its own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';
import type { Logger, Org, PgMigration, RollupDecl, RollupReader } from '@orrery/plugin-sdk';
import { DAY_MS, deriveAllPlan, foldPlan, rebuildSpan, storedTables, withRawHorizon } from '@orrery/plugin-sdk';
import type { Analytics } from '../types.ts';
import { renderDdl } from '../storage/migrations.ts';

export interface RollupOptions {
  /**
   * How far behind ClickHouse's clock a fold stops: longer than any insert into a source takes,
   * so that no row can still appear with an `inserted_at` below the watermark. With a server,
   * where other processes insert too, this is the only guard.
   */
  graceMs: number;
  /**
   * Embedded mode, where every write to the engine goes through this process and is tracked
   * (`Analytics.oldestWriteStartedAt`): the fold stops this far behind the clock, and before
   * the start of the oldest write still under way. Default 100 ms, never more than `graceMs`.
   */
  embeddedGraceMs?: number;
  everySeconds: number;
  maxRowsPerFold: number;
  /**
   * Under sustained traffic folds are spaced out as far as this bound on the lowest watermark's
   * age (now − watermark, grace included) allows; 0 = fold every `everySeconds` whatever the load.
   */
  maxLagMs?: number;
}

export interface FoldResult {
  plugin: string;
  rollup: string;
  /** source rows folded */
  rows: number;
  from_ms: number;
  to_ms: number;
}

export interface RefreshTask {
  id: string;
  org_id: string;
  plugin: string;
  rollups: string[];
  from: string;
  to: string;
  status: 'running' | 'done' | 'failed';
  progress: { done: number; total: number };
  rows: number;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export const rollupMigrations: PgMigration[] = [
  {
    name: '0001_rollup_watermarks',
    async up(knex) {
      await knex.schema.withSchema('public').createTable('rollup_watermarks', (t) => {
        t.string('plugin_id', 80).notNullable();
        t.string('rollup', 80).notNullable();
        /** every source row with inserted_at <= this (ms since epoch) is in the rollup tables */
        t.bigInteger('watermark_ms').notNullable().defaultTo(0);
        /** a fold to this watermark was started and may have published some tables */
        t.bigInteger('pending_to_ms');
        t.bigInteger('last_rows');
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['plugin_id', 'rollup']);
      });
    },
  },
  {
    name: '0002_rollup_derived',
    async up(knex) {
      // a derived table listed here holds every key as of its rollup's watermark; one added to a
      // rollup that already has rows is derived whole by the next fold, and listed then
      await knex.schema.withSchema('public').createTable('rollup_derived', (t) => {
        t.string('plugin_id', 80).notNullable();
        t.string('rollup', 80).notNullable();
        t.string('derived_table', 120).notNullable();
        t.timestamp('derived_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['plugin_id', 'rollup', 'derived_table']);
      });
    },
  },
];

/** Readers share; a publish waits for the readers in flight and holds new ones back. */
export class Gate {
  private readers = 0;
  private closed: Promise<void> | null = null;
  private drained: (() => void) | null = null;
  /** set inside a read: a read nested in another joins it (waiting for a publish that waits for the outer read would never end) */
  private readonly inside = new AsyncLocalStorage<true>();

  async read<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inside.getStore()) return fn();
    while (this.closed) await this.closed;
    this.readers++;
    try {
      return await this.inside.run(true, fn);
    } finally {
      if (--this.readers === 0 && this.drained) this.drained();
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    let open!: () => void;
    this.closed = new Promise((r) => (open = r));
    try {
      if (this.readers > 0) await new Promise<void>((r) => (this.drained = r));
      this.drained = null;
      return await fn();
    } finally {
      this.closed = null;
      open();
    }
  }
}

/** One at a time: folds, rebuilds and purges share the scratch tables. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

const ms = (param: string) => `fromUnixTimestamp64Milli({${param}:Int64}, 'UTC')`;
export const sqlString = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

export class RollupService {
  private readonly gate = new Gate();
  private readonly writer = new Mutex();
  private readonly marks = new Map<string, number>();
  /** `plugin/rollup` → its derived tables that hold every key (public.rollup_derived) */
  private readonly derivedReady = new Map<string, Set<string>>();
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private readonly tasks = new Map<string, RefreshTask>();
  /** declarations whose scratch tables may hold rows of a fold that failed */
  private readonly dirty = new Set<RollupDecl>();
  /** the lag of the last folds (now − watermark at the end of a fold), for /metrics and the stats route */
  readonly lagMs: number[] = [];
  /**
   * now − the old watermark at the moment a fold moves it: the top of the lag's saw-tooth (a
   * watermark is oldest right before the fold that moves it), where `lagMs` is its bottom
   */
  readonly peakLagMs: number[] = [];
  /** rollups whose watermark this process has moved at least once */
  private readonly movedHere = new Set<string>();

  constructor(
    private readonly s: { analytics: Analytics; knex: Knex; logger: Logger; declarations: () => Array<{ plugin: string; decl: RollupDecl }> },
    readonly opts: RollupOptions,
  ) {}

  private key = (plugin: string, rollup: string) => `${plugin}/${rollup}`;

  private async ensureLoaded() {
    if (this.loaded) return;
    for (const r of await this.s.knex.withSchema('public').table('rollup_watermarks').select('plugin_id', 'rollup', 'watermark_ms')) {
      this.marks.set(this.key(r.plugin_id, r.rollup), Number(r.watermark_ms));
    }
    for (const r of await this.s.knex.withSchema('public').table('rollup_derived').select('plugin_id', 'rollup', 'derived_table')) {
      this.readySet(r.plugin_id, r.rollup).add(r.derived_table);
    }
    this.loaded = true;
  }

  private readySet(plugin: string, rollup: string): Set<string> {
    const k = this.key(plugin, rollup);
    let set = this.derivedReady.get(k);
    if (!set) this.derivedReady.set(k, (set = new Set()));
    return set;
  }

  private decl(plugin: string, rollup: string): RollupDecl {
    const d = this.s.declarations().find((x) => x.plugin === plugin && x.decl.name === rollup);
    if (!d) throw new Error(`plugin ${plugin} declares no rollup "${rollup}"`);
    return d.decl;
  }

  /** The watermark of one rollup (ms; 0 before its first fold). */
  async watermark(plugin: string, rollup: string): Promise<number> {
    await this.ensureLoaded();
    return this.marks.get(this.key(plugin, rollup)) ?? 0;
  }

  /**
   * What `ctx.rollups` is for one plugin; `rawHorizon` gives the point the org's raw-event expiry
   * has reached, which `planSegments` inside a read respects (no raw piece before it).
   */
  reader(plugin: string, rawHorizon?: () => Promise<Date | null>): RollupReader {
    return {
      read: (name, fn) =>
        this.gate.read(async () => {
          this.decl(plugin, name);
          const w = new Date(await this.watermark(plugin, name));
          const h = rawHorizon ? await rawHorizon() : null;
          const derived: ReadonlySet<string> = new Set(this.readySet(plugin, name));
          return withRawHorizon(h, () => fn(w, { derived }));
        }),
    };
  }

  /** Before this instant (ms) an org's raw events may have been expired: no rebuild reads there. */
  private rawFloor: (orgId: string) => Promise<number> = async () => 0;
  useRawFloor(fn: (orgId: string) => Promise<number>) {
    this.rawFloor = fn;
  }

  /** The lowest watermark of every declared rollup (ms): raw rows inserted up to it are in every rollup. */
  async lowestWatermark(): Promise<number | null> {
    const decls = this.s.declarations();
    if (!decls.length) return null;
    await this.ensureLoaded();
    return Math.min(...decls.map(({ plugin, decl }) => this.marks.get(this.key(plugin, decl.name)) ?? 0));
  }

  /**
   * Runs `fn` with no fold, rebuild or purge in between (retention's expiry): `fn` gets the
   * declarations and a way to delete rollup rows that readers see all at once.
   */
  exclusive<T>(fn: (t: { declarations: Array<{ plugin: string; decl: RollupDecl }>; publish: <R>(write: () => Promise<R>) => Promise<R> }) => Promise<T>): Promise<T> {
    return this.writer.run(() => fn({ declarations: this.s.declarations(), publish: (write) => this.gate.write(write) }));
  }

  private async sql(query: string, params: Record<string, unknown> = {}) {
    const { client, database, cluster } = this.s.analytics;
    await client.command({ query: renderDdl(query, database, cluster), query_params: params });
  }

  /**
   * Statements that run one after the other with nothing to read back: the embedded engine takes
   * them as one multi-statement call. chDB runs one statement at a time per process, so under
   * ingestion load each separate call of a fold waited behind a loader insert (folds of ~45
   * calls ran 1.1 s at 5,300 events/s against ~0.3 s idle); one call per step waits once. A
   * server takes one statement per request: there they run in turn. Either way a failure
   * leaves the statements before it done, as the loop did.
   */
  private async sqlAll(queries: string[]) {
    if (!queries.length) return;
    const { client, database, cluster, mode } = this.s.analytics;
    if (mode !== 'embedded' || queries.length === 1) {
      for (const q of queries) await this.sql(q);
      return;
    }
    await client.command({ query: queries.map((q) => renderDdl(q, database, cluster)).join(';\n') });
  }

  private async select<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const { client, database, cluster } = this.s.analytics;
    const rs = await client.query({ query: renderDdl(query, database, cluster), query_params: params, format: 'JSONEachRow' });
    return (await rs.json()) as T[];
  }

  // ---- folding -------------------------------------------------------------------------

  /** Folds every declared rollup until it is caught up (or `maxSteps` folds each). */
  foldAll(maxSteps = 20): Promise<FoldResult[]> {
    return this.writer.run(async () => {
      const out: Array<FoldResult & { more: boolean }> = [];
      const decls = this.s.declarations();
      // one read of ClickHouse's clock and one count per source table for every rollup's first
      // step, instead of two queries per rollup (each chDB statement has a fixed cost)
      const first = await this.firstWindows(decls);
      for (const { plugin, decl } of decls) {
        for (let i = 0; i < maxSteps; i++) {
          const r = await this.foldOnce(plugin, decl, i === 0 ? first.get(decl) : undefined);
          out.push(r);
          if (!r.more) break;
        }
      }
      return out.map(({ more: _more, ...r }) => r);
    });
  }

  /**
   * For each declaration, the rows of its source with `inserted_at` in (W, cap], W its
   * watermark as this node knows it: one query per source table. A fold uses the count only if
   * the ledger holds the same W (another node may have folded since) and nothing is pending.
   */
  private async firstWindows(decls: Array<{ plugin: string; decl: RollupDecl }>): Promise<Map<RollupDecl, { from: number; cap: number; n: number }>> {
    const out = new Map<RollupDecl, { from: number; cap: number; n: number }>();
    if (!decls.length) return out;
    await this.ensureLoaded();
    const bySource = new Map<string, Array<{ decl: RollupDecl; from: number }>>();
    for (const { plugin, decl } of decls) {
      let l = bySource.get(decl.source);
      if (!l) bySource.set(decl.source, (l = []));
      l.push({ decl, from: this.marks.get(this.key(plugin, decl.name)) ?? 0 });
    }
    const cap = await this.foldCap();
    for (const [source, list] of bySource) {
      const lowest = Math.min(...list.map((x) => x.from));
      if (lowest >= cap) continue;
      const cols = list.map((x, j) => `countIf((${x.decl.filter ?? '1'}) AND inserted_at > ${ms(`w${j}`)}) AS n${j}`).join(', ');
      const params: Record<string, unknown> = { lo: lowest, cap };
      list.forEach((x, j) => (params[`w${j}`] = x.from));
      const [row] = await this.select<Record<string, string>>(`SELECT ${cols} FROM {db}.${source} WHERE inserted_at > ${ms('lo')} AND inserted_at <= ${ms('cap')}`, params);
      list.forEach((x, j) => out.set(x.decl, { from: x.from, cap, n: Number(row![`n${j}`]) }));
    }
    return out;
  }

  /**
   * The `inserted_at` up to which a fold may take source rows now: every row at or below it is
   * already visible. With a server, ClickHouse's clock minus `graceMs`. Embedded, the engine's
   * writes are all this process's own and tracked, so the fold stops `embeddedGraceMs` behind
   * the clock and 1 ms before the oldest write still under way began (its rows get an
   * `inserted_at` at or after that), but never further behind than `graceMs`: a fresher
   * watermark without waiting out the slowest insert.
   */
  /** never more than `graceMs` (tests fold what they just inserted with a grace of 0) */
  private embeddedGraceMs() {
    return Math.min(this.opts.graceMs, this.opts.embeddedGraceMs ?? 100);
  }

  private async foldCap(): Promise<number> {
    const [now] = await this.select<{ t: string }>(`SELECT toUnixTimestamp64Milli(now64(3)) AS t`);
    const clock = Number(now!.t);
    const a = this.s.analytics;
    if (a.mode !== 'embedded' || !a.oldestWriteStartedAt) return clock - this.opts.graceMs;
    // read after the clock: a write that began before that read and is still running is listed
    const oldest = a.oldestWriteStartedAt();
    const tracked = oldest === null ? clock - this.embeddedGraceMs() : Math.min(clock - this.embeddedGraceMs(), oldest - 1);
    // never further behind than `graceMs` (the rule with a server): a write queued behind a long
    // statement holds the fold back at most that long, and a grace of 0 (tests) folds everything
    return Math.max(clock - this.opts.graceMs, tracked);
  }

  private async foldOnce(plugin: string, d: RollupDecl, counted?: { from: number; cap: number; n: number }): Promise<FoldResult & { more: boolean }> {
    await this.ensureLoaded();
    await this.deriveMissing(plugin, d);
    const k = this.key(plugin, d.name);
    const state = await this.s.knex.withSchema('public').table('rollup_watermarks').where({ plugin_id: plugin, rollup: d.name }).first();
    const from = Number(state?.watermark_ms ?? 0);
    let to: number;
    let more = false;
    let known: number | null = null;
    const redo = state?.pending_to_ms != null;
    if (redo) {
      to = Number(state.pending_to_ms); // a fold that stopped half way: the same window again
    } else {
      let n: number;
      if (counted && counted.from === from && counted.n < this.opts.maxRowsPerFold) {
        // counted with the other rollups of the source, from the same watermark: the whole window
        n = counted.n;
        to = counted.cap;
      } else {
        const cap = counted ? counted.cap : await this.foldCap();
        // a long way behind (a first fold over a large store): take the window in steps of maxRowsPerFold rows
        const [edge] = await this.select<{ n: string; last: string }>(
          `SELECT count() AS n, toUnixTimestamp64Milli(max(inserted_at)) AS last FROM (
             SELECT inserted_at FROM {db}.${d.source}
             WHERE (${d.filter ?? '1'}) AND inserted_at > ${ms('from')} AND inserted_at <= ${ms('to')}
             ORDER BY inserted_at LIMIT {limit:UInt64})`,
          { from, to: cap, limit: this.opts.maxRowsPerFold },
        );
        n = Number(edge!.n);
        more = n >= this.opts.maxRowsPerFold;
        to = more ? Number(edge!.last) : cap;
      }
      if (to <= from) return { plugin, rollup: d.name, rows: 0, from_ms: from, to_ms: from, more: false };
      if (n === 0) {
        // nothing new: the watermark moves, nothing is written
        await this.gate.write(() => this.setWatermark(plugin, d.name, to, 0));
        return { plugin, rollup: d.name, rows: 0, from_ms: from, to_ms: to, more: false };
      }
      if (!more) known = n; // the whole window: its count is already known
      await this.s.knex.withSchema('public').table('rollup_watermarks')
        .insert({ plugin_id: plugin, rollup: d.name, watermark_ms: from, pending_to_ms: to })
        .onConflict(['plugin_id', 'rollup']).merge({ pending_to_ms: to, updated_at: new Date() });
    }
    const window = `inserted_at > fromUnixTimestamp64Milli(${from}, 'UTC') AND inserted_at <= fromUnixTimestamp64Milli(${to}, 'UTC')`;
    const rows = known ?? Number((await this.select<{ n: string }>(`SELECT count() AS n FROM {db}.${d.source} WHERE (${d.filter ?? '1'}) AND ${window}`))[0]!.n);
    let token = `${plugin}:${d.name}:${from}:${to}`;
    if (redo) {
      // what the stopped fold left in the tables is unknown (see undoWindow): back to W, then a
      // token of its own, since the stopped fold's token may be recorded for blocks never kept
      await this.undoWindow(plugin, d, window);
      token += `:redo:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    }
    await this.apply(d, window, token, async () => this.setWatermark(plugin, d.name, to, rows));
    this.marks.set(k, to);
    return { plugin, rollup: d.name, rows, from_ms: from, to_ms: to, more };
  }

  /**
   * Puts the rollup back to the watermark W for every bucket a stopped fold of `window` may
   * have written: the days (or months) its source rows fall in are rebuilt from the raw rows up
   * to W, per org. The fold's token alone cannot tell what a crash left: the engine writes a
   * part and the record of its token one after the other, so a kill inside a publish can leave
   * a part without its record (the redone window would be counted twice) or a record without
   * its part (the redo would be dropped as a repeat and the window lost). Buckets before an
   * org's raw-expiry point cannot be rebuilt and are left as they are.
   */
  private async undoWindow(plugin: string, d: RollupDecl, window: string) {
    const touched = await this.select<{ org: string; d: string }>(
      `SELECT DISTINCT org_id AS org, toUnixTimestamp64Milli(toDateTime64(toStartOfDay(timestamp), 3, 'UTC')) AS d
       FROM {db}.${d.source} WHERE (${d.filter ?? '1'}) AND ${window}`,
    );
    const byOrg = new Map<string, number[]>();
    for (const t of touched) byOrg.set(t.org, [...(byOrg.get(t.org) ?? []), Number(t.d)]);
    for (const [org, days] of byOrg) {
      await this.rebuildDays(org, plugin, d, days);
    }
    this.s.logger.info({ plugin, rollup: d.name, orgs: byOrg.size, days: touched.length }, 'rollup window of a stopped fold undone before it is folded again');
  }

  /**
   * Derived tables not yet listed as complete (new, or added to a rollup that has rows): every
   * key derived from the rollup as it stands, under the gate, then listed. A fold's window
   * pending after a crash re-derives its keys again when it is redone.
   */
  private async deriveMissing(plugin: string, d: RollupDecl) {
    const ready = this.readySet(plugin, d.name);
    const missing = deriveAllPlan(d).filter((p) => !ready.has(p.table));
    if (!missing.length) return;
    await this.gate.write(async () => {
      for (const p of missing) {
        await this.sql(p.truncate);
        await this.sql(p.insert);
      }
    });
    for (const p of missing) {
      await this.s.knex.withSchema('public').table('rollup_derived').insert({ plugin_id: plugin, rollup: d.name, derived_table: p.table }).onConflict(['plugin_id', 'rollup', 'derived_table']).ignore();
      ready.add(p.table);
    }
  }

  private async setWatermark(plugin: string, rollup: string, to: number, rows: number) {
    await this.s.knex.withSchema('public').table('rollup_watermarks')
      .insert({ plugin_id: plugin, rollup, watermark_ms: to, pending_to_ms: null, last_rows: rows })
      .onConflict(['plugin_id', 'rollup']).merge({ watermark_ms: to, pending_to_ms: null, last_rows: rows, updated_at: new Date() });
    const k = this.key(plugin, rollup);
    const before = this.marks.get(k);
    this.marks.set(k, to);
    const now = Date.now();
    this.lagMs.push(now - to);
    // the first move after a start measures how long the process was down, not a fold's period
    if (before && this.movedHere.has(k)) this.peakLagMs.push(now - before);
    this.movedHere.add(k);
    if (this.lagMs.length > 1000) this.lagMs.splice(0, this.lagMs.length - 1000);
    if (this.peakLagMs.length > 1000) this.peakLagMs.splice(0, this.peakLagMs.length - 1000);
  }

  /**
   * Aggregates the source rows matching `rows` through the cascade and publishes them; `before`
   * runs first inside the publish (a rebuild deletes what it replaces there), `after` last.
   */
  private async apply(d: RollupDecl, rows: string, token: string | null, after: () => Promise<void>, before?: () => Promise<void>, storedRows?: string) {
    const plan = foldPlan(d, rows, storedRows);
    // the scratch tables are emptied after each use, and a restart empties them (Memory): only
    // a use that failed half way leaves rows behind
    if (this.dirty.has(d)) await this.sqlAll(plan.clear);
    this.dirty.add(d);
    try {
      await this.sqlAll([...plan.compute.map((c) => c.sql), ...plan.derive.map((x) => x.keys)]);
      await this.gate.write(async () => {
        if (before) await before();
        // a rebuild writes blocks equal to ones written before (then deleted): a token of its own, or
        // deduplication by content would drop them (insert_deduplicate = 0 dropped them too, in chDB 3.4)
        const tag = token ?? `rebuild:${Date.now()}:${Math.random().toString(36).slice(2)}`;
        // The token goes in the statement, not in the client's settings: chDB keeps client settings
        // for the rest of its session, and a lingering token silently drops later inserts.
        // Then the touched keys' derived rows are replaced from the rollup just published (no token:
        // redoing a window deletes and inserts the same rows again, which is what it should do).
        await this.sqlAll([
          ...plan.publish.map((p) => withInsertSettings(p.sql, { insert_deduplication_token: `${tag}:${p.table}` })),
          ...plan.derive.flatMap((x) => [x.delete, x.insert]),
        ]);
        await after();
      });
    } finally {
      await this.sqlAll(plan.clear);
      this.dirty.delete(d);
    }
  }

  // ---- rebuilding ----------------------------------------------------------------------

  /**
   * Recomputes one org's rollups of a plugin over whole UTC days covering `[from, to)`, a day at
   * a time, from the raw events up to the watermark (after a correction of raw events, or on an
   * Admin's request). Returns at once; the task reports its progress.
   */
  startRefresh(orgId: string, plugin: string, rollups: string[], from: Date, to: Date): RefreshTask {
    const days = dayRanges(from.getTime(), to.getTime());
    const task: RefreshTask = {
      id: `rf_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
      org_id: orgId,
      plugin,
      rollups,
      from: new Date(days[0]![0]).toISOString(),
      to: new Date(days.at(-1)![1]).toISOString(),
      status: 'running',
      progress: { done: 0, total: days.length * rollups.length },
      rows: 0,
      error: null,
      started_at: new Date().toISOString(),
      finished_at: null,
    };
    this.tasks.set(task.id, task);
    const work = this.writer
      .run(async () => {
        for (const name of rollups) {
          const decl = this.decl(plugin, name);
          let done = -1; // a month-grained rollup rebuilds a whole month per day asked: once is enough
          for (const [a, b] of days) {
            const [wa, wb] = rebuildSpan(decl, a, b);
            if (Math.max(wa, done) < wb) task.rows += await this.rebuildRange(orgId, plugin, decl, Math.max(wa, done), wb);
            done = Math.max(done, wb);
            task.progress.done++;
          }
        }
        task.status = 'done';
      })
      .catch((err: Error) => {
        task.status = 'failed';
        task.error = err.message;
        this.s.logger.error({ err, plugin, org: orgId }, 'rollup refresh failed');
      })
      .finally(() => (task.finished_at = new Date().toISOString()));
    this.track(work);
    return task;
  }

  task(id: string): RefreshTask | null {
    return this.tasks.get(id) ?? null;
  }

  /** One org's rows of the UTC days starting at `days` (ms) rebuilt, each rollup bucket they widen to once. */
  private async rebuildDays(orgId: string, plugin: string, d: RollupDecl, days: number[]) {
    for (const [a, b] of mergeSpans(mergeDays(days).map(([a, b]) => rebuildSpan(d, a, b)))) await this.rebuildRange(orgId, plugin, d, a, b);
  }

  /**
   * One org's rows of `[a, b)` replaced by what raw events up to the watermark give; the span is
   * widened to whole buckets of the rollup's coarsest table (days, or months: `rebuildSpan`).
   */
  private async rebuildRange(orgId: string, plugin: string, d: RollupDecl, a: number, b: number): Promise<number> {
    [a, b] = rebuildSpan(d, a, b);
    // raw events before the org's expiry point are gone (or going): the rollup rows there are
    // the only copy left, so they are kept as they are (a month row with days before that point
    // is kept whole: rebuilding it would drop those days)
    const floor = await this.rawFloor(orgId);
    if (a < floor) a = storedTables(d).some((t) => t.grain === 'month') ? rebuildSpan(d, floor - 1, floor)[1] : floor;
    if (a >= b) return 0;
    const w = await this.watermark(plugin, d.name);
    const rows = `org_id = ${sqlString(orgId)} AND timestamp >= fromUnixTimestamp64Milli(${a}, 'UTC') AND timestamp < fromUnixTimestamp64Milli(${b}, 'UTC') AND inserted_at <= fromUnixTimestamp64Milli(${w}, 'UTC')`;
    const [count] = await this.select<{ n: string }>(`SELECT count() AS n FROM {db}.${d.source} WHERE (${d.filter ?? '1'}) AND ${rows}`);
    const { cluster } = this.s.analytics;
    const buckets = `org_id = ${sqlString(orgId)} AND bucket >= toDateTime(intDiv(${a}, 1000), 'UTC') AND bucket < toDateTime(intDiv(${b}, 1000), 'UTC')`;
    await this.apply(
      d,
      rows,
      null,
      async () => undefined,
      async () => {
        for (const t of storedTables(d)) {
          await this.sql(
            `DELETE FROM {db}.${t.table}${cluster ? ` ON CLUSTER ${cluster}` : ''} WHERE org_id = {org:String} AND bucket >= toDateTime(intDiv({a:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({b:Int64}, 1000), 'UTC')`,
            { org: orgId, a, b },
          );
        }
      },
      // the keys whose rows the rebuild replaces are re-derived, also those left with no event
      buckets,
    );
    return Number(count!.n);
  }

  /**
   * A user's events are deleted (right to be forgotten): the days they had events on are
   * rebuilt in every rollup, so no state (a user set, a t-digest) keeps them. `deleteRaw`
   * runs first, under the writer lock, so no fold runs in between.
   */
  purgeUser(org: Org, userId: string, deleteRaw: () => Promise<number>): Promise<number> {
    return this.writer.run(async () => {
      const decls = this.s.declarations();
      const days = decls.length
        ? await this.select<{ d: string }>(
            `SELECT DISTINCT toUnixTimestamp64Milli(toDateTime64(toStartOfDay(timestamp), 3, 'UTC')) AS d FROM {db}.events WHERE org_id = {org:String} AND user_id = {user:String}`,
            { org: org.id, user: userId },
          )
        : [];
      const n = await deleteRaw();
      for (const { plugin, decl } of decls) {
        await this.rebuildDays(org.id, plugin, decl, days.map((r) => Number(r.d)));
        // rows keyed by the user outlive their raw events (retention): they go by key
        const { cluster } = this.s.analytics;
        const byUser = [...storedTables(decl).filter((x) => x.dims.includes('user_id')), ...(decl.derived ?? []).filter((x) => x.keys.includes('user_id'))];
        for (const t of byUser) {
          await this.gate.write(() =>
            this.sql(`DELETE FROM {db}.${t.table}${cluster ? ` ON CLUSTER ${cluster}` : ''} WHERE org_id = {org:String} AND user_id = {user:String}`, { org: org.id, user: userId }),
          );
        }
      }
      return n;
    });
  }

  // ---- schedule ------------------------------------------------------------------------

  /**
   * Folds on a timer; `locked` runs a fold under a lock, so one node folds at a time. Each fold
   * has a fixed cost (a part written into every stored table, a dozen statements per rollup)
   * whatever the rows it takes, so under sustained traffic the next fold waits as long as the
   * lag bound allows: it is started so that it should end before the lowest watermark is
   * `maxLagMs` old, judged by the slowest of the last folds, and never sooner than
   * `everySeconds` after the previous one started. A fold that took nothing (a quiet spell)
   * keeps the plain period.
   */
  start(locked: (seconds: number, fold: () => Promise<unknown>) => Promise<boolean>) {
    if (this.timer || !this.s.declarations().length) return;
    this.stopped = false;
    const schedule = (delayMs: number) => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void tick(), delayMs);
      this.timer.unref();
    };
    const tick = async () => {
      const t0 = Date.now();
      let rows = 0;
      const run = (async () => {
        // the result recorded is the rows folded (job_runs.last_result)
        await locked(Math.max(this.opts.everySeconds * 5, 30), async () => {
          rows = (await this.foldAll()).reduce((n, r) => n + r.rows, 0);
          return { rows };
        });
      })()
        .catch((err) => this.s.logger.error({ err }, 'rollup fold failed'))
        .finally(() => (this.running = null));
      this.running = run;
      await run;
      schedule(this.nextFoldDelay(Date.now() - t0, rows));
    };
    schedule(this.opts.everySeconds * 1000);
  }

  private stopped = false;
  /** how long the last folds took (ms), for the pacing */
  private readonly foldMs: number[] = [];
  /** how long the last 1,000 folds that took rows ran (ms), for the status route: under load a fold's statements wait behind inserts */
  readonly foldDurationsMs: number[] = [];

  /** ms to wait, after a fold that took `tookMs`, before the next one (see `start`) */
  nextFoldDelay(tookMs: number, rows: number, now = Date.now()): number {
    // the plain period runs from one fold's start to the next (a fold longer than it is followed at once)
    const plain = Math.max(0, this.opts.everySeconds * 1000 - tookMs);
    this.foldMs.push(tookMs);
    if (this.foldMs.length > 5) this.foldMs.shift();
    if (rows) {
      this.foldDurationsMs.push(tookMs);
      if (this.foldDurationsMs.length > 1000) this.foldDurationsMs.splice(0, this.foldDurationsMs.length - 1000);
    }
    const maxLag = this.opts.maxLagMs ?? 0;
    if (!rows || maxLag <= 0) return plain;
    const decls = this.s.declarations();
    if (!decls.length) return plain;
    const lowest = Math.min(...decls.map(({ plugin, decl }) => this.marks.get(this.key(plugin, decl.name)) ?? 0));
    // the next fold should end before the lowest watermark is maxLag old: start it the slowest
    // recent fold's duration (with half again for safety) before that
    const slowest = Math.max(...this.foldMs);
    return Math.max(plain, Math.min(maxLag, lowest + maxLag - slowest * 1.5 - now));
  }

  private pending = new Set<Promise<unknown>>();
  private track(p: Promise<unknown>) {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  async stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([this.running, ...this.pending]);
  }

  /** Lag and watermarks, for the admin route and /metrics. */
  async status() {
    await this.ensureLoaded();
    const pcts = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : null);
      return { p50: pct(0.5), p99: pct(0.99), samples: sorted.length };
    };
    const embedded = this.s.analytics.mode === 'embedded' && !!this.s.analytics.oldestWriteStartedAt;
    return {
      grace_ms: embedded ? this.embeddedGraceMs() : this.opts.graceMs,
      grace: embedded ? 'embedded: behind the clock and before the oldest write under way' : 'behind the clock',
      every_seconds: this.opts.everySeconds,
      max_lag_ms: this.opts.maxLagMs ?? 0,
      lag_ms: pcts(this.lagMs),
      peak_lag_ms: pcts(this.peakLagMs),
      fold_ms: pcts(this.foldDurationsMs),
      rollups: this.s.declarations().map(({ plugin, decl }) => {
        const w = this.marks.get(this.key(plugin, decl.name)) ?? 0;
        return {
          plugin,
          rollup: decl.name,
          watermark: w ? new Date(w).toISOString() : null,
          lag_ms: w ? Date.now() - w : null,
          tables: decl.tables.map((t) => ({ table: t.table, grain: t.grain, dims: [...t.dims], from: t.from ?? null, stored: t.stored !== false })),
        };
      }),
    };
  }
}

/** `[from, to)` widened to whole UTC days, one range per day. */
export function dayRanges(from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let a = Math.floor(from / DAY_MS) * DAY_MS; a < to; a += DAY_MS) out.push([a, a + DAY_MS]);
  return out;
}

/** Sorted spans → the same spans with the overlapping or touching ones joined. */
function mergeSpans(spans: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of spans) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Day starts → ranges of consecutive days. */
function mergeDays(days: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const d of [...new Set(days)].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && last[1] === d) last[1] = d + DAY_MS;
    else out.push([d, d + DAY_MS]);
  }
  return out;
}


/** `INSERT INTO t (cols) SELECT …` → `INSERT INTO t (cols) SETTINGS k = 'v' SELECT …`: settings of this insert only. */
export function withInsertSettings(sql: string, settings: Record<string, string>): string {
  const m = /^(\s*INSERT INTO \S+ \([^)]*\))\s+SELECT\b/i.exec(sql);
  if (!m) throw new Error(`not an INSERT … SELECT with a column list: ${sql.slice(0, 80)}`);
  const list = Object.entries(settings).map(([k, v]) => `${k} = '${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ');
  return `${m[1]} SETTINGS ${list} ${sql.slice(m[1].length).trimStart()}`;
}
