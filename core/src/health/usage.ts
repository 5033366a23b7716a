/**
 * Each org's usage against its tier: events accepted this calendar month (UTC),
 * storage, members. Ingestion asks `admit(org, n)` before it takes a request
 * and tells `accepted(org, n)` once events are committed, so the count is held
 * in memory (no query per request) and re-read from ClickHouse now and then.
 *
 * Past `limit × (1 + softOverage)` a request's events are refused as a whole
 * (429 `usage_limit_exceeded`, before anything of it is taken), so nothing
 * that was answered 2xx is ever dropped; the refusal is audited in the org
 * (at most one record a minute per org, with the count since the last one).
 */
import { HttpError, type Org, type OrgUsage, type UsageStatus } from '@orrery/plugin-sdk';
import type { AppConfig } from '@orrery/config';
import type { Analytics, KernelServices } from '../types.ts';
import type { Knex } from 'knex';

export interface TierLimits {
  eventsPerMonth: number;
  storageBytes: number;
  users: number;
}

/**
 * Default limits per tier (app-config.yaml `usage.tiers` overrides any figure). `standard`
 * is sized from the README's ingestion benchmark: 10M events a month is ~4 events/s on
 * average, far under one node's sustained rate; `strict` is a small trial org.
 */
export const DEFAULT_USAGE_TIERS: Record<string, TierLimits> = {
  standard: { eventsPerMonth: 10_000_000, storageBytes: 100 * 2 ** 30, users: 1000 },
  strict: { eventsPerMonth: 100_000, storageBytes: 2 ** 30, users: 25 },
};

export function monthBounds(now = new Date()): { from: Date; to: Date; key: string } {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { from, to, key: from.toISOString().slice(0, 7) };
}

/** The current month's key, recomputed only when the clock leaves the cached month (asked on every ingestion request). */
let monthCache = { key: '', from: 0, to: 0 };
function currentMonthKey(now = Date.now()): string {
  if (now < monthCache.from || now >= monthCache.to) {
    const b = monthBounds(new Date(now));
    monthCache = { key: b.key, from: b.from.getTime(), to: b.to.getTime() };
  }
  return monthCache.key;
}

interface OrgState {
  month: string;
  /** events in ClickHouse for the month when last read (null until read) */
  base: number | null;
  /** accepted since that read */
  added: number;
  reading: Promise<void> | null;
  readAt: number;
  refused: number;
  refusedUnaudited: number;
  lastAudit: number;
  apiCalls: number;
  tier: string;
  tierAt: number;
  storage: { bytes: number; at: number } | null;
}

export class UsageMeter {
  private readonly orgs = new Map<string, OrgState>();
  private readonly tiers: Record<string, TierLimits>;
  /** events accepted by this node since it started (all orgs), for the ingestion rate */
  acceptedTotal = 0;
  refusedTotal = 0;

  constructor(
    private readonly s: {
      config: AppConfig;
      analytics: Analytics;
      knex: Knex;
      orgs: KernelServices['orgs'];
      audit: KernelServices['audit'];
      logger: { warn(o: object, m: string): void };
      backlogRows(): number;
    },
  ) {
    const cfg = s.config.usage?.tiers ?? {};
    this.tiers = {};
    for (const name of new Set([...Object.keys(DEFAULT_USAGE_TIERS), ...Object.keys(cfg)])) {
      this.tiers[name] = { ...(DEFAULT_USAGE_TIERS[name] ?? DEFAULT_USAGE_TIERS.standard!), ...(cfg[name] ?? {}) } as TierLimits;
    }
  }

  get enabled() {
    return this.s.config.usage?.enabled !== false;
  }
  private get soft() {
    return this.s.config.usage?.softOverage ?? 0.2;
  }
  private get warn() {
    return this.s.config.usage?.warnRatio ?? 0.8;
  }

  limitsOf(tier: string): TierLimits {
    return this.tiers[tier] ?? this.tiers.standard!;
  }

  private state(orgId: string): OrgState {
    const month = currentMonthKey();
    let st = this.orgs.get(orgId);
    if (!st || st.month !== month) {
      st = { month, base: null, added: 0, reading: null, readAt: 0, refused: 0, refusedUnaudited: 0, lastAudit: 0, apiCalls: 0, tier: st?.tier ?? 'standard', tierAt: st?.tierAt ?? 0, storage: st?.storage ?? null };
      this.orgs.set(orgId, st);
    }
    return st;
  }

