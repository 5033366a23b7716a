/**
 * Platform health against references the test computes itself: the latency series of a
 * route the test slows, the counts of requests it made, dashboard loads it reports with
 * random durations, and a random sequence of ingestion requests walked through a plain
 * model of the tier's limits (accepted until limit × 1.2, then refused whole).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import healthPlugin from '../backend/index.ts';
import { linearProjection } from '../backend/capacity.ts';
import metricsPlugin from '../../metrics/backend/index.ts';
import alertsPlugin from '../../alerts/backend/index.ts';

const SLOW_MS = 120;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A plugin with one fast route and one the test slows down. */
const probe = definePlugin({
  id: 'slow-probe',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Slow probe',
  description: 'a fast and a slow route',
  routePrefix: 'slow-probe',
  permissions: { 'slow-probe.read': ['Admin', 'Manager', 'Developer'] },
  register(env) {
    const ok = { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } };
    env.route({ method: 'GET', path: '/fast', permission: 'slow-probe.read', summary: 'fast', schema: { response: ok }, handler: async () => ({ ok: true }) });
    env.route({
      method: 'GET',
      path: '/slow',
      permission: 'slow-probe.read',
      summary: 'slow',
      schema: { response: ok },
      handler: async () => {
        await sleep(SLOW_MS);
        return { ok: true };
      },
    });
  },
});

/** Same interpolation as the collector's: a reference, not the code under test. */
function refQuantile(values: number[], q: number) {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
}

const serverMs = (h: Record<string, unknown>) => Number(/dur=([\d.]+)/.exec(String(h['server-timing']))![1]);

let b: TestBackend;
let other: TestOrg;

beforeAll(async () => {
  b = await startTestBackend({ plugins: [healthPlugin, probe, metricsPlugin, alertsPlugin], config: { usage: { tiers: { strict: { eventsPerMonth: 10, users: 3 } } }, plugins: { 'platform-health': { nodeSampleMinSeconds: 0 } } } });
  other = await b.createOrg('other-org');
}, 120_000);
afterAll(async () => {
  await b?.close();
});

