import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, type Caller, type Org, type Role } from '@orrery/plugin-sdk';
import type { TokenService } from './tokens.ts';
import type { AccessClaims } from './tokens.ts';
import type { CallerDirectory } from './callers.ts';

/**
 * Permission name → roles that hold it. Kernel permissions are registered at
 * start; each plugin's declared permissions are added by the loader.
 */
export class PermissionRegistry {
  private perms = new Map<string, { roles: Set<Role>; owner: string }>();
  constructor() {
    this.define('authenticated', ['Admin', 'Manager', 'Developer'], 'kernel');
    this.define('admin', ['Admin'], 'kernel');
    this.define('manage-members', ['Admin', 'Manager'], 'kernel');
    this.define('events.write', ['Admin', 'Manager', 'Developer'], 'kernel');
  }
  define(name: string, roles: Role[], owner: string) {
    const existing = this.perms.get(name);
    if (existing && existing.owner !== owner) {
      throw new Error(`permission "${name}" is already declared by ${existing.owner}`);
    }
    this.perms.set(name, { roles: new Set(roles), owner });
  }
  has(name: string) {
    return this.perms.has(name) || name === 'public' || name === 'operator';
  }
  allows(name: string, caller: Caller): boolean {
    if (name === 'operator') return caller.operator;
    const p = this.perms.get(name);
    return !!p && p.roles.has(caller.role);
  }
  list() {
    return [...this.perms.entries()].map(([name, p]) => ({ name, roles: [...p.roles], owner: p.owner }));
  }
}

const unauthorized = (msg: string) => new HttpError(401, 'unauthorized', msg);

/** One registered route as the router holds it: what the isolation sweep and the rate limiter read. */
export interface RouteEntry {
  method: string;
  url: string;
  permission: string | undefined;
  tokenKinds: string[] | undefined;
  /** the JSON schema fastify validates with (params, querystring, body) */
  schema: Record<string, any> | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the session an access token belongs to (null for API tokens) */
    sessionId: string | null;
  }
  interface FastifyInstance {
    /** every route registered after authentication was installed (all of the API), read from the router */
    routeCatalogue: RouteEntry[];
  }
}

/**
 * Installs authentication on every route that does not opt out with
 * `config.permission: 'public'`. Runs on `onRequest`, before the body is
 * parsed, so an unauthenticated flood costs little.
 */
