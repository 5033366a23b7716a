/**
 * Two API nodes on one PostgreSQL and one Redis: whichever node's scheduler runs,
 * each rule is evaluated once per interval and each notification is sent once.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';

const PG = process.env.ORRERY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.ORRERY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('alerts on two nodes', () => {
  let a: TestBackend;
  let b: TestBackend;
  let server: Server;
  const got: any[] = [];
  const saved = { ...process.env };
  beforeAll(async () => {
    process.env.ORRERY_TEST_DATABASE_URL = PG;
    process.env.ORRERY_TEST_REDIS_URL = REDIS;
    process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = 'true';
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        got.push(JSON.parse(raw));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    a = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'], realServers: true });
    b = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'], realServers: true, config: { storage: a.config.storage } });
  }, 90_000);
  afterAll(async () => {
    await b?.close({ keepData: true });
    await a?.close();
    server?.close();
    for (const k of ['ORRERY_TEST_DATABASE_URL', 'ORRERY_TEST_REDIS_URL', 'ORRERY_WEBHOOKS_ALLOW_PRIVATE']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('evaluates each rule once per interval and notifies once, with both nodes ticking at once', async () => {
    const url = `http://127.0.0.1:${(server.address() as any).port}/n`;
    const cp = await a.client.post('/api/v1/alerts/contact-points', { name: 'hook', type: 'webhook', settings: { url } });
    expect(cp.status).toBe(200);
    await a.client.put('/api/v1/alerts/policy', { contact_point_id: cp.body.id, group_wait_seconds: 0, group_interval_seconds: 1 });
    await a.org.insertEvents([{ event_id: 'x1', event_type: 'agent_invocation', timestamp: new Date().toISOString(), user_id: 'u', agent_name: 'p', status: 'failure' }]);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await b.client.post('/api/v1/alerts/rules', { name: `r${i}`, query: { event_type: 'agent_invocation', measure: 'count' }, window_seconds: 3600, condition: { op: 'gte', threshold: 1 }, interval_seconds: 10 });
      ids.push(r.body.id);
    }
    const started = Date.now();
    let evaluated = 0;
    // both schedulers fire together, over and over, for 25 s
    while (Date.now() - started < 25_000) {
      const results = await Promise.all([a.runJob('alerts', 'tick'), b.runJob('alerts', 'tick')]);
      for (const r of results) for (const v of Object.values(r)) evaluated += (v as any)?.evaluated ?? 0;
      await new Promise((r) => setTimeout(r, 300));
    }
    const elapsed = (Date.now() - started) / 1000;
    // 5 rules, every 10 s (the first slot after creation comes 5–15 s later, then every 10 s):
    // a slot evaluated by both nodes would double the count
    expect(evaluated).toBeGreaterThanOrEqual(5 * Math.floor(elapsed / 10));
    expect(evaluated).toBeLessThanOrEqual(5 * (Math.ceil(elapsed / 10) + 1));
    // one firing notification per rule (grouped by alertname), none twice
    const firing = got.filter((g) => g.status === 'firing').map((g) => g.commonLabels.alertname).sort();
    expect(firing).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    for (const id of ids) {
      const h = await a.client.get('/api/v1/alerts/history', { rule_id: id });
      expect(h.body.history.filter((x: any) => x.kind === 'state' && x.to_state === 'firing')).toHaveLength(1);
    }
  }, 90_000);
});