  /**
   * Re-reads the month's count from ClickHouse: on first use, and then at most once a minute
   * and only while the ingestion log is empty (rows still in the log are not in ClickHouse yet).
   */
  private recount(orgId: string, st: OrgState): Promise<void> {
    if (st.reading) return st.reading;
    const { from } = monthBounds();
    const addedAtStart = st.added;
    st.reading = (async () => {
      try {
        const [row] = await this.s.analytics.forOrg(orgId, 'kernel:usage').query<{ n: string | number }>(
          `SELECT count() AS n FROM ${this.s.analytics.database}.events WHERE org_id = {org_id:String} AND received_at >= {from:DateTime64(3, 'UTC')}`,
          { from: from.toISOString().replace('T', ' ').replace('Z', '') },
        );
        st.base = Number(row?.n ?? 0);
        // what was accepted while the count ran may or may not be in it: counted once, as accepted
        st.added -= addedAtStart;
        st.readAt = Date.now();
      } finally {
        st.reading = null;
      }
    })();
    return st.reading;
  }

  /** The org's tier, re-read every few seconds (PUT /orgs/{slug}/tier takes effect without a restart). */
  private async retier(orgId: string, st: OrgState) {
    st.tierAt = Date.now();
    const row = await this.s.knex.withSchema('public').table('orgs').where({ id: orgId }).first('tier');
    st.tier = row?.tier ?? 'standard';
  }

  /** The org's state, refreshing in the background what is stale; null while its first count or tier is still to be read. */
  private readyNow(orgId: string): OrgState | null {
    const st = this.state(orgId);
    if (st.base === null || st.tierAt === 0) return null;
    const now = Date.now();
    // the warning's closure is made only when a refresh starts, not on every request
    if (now - st.readAt > 60_000 && this.s.backlogRows() === 0) void this.recount(orgId, st).catch((err) => this.warnUnread(err, orgId));
    if (now - st.tierAt > 5_000) void this.retier(orgId, st).catch((err) => this.warnUnread(err, orgId));
    return st;
  }

  private warnUnread(err: unknown, orgId: string) {
    this.s.logger.warn({ err, orgId }, "could not read the org's usage");
  }

  private async ready(orgId: string): Promise<OrgState> {
    const st = this.state(orgId);
    const stale = Date.now() - st.readAt > 60_000 && this.s.backlogRows() === 0;
    const warn = (err: unknown) => this.s.logger.warn({ err, orgId }, "could not read the org's usage");
    // the first request of an org in a month waits for its count and tier; later ones are
    // refreshed in the background, so the ingestion path awaits no query
    if (st.base === null) await this.recount(orgId, st).catch(warn);
    else if (stale) void this.recount(orgId, st).catch(warn);
    if (st.tierAt === 0) await this.retier(orgId, st).catch(warn);
    else if (Date.now() - st.tierAt > 5_000) void this.retier(orgId, st).catch(warn);
    return st;
  }

  eventsUsed(st: OrgState) {
    return (st.base ?? 0) + st.added;
  }

  /** An ingestion request of `n` events for the org: throws the documented 429 when it would pass the soft limit. */
  async admit(org: Org, n: number): Promise<{ status: UsageStatus; used: number; limit: number } | null> {
    if (!this.enabled) return null;
    return this.admitState(org, n, await this.ready(org.id));
  }

  /**
   * `admit` without a promise once the org's count and tier are known (every request after its
   * first of the month): `undefined` means "not known yet, call `admit`". Throws the same 429.
   */
  admitNow(org: Org, n: number): { status: UsageStatus; used: number; limit: number } | null | undefined {
    if (!this.enabled) return null;
    const st = this.readyNow(org.id);
    return st ? this.admitState(org, n, st) : undefined;
  }

  private admitState(org: Org, n: number, st: OrgState): { status: UsageStatus; used: number; limit: number } {
    const limit = this.limitsOf(st.tier).eventsPerMonth;
    const hard = Math.floor(limit * (1 + this.soft));
    const used = this.eventsUsed(st);
    if (used + n > hard) {
      st.refused += n;
      st.refusedUnaudited += n;
      this.refusedTotal += n;
      if (Date.now() - st.lastAudit > 60_000) {
        st.lastAudit = Date.now();
        const refused = st.refusedUnaudited;
        st.refusedUnaudited = 0;
        void this.s.audit(org, null, { action: 'usage.events_refused', target: org.id, after: { tier: st.tier, used, limit, soft_limit: hard, refused } }).catch((err) => this.s.logger.warn({ err }, 'could not audit a usage refusal'));
      }
      const { to } = monthBounds();
      throw new HttpError(429, 'usage_limit_exceeded', `the organization has used ${used} of its ${limit} events this month and the ${Math.round(this.soft * 100)}% overage up to ${hard}: ${n} more would pass it; events are accepted again from ${to.toISOString()} or on a higher tier`, {
        tier: st.tier,
        used,
        limit,
        soft_limit: hard,
        requested: n,
        resets_at: to.toISOString(),
        retry_after: Math.ceil((to.getTime() - Date.now()) / 1000),
      });
    }
    return { status: this.statusOf(used + n, limit, hard), used: used + n, limit };
  }

