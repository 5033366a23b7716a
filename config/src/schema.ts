/**
 * The schema of app-config.yaml. Defaults live here, in one place; plugins add
 * their own slice under `plugins.<id>` (validated by the loader against each
 * plugin's declared configSchema).
 */
export const appConfigSchema = {
  type: 'object',
  additionalProperties: false,
  $defs: {
    /** `max` requests (events, for ingestion) per `windowSeconds` */
    limit: {
      type: 'object',
      additionalProperties: false,
      required: ['max', 'windowSeconds'],
      properties: { max: { type: 'integer', minimum: 1 }, windowSeconds: { type: 'integer', minimum: 1 } },
    },
  },
  required: ['server', 'storage', 'auth', 'bootstrap'],
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 7007 },
        publicUrl: { type: 'string', default: '' },
        bodyLimitBytes: { type: 'integer', minimum: 1024, default: 20971520 },
        /**
         * On shutdown, answers under way get this long to finish; connections still open then
         * (a client that sent half a request, a stream that ignores its signal) are cut, so a
         * stop never waits on a client.
         */
        shutdownGraceMs: { type: 'integer', minimum: 0, maximum: 600000, default: 10000 },
        logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
        /**
         * Prometheus scraping. `/metrics` on the public port needs a platform operator's token;
         * this separate listener (loopback by default) answers it without one, for a scraper on
         * the same host or network. Off unless enabled (app-config.yaml enables it for npm start).
         */
        metrics: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean', default: false },
            host: { type: 'string', default: '127.0.0.1' },
            port: { type: 'integer', minimum: 0, maximum: 65535, default: 9464 },
          },
          default: {},
        },
      },
      default: {},
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      properties: {
        dataDir: { type: 'string', default: './data' },
        databaseUrl: { type: 'string', default: '' },
        clickhouseUrl: { type: 'string', default: '' },
        /** chDB data folder; default <dataDir>/ch. chDB binds one folder per process (STACK.md) */
        chdbPath: { type: 'string', default: '' },
        clickhouseDatabase: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$', default: 'orrery' },
        clickhouseCluster: { type: 'string', default: '' },
        redisUrl: { type: 'string', default: '' },
        /** prefix for every Redis key and channel, so several installs (or tests) share one Redis */
        redisPrefix: { type: 'string', default: 'orrery:' },
      },
      default: {},
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        /** HMAC secret for access tokens; generated and kept in the data dir when empty */
        jwtSecret: { type: 'string', default: '' },
        accessTokenTtlSeconds: { type: 'integer', minimum: 30, default: 900 },
        refreshTokenTtlSeconds: { type: 'integer', minimum: 60, default: 2592000 },
        /** how long an invitation link stays valid */
        invitationTtlHours: { type: 'integer', minimum: 1, default: 168 },
        /** issuer name shown by authenticator apps for TOTP */
        totpIssuer: { type: 'string', default: 'Orrery' },
        /**
         * Single sign-on providers shown on the login page. `type` oidc needs an
         * issuer (discovery); google and microsoft fill theirs in; github is OAuth 2.
         */
        providers: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'type', 'clientId'],
            properties: {
              id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,39}$' },
              type: { enum: ['oidc', 'google', 'microsoft', 'github'] },
              name: { type: 'string', default: '' },
              issuer: { type: 'string', default: '' },
              /** Microsoft 365 tenant id (a specific tenant; 'common' has no fixed issuer) */
              tenant: { type: 'string', default: '' },
              clientId: { type: 'string', minLength: 1 },
              clientSecret: { type: 'string', default: '' },
              scopes: { type: 'array', items: { type: 'string' }, default: ['openid', 'email', 'profile'] },
              /** org (slug) a first-time user of this provider joins; '' = only existing members may log in */
              autoJoinOrg: { type: 'string', default: '' },
              autoJoinRole: { enum: ['Admin', 'Manager', 'Developer'], default: 'Developer' },
              /** email domains allowed to auto-join; empty = any verified email */
              allowedDomains: { type: 'array', items: { type: 'string' }, default: [] },
            },
          },
        },
      },
      default: {},
    },
    /**
     * Rate limits per route class (api, admin, auth, ingest, export) and tenant
     * tier. An org's tier is `orgs.tier`; `strict` holds the PRD's figures.
     */
    rateLimits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: true },
        tiers: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: {
              api: { $ref: '#/$defs/limit' },
              admin: { $ref: '#/$defs/limit' },
              auth: { $ref: '#/$defs/limit' },
              ingest: { $ref: '#/$defs/limit' },
              export: { $ref: '#/$defs/limit' },
            },
          },
          default: {},
        },
      },
      default: {},
    },
    bootstrap: {
      type: 'object',
      additionalProperties: false,
      properties: {
        org: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}$', default: 'demo' },
        adminEmail: { type: 'string', default: 'admin@demo.local' },
        adminPassword: { type: 'string', default: '' },
        demoData: { type: 'boolean', default: true },
      },
      default: {},
    },
    ingestion: {
      type: 'object',
      additionalProperties: false,
      description: 'group commit, dedup, body limits and OTLP attribute mapping (core/src/ingestion/README.md)',
      properties: {
        batchSize: { type: 'integer', minimum: 1, maximum: 100000, default: 5000 },
        maxDelayMs: { type: 'integer', minimum: 0, maximum: 10000, default: 20 },
        /** default 2 embedded, 4 with a ClickHouse server */
        maxConcurrentInserts: { type: 'integer', minimum: 1, maximum: 64 },
        publishIntervalMs: { type: 'integer', minimum: 10 },
        dedupTtlSeconds: { type: 'integer', minimum: 60 },
        dedupStaleMs: { type: 'integer', minimum: 1000 },
        verifyDedupInStore: { anyOf: [{ type: 'boolean' }, { const: 'auto' }] },
        singleBodyBytes: { type: 'integer', minimum: 1024 },
        batchBodyBytes: { type: 'integer', minimum: 1024 },
        /** 'log': 2xx once in the durable local log, a loader fills ClickHouse; 'direct': 2xx once ClickHouse has it */
        commit: { enum: ['log', 'direct'], default: 'log' },
        /** with the log: 'loaded' holds each 2xx until its event is in ClickHouse (read-your-writes) */
        ackAfter: { enum: ['log', 'loaded'], default: 'log' },
        logPath: { type: 'string', description: 'folder of the durable log (default <dataDir>/ingest-log)' },
        maxBacklogRows: { type: 'integer', minimum: 1, description: 'rows logged and not loaded above which events are refused with 503 (default 1,000,000)' },
        logRetainSeconds: { type: 'integer', minimum: 0, description: 'loaded entries stay in the log this long, answering dedup lookups (default 60 when Redis or the event store answers for older ids, as by default; else 3600)' },
        loadBatchSize: { type: 'integer', minimum: 1, maximum: 1000000, description: 'rows per loader insert (default 20,000)' },
        loadDelayMs: { type: 'integer', minimum: 0, maximum: 60000, description: 'a small batch waits this long after its oldest row for company (default 50)' },
        loadBusyRows: { type: 'integer', minimum: 1, description: 'a batch holding this many rows after loadDelayMs is busy traffic: it waits on up to loadBusyDelayMs (default 100)' },
        loadBusyDelayMs: { type: 'integer', minimum: 0, maximum: 60000, description: 'how long after its oldest row a busy batch gathers company; at most loadDelayMs turns it off (default 150)' },
        loadTargetRows: { type: 'integer', minimum: 1, description: 'a batch this large is loaded without waiting further (default 2,000)' },
        otlp: {
          type: 'object',
          additionalProperties: false,
          properties: {
            userAttributes: { type: 'array', items: { type: 'string' } },
            departmentAttributes: { type: 'array', items: { type: 'string' } },
            sessionAttributes: { type: 'array', items: { type: 'string' } },
          },
        },
      },
      default: {},
    },
    rollups: {
      type: 'object',
      additionalProperties: false,
      description: 'the job that folds new events into declared rollups (core/src/rollups/README.md)',
      properties: {
        /** events inserted in the last graceMs are left for the next fold: longer than any insert takes */
        graceMs: { type: 'integer', minimum: 0, maximum: 600000, default: 2000 },
        /** with the embedded engine, whose writes this process tracks: this far behind the clock and before the oldest write under way */
        embeddedGraceMs: { type: 'integer', minimum: 0, maximum: 600000, default: 100 },
        everySeconds: { type: 'number', minimum: 0.1, maximum: 3600, default: 2 },
        /** under sustained traffic folds are spaced out as far as this bound on the watermark's age allows; 0 = every everySeconds */
        maxLagMs: { type: 'integer', minimum: 0, maximum: 3600000, default: 0 },
        /** the most source rows one fold takes (a first fold over a large store goes in steps) */
        maxRowsPerFold: { type: 'integer', minimum: 1000, default: 500000 },
      },
      default: {},
    },
    retention: {
      type: 'object',
      additionalProperties: false,
      description: 'data lifecycle: the job that expires old data, the defaults of an org that has not set its own, storage tiers with a server (core/src/retention/README.md)',
      properties: {
        everySeconds: { type: 'number', minimum: 1, maximum: 604800, default: 3600 },
        defaults: {
          type: 'object',
          additionalProperties: false,
          properties: {
            raw_events_days: { type: 'integer', minimum: 1, maximum: 3650, default: 90 },
            aggregates_days: { type: 'integer', minimum: 1, maximum: 7300, default: 730 },
            user_activity_days: { type: 'integer', minimum: 1, maximum: 7300, default: 365 },
          },
          default: {},
        },
        tiers: {
          type: 'object',
          additionalProperties: false,
          description: 'hot/warm/cold volumes of a ClickHouse server (TTL … TO VOLUME); ignored by embedded chDB',
          properties: {
            storagePolicy: { type: 'string', default: '' },
            warmVolume: { type: 'string', default: 'warm' },
            coldVolume: { type: 'string', default: 'cold' },
            warmAfterDays: { type: 'integer', minimum: 0, maximum: 36500, default: 7 },
            coldAfterDays: { type: 'integer', minimum: 0, maximum: 36500, default: 30 },
          },
          default: {},
        },
      },
      default: {},
    },
    usage: {
      type: 'object',
      additionalProperties: false,
      description: "each org's limits by tier (the org's `tier`, set with PUT /api/v1/orgs/{slug}/tier); an unknown tier has `standard`'s limits",
      properties: {
        enabled: { type: 'boolean', default: true },
        /** status `warning` from this share of a limit */
        warnRatio: { type: 'number', minimum: 0, maximum: 1, default: 0.8 },
        /** events are accepted up to limit × (1 + softOverage), then refused (429 usage_limit_exceeded) */
        softOverage: { type: 'number', minimum: 0, maximum: 10, default: 0.2 },
        tiers: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: {
              eventsPerMonth: { type: 'integer', minimum: 0 },
              storageBytes: { type: 'integer', minimum: 0 },
              users: { type: 'integer', minimum: 0 },
            },
          },
          default: {},
        },
      },
      default: {},
    },
    health: {
      type: 'object',
      additionalProperties: false,
      description: "the platform's measurements of itself (core/src/health)",
      properties: {
        /** off: no per-request recording at all (the benchmark's baseline) */
        recording: { type: 'boolean', default: true },
        /** a dashboard load within this is within SLA */
        slaDashboardMs: { type: 'integer', minimum: 1, default: 2000 },
        /** an analytics query (a plugin's GET answer) within this is within SLA */
        slaQueryMs: { type: 'integer', minimum: 1, default: 1000 },
      },
      default: {},
    },
    smtp: {
      type: 'object',
      additionalProperties: false,
      properties: {
        url: { type: 'string', default: '' },
        from: { type: 'string', default: 'Orrery <no-reply@orrery.local>' },
      },
      default: {},
    },
    plugins: {
      type: 'object',
      description: 'per-plugin config slices, keyed by plugin id',
      additionalProperties: { type: 'object' },
      default: {},
    },
    /** plugin folders to load besides plugins/* (absolute or relative to the config file) */
    pluginPaths: { type: 'array', items: { type: 'string' }, default: [] },
  },
} as const;

