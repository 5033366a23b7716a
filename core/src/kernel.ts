import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execSync } from 'node:child_process';
import Fastify, { type FastifyInstance } from 'fastify';
import { createContainer, asValue, InjectionMode, type AwilixContainer } from 'awilix';
import pino from 'pino';
import { lazyChildLoggerFactory } from './http/lazyLogger.ts';
import { validatorCompilers } from './http/validators.ts';
import { SDK_VERSION, type Logger, type Org, type Caller } from '@orrery/plugin-sdk';
import { loadConfig, type AppConfig, type LoadOptions } from '@orrery/config';
import type { Bus, KernelModule, KeyValueStore } from './types.ts';
import type { Internals } from './internals.ts';
import { openStorage } from './storage/postgres.ts';
import { openAnalytics } from './storage/clickhouse.ts';
import { memoryKv } from './storage/memoryKv.ts';
import { migrateClickHouse, migratePg, type MigrationSet } from './storage/migrations.ts';
import { inProcessBus, redisBus } from './bus/bus.ts';
import { TokenService, randomSecret } from './auth/tokens.ts';
import { CallerDirectory } from './auth/callers.ts';
import { PermissionRegistry, installAuthentication } from './auth/authenticate.ts';
import { OrgService } from './tenancy/orgs.ts';
import { PluginHost } from './plugins/host.ts';
import { clientErrorHandler, installErrorHandling } from './http/errors.ts';
import { createMetrics, startMetricsListener } from './ops/routes.ts';
import { documentOperation } from './http/openapi.ts';
import { startGateway } from './realtime/gateway.ts';
import { createNotifier } from './notifications/notifier.ts';
import { createMailer } from './notifications/mailer.ts';
import { kernelModules } from './modules.ts';
import { generatePassword } from './auth/passwords.ts';
import { eventsMigrations } from './ingestion/migrations/index.ts';
import { RollupService } from './rollups/index.ts';
import { RetentionService, tierProblems, tierStatements } from './retention/index.ts';
import { DEFAULT_RETENTION, storedTables } from '@orrery/plugin-sdk';
import { createHealth } from './health/index.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface KernelOptions {
  /** a ready config, or how to load one */
  config?: AppConfig;
  load?: LoadOptions;
  /** plugin folders to scan; default: <repo>/plugins plus config.pluginPaths */
  pluginRoots?: string[];
  /** extra plugin declarations (the test harness passes these) */
  plugins?: unknown[];
  /** load only these plugin ids from the folders */
  onlyPlugins?: string[];
  /** extra kernel modules (tests) */
  modules?: KernelModule[];
  /** a pino destination for logs (tests capture logs with it) */
  logStream?: NodeJS.WritableStream;
  /** bootstrap an org + admin on an empty store (default true) */
  bootstrap?: boolean;
  /** run plugin jobs on their schedules once listening (default true; the test harness runs them on demand) */
  scheduleJobs?: boolean;
}

export interface Kernel {
  app: FastifyInstance;
  container: AwilixContainer<Internals>;
  config: AppConfig;
  services: Internals;
  /** credentials made on first start (printed once) */
  bootstrap: { org: Org; email: string; password: string | null; created: boolean } | null;
  /** the Prometheus scrape listener's URL once listening (null when off or its port was taken) */
  readonly metricsUrl: string | null;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Keys whose values never reach a log line. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.admin_password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
];

/**
 * Builds the kernel: config → stores → container → migrations → plugins →
 * HTTP. Everything lives on the returned object (no module-level state), so a
 * test can start and stop several kernels in one process.
 */
