import { mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { AnalyticsClient } from '@orrery/plugin-sdk';
import type { Analytics } from '../types.ts';

const ORG_PARAM = '{org_id:String}';
/** the embedded engine's server configuration (what differs from chDB's defaults, and why) */
const CHDB_CONFIG = join(import.meta.dirname, 'chdb.xml');

/**
 * The analytical store. chDB in-process (one data directory per process — see
 * STACK.md) by default, a ClickHouse server when a URL is given. The tenant
 * helper is the only way plugins reach it, and it always binds org_id.
 */
export async function openAnalytics(opts: {
  clickhouseUrl: string;
  dataDir: string;
  chdbPath?: string;
  database: string;
  cluster: string;
}): Promise<Analytics> {
  let client: ClickHouseClient;
  let mode: Analytics['mode'];
  let configSession: { close(): void } | null = null;
  let rawInsert: ((p: { table: string; columns: readonly string[]; format: string; values: Buffer; settings?: Record<string, string | number> }) => Promise<unknown>) | null = null;
  if (opts.clickhouseUrl) {
    client = createClient({
      url: opts.clickhouseUrl,
      clickhouse_settings: { date_time_input_format: 'best_effort', output_format_json_quote_64bit_integers: 0 },
    });
    mode = 'server';
  } else {
    const dir = opts.chdbPath || join(opts.dataDir, 'ch');
    mkdirSync(dir, { recursive: true });
    // The engine's server configuration (chdb.xml) is taken from the first connection that opens
    // the data directory; the client's connection (which takes no arguments) opens it second and
    // shares that engine. This one is held until close.
    const { Session } = (await import('chdb')) as unknown as { Session: new (path: string, opts: { connectionArgs: string[] }) => { close(): void } };
    configSession = new Session(dir, { connectionArgs: [`--config-file=${CHDB_CONFIG}`] });
    const { createChdbConnection } = await import('chdb/connection');
    const connection = createChdbConnection({ path: dir });
    // zero-copy Buffer insert with a per-insert SETTINGS clause (the client's settings become a
    // session-wide SET in chDB, which later inserts would inherit)
    rawInsert = (p) => connection.chdb.rawInsert(p as never);
    client = createClient({
      // two copies of the client's types (chdb bundles its own): the cast is the documented seam
      connection: connection as any,
      clickhouse_settings: { date_time_input_format: 'best_effort', output_format_json_quote_64bit_integers: 0 },
    } as any);
    mode = 'embedded';
  }
  const database = opts.database;
  const cluster = opts.cluster || null;
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}${cluster ? ` ON CLUSTER ${cluster}` : ''}` });

  const inFlight: InFlightReads = { reads: new Map(), writes: 0 };
  // Writes under way, by number, with the time each began (a Map keeps insertion order: the
  // first entry is the oldest). The rollup fold reads it to know that no row with an
  // `inserted_at` before that time can still appear (oldestWriteStartedAt).
  const started = new Map<number, number>();
  let nextWrite = 0;
  const begin = () => {
    const id = nextWrite++;
    started.set(id, Date.now());
    return id;
  };
  // Every write, whoever makes it (ingestion uses the client directly), starts a new
  // generation of shared reads: a read asked for after a write returned never joins one
  // that started before it.
  const done = (id: number) => {
    started.delete(id);
    inFlight.writes++;
  };
  for (const method of ['insert', 'command', 'exec'] as const) {
    const write = (client[method] as (...a: unknown[]) => Promise<unknown>).bind(client);
    (client as unknown as Record<string, unknown>)[method] = async (...a: unknown[]) => {
      const id = begin();
      try {
        return await write(...a);
      } finally {
        done(id);
      }
    };
  }
  const analytics: Analytics = {
    client,
    database,
    mode,
    cluster,
    forOrg: (orgId: string, owner?: string) => tenantAnalytics(client, database, orgId, inFlight, owner),
    observeQueries(fn: (ms: number) => void) {
      inFlight.observe = fn;
    },
    async insertRaw({ table, columns, format, body, settings }) {
      if (!rawInsert) return void (await client.insert({ table, columns: columns as [string, ...string[]], format, values: Readable.from([body]), clickhouse_settings: settings as never }));
      const id = begin();
      try {
        await rawInsert({ table, columns, format, values: body, settings });
      } finally {
        done(id);
      }
    },
    oldestWriteStartedAt() {
      for (const t of started.values()) return t;
      return null;
    },
    async ping() {
      try {
        const r = await client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' });
        await r.json();
        return true;
      } catch {
        return false;
      }
    },
    close: async () => {
      await client.close();
      configSession?.close();
      // A closed connection is torn down only once the native operations still running on it
      // end (chdb defers it); exiting before that leaves libuv's threads inside the engine while
      // its exit handlers run, which is where a stopped server was once seen to hang. Wait for
      // them, bounded: a stop must not wait forever either.
      if (mode === 'embedded') {
        const { drainPending } = (await import('chdb')) as unknown as { drainPending(): Promise<void> };
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([drainPending(), new Promise<void>((r) => (timer = setTimeout(r, 15_000)))]);
        clearTimeout(timer);
      }
    },
  };
  return analytics;
}

export class TenantlessQueryError extends Error {}

/**
 * Reads under way, by SQL and parameters (the org is one of them). A dashboard asks several
 * routes at once, and routes built on the same query (a leaderboard and a breakdown by agent
 * over the same range) would run it twice side by side on the same cores: the second caller
 * waits for the first one's answer instead. Only reads that overlap in time are shared, so
 * nobody gets an answer older than their own request.
 */
interface InFlightReads {
  reads: Map<string, { rows: Promise<unknown[]>; joined: number }>;
  /** writes completed so far: part of every key */
  writes: number;
  /** told the time of every tenant query run (core/src/health) */
  observe?: (ms: number) => void;
}

async function sharedRead<T>(inFlight: InFlightReads, query: string, run: () => Promise<T[]>): Promise<T[]> {
  const key = `${inFlight.writes}\u0000${query}`;
  const reads = inFlight.reads;
  let entry = reads.get(key);
  if (entry) entry.joined++;
  else {
    const rows = run();
    entry = { rows, joined: 0 };
    reads.set(key, entry);
    // registered before any caller's continuation: the entry is gone (and `joined` final)
    // by the time a caller decides whether it must copy
    rows.then(() => reads.delete(key), () => reads.delete(key));
  }
  const rows = (await entry.rows) as T[];
  // a shared answer is copied for each caller: callers may reshape the rows they get
  return entry.joined ? structuredClone(rows) : rows;
}

function tenantAnalytics(client: ClickHouseClient, database: string, orgId: string, inFlight: InFlightReads, owner?: string): AnalyticsClient {
  const table = (name: string) => (name.includes('.') ? name : `${database}.${name}`);
  const bind = (sql: string, params?: Record<string, unknown>) => {
    if (!sql.includes(ORG_PARAM)) {
      throw new TenantlessQueryError(
        `analytics query${owner ? ` from ${owner}` : ''} must filter on org_id = ${ORG_PARAM}; got: ${sql.slice(0, 120)}`,
      );
    }
    if (params && 'org_id' in params && params.org_id !== orgId) {
      throw new TenantlessQueryError('org_id is bound by the kernel and cannot be passed as a parameter');
    }
    return { query: sql.replaceAll('{db}', database), query_params: { ...params, org_id: orgId } };
  };
  return {
    orgId,
    table,
    async query<T>(sql: string, params?: Record<string, unknown>) {
      const bound = bind(sql, params);
      return sharedRead<T>(inFlight, `${bound.query}\u0000${JSON.stringify(bound.query_params)}`, async () => {
        const t = performance.now();
        const r = await client.query({ ...bound, format: 'JSONEachRow' });
        const rows = (await r.json()) as T[];
        inFlight.observe?.(performance.now() - t);
        return rows;
      });
    },
    async queryText(sql: string, params: Record<string, unknown> | undefined, format: 'RawBLOB' | 'CSV' | 'CSVWithNames' | 'TabSeparated' | 'JSONEachRow') {
      const r = await client.query({ ...bind(sql, params), format: format as never });
      return r.text();
    },
    async command(sql: string, params?: Record<string, unknown>) {
      await client.command(bind(sql, params));
    },
    async insert(tableName: string, rows: Record<string, unknown>[]) {
      if (rows.length === 0) return;
      await client.insert({ table: table(tableName), values: rows.map((r) => ({ ...r, org_id: orgId })), format: 'JSONEachRow' });
    },
  };
}
