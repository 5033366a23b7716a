/**
 * Platform events end to end: kernel and plugin bus topics reach webhook subscriptions
 * through `env.onBus`, as signed, persisted deliveries to a real HTTP receiver started
 * here; per org only; a receiver that is down gets them later, in order.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import { definePlugin } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { PLATFORM_EVENTS } from '../backend/platformEvents.ts';

interface Received {
  path: string;
  headers: Record<string, string>;
  raw: string;
  body: any;
}

const SECRET = 'platform-events-secret';

/** a plugin with nothing in it, to be switched off and on */
const probe = definePlugin({
  id: 'probe',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Probe',
  description: 'switched off and on by the test',
  routePrefix: 'probe',
  permissions: {},
  register() {},
});

describe('platform events to webhook subscriptions', () => {
  let backend: TestBackend;
  let other: TestOrg;
  let server: Server;
  let base = '';
  const received: Received[] = [];
  const down = new Set<string>();
  const prevEnv = process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
  const on = (path: string) => received.filter((r) => r.path === path);
  const tick = async () => {
    await backend.runJob('alerts', 'tick');
  };
  const until = async <T,>(what: string, f: () => T | undefined | false, ms = 30_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      await tick();
      const v = f();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  /** what a kernel service publishes (ingestion's quality tracker, adoption's daily run) */
  const publish = (orgId: string, topic: string, payload: unknown, scope: any = { kind: 'org' }) => backend.kernel.container.cradle.bus.publish(orgId, scope, topic, payload);

  beforeAll(async () => {
    process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = 'true';
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const path = req.url ?? '/';
        if (down.has(path)) return void res.writeHead(503).end();
        received.push({ path, headers: req.headers as Record<string, string>, raw, body: JSON.parse(raw) });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as any).port}`;
    backend = await startTestBackend({ plugins: [plugin, probe], loadPluginFolders: true, onlyPlugins: ['metrics'], config: { plugins: { alerts: { retryBaseSeconds: 0.3 } } } });
    other = await backend.createOrg('other-org');
  }, 60_000);

  afterAll(async () => {
    await backend?.close();
    server?.close();
    if (prevEnv === undefined) delete process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
    else process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = prevEnv;
  });

  it('lists the catalogue with the bus topic each event comes from', async () => {
    const r = await backend.client.get('/api/v1/webhooks/catalogue');
    expect(r.status).toBe(200);
    const names = r.body.events.map((e: any) => e.name);
    expect(names.sort()).toEqual(Object.keys(PLATFORM_EVENTS).sort());
    expect(r.body.events.find((e: any) => e.name === 'member.added').topic).toBe('kernel.members.added');
  });

  it('delivers kernel and plugin events, signed, in order, to the org that subscribed and only to it', async () => {
    const events = ['member.added', 'member.removed', 'plugin.switched', 'user.deleted', 'data_quality.firing', 'data_quality.resolved', 'user.flagged', 'user.recovered'];
    expect((await backend.client.post('/api/v1/webhooks', { url: `${base}/all`, events, secret: SECRET })).status).toBe(200);
    // the other org subscribes to the same events at its own path, and does the same things once
    expect((await other.client.post('/api/v1/webhooks', { url: `${base}/other`, events })).status).toBe(200);

    const created = await backend.client.post('/api/v1/users', { email: 'new.member@example.com', role: 'Developer' });
    expect(created.status).toBe(201);
    const userId = created.body.user_id as string;
    await until('member.added', () => on('/all').some((r) => r.body.event === 'member.added'));
    expect((await backend.client.delete(`/api/v1/members/${userId}`)).status).toBe(204);
    await until('member.removed', () => on('/all').some((r) => r.body.event === 'member.removed'));
    expect((await backend.client.put('/api/v1/admin/plugins/probe', { enabled: false })).status).toBe(200);
    await until('plugin.switched', () => on('/all').some((r) => r.body.event === 'plugin.switched'));
    expect((await backend.client.delete('/api/v1/events/users/erased-user')).status).toBeLessThan(300);
    await until('user.deleted', () => on('/all').some((r) => r.body.event === 'user.deleted'));
    const at = new Date().toISOString();
    await publish(backend.org.id, 'ingestion.quality', { condition: 'silence', state: 'firing', value: 13, threshold: 12, window: '12h', message: 'no event for 13.0 hours', at });
    await publish(backend.org.id, 'ingestion.quality', { condition: 'silence', state: 'resolved', value: 0, threshold: 12, window: '12h', message: 'no event for 0.0 hours', at });
    const flag = { kind: 'raised', flag_id: 'f1', user_id: 'u1', day: '2026-12-01', score: 0.3, triggers: ['low_usage'], signals: [] };
    await publish(backend.org.id, 'adoption.flags', flag);
    // the same flag on a department's scope is not a second event
    await publish(backend.org.id, 'adoption.flags', flag, { kind: 'department', id: 'd1' });
    await publish(backend.org.id, 'adoption.flags', { kind: 'resolved', flag_id: 'f1', user_id: 'u1', day: '2026-12-02' });
    await until('every event', () => on('/all').length >= events.length && on('/all'));
    await new Promise((r) => setTimeout(r, 500));
    await tick();

    const got = on('/all');
    expect(got.map((r) => r.body.event)).toEqual(events);
    for (const r of got) {
      expect(r.body.org_id).toBe(backend.org.id);
      expect(r.headers['x-orrery-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(r.raw).digest('hex')}`);
      expect(r.headers['x-event-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers['x-retry-count']).toBe('0');
    }
    expect(new Set(got.map((r) => r.headers['x-event-id'])).size).toBe(got.length);
    const by = (e: string) => got.find((r) => r.body.event === e)!.body.data;
    expect(by('member.added')).toMatchObject({ user_id: userId, role: 'Developer' });
    expect(by('member.removed')).toMatchObject({ user_id: userId });
    expect(by('plugin.switched')).toEqual({ plugin_id: 'probe', enabled: false });
    expect(by('user.deleted')).toMatchObject({ user_id: 'erased-user' });
    expect(by('data_quality.firing')).toMatchObject({ condition: 'silence', state: 'firing', value: 13 });
    expect(by('data_quality.resolved')).toMatchObject({ condition: 'silence', state: 'resolved' });
    expect(by('user.flagged')).toEqual({ flag_id: 'f1', user_id: 'u1', day: '2026-12-01', score: 0.3, triggers: ['low_usage'] });
    expect(by('user.recovered')).toEqual({ flag_id: 'f1', user_id: 'u1', day: '2026-12-02' });
    // nothing of the first org reached the second org's subscription
    expect(on('/other')).toEqual([]);

    // the second org's own member reaches its subscription, and not the first org's
    const theirs = await other.client.post('/api/v1/users', { email: 'their.member@example.com', role: 'Developer' });
    expect(theirs.status).toBe(201);
    const mine = await until('the other org member.added', () => on('/other').find((r) => r.body.event === 'member.added'));
    expect(mine.body).toMatchObject({ org_id: other.id, data: { user_id: theirs.body.user_id } });
    expect(on('/all').filter((r) => r.body.event === 'member.added')).toHaveLength(1);
    expect((await backend.client.put('/api/v1/admin/plugins/probe', { enabled: true })).status).toBe(200);
  }, 90_000);

  it('a receiver that is down gets the events later, in order, after retries', async () => {
    expect((await backend.client.post('/api/v1/webhooks', { url: `${base}/flaky`, events: ['member.added', 'member.removed'] })).status).toBe(200);
    down.add('/flaky');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await backend.client.post('/api/v1/users', { email: `flaky${i}@example.com`, role: 'Developer' });
      ids.push(r.body.user_id);
      expect((await backend.client.delete(`/api/v1/members/${r.body.user_id}`)).status).toBe(204);
    }
    // the deliveries wait, retrying, while it is down
    const end = Date.now() + 2000;
    while (Date.now() < end) {
      await tick();
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(on('/flaky')).toEqual([]);
    down.delete('/flaky');
    const got = await until('the flaky receiver catching up', () => on('/flaky').length >= 6 && on('/flaky'));
    expect(got.map((r) => [r.body.event, r.body.data.user_id])).toEqual(ids.flatMap((id) => [['member.added', id], ['member.removed', id]]));
    expect(got.some((r) => Number(r.headers['x-retry-count']) > 0)).toBe(true);
  }, 60_000);

  it("offers the org's notification settings (the kernel notifier's Slack and webhook URLs) as contact points, read at send time", async () => {
    const cps = (await backend.client.get('/api/v1/alerts/contact-points')).body;
    const list = cps.contact_points ?? cps.items ?? cps;
    const orgHook = list.find((c: any) => c.type === 'org_webhook');
    expect(list.find((c: any) => c.type === 'org_slack')).toBeTruthy();
    expect(orgHook).toBeTruthy();
    // the other org has its own, and sets no URL: its test notification goes nowhere near this receiver
    const theirs = (await other.client.get('/api/v1/alerts/contact-points')).body;
    const theirHook = (theirs.contact_points ?? theirs.items ?? theirs).find((c: any) => c.type === 'org_webhook');
    expect(theirHook.id).not.toBe(orgHook.id);
    expect((await backend.client.put('/api/v1/org/settings', { 'notifications.webhook_url': `${base}/org-settings` })).status).toBe(200);
    expect((await backend.client.post('/api/v1/alerts/test', { contact_point_id: orgHook.id })).status).toBe(200);
    expect((await other.client.post('/api/v1/alerts/test', { contact_point_id: theirHook.id })).status).toBe(200);
    const got = await until('the test notification at the org settings URL', () => on('/org-settings')[0]);
    expect(got.body.subject).toMatch(/test/i);
    expect(got.body.orgId).toBe(backend.org.id);
    expect(got.body.data.body.status).toBe('firing');
    // a change of the setting is followed at the next send
    expect((await backend.client.put('/api/v1/org/settings', { 'notifications.webhook_url': `${base}/org-settings-2` })).status).toBe(200);
    expect((await backend.client.post('/api/v1/alerts/test', { contact_point_id: orgHook.id })).status).toBe(200);
    await until('the test notification at the new URL', () => on('/org-settings-2')[0]);
    expect(on('/org-settings')).toHaveLength(1);
    // the other org's delivery has no URL to go to: it fails and waits for a retry, recorded
    const dels = await other.client.get('/api/v1/alerts/deliveries');
    expect(dels.status).toBe(200);
    const mine = (dels.body.deliveries ?? dels.body.items).filter((d: any) => d.target === `cp:${theirHook.id}`);
    expect(mine.length).toBe(1);
    expect(mine[0].last_error).toMatch(/webhook_url is not set/);
  }, 60_000);
});
