import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { HttpError } from '@orrery/plugin-sdk';
import type { AppConfig } from '@orrery/config';
import type { Internals } from '../internals.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type RateLimitDeps = Pick<Internals, 'bus' | 'config' | 'knex' | 'kv'>;

export type RateClass = 'api' | 'admin' | 'auth' | 'ingest' | 'export';
export interface Limit {
  max: number;
  windowSeconds: number;
}
type Tier = Record<RateClass, Limit>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** overrides the rate-limit class derived from the route's path and permission */
    rateClass?: RateClass | 'none';
    /** a route's own per-user limit (a plugin's `RouteDecl.rateLimit`), checked on top of the tier's */
    routeLimit?: Limit;
  }
}

/**
 * Built-in tiers. `standard` is sized so a dashboard of 20 widgets refreshing
 * every 10 s (120 requests/min) and ingestion at 20k events/s per org pass
 * with room to spare. `strict` is the PRD's preset: 10 UI requests/min/user,
 * 50 webhook events/min/org, 1 bulk export/hour/org, 10 admin requests/min.
 * `app-config.yaml` (rateLimits.tiers) overrides any figure or adds tiers.
 */
export const BUILTIN_TIERS: Record<string, Tier> = {
  standard: {
    api: { max: 3000, windowSeconds: 60 },
    admin: { max: 600, windowSeconds: 60 },
    auth: { max: 300, windowSeconds: 60 },
    ingest: { max: 1_200_000, windowSeconds: 60 },
    export: { max: 60, windowSeconds: 3600 },
  },
  strict: {
    api: { max: 10, windowSeconds: 60 },
    admin: { max: 10, windowSeconds: 60 },
    auth: { max: 30, windowSeconds: 60 },
    ingest: { max: 50, windowSeconds: 60 },
    export: { max: 1, windowSeconds: 3600 },
  },
};

export function resolveTiers(config: AppConfig): Record<string, Tier> {
  const tiers: Record<string, Tier> = {};
  const names = new Set([...Object.keys(BUILTIN_TIERS), ...Object.keys(config.rateLimits?.tiers ?? {})]);
  for (const name of names) {
    const base = BUILTIN_TIERS[name] ?? BUILTIN_TIERS.standard!;
    tiers[name] = { ...base, ...((config.rateLimits?.tiers?.[name] ?? {}) as Partial<Tier>) };
  }
  return tiers;
}

export const tierNames = (config: AppConfig) => Object.keys(resolveTiers(config));

/**
 * Which limit a route falls under. Explicit `config.rateClass` wins; then the
 * ingestion paths, sign-in paths, Admin routes and bulk exports; every other
 * authenticated route is `api`. Operations routes and static files have none.
 */
export function classify(url: string, method: string, permission: string | undefined, explicit?: string): RateClass | null {
  if (explicit) return explicit === 'none' ? null : (explicit as RateClass);
  if (/^\/(api\/v1\/events|v1\/traces|v1\/logs|v1\/metrics)(\/|$)/.test(url)) return 'ingest';
  if (permission === 'public') return /^\/api\/v1\/(auth|invitations)\//.test(url) ? 'auth' : null;
  if (!permission) return null;
  // the exports plugin: a dataset or PDF pull, or a background export job, is a bulk export;
  // polling a job, downloading its file and editing schedules are not
  if (url.startsWith('/api/v1/export/')) {
    if ((method === 'GET' && /^\/api\/v1\/export\/(csv|json|pdf)$/.test(url)) || (method === 'POST' && (url === '/api/v1/export/jobs' || url === '/api/v1/export/archive'))) return 'export';
    return permission === 'admin' || permission === 'operator' ? 'admin' : 'api';
  }
  if ((method === 'POST' && /^\/api\/v1\/exports?(\/|$)/.test(url)) || /\/export(\.csv)?$/.test(url)) return 'export';
  if (permission === 'admin' || permission === 'operator') return 'admin';
  return 'api';
}

/**
 * Window counters that start at a subject's first request (so "1 export per
 * hour" means an hour after the first, not the next top of the hour): in
 * this process, or in Redis when the install has one, so every API node
 * shares them.
 */
interface Counter {
  /** the in-process counter answers synchronously: no promise per request on the hot path */
  hit(key: string, weight: number, windowSeconds: number): { n: number; resetMs: number } | Promise<{ n: number; resetMs: number }>;
}

function memoryCounter(): Counter {
  const map = new Map<string, { n: number; exp: number }>();
  let sweeps = 0;
  return {
    hit(key, weight, windowSeconds) {
      const now = Date.now();
      if (++sweeps % 10_000 === 0) for (const [k, v] of map) if (v.exp <= now) map.delete(k);
      let e = map.get(key);
      if (!e || e.exp <= now) {
        e = { n: 0, exp: now + windowSeconds * 1000 };
        map.set(key, e);
      }
      e.n += weight;
      return { n: e.n, resetMs: e.exp - now };
    },
  };
}

function redisCounter(redis: Redis): Counter {
  return {
    async hit(key, weight, windowSeconds) {
      const res = (await redis.multi().incrby(key, weight).pexpire(key, windowSeconds * 1000, 'NX').pttl(key).exec()) as Array<[unknown, number]>;
      const ttl = Number(res[2]![1]);
      return { n: Number(res[0]![1]), resetMs: ttl > 0 ? ttl : windowSeconds * 1000 };
    },
  };
}

