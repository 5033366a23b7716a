/**
 * Mute timings: the pure window check with an injected clock (zones, DST, month ends),
 * and end to end against a real HTTP receiver: a muted route sends nothing while the
 * window holds, and the group goes out once it no longer does.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { checkMuteTiming, isMuted, type MuteTiming } from '../backend/muteTimings.ts';

const at = (iso: string) => new Date(iso);

describe('isMuted', () => {
  it('reads weekday and time of day on the wall clock of the zone', () => {
    const evening: MuteTiming = { name: 'e', time_zone: 'Europe/Paris', intervals: [{ weekdays: [1, 2, 3, 4, 5], times: [{ start: '20:00', end: '21:00' }] }] };
    expect(isMuted(evening, at('2026-12-04T19:30:00Z'))).toBe(true); // Friday 20:30 in Paris
    expect(isMuted(evening, at('2026-12-04T18:30:00Z'))).toBe(false); // 19:30 in Paris
    expect(isMuted(evening, at('2026-12-04T20:00:00Z'))).toBe(false); // 21:00: the end is exclusive
    expect(isMuted(evening, at('2026-12-05T19:30:00Z'))).toBe(false); // Saturday
    // the same instant is already Saturday morning in Auckland
    expect(isMuted({ name: 'sat', time_zone: 'Pacific/Auckland', intervals: [{ weekdays: [6] }] }, at('2026-12-04T19:30:00Z'))).toBe(true);
    expect(isMuted({ name: 'sat', intervals: [{ weekdays: [6] }] }, at('2026-12-04T19:30:00Z'))).toBe(false); // UTC by default
  });

  it('follows daylight saving time', () => {
    const morning: MuteTiming = { name: 'm', time_zone: 'America/New_York', intervals: [{ times: [{ start: '09:00', end: '10:00' }] }] };
    expect(isMuted(morning, at('2026-03-06T14:30:00Z'))).toBe(true); // EST: 09:30
    expect(isMuted(morning, at('2026-03-09T13:30:00Z'))).toBe(true); // EDT: 09:30
    expect(isMuted(morning, at('2026-03-09T14:30:00Z'))).toBe(false); // EDT: 10:30
  });

  it('counts days of month from the end when negative, and checks months; any interval mutes', () => {
    const lastDay: MuteTiming = { name: 'l', intervals: [{ days_of_month: [-1] }] };
    expect(isMuted(lastDay, at('2026-02-28T12:00:00Z'))).toBe(true);
    expect(isMuted(lastDay, at('2026-02-27T12:00:00Z'))).toBe(false);
    expect(isMuted(lastDay, at('2028-02-29T12:00:00Z'))).toBe(true);
    const either: MuteTiming = { name: 'x', intervals: [{ months: [12], days_of_month: [25] }, { times: [{ start: '00:00', end: '06:00' }] }] };
    expect(isMuted(either, at('2026-12-25T12:00:00Z'))).toBe(true);
    expect(isMuted(either, at('2026-11-25T12:00:00Z'))).toBe(false);
    expect(isMuted(either, at('2026-11-25T05:59:00Z'))).toBe(true);
    expect(isMuted({ name: 'always', intervals: [{}] }, at('2026-01-01T00:00:00Z'))).toBe(true);
    expect(isMuted({ name: 'night', intervals: [{ times: [{ start: '22:00', end: '24:00' }] }] }, at('2026-01-01T23:59:00Z'))).toBe(true);
  });

  it('refuses an unknown zone and a range that ends before it starts, naming the field', () => {
    expect(() => checkMuteTiming({ name: 'z', time_zone: 'Mars/Olympus', intervals: [{}] }, 'mute_timings[0]')).toThrow(/mute_timings\[0\]\.time_zone/);
    expect(() => checkMuteTiming({ name: 'z', intervals: [{ times: [{ start: '22:00', end: '06:00' }] }] }, 'mute_timings[0]')).toThrow(/intervals\[0\]\.times\[0\]/);
  });
});

describe('mute timings end to end', () => {
  let backend: TestBackend;
  let server: Server;
  let base = '';
  const received: any[] = [];
  const prevEnv = process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
  beforeAll(async () => {
    process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = 'true';
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        received.push({ path: req.url, body: JSON.parse(raw) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as any).port}`;
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'] });
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    server?.close();
    if (prevEnv === undefined) delete process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
    else process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = prevEnv;
  });

  it('validates timings and the names the policy uses', async () => {
    const c = backend.client;
    const bad = await c.put('/api/v1/alerts/mute-timings', { mute_timings: [{ name: 'z', time_zone: 'Mars/Olympus', intervals: [{}] }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('mute_timings[0].time_zone');
    const twice = await c.put('/api/v1/alerts/mute-timings', { mute_timings: [{ name: 'a', intervals: [{}] }, { name: 'a', intervals: [{}] }] });
    expect(twice.body.error.details.field).toBe('mute_timings[1].name');
    const unknown = await c.put('/api/v1/alerts/policy', { routes: [{ matchers: [], mute_timings: ['nope'] }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.field).toBe('routes[0].mute_timings[0]');
  });

  it('a muted route sends nothing while the window holds, and the group once it ends', async () => {
    const c = backend.client;
    const cp = (await c.post('/api/v1/alerts/contact-points', { name: 'muted hook', type: 'webhook', settings: { url: `${base}/muted` } })).body.id;
    expect((await c.put('/api/v1/alerts/mute-timings', { mute_timings: [{ name: 'always', intervals: [{}] }] })).status).toBe(200);
    const policy = await c.put('/api/v1/alerts/policy', {
      contact_point_id: cp,
      group_wait_seconds: 0,
      group_interval_seconds: 1,
      routes: [{ matchers: [{ label: 'alertname', op: '=', value: 'muted rule' }], contact_point_id: cp, mute_timings: ['always'] }],
    });
    expect(policy.status).toBe(200);
    // the policy names it: it cannot be removed
    const removing = await c.put('/api/v1/alerts/mute-timings', { mute_timings: [] });
    expect(removing.status).toBe(400);
    expect(removing.body.error.details.field).toBe('mute_timings');
    await backend.org.insertEvents([{ event_id: 'mute-1', event_type: 'agent_invocation', timestamp: new Date().toISOString(), user_id: 'u', agent_name: 'a', status: 'failure' }]);
    const rule = await c.post('/api/v1/alerts/rules', { name: 'muted rule', query: { event_type: 'agent_invocation', measure: 'count' }, window_seconds: 3600, condition: { op: 'gte', threshold: 1 }, interval_seconds: 10 });
    expect(rule.status).toBe(200);
    for (let i = 0; i < 6; i++) {
      await backend.runJob('alerts', 'tick');
      await new Promise((r) => setTimeout(r, 300));
    }
    expect((await c.get(`/api/v1/alerts/rules/${rule.body.id}`)).body.state).toBe('firing');
    expect(received).toEqual([]);
    // the window no longer holds (a minute that never comes: Feb 30th)
    expect((await c.put('/api/v1/alerts/mute-timings', { mute_timings: [{ name: 'always', intervals: [{ months: [2], days_of_month: [30] }] }] })).status).toBe(200);
    const end = Date.now() + 20_000;
    while (!received.length && Date.now() < end) {
      await backend.runJob('alerts', 'tick');
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(received).toHaveLength(1);
    expect(received[0].body).toMatchObject({ status: 'firing', commonLabels: { alertname: 'muted rule' } });
  }, 60_000);
});
