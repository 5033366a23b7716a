/**
 * Rules over the signals other parts publish: ingestion's data-quality conditions and
 * adoption's support flags, driven by random message sequences on the real bus and checked
 * against the state the sequence implies; a firing data-quality rule reaches a real HTTP
 * receiver through the policy tree; an invalid event sent to ingestion reaches an
 * `event.quarantined` subscription. Per org only.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { DATA_QUALITY_CONDITIONS } from '../backend/signals.ts';

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

describe('signal rules', () => {
  let backend: TestBackend;
  let other: TestOrg;
  let server: Server;
  let base = '';
  const received: Array<{ path: string; body: any }> = [];
  const prevEnv = process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
  const publish = (orgId: string, topic: string, payload: unknown, scope: any = { kind: 'org' }) => backend.kernel.container.cradle.bus.publish(orgId, scope, topic, payload);
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
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'], config: { plugins: { alerts: { retryBaseSeconds: 0.3 } } } });
    other = await backend.createOrg('alerts-signals-other');
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    server?.close();
    if (prevEnv === undefined) delete process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
    else process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = prevEnv;
  });

  it('data-quality rules follow the last state ingestion reported per condition, and their alerts are routed', async () => {
    const c = backend.client;
    const cp = (await c.post('/api/v1/alerts/contact-points', { name: 'dq hook', type: 'webhook', settings: { url: `${base}/dq` } })).body.id;
    expect((await c.put('/api/v1/alerts/policy', { contact_point_id: cp, group_by: ['alertname'], group_wait_seconds: 0, group_interval_seconds: 1, repeat_interval_seconds: 3600 })).status).toBe(200);
    const ids: Record<string, string> = {};
    for (const cond of DATA_QUALITY_CONDITIONS) {
      const r = await c.post(`/api/v1/alerts/templates/data-quality-${cond.replace('_', '-')}`, {});
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      ids[cond] = r.body.id;
    }
    // one rule watching all four: one instance per condition
    const all = await c.post('/api/v1/alerts/rules', { name: 'any data quality', source: { kind: 'data_quality' }, window_seconds: 60, condition: { op: 'gte', threshold: 1 }, interval_seconds: 10 });
    expect(all.status, JSON.stringify(all.body)).toBe(200);

    const r = rng(7);
    const last: Record<string, 'firing' | 'resolved'> = {};
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 30; i++) {
      const cond = DATA_QUALITY_CONDITIONS[Math.floor(r() * 4)]!;
      const state = r() < 0.5 ? 'firing' : 'resolved';
      last[cond] = state;
      await publish(backend.org.id, 'ingestion.quality', { condition: cond, state, value: r(), threshold: 0.1, window: '5m', message: `${cond} ${state}`, at: new Date(t0 + i * 1000).toISOString() });
    }
    // the other org's conditions all fire: nothing of it reaches this org
    for (const cond of DATA_QUALITY_CONDITIONS) await publish(other.id, 'ingestion.quality', { condition: cond, state: 'firing', value: 1, threshold: 0.1, window: '5m', message: 'x', at: new Date().toISOString() });
    // a malformed message is ignored
    await publish(backend.org.id, 'ingestion.quality', { condition: 'bogus', state: 'firing' });
    await new Promise((res) => setTimeout(res, 300));
    await backend.runJob('alerts', 'tick');

    const expectFiring = DATA_QUALITY_CONDITIONS.filter((x) => last[x] === 'firing');
    for (const cond of DATA_QUALITY_CONDITIONS) {
      const rule = (await c.get(`/api/v1/alerts/rules/${ids[cond]}`)).body;
      expect(rule.state, cond).toBe(last[cond] === 'firing' ? 'firing' : 'normal');
    }
    const allRule = (await c.get(`/api/v1/alerts/rules/${all.body.id}`)).body;
    expect(allRule.instances.filter((i: any) => i.state === 'firing').map((i: any) => i.labels.condition).sort()).toEqual([...expectFiring].sort());
    expect(allRule.query).toBeNull();
    expect(allRule.source).toEqual({ kind: 'data_quality' });

    if (expectFiring.length) {
      const got = await until('the routed data-quality alert', () => received.find((x) => x.path === '/dq' && x.body.commonLabels?.alertname === 'any data quality'));
      expect(got.body.status).toBe('firing');
      expect(got.body.alerts.map((a: any) => a.labels.condition).sort()).toEqual([...expectFiring].sort());
      expect(got.body.commonLabels).toMatchObject({ alertname: 'any data quality' });
    }
    // resolving every condition resolves every rule
    for (const cond of DATA_QUALITY_CONDITIONS) await publish(backend.org.id, 'ingestion.quality', { condition: cond, state: 'resolved', value: 0, threshold: 0.1, window: '5m', message: 'ok', at: new Date().toISOString() });
    await new Promise((res) => setTimeout(res, 300));
    // rules are evaluated on their interval: make them due now
    for (const id of [...Object.values(ids), all.body.id]) await c.post(`/api/v1/alerts/rules/${id}/pause`, { paused: false });
    await backend.runJob('alerts', 'tick');
    for (const id of [...Object.values(ids), all.body.id]) expect((await c.get(`/api/v1/alerts/rules/${id}`)).body.state).toBe('normal');
    // the other org has no such rules and so no instances
    expect((await other.client.get('/api/v1/alerts/rules')).body.rules).toEqual([]);
  }, 90_000);

  it('users newly needing support: distinct users raised on the org scope within the window', async () => {
    const c = backend.client;
    const r = rng(11);
    const raised = new Set<string>();
    for (let i = 0; i < 25; i++) {
      const user = `u${Math.floor(r() * 8)}`;
      const kind = r() < 0.7 ? 'raised' : 'resolved';
      const orgScope = r() < 0.8;
      if (kind === 'raised' && orgScope) raised.add(user);
      await publish(backend.org.id, 'adoption.flags', { kind, flag_id: `f${i}`, user_id: user, day: '2026-12-01' }, orgScope ? { kind: 'org' } : { kind: 'department', id: 'd1' });
    }
    await publish(other.id, 'adoption.flags', { kind: 'raised', flag_id: 'x', user_id: 'someone-else', day: '2026-12-01' });
    await new Promise((res) => setTimeout(res, 300));
    const made = await c.post('/api/v1/alerts/templates/users-need-support', { params: { hours: 1, min_users: raised.size } });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const stricter = await c.post('/api/v1/alerts/templates/users-need-support', { name: 'many need support', params: { hours: 1, min_users: raised.size + 1 } });
    await backend.runJob('alerts', 'tick');
    const rule = (await c.get(`/api/v1/alerts/rules/${made.body.id}`)).body;
    expect(rule.state).toBe(raised.size > 0 ? 'firing' : 'normal');
    if (raised.size) expect(rule.instances[0].value).toBe(raised.size);
    expect((await c.get(`/api/v1/alerts/rules/${stricter.body.id}`)).body.state).toBe('normal');
  });

  it('refuses a rule with both or neither of query and source, naming query', async () => {
    const c = backend.client;
    const both = await c.post('/api/v1/alerts/rules', { name: 'x', source: { kind: 'support_flags' }, query: { event_type: 'agent_invocation', measure: 'count' }, window_seconds: 60, condition: { op: 'gt', threshold: 0 }, interval_seconds: 60 });
    expect(both.status).toBe(400);
    expect(both.body.error.details.field).toBe('query');
    const neither = await c.post('/api/v1/alerts/rules', { name: 'x', window_seconds: 60, condition: { op: 'gt', threshold: 0 }, interval_seconds: 60 });
    expect(neither.status).toBe(400);
    expect(neither.body.error.details.field).toBe('query');
    const badSource = await c.post('/api/v1/alerts/rules', { name: 'x', source: { kind: 'weather' }, window_seconds: 60, condition: { op: 'gt', threshold: 0 }, interval_seconds: 60 });
    expect(badSource.status).toBe(400);
    expect(JSON.stringify(badSource.body.error)).toContain('source');
  });

  it('an invalid event sent to ingestion reaches an event.quarantined subscription of its org only', async () => {
    expect((await backend.client.post('/api/v1/webhooks', { url: `${base}/quarantine`, events: ['event.quarantined'] })).status).toBe(200);
    expect((await other.client.post('/api/v1/webhooks', { url: `${base}/quarantine-other`, events: ['event.quarantined'] })).status).toBe(200);
    const hook = await backend.org.hookToken();
    const events = [
      { event_id: 'q-ok-1', event_type: 'agent_invocation', timestamp: new Date().toISOString(), user_id: 'u1', agent_name: 'planner', status: 'success', execution_time_ms: 5 },
      { event_id: 'q-bad-1', event_type: 'agent_invocation', timestamp: 'not a time', user_id: 'u1' },
      { event_id: 'q-bad-2', event_type: 'no_such_type', timestamp: new Date().toISOString() },
    ];
    const res = await backend.kernel.app.inject({ method: 'POST', url: '/api/v1/events/batch', headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' }, payload: JSON.stringify({ events }) });
    expect(res.statusCode).toBeLessThan(300);
    const invalid = JSON.parse(res.body).results.filter((x: any) => x.status === 'invalid');
    expect(invalid.map((x: any) => x.event_id)).toEqual(expect.arrayContaining(['q-bad-1', 'q-bad-2']));
    const got = await until('event.quarantined', () => received.find((x) => x.path === '/quarantine'));
    expect(got.body).toMatchObject({ event: 'event.quarantined', org_id: backend.org.id, data: { count: invalid.length, source: 'batch' } });
    expect(got.body.data.events.map((e: any) => e.event_id).sort()).toEqual(invalid.map((x: any) => x.event_id).sort());
    expect(got.body.data.events.map((e: any) => e.quarantine_id).sort()).toEqual(invalid.map((x: any) => x.quarantine_id).sort());
    expect(received.filter((x) => x.path === '/quarantine-other')).toEqual([]);
  });
  it('the daily prune drops signals older than the longest window, keeping each condition\'s latest state', async () => {
    // an org of its own: ingestion may have published current conditions for the others
    const org = await backend.createOrg('alerts-signals-prune');
    const r = rng(11);
    const day = 86_400_000;
    const now = Date.now();
    const old = (d: number) => new Date(now - d * day).toISOString();
    let expected = 0;
    // support flags: anything older than 90 days goes
    for (let i = 0; i < 30; i++) {
      const age = Math.floor(r() * 180);
      await publish(org.id, 'adoption.flags', { kind: 'raised', flag_id: `p${i}`, user_id: `u${i}`, day: '2026-01-01', at: old(age + 0.5) });
      if (age + 0.5 > 90) expected++;
    }
    // data quality: older than 90 days goes, except the latest message of each condition
    for (const cond of DATA_QUALITY_CONDITIONS) {
      const ages = Array.from({ length: 1 + Math.floor(r() * 6) }, () => Math.floor(r() * 200) + 0.5);
      const newest = Math.min(...ages);
      ages.forEach((age, i) => {
        if (age > 90 && !(age === newest && ages.indexOf(newest) === i)) expected++;
      });
      for (const age of ages) await publish(org.id, 'ingestion.quality', { condition: cond, state: r() < 0.5 ? 'firing' : 'resolved', value: 1, threshold: 0.1, window: '5m', message: 'm', at: old(age) });
    }
    // the bus handler stores messages asynchronously: prune until everything expected is gone
    let removed = 0;
    await until('old signals pruned', async () => {
      const res: any = await backend.runJob('alerts', 'prune-signals');
      removed += res[org.slug]?.removed ?? 0;
      return removed >= expected;
    });
    expect(removed).toBe(expected);
    const again: any = await backend.runJob('alerts', 'prune-signals');
    expect(again[org.slug]).toEqual({ removed: 0 });
  });
});