const range = () => ({ from: new Date(Date.now() - 10 * 60_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() });

describe('the platform series', () => {
  it('a slowed route shows in its latency series; counts match the requests made', async () => {
    const durations: Record<'fast' | 'slow', number[]> = { fast: [], slow: [] };
    const plan = [...Array(24)].map(() => (Math.random() < 0.3 ? 'slow' : 'fast') as 'fast' | 'slow');
    plan.push('slow', 'fast');
    for (const which of plan) {
      const r = await b.client.get(`/api/v1/slow-probe/${which}`);
      expect(r.status).toBe(200);
      durations[which].push(serverMs(r.headers));
    }
    // the other org's requests count in the platform's series but never in this org's
    const otherCalls = 3 + Math.floor(Math.random() * 4);
    for (let i = 0; i < otherCalls; i++) expect((await other.client.get('/api/v1/slow-probe/fast')).status).toBe(200);

    await b.runJob('platform-health', 'sample');

    const p95 = await b.client.get('/api/v1/platform-health/series', { series: 'http_p95_ms', scope: 'platform', step: 'minute', ...range() });
    expect(p95.status, p95.text).toBe(200);
    const val = (a: any, key: string) => Math.max(...a.keys.find((k: any) => k.key === key).points.map((p: any) => p.value));
    const slow = val(p95.body, 'route:GET /api/v1/slow-probe/slow');
    const fast = val(p95.body, 'route:GET /api/v1/slow-probe/fast');
    // onResponse sees the answer a little after the server-timing header was written: never earlier
    expect(slow).toBeGreaterThanOrEqual(refQuantile(durations.slow, 0.95) - 0.5);
    // the gap between the header and onResponse is scheduling: generous, so a busy machine does not fail it
    expect(slow).toBeLessThan(refQuantile(durations.slow, 0.95) + 250);
    expect(slow).toBeGreaterThanOrEqual(SLOW_MS);
    expect(fast).toBeLessThan(SLOW_MS);

    const count = await b.client.get('/api/v1/platform-health/series', { series: 'http_count', scope: 'platform', step: 'hour', ...range() });
    const sum = (a: any, key: string) => (a.keys.find((k: any) => k.key === key)?.points ?? []).reduce((x: number, p: any) => x + p.value, 0);
    expect(sum(count.body, 'route:GET /api/v1/slow-probe/slow')).toBe(durations.slow.length);
    expect(sum(count.body, 'route:GET /api/v1/slow-probe/fast')).toBe(durations.fast.length + otherCalls);
    expect(sum(count.body, 'plugin:slow-probe')).toBe(plan.length + otherCalls);

    // every store query is timed: the probe route's requests ran PostgreSQL queries (auth, settings)
    const storeCount = await b.client.get('/api/v1/platform-health/series', { series: 'store_query_count', scope: 'platform', step: 'hour', ...range() });
    expect(sum(storeCount.body, 'store:database')).toBeGreaterThan(0);

    // each org's own series: only its own requests
    const mine = await b.client.get('/api/v1/platform-health/series', { series: 'http_count', key: 'plugin:slow-probe', step: 'hour', ...range() });
    expect(sum(mine.body, 'plugin:slow-probe')).toBe(plan.length);
    const theirs = await other.client.get('/api/v1/platform-health/series', { series: 'http_count', key: 'plugin:slow-probe', step: 'hour', ...range() });
    expect(theirs.status).toBe(200);
    expect(sum(theirs.body, 'plugin:slow-probe')).toBe(otherCalls);

    // the explorer reads the same figures as a metric source: the other org's API requests
    // before the sample were exactly its probe calls
    const q = { source: 'platform-health', ...range() };
    const explorer = await other.client.post('/api/v1/metrics/query', { ...q, metric: 'api_requests' });
    expect(explorer.status, explorer.text).toBe(200);
    expect(explorer.body.series[0].total).toBe(otherCalls);
    // platform-wide metrics are the operator's: a tenant Admin is not offered them
    expect((await other.client.post('/api/v1/metrics/query', { ...q, metric: 'platform_cpu_ratio' })).status).toBe(400);
    const cpu = await b.client.post('/api/v1/metrics/query', { ...q, metric: 'platform_cpu_ratio' });
    expect(cpu.status, cpu.text).toBe(200);
    expect(cpu.body.series[0].total).toBeGreaterThanOrEqual(0);
  });

  it('SLA compliance per day is the share of reported dashboard loads within the SLA', async () => {
    const loads = [...Array(15)].map(() => Math.round(Math.random() * 4000));
    for (const ms of loads) expect((await b.client.post('/api/v1/platform-health/dashboard-loads', { dashboard_id: 'mine', load_ms: ms, widgets: 6 })).status).toBe(200);
    const bad = await b.client.post('/api/v1/platform-health/dashboard-loads', { dashboard_id: 'mine', load_ms: -3 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBeTruthy();
    await b.runJob('platform-health', 'sample');
    const sla = await b.client.get('/api/v1/platform-health/sla', range());
    expect(sla.status, sla.text).toBe(200);
    const days = sla.body.days as Array<{ dashboard_loads: number; dashboard_compliance: number | null }>;
    const total = days.reduce((a, d) => a + d.dashboard_loads, 0);
    const within = days.reduce((a, d) => a + (d.dashboard_compliance ?? 0) * d.dashboard_loads, 0);
    expect(total).toBe(loads.length);
    expect(within).toBeCloseTo(loads.filter((ms) => ms <= sla.body.sla.dashboard_ms).length, 6);
    // nothing of it in the other org's compliance
    const theirs = await other.client.get('/api/v1/platform-health/sla', range());
    expect(theirs.body.days.reduce((a: number, d: any) => a + d.dashboard_loads, 0)).toBe(0);
  });
});

describe('usage against the tier', () => {
  it('warns at 80%, passes the limit into the 20% overage, then refuses whole requests with nothing accepted lost', async () => {
    const small = await b.createOrg('small-org');
    expect((await b.client.put('/api/v1/orgs/small-org/tier', { tier: 'strict' })).status).toBe(200);
    const hook = await small.hookToken();
    const limit = 10;
    const hard = Math.floor(limit * 1.2);
    const model = { used: 0 };
    const expectedStatus = (u: number) => (u >= hard ? 'over_limit' : u > limit ? 'over_soft_limit' : u >= limit * 0.8 ? 'warning' : 'ok');
    let n = 0;
    let sawWarning = false;
    let refusals = 0;
    while (refusals < 3) {
      const size = 1 + Math.floor(Math.random() * 3);
      const events = [...Array(size)].map(() => ({
        event_id: `u-${n++}`,
        event_type: 'command',
        command_name: '/deploy',
        status: 'success',
        user_id: 'u1',
        department_id: 'd1',
        session_id: 's1',
        timestamp: new Date().toISOString(),
      }));
      const res = await b.kernel.app.inject({ method: 'POST', url: '/api/v1/events/batch', headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' }, payload: JSON.stringify({ events }) });
      if (model.used + size > hard) {
        expect(res.statusCode, res.body).toBe(429);
        const body = JSON.parse(res.body);
        expect(body.error.code).toBe('usage_limit_exceeded');
        expect(body.error.details).toMatchObject({ limit, soft_limit: hard, used: model.used, requested: size });
        refusals++;
        // a single event past the limit is refused too, unless it still fits
        if (model.used + 1 <= hard) continue;
      } else {
        expect(res.statusCode, res.body).toBe(200);
        expect(JSON.parse(res.body).accepted).toBe(size);
        model.used += size;
        const header = res.headers['x-usage-status'];
        if (expectedStatus(model.used) !== 'ok') {
          expect(String(header)).toContain(expectedStatus(model.used));
          sawWarning ||= expectedStatus(model.used) === 'warning';
        } else expect(header).toBeUndefined();
      }
    }
    // single events fill what is left of the overage, then the next one is refused too
    const single = (id: string) =>
      b.kernel.app.inject({ method: 'POST', url: '/api/v1/events', headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' }, payload: JSON.stringify({ event_id: id, event_type: 'command', command_name: '/x', status: 'success', user_id: 'u1', department_id: 'd1', session_id: 's1', timestamp: new Date().toISOString() }) });
    while (model.used < hard) {
      const r = await single(`one-${n++}`);
      expect(r.statusCode, r.body).toBe(202);
      model.used++;
    }
    const refused = await single(`one-${n++}`);
    expect(refused.statusCode).toBe(429);
    expect(JSON.parse(refused.body).error.code).toBe('usage_limit_exceeded');
    expect(Number(refused.headers['retry-after'])).toBe(JSON.parse(refused.body).error.details.retry_after);

    const usage = await small.client.get('/api/v1/usage');
    expect(usage.status, usage.text).toBe(200);
    expect(usage.body.tier).toBe('strict');
    expect(usage.body.events).toEqual({ used: model.used, limit, soft_limit: hard });
    expect(usage.body.status).toBe(expectedStatus(model.used));
    expect(usage.body.refused_events).toBeGreaterThan(0);
    const month = new Date();
    expect(usage.body.period.from).toBe(new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1)).toISOString());

    // every accepted event is in the store, none of the refused ones
    const s = b.kernel.services;
    const rs = await s.analytics.client.query({ query: `SELECT count() AS n FROM ${s.analytics.database}.events WHERE org_id = {o:String}`, query_params: { o: small.id }, format: 'JSONEachRow' });
    expect(Number(((await rs.json()) as any[])[0].n)).toBe(model.used);

    // the refusal is audited in the org
    const audit = await s.knex.withSchema(small.schema).table('audit_log').where({ action: 'usage.events_refused' });
    expect(audit.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(typeof audit[0].after === 'string' ? audit[0].after : JSON.stringify(audit[0].after))).toMatchObject({ limit, soft_limit: hard });

    // the sampler tells the org's Admins once the status got worse, and audits it
    await b.runJob('platform-health', 'sample');
    const told = await s.knex.withSchema(small.schema).table('audit_log').where({ action: 'platform-health.usage.status' });
    expect(told.length).toBe(1);
    expect(sawWarning).toBe(true); // steps of at most 3 cannot jump over [8, 10]

    // another org's usage is never visible: its own numbers only
    const theirs = await other.client.get('/api/v1/usage');
    expect(theirs.status).toBe(200);
    expect(theirs.body.events.used).toBe(0);
    expect(theirs.body.tier).toBe('standard');
    const defaultOrg = await b.client.get('/api/v1/usage');
    expect(defaultOrg.body.events.used).toBe(0);
  });

  it('usage is for Admins only', async () => {
    const dev = await other.addUser({ email: 'dev@other.local', role: 'Developer' });
    const r = await dev.get('/api/v1/usage');
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBeTruthy();
  });
});

describe('operator-only routes', () => {
  it('answer the platform operator and refuse a tenant, even an Admin, with 403', async () => {
    const stats = await b.client.get('/api/v1/admin/system/stats');
    expect(stats.status, stats.text).toBe(200);
    expect(stats.body.stores.map((x: any) => x.name).sort()).toEqual(['analytics', 'cache', 'database']);
    expect(stats.body.orgs.map((o: any) => o.slug)).toEqual(expect.arrayContaining(['test-org', 'other-org', 'small-org']));
    expect((await b.client.post('/api/v1/admin/cache/clear', {})).status).toBe(200);

    for (const [method, path] of [
      ['GET', '/api/v1/admin/system/stats'],
      ['POST', '/api/v1/admin/cache/clear'],
      ['GET', '/api/v1/platform-health/stats'],
      ['GET', '/api/v1/platform-health/capacity'],
      ['GET', '/api/v1/platform-health/series?series=cpu_ratio&scope=platform'],
      ['GET', '/api/v1/platform-health/sla?scope=platform'],
    ] as const) {
      const r = method === 'GET' ? await other.client.get(path) : await other.client.post(path, {});
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(403);
      expect(r.body.error.code).toBeTruthy();
    }
  });

  it('capacity projects events per day with a line when the trends plugin is off', async () => {
    const r = await b.client.get('/api/v1/platform-health/capacity', { days: 90 });
    expect(r.status, r.text).toBe(200);
    expect(r.body.model).toBe('linear');
    expect(r.body.projection).toHaveLength(90);
    expect(r.body.capacity_events_per_day).toBe(2442 * 86_400);
  });

  it('the linear projection extends the least-squares line of the history', () => {
    const a = Math.random() * 1000;
    const slope = Math.random() * 50 - 10;
    const history = [...Array(20)].map((_, i) => ({ bucket: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(), value: a + slope * i }));
    const p = linearProjection(history, 5, 86_400_000);
    p.points.forEach((pt, i) => expect(pt.value).toBeCloseTo(Math.max(0, a + slope * (20 + i)), 6));
    expect(p.points[0]!.bucket).toBe(new Date(Date.UTC(2026, 0, 21)).toISOString());
  });
});

describe('performance alerts as rule templates', () => {
  it('the alerts plugin offers the PRD’s four; the operator makes one a rule, a tenant Admin cannot watch platform-wide metrics', async () => {
    const t = await b.client.get('/api/v1/alerts/templates');
    expect(t.status, t.text).toBe(200);
    const keys = t.body.templates.map((x: any) => x.key);
    expect(keys).toEqual(expect.arrayContaining(['platform-health.dashboard-slower-than-2x-sla', 'platform-health.queries-over-sla', 'platform-health.cpu-over-60', 'platform-health.error-rate-over-10']));
    const cpu = t.body.templates.find((x: any) => x.key === 'platform-health.cpu-over-60');
    expect(cpu.rule).toMatchObject({ query: { source: 'platform-health', metric: 'platform_cpu_ratio' }, window_seconds: 60, condition: { op: 'gt', threshold: 0.6 }, for_seconds: 120 });
    const dash = t.body.templates.find((x: any) => x.key === 'platform-health.dashboard-slower-than-2x-sla');
    expect(dash.rule.condition.threshold).toBe(2 * 2000);

    const made = await b.client.post('/api/v1/alerts/templates/platform-health.cpu-over-60', { params: { threshold: 0.75 } });
    expect(made.status, made.text).toBe(200);
    const rule = await b.client.get(`/api/v1/alerts/rules/${made.body.id}`);
    expect(rule.status, rule.text).toBe(200);
    expect(rule.body.query).toEqual({ source: 'platform-health', metric: 'platform_cpu_ratio' });
    expect(rule.body.condition).toMatchObject({ op: 'gt', threshold: 0.75 });

    const refused = await other.client.post('/api/v1/alerts/templates/platform-health.cpu-over-60', {});
    expect(refused.status, refused.text).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    const unknown = await b.client.post('/api/v1/alerts/templates/platform-health.no-such-alert', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.details.field).toBe('key');
  });
});