/**
 * Installs the limiter as a root preHandler hook: after authentication (so a
 * limit can be per user or per org) and after body parsing (so an ingestion
 * batch counts as the number of events in it).
 */
export function installRateLimits(app: FastifyInstance, s: RateLimitDeps) {
  if (s.config.rateLimits && s.config.rateLimits.enabled === false) return;
  const tiers = resolveTiers(s.config);
  const redis = (s.kv as unknown as { redis?: Redis }).redis;
  const counter = redis ? redisCounter(redis) : memoryCounter();
  const tierCache = new Map<string, { at: number; tier: string }>();

  /** Synchronous when cached (nearly always), so the hook awaits nothing on the hot path. */
  function tierOf(orgId: string): string | Promise<string> {
    const hit = tierCache.get(orgId);
    if (hit && Date.now() - hit.at < 5000) return hit.tier;
    return loadTier(orgId);
  }
  async function loadTier(orgId: string) {
    const row = await s.knex.withSchema('public').table('orgs').where({ id: orgId }).first('tier');
    const tier = row?.tier && tiers[row.tier] ? (row.tier as string) : 'standard';
    tierCache.set(orgId, { at: Date.now(), tier });
    return tier;
  }
  s.bus.subscribe('kernel.auth.changed', (msg) => (msg.orgId === '*' ? tierCache.clear() : tierCache.delete(msg.orgId)));

  // the class of a route never changes: classified once per route and method, not per request (regexps)
  const classes = new Map<string, RateClass | null>();
  // per-org keys (ingest, export) are built once per org, class and limit instead of per request
  const orgKeys = new Map<string, string>();
  const keyOf = (cls: RateClass, limit: Limit, subject: string) => `rl:${cls}:${limit.max}/${limit.windowSeconds}:${subject}`;

  app.addHook('preHandler', async (req: FastifyRequest, reply) => {
    const url = req.routeOptions.url;
    if (!url) return;
    const routeKey = req.method + url;
    let cls = classes.get(routeKey);
    if (cls === undefined) {
      const cfg = req.routeOptions.config ?? {};
      cls = classify(url, req.method, cfg.permission, cfg.rateClass);
      classes.set(routeKey, cls);
    }
    if (!cls) return;
    const org = req.auth?.org;
    const own = req.routeOptions.config?.routeLimit;
    if (own) {
      const subject = req.auth ? `user:${org!.id}:${req.auth.caller.userId}` : `ip:${req.ip}`;
      let h = counter.hit(`rl:route:${routeKey}:${own.max}/${own.windowSeconds}:${subject}`, 1, own.windowSeconds);
      if (h instanceof Promise) h = await h;
      const reset = Math.max(1, Math.ceil(h.resetMs / 1000));
      reply.header('x-ratelimit-route-limit', own.max);
      reply.header('x-ratelimit-route-remaining', Math.max(0, own.max - h.n));
      if (h.n > own.max) {
        reply.header('retry-after', reset);
        throw new HttpError(429, 'rate_limited', `too many requests to ${req.method} ${url}: the limit is ${own.max} per ${own.windowSeconds} s per user; retry in ${reset} s`, {
          route: `${req.method} ${url}`,
          limit: own.max,
          window_seconds: own.windowSeconds,
          retry_after: reset,
        });
      }
    }
    let tierName = org ? tierOf(org.id) : 'standard';
    if (typeof tierName !== 'string') tierName = await tierName;
    const limit = tiers[tierName]![cls];
    let key: string;
    if (cls === 'auth' || !req.auth) key = keyOf(cls, limit, `ip:${req.ip}`);
    else if (cls === 'ingest' || cls === 'export') {
      // the limit is part of the key: moving an org to another tier starts fresh counters
      const memo = `${cls}|${tierName}|${org!.id}`;
      key = orgKeys.get(memo) ?? '';
      if (!key) {
        if (orgKeys.size > 10_000) orgKeys.clear();
        orgKeys.set(memo, (key = keyOf(cls, limit, `org:${org!.id}`)));
      }
    } else key = keyOf(cls, limit, `user:${org!.id}:${req.auth.caller.userId}`);
    const body = req.body as { events?: unknown[] } | undefined;
    const weight = cls === 'ingest' && body && Array.isArray(body.events) ? Math.max(1, body.events.length) : 1;
    let hit = counter.hit(key, weight, limit.windowSeconds);
    if (hit instanceof Promise) hit = await hit;
    const { n, resetMs } = hit;
    const reset = Math.max(1, Math.ceil(resetMs / 1000));
    reply.header('x-ratelimit-limit', limit.max);
    reply.header('x-ratelimit-remaining', Math.max(0, limit.max - n));
    reply.header('x-ratelimit-reset', reset);
    if (n > limit.max) {
      reply.header('retry-after', reset);
      throw new HttpError(429, 'rate_limited', `too many ${cls} requests: the limit is ${limit.max} per ${limit.windowSeconds} s; retry in ${reset} s`, {
        class: cls,
        limit: limit.max,
        window_seconds: limit.windowSeconds,
        retry_after: reset,
      });
    }
  });
}