export interface AppConfig {
  server: { host: string; port: number; publicUrl: string; bodyLimitBytes: number; shutdownGraceMs: number; logLevel: string; metrics: { enabled: boolean; host: string; port: number } };
  storage: {
    dataDir: string;
    databaseUrl: string;
    clickhouseUrl: string;
    chdbPath: string;
    clickhouseDatabase: string;
    clickhouseCluster: string;
    redisUrl: string;
    redisPrefix: string;
  };
  auth: {
    jwtSecret: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    invitationTtlHours: number;
    totpIssuer: string;
    providers: AuthProviderConfig[];
  };
  rateLimits: { enabled: boolean; tiers: Record<string, Partial<Record<RateClass, RateLimit>>> };
  bootstrap: { org: string; adminEmail: string; adminPassword: string; demoData: boolean };
  ingestion: { batchSize: number; maxDelayMs: number; [k: string]: unknown };
  rollups: { graceMs: number; embeddedGraceMs?: number; everySeconds: number; maxRowsPerFold: number; maxLagMs?: number };
  retention?: {
    everySeconds: number;
    defaults: { raw_events_days: number; aggregates_days: number; user_activity_days: number };
    tiers: { storagePolicy: string; warmVolume: string; coldVolume: string; warmAfterDays: number; coldAfterDays: number };
  };
  smtp: { url: string; from: string };
  usage: { enabled: boolean; warnRatio: number; softOverage: number; tiers: Record<string, { eventsPerMonth?: number; storageBytes?: number; users?: number }> };
  health: { recording: boolean; slaDashboardMs: number; slaQueryMs: number };
  plugins: Record<string, Record<string, unknown>>;
  pluginPaths: string[];
}

export type RateClass = 'api' | 'admin' | 'auth' | 'ingest' | 'export';
export interface RateLimit {
  max: number;
  windowSeconds: number;
}
export interface AuthProviderConfig {
  id: string;
  type: 'oidc' | 'google' | 'microsoft' | 'github';
  name: string;
  issuer: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  autoJoinOrg: string;
  autoJoinRole: 'Admin' | 'Manager' | 'Developer';
  allowedDomains: string[];
}