  accepted(orgId: string, n: number) {
    if (n <= 0) return;
    this.state(orgId).added += n;
    this.acceptedTotal += n;
  }

  apiCall(orgId: string) {
    this.state(orgId).apiCalls++;
  }

  statusOf(used: number, limit: number, hard: number): UsageStatus {
    if (used >= hard) return 'over_limit';
    if (used > limit) return 'over_soft_limit';
    if (used >= limit * this.warn) return 'warning';
    return 'ok';
  }

  /** Storage of the org: its share of the events table's bytes on disk plus its PostgreSQL schema (cached a minute). */
  private async storage(org: Org, st: OrgState): Promise<number> {
    if (st.storage && Date.now() - st.storage.at < 60_000) return st.storage.bytes;
    let bytes = 0;
    try {
      const rs = await this.s.analytics.client.query({
        query: `SELECT sum(bytes_on_disk) AS b, sum(rows) AS r FROM system.parts WHERE database = {db:String} AND table = 'events' AND active`,
        query_params: { db: this.s.analytics.database },
        format: 'JSONEachRow',
      });
      const [t] = (await rs.json()) as Array<{ b: string | number; r: string | number }>;
      const [mine] = await this.s.analytics.forOrg(org.id, 'kernel:usage').query<{ n: string | number }>(`SELECT count() AS n FROM ${this.s.analytics.database}.events WHERE org_id = {org_id:String}`);
      const rows = Number(t?.r ?? 0);
      if (rows > 0) bytes += Math.round((Number(t!.b) / rows) * Number(mine?.n ?? 0));
      const pg = await this.s.knex.raw(`SELECT coalesce(sum(pg_total_relation_size(quote_ident(schemaname) || '.' || quote_ident(tablename))), 0) AS b FROM pg_tables WHERE schemaname = ?`, [org.schema]);
      bytes += Number((pg.rows ?? pg)[0]?.b ?? 0);
    } catch (err) {
      this.s.logger.warn({ err, org: org.slug }, 'could not measure the org\'s storage');
    }
    st.storage = { bytes, at: Date.now() };
    return bytes;
  }

  async usage(org: Org): Promise<OrgUsage> {
    const st = await this.ready(org.id);
    const lim = this.limitsOf(st.tier);
    const hard = Math.floor(lim.eventsPerMonth * (1 + this.soft));
    const used = this.eventsUsed(st);
    const [{ n: users }] = (await this.s.knex.withSchema('public').table('memberships').where({ org_id: org.id, active: true }).count({ n: '*' })) as Array<{ n: string | number }>;
    const storage = await this.storage(org, st);
    const { from, to } = monthBounds();
    const ratios = [storage / Math.max(1, lim.storageBytes), Number(users) / Math.max(1, lim.users)];
    let status = this.statusOf(used, lim.eventsPerMonth, hard);
    // storage and seats warn and go over like events, but only events are refused
    const worst = Math.max(...ratios);
    if (status === 'ok' && worst >= this.warn) status = 'warning';
    if ((status === 'ok' || status === 'warning') && worst > 1) status = 'over_soft_limit';
    return {
      tier: st.tier,
      period: { from: from.toISOString(), to: to.toISOString() },
      events: { used, limit: lim.eventsPerMonth, soft_limit: hard },
      storage_bytes: { used: storage, limit: lim.storageBytes },
      users: { used: Number(users), limit: lim.users },
      api_calls: { used: st.apiCalls },
      status,
      refused_events: st.refused,
    };
  }

  /** per-org figures for the operator's stats */
  snapshot(): Array<{ org_id: string; events_accepted_month: number; api_calls: number; refused: number }> {
    return [...this.orgs.entries()].map(([org_id, st]) => ({ org_id, events_accepted_month: this.eventsUsed(st), api_calls: st.apiCalls, refused: st.refused }));
  }
}
