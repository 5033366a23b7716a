import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { HttpError, isRawReply, type Caller } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import { errorSchema } from '../http/schemas.ts';
import { tenantContext } from './context.ts';
import type { AnswerCache } from './answerCache.ts';
import type { PluginGate } from './active.ts';

/** What a caller may see: the same request from callers with the same scope has the same answer. */
/** JSON with object keys sorted: the same question asked with its fields in another order is the same key. */
export const stableJson = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(stableJson).join(',')}]`
  : v && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`
  : JSON.stringify(v) ?? 'null';
const callerScope = (c: Caller) => `${c.userId}|${c.role}|${c.departments.map((d) => `${d.id}:${d.manager ? 'm' : ''}`).join(',')}`;

/**
 * Mounts every active plugin's routes under /api/v1/<prefix>, each in its own fastify
 * context. A plugin disabled for the caller's org answers 404 there; one whose provider is
 * off answers 424; GET routes that opt in are answered from the remembered answers.
 */
export async function mountPluginRoutes(app: FastifyInstance, gate: PluginGate, answers: AnswerCache, deps: Pick<Internals, 'permissions'>, closing: AbortSignal) {
  for (const p of gate.active) {
    for (const own of [p.decl.routePrefix, ...(p.decl.extraRoutePrefixes ?? [])]) {
      const prefix = `/api/v1/${own}`;
      const routes = p.routes.filter((r) => (r.prefix ?? p.decl.routePrefix) === own);
      await app.register(
        async (child) => {
          // disabled for this tenant → 404, exactly as if the plugin were not installed
          child.addHook('preHandler', async (req) => {
            if (req.auth && (p.status !== 'active' || !(await gate.isEnabled(req.auth.org.id, p.decl.id)))) {
              throw new HttpError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
            }
            const missing = req.auth && (await gate.unavailableProvider(p, req.auth.org.id));
            if (missing) throw missing;
          });
          for (const r of routes) {
            child.route({
              method: r.method,
              url: r.path === '/' ? '' : r.path.replace(/\{(\w+)\}/g, ':$1'),
              config: { permission: r.permission, ...(r.rateLimit ? { routeLimit: routeLimitOf(r.rateLimit, p.scope.cradle.pluginConfig) } : {}) },
              schema: {
                tags: [p.decl.id],
                summary: r.summary,
                description: `${r.description ?? ''}\n\nPermission: \`${r.permission}\` (${deps.permissions.list().find((x) => x.name === r.permission)?.roles.join(', ') ?? r.permission}).`.trim(),
                ...r.schema,
                response: { ...(r.schema?.response ?? {}), '4xx': errorSchema },
              } as any,
              handler: async (req, reply) => {
                const ctx = tenantContext(p.scope, req.auth!.org, req.auth!.caller);
                let signal: AbortSignal | undefined;
                const request = {
                  query: req.query, params: req.params, body: req.body, headers: req.headers, id: req.id,
                  // made on first use: most handlers never look, and a listener per request is not free
                  get signal() { return (signal ??= abortedOnHangUp(reply.raw, closing)); },
                };
                const run = () => r.handler(request, ctx);
                let result: unknown;
                if (r.cache && (r.method === 'GET' || r.method === 'POST') && req.auth!.caller && (!r.cache.when || r.cache.when({ query: req.query, params: req.params, body: req.body }))) {
                  // `Cache-Control: no-cache` asks for an answer computed now (a widget's refresh button)
                  const fresh = /\bno-cache\b/i.test(String(req.headers['cache-control'] ?? ''));
                  // a POST that opts in is a read whose question is its body (too large for a URL)
                  const question = r.method === 'POST' ? `${req.url}\u0000${stableJson(req.body)}` : req.url;
                  const answer = await answers.get(req.auth!.org.id, p.decl.id, `${callerScope(req.auth!.caller)}\u0000${question}`, r.cache.maxAgeSeconds * 1000, run, { fresh });
                  void reply.header('x-orrery-answer', answer.source);
                  result = answer.value;
                } else {
                  result = await run();
                  // a write through the plugin's own routes: what its remembered answers read may have changed
                  if (r.method !== 'GET') ctx.answersChanged();
                }
                if (result === undefined) return reply.status(204).send();
                if (isRawReply(result)) {
                  reply.status(result.status).headers(result.headers);
                  const body = result.body;
                  // a stream is pulled as the socket drains: memory stays flat however long the answer
                  return reply.send(typeof body === 'string' || body instanceof Uint8Array ? body : Readable.from(body));
                }
                return result;
              },
            });
          }
        },
        { prefix },
      );
    }
  }
}

/**
 * A signal aborted when the answer's connection closes before the answer finished (the client
 * went away) or when `closing` aborts (the platform is shutting down), whichever comes first.
 */
export function abortedOnHangUp(res: { writableFinished: boolean; once(e: 'close', f: () => void): unknown }, closing: AbortSignal): AbortSignal {
  const ac = new AbortController();
  if (closing.aborted) {
    ac.abort(closing.reason);
    return ac.signal;
  }
  const onClosing = () => ac.abort(closing.reason);
  closing.addEventListener('abort', onClosing, { once: true });
  res.once('close', () => {
    // the shutdown signal lives as long as the process: no listener of a finished request stays on it
    closing.removeEventListener('abort', onClosing);
    if (!res.writableFinished) ac.abort(new Error('the client closed the connection'));
  });
  return ac.signal;
}

/** A route's own limit, with the plugin's config key (when set to a positive integer) replacing `max`. */
function routeLimitOf(l: { max: number; windowSeconds: number; configKey?: string }, config: Record<string, unknown> | undefined) {
  const v = l.configKey ? config?.[l.configKey] : undefined;
  return { max: typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : l.max, windowSeconds: l.windowSeconds };
}
