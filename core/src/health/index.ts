/**
 * The platform watching itself (core/src/health): per-answer counters kept in memory
 * (collector.ts), each org's usage against its tier with the refusal past the soft
 * limit (usage.ts), the operator's `GET /api/v1/admin/system/stats` and
 * `POST /api/v1/admin/cache/clear`, and `ctx.platform` for plugins (the SDK's
 * contracts/platform.ts). Nothing here writes a row per request: a plugin's job takes
 * the counters as series.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError, PLATFORM_SCOPE_ORG_ID, type Caller, type Org, type PlatformAccess, type PlatformSample, type SeriesPoint, type SystemStats } from '@orrery/plugin-sdk';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';
import { errorSchema } from '../http/schemas.ts';
import { classify } from '../identity/ratelimit.ts';
import { HealthCollector, type RouteInfo } from './collector.ts';
import { UsageMeter } from './usage.ts';

export { HealthCollector, quantile, Window } from './collector.ts';
export { UsageMeter, DEFAULT_USAGE_TIERS, monthBounds } from './usage.ts';

/** What the kernel's container holds as `health`. */
export interface Health {
  collector: HealthCollector;
  usage: UsageMeter;
  recording: boolean;
  /** set by the ingestion module and the socket gateway once they run */
  ingestionStatus: () => { commit: string; backlog_rows: number; backlog_limit: number | null; loader_lag_ms: number } | null;
  /**
   * Rows accepted and not yet in ClickHouse: a counter, cheap enough for every request (the
   * status above also measures the log's file, which costs tens of µs).
   */
  backlogRows: () => number;
  sockets: () => number;
  stats(): Promise<SystemStats>;
  takeNode(minSeconds: number): Promise<PlatformSample | null>;
  clearCaches(): { entries: number };
  forPlugin(pluginId: string, org: Org, caller: Caller | null): PlatformAccess;
  stop(): void;
}

type Deps = Pick<Internals, 'config' | 'analytics' | 'knex' | 'orgs' | 'audit' | 'logger' | 'storage' | 'kv' | 'bus' | 'plugins'> & { rollups?: Internals['rollups'] };

export function createHealth(s: Deps): Health {
  const cfg = s.config.health ?? { recording: true, slaDashboardMs: 2000, slaQueryMs: 1000 };
  const collector = new HealthCollector(s.bus.node, { dashboardMs: cfg.slaDashboardMs ?? 2000, queryMs: cfg.slaQueryMs ?? 1000 });
  const health: Health = {
    collector,
    recording: cfg.recording !== false,
    usage: null as unknown as UsageMeter,
    ingestionStatus: () => null,
    backlogRows: () => 0,
    sockets: () => 0,
    stats: () => systemStats(s, health),
    takeNode: (minSeconds) => takeNode(s, health, minSeconds),
    clearCaches() {
      const entries = s.plugins.answers.size;
      s.plugins.answers.clear();
      void s.bus.publish('*', { kind: 'org' }, 'kernel.cache.clear', {}).catch(() => undefined);
      return { entries };
    },
    forPlugin: (pluginId, org, caller) => platformAccess(s, health, pluginId, org, caller),
    stop: () => collector.stop(),
  };
  // asked on every ingestion request once an org's count is a minute old (until the backlog is
  // empty): reading the whole status there cost 16 % of the main thread in a sustained run
  health.usage = new UsageMeter({ ...s, backlogRows: () => health.backlogRows() });
  if (health.recording) {
    // every store query's time: ClickHouse through the tenant helper, PostgreSQL through knex's query events
    s.analytics.observeQueries?.((ms) => collector.storeQuery('analytics', ms));
    const started = new Map<string, number>();
    s.knex.on('query', (q: { __knexQueryUid?: string }) => {
      if (q.__knexQueryUid && started.size < 10_000) started.set(q.__knexQueryUid, performance.now());
    });
    const done = (q: { __knexQueryUid?: string }) => {
      const t = q.__knexQueryUid ? started.get(q.__knexQueryUid) : undefined;
      if (t === undefined) return;
      started.delete(q.__knexQueryUid!);
      collector.storeQuery('database', performance.now() - t);
    };
    s.knex.on('query-response', (_r: unknown, q: { __knexQueryUid?: string }) => done(q));
    s.knex.on('query-error', (_e: unknown, q: { __knexQueryUid?: string }) => done(q));
  }
  return health;
}