export function installAuthentication(
  app: FastifyInstance,
  deps: { tokens: TokenService; callers: CallerDirectory; permissions: PermissionRegistry; tokenCacheMs?: number },
) {
  // `resolved` keeps the org and caller an API token led to, for as long as the token row itself is
  // cached: a busy hook token then costs no awaits and no allocations here. Every invalidation of
  // the caller directory also clears this cache (forgetAllTokens), so it is never staler than before.
  const tokenCache = new Map<string, { at: number; row: Awaited<ReturnType<TokenService['findApiToken']>>; resolved?: { org: Org; caller: Caller } }>();
  const cacheMs = deps.tokenCacheMs ?? 5000;
  const jwtCache = new Map<string, { claims: AccessClaims; exp: number }>();
  app.decorateRequest('auth', null);
  app.decorateRequest('sessionId', null);

  // The catalogue is filled from the router itself, so a route added by any
  // module or plugin is listed (and swept by the isolation tests) without
  // anyone registering it twice.
  const catalogue: RouteEntry[] = [];
  app.decorate('routeCatalogue', catalogue);
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { permission?: string; tokenKinds?: string[] };
    // Static files (the portal, plugin remotes) are registered by @fastify/static
    // without a permission; outside the API they are public by nature. Inside
    // /api a missing permission stays an error at request time (fail closed).
    if (!config.permission && !/^\/(api|v1)\//.test(route.url) && (route.method === 'GET' || route.method === 'HEAD' || (Array.isArray(route.method) && route.method.every((m) => m === 'GET' || m === 'HEAD')))) {
      route.config = { ...(route.config ?? {}), permission: 'public' } as any;
    }
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      catalogue.push({
        method,
        url: route.url,
        permission: (route.config as any)?.permission,
        tokenKinds: config.tokenKinds,
        schema: route.schema as any,
      });
    }
  });

  app.addHook('onRequest', async (req: FastifyRequest) => {
    const config = req.routeOptions.config ?? {};
    const permission = config.permission;
    if (!req.routeOptions.url) return; // 404s are answered by the not-found handler
    if (permission === 'public') return;
    if (!permission) {
      // static files (the portal, plugin remotes) are public; an API route must say what it needs
      if (!/^\/(api|v1)\//.test(req.routeOptions.url)) return;
      throw new HttpError(500, 'internal', `route ${req.routeOptions.url} declares no permission`);
    }
    const header = req.headers.authorization;
    if (!header || !header.startsWith('Bearer ')) throw unauthorized('missing bearer token (Authorization: Bearer <token>)');
    const token = header.slice(7).trim();
    const kinds = config.tokenKinds ?? ['access_token', 'api_token'];

    let orgId: string;
    let userId: string;
    let via: Caller['via'];
    let sessionId: string | null = null;
    let apiHit: { resolved?: { org: Org; caller: Caller } } | undefined;
    if (token.startsWith('orr_api_') || token.startsWith('orr_hook_')) {
      // keyed by the secret itself: it is in this request's header anyway, and hashing it on
      // every request of a busy hook token is measurable CPU
      const key = token;
      let hit = tokenCache.get(key);
      if (!hit || Date.now() - hit.at > cacheMs) {
        hit = { at: Date.now(), row: await deps.tokens.findApiToken(token) };
        tokenCache.set(key, hit);
        if (tokenCache.size > 10_000) tokenCache.delete(tokenCache.keys().next().value!);
      }
      if (!hit.row) throw unauthorized('token is invalid, expired or revoked');
      via = hit.row.kind === 'hook' ? 'hook_token' : 'api_token';
      if (hit.resolved) {
        if (!kinds.includes(via)) throw new HttpError(403, 'wrong_token_kind', `this route takes ${kinds.join(' or ')}, not ${via}`);
        const { caller } = hit.resolved;
        if (permission !== 'authenticated' && !deps.permissions.allows(permission, caller)) {
          throw new HttpError(403, 'forbidden', `requires permission "${permission}"`, { permission, role: caller.role });
        }
        req.auth = hit.resolved;
        return;
      }
      apiHit = hit;
      orgId = hit.row.org_id;
      userId = hit.row.user_id;
    } else {
      // a verified token is remembered until it expires: a dashboard sends the same one many times a minute
      let claims: AccessClaims | null;
      const seen = jwtCache.get(token);
      if (seen && seen.exp > Date.now()) claims = seen.claims;
      else {
        claims = await deps.tokens.verifyAccess(token);
        if (claims) {
          if (jwtCache.size >= 10_000) jwtCache.delete(jwtCache.keys().next().value!);
          jwtCache.set(token, { claims, exp: Math.min(Date.now() + 60_000, (claims.exp ?? 0) * 1000) });
        }
      }
      if (!claims) throw unauthorized('access token is invalid or expired');
      if (claims.sid && (await deps.tokens.isSessionRevoked(claims.sid))) throw unauthorized('this session was ended; log in again');
      via = 'access_token';
      sessionId = claims.sid ?? null;
      orgId = claims.org;
      userId = claims.sub;
    }
    if (!kinds.includes(via)) {
      throw new HttpError(403, 'wrong_token_kind', `this route takes ${kinds.join(' or ')}, not ${via}`);
    }
    const org = await deps.callers.org(orgId);
    if (!org) throw unauthorized('the organization of this token no longer exists');
    const caller = await deps.callers.caller(org, userId, via);
    if (!caller) throw unauthorized('user is deactivated or no longer a member of this organization');
    if (permission !== 'authenticated' && !deps.permissions.allows(permission, caller)) {
      throw new HttpError(403, 'forbidden', `requires permission "${permission}"`, { permission, role: caller.role });
    }
    req.auth = { org, caller };
    if (apiHit) apiHit.resolved = req.auth;
    req.sessionId = sessionId;
  });

  return {
    forgetToken(secret: string) {
      tokenCache.delete(secret);
    },
    forgetAllTokens() {
      tokenCache.clear();
      // called on every node when kernel.auth.changed arrives: session revocations too
      deps.tokens.forgetSessions();
    },
  };
}
