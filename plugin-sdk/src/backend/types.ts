/**
 * The backend plugin contract. A plugin is one `definePlugin({...})` call: the
 * declaration is plain data plus a synchronous `register` step (routes, jobs,
 * event handlers) and an optional async `init`. The kernel reads the whole
 * declaration before anything runs, so a bad plugin is refused with a message
 * and never half-started.
 *
 * Nothing here imports the kernel: the kernel implements these interfaces and
 * hands them to the plugin.
 */
import type { Knex } from 'knex';
import type { NeededService, ProvidedService, ServiceAccess } from './services.ts';
import type { Directory } from './contracts/directory.ts';
import type { PlatformAccess } from './contracts/platform.ts';
import type { OrgRecords } from './contracts/orgRecords.ts';
import type { BusMessage, BusScope, JsonSchema, PageDecl, Role, WidgetDecl } from '../contract/index.ts';
export { ROLES, TIME_RANGE_PRESETS, type TimeRangePreset, type BusMessage, type BusScope, type JsonSchema, type PageDecl, type Role, type WidgetDecl } from '../contract/index.ts';
import type { RollupDecl, RollupReader } from './rollupsDecl.ts';
import type { RetentionHorizons } from './retention.ts';

export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Who is calling. Departments carry the caller's membership and whether they manage it. */
export interface Caller {
  userId: string;
  email: string;
  displayName: string;
  role: Role;
  departments: Array<{ id: string; name: string; manager: boolean }>;
  /** `true` for the platform operator (the bootstrap admin): may create organizations. */
  operator: boolean;
  /** how the caller authenticated */
  via: 'access_token' | 'api_token' | 'hook_token';
}

export interface Org {
  id: string;
  slug: string;
  name: string;
  /** PostgreSQL schema holding this org's transactional data */
  schema: string;
}

/**
 * Tenant-bound analytics queries. Every query must reference `{org_id:String}`;
 * the helper binds it from the caller and refuses SQL that does not, so a plugin
 * cannot issue a tenant-less query through the SDK.
 */
export interface AnalyticsClient {
  readonly orgId: string;
  /** Fully qualified name of a kernel table, e.g. `table('events')` → `orrery.events`. */
  table(name: string): string;
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * The answer as ClickHouse writes it in `format` (e.g. `RawBLOB`, `CSV`, `TabSeparated`), one
   * string, never parsed into rows: for exports that hand the store's own bytes to the client.
   * Same tenant rule as `query`. Optional: hosts before SDK 2.1 do not offer it.
   */
  queryText?(sql: string, params: Record<string, unknown> | undefined, format: 'RawBLOB' | 'CSV' | 'CSVWithNames' | 'TabSeparated' | 'JSONEachRow'): Promise<string>;
  /** Insert rows into one of the plugin's own tables; `org_id` is set on every row. */
  insert(table: string, rows: Record<string, unknown>[]): Promise<void>;
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
}

/**
 * The org's transactional database: the plugin's own tables in the org's schema. The
 * kernel's tables (people, departments, settings) are not reachable through it: read
 * people through `ctx.directory`.
 */
export interface TenantDatabase {
  readonly schema: string;
  /** knex query builder for one of the plugin's tables in the org's schema */
  table<T extends object = any>(name: string): Knex.QueryBuilder<T>;
  /**
   * A raw SQL fragment or statement (`?` / `??` bindings), e.g. a select expression
   * or a query over the plugin's tables qualified with `schema`. SQL naming another
   * schema or a kernel table is refused.
   */
  raw<T = any>(sql: string, bindings?: readonly unknown[]): Knex.Raw<T>;
  transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
}

/**
 * The realtime bus. Topics are scoped: `org`, `department:<id>` or `user:<id>`,
 * always within the caller's org. A plugin publishes under its own topic names.
 */
export interface PluginBus {
  publish<T>(orgId: string, scope: BusScope, topic: string, payload: T): Promise<void>;
  subscribe<T>(topic: string, handler: (msg: BusMessage<T>) => void | Promise<void>): () => void;
}

export interface Notification {
  orgId: string;
  /** user ids to notify; only active members of the org receive anything */
  to: string[];
  subject: string;
  text: string;
  /** channels to use; defaults to in-app + email */
  channels?: Array<'in_app' | 'email' | 'slack' | 'webhook'>;
  link?: string;
  data?: Record<string, unknown>;
  /** an HTML body for email, besides `text` */
  html?: string;
  /** files attached to the email (other channels are told their names and sizes) */
  attachments?: Array<{ filename: string; content: Uint8Array; contentType: string }>;
}
export interface Notifier {
  send(n: Notification): Promise<{ delivered: Array<{ channel: string; to: string; ok: boolean; error?: string }> }>;
}