/** Route class, plugin and route of an answer, worked out once per route. */
function routeInfoFor(s: Deps, method: string, url: string | undefined, permission: string | undefined, rateClass: string | undefined): RouteInfo {
  if (!url) return { classKey: 'class:unmatched', pluginKey: 'plugin:none', routeKey: 'route:unmatched', query: false };
  const cls = classify(url, method, permission, rateClass) ?? 'ops';
  let plugin = 'kernel';
  if (url.startsWith('/api/v1/')) {
    const rest = url.slice('/api/v1/'.length);
    let best = '';
    for (const p of s.plugins.active)
      for (const prefix of [p.decl.routePrefix, ...(p.decl.extraRoutePrefixes ?? [])])
        if ((rest === prefix || rest.startsWith(`${prefix}/`)) && prefix.length > best.length) {
          best = prefix;
          plugin = p.decl.id;
        }
  } else if (!url.startsWith('/v1/')) plugin = url.startsWith('/api/') ? 'kernel' : 'static';
  return { classKey: `class:${cls}`, pluginKey: `plugin:${plugin}`, routeKey: `route:${method} ${url}`, query: method === 'GET' && plugin !== 'kernel' && plugin !== 'static' };
}

const ms = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  try {
    const ok = await fn();
    return { ok: ok !== false, ms: performance.now() - t };
  } catch {
    return { ok: false, ms: null as number | null };
  }
};

async function probes(s: Deps) {
  const [database, analytics, cache] = [await ms(() => s.storage.ping()), await ms(() => s.analytics.ping()), await ms(() => s.kv.get('health-probe'))];
  return [
    { name: 'database' as const, mode: s.storage.mode, ok: database.ok, probe_ms: database.ms },
    { name: 'analytics' as const, mode: s.analytics.mode, ok: analytics.ok, probe_ms: analytics.ms },
    { name: 'cache' as const, mode: s.config.storage.redisUrl ? 'redis' : 'in-process', ok: cache.ok, probe_ms: cache.ms },
  ];
}

async function jobFigures(s: Deps) {
  const rows = (await s.knex.withSchema('public').table('job_runs').select('job', 'last_status', 'last_error', 'locked_until')) as Array<{ job: string; last_status: string | null; last_error: string | null; locked_until: Date | string | null }>;
  const by = new Map<string, { job: string; runs: number; failing: number; running: number; last_error: string | null }>();
  const now = Date.now();
  for (const r of rows) {
    let j = by.get(r.job);
    if (!j) by.set(r.job, (j = { job: r.job, runs: 0, failing: 0, running: 0, last_error: null }));
    j.runs++;
    if (r.last_status === 'failed') {
      j.failing++;
      j.last_error = r.last_error;
    }
    if (r.locked_until && new Date(r.locked_until).getTime() > now) j.running++;
  }
  return [...by.values()].sort((a, b) => a.job.localeCompare(b.job));
}

const lastLag = (s: Deps) => {
  const lags = s.rollups?.lagMs ?? [];
  return lags.length ? lags[lags.length - 1]! : null;
};

