/**
 * The kernel's ingestion module: wires the pipeline (validation, dedup, group
 * commit, quarantine, cost, privacy, quality) to the kernel's services and
 * mounts its HTTP doors (REST and OTLP).
 *
 * Config keys read (all optional, `ingestion.*` in app-config.yaml):
 *   batchSize (5000), maxDelayMs (20)      group commit: rows per insert, max wait
 *   maxConcurrentInserts (2 embedded, 4 server)
 *   publishIntervalMs (150)                 bus coalescing window per org
 *   dedupTtlSeconds (2592000 = 30 days)     how long an event_id is remembered in the kv
 *   dedupStaleMs (60000)                    when an unconfirmed claim is abandoned
 *   verifyDedupInStore ('auto')             also check ClickHouse for new ids: 'auto' = when the kv is in-process
 *   singleBodyBytes (1 MiB), batchBodyBytes (64 MiB)
 *   commit ('log')                          'log': 2xx once in the durable log, a loader fills ClickHouse;
 *                                           'direct': 2xx once ClickHouse has it (group commit, async_insert with a server)
 *   ackAfter ('log')                        with the log: 'loaded' holds the 2xx until the event is in ClickHouse (tests, read-your-writes)
 *   logPath (<dataDir>/ingest-log), maxBacklogRows (1,000,000)
 *   logRetainSeconds (60 when the kv is Redis or ids are checked in the store, as by default; else 3600)
 *                                           how long loaded entries and their ids stay in the log
 *   loadBatchSize (20000), loadDelayMs (50)  the loader: rows per insert, wait for company
 *   loadBusyRows (100), loadBusyDelayMs (150), loadTargetRows (2000)
 *                                           a batch with loadBusyRows after loadDelayMs waits on up to loadBusyDelayMs or loadTargetRows rows
 *   otlp.userAttributes, otlp.departmentAttributes, otlp.sessionAttributes (attribute names, first match wins)
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import client from 'prom-client';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';
import type { Org, StoredEvent } from '@orrery/plugin-sdk';
import { join, resolve } from 'node:path';
import { GroupCommitter, rowKey } from './commit.ts';
import { CompactEncoder } from './encode.ts';
import { EventLog } from './log.ts';
import { Loader } from './loader.ts';
import { Deduper } from './dedup.ts';
import { CoalescingPublisher } from './publish.ts';
import { QualityTracker, qualityTable } from './quality.ts';
import { IngestionOrgStore, orgMigrations } from './orgStore.ts';
import { Pipeline, type EventRow } from './pipeline.ts';
import { registerRoutes } from './routes.ts';
import { StoredIdsFilter } from './storedFilter.ts';
import { registerOtlpRoutes, DEFAULT_OTLP_ATTRIBUTES, type OtlpAttributeConfig } from './otlp/routes.ts';

/** The kernel services ingestion uses; permissions, metrics and rollups are optional so the pipeline also runs without them. */
export type IngestionDeps = Pick<Internals, 'analytics' | 'kv' | 'bus' | 'logger' | 'storage' | 'config' | 'pluginHost' | 'audit' | 'health'> & Partial<Pick<Internals, 'permissions' | 'metrics' | 'rollups'>>;

export interface IngestionConfig {
  batchSize: number;
  maxDelayMs: number;
  maxConcurrentInserts: number;
  publishIntervalMs: number;
  dedupTtlSeconds: number;
  dedupStaleMs: number;
  verifyDedupInStore: 'auto' | boolean;
  singleBodyBytes: number;
  batchBodyBytes: number;
  otlp: OtlpAttributeConfig;
  commit: 'log' | 'direct';
  ackAfter: 'log' | 'loaded';
  logPath: string;
  maxBacklogRows: number;
  /** undefined: chosen at start (60 s when something else answers for older ids, else 3600 s) */
  logRetainSeconds: number | undefined;
  loadBatchSize: number;
  loadDelayMs: number;
  loadBusyRows: number;
  loadBusyDelayMs: number;
  loadTargetRows: number;
}