export async function createKernel(opts: KernelOptions = {}): Promise<Kernel> {
  const config = opts.config ?? loadConfig(opts.load);
  const dataDir = resolve(config.storage.dataDir);
  const logger = pino(
    { level: config.server.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'orrery' } },
    (opts.logStream as any) ?? pino.destination(1),
  );

  const storage = await openStorage({ databaseUrl: config.storage.databaseUrl, dataDir });
  const analytics = await openAnalytics({
    clickhouseUrl: config.storage.clickhouseUrl,
    dataDir,
    chdbPath: config.storage.chdbPath ? resolve(config.storage.chdbPath) : '',
    database: config.storage.clickhouseDatabase,
    cluster: config.storage.clickhouseCluster,
  });
  let kv: KeyValueStore;
  let bus: Bus;
  if (config.storage.redisUrl) {
    // ioredis is loaded only when Redis is configured: the embedded start does not pay for it
    const { redisKv } = await import('./storage/kv.ts');
    kv = redisKv(config.storage.redisUrl, config.storage.redisPrefix);
    bus = await redisBus(config.storage.redisUrl, config.storage.redisPrefix);
  } else {
    kv = memoryKv();
    bus = inProcessBus();
  }

  const container = createContainer<Internals>({ injectionMode: InjectionMode.PROXY, strict: true });
  const modules = [...kernelModules, ...(opts.modules ?? [])];
  const permissions = new PermissionRegistry();
  const callers = new CallerDirectory(storage.knex);
  const plugins = new PluginHost(container);
  const orgService = new OrgService(storage.knex, () => [
    ...modules.filter((m) => m.migrations?.org?.length).map((m) => ({ owner: `kernel:${m.name}`, migrations: m.migrations!.org! })),
    ...plugins.pgMigrationSets(),
  ]);
  const metrics = createMetrics();

  container.register({
    config: asValue(config),
    logger: asValue(logger as unknown as Logger),
    storage: asValue(storage),
    knex: asValue(storage.knex),
    analytics: asValue(analytics),
    kv: asValue(kv),
    bus: asValue(bus),
    permissions: asValue(permissions),
    callers: asValue(callers),
    orgService: asValue(orgService),
    orgs: asValue(orgService),
    plugins: asValue(plugins),
    pluginHost: asValue(plugins),
    metrics: asValue(metrics),
    startedAt: asValue(Date.now()),
    version: asValue(readVersion()),
    mailer: asValue(createMailer({ smtpUrl: config.smtp.url, from: config.smtp.from })),
    notifier: asValue(
      createNotifier({
        knex: storage.knex,
        bus,
        smtpUrl: config.smtp.url,
        from: config.smtp.from,
        orgSchema: async (orgId) => (await callers.org(orgId))?.schema ?? null,
      }),
    ),
    audit: asValue(async (org: Org, caller: Caller | null, e: { action: string; target?: string; before?: unknown; after?: unknown; ip?: string }) => {
      await storage.knex
        .withSchema(org.schema)
        .table('audit_log')
        .insert({
          actor_id: caller?.userId ?? null,
          actor_email: caller?.email ?? 'system',
          action: e.action,
          target: e.target ?? null,
          before: e.before === undefined ? null : JSON.stringify(e.before),
          after: e.after === undefined ? null : JSON.stringify(e.after),
          ip: e.ip ?? null,
        });
    }),
    invalidateAuth: asValue((orgId?: string, userId?: string) => {
      callers.invalidate(orgId, userId);
      auth.forgetAllTokens();
      if (orgId) plugins.answersInvalid(orgId);
      void bus.publish(orgId ?? '*', { kind: 'org' }, 'kernel.auth.changed', { userId: userId ?? null });
    }),
  } as any);

  // Migrations: the public catalogue, ClickHouse, then every org's schema.
  await migratePg(
    storage.knex,
    'public',
    modules.filter((m) => m.migrations?.public?.length).map((m) => ({ owner: `kernel:${m.name}`, migrations: m.migrations!.public! })),
  );
  const secret = config.auth.jwtSecret || (await platformSecret(storage.knex, 'jwt_secret'));
  container.register({
    tokens: asValue(new TokenService(storage.knex, secret, config.auth.accessTokenTtlSeconds, config.auth.refreshTokenTtlSeconds)),
  });

  await plugins.load({
    roots: opts.pluginRoots ?? [join(REPO_ROOT, 'plugins'), ...config.pluginPaths.map((p) => resolve((config as any).configDir ?? '.', p))],
    declarations: opts.plugins,
    only: opts.onlyPlugins,
  });
  const chSets: MigrationSet<any>[] = [
    { owner: 'kernel:events', migrations: eventsMigrations },
    ...modules.filter((m) => m.migrations?.clickhouse?.length).map((m) => ({ owner: `kernel:${m.name}`, migrations: m.migrations!.clickhouse! })),
    ...plugins.chMigrationSets(),
  ];
  await migrateClickHouse(analytics, chSets);
  const rollups = new RollupService(
    { analytics, knex: storage.knex, logger, declarations: () => plugins.active.filter((p) => p.status === 'active').flatMap((p) => (p.decl.rollups ?? []).map((decl) => ({ plugin: p.decl.id, decl }))) },
    config.rollups ?? { graceMs: 2000, embeddedGraceMs: 100, everySeconds: 2, maxRowsPerFold: 500_000, maxLagMs: 0 },
  );
  container.register({ rollups: asValue(rollups) });
  const retentionCfg = config.retention ?? { everySeconds: 3600, defaults: { ...DEFAULT_RETENTION }, tiers: { storagePolicy: '', warmVolume: 'warm', coldVolume: 'cold', warmAfterDays: 7, coldAfterDays: 30 } };
  const retention = new RetentionService(
    { knex: storage.knex, analytics, rollups, logger, orgs: () => orgService.list(), dataChanged: (orgId) => plugins.dataChanged(orgId) },
    { everySeconds: retentionCfg.everySeconds, defaults: { ...DEFAULT_RETENTION, ...retentionCfg.defaults } },
  );
  container.register({ retention: asValue(retention) });
  // storage tiers: only a server has volumes to move parts between (core/src/retention/README.md)
  if (analytics.mode === 'server' && retentionCfg.tiers.storagePolicy) {
    const problems = tierProblems(retentionCfg.tiers);
    if (problems.length) throw new Error(`config: ${problems.join('; ')}`);
    const tables = [
      { table: `${analytics.database}.events`, column: 'timestamp' },
      ...plugins.active.flatMap((p) => (p.decl.rollups ?? []).flatMap((d) => storedTables(d).map((t) => ({ table: `${analytics.database}.${t.table}`, column: 'bucket' })))),
    ];
    for (const t of tables) for (const q of tierStatements(retentionCfg.tiers, t.table, t.column, analytics.cluster)) await analytics.client.command({ query: q });
  }
  const health = createHealth({ config, analytics, knex: storage.knex, orgs: orgService, audit: container.cradle.audit, logger, storage, kv, bus, plugins, rollups });
  container.register({ health: asValue(health) });
  for (const org of await orgService.list()) await orgService.migrate(org);
  await plugins.init();
  // plugins' bus subscriptions (env.onBus): handled on the publishing node, so once per cluster
  plugins.startBusSubscriptions();

  // Remembered route answers: events committed or deleted on any node change the org's data.
  // The publishing node applied the change at once; its own echo would only move the data
  // version on a second time (up to the committed-event window later) and waste a refresh.
  const elsewhere = (msg: { node: string }) => msg.node !== bus.node;
  bus.subscribe('events.committed', (msg) => msg.scope.kind === 'org' && elsewhere(msg) && plugins.dataChanged(msg.orgId));
  bus.subscribe('ingestion.user_deleted', (msg) => elsewhere(msg) && plugins.dataChanged(msg.orgId));

  // Cross-node cache invalidation: a change made on one node reaches the others' caches.
  bus.subscribe('kernel.*', (msg) => {
    if (msg.topic === 'kernel.answers.changed' && elsewhere(msg)) plugins.dataChanged(msg.orgId, (msg.payload as { pluginId?: string }).pluginId);
    if (msg.topic === 'kernel.plugins.changed') {
      plugins.forgetEnablement(msg.orgId);
      plugins.answersInvalid(msg.orgId);
    }
    if (msg.topic === 'kernel.auth.changed') {
      // roles and department memberships decide what a caller sees
      if (msg.orgId !== '*') plugins.answersInvalid(msg.orgId);
      else plugins.answers.clear();
      callers.invalidate(msg.orgId === '*' ? undefined : msg.orgId);
      auth.forgetAllTokens();
    }
  });

  let bootstrap: Kernel['bootstrap'] = null;
  if (opts.bootstrap !== false) bootstrap = await bootstrapFirstOrg(config, orgService, storage.knex, logger);

  // HTTP
  const app: FastifyInstance = Fastify({
    loggerInstance: logger,
    bodyLimit: config.server.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    // unique per process and cheap: a random prefix (this node) and a counter, not crypto per request
    genReqId: ((prefix: string, n: number) => () => `${prefix}${(n++).toString(36)}`)(randomSecret(4), 0),
    // the request's child logger is made on its first line, not for every request (http/lazyLogger.ts)
    childLoggerFactory: lazyChildLoggerFactory,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true }, plugins: [(await import('ajv-formats')).default as any] },
    // query strings and params coerced from text, JSON bodies checked as sent (http/validators.ts)
    schemaController: { compilersFactory: { buildValidator: validatorCompilers() } },
    routerOptions: { maxParamLength: 300 },
    clientErrorHandler,
  } as any) as unknown as FastifyInstance;
  installErrorHandling(app);
  // open connections, for the shutdown (close below): one Set entry per connection, not per request
  const sockets = new Set<import('node:net').Socket>();
  app.server.on('connection', (socket: import('node:net').Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // server time of every answer, so browsers and benchmarks can tell it from the network's
  // (a callback hook: an async one costs a promise on every answer)
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`);
    done(null, payload);
  });
  const swagger = (await import('@fastify/swagger')).default;
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Orrery API',
        version: readVersion().version,
        description:
          'Every route of the kernel and of the loaded plugins. Authenticate with `Authorization: Bearer <access token | api token>`; ingestion takes hook tokens. Errors are `{ error: { code, message, details } }`.\n\nPercentiles (`p50_ms`, `p95_ms`, …) are ClickHouse `quantilesTDigest` estimates of `execution_time_ms`: a t-digest sketch whose relative error is typically under 1% and at most a few percent at the tails; counts and sums are exact.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: documentOperation as any,
  });
  const auth = installAuthentication(app, { tokens: container.cradle.tokens, callers, permissions });
  for (const m of modules) await m.register(app, container.cradle);
  await plugins.mount(app);
  app.get('/api/docs/json', { config: { permission: 'public' }, schema: { hide: true } as any }, async () => app.swagger());
  await serveHostUi(app);

  let gateway: Awaited<ReturnType<typeof startGateway>> | null = null;
  let metricsListener: Awaited<ReturnType<typeof startMetricsListener>> = null;
  let closed = false;

  return {
    app,
    container,
    config,
    services: container.cradle,
    bootstrap,
    /** the scrape listener's URL once listening (null when off or its port was taken) */
    get metricsUrl() {
      return metricsListener?.url ?? null;
    },
    async listen() {
      await app.listen({ host: config.server.host, port: config.server.port });
      if (config.server.metrics.enabled) {
        metricsListener = await startMetricsListener(metrics, config.server.metrics, logger);
        if (metricsListener) logger.info({ url: metricsListener.url }, 'metrics listener');
      }
      gateway = await startGateway(app.server, container.cradle, config.storage.redisUrl ? { url: config.storage.redisUrl, prefix: config.storage.redisPrefix } : undefined);
      health.sockets = () => gateway?.io.engine.clientsCount ?? 0;
      if (opts.scheduleJobs !== false) {
        plugins.startJobs();
        rollups.start((seconds, fold) => plugins.runKernelJob('rollups.fold', seconds, fold));
        retention.start((seconds, run) => plugins.runKernelJob('retention.expire', seconds, run));
      }
      const addr = app.server.address();
      return typeof addr === 'object' && addr ? `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
    },
    /** Stops in dependency order: no new requests, jobs finish, then stores flush and close. */
    async close() {
      if (closed) return;
      closed = true;
      // plugin streams end here (their requests' signals abort)
      await plugins.stop();
      await retention.stop();
      await rollups.stop();
      // Node closes the keep-alive connections idle when the server closes, but not one that
      // never sent a byte (a browser's or an HTTP client's spare connection: it would hold the stop
      // until its headers time out, a minute later), nor one whose answer ends a moment after (the
      // streams just told to stop). The first carry no request and go now; the others are closed
      // as they fall idle; whatever is still open after the grace is cut.
      for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      const cut = setTimeout(() => app.server.closeAllConnections(), config.server.shutdownGraceMs);
      sweep.unref();
      cut.unref();
      if (gateway) await gateway.close();
      if (metricsListener) await metricsListener.close();
      await app.close();
      clearInterval(sweep);
      clearTimeout(cut);
      await bus.close();
      await kv.close();
      await analytics.close();
      await storage.close();
    },
  };
}