async function systemStats(s: Deps, h: Health): Promise<SystemStats> {
  const mem = process.memoryUsage();
  const ing = h.ingestionStatus();
  const st = s.plugins.answers.stats;
  const orgList = await s.orgs.list();
  const slugs = new Map(orgList.map((o) => [o.id, o.slug]));
  const load = new Map(h.collector.orgLoad().map((o) => [o.org_id, o]));
  const usage = new Map(h.usage.snapshot().map((o) => [o.org_id, o]));
  const { loadavg } = await import('node:os');
  return {
    at: new Date().toISOString(),
    nodes: [
      {
        id: h.collector.nodeId,
        uptime_s: Math.round((Date.now() - h.collector.startedAt) / 1000),
        cpu_ratio: h.collector.cpuSinceLastStats(),
        rss_bytes: mem.rss,
        heap_used_bytes: mem.heapUsed,
        event_loop_p99_ms: h.collector.loopFigures().p99,
        load_avg: loadavg(),
      },
    ],
    stores: await probes(s),
    ingestion: {
      commit: ing?.commit ?? 'none',
      backlog_rows: ing?.backlog_rows ?? 0,
      backlog_limit: ing?.backlog_limit ?? null,
      loader_lag_ms: ing?.loader_lag_ms ?? 0,
      accepted_since_start: h.usage.acceptedTotal,
      refused_over_limit: h.usage.refusedTotal,
    },
    rollups: { lag_ms: lastLag(s) },
    caches: { answers: { entries: s.plugins.answers.size, hits: st.hits, misses: st.misses, hit_ratio: st.hits + st.misses ? st.hits / (st.hits + st.misses) : null } },
    sockets: { connected: h.sockets(), messages_since_start: h.collector.messagesTotal },
    jobs: await jobFigures(s),
    orgs: orgList.map((o) => ({
      org_id: o.id,
      slug: slugs.get(o.id) ?? o.id,
      requests: load.get(o.id)?.requests ?? 0,
      errors: load.get(o.id)?.errors ?? 0,
      events_accepted_month: usage.get(o.id)?.events_accepted_month ?? 0,
    })),
    sla: { dashboard_ms: h.collector.sla.dashboardMs, query_ms: h.collector.sla.queryMs },
  };
}

/** figures of the previous node take, per kernel (several kernels share a test process) */
const previous = new WeakMap<Health, { hits: number; misses: number; accepted: number; refused: number }>();

async function takeNode(s: Deps, h: Health, minSeconds: number): Promise<PlatformSample | null> {
  if (h.collector.nodeAge < minSeconds) return null;
  let prev = previous.get(h);
  if (!prev) previous.set(h, (prev = { hits: 0, misses: 0, accepted: 0, refused: 0 }));
  const sample = h.collector.takeNode();
  const pts: SeriesPoint[] = sample.points;
  for (const p of await probes(s)) if (p.probe_ms !== null) pts.push({ series: 'store_probe_ms', key: `store:${p.name}`, value: p.probe_ms });
  const st = s.plugins.answers.stats;
  const dh = st.hits - prev.hits;
  const dm = st.misses - prev.misses;
  prev.hits = st.hits;
  prev.misses = st.misses;
  if (dh + dm > 0) pts.push({ series: 'answer_cache_hit_ratio', key: 'node', value: dh / (dh + dm) });
  pts.push({ series: 'answer_cache_entries', key: 'node', value: s.plugins.answers.size });
  const ing = h.ingestionStatus();
  pts.push({ series: 'ingest_events_accepted', key: 'node', value: h.usage.acceptedTotal - prev.accepted });
  pts.push({ series: 'ingest_events_refused', key: 'node', value: h.usage.refusedTotal - prev.refused });
  prev.accepted = h.usage.acceptedTotal;
  prev.refused = h.usage.refusedTotal;
  if (ing) {
    pts.push({ series: 'ingest_backlog_rows', key: 'node', value: ing.backlog_rows });
    pts.push({ series: 'ingest_loader_lag_ms', key: 'node', value: ing.loader_lag_ms });
  }
  try {
    const rs = await s.analytics.client.query({ query: 'SELECT sum(bytes_on_disk) AS b FROM system.parts WHERE database = {db:String} AND active', query_params: { db: s.analytics.database }, format: 'JSONEachRow' });
    const [row] = (await rs.json()) as Array<{ b: string | number }>;
    pts.push({ series: 'store_bytes', key: 'store:analytics', value: Number(row?.b ?? 0) });
  } catch {
    // the size is a nicety of the capacity view: a store that does not say is left out
  }
  const lag = lastLag(s);
  if (lag !== null) pts.push({ series: 'rollup_lag_ms', key: 'node', value: lag });
  pts.push({ series: 'sockets_connected', key: 'node', value: h.sockets() });
  const jobs = await jobFigures(s);
  pts.push({ series: 'jobs_failing', key: 'node', value: jobs.reduce((a, j) => a + j.failing, 0) });
  pts.push({ series: 'jobs_running', key: 'node', value: jobs.reduce((a, j) => a + j.running, 0) });
  return sample;
}