/** One email to any addresses (not only members), sent through the kernel's `smtp` config. */
export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
  html?: string;
  /** extra headers, e.g. an id receivers deduplicate on */
  headers?: Record<string, string>;
  attachments?: Array<{ filename: string; content: Uint8Array; contentType: string }>;
}
export interface Mailer {
  /** false when the kernel has no SMTP server (`smtp.url` empty): `send` then throws */
  readonly configured: boolean;
  /** resolves once the SMTP server accepted the message; throws with the reason otherwise */
  send(m: MailMessage): Promise<void>;
}

export interface AuditEntry {
  action: string;
  target?: string;
  before?: unknown;
  after?: unknown;
}

/** Services a plugin gets for one request (or one job run for one org). */
export interface TenantContext<TConfig = Record<string, unknown>> {
  org: Org;
  caller: Caller | null;
  db: TenantDatabase;
  analytics: AnalyticsClient;
  bus: {
    /** publish on this plugin's topic for the org, a department or a user */
    publish<T>(topic: string, payload: T, scope?: BusScope): Promise<void>;
  };
  config: TConfig;
  /** per-org settings stored for this plugin (editable without restart) */
  settings: {
    get<T = Record<string, unknown>>(): Promise<T>;
    set<T = Record<string, unknown>>(value: T): Promise<void>;
  };
  logger: Logger;
  notify: Notifier;
  /** email to addresses through the kernel's SMTP settings (`smtp.url`, `smtp.from`) */
  mail: Mailer;
  audit(entry: AuditEntry): Promise<void>;
  /** department visibility: ids whose per-user rows the caller may see (null = all) */
  visibleUserDepartments(): Promise<string[] | null>;
  /** the org's people and departments (the kernel's directory) */
  directory: Directory;
  /** the platform's own measurements and the org's usage against its tier (contracts/platform.ts) */
  platform: PlatformAccess;
  /** services of other plugins this plugin declared in `needs`, for this org and caller */
  services: ServiceAccess;
  /**
   * This plugin wrote something its remembered answers read (see `cache` on a route): the
   * org's remembered answers are not served again, on every node, and the ones people are
   * looking at are refreshed. The plugin's own POST/PUT/PATCH/DELETE routes and
   * `settings.set` call it for you; call it from jobs and event handlers that write.
   */
  answersChanged(): void;
  /** reads the plugin's declared rollups at a consistent watermark (see rollupsDecl.ts) */
  rollups: RollupReader;
  /**
   * The org's data lifecycle (retention.ts): its policy and the horizons before which raw
   * events, aggregates and per-user activity data are expired. A plugin that keeps per-user
   * data of its own deletes what is older than `userActivityFrom` in one of its jobs.
   */
  retention(): Promise<RetentionHorizons>;
  /**
   * A short session as a member of this org, for rendering the portal on their behalf
   * (a dashboard as PDF, a scheduled report): the pair the portal keeps after a login.
   * The member's role and departments hold as if they had signed in; `end()` revokes it.
   * Refused (401) for someone who is not an active member. Audited as `session.render`.
   */
  renderSession(userId: string, purpose: string): Promise<RenderSession>;
  /**
   * The org's audit log and every plugin's stored settings, read only (contracts/orgRecords.ts),
   * for the org's data export: Admins and jobs only, a 403 for anyone else. Optional: a host
   * that does not offer it leaves it out.
   */
  records?: OrgRecords;
}

export interface RenderSession {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  end(): Promise<void>;
}

export class HttpError extends Error {
  constructor(
    public readonly statusCode: number,
    public readonly code: string,
    message: string,
    public readonly details: unknown = undefined,
  ) {
    super(message);
  }
}
export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'bad_request', message, details);
export const notFound = (message: string, details?: unknown) => new HttpError(404, 'not_found', message, details);
export const forbidden = (message: string, details?: unknown) => new HttpError(403, 'forbidden', message, details);
export const conflict = (message: string, details?: unknown) => new HttpError(409, 'conflict', message, details);

/**
 * A route answer that is not JSON: a body with its own headers (content type,
 * content disposition) and status. A large answer is an async iterable of
 * chunks, sent as they come, so the process never holds the whole of it: the
 * iterable is only pulled as fast as the client reads.
 */