async function platformSecret(knex: Internals['knex'], key: string): Promise<string> {
  const row = await knex.withSchema('public').table('platform_settings').where({ key }).first();
  if (row) return row.value;
  const value = randomSecret(48);
  await knex.withSchema('public').table('platform_settings').insert({ key, value }).onConflict('key').ignore();
  return (await knex.withSchema('public').table('platform_settings').where({ key }).first()).value;
}

/** On an empty store: one org and its first Admin, who is also the platform operator. */
async function bootstrapFirstOrg(config: AppConfig, orgs: OrgService, knex: Internals['knex'], logger: pino.Logger) {
  const existing = await orgs.list();
  if (existing.length) return { org: existing[0]!, email: config.bootstrap.adminEmail, password: null, created: false };
  const password = config.bootstrap.adminPassword || generatePassword();
  const org = await orgs.create({ slug: config.bootstrap.org, name: titleCase(config.bootstrap.org) });
  await orgs.addMember(org, { email: config.bootstrap.adminEmail, role: 'Admin', password, operator: true, displayName: 'Administrator' });
  await knex.withSchema('public').table('platform_audit').insert({ actor: 'system', action: 'org.bootstrap', target: org.slug });
  logger.info({ org: org.slug }, 'created the first organization');
  return { org, email: config.bootstrap.adminEmail, password: config.bootstrap.adminPassword ? null : password, created: true };
}

