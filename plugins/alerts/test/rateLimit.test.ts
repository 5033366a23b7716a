/**
 * Delivery rate limits per target, against a real HTTP receiver: with a limit of 3 per 2 s,
 * no window of 2 s holds more than 3 sends (checked over every send time), nothing is
 * dropped, the order per target holds, and another target is not held back.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';

describe('delivery rate limit per target', () => {
  let backend: TestBackend;
  let server: Server;
  let base = '';
  const received: Array<{ path: string; id: string }> = [];
  const prevEnv = process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
  const MAX = 3;
  const WINDOW_S = 2;

  beforeAll(async () => {
    process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = 'true';
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push({ path: req.url ?? '/', id: String(req.headers['x-event-id']) });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as any).port}`;
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'], config: { plugins: { alerts: { rateLimitPerTarget: MAX, rateLimitWindowSeconds: WINDOW_S } } } });
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    server?.close();
    if (prevEnv === undefined) delete process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
    else process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = prevEnv;
  });

  it('holds every window to the limit, drops nothing and keeps the order', async () => {
    const c = backend.client;
    const busy = (await c.post('/api/v1/alerts/contact-points', { name: 'busy', type: 'webhook', settings: { url: `${base}/busy` } })).body.id;
    const quiet = (await c.post('/api/v1/alerts/contact-points', { name: 'quiet', type: 'webhook', settings: { url: `${base}/quiet` } })).body.id;
    const queued: string[] = [];
    for (let i = 0; i < 8; i++) queued.push((await c.post('/api/v1/alerts/test', { contact_point_id: busy })).body.id);
    const other = (await c.post('/api/v1/alerts/test', { contact_point_id: quiet })).body.id;

    await backend.runJob('alerts', 'tick');
    // the first round sends the limit to the busy target, and the other target's at once
    expect(received.filter((r) => r.path === '/busy').map((r) => r.id)).toEqual(queued.slice(0, MAX));
    expect(received.filter((r) => r.path === '/quiet').map((r) => r.id)).toEqual([other]);

    const end = Date.now() + 30_000;
    while (received.filter((r) => r.path === '/busy').length < queued.length) {
      if (Date.now() > end) throw new Error(`only ${received.length} delivered`);
      await new Promise((r) => setTimeout(r, 300));
      await backend.runJob('alerts', 'tick');
    }
    // in order, each once
    expect(received.filter((r) => r.path === '/busy').map((r) => r.id)).toEqual(queued);
    // every window (t − 2 s, t] ending at a send holds at most MAX sends (a few ms of slack for rounding)
    const deliveries = (await c.get('/api/v1/alerts/deliveries', { status: 'sent' })).body.deliveries as Array<{ id: string; sent_at: string }>;
    const times = deliveries.filter((d) => queued.includes(d.id)).map((d) => Date.parse(d.sent_at));
    expect(times).toHaveLength(queued.length);
    for (const t of times) expect(times.filter((s) => s > t - WINDOW_S * 1000 + 5 && s <= t).length).toBeLessThanOrEqual(MAX);
    // and the limit was what spread them out: the first and last are more than two windows apart
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(2 * WINDOW_S * 1000 - 50);
  }, 60_000);
});
