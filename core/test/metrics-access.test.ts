import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';

// /metrics carries series per organization (ingestion counters name each org): on the
// public port only a platform operator reads it; scrapers use the loopback listener.
describe('metrics access', () => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await startTestBackend({ listen: true, config: { server: { metrics: { enabled: true, host: '127.0.0.1', port: 0 } } } });
    const hook = await b.org.hookToken();
    const sent = await fetch(`${b.url}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event_type: 'session', action: 'started', event_id: 'm-1', timestamp: new Date().toISOString(), user_id: 'u1', session_id: 's1' }),
    });
    expect(sent.status).toBe(202);
  });
  afterAll(() => b.close());

  it('refuses anonymous callers and tenants on the public port', async () => {
    const anonymous = await fetch(`${b.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.code).toBe('unauthorized');

    const other = await b.createOrg('other-tenant');
    const tenantAdmin = await other.client.get('/metrics');
    expect(tenantAdmin.status).toBe(403);
    expect(tenantAdmin.text).not.toContain(b.org.slug);

    // an Admin of the operator's own org is a tenant too, unless they are the operator
    const dev = await b.org.addUser({ email: 'dev@metrics.test', role: 'Admin' });
    expect((await dev.get('/metrics')).status).toBe(403);
  });

  it('serves the operator on the public port, with a session or an API token', async () => {
    const viaSession = await b.client.get('/metrics');
    expect(viaSession.status).toBe(200);
    expect(viaSession.text).toContain('orrery_ingest_events_total');
    const token = (await b.client.post('/api/v1/tokens', { name: 'prometheus', kind: 'api' })).body.token as string;
    const viaToken = await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(viaToken.status).toBe(200);
    expect(await viaToken.text()).toContain('orrery_http_request_duration_seconds');
  });

  it('serves the scrape listener without a token, and nothing else there', async () => {
    const url = b.kernel.metricsUrl as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scrape = await fetch(url);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    expect(await scrape.text()).toContain('orrery_ingest_events_total');
    const elsewhere = await fetch(url.replace('/metrics', '/api/v1/me'));
    expect(elsewhere.status).toBe(404);
  });
});