export function ingestionConfig(raw: Record<string, unknown> | undefined, serverMode: boolean): IngestionConfig {
  const r = raw ?? {};
  const num = (k: string, d: number) => (typeof r[k] === 'number' && Number.isFinite(r[k]) ? (r[k] as number) : d);
  const otlp = (r.otlp ?? {}) as Partial<OtlpAttributeConfig>;
  return {
    batchSize: num('batchSize', 5000),
    maxDelayMs: num('maxDelayMs', 20),
    maxConcurrentInserts: num('maxConcurrentInserts', serverMode ? 4 : 2),
    publishIntervalMs: num('publishIntervalMs', 150),
    dedupTtlSeconds: num('dedupTtlSeconds', 30 * 86_400),
    dedupStaleMs: num('dedupStaleMs', 60_000),
    verifyDedupInStore: r.verifyDedupInStore === true || r.verifyDedupInStore === false ? r.verifyDedupInStore : 'auto',
    singleBodyBytes: num('singleBodyBytes', 1024 * 1024),
    batchBodyBytes: num('batchBodyBytes', 64 * 1024 * 1024),
    otlp: { ...DEFAULT_OTLP_ATTRIBUTES, ...otlp },
    commit: r.commit === 'direct' ? 'direct' : 'log',
    ackAfter: r.ackAfter === 'loaded' ? 'loaded' : 'log',
    logPath: typeof r.logPath === 'string' ? r.logPath : '',
    maxBacklogRows: num('maxBacklogRows', 1_000_000),
    logRetainSeconds: typeof r.logRetainSeconds === 'number' && Number.isFinite(r.logRetainSeconds) ? r.logRetainSeconds : undefined,
    loadBatchSize: num('loadBatchSize', 20_000),
    loadDelayMs: num('loadDelayMs', 50),
    loadBusyRows: num('loadBusyRows', 100),
    loadBusyDelayMs: num('loadBusyDelayMs', 150),
    loadTargetRows: num('loadTargetRows', 2000),
  };
}

/** how often loaded entries past the retention are removed from the log */
const PRUNE_EVERY_MS = 5_000;

/**
 * How long loaded entries (and their ids) stay in the log. The log is the index of recent ids
 * that answers a resend without any query; once an id has left it, the kv (Redis: claims for
 * `dedupTtlSeconds`) or the stored-ids filter and a store lookup (in-process kv) answer. When
 * one of those is on, a minute covers the resends of a client that got no answer, and keeps the
 * log's file small; with neither, the log is the only memory of ids across restarts: an hour.
 */
export function logRetainSeconds(cfg: Pick<IngestionConfig, 'logRetainSeconds'>, verifyInStore: boolean, kvDurable: boolean): number {
  return cfg.logRetainSeconds ?? (verifyInStore || kvDurable ? 60 : 3600);
}

/** rows encoded per turn of the event loop by the loader: a 20,000-row range is tens of ms of
 * encoding, which requests should not wait behind in one piece */
const ENCODE_SLICE = 2000;
/** rows per lookup when a range a crash interrupted is checked against the table (one query each) */
const REDO_LOOKUP_ROWS = 2000;

interface StoredKey {
  org: string;
  id: string;
  type: string;
  ts: number;
}

