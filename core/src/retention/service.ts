/**
 * Each org's data lifecycle: the policy (public.org_retention) and the expiry of what is older
 * than its horizons, run as a kernel job.
 *
 * Why a job of lightweight deletes and not a table TTL: the events table and the rollups hold
 * every org, and each org has its own retention; a TTL expression cannot look up a per-org
 * setting. Whole monthly partitions of `events` that every org has expired are dropped instead
 * of deleted row by row (cheaper, and they free the disk at once).
 *
 * Order of an expiry, per org, with no fold, rebuild or purge in between:
 * 1. the org's raw floor moves to its raw horizon (`raw_expired_before_ms`) before a row goes,
 *    so the planner and rollup rebuilds stop reading raw events there first;
 * 2. raw events with a timestamp before the horizon are deleted, but only those every declared
 *    rollup has folded (`inserted_at <= lowest watermark`): a late event older than the horizon
 *    stays until it is in the rollups, so no aggregate ever misses it;
 * 3. rollup rows with a bucket before the aggregates horizon (user-activity horizon for
 *    rollups declared `retention: 'user_activity'`) are deleted, in one publish per rollup that
 *    also derives again the derived per-key rows of every key that lost rows (so they stay a
 *    function of the rows the key keeps), then derived rows still before the horizon go.
 */
import type { Knex } from 'knex';
import type { Logger, Org, PgMigration, RetentionHorizons, RetentionPolicy } from '@orrery/plugin-sdk';
import { DEFAULT_RETENTION, derivePlan, horizonsAt, storedTables } from '@orrery/plugin-sdk';
import { renderDdl } from '../storage/migrations.ts';
import type { Analytics } from '../types.ts';
import type { RollupService } from '../rollups/service.ts';
import { sqlString } from '../rollups/service.ts';

export interface RetentionOptions {
  /** seconds between expiry runs (one node runs each) */
  everySeconds: number;
  /** the policy of an org that has not set its own */
  defaults: RetentionPolicy;
}

export interface ExpiryResult {
  org_id: string;
  at: string;
  horizons: { raw_events_from: string; aggregates_from: string; user_activity_from: string };
  raw_events_deleted: number;
  /** raw rows older than the horizon kept because a rollup has not folded them yet */
  raw_events_waiting_for_fold: number;
  rollup_rows_deleted: Record<string, number>;
  ms: number;
}

