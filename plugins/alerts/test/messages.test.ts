/**
 * Message templates and on-call rotations: the renderer on a notification body built here,
 * the rotation against a turn-by-turn walk from its start, and both end to end (a Slack
 * contact point posting to a real receiver, an on-call contact point notifying in-app only
 * the person whose turn it is); a bad template is a 400 naming it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { onCallUser, renderMessage, templateProblem, type AlertBody } from '../backend/messages.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const body: AlertBody = {
  status: 'firing',
  receiver: 'ops',
  groupKey: 'k',
  groupLabels: { alertname: 'errors' },
  commonLabels: { alertname: 'errors', team: 'data' },
  alerts: [
    { status: 'firing', labels: { alertname: 'errors', agent_name: 'planner' }, annotations: { summary: 'planner fails' }, values: { value: 0.25 }, startsAt: '2026-12-04T10:00:00.000Z', endsAt: null, fingerprint: 'f1' },
    { status: 'resolved', labels: { alertname: 'errors', agent_name: 'coder' }, annotations: {}, values: { value: null }, startsAt: '2026-12-04T09:00:00.000Z', endsAt: '2026-12-04T10:00:00.000Z', fingerprint: 'f2' },
  ],
};

describe('message templates and on-call rotations (pure)', () => {
  it('renders names, labels and sections', () => {
    expect(renderMessage('[{{ status }}] {{alertname}} for {{ commonLabels.team }}: {{ count_firing }} firing, {{ count_resolved }} resolved', body)).toBe(
      '[firing] errors for data: 1 firing, 1 resolved',
    );
    expect(renderMessage('{{#alerts}}{{ labels.agent_name }}={{ value }} ({{ status }});{{/alerts}}', body)).toBe('planner=0.25 (firing);coder=no data (resolved);');
    expect(renderMessage('{{#firing}}- {{ annotations.summary }} since {{ startsAt }}{{/firing}}{{#resolved}} / {{ labels.agent_name }} ok at {{ endsAt }}{{/resolved}}', body)).toBe(
      '- planner fails since 2026-12-04T10:00:00.000Z / coder ok at 2026-12-04T10:00:00.000Z',
    );
    expect(renderMessage('{{ groupLabels.missing }}|{{#alerts}}{{ labels.missing }}{{/alerts}}', body)).toBe('|');
  });

  it('refuses unknown names and broken sections', () => {
    expect(templateProblem('{{ status }} {{#alerts}}{{ labels.x }}{{/alerts}}')).toBeNull();
    expect(templateProblem('{{ stauts }}')).toContain('stauts');
    expect(templateProblem('{{#alerts}}{{ receiver }}{{/alerts}}')).toContain('receiver');
    expect(templateProblem('{{#alerts}}{{ status }}')).toContain('section');
    expect(templateProblem('{{ status')).toContain('not closed');
  });

  it('the person on call is the one whose turn holds the instant, walking turns from the start', () => {
    const r = rng(5);
    for (let k = 0; k < 200; k++) {
      const users = Array.from({ length: 1 + Math.floor(r() * 5) }, (_, i) => `u${i}`);
      const start = Date.parse('2026-01-05T09:00:00Z') + Math.floor(r() * 1e9);
      const days = [1, 7, 14, 0.5][Math.floor(r() * 4)]!;
      const at = start + Math.floor((r() - 0.3) * 200 * 86_400_000);
      // the walk: step turn by turn (backwards before the start) until the turn holds `at`
      let turnStart = start;
      let who = 0;
      const period = days * 86_400_000;
      while (at >= turnStart + period) {
        turnStart += period;
        who = (who + 1) % users.length;
      }
      while (at < turnStart) {
        turnStart -= period;
        who = (who - 1 + users.length) % users.length;
      }
      expect(onCallUser({ user_ids: users, rotation_start: new Date(start).toISOString(), period_days: days }, new Date(at))).toBe(users[who]);
    }
  });
});

describe('message templates and on-call contact points end to end', () => {
  let backend: TestBackend;
  let server: Server;
  let base = '';
  const received: Array<{ path: string; body: any }> = [];
  const prevEnv = process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
  const until = async <T,>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      await backend.runJob('alerts', 'tick');
      const v = await f();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = 'true';
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        received.push({ path: req.url ?? '/', body: JSON.parse(raw) });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as any).port}`;
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'] });
  }, 300_000);
  afterAll(async () => {
    await backend?.close();
    server?.close();
    if (prevEnv === undefined) delete process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
    else process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = prevEnv;
  });

  it('a Slack contact point and a webhook send the rendered templates', async () => {
    const c = backend.client;
    const settings = { title_template: '{{ alertname }} is {{ status }}', text_template: '{{#firing}}* {{ annotations.summary }}{{/firing}}' };
    const slack = await c.post('/api/v1/alerts/contact-points', { name: 'templated slack', type: 'slack', settings: { url: `${base}/slack`, ...settings } });
    expect(slack.status, JSON.stringify(slack.body)).toBe(200);
    const hook = await c.post('/api/v1/alerts/contact-points', { name: 'templated hook', type: 'webhook', settings: { url: `${base}/hook`, ...settings } });
    expect((await c.post('/api/v1/alerts/test', { contact_point_id: slack.body.id })).status).toBe(200);
    expect((await c.post('/api/v1/alerts/test', { contact_point_id: hook.body.id })).status).toBe(200);
    const s = await until('the Slack message', () => received.find((x) => x.path === '/slack'));
    expect(s.body).toEqual({ text: '*TestAlert is firing*\n* A test notification from Orrery' });
    const h = await until('the webhook', () => received.find((x) => x.path === '/hook'));
    expect(h.body).toMatchObject({ status: 'firing', title: 'TestAlert is firing', message: '* A test notification from Orrery', commonLabels: { alertname: 'TestAlert' } });

    const preview = await c.post('/api/v1/alerts/contact-points/render', settings);
    expect(preview.body).toEqual({ title: 'High error rate is firing', text: '* planner failed 12% of invocations' });
    const bad = await c.post('/api/v1/alerts/contact-points', { name: 'bad', type: 'slack', settings: { url: `${base}/x`, text_template: '{{#alerts}}{{ nope }}{{/alerts}}' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('settings.text_template');
    const badPreview = await c.post('/api/v1/alerts/contact-points/render', { title_template: '{{ whatever }}' });
    expect(badPreview.status).toBe(400);
    expect(badPreview.body.error.details.field).toBe('title_template');
  });

  it('an on-call contact point notifies in-app only the person whose turn it is', async () => {
    const c = backend.client;
    const me = (await c.get('/api/v1/me')).body.user.id as string;
    const colleague = await backend.org.addUser({ email: 'oncall.colleague@example.com', role: 'Manager' });
    const week = 7 * 86_400_000;
    // started 3.5 weeks ago: now is turn 3, the second person's in a rotation of two
    const start = new Date(Date.now() - 3.5 * week).toISOString();
    const mine = await c.post('/api/v1/alerts/contact-points', { name: 'rotation mine', type: 'on_call', settings: { user_ids: [colleague.userId, me], rotation_start: start } });
    expect(mine.status, JSON.stringify(mine.body)).toBe(200);
    const theirs = await c.post('/api/v1/alerts/contact-points', { name: 'rotation theirs', type: 'on_call', settings: { user_ids: [me, colleague.userId], rotation_start: start, period_days: 7 } });
    const now = await c.get(`/api/v1/alerts/contact-points/${mine.body.id}/on-call`);
    expect(now.body.user_id).toBe(onCallUser({ user_ids: [colleague.userId, me], rotation_start: start }, new Date()));
    expect(now.body.user_id).toBe(me);
    expect(Date.parse(now.body.turn_ends_at)).toBe(Date.parse(start) + 4 * week);

    expect((await c.post('/api/v1/alerts/test', { contact_point_id: theirs.body.id })).status).toBe(200);
    expect((await c.post('/api/v1/alerts/test', { contact_point_id: mine.body.id })).status).toBe(200);
    await until('both deliveries sent', async () => {
      const d = (await c.get('/api/v1/alerts/deliveries')).body.deliveries ?? [];
      return d.filter((x: any) => x.event === 'alert.test' && x.status === 'sent').length >= 4;
    });
    const mineList = (await c.get('/api/v1/notifications')).body.notifications.filter((x: any) => x.subject === '[FIRING:1] TestAlert');
    // the first test (theirs) went to the colleague: only one reached me
    expect(mineList).toHaveLength(1);
    const theirList = (await colleague.get('/api/v1/notifications')).body.notifications.filter((x: any) => x.subject === '[FIRING:1] TestAlert');
    expect(theirList).toHaveLength(1);

    const missing = await c.post('/api/v1/alerts/contact-points', { name: 'no start', type: 'on_call', settings: { user_ids: [me] } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.field).toBe('settings.rotation_start');
  });
});