export class RawReply {
  /** marks the instance across module copies (see `isRawReply`) */
  readonly rawReply = true as const;
  constructor(
    public readonly body: string | Uint8Array | AsyncIterable<string | Uint8Array>,
    public readonly headers: Record<string, string> = {},
    public readonly status = 200,
  ) {}
}
export const isRawReply = (v: unknown): v is RawReply => typeof v === 'object' && v !== null && (v as { rawReply?: unknown }).rawReply === true;

export interface RouteRequest<Q = any, P = any, B = any> {
  query: Q;
  params: P;
  body: B;
  headers: Record<string, string | string[] | undefined>;
  id: string;
  /**
   * Aborted when the client goes away before the answer is complete, or when the platform
   * shuts down. A handler that streams (a `RawReply` of an async iterable that waits between
   * chunks: live summaries, long polls) stops waiting on it; without it a stream would only
   * notice at its next chunk, and a shutdown would wait for it. (SDK 2.2)
   */
  signal: AbortSignal;
}

export interface RouteRateLimit {
  max: number;
  windowSeconds: number;
  configKey?: string;
}

export interface RouteDecl<Q = any, P = any, B = any> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** path under the plugin prefix: '/' or '/:name/analytics' */
  path: string;
  /**
   * which of the plugin's prefixes the route lives under: `routePrefix` (the
   * default) or one of `extraRoutePrefixes` (e.g. a fixed contract path such as
   * `metrics/dau` that sits outside the plugin's main prefix)
   */
  prefix?: string;
  /** permission name declared in the plugin's `permissions`; `public` routes skip auth */
  permission: string;
  summary: string;
  description?: string;
  schema?: { querystring?: JsonSchema; params?: JsonSchema; body?: JsonSchema; response?: Record<number, JsonSchema> };
  /**
   * GET routes whose answer depends only on the org's events (and the rollups built from
   * them) and on the caller may let the platform remember it: the same request by the
   * same caller is answered from memory until events are committed or deleted for the
   * org, a plugin is switched, a role or membership changes, or `maxAgeSeconds` pass.
   * A POST route that only reads (a question too large for a URL, such as the metrics
   * query) may opt in too: its body, keys sorted, is part of the request it is remembered
   * by, and it no longer counts as a write of the plugin's.
   * Answers somebody read are recomputed in the background after such a change. A route
   * that also reads the plugin's own PostgreSQL rows may opt in when every write to them
   * is followed by `ctx.answersChanged()` (the plugin's non-GET routes and `settings.set`
   * do that themselves). Leave it out for routes that write, or that read anything else
   * that changes (other plugins' rows, the clock beyond the range asked for).
   */
  cache?: {
    maxAgeSeconds: number;
    /** remember only the requests this accepts (e.g. not those that read another plugin's metric source) */
    when?: (req: { query: unknown; params: unknown; body: unknown }) => boolean;
  };
  /**
   * A limit of this route's own, per user and org, on top of the org's tier limits (a heavy
   * query): more than `max` requests in `windowSeconds` answer 429 `rate_limited` with
   * `Retry-After`. `configKey` names a positive integer in the plugin's config slice
   * (`plugins.<id>.<key>` in app-config.yaml) that replaces `max` when set.
   */
  rateLimit?: RouteRateLimit;
  /** the answer: JSON-able data, `undefined` (204), or a `RawReply` (CSV, PDF, a stream) */
  handler(req: RouteRequest<Q, P, B>, ctx: TenantContext): Promise<unknown>;
}

export interface JobDecl {
  name: string;
  /** interval in seconds between runs (per org) */
  everySeconds: number;
  /** runs once per enabled org; one node runs it at a time (locked) */
  run(ctx: TenantContext): Promise<void | Record<string, unknown>>;
}

export interface StoredEvent {
  event_id: string;
  event_type: string;
  action: string;
  timestamp: string;
  org_id: string;
  department_id: string;
  user_id: string;
  session_id: string;
  [field: string]: unknown;
}

export interface EventHandlerDecl {
  /** event types to receive, or '*' */
  types: string[] | '*';
  /** called after a batch of events is committed, grouped per org */
  handle(events: StoredEvent[], ctx: TenantContext): Promise<void>;
}

/**
 * A subscription to bus topics, kernel ones (`ingestion.quality`, `ingestion.user_deleted`,
 * `kernel.plugins.changed`, `kernel.members.added`, `kernel.members.removed`, …) or another
 * plugin's (`alerts.firing`). Delivery:
 * - once per cluster event, not once per node: the node that published a message runs the
 *   handlers (in Redis mode every node receives every message; only the publisher's acts).
 *   At most once: a node that stops between publishing and handling loses the call, so a
 *   handler that must not miss anything keeps its own durable record (a table, a queue).
 * - with a context bound to the message's org (`caller` null, like a job), and only for orgs
 *   where the plugin is enabled. Messages for every org (`orgId` '*') are not delivered.
 * - after the publisher's call returned, never inline; a handler that throws is logged and
 *   does not stop the others. Handlers run while the platform is up, also without job timers.
 */