function platformAccess(s: Deps, h: Health, pluginId: string, org: Org, caller: Caller | null): PlatformAccess {
  return {
    org: {
      usage: () => h.usage.usage(org),
      reportDashboardLoad: (l) => h.collector.dashboardLoad(org.id, l.dashboardId, l.ms),
      takeSample: () => h.collector.takeOrg(org.id),
      sla: { ...h.collector.sla },
    },
    operator() {
      if (caller && !caller.operator) throw new HttpError(403, 'operator_only', 'only the platform operator may see the whole platform', { required: 'operator' });
      return {
        stats: () => h.stats(),
        takeSample: (minSeconds) => h.takeNode(minSeconds),
        clearCaches: () => h.clearCaches(),
        analytics: s.analytics.forOrg(PLATFORM_SCOPE_ORG_ID, pluginId),
        sla: { ...h.collector.sla },
      };
    },
  };
}

const statsSchema = {
  type: 'object',
  properties: {
    at: { type: 'string' },
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          uptime_s: { type: 'number' },
          cpu_ratio: { type: 'number' },
          rss_bytes: { type: 'number' },
          heap_used_bytes: { type: 'number' },
          event_loop_p99_ms: { type: 'number' },
          load_avg: { type: 'array', items: { type: 'number' } },
        },
      },
    },
    stores: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, mode: { type: 'string' }, ok: { type: 'boolean' }, probe_ms: { type: ['number', 'null'] } } } },
    ingestion: {
      type: 'object',
      properties: {
        commit: { type: 'string' },
        backlog_rows: { type: 'integer' },
        backlog_limit: { type: ['integer', 'null'] },
        loader_lag_ms: { type: 'number' },
        accepted_since_start: { type: 'integer' },
        refused_over_limit: { type: 'integer' },
      },
    },
    rollups: { type: 'object', properties: { lag_ms: { type: ['number', 'null'] } } },
    caches: {
      type: 'object',
      properties: { answers: { type: 'object', properties: { entries: { type: 'integer' }, hits: { type: 'integer' }, misses: { type: 'integer' }, hit_ratio: { type: ['number', 'null'] } } } },
    },
    sockets: { type: 'object', properties: { connected: { type: 'integer' }, messages_since_start: { type: 'integer' } } },
    jobs: {
      type: 'array',
      items: { type: 'object', properties: { job: { type: 'string' }, runs: { type: 'integer' }, failing: { type: 'integer' }, running: { type: 'integer' }, last_error: { type: ['string', 'null'] } } },
    },
    orgs: {
      type: 'array',
      items: { type: 'object', properties: { org_id: { type: 'string' }, slug: { type: 'string' }, requests: { type: 'integer' }, errors: { type: 'integer' }, events_accepted_month: { type: 'integer' } } },
    },
    sla: { type: 'object', properties: { dashboard_ms: { type: 'integer' }, query_ms: { type: 'integer' } } },
  },
};

// the usage hook's two answers, outside the hook so the common path creates no closure per request
function usageAdmitted(reply: FastifyReply, r: { status: string; used: number; limit: number } | null, done: (err?: Error) => void) {
  if (r && r.status !== 'ok') reply.header('x-usage-status', `${r.status}; used=${r.used}; limit=${r.limit}`);
  done();
}
function usageRefused(reply: FastifyReply, err: HttpError, done: (err?: Error) => void) {
  const after = (err.details as { retry_after?: number } | undefined)?.retry_after;
  if (after) reply.header('retry-after', after);
  done(err);
}