function metric<T>(registry: client.Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export const ingestionModule: KernelModule<IngestionDeps> = {
  name: 'ingestion',
  migrations: { org: orgMigrations, clickhouse: [qualityTable] },
  register(app, services: IngestionDeps) {
    const { analytics, kv, bus, logger, storage } = services;
    const log = logger.child({ module: 'ingestion' });
    const serverMode = analytics.mode === 'server';
    const cfg = ingestionConfig((services.config as unknown as { ingestion?: Record<string, unknown> }).ingestion, serverMode);
    const nodeId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
    const db = analytics.database;
    const kvDurable = Boolean((services.config as unknown as { storage?: { redisUrl?: string } }).storage?.redisUrl);
    const verifyInStore = cfg.verifyDedupInStore === 'auto' ? !kvDurable : cfg.verifyDedupInStore;

    services.permissions?.define('ingestion.manage', ['Admin'], 'kernel:ingestion');
    services.permissions?.define('ingestion.read', ['Admin', 'Manager'], 'kernel:ingestion');

    const registry: client.Registry = services.metrics?.registry ?? new client.Registry();
    const eventsTotal = metric(registry, 'orrery_ingest_events_total', () => new client.Counter({
      name: 'orrery_ingest_events_total', help: 'Events received, by org and outcome', labelNames: ['org', 'status'], registers: [registry],
    }));
    const commitSeconds = metric(registry, 'orrery_ingest_commit_seconds', () => new client.Histogram({
      name: 'orrery_ingest_commit_seconds', help: 'Duration of one group-commit insert', buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [registry],
    }));
    const batchRows = metric(registry, 'orrery_ingest_batch_rows', () => new client.Histogram({
      name: 'orrery_ingest_batch_rows', help: 'Rows per group-commit insert', buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000], registers: [registry],
    }));
    const lastEvent = metric(registry, 'orrery_ingest_last_event_timestamp_seconds', () => new client.Gauge({
      name: 'orrery_ingest_last_event_timestamp_seconds', help: 'Unix time of the last committed event per org (freshness)', labelNames: ['org'], registers: [registry],
    }));
    metric(registry, 'orrery_ingest_queue_rows', () => new client.Gauge({
      name: 'orrery_ingest_queue_rows', help: 'Rows waiting for the next group commit (direct mode)', registers: [registry], collect() { this.set(committer?.pendingRows ?? 0); },
    }));

    const checkSeconds = metric(registry, 'orrery_ingest_dedup_check_seconds', () => new client.Histogram({
      name: 'orrery_ingest_dedup_check_seconds', help: 'Duration of the by-id lookup of already stored events (one per batch)', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
    }));
    /**
     * Which of these events are already stored. Looked up by the full sort key
     * (org, type, timestamp, id), so it is an index search, not a scan of the
     * org's ids: an idempotent resend carries the same type and timestamp, and
     * for a conflicting claim the key of the first copy comes from the claim.
     */
    const storedIn = async (keys: StoredKey[]): Promise<Set<string>> => {
      if (keys.length === 0) return new Set();
      const end = checkSeconds.startTimer();
      const stamps = [...new Set(keys.map((k) => k.ts))].filter(Number.isFinite);
      const rs = await analytics.client.query({
        query: `SELECT org_id, event_id, event_type, toUnixTimestamp64Milli(timestamp) AS ts FROM ${db}.events
          WHERE org_id IN {orgs:Array(String)} AND event_type IN {types:Array(String)}
            AND timestamp IN (${stamps.map((t) => `fromUnixTimestamp64Milli(${Math.trunc(t)}, 'UTC')`).join(',') || 'NULL'})
            AND event_id IN {ids:Array(String)}`,
        query_params: { orgs: [...new Set(keys.map((k) => k.org))], types: [...new Set(keys.map((k) => k.type))], ids: [...new Set(keys.map((k) => k.id))] },
        format: 'JSONCompactEachRow',
      });
      const found = new Set(((await rs.json()) as Array<[string, string, string, number | string]>).map(([o, e, t, ts]) => `${o}\u0000${e}\u0000${t}\u0000${Number(ts)}`));
      end();
      return new Set(keys.filter((k) => found.has(`${k.org}\u0000${k.id}\u0000${k.type}\u0000${k.ts}`)).map((k) => rowKey(k.org, k.id)));
    };

    const storedFilter = verifyInStore ? new StoredIdsFilter(analytics.client, db, (err) => log.warn({ err }, 'could not build the stored-ids filter; every batch asks the store')) : null;
    void storedFilter?.ready.then(() => storedFilter.isReady && log.info({ ids: storedFilter.loaded }, 'stored-ids filter ready'));

    // the events table's columns, read once: a compact insert names its columns, so keys that are not
    // columns must be left out by us (JSONEachRow skipped them by itself)
    let columnsRead: Promise<Set<string>> | null = null;
    const eventColumns = () => (columnsRead ??= analytics.client
      .query({ query: `SELECT name FROM system.columns WHERE database = {db:String} AND table = 'events'`, query_params: { db }, format: 'JSONCompactEachRow' })
      .then(async (rs) => new Set(((await rs.json()) as Array<[string]>).map(([n]) => n)))
      .then((set) => {
        if (set.size === 0) throw new Error(`${db}.events has no columns (not migrated?)`);
        return set;
      })
      .catch((err) => {
        columnsRead = null; // ask again on the next insert rather than fail every insert from now on
        throw err;
      }));

    const insertSettings = serverMode
      // many API nodes share the server's insert load; the insert returns when the async buffer is flushed
      ? { async_insert: 1, wait_for_async_insert: 1, date_time_input_format: 'best_effort' as const }
      : { date_time_input_format: 'best_effort' as const };

    // Plugin handlers run after the answer, so a slow or failing plugin never holds ingestion.
    // Per org they run one batch after another, in commit order. Loads that arrive while the
    // handlers are busy join one batch for their next run: under load the handlers (and what
    // they write, e.g. a PostgreSQL upsert) run a few times a second, not once per load.
    const dispatchChains = new Map<string, { tail: Promise<void>; queued: StoredEvent[] | null; warned: boolean }>();
    const dispatch = (orgId: string, rows: StoredEvent[]) => {
      let c = dispatchChains.get(orgId);
      if (!c) dispatchChains.set(orgId, (c = { tail: Promise.resolve(), queued: null, warned: false }));
      const chain = c;
      if (chain.queued) {
        for (const r of rows) chain.queued.push(r);
        if (chain.queued.length >= 100_000 && !chain.warned) {
          chain.warned = true;
          log.warn({ orgId, rows: chain.queued.length }, 'plugin event handlers are 100,000 events behind ingestion');
        }
        return;
      }
      chain.queued = rows.slice();
      chain.tail = chain.tail
        .then(() => {
          const batch = chain.queued!;
          chain.queued = null;
          chain.warned = false;
          return services.pluginHost.dispatchEvents(orgId, batch);
        })
        .catch((err) => log.warn({ err, orgId }, 'plugin event handlers failed'));
    };
    const drainDispatch = () => Promise.all([...dispatchChains.values()].map((c) => c.tail));

    const QUARANTINED_TOPIC = 'ingestion.quarantined';
    const publisher = new CoalescingPublisher(bus, cfg.publishIntervalMs, (err) => log.warn({ err }, 'bus publish failed'));
    const quality = new QualityTracker({ client: analytics.client, database: db, nodeId, kv, bus, onError: (err) => log.warn({ err }, 'quality metrics failed') });

    const onCommitted = (rows: EventRow[]) => {
      const byOrg = new Map<string, StoredEvent[]>();
      for (const r of rows) {
        storedFilter?.addStored(r.org_id, r.event_id);
        let l = byOrg.get(r.org_id);
        if (!l) byOrg.set(r.org_id, (l = []));
        l.push(r);
      }
      for (const [orgId, list] of byOrg) {
        services.pluginHost.dataChanged(orgId);
        publisher.add(orgId, list);
        lastEvent.set({ org: orgId }, Date.now() / 1000);
        dispatch(orgId, list);
      }
    };
    const alreadyStored = verifyInStore
      ? (rows: EventRow[]) => storedIn(rows.filter((r) => storedFilter!.mightContain(r.org_id, r.event_id)).map((r) => ({ org: r.org_id, id: r.event_id, type: r.event_type, ts: Date.parse(r.timestamp) })))
      : undefined;
    // the columns a load names: the row keys that are columns of the table, never `inserted_at`
    // (its DEFAULT marks when a row reached ClickHouse, for the rollups); one encoder per column set read
    let encoderFor: { columns: Set<string>; encoder: CompactEncoder } | null = null;
    const encoder = async () => {
      const columns = await eventColumns();
      if (encoderFor?.columns !== columns) encoderFor = { columns, encoder: new CompactEncoder([...columns].filter((c) => c !== 'inserted_at')) };
      return encoderFor.encoder;
    };
    /** a range's insert body (JSONCompactEachRow) and its columns */
    const encodeRange = async (rows: EventRow[]) =>
      (await encoder()).encode(rows, { sliceRows: ENCODE_SLICE, between: () => new Promise((r) => setImmediate(r)) });

    let committer: GroupCommitter<EventRow> | null = null;
    let eventLog: EventLog<EventRow> | null = null;
    let loader: Loader<EventRow> | null = null;
    let submit: (rows: EventRow[]) => Promise<Set<string>>;
    if (cfg.commit === 'direct') {
      const c = (committer = new GroupCommitter<EventRow>({
        batchSize: cfg.batchSize,
        maxDelayMs: cfg.maxDelayMs,
        maxConcurrent: cfg.maxConcurrentInserts,
        async insert(rows) {
          const end = commitSeconds.startTimer();
          const { columns, body } = await encodeRange(rows);
          await analytics.insertRaw({ table: `${db}.events`, columns, format: 'JSONCompactEachRow', body, settings: insertSettings as Record<string, string | number> });
          end();
          batchRows.observe(rows.length);
        },
        alreadyStored,
        onCommitted,
        onError: (err, rows) => log.error({ err, rows: rows.length }, 'group commit failed'),
      }));
      submit = (rows) => c.submit(rows);
    } else {
      const dataDir = resolve((services.config as unknown as { storage: { dataDir: string } }).storage.dataDir);
      const el = (eventLog = new EventLog<EventRow>({
        path: cfg.logPath ? resolve(cfg.logPath) : join(dataDir, 'ingest-log'),
        maxBacklogRows: cfg.maxBacklogRows,
        retainMs: logRetainSeconds(cfg, verifyInStore, kvDurable) * 1000,
      }));
      const ld = (loader = new Loader<EventRow, { columns: string[]; body: Buffer }>({
        log: el,
        batchSize: cfg.loadBatchSize,
        maxDelayMs: cfg.loadDelayMs,
        busyRows: cfg.loadBusyRows,
        busyDelayMs: cfg.loadBusyDelayMs,
        targetRows: cfg.loadTargetRows,
        prepare: encodeRange,
        async insert(rows, token, prepared) {
          const end = commitSeconds.startTimer();
          const { columns, body } = prepared ?? (await encodeRange(rows));
          await analytics.insertRaw({
            table: `${db}.events`, columns, format: 'JSONCompactEachRow', body,
            // per insert, never session-wide: the token makes a range inserted again after a crash a no-op
            settings: { insert_deduplication_token: token, insert_deduplicate: 1, date_time_input_format: 'best_effort' },
          });
          end();
          batchRows.observe(rows.length);
        },
        // a range a crash interrupted: which of its rows the table holds, by their sort keys
        async missingOf(rows) {
          const stored = new Set<string>();
          for (let o = 0; o < rows.length; o += REDO_LOOKUP_ROWS) {
            const slice = rows.slice(o, o + REDO_LOOKUP_ROWS);
            for (const k of await storedIn(slice.map((r) => ({ org: r.org_id, id: r.event_id, type: r.event_type, ts: Date.parse(r.timestamp) })))) stored.add(k);
          }
          return stored.size ? rows.filter((r) => !stored.has(rowKey(r.org_id, r.event_id))) : rows;
        },
        onLoaded: (rows) => onCommitted(rows),
        onError: (err, range) => log.error({ err, first: range.first, last: range.last }, 'loading the ingestion log into ClickHouse failed; retrying'),
      }));
      submit = async (rows) => {
        const stored = new Set<string>();
        let fresh: EventRow[] = [];
        for (const r of rows) {
          if (el.has(r.org_id, r.event_id)) stored.add(rowKey(r.org_id, r.event_id));
          else fresh.push(r);
        }
        if (alreadyStored && fresh.length) {
          const found = await alreadyStored(fresh);
          if (found.size) {
            for (const k of found) stored.add(k);
            fresh = fresh.filter((r) => !found.has(rowKey(r.org_id, r.event_id)));
          }
        }
        if (fresh.length) {
          const seq = await el.append(fresh);
          if (cfg.ackAfter === 'loaded') await ld.waitFor(seq);
        }
        return stored;
      };
      ld.start();
      // pruned to completion every few seconds: the pages freed are reused by the next commits, so
      // the log's file stays at retention × rate × entry size (one prune at a time)
      let pruning: Promise<unknown> | null = null;
      const pruneTimer = setInterval(() => {
        pruning ??= el.pruneAll().catch((err) => log.warn({ err }, 'pruning the ingestion log failed')).finally(() => (pruning = null));
      }, PRUNE_EVERY_MS);
      pruneTimer.unref();
      app.addHook('onClose', async () => {
        clearInterval(pruneTimer);
        await pruning;
      });
      metric(registry, 'orrery_ingest_backlog_rows', () => new client.Gauge({
        name: 'orrery_ingest_backlog_rows', help: 'Rows in the durable log not yet loaded into ClickHouse', registers: [registry], collect() { this.set(eventLog?.backlogRows ?? 0); },
      }));
      metric(registry, 'orrery_ingest_backlog_limit_rows', () => new client.Gauge({
        name: 'orrery_ingest_backlog_limit_rows', help: 'Backlog above which events are refused with 503', registers: [registry], collect() { this.set(eventLog?.limit ?? 0); },
      }));
      metric(registry, 'orrery_ingest_loader_lag_seconds', () => new client.Gauge({
        name: 'orrery_ingest_loader_lag_seconds', help: 'Age of the oldest logged event not yet in ClickHouse', registers: [registry], collect() { this.set((eventLog?.lagMs() ?? 0) / 1000); },
      }));
      metric(registry, 'orrery_ingest_refused_rows_total', () => new client.Counter({
        name: 'orrery_ingest_refused_rows_total', help: 'Rows refused with 503 because the backlog was full', registers: [registry], collect() { this.reset(); this.inc(eventLog?.stats.refused ?? 0); },
      }));
    }
    /** backlog and loader lag, for /ready, the quality route and the benchmark */
    const logStatus = () => eventLog
      ? { commit: 'log' as const, backlog_rows: eventLog.backlogRows, backlog_limit: eventLog.limit, full: eventLog.backlogRows >= eventLog.limit, loader_lag_ms: eventLog.lagMs(), refused_rows: eventLog.stats.refused, loaded_seq: eventLog.loaded, last_seq: eventLog.lastSeq, pruned_entries: eventLog.stats.pruned, log_file_bytes: eventLog.footprint().fileBytes }
      : { commit: 'direct' as const, backlog_rows: committer?.pendingRows ?? 0, backlog_limit: null, full: false, loader_lag_ms: 0, refused_rows: 0 };

    const store = new IngestionOrgStore(storage);
    const deduper = new Deduper(kv, {
      nodeId,
      // With the log and an in-process kv, a claim only has to cover an event until it is in the
      // log's id index: after that the log (retained ids) and the stored-ids filter (ids loaded
      // by this process included) answer, as they do after a restart. It is dropped at the commit
      // (`releaseOnCommit`); the short TTL is the backstop for a request that never got there.
      // Kept for the whole dedup period it cost ~450 bytes of memory per event for 30 days.
      // (`commit: direct` keeps the long claims: an uncertain insert is remembered by its claim.)
      ttlSeconds: cfg.commit === 'log' && verifyInStore && !kvDurable ? Math.min(cfg.dedupTtlSeconds, Math.max(120, Math.ceil((2 * cfg.dedupStaleMs) / 1000))) : cfg.dedupTtlSeconds,
      staleMs: cfg.dedupStaleMs,
      // the log's id index answers for an id from its append on (across restarts too), so an
      // in-process claim is needed only while its request is on the way to the log
      releaseOnCommit: cfg.commit === 'log' && verifyInStore && !kvDurable,
      stored: async (orgId, keys) => {
        // in the log (loaded or not): as good as stored, and no query
        const inLog = new Set(eventLog ? keys.filter((k) => eventLog!.has(orgId, k.id)).map((k) => k.id) : []);
        const rest = keys.filter((k) => !inLog.has(k.id));
        const found = rest.length ? await storedIn(rest.map((k) => ({ org: orgId, ...k }))) : new Set<string>();
        for (const k of found) inLog.add(k.slice(k.indexOf('\u0000') + 1));
        return inLog;
      },
    });
    const pipeline = new Pipeline({
      store,
      deduper,
      committer: { submit },
      quality,
      onQuarantineError: (err) => log.error({ err }, 'quarantine write failed'),
      // one message per request (at most 100 events named), for the alerts plugin's `event.quarantined` webhooks
      onQuarantined: (org, items, source) =>
        void bus
          .publish(org.id, { kind: 'org' }, QUARANTINED_TOPIC, { count: items.length, source, events: items.slice(0, 100), at: new Date().toISOString() })
          .catch((err) => log.warn({ err }, 'bus publish failed')),
    });
    // counter children per org and status, found by a flat key: inc() with a label object hashes the
    // labels on every call, which the single-event route pays per event
    const counterChildren = new Map<string, { inc(n: number): void }>();
    const countStatus = (slug: string, status: string, n: number) => {
      const key = `${status}\u0000${slug}`;
      let c = counterChildren.get(key);
      if (!c) counterChildren.set(key, (c = eventsTotal.labels({ org: slug, status })));
      c.inc(n);
    };
    const countingPipeline = {
      async ingest(org: Org, raws: readonly unknown[], opts: Parameters<Pipeline['ingest']>[2]) {
        const results = await pipeline.ingest(org, raws, opts);
        if (results.length === 1) {
          countStatus(org.slug, results[0]!.status, 1);
          if (results[0]!.status === 'accepted') services.health?.usage.accepted(org.id, 1); // the org's monthly usage (core/src/health)
          return results;
        }
        const counts: Record<string, number> = {};
        for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
        for (const status in counts) countStatus(org.slug, status, counts[status]!);
        services.health?.usage.accepted(org.id, counts.accepted ?? 0);
        return results;
      },
    } as Pipeline;

    const deleteRawUserEvents = async (org: Org, userId: string) => {
      // events of this user still in the log would be loaded after the delete: load them first
      if (loader && eventLog) await loader.waitFor(eventLog.lastSeq);
      const rs = await analytics.client.query({
        query: `SELECT count() AS n FROM ${db}.events WHERE org_id = {org:String} AND user_id = {user:String}`,
        query_params: { org: org.id, user: userId }, format: 'JSONEachRow',
      });
      const n = Number(((await rs.json()) as Array<{ n: number | string }>)[0]?.n ?? 0);
      if (n > 0) {
        await analytics.client.command({
          query: `ALTER TABLE ${db}.events${analytics.cluster ? ` ON CLUSTER ${analytics.cluster}` : ''} DELETE WHERE org_id = {org:String} AND user_id = {user:String}`,
          query_params: { org: org.id, user: userId },
          // the answer must mean "gone", on every replica
          clickhouse_settings: { mutations_sync: '2' },
        });
      }
      return n;
    };

    // the rollups built from those events are rebuilt for the user's days (core/src/rollups)
    const deleteUserEvents = (org: Org, userId: string): Promise<number> =>
      services.rollups ? services.rollups.purgeUser(org, userId, () => deleteRawUserEvents(org, userId)) : deleteRawUserEvents(org, userId);

    registerRoutes(app, {
      pipeline: countingPipeline,
      store,
      quality,
      deduper,
      limits: { singleBodyBytes: cfg.singleBodyBytes, batchBodyBytes: cfg.batchBodyBytes },
      deleteUserEvents,
      ingestionStatus: logStatus,
      audit: services.audit,
      async lookup(org, eventId) {
        const rs = await analytics.client.query({
          query: `SELECT * FROM ${db}.events WHERE org_id = {org:String} AND event_id = {id:String} LIMIT 1`,
          query_params: { org: org.id, id: eventId }, format: 'JSONEachRow',
        });
        return ((await rs.json()) as Array<Record<string, unknown>>)[0] ?? null;
      },
      publishUserDeleted: (org, userId) => {
        services.pluginHost.dataChanged(org.id);
        return bus.publish(org.id, { kind: 'org' }, 'ingestion.user_deleted', { user_id: userId, at: new Date().toISOString() });
      },
    });
    registerOtlpRoutes(app, { pipeline: countingPipeline, attributes: cfg.otlp, bodyLimit: cfg.batchBodyBytes });

    quality.start();
    app.addHook('onClose', async () => {
      // accepted requests are waiting on these inserts: finish them before the stores close
      await committer?.drain();
      // what the log holds is durable; loading it before the stores close keeps a clean stop simple to reason about
      await loader?.stop(true);
      await eventLog?.close();
      publisher.flushAll();
      await drainDispatch();
      await quality.stop();
    });
    // exposed for the benchmark and tests (counters, forcing an alert evaluation)
    const backlogRows = () => (eventLog ? eventLog.backlogRows : (committer?.pendingRows ?? 0));
    app.decorate('ingestion', { committer, log: eventLog, loader, status: logStatus, backlogRows, publisher, quality, config: cfg, nodeId });
    log.info({ batchSize: cfg.batchSize, maxDelayMs: cfg.maxDelayMs, verifyInStore, nodeId }, 'ingestion ready');
  },
};
