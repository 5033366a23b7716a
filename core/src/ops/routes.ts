import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type OpsDeps = Pick<Internals, 'analytics' | 'kv' | 'storage' | 'version' | 'metrics'>;

const ingestionStatusSchema = {
  type: 'object',
  description: 'the durable ingestion log: rows waiting for the loader, its limit, the age of the oldest (ms)',
  properties: {
    commit: { type: 'string' }, backlog_rows: { type: 'integer' }, backlog_limit: { type: ['integer', 'null'] }, full: { type: 'boolean' },
    loader_lag_ms: { type: 'number' }, refused_rows: { type: 'integer' }, loaded_seq: { type: 'integer' }, last_seq: { type: 'integer' }, pruned_entries: { type: 'integer' }, log_file_bytes: { type: 'integer' },
  },
};

/** One registry per kernel (tests start several in a process). */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const httpDuration = new client.Histogram({
    name: 'orrery_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, httpDuration };
}
export type Metrics = ReturnType<typeof createMetrics>;

export const opsModule: KernelModule<OpsDeps> = {
  name: 'ops',
  register(app: FastifyInstance, s: OpsDeps) {
    const pub = { permission: 'public' };
    // One histogram child per method, route and status, looked up by a flat string: observe() with a
    // label object hashes (sorts and joins) the labels on every request. A callback hook, not an
    // async one, so no promise per request either.
    const children = new Map<string, { observe(v: number): void }>();
    app.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      const key = `${req.method} ${reply.statusCode} ${route}`;
      let child = children.get(key);
      if (!child) children.set(key, (child = s.metrics.httpDuration.labels({ method: req.method, route, status: String(reply.statusCode) })));
      child.observe(reply.elapsedTime / 1000);
      done();
    });

    app.get('/health', { config: pub, schema: { tags: ['ops'], summary: 'Liveness: 200 while the process runs', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));

    app.get(
      '/ready',
      {
        config: pub,
        schema: {
          tags: ['ops'],
          summary: 'Readiness: 200 when every store answers, else 503 naming the part that does not',
          response: {
            '2xx': { type: 'object', properties: { status: { type: 'string' }, parts: { type: 'object', additionalProperties: { type: 'string' } }, ingestion: ingestionStatusSchema } },
            503: { type: 'object', properties: { status: { type: 'string' }, parts: { type: 'object', additionalProperties: { type: 'string' } }, failing: { type: 'array', items: { type: 'string' } }, ingestion: ingestionStatusSchema } },
          },
        },
      },
      async (req, reply) => {
        // the durable ingestion log: a full backlog takes the node out of rotation until the loader catches up
        const ingestion = (req.server as unknown as { ingestion?: { status?(): { full: boolean } & Record<string, unknown> } }).ingestion?.status?.();
        const checks = await Promise.all([
          s.storage.ping().then((ok) => ['database', ok] as const),
          s.analytics.ping().then((ok) => ['analytics', ok] as const),
          s.kv
            .set('ready-probe', '1', 10)
            .then(() => ['cache', true] as const)
            .catch(() => ['cache', false] as const),
        ]);
        const parts: Record<string, string> = Object.fromEntries(checks.map(([k, ok]) => [k, ok ? 'ok' : 'unavailable']));
        const failing = checks.filter(([, ok]) => !ok).map(([k]) => k as string);
        if (ingestion) {
          parts.ingestion = ingestion.full ? 'backlog_full' : 'ok';
          if (ingestion.full) failing.push('ingestion');
        }
        if (failing.length) return reply.status(503).send({ status: 'unavailable', parts, failing, ingestion });
        return { status: 'ready', parts, ingestion };
      },
    );

    // The series name every organization (per-org ingestion counters): on the public port only
    // a platform operator reads them. Scrapers use the separate listener (startMetricsListener)
    // or an operator's API token.
    app.get(
      '/metrics',
      {
        config: { permission: 'operator' },
        schema: {
          tags: ['ops'],
          summary: 'Prometheus metrics (text format); platform operator only on this port',
          description:
            'Carries per-organization series, so on the public port it needs a platform operator\'s access or API token. ' +
            'Without a token, scrape the metrics listener (`server.metrics`, default http://127.0.0.1:9464/metrics).',
          response: { 200: { description: 'Prometheus text exposition format', type: 'string' } },
        },
      },
      async (_req, reply) => {
        reply.header('content-type', s.metrics.registry.contentType);
        return s.metrics.registry.metrics();
      },
    );

    app.get(
      '/version',
      {
        config: pub,
        schema: {
          tags: ['ops'],
          summary: 'Platform and plugin SDK versions',
          response: { 200: { type: 'object', properties: { version: { type: 'string' }, commit: { type: 'string' }, sdkVersion: { type: 'string' } } } },
        },
      },
      async () => s.version,
    );
  },
};

/**
 * The scrape listener: `GET /metrics` without a token, on its own host and port (loopback by
 * default) so that only what can reach that address reads the per-organization series. A port
 * already taken is reported and skipped: metrics are not worth refusing to start over.
 */
export async function startMetricsListener(
  metrics: Metrics,
  opts: { host: string; port: number },
  log: { warn(o: object, msg: string): void },
): Promise<{ url: string; close(): Promise<void> } | null> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'only GET /metrics is served here' } }));
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err.message)),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
  } catch (err) {
    log.warn({ err, host: opts.host, port: opts.port }, 'metrics listener not started');
    return null;
  }
  const addr = server.address();
  const url = typeof addr === 'object' && addr ? `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}/metrics` : String(addr);
  return { url, close: () => new Promise<void>((r) => server.close(() => r())) };
}