export const healthModule: KernelModule = {
  name: 'health',
  register(app: FastifyInstance, s: Internals & { health: Health }) {
    const h = s.health;
    const ingestion = () => (app as unknown as { ingestion?: { status?(): ReturnType<Health['ingestionStatus']>; backlogRows?(): number } }).ingestion;
    h.ingestionStatus = () => ingestion()?.status?.() ?? null;
    h.backlogRows = () => ingestion()?.backlogRows?.() ?? 0;
    s.bus.subscribe('*', (msg) => {
      if (msg.topic === 'kernel.cache.clear' && msg.node !== s.bus.node) s.plugins.answers.clear();
      if (!msg.topic.startsWith('kernel.')) {
        h.collector.messages++;
        h.collector.messagesTotal++;
      }
    });
    app.addHook('onClose', async () => h.stop());

    if (h.recording) {
      const routes = new Map<string, RouteInfo>();
      // a callback hook: no promise per answer; one map lookup, then a few additions
      app.addHook('onResponse', (req, reply, done) => {
        const url = req.routeOptions.url;
        const k = `${req.method} ${url}`;
        let info = routes.get(k);
        if (!info) routes.set(k, (info = routeInfoFor(s, req.method, url, req.routeOptions.config?.permission, req.routeOptions.config?.rateClass)));
        const orgId = req.auth?.org.id ?? null;
        h.collector.request(info, orgId, reply.elapsedTime, reply.statusCode);
        if (orgId && info.classKey !== 'class:ingest') h.usage.apiCall(orgId);
        done();
      });
    }

    if (h.usage.enabled) {
      // the org's monthly events: a request that would pass the soft limit is refused whole, before anything of it is taken
      // a callback hook with a synchronous answer once the org's count and tier are known: no
      // promise per request, and the route test is one map lookup per route
      const ingestRoutes = new Map<string, boolean>();
      app.addHook('preHandler', (req, reply, done) => {
        const url = req.routeOptions.url;
        if (!url || !req.auth || req.method !== 'POST') return done();
        let ingest = ingestRoutes.get(url);
        if (ingest === undefined) ingestRoutes.set(url, (ingest = /^\/(api\/v1\/events(\/batch)?|v1\/traces)$/.test(url)));
        if (!ingest) return done();
        const body = req.body as { events?: unknown[] } | undefined;
        const n = body && Array.isArray(body.events) ? body.events.length : 1;
        let now: ReturnType<typeof h.usage.admitNow>;
        try {
          now = h.usage.admitNow(req.auth.org, n);
        } catch (err) {
          return usageRefused(reply, err as HttpError, done);
        }
        if (now !== undefined) return usageAdmitted(reply, now, done);
        h.usage.admit(req.auth.org, n).then((r) => usageAdmitted(reply, r, done), (err: HttpError) => usageRefused(reply, err, done));
      });
    }

    const op = { permission: 'operator', rateClass: 'admin' as const };
    app.get(
      '/api/v1/admin/system/stats',
      {
        config: op,
        schema: {
          tags: ['health'],
          summary: "Platform operator: the platform's state now (nodes, stores, ingestion, rollups, caches, sockets, jobs, every org's load)",
          description: 'Figures of the node that answers. 403 for anyone but the platform operator, an org Admin included.',
          response: { 200: statsSchema, '4xx': errorSchema },
        },
      },
      async () => h.stats(),
    );
    app.post(
      '/api/v1/admin/cache/clear',
      {
        config: op,
        schema: {
          tags: ['health'],
          summary: "Platform operator: forget every org's remembered route answers on every node",
          description: 'The next request of each answer is computed afresh. Audited in the platform audit log.',
          response: { 200: { type: 'object', properties: { cleared: { type: 'object', properties: { answers: { type: 'integer' } } } } }, '4xx': errorSchema },
        },
      },
      async (req) => {
        const r = h.clearCaches();
        await s.knex.withSchema('public').table('platform_audit').insert({ actor: req.auth!.caller.email, action: 'cache.clear', target: 'answers', detail: JSON.stringify({ entries: r.entries }) });
        return { cleared: { answers: r.entries } };
      },
    );
  },
};