export interface BusSubscriptionDecl<T = any> {
  /** exact topic names, or prefixes ending in `*` (`ingestion.*`) */
  topics: string[];
  handle(msg: BusMessage<T>, ctx: TenantContext): Promise<void> | void;
}

export interface PgMigration {
  name: string;
  /** runs inside the org's schema (search_path set); use `knex.schema.withSchema(schema)` */
  up(knex: Knex, schema: string): Promise<void>;
  down?(knex: Knex, schema: string): Promise<void>;
}

export interface ChMigration {
  name: string;
  /**
   * DDL statements. `{db}` is replaced by the analytics database, `{cluster}` by
   * ` ON CLUSTER name` (or nothing), `{engine:MergeTree}` / `{engine:AggregatingMergeTree}`
   * by the plain or Replicated engine.
   */
  statements: string[];
}

export interface FrontendDecl {
  /** federation container name, e.g. `agent_analytics` */
  remoteName: string;
  /** folder (relative to the plugin root) holding the built remote (`remoteEntry.js`) */
  distDir: string;
  widgets: WidgetDecl[];
  /** full pages the host routes at `/p/<plugin id>/<page id>` (see PageDecl) */
  pages?: PageDecl[];
}

export interface PluginEnv {
  route<Q = any, P = any, B = any>(decl: RouteDecl<Q, P, B>): void;
  job(decl: JobDecl): void;
  onEvents(decl: EventHandlerDecl): void;
  /** subscribes to bus topics with an org-bound context, once per cluster event (see BusSubscriptionDecl) */
  onBus<T = any>(decl: BusSubscriptionDecl<T>): void;
  /** seeds the plugin's own examples in an org that was just given demo data (see DemoDataDecl) */
  onDemoData(decl: DemoDataDecl): void;
}

/**
 * What a plugin adds to an org right after the kernel loaded its demo data (`npm start` on an
 * empty store): examples of the plugin's own records that make its widgets show something on
 * the demo events (an experiment over their agent versions, a saved funnel, …). Runs once per
 * org, after the events are in, with the org's context; the plugin writes through its own
 * stores and validation, as its routes would. A failure is logged and does not stop the start.
 */
export interface DemoDataDecl {
  /** what it seeds, for the log */
  description: string;
  /** `span`: the demo events' time range */
  run(ctx: TenantContext, span: { from: Date; to: Date }): Promise<void>;
}

export interface PluginDeclaration<TConfig = Record<string, unknown>> {
  id: string;
  version: string;
  /** semver range of the SDK the plugin was built for, e.g. `^1.0.0` */
  sdk: string;
  title: string;
  description: string;
  /** route prefix under /api/v1 (unique across plugins), e.g. `agents` */
  routePrefix: string;
  /**
   * further prefixes the plugin owns (unique across plugins like `routePrefix`);
   * a route picks one with `prefix`. For contract paths outside the main prefix. The kernel's
   * prefixes (`admin`, `auth`, …) are refused, except `admin/<routePrefix>` and below it: a
   * plugin's own Admin actions.
   */
  extraRoutePrefixes?: string[];
  /** permission name → roles that hold it */
  permissions: Record<string, Role[]>;
  /** JSON schema of the plugin's slice of app-config.yaml (`plugins.<id>`) */
  configSchema?: JsonSchema;
  migrations?: { pg?: PgMigration[]; clickhouse?: ChMigration[] };
  /** rollups the kernel maintains off the insert path (tables made by the plugin's migrations: `rollupDdl`) */
  rollups?: RollupDecl[];
  /** bus topic names the plugin publishes */
  topics?: string[];
  frontend?: FrontendDecl;
  /** services this plugin offers other plugins (`provide(ref, factory)`) */
  provides?: ProvidedService<any>[];
  /** services of other plugins this one uses (`need(ref, range)`); start-up is ordered by them */
  needs?: NeededService<any>[];
  /** whether a new org has the plugin on (default true) */
  enabledByDefault?: boolean;
  /** a failing init does not stop the platform; the plugin is marked failed */
  allowedToFail?: boolean;
  register(env: PluginEnv): void;
  init?(services: { logger: Logger; config: TConfig }): Promise<void>;
  /** absolute folder of the plugin (set by definePlugin from import.meta.url when given) */
  root?: string;
}
