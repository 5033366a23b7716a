/**
 * The kernel's service catalogue: what lives in the awilix container. Kernel
 * modules (auth, ingestion, plugins, ...) receive these; plugins never do —
 * they get the narrower TenantContext of the SDK.
 */
import type { Knex } from 'knex';
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {
  AnalyticsClient,
  BusScope,
  BusMessage,
  Caller,
  Logger,
  Mailer,
  Notifier,
  Org,
  TenantDatabase,
  StoredEvent,
  PgMigration,
  ChMigration,
} from '@orrery/plugin-sdk';
import type { AppConfig } from '@orrery/config';

export interface KeyValueStore {
  /** set if absent; returns true when this call set it (used for dedup and locks) */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** many keys at once; returns for each whether this call set it */
  setManyIfAbsent(keys: string[], value: string, ttlSeconds: number): Promise<boolean[]>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  del(key: string): Promise<void>;
  /** many keys at once (one round trip) */
  delMany(keys: string[]): Promise<void>;
  /** increments a counter that expires ttlSeconds after its first increment */
  incr(key: string, ttlSeconds: number): Promise<number>;
  close(): Promise<void>;
}

export interface Bus {
  readonly mode: 'in-process' | 'redis';
  /** this node's id on the bus: every message carries the id of the node that published it */
  readonly node: string;
  publish<T>(orgId: string, scope: BusScope, topic: string, payload: T): Promise<void>;
  /** handler receives every message (all orgs) whose topic matches (exact, or prefix ending in `*`) */
  subscribe<T>(topicPattern: string, handler: (msg: BusMessage<T> & { scope: BusScope; node: string }) => void): () => void;
  close(): Promise<void>;
}

export interface Analytics {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly mode: 'embedded' | 'server';
  readonly cluster: string | null;
  /** tenant-bound helper for one org, optionally tagged with the plugin using it */
  forOrg(orgId: string, owner?: string): AnalyticsClient;
  /**
   * Inserts a body already encoded in `format`, with settings that apply to this insert
   * only (an `INSERT … SETTINGS` clause in embedded mode, where a `SET` would stay on the
   * shared chDB session; request parameters with a server).
   */
  insertRaw(p: { table: string; columns: readonly string[]; format: 'JSONCompactEachRow' | 'JSONEachRow'; body: Buffer; settings?: Record<string, string | number> }): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /** tells `fn` the time of every tenant query run (the platform's store query series) */
  observeQueries?(fn: (ms: number) => void): void;
  /**
   * When the oldest write of this process still under way began (`Date.now()` ms, taken before
   * the statement was sent), or null when none is. Every insert and command goes through this
   * object's client or `insertRaw`, so in embedded mode, where nothing outside this process
   * writes to the engine, no row can become visible later with an `inserted_at` before it.
   */
  oldestWriteStartedAt?(): number | null;
}

export interface Storage {
  /** knex on the public catalogue */
  readonly knex: Knex;
  readonly mode: 'embedded' | 'server';
  /** a TenantDatabase bound to the org's schema */
  forOrg(org: Org): TenantDatabase;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface AuthContext {
  org: Org;
  caller: Caller;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    /** permission the route requires; 'public' skips authentication, 'authenticated' needs any valid token */
    permission?: string;
    /** token kinds accepted; default access + api tokens */
    tokenKinds?: Array<'access_token' | 'api_token' | 'hook_token'>;
  }
}

export interface KernelServices {
  config: AppConfig;
  logger: Logger;
  storage: Storage;
  analytics: Analytics;
  kv: KeyValueStore;
  bus: Bus;
  notifier: Notifier;
  /** email to any addresses through `smtp` (plugins' `ctx.mail`) */
  mailer: Mailer;
  /**
   * hands committed events to every enabled plugin's event handlers; `dataChanged` tells
   * the remembered route answers at once that the org's events changed
   */
  pluginHost: {
    dispatchEvents(orgId: string, events: StoredEvent[]): Promise<void>;
    dataChanged(orgId: string): void;
    /** the plugins' demo data seeders, for an org just given demo events (`npm start`'s first run) */
    seedDemoData(org: Org, span: { from: Date; to: Date }): Promise<Array<{ plugin: string; description: string; ok: boolean }>>;
  };
  /** looks up an org in the public catalogue */
  orgs: { byId(id: string): Promise<Org | null>; bySlug(slug: string): Promise<Org | null>; list(): Promise<Org[]> };
  /** writes an audit record in the org's schema */
  audit(org: Org, caller: Caller | null, entry: { action: string; target?: string; before?: unknown; after?: unknown; ip?: string }): Promise<void>;
}

/**
 * A part of the kernel that adds routes. Each module is one folder under
 * core/src and one entry in core/src/modules.ts.
 */
export interface KernelModule<Deps = any> {
  name: string;
  /** the module's own migrations: `public` catalogue, each org schema, ClickHouse */
  migrations?: { public?: PgMigration[]; org?: PgMigration[]; clickhouse?: ChMigration[] };
  /**
   * `Deps` is the part of the container the module uses (a `Pick` of the kernel's services),
   * declared by the module; core/src/modules.ts checks that the container provides it.
   */
  register: (app: FastifyInstance, services: Deps) => Promise<void> | void;
}

export type { FastifyRequest };