const titleCase = (s: string) => s.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => (d ? ' ' : '') + c.toUpperCase());

/** Read once per process: kernels started again in one process (tests) do not spawn git again. */
let versionRead: { version: string; commit?: string; sdkVersion: string } | null = null;
function readVersion() {
  return (versionRead ??= readVersionNow());
}

function readVersionNow() {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  let commit: string | undefined = process.env.ORRERY_COMMIT;
  if (!commit) {
    try {
      commit = execSync('git rev-parse --short HEAD', { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      commit = undefined;
    }
  }
  return { version: pkg.version as string, ...(commit ? { commit } : {}), sdkVersion: SDK_VERSION };
}

/** The portal, built by scripts/build-ui.mjs into host-ui/dist, served at / with an SPA fallback. */
async function serveHostUi(app: FastifyInstance) {
  const dist = join(REPO_ROOT, 'host-ui', 'dist');
  if (!existsSync(join(dist, 'index.html'))) {
    app.setNotFoundHandler((req, reply) => {
      reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}`, details: null } });
    });
    return;
  }
  const fastifyStatic = (await import('@fastify/static')).default;
  await app.register(fastifyStatic, {
    root: dist,
    prefix: '/',
    decorateReply: !app.hasReplyDecorator('sendFile'),
    wildcard: false,
    index: false,
    // scripts/build-ui.mjs writes .br and .gz beside each bundle: no compression work per request
    preCompressed: true,
    setHeaders: (res: any, path: string) => {
      const header = (k: string, v: string) => (typeof res.header === 'function' ? res.header(k, v) : res.setHeader(k, v));
      header('cache-control', /(index\.html|remoteEntry\.js|mf-manifest\.json)(\.br|\.gz)?$/.test(path) ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
  const index = readFileSync(join(dist, 'index.html'));
  // Client-side routes (/dashboards, /settings, …) get the SPA; unknown API paths keep their JSON 404.
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    if (req.method === 'GET' && !/^\/(api|v1|plugins|socket\.io)\//.test(path) && !/\.[a-z0-9]+$/i.test(path)) {
      return reply.type('text/html').header('cache-control', 'no-cache').send(index);
    }
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${path}`, details: null } });
  });
}