export const retentionMigrations: PgMigration[] = [
  {
    name: '0001_org_retention',
    async up(knex) {
      await knex.schema.withSchema('public').createTable('org_retention', (t) => {
        t.string('org_id', 64).primary();
        t.integer('raw_events_days');
        t.integer('aggregates_days');
        t.integer('user_activity_days');
        /** raw events before this (ms since epoch) may have been deleted: nothing reads them as complete */
        t.bigInteger('raw_expired_before_ms').notNullable().defaultTo(0);
        t.text('last_result');
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
    },
  },
];

interface Row {
  policy: RetentionPolicy;
  custom: boolean;
  rawExpiredBefore: number;
  lastResult: ExpiryResult | null;
  at: number;
}

/** how long a node trusts its copy of a policy another node may have changed */
const CACHE_MS = 30_000;

export class RetentionService {
  private readonly cache = new Map<string, Row>();
  private timer: NodeJS.Timeout | null = null;
  private first: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly s: {
      knex: Knex;
      analytics: Analytics;
      rollups: RollupService;
      logger: Logger;
      orgs: () => Promise<Org[]>;
      dataChanged: (orgId: string) => void;
    },
    readonly opts: RetentionOptions,
  ) {
    s.rollups.useRawFloor(async (orgId) => (await this.row(orgId)).rawExpiredBefore);
  }

  private table = () => this.s.knex.withSchema('public').table('org_retention');

  private async row(orgId: string): Promise<Row> {
    const hit = this.cache.get(orgId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit;
    const r = await this.table().where({ org_id: orgId }).first();
    const d = this.opts.defaults;
    const row: Row = {
      policy: {
        raw_events_days: r?.raw_events_days ?? d.raw_events_days,
        aggregates_days: r?.aggregates_days ?? d.aggregates_days,
        user_activity_days: r?.user_activity_days ?? d.user_activity_days,
      },
      custom: r?.raw_events_days != null,
      rawExpiredBefore: Number(r?.raw_expired_before_ms ?? 0),
      lastResult: r?.last_result ? (JSON.parse(r.last_result) as ExpiryResult) : null,
      at: Date.now(),
    };
    this.cache.set(orgId, row);
    return row;
  }

  async policy(orgId: string): Promise<{ policy: RetentionPolicy; custom: boolean; rawExpiredBefore: Date | null; lastRun: ExpiryResult | null }> {
    const r = await this.row(orgId);
    return { policy: { ...r.policy }, custom: r.custom, rawExpiredBefore: r.rawExpiredBefore ? new Date(r.rawExpiredBefore) : null, lastRun: r.lastResult };
  }

  async set(orgId: string, policy: RetentionPolicy): Promise<void> {
    await this.table()
      .insert({ org_id: orgId, ...policy })
      .onConflict('org_id')
      .merge({ ...policy, updated_at: new Date() });
    this.cache.delete(orgId);
  }

  async horizons(orgId: string, now = new Date()): Promise<RetentionHorizons> {
    return horizonsAt((await this.row(orgId)).policy, now);
  }

  /**
   * The instant before which the org's raw events are not complete: the point its expiry has
   * reached (moved there before the first row goes), null before any expiry. Not the policy's
   * horizon itself: until the job has run, the raw events before it are all still there, and a
   * period made longer does not bring deleted events back.
   */
  async rawHorizon(orgId: string): Promise<Date | null> {
    const r = await this.row(orgId);
    return r.rawExpiredBefore ? new Date(r.rawExpiredBefore) : null;
  }

  private async count(query: string, params: Record<string, unknown>): Promise<number> {
    const rs = await this.s.analytics.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return Number(((await rs.json()) as Array<{ n: string | number }>)[0]?.n ?? 0);
  }

  private async command(query: string, params: Record<string, unknown> = {}) {
    await this.s.analytics.client.command({ query, query_params: params });
  }

  private onCluster = () => (this.s.analytics.cluster ? ` ON CLUSTER ${this.s.analytics.cluster}` : '');

  /** Expires one org's data older than its horizons (see the top of this file). */
  expireOrg(org: Org, now = new Date()): Promise<ExpiryResult> {
    const started = Date.now();
    const db = this.s.analytics.database;
    return this.s.rollups.exclusive(async ({ declarations, publish }) => {
      const row = await this.row(org.id);
      const h = horizonsAt(row.policy, now);
      const rawCut = h.rawEventsFrom.getTime();
      // 1. the floor first: from here on nothing reads raw events before it as complete
      if (rawCut > row.rawExpiredBefore) {
        await this.table().insert({ org_id: org.id, raw_expired_before_ms: rawCut }).onConflict('org_id').merge({ raw_expired_before_ms: rawCut });
        this.cache.delete(org.id);
      }
      // 2. raw events every rollup holds
      const lowest = await this.s.rollups.lowestWatermark();
      const params = { org: org.id, cut: rawCut, folded: lowest ?? 0 };
      const old = `org_id = {org:String} AND timestamp < fromUnixTimestamp64Milli({cut:Int64}, 'UTC')`;
      const folded = lowest === null ? '1' : `inserted_at <= fromUnixTimestamp64Milli({folded:Int64}, 'UTC')`;
      const raw = await this.count(`SELECT countIf(${folded}) AS n FROM ${db}.events WHERE ${old}`, params);
      const waiting = await this.count(`SELECT count() AS n FROM ${db}.events WHERE ${old} AND NOT (${folded})`, params);
      if (raw > 0) await this.command(`DELETE FROM ${db}.events${this.onCluster()} WHERE ${old} AND ${folded}`, params);
      // 3. rollup rows past their class's horizon
      const rollupDeleted: Record<string, number> = {};
      for (const { decl } of declarations) {
        const cut = (decl.retention === 'user_activity' ? h.userActivityFrom : h.aggregatesFrom).getTime();
        const where = `org_id = {org:String} AND bucket < toDateTime(intDiv({cut:Int64}, 1000), 'UTC')`;
        const deletes: string[] = [];
        for (const t of storedTables(decl)) {
          const n = await this.count(`SELECT count() AS n FROM ${db}.${t.table} WHERE ${where}`, { org: org.id, cut });
          if (n > 0) deletes.push(`DELETE FROM ${db}.${t.table}${this.onCluster()} WHERE ${where}`);
          if (n > 0) rollupDeleted[t.table] = n;
        }
        // Derived per-key rows (rollupsDerived.ts) are a function of all of a key's rows: a key that
        // loses rows here is derived again from the rows it keeps, in the same publish, or its rows
        // after the horizon would still name events before it (a previous enrolment, the latest
        // one before a goal) that no other read sees any more. Keys: those with rows of the
        // derived state's table before the cut, found before anything goes.
        const cutRows = `org_id = ${sqlString(org.id)} AND bucket < toDateTime(intDiv(${cut}, 1000), 'UTC')`;
        const derive = deletes.length ? derivePlan(decl, '0', cutRows).map((x) => ({ ...x, keys: renderDdl(x.keys, db, this.s.analytics.cluster), delete: renderDdl(x.delete, db, this.s.analytics.cluster), insert: renderDdl(x.insert, db, this.s.analytics.cluster), clear: renderDdl(x.clear, db, this.s.analytics.cluster) })) : [];
        try {
          for (const x of derive) await this.command(x.clear);
          for (const x of derive) await this.command(x.keys);
          if (deletes.length) {
            await publish(async () => {
              for (const q of deletes) await this.command(q, { org: org.id, cut });
              for (const x of derive) {
                await this.command(x.delete);
                await this.command(x.insert);
              }
            });
          }
        } finally {
          for (const x of derive) await this.command(x.clear);
        }
        // and whatever derived row is still before the horizon goes by its time column
        for (const x of (decl.derived ?? []).filter((y) => y.timeColumn)) {
          const old = `org_id = {org:String} AND ${x.timeColumn} < {cut:Int64}`;
          const n = await this.count(`SELECT count() AS n FROM ${db}.${x.table} WHERE ${old}`, { org: org.id, cut });
          if (n > 0) await publish(() => this.command(`DELETE FROM ${db}.${x.table}${this.onCluster()} WHERE ${old}`, { org: org.id, cut }));
          if (n > 0) rollupDeleted[x.table] = n;
        }
      }
      const result: ExpiryResult = {
        org_id: org.id,
        at: now.toISOString(),
        horizons: { raw_events_from: h.rawEventsFrom.toISOString(), aggregates_from: h.aggregatesFrom.toISOString(), user_activity_from: h.userActivityFrom.toISOString() },
        raw_events_deleted: raw,
        raw_events_waiting_for_fold: waiting,
        rollup_rows_deleted: rollupDeleted,
        ms: Date.now() - started,
      };
      await this.table().insert({ org_id: org.id, last_result: JSON.stringify(result) }).onConflict('org_id').merge({ last_result: JSON.stringify(result) });
      this.cache.delete(org.id);
      if (raw > 0 || Object.keys(rollupDeleted).length) this.s.dataChanged(org.id);
      return result;
    });
  }

  /**
   * Drops the monthly partitions of `events` that lie wholly before every org's raw horizon and
   * whose rows every rollup has folded: one cheap metadata operation instead of a delete per org.
   */
  async dropExpiredPartitions(now = new Date()): Promise<string[]> {
    const orgs = await this.s.orgs();
    if (!orgs.length) return [];
    let cut = Infinity;
    for (const o of orgs) cut = Math.min(cut, (await this.horizons(o.id, now)).rawEventsFrom.getTime());
    const db = this.s.analytics.database;
    const lowest = await this.s.rollups.lowestWatermark();
    const rs = await this.s.analytics.client.query({
      query: `SELECT toString(toYYYYMM(timestamp)) AS p, toUnixTimestamp64Milli(max(inserted_at)) AS last
              FROM ${db}.events WHERE timestamp < fromUnixTimestamp64Milli({cut:Int64}, 'UTC') GROUP BY p ORDER BY p`,
      query_params: { cut },
      format: 'JSONEachRow',
    });
    const dropped: string[] = [];
    for (const { p, last } of (await rs.json()) as Array<{ p: string; last: string }>) {
      const end = Date.UTC(Number(p.slice(0, 4)), Number(p.slice(4)), 1); // the first instant of the next month
      if (end > cut) continue;
      if (lowest !== null && Number(last) > lowest) continue;
      await this.s.rollups.exclusive(() => this.command(`ALTER TABLE ${db}.events${this.onCluster()} DROP PARTITION ${p}`));
      dropped.push(p);
    }
    if (dropped.length) for (const o of orgs) this.s.dataChanged(o.id);
    return dropped;
  }

  /** One expiry run over every org (the job). */
  async expireAll(now = new Date()): Promise<{ orgs: number; raw_events_deleted: number; rollup_rows_deleted: number; partitions_dropped: string[] }> {
    const partitions = await this.dropExpiredPartitions(now);
    let raw = 0, rolled = 0;
    const orgs = await this.s.orgs();
    for (const o of orgs) {
      const r = await this.expireOrg(o, now);
      raw += r.raw_events_deleted;
      rolled += Object.values(r.rollup_rows_deleted).reduce((a, b) => a + b, 0);
    }
    return { orgs: orgs.length, raw_events_deleted: raw, rollup_rows_deleted: rolled, partitions_dropped: partitions };
  }

  /** Expires on a timer; `locked` runs it under a lock, so one node expires at a time. */
  start(locked: (seconds: number, run: () => Promise<unknown>) => Promise<boolean>) {
    if (this.timer) return;
    const tick = () => {
      if (this.running) return;
      this.running = locked(Math.max(this.opts.everySeconds, 600), () => this.expireAll())
        .catch((err) => this.s.logger.error({ err }, 'retention expiry failed'))
        .finally(() => (this.running = null));
    };
    // a first run soon after start, then on the interval
    this.first = setTimeout(tick, Math.min(60_000, this.opts.everySeconds * 1000));
    this.first.unref();
    this.timer = setInterval(tick, this.opts.everySeconds * 1000);
    this.timer.unref();
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    if (this.first) clearTimeout(this.first);
    this.timer = this.first = null;
    await this.running;
  }
}

export const defaultRetention = (): RetentionPolicy => ({ ...DEFAULT_RETENTION });
