/**
 * End to end with real time, a real HTTP receiver and a real SMTP server started
 * here: fire, group, route to email, repeat, acknowledge, silence, resolve; the
 * receiver down then up gets every delivery; dead letters redelivered; a restart
 * in the middle sends no duplicate and loses no resolve; an on-call rotation by email
 * reaches the person on call at their directory address.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';

interface Received {
  path: string;
  headers: Record<string, string>;
  raw: string;
  body: any;
  at: number;
}

class Receiver {
  received: Received[] = [];
  /** paths that answer 503 (a receiver that is down) */
  down = new Set<string>();
  server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      if (this.down.has(path)) {
        this.failures.push(String(req.headers['x-event-id']));
        res.writeHead(503).end();
        return;
      }
      this.received.push({ path, headers: req.headers as Record<string, string>, raw, body: JSON.parse(raw), at: Date.now() });
      res.writeHead(200).end('ok');
    });
  });
  failures: string[] = [];
  url = '';
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as any).port}`;
  }
  on(path: string) {
    return this.received.filter((r) => r.path === path);
  }
}

const SECRET = 'e2e-signing-secret';

describe('alerts end to end', () => {
  let backend: TestBackend;
  const receiver = new Receiver();
  const mails: Array<{ to: string[]; raw: string }> = [];
  let smtp: SMTPServer;
  let smtpPort = 0;
  let stop = false;
  let ticking: Promise<void> = Promise.resolve();
  const prevEnv = process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;

  const config = () => ({ smtp: { url: `smtp://127.0.0.1:${smtpPort}`, from: 'alerts@test.local' }, plugins: { alerts: { retryBaseSeconds: 0.5 } } });
  /** the scheduler, as the kernel runs it: the job every half second */
  const startTicking = () => {
    stop = false;
    ticking = (async () => {
      while (!stop) {
        await backend.runJob('alerts', 'tick').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
  };
  const stopTicking = async () => {
    stop = true;
    await ticking;
  };
  const until = async <T,>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 40_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await f();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const now = () => new Date().toISOString();
  let seq = 0;
  const failures = (agent: string, n: number) =>
    backend.org.insertEvents(
      Array.from({ length: n }, () => ({
        event_id: `e2e-${seq++}`,
        event_type: 'agent_invocation',
        timestamp: now(),
        user_id: 'u1',
        department_id: 'd1',
        agent_name: agent,
        status: 'failure',
        execution_time_ms: 10,
      })),
    );

  let cpHook = '';
  let cpMail = '';
  let cpRepeat = '';
  let cpDown = '';

  beforeAll(async () => {
    process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = 'true';
    await receiver.start();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, cb) {
        let raw = '';
        stream.on('data', (c) => (raw += c));
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as any).port;
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'], config: config() });
    const c = backend.client;
    cpHook = (await c.post('/api/v1/alerts/contact-points', { name: 'ops hook', type: 'webhook', settings: { url: `${receiver.url}/hook`, secret: SECRET } })).body.id;
    cpMail = (await c.post('/api/v1/alerts/contact-points', { name: 'ops mail', type: 'email', settings: { addresses: ['oncall@example.com'] } })).body.id;
    cpRepeat = (await c.post('/api/v1/alerts/contact-points', { name: 'repeat hook', type: 'webhook', settings: { url: `${receiver.url}/repeat` } })).body.id;
    cpDown = (await c.post('/api/v1/alerts/contact-points', { name: 'flaky hook', type: 'webhook', settings: { url: `${receiver.url}/down`, secret: SECRET } })).body.id;
    const policy = await c.put('/api/v1/alerts/policy', {
      contact_point_id: cpHook,
      group_by: ['alertname'],
      group_wait_seconds: 1,
      group_interval_seconds: 1,
      repeat_interval_seconds: 3600,
      routes: [
        { matchers: [{ label: 'agent_name', op: '=', value: 'planner' }], contact_point_id: cpMail, continue: true },
        { matchers: [{ label: 'alertname', op: '=', value: 'always' }], contact_point_id: cpRepeat, repeat_interval_seconds: 2 },
        { matchers: [{ label: 'alertname', op: '=~', value: 'flaky.*' }], contact_point_id: cpDown },
        // a matching route stops the walk (planner's continue only tries the siblings): the rest goes to the hook here
        { matchers: [{ label: 'alertname', op: '!~', value: 'always|flaky.*' }], contact_point_id: cpHook },
      ],
    });
    expect(policy.status).toBe(200);
    startTicking();
    // the kernel with every store embedded starts in seconds alone, in minutes on a busy shared machine
  }, 300_000);

  afterAll(async () => {
    await stopTicking();
    await backend?.close();
    receiver.server.close();
    smtp?.close();
    if (prevEnv === undefined) delete process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
    else process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = prevEnv;
  });

  it('fires one grouped, signed notification per group, emails the planner route, survives a restart without a duplicate and sends the resolve', async () => {
    // one insert for both agents: their events leave the 15-s window in the same evaluation, so one resolve carries both
    await backend.org.insertEvents(
      [...Array(3).fill('planner'), ...Array(2).fill('coder')].map((agent: string) => ({
        event_id: `e2e-${seq++}`, event_type: 'agent_invocation', timestamp: now(), user_id: 'u1', department_id: 'd1', agent_name: agent, status: 'failure', execution_time_ms: 10,
      })),
    );
    const r = await backend.client.post('/api/v1/alerts/rules', {
      name: 'agent failures',
      query: { event_type: 'agent_invocation', measure: 'count', where: { status: 'failure' }, group_by: ['agent_name'] },
      window_seconds: 15,
      condition: { op: 'gt', threshold: 0 },
      interval_seconds: 10,
      labels: { team: 'data' },
      annotations: { summary: '{{ $labels.agent_name }} failed {{ $value }} times' },
    });
    expect(r.status).toBe(200);
    const ruleId = r.body.id;

    const firing = await until('the firing notification', () => receiver.on('/hook').find((x) => x.body.status === 'firing' && x.body.commonLabels.alertname === 'agent failures'));
    // the exact body of API.md, grouped by alertname: both agents in one notification
    expect(Object.keys(firing.body).sort()).toEqual(['alerts', 'commonLabels', 'groupKey', 'groupLabels', 'receiver', 'status']);
    expect(firing.body).toMatchObject({ status: 'firing', receiver: 'ops hook', groupLabels: { alertname: 'agent failures' }, commonLabels: { alertname: 'agent failures', team: 'data' } });
    const alerts = [...firing.body.alerts].sort((a: any, b: any) => a.labels.agent_name.localeCompare(b.labels.agent_name));
    expect(alerts.map((a: any) => [a.status, a.labels.agent_name, a.values.value, a.annotations.summary])).toEqual([
      ['firing', 'coder', 2, 'coder failed 2 times'],
      ['firing', 'planner', 3, 'planner failed 3 times'],
    ]);
    for (const a of alerts) expect(Object.keys(a).sort()).toEqual(['annotations', 'endsAt', 'fingerprint', 'labels', 'startsAt', 'status', 'values']);
    // headers: event id, retry count, and an HMAC of the exact body
    expect(firing.headers['x-event-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(firing.headers['x-retry-count']).toBe('0');
    expect(firing.headers['x-orrery-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(firing.raw).digest('hex')}`);

    // the planner route continues: an email for planner as well
    const mail = await until('the planner email', () => mails.find((m) => m.raw.includes('planner')));
    expect(mail.to).toEqual(['oncall@example.com']);
    expect(mail.raw).toMatch(/Subject: \[FIRING:1\] agent failures/);

    const state = await backend.client.get(`/api/v1/alerts/rules/${ruleId}`);
    expect(state.body.state).toBe('firing');
    expect(state.body.instances.map((i: any) => i.labels.agent_name).sort()).toEqual(['coder', 'planner']);

    // restart in the middle: same data, the group's state was persisted
    await stopTicking();
    const { dataDir, config: cfg } = backend;
    await backend.close({ keepData: true });
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'], dataDir, config: { ...config(), storage: cfg.storage } });
    startTicking();

    const resolved = await until('the resolve after the restart', () => receiver.on('/hook').find((x) => x.body.status === 'resolved' && x.body.commonLabels.alertname === 'agent failures'));
    expect(resolved.body.alerts.map((a: any) => a.status)).toEqual(['resolved', 'resolved']);
    expect(resolved.body.alerts.every((a: any) => a.endsAt)).toBe(true);
    const firingCount = receiver.on('/hook').filter((x) => x.body.status === 'firing' && x.body.commonLabels.alertname === 'agent failures').length;
    expect(firingCount).toBe(1);
    // every delivery arrived once
    const ids = receiver.received.map((x) => x.headers['x-event-id']);
    expect(new Set(ids).size).toBe(ids.length);

    const history = await backend.client.get('/api/v1/alerts/history', { rule_id: ruleId });
    const kinds = history.body.history.map((h: any) => `${h.kind}:${h.to_state}`);
    expect(kinds).toContain('state:firing');
    expect(kinds).toContain('state:normal');
    expect(kinds).toContain('notification:firing');
    expect(kinds).toContain('notification:resolved');
  }, 120_000);

  it('repeats a firing group on repeat_interval until acknowledged; a silence keeps another rule quiet', async () => {
    await failures('reviewer', 1);
    const always = await backend.client.post('/api/v1/alerts/rules', {
      name: 'always',
      query: { event_type: 'agent_invocation', measure: 'count' },
      window_seconds: 3600,
      condition: { op: 'gte', threshold: 1 },
      interval_seconds: 10,
    });
    await backend.client.post('/api/v1/alerts/silences', { matchers: [{ label: 'alertname', op: '=~', value: 'silenced.*' }], starts_at: now(), ends_at: new Date(Date.now() + 3_600_000).toISOString(), comment: 'maintenance' });
    const silenced = await backend.client.post('/api/v1/alerts/rules', {
      name: 'silenced rule',
      query: { event_type: 'agent_invocation', measure: 'count' },
      window_seconds: 3600,
      condition: { op: 'gte', threshold: 1 },
      interval_seconds: 10,
    });
    await until('three notifications of the repeating group', () => receiver.on('/repeat').length >= 3);
    const repeats = receiver.on('/repeat');
    expect(repeats.every((x) => x.body.status === 'firing')).toBe(true);
    // the repeats are the same alert, not new ones
    expect(new Set(repeats.map((x) => x.body.alerts[0].fingerprint)).size).toBe(1);

    const rule = (await backend.client.get(`/api/v1/alerts/rules/${always.body.id}`)).body;
    const ack = await backend.client.post(`/api/v1/alerts/rules/${always.body.id}/instances/${rule.instances[0].fingerprint}/ack`, {});
    expect(ack.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500)); // a send already queued may still go
    const afterAck = receiver.on('/repeat').length;
    await new Promise((r) => setTimeout(r, 5000));
    expect(receiver.on('/repeat').length).toBe(afterAck);

    // the silenced rule fires (the widget shows it, marked silenced) but nothing is sent for it
    const firing = await until('the silenced rule firing', async () => {
      const f = await backend.client.get('/api/v1/alerts/firing');
      return f.body.alerts.find((a: any) => a.rule_id === silenced.body.id);
    });
    expect(firing.silenced).toBe(true);
    // a count is a plain number; a failure rate against a threshold is a share, written as a percentage
    expect(firing.value_unit).toBeNull();
    const rate = await backend.client.post('/api/v1/alerts/rules', {
      name: 'silenced rate',
      query: { event_type: 'agent_invocation', measure: 'rate', rate_where: { status: 'failure' } },
      window_seconds: 3600,
      condition: { op: 'gt', threshold: 0 },
      interval_seconds: 10,
    });
    expect(rate.status, rate.text).toBe(200);
    const rated = await until('the rate rule firing', async () => (await backend.client.get('/api/v1/alerts/firing')).body.alerts.find((a: any) => a.rule_id === rate.body.id));
    expect(rated.value_unit).toBe('ratio');
    expect(rated.value).toBeGreaterThan(0);
    expect(rated.value).toBeLessThanOrEqual(1);
    await backend.client.post(`/api/v1/alerts/rules/${rate.body.id}/pause`, { paused: true });
    await new Promise((r) => setTimeout(r, 3000));
    expect(receiver.received.some((x) => x.body.commonLabels?.alertname === 'silenced rule')).toBe(false);
    await backend.client.post(`/api/v1/alerts/rules/${silenced.body.id}/pause`, { paused: true });
    await backend.client.post(`/api/v1/alerts/rules/${always.body.id}/pause`, { paused: true });
  }, 120_000);

  it('a receiver down for a while gets every delivery later, in order; a dead letter is redelivered by an Admin', async () => {
    receiver.down.add('/down');
    await failures('flaky', 1);
    const r = await backend.client.post('/api/v1/alerts/rules', {
      name: 'flaky receiver',
      query: { event_type: 'agent_invocation', measure: 'count', where: { agent_name: 'flaky' } },
      window_seconds: 12,
      condition: { op: 'gte', threshold: 1 },
      interval_seconds: 10,
    });
    // with a 0.5 s base the retries come after 0.5, 2 and 8 s: bring it back after two failures
    await until('two failed attempts', () => receiver.failures.length >= 2);
    receiver.down.delete('/down');
    const got = await until('the firing delivery after the receiver came back', () => receiver.on('/down').find((x) => x.body.status === 'firing'));
    expect(Number(got.headers['x-retry-count'])).toBeGreaterThanOrEqual(2);
    expect(got.headers['x-retry-after']).toBeDefined();
    expect(receiver.failures).toContain(got.headers['x-event-id']);
    // then the resolve, after the firing one
    const resolved = await until('the resolve', () => receiver.on('/down').find((x) => x.body.status === 'resolved'));
    expect(resolved.at).toBeGreaterThanOrEqual(got.at);

    // down for good: 1 try + 3 retries, then a dead letter
    receiver.down.add('/down');
    const test = await backend.client.post('/api/v1/admin/alerts/test', { contact_point_id: cpDown });
    expect(test.status).toBe(200);
    const dead = await until('a dead letter', async () => {
      const d = await backend.client.get('/api/v1/alerts/deliveries', { status: 'dead' });
      return d.body.deliveries.find((x: any) => x.id === test.body.id);
    }, 30_000);
    expect(dead).toMatchObject({ attempts: 4, last_error: 'HTTP 503', event: 'alert.test' });
    receiver.down.delete('/down');
    expect((await backend.client.post(`/api/v1/alerts/deliveries/${test.body.id}/redeliver`, {})).status).toBe(200);
    const again = await until('the redelivered test notification', () => receiver.on('/down').find((x) => x.headers['x-event-id'] === test.body.id));
    expect(again.body.commonLabels.alertname).toBe('TestAlert');
    await backend.client.delete(`/api/v1/alerts/rules/${r.body.id}`);
  }, 120_000);

  it('delivers alert.firing to a platform-event webhook subscription', async () => {
    const sub = await backend.client.post('/api/v1/webhooks', { url: `${receiver.url}/platform`, events: ['alert.firing'], secret: SECRET });
    expect(sub.status).toBe(200);
    await failures('platform', 1);
    await backend.client.post('/api/v1/alerts/rules', {
      name: 'platform events',
      query: { event_type: 'agent_invocation', measure: 'count', where: { agent_name: 'platform' } },
      window_seconds: 600,
      condition: { op: 'gte', threshold: 1 },
      interval_seconds: 10,
    });
    const got = await until('the alert.firing platform event', () => receiver.on('/platform').find((x) => x.body.event === 'alert.firing' && x.body.data.rule_name === 'platform events'));
    expect(got.body.data).toMatchObject({ rule_name: 'platform events', labels: { alertname: 'platform events' }, value: 1 });
    expect(got.headers['x-orrery-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(got.raw).digest('hex')}`);
  }, 60_000);

  it('escalates a group nobody acknowledged to the next contact point, and not one that was acknowledged', async () => {
    const cpEsc = (await backend.client.post('/api/v1/alerts/contact-points', { name: 'escalation hook', type: 'webhook', settings: { url: `${receiver.url}/escalated` } })).body.id;
    const policy = (await backend.client.get('/api/v1/alerts/policy')).body.policy;
    policy.routes.unshift({ matchers: [{ label: 'alertname', op: '=~', value: 'escalate.*' }], contact_point_id: cpHook, escalation: [{ after_seconds: 3, contact_point_id: cpEsc }] });
    expect((await backend.client.put('/api/v1/alerts/policy', policy)).status).toBe(200);
    await failures('escalate', 1);
    const rule = (name: string) => ({ name, query: { event_type: 'agent_invocation', measure: 'count', where: { agent_name: 'escalate' } }, window_seconds: 3600, condition: { op: 'gte', threshold: 1 }, interval_seconds: 10 });
    const quiet = await backend.client.post('/api/v1/alerts/rules', rule('escalate acked'));
    const loud = await backend.client.post('/api/v1/alerts/rules', rule('escalate ignored'));
    // acknowledge the first as soon as it fires
    const fp = await until('the acked rule firing', async () => (await backend.client.get(`/api/v1/alerts/rules/${quiet.body.id}`)).body.instances[0]?.fingerprint);
    expect((await backend.client.post(`/api/v1/alerts/rules/${quiet.body.id}/instances/${fp}/ack`, {})).status).toBe(200);
    const esc = await until('the escalation', () => receiver.on('/escalated').find((x) => x.body.commonLabels.alertname === 'escalate ignored'));
    expect(esc.body).toMatchObject({ status: 'firing', receiver: 'escalation hook' });
    await new Promise((r) => setTimeout(r, 3000));
    expect(receiver.on('/escalated').filter((x) => x.body.commonLabels.alertname === 'escalate acked')).toEqual([]);
    expect(receiver.on('/escalated').filter((x) => x.body.commonLabels.alertname === 'escalate ignored')).toHaveLength(1);
    await backend.client.delete(`/api/v1/alerts/rules/${quiet.body.id}`);
    await backend.client.delete(`/api/v1/alerts/rules/${loud.body.id}`);
  }, 60_000);

  it('sends to Slack and in-app contact points', async () => {
    const me = (await backend.client.get('/api/v1/me')).body.user.id;
    const slack = (await backend.client.post('/api/v1/alerts/contact-points', { name: 'slack', type: 'slack', settings: { url: `${receiver.url}/slack` } })).body.id;
    const inApp = (await backend.client.post('/api/v1/alerts/contact-points', { name: 'in app', type: 'in_app', settings: { user_ids: [me] } })).body.id;
    expect((await backend.client.post('/api/v1/alerts/test', { contact_point_id: slack })).status).toBe(200);
    expect((await backend.client.post('/api/v1/alerts/test', { contact_point_id: inApp })).status).toBe(200);
    const s = await until('the Slack message', () => receiver.on('/slack')[0]);
    expect(Object.keys(s.body)).toEqual(['text']);
    expect(s.body.text).toContain('[FIRING:1] TestAlert');
    const n = await until('the in-app notification', async () => (await backend.client.get('/api/v1/notifications')).body.notifications?.find((x: any) => x.subject === '[FIRING:1] TestAlert'));
    expect(n.text).toContain('alertname=TestAlert');
  }, 60_000);
  it('emails the person on call (by SMTP, at the address the directory holds) when the rotation asks for email', async () => {
    const c = backend.client;
    const first = await backend.org.addUser({ email: 'rota.first@example.com', role: 'Developer' });
    const second = await backend.org.addUser({ email: 'rota.second@example.com', role: 'Developer' });
    const day = 86_400_000;
    // turns of 2 days from 5 days ago: turn 0 first, turn 1 second, turn 2 (now) first again — computed here
    const start = Date.now() - 5 * day;
    const rota = [first, second];
    const onCallNow = rota[Math.floor((Date.now() - start) / (2 * day)) % rota.length]!;
    const offCall = rota.find((u) => u !== onCallNow)!;
    const addressOf = (u: typeof first) => (u === first ? 'rota.first@example.com' : 'rota.second@example.com');
    const cp = await c.post('/api/v1/alerts/contact-points', { name: 'rota mail', type: 'on_call', settings: { user_ids: rota.map((u) => u.userId), rotation_start: new Date(start).toISOString(), period_days: 2, channel: 'email' } });
    expect(cp.status, JSON.stringify(cp.body)).toBe(200);
    expect((await c.get(`/api/v1/alerts/contact-points/${cp.body.id}/on-call`)).body.user_id).toBe(onCallNow.userId);

    // a firing rule routed to the rotation
    const policy = (await c.get('/api/v1/alerts/policy')).body.policy;
    policy.routes.unshift({ matchers: [{ label: 'alertname', op: '=', value: 'on call by mail' }], contact_point_id: cp.body.id });
    expect((await c.put('/api/v1/alerts/policy', policy)).status).toBe(200);
    await failures('rota', 2);
    const rule = await c.post('/api/v1/alerts/rules', { name: 'on call by mail', query: { event_type: 'agent_invocation', measure: 'count', where: { agent_name: 'rota' } }, window_seconds: 3600, condition: { op: 'gte', threshold: 2 }, interval_seconds: 10 });
    expect(rule.status).toBe(200);
    const mail = await until('the on-call email', () => mails.find((m) => /on call by mail/.test(m.raw)));
    expect(mail.to).toEqual([addressOf(onCallNow)]);
    expect(mail.raw).toMatch(/Subject: \[FIRING:1\] on call by mail/);
    // and the test notification goes the same way
    expect((await c.post('/api/v1/alerts/test', { contact_point_id: cp.body.id })).status).toBe(200);
    const test = await until('the on-call test email', () => mails.find((m) => m.to.includes(addressOf(onCallNow)) && /TestAlert/.test(m.raw)));
    expect(test.to).toEqual([addressOf(onCallNow)]);
    expect(mails.filter((m) => m.to.includes(addressOf(offCall)))).toEqual([]);
    // nobody in-app: the rotation chose email
    expect(((await onCallNow.get('/api/v1/notifications')).body.notifications ?? []).filter((n: any) => /on call by mail|TestAlert/.test(n.subject))).toEqual([]);

    // someone without a membership cannot be on an email rotation: a 400 naming the field
    const bad = await c.post('/api/v1/alerts/contact-points', { name: 'rota bad', type: 'on_call', settings: { user_ids: ['00000000-0000-4000-8000-000000000000'], rotation_start: new Date(start).toISOString(), channel: 'email' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('settings.user_ids');
    const notOnCall = await c.post('/api/v1/alerts/contact-points', { name: 'mail channel', type: 'email', settings: { addresses: ['x@example.com'], channel: 'email' } });
    expect(notOnCall.status).toBe(400);
    expect(notOnCall.body.error.details.field).toBe('settings.channel');
    await c.delete(`/api/v1/alerts/rules/${rule.body.id}`);
  }, 90_000);
});
