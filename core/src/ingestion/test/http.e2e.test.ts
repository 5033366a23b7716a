/**
 * End-to-end through HTTP on the embedded stores (PGlite + chDB): the
 * contract of POST /api/v1/events and /events/batch, quarantine, cost,
 * privacy, deletion, quality, the coalesced bus and plugin dispatch.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { definePlugin, type StoredEvent } from '@orrery/plugin-sdk';
import { extraModules, invocation } from './helpers.ts';

let be: TestBackend;
let hook: string;
const dispatched: StoredEvent[] = [];
const probe = definePlugin({
  id: 'ingest-probe', version: '1.0.0', sdk: '*', title: 'probe', description: 'receives committed events', routePrefix: 'ingest-probe',
  permissions: {},
  register(env) {
    env.onEvents({ types: '*', async handle(events) { dispatched.push(...events); } });
  },
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  be.kernel.app.inject({ method: 'POST', url: path, headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json', ...headers }, payload: typeof body === 'string' ? body : JSON.stringify(body) });

async function stored(eventId: string) {
  const s = be.kernel.services;
  const rs = await s.analytics.client.query({ query: `SELECT * FROM ${s.analytics.database}.events WHERE event_id = {id:String}`, query_params: { id: eventId }, format: 'JSONEachRow' });
  return (await rs.json()) as Array<Record<string, any>>;
}

beforeAll(async () => {
  be = await startTestBackend({ modules: extraModules(), plugins: [probe] });
  hook = await be.org.hookToken();
}, 60_000);
afterAll(async () => be?.close());

describe('POST /api/v1/events', () => {
  it('answers 202 once stored, 409 on a resend', async () => {
    const ev = invocation();
    const r = await post('/api/v1/events', ev);
    expect(r.statusCode, r.body).toBe(202);
    expect(r.json()).toEqual({ event_id: ev.event_id });
    const rows = await stored(ev.event_id as string);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ org_id: be.org.id, agent_name: 'code-reviewer', schema_version: 2, received_schema_version: 2, source: 'api', cost_source: 'computed' });
    // 1000 in * $3/M + 200 out * $15/M
    expect(Number(rows[0]!.cost_usd)).toBeCloseTo(0.006, 9);
    const dup = await post('/api/v1/events', ev);
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('duplicate_event');
  });

  it('auto-fixes unambiguous mistakes and records them on the row', async () => {
    const ev = invocation({ input_tokens: '1500', timestamp: '2026-03-01 10:00:00', status: ' SUCCESS', cost_usd: '0.25' });
    const r = await post('/api/v1/events', ev);
    expect(r.statusCode, r.body).toBe(202);
    const [row] = await stored(ev.event_id as string);
    expect(row!.fixes.sort()).toEqual(['cost_usd:numeric_string', 'input_tokens:numeric_string', 'status:normalized_enum', 'timestamp:assumed_utc']);
    expect(Number(row!.cost_usd)).toBe(0.25);
    expect(row!.cost_source).toBe('caller');
  });

  it('upcasts v1 events picked by X-Schema-Version', async () => {
    const { model_used, execution_time_ms, ...v2 } = invocation();
    const ev: Record<string, unknown> = { ...v2, model: model_used, latency_ms: execution_time_ms, status: 'error', error_type: 'timeout' };
    const r = await post('/api/v1/events', ev, { 'x-schema-version': '1' });
    expect(r.statusCode, r.body).toBe(202);
    const [row] = await stored(ev.event_id as string);
    expect(row).toMatchObject({ received_schema_version: 1, schema_version: 2, model_used: 'claude-sonnet-4-5', execution_time_ms: 900, status: 'failure' });
    expect(row!.fixes).toContain('model_used:upcast_from_v1_model');
    expect((await post('/api/v1/events', invocation(), { 'x-schema-version': '9' })).statusCode).toBe(400);
  });

  it('quarantines what it cannot fix (422 naming the fields); it can be listed, fixed and replayed', async () => {
    const ev = invocation({ status: 'maybe', input_tokens: 'lots' });
    delete ev.agent_name;
    const r = await post('/api/v1/events', ev);
    expect(r.statusCode).toBe(422);
    const err = r.json().error;
    expect(err.code).toBe('invalid_event');
    expect(err.details.errors.map((e: { field: string }) => e.field).sort()).toEqual(['agent_name', 'input_tokens', 'status']);
    const qid = err.details.quarantine_id;
    expect(await stored(ev.event_id as string)).toHaveLength(0);

    const list = await be.client.get('/api/v1/events/quarantine', { status: 'pending' });
    expect(list.status).toBe(200);
    expect(list.body.items.find((i: { id: string }) => i.id === qid)).toMatchObject({ event_id: ev.event_id, status: 'pending' });

    const stillBad = await be.client.put(`/api/v1/events/quarantine/${qid}`, { event: { ...ev, status: 'success' } });
    expect(stillBad.body.valid).toBe(false);
    const fixed = await be.client.put(`/api/v1/events/quarantine/${qid}`, { event: { ...ev, status: 'success', input_tokens: 10, agent_name: 'fixer' } });
    expect(fixed.status, fixed.text).toBe(200);
    expect(fixed.body.valid).toBe(true);
    const replay = await be.client.post(`/api/v1/events/quarantine/${qid}/replay`, {});
    expect(replay.body).toMatchObject({ status: 'replayed', result: 'accepted' });
    const [row] = await stored(ev.event_id as string);
    expect(row).toMatchObject({ agent_name: 'fixer', source: 'replay' });
    // replaying again is harmless
    expect((await be.client.post(`/api/v1/events/quarantine/${qid}/replay`, {})).body.status).toBe('replayed');
  });

  it('rejects an event naming another org, and hook-less callers', async () => {
    const r = await post('/api/v1/events', invocation({ org_id: 'someone-else' }));
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe('org_mismatch');
    const anon = await be.kernel.app.inject({ method: 'POST', url: '/api/v1/events', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(invocation()) });
    expect(anon.statusCode).toBe(401);
    // an Admin's access token is not a hook token
    const admin = await be.kernel.app.inject({ method: 'POST', url: '/api/v1/events', headers: { authorization: `Bearer ${be.client.token}`, 'content-type': 'application/json' }, payload: JSON.stringify(invocation()) });
    expect(admin.statusCode).toBe(403);
  });

  it('answers bad bodies with a clear 4xx and keeps serving', async () => {
    const cases: Array<[string, Record<string, string>, number]> = [
      ['{"event_id": "x", ', {}, 400],
      ['\u0000\u0001garbage\uffff', {}, 400],
      ['[1,2,3]', {}, 400],
      ['"just a string"', {}, 400],
      ['event_id=1', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
      ['hello', { 'content-type': 'text/plain' }, 415],
      [JSON.stringify(invocation({ input_payload: 'x'.repeat(2 * 1024 * 1024) })), {}, 413],
    ];
    for (const [body, headers, status] of cases) {
      const r = await post('/api/v1/events', body, headers);
      expect(r.statusCode, `${body.slice(0, 40)} → ${r.body}`).toBe(status);
      expect(r.json().error.code).toBeTruthy();
    }
    // deep nesting inside the only free-shaped field is refused and quarantined
    const deep = '['.repeat(50_000) + ']'.repeat(50_000);
    const r = await post('/api/v1/events', `{"event_id":"deep-1","event_type":"agent_invocation","input_payload":${deep}}`);
    expect([400, 422]).toContain(r.statusCode);
    // and everywhere else strictness stops it before any recursion
    const r2 = await post('/api/v1/events', `{"event_id":"deep-2","event_type":"command","nested":${deep}}`);
    expect([400, 422]).toContain(r2.statusCode);
    expect((await post('/api/v1/events', invocation())).statusCode).toBe(202);
  });
});

describe('POST /api/v1/events/batch', () => {
  it('answers a result per event', async () => {
    const dupe = invocation();
    await post('/api/v1/events', dupe);
    const a = invocation();
    const events = [a, dupe, invocation({ status: 'nope' }), { ...a }, invocation({ org_id: 'other' }), { event_id: randomUUID(), event_type: 'workflow_step', action: 'step_completed', workflow_id: 'onboarding', workflow_step: 'install', user_id: 'u-2', timestamp: new Date().toISOString() }];
    const r = await post('/api/v1/events/batch', { events });
    expect(r.statusCode, r.body).toBe(200);
    const b = r.json();
    expect(b.results.map((x: { status: string }) => x.status)).toEqual(['accepted', 'duplicate', 'invalid', 'duplicate', 'rejected', 'accepted']);
    expect(b).toMatchObject({ accepted: 2, rejected: 4 });
    expect(b.results[2].quarantine_id).toBeTruthy();
  });

  it('takes 10,000 events and refuses 10,001', async () => {
    const events = Array.from({ length: 10_000 }, (_, i) => invocation({ user_id: `bulk-${i % 50}` }));
    const r = await post('/api/v1/events/batch', { events });
    expect(r.statusCode).toBe(200);
    expect(r.json().accepted).toBe(10_000);
    const over = await post('/api/v1/events/batch', { events: [...events, invocation()] });
    expect(over.statusCode).toBe(413);
    expect((await post('/api/v1/events/batch', { nope: [] })).statusCode).toBe(400);
  });
});

describe('realtime and plugins', () => {
  it('publishes coalesced summaries on org, department and user scopes and dispatches committed events to plugins', async () => {
    const bus = be.kernel.services.bus;
    // summaries of earlier tests' events may still be on their way (coalesced, later under load):
    // wait until the topic has been quiet for 300 ms so only this test's events are counted
    await new Promise<void>((resolve) => {
      let timer = setTimeout(done, 300);
      const stop = bus.subscribe('events.committed', () => {
        clearTimeout(timer);
        timer = setTimeout(done, 300);
      });
      function done() {
        stop();
        resolve();
      }
    });
    const msgs: Array<{ scope: { kind: string; id?: string }; payload: any }> = [];
    const off = bus.subscribe('events.committed', (m: any) => { if (m.orgId === be.org.id) msgs.push(m); });
    dispatched.length = 0;
    const requests = [];
    for (let i = 0; i < 20; i++) requests.push(post('/api/v1/events/batch', { events: Array.from({ length: 100 }, () => invocation({ department_id: 'sales', user_id: 'rt-user' })) }));
    await Promise.all(requests);
    await new Promise((r) => setTimeout(r, 400));
    off();
    const org = msgs.filter((m) => m.scope.kind === 'org');
    expect(org.reduce((n, m) => n + m.payload.count, 0)).toBe(2000);
    // 2000 events in 20 requests → a handful of messages, not 2000
    expect(org.length).toBeLessThanOrEqual(6);
    expect(org[0]!.payload).toMatchObject({ types: { agent_invocation: expect.any(Number) }, agents: ['code-reviewer'] });
    expect(msgs.some((m) => m.scope.kind === 'department' && m.scope.id === 'sales')).toBe(true);
    expect(msgs.some((m) => m.scope.kind === 'user' && m.scope.id === 'rt-user')).toBe(true);
    expect(dispatched.filter((e) => e.user_id === 'rt-user')).toHaveLength(2000);
  });
});

describe('org settings', () => {
  it('uses org price overrides and keeps the caller cost', async () => {
    const add = await be.client.post('/api/v1/ingestion/prices', { model_pattern: 'claude-sonnet-4*', effective_from: '2020-01-01', input_per_mtok: 1, output_per_mtok: 2 });
    expect(add.status, add.text).toBe(201);
    const ev = invocation({ input_tokens: 1_000_000, output_tokens: 1_000_000 });
    expect((await post('/api/v1/events', ev)).statusCode).toBe(202);
    expect(Number((await stored(ev.event_id as string))[0]!.cost_usd)).toBeCloseTo(3, 9);
    const prices = await be.client.get('/api/v1/ingestion/prices');
    expect(prices.body.prices.some((p: { source: string }) => p.source === 'org')).toBe(true);
    expect((await be.client.delete(`/api/v1/ingestion/prices/${add.body.id}`)).status).toBe(204);
  });

  it('masks PII or drops payloads per org setting', async () => {
    expect((await be.client.put('/api/v1/ingestion/privacy', { payloads: 'mask' })).status).toBe(200);
    const ev = invocation({ input_payload: { prompt: 'email jane@corp.com, card 4111-1111-1111-1111' }, output_payload: 'key sk-proj-abcdefghijklmnopqrstuv' });
    expect((await post('/api/v1/events', ev)).statusCode).toBe(202);
    const [row] = await stored(ev.event_id as string);
    expect(row!.input_payload).toBe('{"prompt":"email [REDACTED:email], card [REDACTED:card]"}');
    expect(row!.output_payload).toBe('key [REDACTED:api_key]');
    expect(row!.fixes).toEqual(expect.arrayContaining(['input_payload:pii_masked', 'output_payload:pii_masked']));
    // a quarantined copy is masked as well
    const bad = await post('/api/v1/events', invocation({ status: 'nope', input_payload: 'call me at +1 415 555 0100' }));
    const q = await be.client.get(`/api/v1/events/quarantine/${bad.json().error.details.quarantine_id}`);
    expect(q.body.payload.input_payload).toBe('call me at [REDACTED:phone]');
    await be.client.put('/api/v1/ingestion/privacy', { payloads: 'drop' });
    const ev2 = invocation({ input_payload: 'secret stuff' });
    await post('/api/v1/events', ev2);
    expect((await stored(ev2.event_id as string))[0]!.input_payload).toBe('');
    await be.client.put('/api/v1/ingestion/privacy', { payloads: 'store' });
  });

  it("deletes a user's events, audited", async () => {
    const evs = Array.from({ length: 5 }, () => invocation({ user_id: 'forget-me' }));
    await post('/api/v1/events/batch', { events: evs });
    await post('/api/v1/events', invocation({ user_id: 'forget-me', status: 'bad' }));
    const r = await be.client.delete('/api/v1/events/users/forget-me');
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ user_id: 'forget-me', deleted_events: 5, deleted_quarantined: 1 });
    expect(await stored(evs[0]!.event_id as string)).toHaveLength(0);
    const audit = await be.kernel.services.knex.withSchema(be.org.schema).table('audit_log').where({ action: 'events.user_deleted' });
    expect(audit).toHaveLength(1);
  });

  it('reports data quality and freshness', async () => {
    const r = await be.client.get('/api/v1/ingestion/quality', { minutes: 60 });
    expect(r.status, r.text).toBe(200);
    expect(r.body.received).toBeGreaterThan(10_000);
    expect(r.body.duplicates).toBeGreaterThan(0);
    expect(r.body.invalid).toBeGreaterThan(0);
    expect(r.body.missing_required_rate).toBeGreaterThan(0);
    expect(r.body.freshness.agents.map((a: { name: string }) => a.name)).toContain('code-reviewer');
    expect(r.body.alerts.map((a: { condition: string }) => a.condition)).toEqual(['validation_failures', 'silence', 'duplicates', 'latency']);
    const metrics = await be.kernel.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${be.client.token}` } });
    expect(metrics.body).toContain('orrery_ingest_events_total');
  });

  it('publishes alert conditions on the bus when they start firing', async () => {
    const org = await be.createOrg('noisy');
    const token = await org.hookToken();
    const got: any[] = [];
    const off = be.kernel.services.bus.subscribe('ingestion.quality', (m: any) => got.push(m));
    // a burst where > 10 % fail validation within 5 minutes
    const events = Array.from({ length: 100 }, (_, i) => invocation(i % 4 === 0 ? { status: 'broken' } : {}));
    const r = await be.kernel.app.inject({ method: 'POST', url: '/api/v1/events/batch', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify({ events }) });
    expect(r.json()).toMatchObject({ accepted: 75, rejected: 25 });
    await (be.kernel.app as any).ingestion.quality.evaluateAll(true);
    off();
    const alert = got.find((m) => m.orgId === org.id && m.payload.condition === 'validation_failures');
    expect(alert?.payload).toMatchObject({ state: 'firing', threshold: 0.1, window: '5m' });
    expect(alert.payload.value).toBeCloseTo(0.25, 5);
    expect(got.some((m) => m.orgId === org.id && m.payload.condition !== 'validation_failures')).toBe(false);
  });
});

describe('schemas', () => {
  it('serves every schema and documents the routes in OpenAPI', async () => {
    const r = await be.kernel.app.inject({ method: 'GET', url: '/api/v1/events/schemas' });
    expect(Object.keys(r.json().schemas)).toHaveLength(10);
    const doc = (await be.kernel.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    for (const p of ['/api/v1/events', '/api/v1/events/batch', '/v1/traces', '/v1/metrics', '/v1/logs', '/api/v1/events/quarantine']) expect(doc.paths[p], p).toBeDefined();
  });
});

describe('the usage check on the ingestion path', () => {
  it('reads the backlog as a counter once the org count is a minute old, never the whole ingestion status', async () => {
    const ingestion = (be.kernel.app as unknown as { ingestion: { status(): unknown; backlogRows(): number } }).ingestion;
    const usage = (be.kernel.services as unknown as { health: { usage: { enabled: boolean; state(org: string): { readAt: number; base: number | null } } } }).health.usage;
    expect(usage.enabled).toBe(true);
    expect((await post('/api/v1/events', invocation())).statusCode).toBe(202);
    // the org's count as it is under sustained load: read over a minute ago, and never recounted
    // since the backlog is never empty (a recount waits for that), so every ingestion request
    // asks for the backlog
    const st = usage.state(be.org.id);
    expect(st.base).not.toBeNull();
    st.readAt = Date.now() - 120_000;
    const { status, backlogRows } = ingestion;
    let statusCalls = 0;
    let backlogCalls = 0;
    ingestion.status = () => (statusCalls++, status());
    ingestion.backlogRows = () => (backlogCalls++, Math.max(1, backlogRows()));
    try {
      for (let i = 0; i < 5; i++) expect((await post('/api/v1/events', invocation())).statusCode).toBe(202);
    } finally {
      ingestion.status = status;
      ingestion.backlogRows = backlogRows;
    }
    // the status measures the log's file (LMDB's statistics, tens of µs): 16 % of the main
    // thread in a sustained run when it was read here
    expect(statusCalls).toBe(0);
    expect(backlogCalls).toBeGreaterThanOrEqual(5);
  });
});

describe('the direct commit (2xx once ClickHouse has the rows)', () => {
  it('stores a batch exactly as the log and its loader store it', { timeout: 60_000 }, async () => {
    const direct = await startTestBackend({ modules: extraModules(), config: { ingestion: { commit: 'direct' } } as never });
    try {
      const directHook = await direct.org.hookToken();
      // events whose text needs escaping, and fields only some of them carry (columns a body leaves out)
      const shapes = [
        { agent_name: 'a "quoted" agent', tools_used: ['grep', '],['] },
        { agent_name: 'line\nbreak', error_type: 'timeout', status: 'failure' },
        { agent_name: 'Zoë — 東京', cached_input_tokens: 7 },
        {},
      ];
      const batch = (ids: string[]) => ({ events: shapes.map((s, i) => invocation({ ...s, event_id: ids[i] })) });
      const viaLog = shapes.map(() => randomUUID());
      const viaDirect = shapes.map(() => randomUUID());
      const a = await post('/api/v1/events/batch', batch(viaLog));
      expect(a.statusCode, a.body).toBe(200);
      const b = await direct.kernel.app.inject({ method: 'POST', url: '/api/v1/events/batch', headers: { authorization: `Bearer ${directHook}`, 'content-type': 'application/json' }, payload: JSON.stringify(batch(viaDirect)) });
      expect(b.statusCode, b.body).toBe(200);
      expect(b.json().accepted, b.body).toBe(shapes.length);
      const read = async (t: TestBackend, id: string) => {
        const s = t.kernel.services;
        const rs = await s.analytics.client.query({ query: `SELECT * EXCEPT (event_id, org_id, received_at, inserted_at, invocation_id, timestamp) FROM ${s.analytics.database}.events WHERE event_id = {id:String}`, query_params: { id }, format: 'JSONEachRow' });
        return (await rs.json()) as Array<Record<string, unknown>>;
      };
      for (let i = 0; i < shapes.length; i++) {
        const [fromLog] = await read(be, viaLog[i]!);
        const fromDirect = await read(direct, viaDirect[i]!);
        expect(fromDirect).toEqual([fromLog]);
      }
      const [quoted] = await read(direct, viaDirect[0]!);
      expect(quoted).toMatchObject({ agent_name: 'a "quoted" agent', tools_used: ['grep', '],['] });
    } finally {
      await direct.close();
    }
  });
});
